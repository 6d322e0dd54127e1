package reminder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/passerelle-bot/passerelle/internal/clock"
)

// fakeStore is an in-memory Store; lease expiry is judged by clk.
type fakeStore struct {
	clk *clock.Fake

	mu      sync.Mutex
	entries map[string]*fakeEntry
	seq     int
	// failClaim, failRenew: errors Claim and Renew return while set.
	failClaim, failRenew error
	claims, renews       int // calls that did not fail
	failedClaims         int
}

type fakeEntry struct {
	due        time.Time
	token      string
	leaseUntil time.Time
	attempts   int
}

func newFakeStore(clk *clock.Fake) *fakeStore {
	return &fakeStore{clk: clk, entries: map[string]*fakeEntry{}}
}

func (s *fakeStore) Schedule(ctx context.Context, id string, due time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[id]; ok && e.due.Equal(due) {
		return nil
	}
	s.entries[id] = &fakeEntry{due: due}
	return nil
}

func (s *fakeStore) Cancel(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, id)
	return nil
}

func (s *fakeStore) leased(e *fakeEntry) bool {
	return e.token != "" && s.clk.Now().Before(e.leaseUntil)
}

func (s *fakeStore) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Claim, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failClaim != nil {
		s.failedClaims++
		return nil, s.failClaim
	}
	s.claims++
	var ids []string
	for id, e := range s.entries {
		expired := e.token != "" && !s.leased(e)
		if expired || (e.token == "" && !e.due.After(now)) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := s.entries[ids[i]], s.entries[ids[j]]
		if !a.due.Equal(b.due) {
			return a.due.Before(b.due)
		}
		return ids[i] < ids[j]
	})
	if len(ids) > limit {
		ids = ids[:limit]
	}
	claims := make([]Claim, 0, len(ids))
	for _, id := range ids {
		e := s.entries[id]
		s.seq++
		e.token = strconv.Itoa(s.seq)
		e.leaseUntil = s.clk.Now().Add(lease)
		e.attempts++
		claims = append(claims, Claim{ID: id, Due: e.due, Token: e.token, Attempts: e.attempts})
	}
	return claims, nil
}

func (s *fakeStore) Ack(ctx context.Context, id, token string, next time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok || e.token == "" || e.token != token {
		return ErrLeaseLost
	}
	if next.IsZero() {
		delete(s.entries, id)
		return nil
	}
	s.entries[id] = &fakeEntry{due: next}
	return nil
}

func (s *fakeStore) Renew(ctx context.Context, held []Claim, lease time.Duration) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failRenew != nil {
		return nil, s.failRenew
	}
	s.renews++
	var lost []string
	for _, c := range held {
		e, ok := s.entries[c.ID]
		if !ok || e.token == "" || e.token != c.Token {
			lost = append(lost, c.ID)
			continue
		}
		e.leaseUntil = s.clk.Now().Add(lease)
	}
	return lost, nil
}

func (s *fakeStore) Get(ctx context.Context, id string) (Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return Entry{}, false, nil
	}
	return Entry{ID: id, Due: e.due, Leased: s.leased(e)}, true, nil
}

func (s *fakeStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// recorder is a Notifier that records claims and answers through fn.
type recorder struct {
	mu    sync.Mutex
	calls []Claim
	fn    func(n int, c Claim) (time.Time, error) // n counts calls from 1
}

func (r *recorder) Notify(ctx context.Context, c Claim) (time.Time, error) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	n := len(r.calls)
	r.mu.Unlock()
	if r.fn != nil {
		return r.fn(n, c)
	}
	return time.Time{}, nil
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, c := range r.calls {
		ids = append(ids, c.ID)
	}
	return ids
}

var start = time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)

func schedule(t *testing.T, s Store, id string, due time.Time) {
	t.Helper()
	if err := s.Schedule(context.Background(), id, due); err != nil {
		t.Fatal(err)
	}
}

func mustGet(t *testing.T, s Store, id string) (Entry, bool) {
	t.Helper()
	e, ok, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e, ok
}

func TestDefaults(t *testing.T) {
	d := NewDispatcher(nil, nil, Config{})
	c := d.cfg
	if c.Batch != 100 || c.Lease != 20*time.Second || c.Poll != 10*time.Second ||
		c.Clock == nil || c.Location == nil || c.Logger == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestRunOnceNotifiesDueAndRescores(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	schedule(t, s, "u:late", start.Add(-time.Minute))
	schedule(t, s, "u:early", start.Add(-time.Hour))
	schedule(t, s, "u:now", start)
	schedule(t, s, "u:last", start.Add(-2*time.Minute))
	schedule(t, s, "u:future", start.Add(time.Second))
	next := start.Add(24 * time.Hour)
	rec := &recorder{fn: func(_ int, c Claim) (time.Time, error) {
		if c.ID == "u:last" {
			return time.Time{}, nil // no more milestones
		}
		return next, nil
	}}
	d := NewDispatcher(s, rec, Config{Clock: clk, Workers: 1}) // one worker: the order is observable

	sent, err := d.RunOnce(ctx)
	if err != nil || sent != 4 {
		t.Fatalf("RunOnce = %d, %v; want 4, nil", sent, err)
	}
	if got, want := rec.ids(), []string{"u:early", "u:last", "u:late", "u:now"}; !slices.Equal(got, want) {
		t.Errorf("notified %v; want %v (earliest first)", got, want)
	}
	for _, id := range []string{"u:early", "u:late", "u:now"} {
		if e, ok := mustGet(t, s, id); !ok || !e.Due.Equal(next) || e.Leased {
			t.Errorf("%s = %+v, %v; want re-scored to %v, not leased", id, e, ok, next)
		}
	}
	if _, ok := mustGet(t, s, "u:last"); ok {
		t.Error("u:last still present after a zero next")
	}
	if e, ok := mustGet(t, s, "u:future"); !ok || !e.Due.Equal(start.Add(time.Second)) || e.Leased {
		t.Errorf("u:future = %+v, %v; want untouched", e, ok)
	}

	// Nothing more is due: a second pass sends nothing.
	if sent, err := d.RunOnce(ctx); err != nil || sent != 0 {
		t.Fatalf("second RunOnce = %d, %v; want 0, nil", sent, err)
	}
	clk.Advance(time.Second)
	if sent, err := d.RunOnce(ctx); err != nil || sent != 1 {
		t.Fatalf("RunOnce once u:future is due = %d, %v; want 1, nil", sent, err)
	}
	if n := len(rec.ids()); n != 5 {
		t.Errorf("%d notifications in all; want 5 (each once)", n)
	}
}

func TestRunOnceQuietHours(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2027, 6, 1, 22, 0, 0, 0, paris))
	s := newFakeStore(clk)
	schedule(t, s, "a", clk.Now().Add(-time.Hour))
	rec := &recorder{}
	d := NewDispatcher(s, rec, Config{Workers: 1, Clock: clk, Location: paris, Quiet: Hours{From: 21, To: 9}})
	if sent, err := d.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("RunOnce in quiet hours = %d, %v; want 0, nil", sent, err)
	}
	if e, _ := mustGet(t, s, "a"); e.Leased {
		t.Error("entry claimed during quiet hours")
	}
	clk.Set(time.Date(2027, 6, 2, 9, 0, 0, 0, paris))
	if sent, err := d.RunOnce(ctx); sent != 1 || err != nil {
		t.Fatalf("RunOnce after quiet hours = %d, %v; want 1, nil", sent, err)
	}
}

func TestNotifyErrorRedeliveredAfterLease(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	schedule(t, s, "a", start.Add(-2*time.Minute))
	schedule(t, s, "b", start.Add(-time.Minute))
	rec := &recorder{fn: func(n int, c Claim) (time.Time, error) {
		if c.ID == "b" && c.Attempts == 1 {
			return time.Time{}, errors.New("telegram down: secret document text")
		}
		return time.Time{}, nil
	}}
	d := NewDispatcher(s, rec, Config{Workers: 1, Clock: clk, Lease: time.Minute})

	if sent, err := d.RunOnce(ctx); sent != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want 1, nil", sent, err)
	}
	if e, ok := mustGet(t, s, "b"); !ok || !e.Leased {
		t.Fatalf("b = %+v, %v; want kept, leased", e, ok)
	}
	// The lease still holds: no re-delivery yet.
	clk.Advance(59 * time.Second)
	if sent, _ := d.RunOnce(ctx); sent != 0 {
		t.Fatalf("re-delivered before the lease expired")
	}
	clk.Advance(time.Second)
	if sent, err := d.RunOnce(ctx); sent != 1 || err != nil {
		t.Fatalf("RunOnce after lease = %d, %v; want 1, nil", sent, err)
	}
	if got, want := rec.ids(), []string{"a", "b", "b"}; !slices.Equal(got, want) {
		t.Errorf("notified %v; want %v", got, want)
	}
	if s.len() != 0 {
		t.Errorf("%d entries left; want 0", s.len())
	}
}

func TestLeaseLostContinuesBatch(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	schedule(t, s, "a", start.Add(-2*time.Minute))
	schedule(t, s, "b", start.Add(-time.Minute))
	moved := start.Add(time.Hour)
	rec := &recorder{fn: func(_ int, c Claim) (time.Time, error) {
		if c.ID == "a" { // rescheduled meanwhile: the ack must fail
			if err := s.Schedule(ctx, "a", moved); err != nil {
				return time.Time{}, err
			}
		}
		return time.Time{}, nil
	}}
	d := NewDispatcher(s, rec, Config{Workers: 1, Clock: clk})
	if sent, err := d.RunOnce(ctx); sent != 2 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want 2, nil", sent, err)
	}
	if e, ok := mustGet(t, s, "a"); !ok || !e.Due.Equal(moved) {
		t.Errorf("a = %+v, %v; want the rescheduled entry kept", e, ok)
	}
	if _, ok := mustGet(t, s, "b"); ok {
		t.Error("b not acked after a lost lease on a")
	}
}

// runAsync starts d.Run and returns a channel receiving its result.
func runAsync(ctx context.Context, d *Dispatcher) <-chan error {
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return done
}

func waitDone(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v; want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func blockUntil(t *testing.T, clk *clock.Fake, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !clk.BlockUntil(ctx, n) {
		t.Fatalf("no %d waiter(s) on the clock", n)
	}
}

// eventually waits (in real time, briefly) until cond holds: a pass's
// lease renewal also waits on the clock, so a waiter alone does not say
// that Run is sleeping.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRunQuietHoursThenSendsAll(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	// The autumn DST night: 21:00 CEST to 09:00 CET is 13 hours.
	eve := time.Date(2027, 10, 30, 21, 0, 0, 0, paris)
	clk := clock.NewFake(eve)
	s := newFakeStore(clk)
	schedule(t, s, "a", eve.Add(-time.Minute))
	schedule(t, s, "b", eve.Add(3*time.Hour))
	rec := &recorder{}
	d := NewDispatcher(s, rec, Config{Workers: 1, Clock: clk, Location: paris, Quiet: Hours{From: 21, To: 9}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runAsync(ctx, d)

	blockUntil(t, clk, 1) // asleep until the morning
	clk.Advance(13*time.Hour - time.Second)
	if n := len(rec.ids()); n != 0 {
		t.Fatalf("%d notifications during quiet hours", n)
	}
	if clk.Waiters() != 1 {
		t.Fatalf("Waiters = %d; want Run still asleep", clk.Waiters())
	}
	clk.Advance(time.Second) // 09:00 CET: wakes
	eventually(t, "both sent and acked", func() bool { return s.len() == 0 })
	if got, want := rec.ids(), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("notified %v; want %v", got, want)
	}
	if s.len() != 0 {
		t.Errorf("%d entries left; want 0", s.len())
	}
	cancel()
	waitDone(t, done)
}

func TestRunPollsAndLoopsOnFullBatch(t *testing.T) {
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	for i := range 7 {
		schedule(t, s, fmt.Sprintf("e%d", i), start.Add(-time.Duration(7-i)*time.Minute))
	}
	schedule(t, s, "later", start.Add(time.Minute))
	rec := &recorder{}
	d := NewDispatcher(s, rec, Config{Workers: 1, Clock: clk, Batch: 3, Poll: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runAsync(ctx, d)

	// Three batches (3, 3, 1) without waiting, then Poll.
	eventually(t, "7 notified", func() bool { return len(rec.ids()) >= 7 && s.len() == 1 })
	blockUntil(t, clk, 1)
	if n := len(rec.ids()); n != 7 {
		t.Fatalf("%d notified before the first poll; want 7", n)
	}
	clk.Advance(time.Minute)
	eventually(t, "later notified", func() bool {
		if s.len() == 0 {
			return true
		}
		clk.Advance(time.Second) // in case Run was not yet asleep
		return false
	})
	if got := rec.ids(); len(got) != 8 || got[7] != "later" {
		t.Errorf("notified %v; want e0..e6 then later", got)
	}
	cancel()
	waitDone(t, done)
}

func TestCancelMidBatchThenFreshDispatcher(t *testing.T) {
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	const n = 8
	var due []string
	for i := range n {
		id := fmt.Sprintf("e%d", i)
		due = append(due, id)
		schedule(t, s, id, start.Add(-time.Duration(n-i)*time.Minute))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := &recorder{fn: func(k int, _ Claim) (time.Time, error) {
		if k == 3 {
			cancel()
		}
		return time.Time{}, nil
	}}
	lease := time.Minute
	d1 := NewDispatcher(s, first, Config{Workers: 1, Clock: clk, Batch: 5, Lease: lease})
	waitDone(t, runAsync(ctx, d1))
	if got := first.ids(); len(got) != 3 {
		t.Fatalf("first dispatcher notified %v; want it to stop after 3", got)
	}
	if s.len() != n-3 {
		t.Errorf("%d entries left; want %d (the 3 sent were acked)", s.len(), n-3)
	}

	clk.Advance(lease)
	second := &recorder{}
	d2 := NewDispatcher(s, second, Config{Workers: 1, Clock: clk, Batch: 5, Lease: lease})
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	done := runAsync(ctx2, d2)
	eventually(t, "every entry acked", func() bool { return s.len() == 0 })
	cancel2()
	waitDone(t, done)

	seen := map[string]int{}
	for _, id := range append(first.ids(), second.ids()...) {
		seen[id]++
	}
	for _, id := range due {
		if seen[id] == 0 {
			t.Errorf("%s never notified", id)
		}
	}
	if s.len() != 0 {
		t.Errorf("%d entries left; want 0", s.len())
	}
}

func TestRunReturnsPromptlyOnCancel(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tc := range []struct {
		name string
		now  time.Time
	}{
		{"polling", time.Date(2027, 6, 1, 12, 0, 0, 0, paris)},
		{"quiet", time.Date(2027, 6, 1, 23, 0, 0, 0, paris)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(tc.now)
			d := NewDispatcher(newFakeStore(clk), &recorder{}, Config{
				Workers: 1,
				Clock:   clk, Location: paris, Quiet: Hours{From: 21, To: 9},
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := runAsync(ctx, d)
			blockUntil(t, clk, 1)
			cancel()
			waitDone(t, done)
		})
	}
}

// TestWorkersNotifyConcurrently: a pass does not wait for one notification
// to finish before starting the next, so a slow network round trip does not
// bound the send rate. Four claims, four workers: each Notify waits until
// all four are in flight, which only concurrent workers can reach.
func TestWorkersNotifyConcurrently(t *testing.T) {
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	for _, id := range []string{"u:a", "u:b", "u:c", "u:d"} {
		schedule(t, s, id, start)
	}
	var inFlight sync.WaitGroup
	inFlight.Add(4)
	all := make(chan struct{})
	go func() { inFlight.Wait(); close(all) }()
	rec := &recorder{fn: func(_ int, c Claim) (time.Time, error) {
		inFlight.Done()
		select {
		case <-all:
			return time.Time{}, nil
		case <-time.After(10 * time.Second):
			return time.Time{}, errors.New("notifications ran one at a time")
		}
	}}
	d := NewDispatcher(s, rec, Config{Clock: clk, Workers: 4})
	sent, err := d.RunOnce(context.Background())
	if err != nil || sent != 4 {
		t.Fatalf("RunOnce = %d, %v; want 4 sent concurrently", sent, err)
	}
}

func (s *fakeStore) set(f func(s *fakeStore)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *fakeStore) counts() (claims, failedClaims, renews int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claims, s.failedClaims, s.renews
}

// TestClaimFailureRetriesWithinRetryMax: while the store is unreachable
// the dispatcher claims again at most RetryMax (2 s) apart, not after its
// 30 s Poll, so it resumes within 2 s of the store's return.
func TestClaimFailureRetriesWithinRetryMax(t *testing.T) {
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	schedule(t, s, "u:a", start)
	s.set(func(s *fakeStore) { s.failClaim = errors.New("store unreachable") })
	rec := &recorder{}
	d := NewDispatcher(s, rec, Config{Workers: 1, Clock: clk}) // default Poll: 30 s
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runAsync(ctx, d)

	// A 20 s outage: every wait is at most RetryMax, and the waits grow.
	var outage time.Duration
	for outage < 20*time.Second {
		_, failedBefore, _ := s.counts()
		blockUntil(t, clk, 1)
		clk.Advance(RetryMax)
		outage += RetryMax
		eventually(t, "a claim within RetryMax of the last", func() bool {
			_, failed, _ := s.counts()
			return failed > failedBefore
		})
	}
	if _, failed, _ := s.counts(); failed < 10 {
		t.Errorf("%d claims during a 20 s outage; want one at least every %s", failed, RetryMax)
	}
	// The store is back: the reminder leaves within RetryMax.
	blockUntil(t, clk, 1)
	back := clk.Now()
	s.set(func(s *fakeStore) { s.failClaim = nil })
	clk.Advance(RetryMax)
	eventually(t, "the reminder sent after the store's return", func() bool { return s.len() == 0 })
	if got := rec.ids(); !slices.Equal(got, []string{"u:a"}) {
		t.Errorf("notified %v; want [u:a] once", got)
	}
	if waited := clk.Now().Sub(back); waited > RetryMax {
		t.Errorf("resumed %s after the store's return; want at most %s", waited, RetryMax)
	}
	cancel()
	waitDone(t, done)
}

func TestRetryWait(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {5, 1600 * time.Millisecond}, {6, 2 * time.Second}, {100, 2 * time.Second}} {
		if got := retryWait(tc.n); got != tc.want {
			t.Errorf("retryWait(%d) = %s; want %s", tc.n, got, tc.want)
		}
	}
}

// TestLeaseRenewedDuringBatch: a claim whose notification takes longer
// than the lease (a slow send, a rate limit) stays with its dispatcher:
// the lease is renewed while the batch runs, so no other dispatcher sends
// it again; once sent it is acked with the token of its claim.
func TestLeaseRenewedDuringBatch(t *testing.T) {
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	schedule(t, s, "u:slow", start.Add(-time.Minute))
	schedule(t, s, "u:fast", start)
	entered, release := make(chan struct{}), make(chan struct{})
	rec := &recorder{fn: func(_ int, c Claim) (time.Time, error) {
		if c.ID == "u:slow" {
			close(entered)
			<-release
		}
		return time.Time{}, nil
	}}
	const lease = 20 * time.Second
	d := NewDispatcher(s, rec, Config{Workers: 1, Clock: clk, Lease: lease})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runAsync(ctx, d)
	<-entered
	// Three leases pass while u:slow is being sent.
	for range 12 {
		blockUntil(t, clk, 1) // the renewal's timer: Run is inside the pass
		clk.Advance(5 * time.Second)
	}
	if e, ok := mustGet(t, s, "u:slow"); !ok || !e.Leased {
		t.Fatalf("u:slow after 3 leases of sending = %+v, %v; want still leased", e, ok)
	}
	other := &recorder{}
	if sent, err := NewDispatcher(s, other, Config{Clock: clk, Lease: lease}).RunOnce(context.Background()); err != nil || sent != 0 {
		t.Fatalf("another dispatcher's pass = %d, %v; want nothing to claim", sent, err)
	}
	if _, _, renews := s.counts(); renews < 5 {
		t.Errorf("%d renewals in 60 s; want one every %s at least", renews, lease/3)
	}
	close(release)
	eventually(t, "both acked", func() bool { return s.len() == 0 })
	if got := rec.ids(); !slices.Equal(got, []string{"u:slow", "u:fast"}) {
		t.Errorf("notified %v; want each once", got)
	}
	cancel()
	waitDone(t, done)
}

// TestKilledDispatcherClaimsComeBackSoon: a dispatcher that dies mid-batch
// (it neither acks nor renews) leaves its claims to another instance's
// dispatcher, running with the defaults, within 30 s: one 20 s lease and
// at most one 10 s poll (main: a 5-minute lease, then a 30 s poll).
func TestKilledDispatcherClaimsComeBackSoon(t *testing.T) {
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	rec := &recorder{}
	other := NewDispatcher(s, rec, Config{Clock: clk}) // the defaults
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runAsync(ctx, other)
	blockUntil(t, clk, 1) // nothing due: it polls

	// The killed instance claimed u:a with the default lease, then died.
	schedule(t, s, "u:a", start)
	if cs, err := s.Claim(context.Background(), start, 10, NewDispatcher(s, nil, Config{}).cfg.Lease); err != nil || len(cs) != 1 {
		t.Fatalf("Claim = %v, %v", cs, err)
	}
	for rec.ids() == nil {
		if clk.Now().Sub(start) > 30*time.Second {
			t.Fatalf("the killed dispatcher's claim not taken up within 30 s (lease %s, poll %s)", DefaultLease, DefaultPoll)
		}
		blockUntil(t, clk, 1)
		clk.Advance(time.Second)
		eventually(t, "the pass after the tick", func() bool { return clk.Waiters() > 0 || rec.ids() != nil })
	}
	t.Logf("taken up %s after the kill", clk.Now().Sub(start))
	cancel()
	waitDone(t, done)
}

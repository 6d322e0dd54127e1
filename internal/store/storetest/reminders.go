package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// ReminderHarness tells the reminder suite how to drive one backend's
// reminder.Store.
type ReminderHarness struct {
	// Open returns a fresh, empty reminder store, isolated from every other
	// store Open returns. The store judges lease expiry by its own clock:
	// either clk.Now (an embedded store) or a clock shared by its processes
	// (Redis TIME). Open is called from parallel subtests; it fails t on
	// error and registers the store's release with t.Cleanup.
	Open func(t *testing.T, clk *clock.Fake) reminder.Store
}

// Lease durations used by the suite. The short one really expires: the
// suite waits for it by polling (and advances clk as it goes, so that a
// store on clk.Now sees the same time pass as one on a real clock).
const (
	longLease  = time.Hour
	shortLease = 200 * time.Millisecond
	pollEvery  = 20 * time.Millisecond
	pollFor    = 5 * time.Second
)

// RunReminders runs the reminder.Store suite as subtests of t.
func RunReminders(t *testing.T, h ReminderHarness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("storetest: ReminderHarness.Open is required")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, e *remEnv)
	}{
		{"ScheduleIdempotent", testRemScheduleIdempotent},
		{"Reschedule", testRemReschedule},
		{"Cancel", testRemCancel},
		{"ClaimDueOrder", testRemClaimDueOrder},
		{"ClaimLeaseHolds", testRemLeaseHolds},
		{"LeaseExpiry", testRemLeaseExpiry},
		{"AckNext", testRemAckNext},
		{"AckRemove", testRemAckRemove},
		{"AckStaleToken", testRemAckStale},
		{"AckAfterCancel", testRemAckAfterCancel},
		{"ScheduleReplacesLease", testRemScheduleReplacesLease},
		{"ConcurrentClaimers", testRemConcurrentClaimers},
		{"RenewExtends", testRemRenewExtends},
		{"RenewShortens", testRemRenewShortens},
		{"RenewLost", testRemRenewLost},
		{"ClaimLimitZero", testRemLimitZero},
		{"ContextCancelled", testRemContextCancelled},
		{"DispatcherRestart", testRemDispatcherRestart},
		{"Lister", testRemLister},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &remEnv{clk: clock.NewFake(Start)}
			e.s = h.Open(t, e.clk)
			tc.fn(t, e)
		})
	}
}

type remEnv struct {
	clk *clock.Fake
	s   reminder.Store
}

// day returns Start plus n days: due times and the callers' "now".
func day(n int) time.Time { return Start.Add(time.Duration(n) * 24 * time.Hour) }

func mustSchedule(t *testing.T, s reminder.Store, id string, due time.Time) {
	t.Helper()
	if err := s.Schedule(t.Context(), id, due); err != nil {
		t.Fatalf("Schedule(%q, %s): %v", id, due, err)
	}
}

func mustClaim(t *testing.T, s reminder.Store, now time.Time, limit int, lease time.Duration) []reminder.Claim {
	t.Helper()
	cs, err := s.Claim(t.Context(), now, limit, lease)
	if err != nil {
		t.Fatalf("Claim(%s, %d, %s): %v", now, limit, lease, err)
	}
	if len(cs) > max(limit, 0) {
		t.Fatalf("Claim(limit %d) returned %d claims", limit, len(cs))
	}
	for _, c := range cs {
		if c.Token == "" {
			t.Fatalf("Claim returned %q with an empty token", c.ID)
		}
	}
	return cs
}

func mustAck(t *testing.T, s reminder.Store, c reminder.Claim, next time.Time) {
	t.Helper()
	if err := s.Ack(t.Context(), c.ID, c.Token, next); err != nil {
		t.Fatalf("Ack(%q, next %s): %v", c.ID, next, err)
	}
}

func mustGet(t *testing.T, s reminder.Store, id string) reminder.Entry {
	t.Helper()
	e, ok, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	if !ok {
		t.Fatalf("Get(%q): absent, want present", id)
	}
	if e.ID != id {
		t.Fatalf("Get(%q).ID = %q", id, e.ID)
	}
	return e
}

func wantAbsent(t *testing.T, s reminder.Store, id string) {
	t.Helper()
	e, ok, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	if ok {
		t.Fatalf("Get(%q) = %+v, want absent", id, e)
	}
}

func wantEntry(t *testing.T, s reminder.Store, id string, due time.Time, leased bool) {
	t.Helper()
	e := mustGet(t, s, id)
	if !e.Due.Equal(due) || e.Leased != leased {
		t.Fatalf("Get(%q) = due %s leased %v; want due %s leased %v", id, e.Due, e.Leased, due, leased)
	}
}

func claimIDs(cs []reminder.Claim) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func findClaim(cs []reminder.Claim, id string) (reminder.Claim, bool) {
	for _, c := range cs {
		if c.ID == id {
			return c, true
		}
	}
	return reminder.Claim{}, false
}

// waitReclaim claims (at now, with a long lease) every pollEvery until id
// comes back, which happens once its short lease has expired by the store's
// clock; clk is advanced as real time passes. It fails after pollFor.
func waitReclaim(t *testing.T, e *remEnv, id string, now time.Time) reminder.Claim {
	t.Helper()
	deadline := time.Now().Add(pollFor)
	for {
		cs := mustClaim(t, e.s, now, 10, longLease)
		if c, ok := findClaim(cs, id); ok {
			return c
		}
		if len(cs) > 0 {
			t.Fatalf("waiting for %q to be re-delivered, Claim returned others: %q", id, claimIDs(cs))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q was not re-delivered within %s of its %s lease", id, pollFor, shortLease)
		}
		time.Sleep(pollEvery)
		e.clk.Advance(pollEvery)
	}
}

// claimOne claims at now and expects exactly id.
func claimOne(t *testing.T, e *remEnv, id string, now time.Time, lease time.Duration) reminder.Claim {
	t.Helper()
	cs := mustClaim(t, e.s, now, 10, lease)
	if len(cs) != 1 || cs[0].ID != id {
		t.Fatalf("Claim = %q, want [%q]", claimIDs(cs), id)
	}
	return cs[0]
}

// ---- subtests ----

func testRemScheduleIdempotent(t *testing.T, e *remEnv) {
	const id = "7700000001:doc1"
	wantAbsent(t, e.s, id)
	mustSchedule(t, e.s, id, day(3))
	mustSchedule(t, e.s, id, day(3))
	wantEntry(t, e.s, id, day(3), false)
	mustSchedule(t, e.s, id, day(5))
	wantEntry(t, e.s, id, day(5), false)

	c := claimOne(t, e, id, day(10), longLease)
	if !c.Due.Equal(day(5)) || c.Attempts != 1 {
		t.Fatalf("Claim = due %s attempts %d; want due %s attempts 1", c.Due, c.Attempts, day(5))
	}
}

func testRemReschedule(t *testing.T, e *remEnv) {
	const id, other = "7700000002:doc1", "7700000002:doc2"
	mustSchedule(t, e.s, id, day(2))
	mustSchedule(t, e.s, other, day(4))
	mustSchedule(t, e.s, id, day(6)) // later
	if cs := mustClaim(t, e.s, day(5), 10, longLease); len(cs) != 1 || cs[0].ID != other {
		t.Fatalf("Claim at day 5 = %q, want only %q (the other was moved to day 6)", claimIDs(cs), other)
	}
	wantEntry(t, e.s, id, day(6), false)
	mustSchedule(t, e.s, id, day(1)) // earlier again
	c := claimOne(t, e, id, day(1), longLease)
	if !c.Due.Equal(day(1)) {
		t.Fatalf("Claim.Due = %s, want %s", c.Due, day(1))
	}
}

func testRemCancel(t *testing.T, e *remEnv) {
	const id, kept = "7700000003:doc1", "7700000003:doc2"
	if err := e.s.Cancel(t.Context(), id); err != nil {
		t.Fatalf("Cancel of an absent entry: %v", err)
	}
	mustSchedule(t, e.s, id, day(1))
	mustSchedule(t, e.s, kept, day(1))
	if err := e.s.Cancel(t.Context(), id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	wantAbsent(t, e.s, id)
	wantEntry(t, e.s, kept, day(1), false)
	claimOne(t, e, kept, day(2), longLease)
	if err := e.s.Cancel(t.Context(), id); err != nil {
		t.Fatalf("second Cancel: %v", err)
	}
}

func testRemClaimDueOrder(t *testing.T, e *remEnv) {
	ids := []string{"7700000004:a", "7700000004:b", "7700000004:c", "7700000004:d", "7700000004:e"}
	// Scheduled out of order: due days 5, 1, 4, 2, 3 → order b d e c a.
	for i, d := range []int{5, 1, 4, 2, 3} {
		mustSchedule(t, e.s, ids[i], day(d))
	}
	mustSchedule(t, e.s, "7700000004:later", day(4).Add(time.Millisecond))
	now := day(4) // due at or before now: b d e c (c is due exactly now)

	cs := mustClaim(t, e.s, now, 3, longLease)
	if got, want := claimIDs(cs), []string{ids[1], ids[3], ids[4]}; !slices.Equal(got, want) {
		t.Fatalf("first Claim(limit 3) = %q, want %q", got, want)
	}
	for i, d := range []int{1, 2, 3} {
		if !cs[i].Due.Equal(day(d)) || cs[i].Attempts != 1 {
			t.Errorf("claim %q: due %s attempts %d; want due %s attempts 1", cs[i].ID, cs[i].Due, cs[i].Attempts, day(d))
		}
	}
	cs = mustClaim(t, e.s, now, 3, longLease)
	if got, want := claimIDs(cs), []string{ids[2]}; !slices.Equal(got, want) {
		t.Fatalf("second Claim = %q, want %q", got, want)
	}
	if cs = mustClaim(t, e.s, now, 3, longLease); len(cs) != 0 {
		t.Fatalf("third Claim = %q, want nothing", claimIDs(cs))
	}
	wantEntry(t, e.s, ids[0], day(5), false)
	wantEntry(t, e.s, "7700000004:later", day(4).Add(time.Millisecond), false)
	// Nothing due before the earliest entry.
	if cs = mustClaim(t, e.s, day(0), 3, longLease); len(cs) != 0 {
		t.Fatalf("Claim before anything is due = %q", claimIDs(cs))
	}
}

func testRemLeaseHolds(t *testing.T, e *remEnv) {
	const id = "7700000005:doc1"
	mustSchedule(t, e.s, id, day(1))
	claimOne(t, e, id, day(2), longLease)
	wantEntry(t, e.s, id, day(1), true)
	if cs := mustClaim(t, e.s, day(3), 10, longLease); len(cs) != 0 {
		t.Fatalf("second Claim while the lease holds = %q, want nothing", claimIDs(cs))
	}
	// Even far later by the caller's clock: the lease is the store's.
	if cs := mustClaim(t, e.s, day(30), 10, longLease); len(cs) != 0 {
		t.Fatalf("Claim with a later now while the lease holds = %q", claimIDs(cs))
	}
}

func testRemLeaseExpiry(t *testing.T, e *remEnv) {
	const id = "7700000006:doc1"
	mustSchedule(t, e.s, id, day(1))
	first := claimOne(t, e, id, day(2), shortLease)
	if first.Attempts != 1 {
		t.Fatalf("first claim Attempts = %d, want 1", first.Attempts)
	}
	again := waitReclaim(t, e, id, day(2))
	if again.Attempts != 2 {
		t.Errorf("re-delivered claim Attempts = %d, want 2", again.Attempts)
	}
	if !again.Due.Equal(day(1)) {
		t.Errorf("re-delivered claim Due = %s, want %s", again.Due, day(1))
	}
	if again.Token == first.Token {
		t.Errorf("re-delivered claim has the old token")
	}
	mustAck(t, e.s, again, time.Time{})
	wantAbsent(t, e.s, id)
}

func testRemAckNext(t *testing.T, e *remEnv) {
	const id = "7700000007:doc1"
	mustSchedule(t, e.s, id, day(1))
	c := claimOne(t, e, id, day(1), longLease)
	mustAck(t, e.s, c, day(8))
	wantEntry(t, e.s, id, day(8), false)
	if cs := mustClaim(t, e.s, day(7), 10, longLease); len(cs) != 0 {
		t.Fatalf("Claim before next = %q, want nothing", claimIDs(cs))
	}
	c2 := claimOne(t, e, id, day(8), longLease)
	if !c2.Due.Equal(day(8)) || c2.Attempts != 1 {
		t.Fatalf("claim after Ack: due %s attempts %d; want due %s attempts 1", c2.Due, c2.Attempts, day(8))
	}
	// The old token no longer acks.
	if err := e.s.Ack(t.Context(), id, c.Token, day(9)); !errors.Is(err, reminder.ErrLeaseLost) {
		t.Fatalf("Ack with the previous claim's token: err = %v, want ErrLeaseLost", err)
	}
	mustAck(t, e.s, c2, time.Time{})
	wantAbsent(t, e.s, id)
}

func testRemAckRemove(t *testing.T, e *remEnv) {
	const id, kept = "7700000008:doc1", "7700000008:doc2"
	mustSchedule(t, e.s, id, day(1))
	mustSchedule(t, e.s, kept, day(20))
	c := claimOne(t, e, id, day(1), longLease)
	mustAck(t, e.s, c, time.Time{})
	wantAbsent(t, e.s, id)
	if cs := mustClaim(t, e.s, day(10), 10, longLease); len(cs) != 0 {
		t.Fatalf("Claim after Ack without next = %q, want nothing", claimIDs(cs))
	}
	// Acking twice fails: the claim is over.
	if err := e.s.Ack(t.Context(), id, c.Token, time.Time{}); !errors.Is(err, reminder.ErrLeaseLost) {
		t.Fatalf("second Ack: err = %v, want ErrLeaseLost", err)
	}
	if err := e.s.Ack(t.Context(), kept, "not-a-token", time.Time{}); !errors.Is(err, reminder.ErrLeaseLost) {
		t.Fatalf("Ack of an unclaimed entry: err = %v, want ErrLeaseLost", err)
	}
	wantEntry(t, e.s, kept, day(20), false)
}

func testRemAckStale(t *testing.T, e *remEnv) {
	const id = "7700000009:doc1"
	mustSchedule(t, e.s, id, day(1))
	stale := claimOne(t, e, id, day(1), shortLease)
	current := waitReclaim(t, e, id, day(1))
	if err := e.s.Ack(t.Context(), id, stale.Token, day(5)); !errors.Is(err, reminder.ErrLeaseLost) {
		t.Fatalf("Ack with a stale token: err = %v, want ErrLeaseLost", err)
	}
	wantEntry(t, e.s, id, day(1), true) // the stale ack changed nothing
	if err := e.s.Ack(t.Context(), id, "", day(5)); !errors.Is(err, reminder.ErrLeaseLost) {
		t.Fatalf("Ack with an empty token: err = %v, want ErrLeaseLost", err)
	}
	mustAck(t, e.s, current, day(5))
	wantEntry(t, e.s, id, day(5), false)
}

func testRemAckAfterCancel(t *testing.T, e *remEnv) {
	const id = "7700000010:doc1"
	mustSchedule(t, e.s, id, day(1))
	c := claimOne(t, e, id, day(1), longLease)
	if err := e.s.Cancel(t.Context(), id); err != nil {
		t.Fatalf("Cancel of a leased entry: %v", err)
	}
	wantAbsent(t, e.s, id)
	if err := e.s.Ack(t.Context(), id, c.Token, day(3)); !errors.Is(err, reminder.ErrLeaseLost) {
		t.Fatalf("Ack after Cancel: err = %v, want ErrLeaseLost", err)
	}
	wantAbsent(t, e.s, id) // the failed ack did not bring it back
}

func testRemScheduleReplacesLease(t *testing.T, e *remEnv) {
	const id = "7700000011:doc1"
	mustSchedule(t, e.s, id, day(1))
	c := claimOne(t, e, id, day(1), longLease)
	mustSchedule(t, e.s, id, day(2))
	wantEntry(t, e.s, id, day(2), false)
	if err := e.s.Ack(t.Context(), id, c.Token, day(9)); !errors.Is(err, reminder.ErrLeaseLost) {
		t.Fatalf("Ack after Schedule replaced the lease: err = %v, want ErrLeaseLost", err)
	}
	wantEntry(t, e.s, id, day(2), false)
	c2 := claimOne(t, e, id, day(2), longLease)
	if c2.Attempts != 1 {
		t.Errorf("claim after Schedule: Attempts = %d, want 1", c2.Attempts)
	}
}

// testRemRenewExtends: a renewed short lease outlives its first term; the
// token, due time and attempts stay, so the holder's ack succeeds.
func testRemRenewExtends(t *testing.T, e *remEnv) {
	const id, other = "7700000031:doc1", "7700000031:doc2"
	mustSchedule(t, e.s, id, day(1))
	mustSchedule(t, e.s, other, day(1).Add(time.Minute))
	cs := mustClaim(t, e.s, day(1).Add(time.Hour), 10, shortLease)
	if len(cs) != 2 {
		t.Fatalf("Claim = %q, want both", claimIDs(cs))
	}
	lost, err := e.s.Renew(t.Context(), cs, longLease)
	if err != nil || len(lost) != 0 {
		t.Fatalf("Renew of current claims = %q, %v; want nothing lost", lost, err)
	}
	// Past the first term, by real time and by the fake clock.
	time.Sleep(2 * shortLease)
	e.clk.Advance(2 * shortLease)
	if again := mustClaim(t, e.s, day(2), 10, longLease); len(again) != 0 {
		t.Fatalf("Claim after the renewed lease's first term = %q, want nothing", claimIDs(again))
	}
	wantEntry(t, e.s, id, day(1), true)
	c, _ := findClaim(cs, id)
	if c.Attempts != 1 {
		t.Errorf("Attempts = %d, want 1", c.Attempts)
	}
	mustAck(t, e.s, c, day(7))
	wantEntry(t, e.s, id, day(7), false)
	if lost, err := e.s.Renew(t.Context(), nil, longLease); err != nil || len(lost) != 0 {
		t.Errorf("Renew(nothing) = %q, %v", lost, err)
	}
}

// testRemRenewShortens: Renew sets the lease from now, so a dispatcher that
// renews with a short lease and then dies leaves its claims to come back
// after that short lease, not after the long one it first took.
func testRemRenewShortens(t *testing.T, e *remEnv) {
	const id = "7700000032:doc1"
	mustSchedule(t, e.s, id, day(1))
	c := claimOne(t, e, id, day(1), longLease)
	if lost, err := e.s.Renew(t.Context(), []reminder.Claim{c}, shortLease); err != nil || len(lost) != 0 {
		t.Fatalf("Renew = %q, %v", lost, err)
	}
	again := waitReclaim(t, e, id, day(1))
	if again.Attempts != 2 || again.Token == c.Token {
		t.Errorf("claim after the renewed lease ended: Attempts %d (want 2), token changed %v", again.Attempts, again.Token != c.Token)
	}
}

// testRemRenewLost: claims whose token is no longer current (claimed
// again, acked, cancelled, rescheduled) are reported lost and unchanged.
func testRemRenewLost(t *testing.T, e *remEnv) {
	ids := []string{"7700000033:reclaimed", "7700000033:acked", "7700000033:cancelled", "7700000033:moved", "7700000033:kept"}
	for _, id := range ids {
		mustSchedule(t, e.s, id, day(1))
	}
	first := mustClaim(t, e.s, day(1), 10, shortLease)
	if len(first) != len(ids) {
		t.Fatalf("Claim = %q, want all of %q", claimIDs(first), ids)
	}
	get := func(cs []reminder.Claim, id string) reminder.Claim {
		c, ok := findClaim(cs, id)
		if !ok {
			t.Fatalf("%q not claimed", id)
		}
		return c
	}
	// Renew all but the first one long, so only it comes back.
	var held []reminder.Claim
	for _, c := range first {
		if c.ID != ids[0] {
			held = append(held, c)
		}
	}
	if _, err := e.s.Renew(t.Context(), held, longLease); err != nil {
		t.Fatal(err)
	}
	current := waitReclaim(t, e, ids[0], day(1))
	mustAck(t, e.s, get(first, ids[1]), time.Time{})
	if err := e.s.Cancel(t.Context(), ids[2]); err != nil {
		t.Fatal(err)
	}
	mustSchedule(t, e.s, ids[3], day(4))
	lost, err := e.s.Renew(t.Context(), first, longLease)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	slices.Sort(lost)
	want := slices.Clone(ids[:4])
	slices.Sort(want)
	if !slices.Equal(lost, want) {
		t.Fatalf("Renew lost = %q, want %q", lost, want)
	}
	wantAbsent(t, e.s, ids[1])
	wantAbsent(t, e.s, ids[2])
	wantEntry(t, e.s, ids[3], day(4), false) // not leased again by a stale renew
	wantEntry(t, e.s, ids[4], day(1), true)
	if lost, err := e.s.Renew(t.Context(), []reminder.Claim{current}, longLease); err != nil || len(lost) != 0 {
		t.Fatalf("Renew of the new holder's claim = %q, %v; want nothing lost", lost, err)
	}
	mustAck(t, e.s, current, time.Time{})
}

func testRemConcurrentClaimers(t *testing.T, e *remEnv) {
	const n = 200
	want := make(map[string]bool, n)
	for i := range n {
		id := fmt.Sprintf("7700000012:doc%03d", i)
		want[id] = true
		mustSchedule(t, e.s, id, day(1).Add(time.Duration(i)*time.Minute))
	}
	ctx := t.Context()
	var (
		mu   sync.Mutex
		got  = map[string]int{}
		errs []error
		wg   sync.WaitGroup
	)
	for range 2 {
		wg.Go(func() {
			for {
				cs, err := e.s.Claim(ctx, day(2), 7, longLease)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					got[c.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Errorf("concurrent Claim: %v", err)
	}
	for id, k := range got {
		if k != 1 {
			t.Errorf("%q claimed %d times", id, k)
		}
		if !want[id] {
			t.Errorf("claimed unknown id %q", id)
		}
	}
	if len(got) != n {
		t.Errorf("the claimers got %d distinct entries, want %d", len(got), n)
	}
}

func testRemLimitZero(t *testing.T, e *remEnv) {
	const id = "7700000013:doc1"
	mustSchedule(t, e.s, id, day(1))
	for _, limit := range []int{0, -1} {
		cs, err := e.s.Claim(t.Context(), day(2), limit, longLease)
		if err != nil || len(cs) != 0 {
			t.Fatalf("Claim(limit %d) = %q, %v; want nothing, no error", limit, claimIDs(cs), err)
		}
	}
	wantEntry(t, e.s, id, day(1), false)
	claimOne(t, e, id, day(2), longLease)
}

func testRemContextCancelled(t *testing.T, e *remEnv) {
	const id = "7700000014:doc1"
	mustSchedule(t, e.s, id, day(1))
	c := claimOne(t, e, id, day(1), longLease)
	const other = "7700000014:doc2"
	mustSchedule(t, e.s, other, day(1))

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	ops := []struct {
		name string
		fn   func(ctx context.Context) error
	}{
		{"Schedule", func(ctx context.Context) error { return e.s.Schedule(ctx, other, day(9)) }},
		{"Cancel", func(ctx context.Context) error { return e.s.Cancel(ctx, other) }},
		{"Claim", func(ctx context.Context) error { _, err := e.s.Claim(ctx, day(2), 10, longLease); return err }},
		{"Ack", func(ctx context.Context) error { return e.s.Ack(ctx, id, c.Token, time.Time{}) }},
		{"Get", func(ctx context.Context) error { _, _, err := e.s.Get(ctx, id); return err }},
	}
	for _, op := range ops {
		done := make(chan error, 1)
		go func() { done <- op.fn(cancelled) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", op.name, err)
			}
		case <-time.After(10 * time.Second): // a watchdog, not a timer the test waits for
			t.Fatalf("%s with a cancelled context did not return", op.name)
		}
	}
	// Nothing changed.
	wantEntry(t, e.s, id, day(1), true)
	wantEntry(t, e.s, other, day(1), false)
	mustAck(t, e.s, c, time.Time{})
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
	goredis "github.com/redis/go-redis/v9"
)

func reminderHarness(rawURL string) storetest.ReminderHarness {
	return storetest.ReminderHarness{
		Open: func(t *testing.T, clk *clock.Fake) reminder.Store {
			return openTest(t, rawURL, WithClock(clk.Now))
		},
	}
}

func TestRemindersConformanceSingle(t *testing.T) {
	storetest.RunReminders(t, reminderHarness(testURL(t, envURL)))
}

func TestRemindersConformanceCluster(t *testing.T) {
	storetest.RunReminders(t, reminderHarness(clusterURL(t)))
}

// remBoth runs fn against the single node and the cluster, each with a
// fresh prefix.
func remBoth(t *testing.T, fn func(t *testing.T, s *Store)) {
	for _, name := range []string{envURL, envCluster} {
		t.Run(name, func(t *testing.T) {
			fn(t, openTest(t, testURL(t, name)))
		})
	}
}

// remT0 is a whole-millisecond moment: the store keeps due times in ms.
var remT0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func mustClaim(t *testing.T, s *Store, now time.Time, limit int, lease time.Duration) []reminder.Claim {
	t.Helper()
	cs, err := s.Claim(t.Context(), now, limit, lease)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return cs
}

func claimIDs(cs []reminder.Claim) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func mustGet(t *testing.T, s *Store, id string) (reminder.Entry, bool) {
	t.Helper()
	e, ok, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return e, ok
}

func TestRemindersScheduleClaimAck(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if err := s.Schedule(ctx, "u1:a", remT0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.Schedule(ctx, "u1:b", remT0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		// Scheduling the same time again changes nothing.
		if err := s.Schedule(ctx, "u1:a", remT0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if e, ok := mustGet(t, s, "u1:a"); !ok || !e.Due.Equal(remT0.Add(time.Minute)) || e.Leased || e.ID != "u1:a" {
			t.Fatalf("Get(u1:a) = %+v, %v", e, ok)
		}
		if _, ok := mustGet(t, s, "nope"); ok {
			t.Fatal("Get(nope) found an entry")
		}
		if cs := mustClaim(t, s, remT0, 10, time.Minute); len(cs) != 0 {
			t.Fatalf("nothing is due yet, got %+v", cs)
		}
		cs := mustClaim(t, s, remT0.Add(90*time.Second), 10, time.Minute)
		if len(cs) != 1 || cs[0].ID != "u1:a" || !cs[0].Due.Equal(remT0.Add(time.Minute)) || cs[0].Attempts != 1 || cs[0].Token == "" {
			t.Fatalf("Claim = %+v", cs)
		}
		if e, ok := mustGet(t, s, "u1:a"); !ok || !e.Leased || !e.Due.Equal(remT0.Add(time.Minute)) {
			t.Fatalf("Get(leased) = %+v, %v", e, ok)
		}
		if again := mustClaim(t, s, remT0.Add(90*time.Second), 10, time.Minute); len(again) != 0 {
			t.Fatalf("a leased entry was claimed again: %+v", again)
		}
		if err := s.Ack(ctx, "u1:a", "not-the-token", time.Time{}); !errors.Is(err, reminder.ErrLeaseLost) {
			t.Fatalf("Ack with a wrong token: %v", err)
		}
		next := remT0.Add(10 * time.Minute)
		if err := s.Ack(ctx, "u1:a", cs[0].Token, next); err != nil {
			t.Fatal(err)
		}
		if e, ok := mustGet(t, s, "u1:a"); !ok || e.Leased || !e.Due.Equal(next) {
			t.Fatalf("Get(after ack) = %+v, %v", e, ok)
		}
		if err := s.Ack(ctx, "u1:a", cs[0].Token, next); !errors.Is(err, reminder.ErrLeaseLost) {
			t.Fatalf("second Ack: %v", err)
		}
		// Both due now, earliest first; attempts restarted after the ack.
		cs = mustClaim(t, s, next, 10, time.Minute)
		if !slices.Equal(claimIDs(cs), []string{"u1:b", "u1:a"}) || cs[1].Attempts != 1 {
			t.Fatalf("Claim = %+v", cs)
		}
		for _, c := range cs {
			if err := s.Ack(ctx, c.ID, c.Token, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if _, ok := mustGet(t, s, c.ID); ok {
				t.Fatalf("%s survived its final ack", c.ID)
			}
		}
		// Nothing is left behind.
		var keys []string
		scanData(ctx, s, func(k, _ string) error { keys = append(keys, k); return nil })
		if len(keys) != 0 {
			t.Errorf("keys left: %q", keys)
		}
	})
}

func TestRemindersEarliestFirstAcrossShards(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const n = 40
		var want []string
		for i := range n {
			// Reverse order of scheduling, to rule out insertion order.
			id := fmt.Sprintf("u%d:d", n-1-i)
			if err := s.Schedule(ctx, id, remT0.Add(time.Duration(n-1-i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			want = append(want, fmt.Sprintf("u%d:d", i))
		}
		var got []string
		for round := 0; len(got) < n; round++ {
			cs := mustClaim(t, s, remT0.Add(time.Hour), 7, time.Minute)
			if len(cs) == 0 || round > n {
				t.Fatalf("stuck after %d claimed", len(got))
			}
			if len(cs) > 7 {
				t.Fatalf("limit 7 gave %d", len(cs))
			}
			got = append(got, claimIDs(cs)...)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("claim order = %q, want %q", got, want)
		}
		// Ties: equal due times come back ordered by id.
		for _, id := range []string{"t:c", "t:a", "t:b"} {
			if err := s.Schedule(ctx, id, remT0); err != nil {
				t.Fatal(err)
			}
		}
		if cs := mustClaim(t, s, remT0, 2, time.Minute); !slices.Equal(claimIDs(cs), []string{"t:a", "t:b"}) {
			t.Fatalf("ties = %q", claimIDs(cs))
		}
	})
}

// TestRemindersClaimSkewedShards: when the earliest entries crowd into one
// shard, beyond what Claim first asks of each shard (lookSize), Claim
// still returns the earliest limit entries, in order.
func TestRemindersClaimSkewedShards(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const crowd, limit = 100, 120
		if lookSize(limit) >= crowd {
			t.Fatalf("lookSize(%d) = %d: the test needs a crowd larger than that", limit, lookSize(limit))
		}
		var early, late []string
		for i := 0; len(early) < crowd || len(late) < 50; i++ {
			id := fmt.Sprintf("%d:skew", 7700000000+i)
			switch {
			case remShard(id) == 3 && len(early) < crowd:
				early = append(early, id)
			case remShard(id) != 3 && len(late) < 50:
				late = append(late, id)
			}
		}
		for i, id := range early {
			if err := s.Schedule(ctx, id, remT0.Add(time.Duration(i)*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}
		for i, id := range late {
			if err := s.Schedule(ctx, id, remT0.Add(time.Hour+time.Duration(i)*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}
		want := append(slices.Clone(early), late[:limit-crowd]...)
		if got := claimIDs(mustClaim(t, s, remT0.Add(2*time.Hour), limit, time.Minute)); !slices.Equal(got, want) {
			t.Fatalf("Claim(limit %d) =\n%q\nwant\n%q", limit, got, want)
		}
	})
}

func TestRemindersLeaseExpiry(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if err := s.Schedule(ctx, "x", remT0); err != nil {
			t.Fatal(err)
		}
		first := mustClaim(t, s, remT0, 1, 50*time.Millisecond)
		if len(first) != 1 {
			t.Fatalf("Claim = %+v", first)
		}
		time.Sleep(120 * time.Millisecond)
		if e, ok := mustGet(t, s, "x"); !ok || e.Leased {
			t.Fatalf("Get after expiry = %+v, %v", e, ok)
		}
		// An expired lease is claimable even by a caller whose clock says
		// the entry is not due.
		second := mustClaim(t, s, remT0.Add(-time.Hour), 5, time.Minute)
		if len(second) != 1 || second[0].ID != "x" || second[0].Attempts != 2 || second[0].Token == first[0].Token || !second[0].Due.Equal(remT0) {
			t.Fatalf("re-claim = %+v (first %+v)", second, first)
		}
		if err := s.Ack(ctx, "x", first[0].Token, time.Time{}); !errors.Is(err, reminder.ErrLeaseLost) {
			t.Fatalf("stale Ack: %v", err)
		}
		if err := s.Ack(ctx, "x", second[0].Token, time.Time{}); err != nil {
			t.Fatal(err)
		}
		// An expired lease no one took again can still be acked.
		if err := s.Schedule(ctx, "y", remT0); err != nil {
			t.Fatal(err)
		}
		c := mustClaim(t, s, remT0, 1, time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		if err := s.Ack(ctx, "y", c[0].Token, remT0.Add(time.Hour)); err != nil {
			t.Fatalf("Ack of an expired, unclaimed lease: %v", err)
		}
	})
}

func TestRemindersScheduleAndCancelEndLeases(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, id := range []string{"r", "c"} {
			if err := s.Schedule(ctx, id, remT0); err != nil {
				t.Fatal(err)
			}
		}
		cs := mustClaim(t, s, remT0, 10, time.Minute)
		if len(cs) != 2 {
			t.Fatalf("Claim = %+v", cs)
		}
		tok := map[string]string{cs[0].ID: cs[0].Token, cs[1].ID: cs[1].Token}
		if err := s.Schedule(ctx, "r", remT0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.Cancel(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		if err := s.Cancel(ctx, "never"); err != nil {
			t.Fatalf("Cancel of an absent entry: %v", err)
		}
		for _, id := range []string{"r", "c"} {
			if err := s.Ack(ctx, id, tok[id], time.Time{}); !errors.Is(err, reminder.ErrLeaseLost) {
				t.Errorf("Ack(%s) after schedule/cancel: %v", id, err)
			}
		}
		if e, ok := mustGet(t, s, "r"); !ok || e.Leased || !e.Due.Equal(remT0.Add(time.Minute)) {
			t.Fatalf("Get(r) = %+v, %v", e, ok)
		}
		if _, ok := mustGet(t, s, "c"); ok {
			t.Fatal("cancelled entry still there")
		}
		cs = mustClaim(t, s, remT0.Add(time.Minute), 10, time.Minute)
		if len(cs) != 1 || cs[0].ID != "r" || cs[0].Attempts != 1 {
			t.Fatalf("Claim after reschedule = %+v", cs)
		}
	})
}

func TestRemindersKeyLayoutAndSpread(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for i := range 200 {
			if err := s.Schedule(ctx, "u"+strconv.Itoa(i)+":doc", remT0); err != nil {
				t.Fatal(err)
			}
		}
		cs := mustClaim(t, s, remT0, 3, time.Minute)
		if len(cs) != 3 {
			t.Fatalf("Claim = %+v", cs)
		}
		var keys []string
		if err := scanData(ctx, s, func(k, _ string) error { keys = append(keys, k); return nil }); err != nil {
			t.Fatal(err)
		}
		p := s.Prefix()
		for _, k := range keys {
			if !strings.HasPrefix(k, p+":{"+p+":rem:") {
				t.Errorf("unexpected key %s", k)
			}
		}
		counts := map[int]int64{}
		for n := range remShards {
			k := s.remKeys(n)
			counts[n] = s.c.ZCard(ctx, k[0]).Val()
			if counts[n] == 0 {
				t.Errorf("shard %d is empty", n)
			}
			if cc, ok := s.Client().(*goredis.ClusterClient); ok {
				slot := func(k string) int64 { return cc.ClusterKeySlot(ctx, k).Val() }
				if slot(k[0]) != slot(k[1]) || slot(k[0]) != slot(k[2]) {
					t.Errorf("shard %d's keys are in different slots", n)
				}
			}
		}
		t.Logf("entries per shard: %v", counts)
		// Leases and tokens exist only for the claimed entries.
		var leases, toks int64
		for n := range remShards {
			k := s.remKeys(n)
			leases += s.c.ZCard(ctx, k[1]).Val()
			toks += s.c.HLen(ctx, k[2]).Val()
		}
		if leases != 3 || toks != 3 {
			t.Errorf("leases %d, tokens %d; want 3 and 3", leases, toks)
		}
	})
}

func TestRemindersConcurrentClaimers(t *testing.T) {
	remBoth(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const n = 200
		for i := range n {
			if err := s.Schedule(ctx, fmt.Sprintf("u%d:c", i), remT0.Add(time.Duration(i%17)*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu   sync.Mutex
			seen = map[string]int{}
			wg   sync.WaitGroup
			errs = make(chan error, 4)
		)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					cs, err := s.Claim(ctx, remT0.Add(time.Second), 3+w*4, time.Minute)
					if err != nil {
						errs <- err
						return
					}
					if len(cs) == 0 {
						return
					}
					for _, c := range cs {
						mu.Lock()
						seen[c.ID]++
						mu.Unlock()
						if err := s.Ack(ctx, c.ID, c.Token, time.Time{}); err != nil {
							errs <- fmt.Errorf("Ack(%s): %w", c.ID, err)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(seen) != n {
			t.Errorf("%d entries claimed, want %d", len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("%s claimed %d times", id, k)
			}
		}
	})
}

// benchSchedule empties s's schedule and fills it with n entries due
// before remT0 + n seconds, in one pipeline (not measured).
func benchSchedule(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range allShards {
			p.Del(ctx, s.remKeys(k)...)
		}
		for i := range n {
			id := fmt.Sprintf("%d:1", 7000000000+i)
			p.ZAdd(ctx, s.remKeys(remShard(id))[0], goredis.Z{Score: float64(remT0.Add(time.Duration(i) * time.Second).UnixMilli()), Member: id})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchClaims claims n due entries in batches of batch, acking each claim
// when ack is set (one Ack per entry, as the dispatcher does), and reports
// entries per second and the mean time of a Claim call.
func benchClaims(b *testing.B, claim func(ctx context.Context, now time.Time, limit int) ([]reminder.Claim, error),
	ackFn func(ctx context.Context, c reminder.Claim) error, fill func(), now time.Time, n, batch int) {
	ctx := context.Background()
	var handled, calls int
	var elapsed, claiming time.Duration
	for b.Loop() {
		b.StopTimer()
		fill()
		b.StartTimer()
		start := time.Now()
		for {
			t0 := time.Now()
			cs, err := claim(ctx, now, batch)
			claiming += time.Since(t0)
			calls++
			if err != nil {
				b.Fatal(err)
			}
			if len(cs) == 0 {
				break
			}
			if ackFn != nil {
				for _, c := range cs {
					if err := ackFn(ctx, c); err != nil {
						b.Fatal(err)
					}
				}
			}
			handled += len(cs)
		}
		elapsed += time.Since(start)
	}
	if handled != n*b.N {
		b.Fatalf("handled %d entries, want %d", handled, n*b.N)
	}
	b.ReportMetric(float64(handled)/elapsed.Seconds(), "entries/s")
	b.ReportMetric(float64(claiming.Microseconds())/float64(calls), "µs/claim")
}

// BenchmarkClaim measures Claim alone: 10,000 due entries claimed in
// batches (the leases are left to expire), on the single node of
// PASSERELLE_TEST_REDIS_URL:
//
//	go test -run '^$' -bench 'BenchmarkClaim' ./internal/store/redis/
func BenchmarkClaim(b *testing.B) {
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := benchStore(b)
			const n = 10000
			benchClaims(b, func(ctx context.Context, now time.Time, limit int) ([]reminder.Claim, error) {
				return s.Claim(ctx, now, limit, time.Hour)
			}, nil, func() { benchSchedule(b, s, n) }, remT0.Add(24*time.Hour), n, batch)
		})
	}
}

// BenchmarkClaimAck measures what a dispatcher does with the store: claim
// 10,000 due entries in batches and ack each (removing it), one Ack call
// per entry.
func BenchmarkClaimAck(b *testing.B) {
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := benchStore(b)
			const n = 10000
			benchClaims(b, func(ctx context.Context, now time.Time, limit int) ([]reminder.Claim, error) {
				return s.Claim(ctx, now, limit, time.Hour)
			}, func(ctx context.Context, c reminder.Claim) error {
				return s.Ack(ctx, c.ID, c.Token, time.Time{})
			}, func() { benchSchedule(b, s, n) }, remT0.Add(24*time.Hour), n, batch)
		})
	}
}

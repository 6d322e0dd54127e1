package bolt

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
	bbolt "go.etcd.io/bbolt"
)

func TestReminderConformance(t *testing.T) {
	storetest.RunReminders(t, storetest.ReminderHarness{
		Open: func(t *testing.T, clk *clock.Fake) reminder.Store { return openTemp(t, clk) },
	})
}

// TestReminderRestart: a claim that was never acked survives a restart and
// is delivered again once its lease expires.
func TestReminderRestart(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	path := filepath.Join(t.TempDir(), "passerelle.db")
	s, err := Open(path, WithKeys(testKeys), WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	due := storetest.Start.Add(24 * time.Hour)
	now := due.Add(time.Hour)
	const id, waiting = "7700000901:doc1", "7700000901:doc2"
	if err := s.Schedule(ctx, id, due); err != nil {
		t.Fatal(err)
	}
	if err := s.Schedule(ctx, waiting, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Claim(ctx, now, 10, time.Minute)
	if err != nil || len(cs) != 1 || cs[0].ID != id {
		t.Fatalf("Claim = %+v, %v; want %q", cs, err, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, WithKeys(testKeys), WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if e, ok, err := s.Get(ctx, id); err != nil || !ok || !e.Leased || !e.Due.Equal(due) {
		t.Fatalf("Get after reopen = %+v, %v, %v; want leased, due %s", e, ok, err, due)
	}
	if cs, err := s.Claim(ctx, now, 10, time.Minute); err != nil || len(cs) != 0 {
		t.Fatalf("Claim after reopen while the lease holds = %+v, %v; want nothing", cs, err)
	}
	clk.Advance(time.Minute)
	cs, err = s.Claim(ctx, now, 10, time.Minute)
	if err != nil || len(cs) != 1 || cs[0].ID != id || cs[0].Attempts != 2 {
		t.Fatalf("Claim after the lease expired = %+v, %v; want %q with Attempts 2", cs, err, id)
	}
	if err := s.Ack(ctx, id, cs[0].Token, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if e, ok, err := s.Get(ctx, waiting); err != nil || !ok || e.Leased {
		t.Fatalf("Get(%q) after reopen = %+v, %v, %v; want present, not leased", waiting, e, ok, err)
	}
}

// TestReminderScan: the reminder buckets show in Scan with the ids as text,
// and the records carry their schema version.
func TestReminderScan(t *testing.T) {
	s := openTemp(t, clock.NewFake(storetest.Start))
	const id = "7700000902:doc1"
	if err := s.Schedule(t.Context(), id, storetest.Start); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err := s.Scan(func(k, v []byte) error {
		key := string(k)
		if !strings.Contains(key, id) {
			return nil
		}
		bucket, _, _ := strings.Cut(key, "/")
		seen[bucket] = true
		if bucket == "rem_entries" && (len(v) == 0 || v[0] != remVersion) {
			t.Errorf("rem_entries record %q lacks the schema version", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !seen["rem_entries"] || !seen["rem_due"] {
		t.Errorf("Scan shows id %q only in buckets %v", id, seen)
	}
}

// benchClaims fills the schedule of a fresh store with n due entries
// before each round (not measured), then claims them in batches of batch,
// acking each claim when ack is set (one transaction per Ack, as the
// dispatcher does), and reports entries per second and the mean time of a
// Claim call. Each Claim and Ack is a bbolt write transaction, synced to
// disk.
func benchClaims(b *testing.B, n, batch int, ack bool) {
	ctx := b.Context()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), WithKeys(testKeys))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	var handled, calls int
	var elapsed, claiming time.Duration
	for b.Loop() {
		b.StopTimer()
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for _, name := range [][]byte{bucketRemEntries, bucketRemDue, bucketRemLease} {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			for i := range n {
				id := []byte(fmt.Sprintf("%d:1", 7700000000+i))
				if err := putRem(tx, id, remRecord{dueMs: now.Add(-time.Duration(i) * time.Second).UnixMilli()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for {
			t0 := time.Now()
			cs, err := s.Claim(ctx, now, batch, time.Hour)
			claiming += time.Since(t0)
			calls++
			if err != nil {
				b.Fatal(err)
			}
			if len(cs) == 0 {
				break
			}
			if ack {
				for _, c := range cs {
					if err := s.Ack(ctx, c.ID, c.Token, time.Time{}); err != nil {
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
// batches (the leases are left to expire).
func BenchmarkClaim(b *testing.B) {
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchClaims(b, 10000, batch, false) })
	}
}

// BenchmarkClaimAck measures what a dispatcher does with the store: claim
// 10,000 due entries in batches and ack each (removing it).
func BenchmarkClaimAck(b *testing.B) {
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchClaims(b, 10000, batch, true) })
	}
}

package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/storetest"
)

// testKeys is the master key of every store the tests open.
var testKeys = seal.Ephemeral()

func openTemp(t *testing.T, clk *clock.Fake) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "passerelle.db"), WithKeys(testKeys), WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open:   func(t *testing.T, clk *clock.Fake) bot.Store { return openTemp(t, clk) },
		Reopen: func(t *testing.T, old bot.Store, clk *clock.Fake) bot.Store { return reopen(t, old.(*Store), clk) },
		Scan:   func(t *testing.T, s bot.Store) []string { return scanAll(t, s.(*Store)) },
	})
}

// reopen closes s and opens its file again, as a restarted process would.
func reopen(t *testing.T, old *Store, clk *clock.Fake) *Store {
	t.Helper()
	path := old.Path()
	if err := old.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s, err := Open(path, WithKeys(testKeys), WithClock(clk.Now))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// scanAll renders every key and value of s, for the privacy checks.
func scanAll(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.Scan(func(k, v []byte) error {
		out = append(out, strconv.Quote(string(k))+" = "+string(v))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	first, err := Open(path, WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	start := time.Now()
	second, err := Open(path, WithKeys(testKeys))
	elapsed := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("err = %v, want it to wrap ErrLocked", err)
	}
	for _, want := range []string{path, "locked"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if elapsed > LockTimeout+5*time.Second {
		t.Errorf("second Open took %s, want about %s", elapsed, LockTimeout)
	}

	// Once the first is closed, the file opens.
	first.Close()
	third, err := Open(path, WithKeys(testKeys))
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	third.Close()
}

func TestOpenBadPath(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), WithKeys(testKeys))
	if err == nil || !strings.Contains(err.Error(), "bolt store") {
		t.Fatalf("err = %v, want a bolt store error", err)
	}
}

// count returns the number of keys in each bucket.
func count(t *testing.T, s *Store) map[string]int {
	t.Helper()
	n := map[string]int{}
	err := s.Scan(func(k, _ []byte) error {
		name, _, _ := strings.Cut(string(k), "/")
		n[name]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPurge(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	s := openTemp(t, clk)

	const sessions, marks = 400, 800 // together more than one purge batch
	for i := range int64(sessions) {
		k := bot.SessionKey{ChatID: -100 - i, UserID: 42}
		if _, err := s.SaveSession(ctx, bot.Session{Key: k, Flow: "f", Expires: clk.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	live := bot.SessionKey{ChatID: 1, UserID: 43}
	if _, err := s.SaveSession(ctx, bot.Session{Key: live, Expires: clk.Now().Add(72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.marks.Store(1) // keep the opportunistic purge out of the way for now
	for i := range int64(marks) {
		if err := s.MarkUpdate(ctx, i, clk.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		s.marks.Store(1)
	}
	if err := s.MarkUpdate(ctx, marks, clk.Now().Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := count(t, s)
	if before["sessions"] != sessions+1 || before["session_exp"] != sessions+1 || before["updates"] != marks+1 || before["update_exp"] != marks+1 {
		t.Fatalf("before purge: %v", before)
	}

	if n, err := s.Purge(ctx); err != nil || n != 0 {
		t.Fatalf("Purge with nothing expired = %d, %v", n, err)
	}
	clk.Advance(25 * time.Hour)
	n, err := s.Purge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != sessions+marks {
		t.Errorf("Purge removed %d, want %d", n, sessions+marks)
	}
	after := count(t, s)
	want := map[string]int{"sessions": 1, "session_exp": 1, "updates": 1, "update_exp": 1}
	for name, w := range want {
		if after[name] != w {
			t.Errorf("after purge %s holds %d keys, want %d", name, after[name], w)
		}
	}
	if _, err := s.Session(ctx, live); err != nil {
		t.Errorf("live session purged: %v", err)
	}
	if seen, err := s.SeenUpdate(ctx, marks); err != nil || !seen {
		t.Errorf("live mark purged: %v %v", seen, err)
	}

	// A rewritten session keeps one index entry, at its new expiry.
	if _, err := s.SaveSession(ctx, bot.Session{Key: live, Version: 1, Expires: clk.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s)["session_exp"]; got != 1 {
		t.Errorf("session_exp holds %d keys after a rewrite, want 1", got)
	}
	clk.Advance(2 * time.Minute)
	if n, err := s.Purge(ctx); err != nil || n != 1 {
		t.Errorf("Purge = %d, %v; want 1", n, err)
	}

	// Cancelled.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Purge(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Purge with a cancelled context: %v", err)
	}
}

func TestOpportunisticPurge(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	s := openTemp(t, clk)
	for i := range int64(100) {
		if err := s.MarkUpdate(ctx, i, clk.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SaveSession(ctx, bot.Session{Key: bot.SessionKey{ChatID: 1, UserID: 1}, Expires: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(48 * time.Hour)
	for i := range int64(purgeEvery) {
		if err := s.MarkUpdate(ctx, 1000+i, clk.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n := count(t, s)
	if n["updates"] != purgeEvery || n["sessions"] != 0 {
		t.Errorf("after %d marks: %v; want only the %d fresh marks", purgeEvery, n, purgeEvery)
	}
}

func TestOpenPurges(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	s := openTemp(t, clk)
	if err := s.MarkUpdate(ctx, 1, clk.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	clk.Advance(25 * time.Hour)
	s, err := Open(path, WithKeys(testKeys), WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(t, s); n["updates"] != 0 || n["update_exp"] != 0 {
		t.Errorf("Open left expired marks: %v", n)
	}
}

func TestSaveSessionNoExpiry(t *testing.T) {
	s := openTemp(t, clock.NewFake(storetest.Start))
	_, err := s.SaveSession(t.Context(), bot.Session{Key: bot.SessionKey{ChatID: 1, UserID: 1}})
	if err == nil {
		t.Fatal("SaveSession without Expires succeeded")
	}
}

func BenchmarkProfileRoundTrip(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), WithKeys(testKeys))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	p := bot.Profile{UserID: 42, ChatID: 42, Lang: "fr", Created: time.Now(), LastSeen: time.Now()}
	for b.Loop() {
		if err := s.PutProfile(ctx, p); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Profile(ctx, 42); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSessionCycle(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), WithKeys(testKeys))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	sess := bot.Session{Key: bot.SessionKey{ChatID: 42, UserID: 42}, Flow: "guide", Step: "q1", Data: map[string]string{"a": "b"}}
	for b.Loop() {
		got, err := s.Session(ctx, sess.Key)
		if err != nil && !errors.Is(err, bot.ErrNotFound) {
			b.Fatal(err)
		}
		sess.Version = got.Version
		sess.Expires = time.Now().Add(time.Hour)
		if _, err := s.SaveSession(ctx, sess); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarkUpdate(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), WithKeys(testKeys))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var id int64
	for b.Loop() {
		id++
		if seen, err := s.SeenUpdate(ctx, id); err != nil || seen {
			b.Fatal(seen, err)
		}
		if err := s.MarkUpdate(ctx, id, time.Now().Add(24*time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPing: the store answers while open (for /readyz), not once closed.
func TestPing(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "ping.db"), WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping of an open store = %v", err)
	}
	s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping of a closed store = nil")
	}
}

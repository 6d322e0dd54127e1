package bolt

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
)

// holdWriteLock takes bbolt's write lock with a transaction of its own,
// so that writes queue behind it, until the returned function is called.
func holdWriteLock(t *testing.T, s *Store) func() {
	t.Helper()
	tx, err := s.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback() }
}

// waitQueued waits (yielding, no sleep) until n writes were handed to the
// group writer since the store opened.
func waitQueued(t *testing.T, s *Store, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.group.queued.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", s.group.queued.Load(), n)
		}
		runtime.Gosched()
	}
}

// TestGroupCommitSharesTransactions: updates saved concurrently share one
// read-write transaction (one pair of fsyncs), and none is acknowledged
// before the transaction holding it is committed; each is then stored.
func TestGroupCommitSharesTransactions(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := openTemp(t, clk)
	ctx := context.Background()
	const n = 32
	for u := int64(1); u <= n; u++ {
		if err := s.PutProfile(ctx, bot.Profile{UserID: u, ChatID: u, Lang: "fr"}); err != nil {
			t.Fatal(err)
		}
	}
	release := holdWriteLock(t, s)
	before, queued := s.Commits(), s.group.queued.Load()
	var acked atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for u := int64(1); u <= n; u++ {
		wg.Go(func() {
			p := bot.Profile{UserID: u, ChatID: u, Lang: "ar"}
			sess := bot.Session{Key: bot.SessionKey{ChatID: u, UserID: u}, Flow: "guide", Expires: clk.Now().Add(time.Hour)}
			_, err := s.SaveState(ctx, bot.StateWrite{Profile: &p, Session: &sess, UpdateID: 1000 + u, Handled: clk.Now().Add(48 * time.Hour)})
			acked.Add(1)
			errs <- err
		})
	}
	// Every write is in the writer's hands (waiting for the lock) or
	// queued behind them.
	waitQueued(t, s, queued+n)
	if got := acked.Load(); got != 0 {
		t.Fatalf("%d updates acknowledged before any commit", got)
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Commits() - before; got > 2 {
		t.Errorf("%d updates took %d commits; want at most 2 (what the writer held, then what queued meanwhile)", n, got)
	}
	s = reopen(t, s, clk)
	for u := int64(1); u <= n; u++ {
		p, err := s.Profile(ctx, u)
		if err != nil || p.Lang != "ar" {
			t.Errorf("profile %d after reopen = %+v, %v", u, p, err)
		}
		if sess, err := s.Session(ctx, bot.SessionKey{ChatID: u, UserID: u}); err != nil || sess.Flow != "guide" {
			t.Errorf("session %d after reopen = %+v, %v", u, sess, err)
		}
		if seen, err := s.SeenUpdate(ctx, 1000+u); err != nil || !seen {
			t.Errorf("update %d not marked after reopen: %v", 1000+u, err)
		}
	}
}

// TestGroupCommitFailuresStayAlone: in a group, a stale session version
// and a write whose context ended fail alone; the other writes of the
// group are committed.
func TestGroupCommitFailuresStayAlone(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := openTemp(t, clk)
	ctx := context.Background()
	exp := clk.Now().Add(time.Hour)
	if _, err := s.SaveSession(ctx, bot.Session{Key: bot.SessionKey{ChatID: 1, UserID: 1}, Flow: "a", Expires: exp}); err != nil {
		t.Fatal(err)
	}
	release := holdWriteLock(t, s)
	gone, cancel := context.WithCancel(ctx)
	results := make(map[string]chan error)
	run := func(name string, f func() error) {
		c := make(chan error, 1)
		results[name] = c
		go func() { c <- f() }()
	}
	q := s.group.queued.Load()
	run("first", func() error { return s.MarkUpdate(ctx, 1, clk.Now().Add(48*time.Hour)) })
	waitQueued(t, s, q+1)
	run("stale", func() error {
		_, err := s.SaveSession(ctx, bot.Session{Key: bot.SessionKey{ChatID: 1, UserID: 1}, Flow: "b", Expires: exp}) // version 0: stale
		return err
	})
	waitQueued(t, s, q+2)
	run("cancelled", func() error { return s.MarkUpdate(gone, 2, clk.Now().Add(48*time.Hour)) })
	waitQueued(t, s, q+3)
	run("good", func() error { return s.MarkUpdate(ctx, 3, clk.Now().Add(48*time.Hour)) })
	waitQueued(t, s, q+4)
	cancel()
	release()
	if err := <-results["first"]; err != nil {
		t.Errorf("first: %v", err)
	}
	if err := <-results["stale"]; !errors.Is(err, bot.ErrConflict) {
		t.Errorf("stale session: %v, want ErrConflict", err)
	}
	if err := <-results["cancelled"]; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	if err := <-results["good"]; err != nil {
		t.Errorf("good: %v", err)
	}
	for id, want := range map[int64]bool{1: true, 2: false, 3: true} {
		if seen, _ := s.SeenUpdate(ctx, id); seen != want {
			t.Errorf("update %d marked = %v, want %v", id, seen, want)
		}
	}
	if sess, _ := s.Session(ctx, bot.SessionKey{ChatID: 1, UserID: 1}); sess.Flow != "a" {
		t.Errorf("session flow = %q after a stale write, want a", sess.Flow)
	}
}

// TestCloseCommitsQueuedWrites: Close waits for the queued writes, which
// are committed, not dropped.
func TestCloseCommitsQueuedWrites(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := openTemp(t, clk)
	ctx := context.Background()
	release := holdWriteLock(t, s)
	q := s.group.queued.Load()
	errs := make(chan error, 4)
	for id := int64(1); id <= 4; id++ {
		go func() { errs <- s.MarkUpdate(ctx, id, clk.Now().Add(48*time.Hour)) }()
	}
	waitQueued(t, s, q+4)
	path := s.Path()
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	release()
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("MarkUpdate: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, WithKeys(testKeys), WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id := int64(1); id <= 4; id++ {
		if seen, _ := s.SeenUpdate(ctx, id); !seen {
			t.Errorf("update %d lost at Close", id)
		}
	}
}

// TestStaleSessionKeepsExpiryIndex: SaveState commits its profile and mark
// when the session is stale; the stored session keeps its expiry index
// entry, so Purge still removes it once expired.
func TestStaleSessionKeepsExpiryIndex(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := openTemp(t, clk)
	ctx := context.Background()
	k := bot.SessionKey{ChatID: 7, UserID: 7}
	if _, err := s.SaveSession(ctx, bot.Session{Key: k, Flow: "a", Expires: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	p := bot.Profile{UserID: 7, ChatID: 7, Lang: "fr"}
	stale := bot.Session{Key: k, Flow: "b", Expires: clk.Now().Add(time.Hour)}
	if _, err := s.SaveState(ctx, bot.StateWrite{Profile: &p, Session: &stale, UpdateID: 70, Handled: clk.Now().Add(48 * time.Hour)}); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("SaveState with a stale session: %v, want ErrConflict", err)
	}
	clk.Advance(2 * time.Hour)
	if _, err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	for _, line := range scanAll(t, s) {
		if len(line) > 10 && line[:10] == `"sessions/` {
			t.Errorf("expired session left after Purge: %s", line)
		}
	}
}

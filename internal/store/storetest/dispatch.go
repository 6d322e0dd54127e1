package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// notifyFunc adapts a function to reminder.Notifier.
type notifyFunc func(ctx context.Context, c reminder.Claim) (time.Time, error)

func (f notifyFunc) Notify(ctx context.Context, c reminder.Claim) (time.Time, error) {
	return f(ctx, c)
}

// testRemDispatcherRestart: a dispatcher stopped in the middle of a batch
// (claims taken, some not sent, none of those acked) loses nothing: once the
// leases expire, a new dispatcher delivers every remaining entry, and the
// entries acked before the stop are not delivered again.
func testRemDispatcherRestart(t *testing.T, e *remEnv) {
	const n, stopAfter = 40, 15
	for i := range n {
		mustSchedule(t, e.s, fmt.Sprintf("restart:%02d", i), day(0))
	}
	var mu sync.Mutex
	first := map[string]int{}
	second := map[string]int{}

	ctx, stop := context.WithCancel(t.Context())
	d1 := reminder.NewDispatcher(e.s, notifyFunc(func(ctx context.Context, c reminder.Claim) (time.Time, error) {
		mu.Lock()
		defer mu.Unlock()
		first[c.ID]++
		if len(first) == stopAfter {
			stop() // the process is told to stop in the middle of the batch
		}
		return time.Time{}, nil
	}), reminder.Config{Clock: e.clk, Batch: n, Lease: shortLease})
	e.clk.Set(day(0))
	if _, err := d1.RunOnce(ctx); err == nil {
		t.Fatal("the first dispatcher finished its batch; the test wants it stopped half-way")
	}
	// Notifications already under way in other workers when the stop
	// comes still complete (and are acked).
	if len(first) < stopAfter || len(first) >= n {
		t.Fatalf("first dispatcher sent %d; want at least %d and fewer than %d before stopping", len(first), stopAfter, n)
	}

	d2 := reminder.NewDispatcher(e.s, notifyFunc(func(ctx context.Context, c reminder.Claim) (time.Time, error) {
		mu.Lock()
		defer mu.Unlock()
		second[c.ID]++
		return time.Time{}, nil
	}), reminder.Config{Clock: e.clk, Batch: n, Lease: shortLease})
	deadline := time.Now().Add(pollFor)
	for len(first)+len(second) < n && time.Now().Before(deadline) {
		time.Sleep(pollEvery)
		e.clk.Advance(pollEvery)
		if _, err := d2.RunOnce(t.Context()); err != nil {
			t.Fatalf("second dispatcher: %v", err)
		}
	}
	for i := range n {
		id := fmt.Sprintf("restart:%02d", i)
		switch {
		case first[id] == 0 && second[id] == 0:
			t.Errorf("%s was never delivered", id)
		case first[id] > 0 && second[id] > 0:
			t.Errorf("%s was acked by the first dispatcher and delivered again", id)
		}
		if _, ok, err := e.s.Get(t.Context(), id); err != nil || ok {
			t.Errorf("after delivery, Get(%s) = present %v, err %v; want removed", id, ok, err)
		}
	}
}

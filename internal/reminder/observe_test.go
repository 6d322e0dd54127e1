package reminder

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
)

// countObserver counts what a Dispatcher tells its Observer.
type countObserver struct {
	mu                               sync.Mutex
	claimed, redelivered             int
	notifiedOK, notifiedBad, ackedOK int
}

func (o *countObserver) Claimed(n, again int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.claimed += n
	o.redelivered += again
}

func (o *countObserver) Notified(ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ok {
		o.notifiedOK++
	} else {
		o.notifiedBad++
	}
}

func (o *countObserver) Acked(ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ok {
		o.ackedOK++
	}
}

// TestObserverCountsClaimsAndRedeliveries: a failed notification is
// claimed again after its lease, and the second claim counts as a
// re-delivery.
func TestObserverCountsClaimsAndRedeliveries(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(start)
	s := newFakeStore(clk)
	schedule(t, s, "u:a", start.Add(-time.Minute))
	schedule(t, s, "u:b", start.Add(-time.Minute))
	rec := &recorder{fn: func(n int, c Claim) (time.Time, error) {
		if c.ID == "u:b" && c.Attempts == 1 {
			return time.Time{}, errors.New("telegram down")
		}
		return time.Time{}, nil
	}}
	o := &countObserver{}
	d := NewDispatcher(s, rec, Config{Clock: clk, Workers: 1, Lease: time.Minute, Observer: o})
	if _, err := d.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute) // u:b's lease expires
	if _, err := d.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if o.claimed != 3 || o.redelivered != 1 || o.notifiedOK != 2 || o.notifiedBad != 1 || o.ackedOK != 2 {
		t.Errorf("observer saw %+v; want 3 claimed, 1 re-delivered, 2 notified, 1 failed, 2 acked", o)
	}
}

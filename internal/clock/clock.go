// Package clock gives the rest of Passerelle its notion of time, so that
// tests can move time forward without sleeping.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock tells the time and waits. Real and Fake implement it; both are safe
// for concurrent use.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock. Its zero value is ready to use.
type Real struct{}

// Now returns the current time.
func (Real) Now() time.Time { return time.Now() }

// After waits for d on the real clock.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Sleep waits for d on c, or until ctx is done. It reports whether the full
// wait elapsed.
func Sleep(ctx context.Context, c Clock, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-c.After(d):
		return true
	}
}

// Timer returns a channel that receives the time once d has passed on c,
// like c.After, and a stop function that releases the wait early: a loop
// that waits on a timer but may leave for another reason (a goroutine that
// stops) calls stop, so that a Fake clock does not count the abandoned
// wait among its Waiters.
func Timer(c Clock, d time.Duration) (<-chan time.Time, func()) {
	switch c := c.(type) {
	case Real:
		t := time.NewTimer(d)
		return t.C, func() { t.Stop() }
	case *Fake:
		return c.timer(d)
	}
	return c.After(d), func() {}
}

// Fake is a manually driven clock for tests. Time moves only through
// Advance or Set; waiters are observable through Waiters and BlockUntil.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	changed chan struct{} // closed and replaced whenever waiters change
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After registers a waiter that fires when the fake time reaches now+d.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := f.now.Add(d)
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, waiter{at: at, ch: ch})
	f.notify()
	return ch
}

// timer is After with a stop function that removes the waiter.
func (f *Fake) timer(d time.Duration) (<-chan time.Time, func()) {
	ch := f.After(d)
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, w := range f.waiters {
			if w.ch == ch {
				f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
				f.notify()
				return
			}
		}
	}
}

// Advance moves the time forward by d and fires every waiter now due.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.set(f.now.Add(d))
	f.mu.Unlock()
}

// Set moves the time to t (forward or backward) and fires due waiters.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.set(t)
	f.mu.Unlock()
}

func (f *Fake) set(t time.Time) {
	f.now = t
	sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].at.Before(f.waiters[j].at) })
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.at.After(t) {
			w.ch <- t
			continue
		}
		kept = append(kept, w)
	}
	f.waiters = kept
	f.notify()
}

func (f *Fake) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Waiters returns how many After calls are still waiting.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// BlockUntil waits until at least n waiters are registered, or ctx is done.
// It reports whether the count was reached.
func (f *Fake) BlockUntil(ctx context.Context, n int) bool {
	for {
		f.mu.Lock()
		count, changed := len(f.waiters), f.changed
		f.mu.Unlock()
		if count >= n {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-changed:
		}
	}
}

package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
)

func TestFakeFiresInOrderOnlyWhenDue(t *testing.T) {
	start := time.Date(2027, 3, 28, 0, 30, 0, 0, time.UTC)
	f := clock.NewFake(start)
	late := f.After(2 * time.Hour)
	soon := f.After(time.Minute)
	if f.Waiters() != 2 {
		t.Fatalf("Waiters = %d; want 2", f.Waiters())
	}
	f.Advance(59 * time.Second)
	select {
	case <-soon:
		t.Fatal("fired before it was due")
	default:
	}
	f.Advance(time.Second)
	if got := <-soon; !got.Equal(start.Add(time.Minute)) {
		t.Errorf("fired at %v", got)
	}
	f.Set(start.Add(3 * time.Hour))
	<-late
	if f.Waiters() != 0 {
		t.Errorf("Waiters = %d after all fired", f.Waiters())
	}
	if !f.Now().Equal(start.Add(3 * time.Hour)) {
		t.Errorf("Now = %v", f.Now())
	}
}

func TestSleepAndBlockUntil(t *testing.T) {
	f := clock.NewFake(time.Unix(0, 0))
	ctx := context.Background()
	done := make(chan bool)
	go func() { done <- clock.Sleep(ctx, f, time.Hour) }()
	if !f.BlockUntil(ctx, 1) {
		t.Fatal("BlockUntil gave up")
	}
	f.Advance(time.Hour)
	if !<-done {
		t.Error("Sleep reported an interrupted wait")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if clock.Sleep(cancelled, f, time.Hour) {
		t.Error("Sleep on a cancelled context reported a full wait")
	}
	if f.BlockUntil(cancelled, 5) {
		t.Error("BlockUntil on a cancelled context reported success")
	}
}

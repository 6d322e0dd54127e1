package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
)

// gate is an UpdateHandler that records the order of updates per chat and
// holds chat A's first update until released.
type gate struct {
	mu      sync.Mutex
	order   map[int64][]int64
	holdFor int64
	held    chan struct{} // closed when the held update started
	release chan struct{}
	once    sync.Once
}

func (g *gate) Handle(ctx context.Context, u bot.Update) error {
	if u.ChatID == g.holdFor {
		first := false
		g.once.Do(func() { first = true })
		if first {
			close(g.held)
			<-g.release
		}
	}
	g.mu.Lock()
	g.order[u.ChatID] = append(g.order[u.ChatID], u.ID)
	g.mu.Unlock()
	return nil
}

func TestDispatcherOrderAndNoHeadOfLineBlocking(t *testing.T) {
	const chatA = 1
	g := &gate{order: map[int64][]int64{}, holdFor: chatA, held: make(chan struct{}), release: make(chan struct{})}
	d := bot.NewDispatcher(g, bot.DispatcherConfig{Workers: 4, PerChat: 100})
	ctx := context.Background()

	var wgA sync.WaitGroup
	submitA := func(id int64) {
		wgA.Add(1)
		if err := d.Submit(ctx, bot.Update{ID: id, ChatID: chatA}, wgA.Done); err != nil {
			t.Fatal(err)
		}
	}
	submitA(1)
	<-g.held
	for i := int64(2); i <= 51; i++ {
		submitA(i)
	}
	// 100 other chats are all answered while A is held.
	var wg sync.WaitGroup
	for c := int64(100); c < 200; c++ {
		wg.Add(1)
		if err := d.Submit(ctx, bot.Update{ID: 1000 + c, ChatID: c}, wg.Done); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	g.mu.Lock()
	others, aDone := 0, len(g.order[chatA])
	for c, ids := range g.order {
		if c != chatA {
			others += len(ids)
		}
	}
	g.mu.Unlock()
	if others != 100 || aDone != 0 {
		t.Fatalf("while A is held: %d other chats handled, %d of A; want 100 and 0", others, aDone)
	}
	close(g.release)
	wgA.Wait()
	g.mu.Lock()
	got := g.order[chatA]
	g.mu.Unlock()
	if len(got) != 51 {
		t.Fatalf("chat A: %d updates handled; want 51", len(got))
	}
	for i, id := range got {
		if id != int64(i+1) {
			t.Fatalf("chat A order = %v; want 1..51 in order", got)
		}
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

type blockAll struct{ release chan struct{} }

func (b blockAll) Handle(ctx context.Context, u bot.Update) error {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil
}

// shedRecorder is a blockAll handler that records what it was told to shed.
type shedRecorder struct {
	blockAll
	mu      sync.Mutex
	shed    []int64
	dropped int
	told    chan struct{} // one per Shed call
}

func (s *shedRecorder) Dropped(u bot.Update) {
	s.mu.Lock()
	s.dropped++
	s.mu.Unlock()
}

func (s *shedRecorder) Shed(ctx context.Context, u bot.Update) {
	s.mu.Lock()
	s.shed = append(s.shed, u.ID)
	s.mu.Unlock()
	s.told <- struct{}{}
}

func TestDispatcherShedsAFullChatsNewestUpdate(t *testing.T) {
	h := &shedRecorder{blockAll: blockAll{release: make(chan struct{})}, told: make(chan struct{}, 10)}
	d := bot.NewDispatcher(h, bot.DispatcherConfig{Workers: 1, PerChat: 2, MaxQueue: 10})
	ctx := context.Background()
	var handled sync.WaitGroup
	for i := range 2 {
		handled.Add(1)
		if err := d.Submit(ctx, bot.Update{ID: int64(i), ChatID: 1}, handled.Done); err != nil {
			t.Fatal(err)
		}
	}
	// The chat's queue is full: a burst of newer updates is shed at once
	// (acknowledged, Submit never waits), and the handler is told once.
	for id := int64(7); id < 10; id++ {
		doneCalled := false
		if err := d.Submit(ctx, bot.Update{ID: id, ChatID: 1}, func() { doneCalled = true }); err != nil || !doneCalled {
			t.Errorf("Submit %d on a full chat queue = %v (done called: %v); want nil and done at once", id, err, doneCalled)
		}
	}
	<-h.told
	// Another chat still has room.
	if err := d.Submit(ctx, bot.Update{ID: 10, ChatID: 2}, nil); err != nil {
		t.Errorf("other chat refused: %v", err)
	}
	close(h.release)
	handled.Wait()
	// The queue emptied: the next burst is told again.
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	got := h.shed
	h.mu.Unlock()
	if len(got) != 1 || got[0] != 7 {
		t.Errorf("told about %v; want [7], the first update shed, once", got)
	}
	h.mu.Lock()
	dropped := h.dropped
	h.mu.Unlock()
	if dropped != 3 {
		t.Errorf("%d updates counted as dropped; want 3", dropped)
	}
	if err := d.Submit(ctx, bot.Update{ID: 11, ChatID: 3}, nil); !errors.Is(err, bot.ErrClosed) {
		t.Errorf("Submit after Close = %v; want ErrClosed", err)
	}
}

func TestDispatcherShedsOncePerBurst(t *testing.T) {
	h := &shedRecorder{blockAll: blockAll{release: make(chan struct{})}, told: make(chan struct{}, 10)}
	d := bot.NewDispatcher(h, bot.DispatcherConfig{Workers: 1, PerChat: 1})
	ctx := context.Background()
	for burst := range 2 {
		release := make(chan struct{})
		h.release = release
		var handled sync.WaitGroup
		handled.Add(1)
		if err := d.Submit(ctx, bot.Update{ID: int64(burst * 10), ChatID: 1}, handled.Done); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			if err := d.Submit(ctx, bot.Update{ID: int64(burst*10 + i), ChatID: 1}, nil); err != nil {
				t.Fatal(err)
			}
		}
		<-h.told
		close(release)
		handled.Wait()
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.shed) != 2 || h.shed[0] != 1 || h.shed[1] != 11 {
		t.Errorf("told about %v; want [1 11]: once per burst", h.shed)
	}
}

func TestDispatcherBlocksOnlyWhenEverythingIsFull(t *testing.T) {
	h := blockAll{release: make(chan struct{})}
	d := bot.NewDispatcher(h, bot.DispatcherConfig{Workers: 1, PerChat: 5, MaxQueue: 2})
	ctx := context.Background()
	for i := range 2 {
		if err := d.Submit(ctx, bot.Update{ID: int64(i), ChatID: int64(i + 1)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	full, cancel := context.WithCancel(ctx)
	cancel()
	doneCalled := false
	err := d.Submit(full, bot.Update{ID: 9, ChatID: 3}, func() { doneCalled = true })
	if !errors.Is(err, context.Canceled) || !doneCalled {
		t.Errorf("Submit with the whole queue full = %v (done called: %v); want context.Canceled and done", err, doneCalled)
	}
	close(h.release)
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDispatcherCloseGivesUpAtDeadline(t *testing.T) {
	h := blockAll{release: make(chan struct{})}
	d := bot.NewDispatcher(h, bot.DispatcherConfig{Workers: 1})
	handled := make(chan struct{}, 2)
	for i := range 2 {
		if err := d.Submit(context.Background(), bot.Update{ID: int64(i), ChatID: 1}, func() { handled <- struct{}{} }); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if err := d.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v; want DeadlineExceeded", err)
	}
	// The update being handled finished (its context was cancelled); the
	// queued one was dropped without acknowledging it.
	if n := len(handled); n != 1 {
		t.Errorf("%d updates acknowledged; want 1", n)
	}
}

// downFor fails every update of one chat while down is set, as the store
// would, and records the updates handled.
type downFor struct {
	chat   int64
	busy   bool // fail as an update another instance holds, not as a store down
	broken bool // fail for another reason (a bug)
	down   atomic.Bool
	mu     sync.Mutex
	done   []int64
	told   []int64 // chats told that the store is unavailable
}

func (h *downFor) Handle(ctx context.Context, u bot.Update) error {
	if u.ChatID == h.chat && h.down.Load() {
		switch {
		case h.busy:
			return fmt.Errorf("claim: %w", bot.ErrBusy)
		case h.broken:
			return errors.New("save state: value too large")
		}
		return fmt.Errorf("load state: %w", bot.ErrUnavailable)
	}
	h.mu.Lock()
	h.done = append(h.done, u.ID)
	h.mu.Unlock()
	return nil
}

func (h *downFor) NotifyUnavailable(ctx context.Context, u bot.Update) {
	h.mu.Lock()
	h.told = append(h.told, u.ChatID)
	h.mu.Unlock()
}

func (h *downFor) snapshot() (done, told []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.done), slices.Clone(h.told)
}

// TestDispatcherFailingChatHoldsNoWorker: a chat whose update keeps failing
// waits for its next try without holding a worker (main slept in the
// worker, so with one worker every other chat waited behind it, then the
// update was dropped). The failing update is not acknowledged until it is
// handled, keeps its chat's order, and the chat is told once.
func TestDispatcherFailingChatHoldsNoWorker(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	h := &downFor{chat: 1}
	h.down.Store(true)
	d := bot.NewDispatcher(h, bot.DispatcherConfig{Workers: 1, Clock: clk})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		d.Close(ctx)
	}()
	acked := make(chan int64, 10)
	submit := func(id, chat int64) {
		if err := d.Submit(context.Background(), bot.Update{ID: id, ChatID: chat}, func() { acked <- id }); err != nil {
			t.Fatal(err)
		}
	}
	submit(1, 1)
	submit(2, 1) // behind 1 in its chat
	submit(3, 2) // another chat
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case got := <-acked:
		if got != 3 {
			t.Fatalf("acknowledged %d first; want the other chat's 3", got)
		}
	case <-ctx.Done():
		t.Fatal("the other chat's update waits behind the failing chat: the failing chat holds the worker")
	}
	// Thirty seconds of outage, one retry timer at a time.
	for range 30 {
		if !clk.BlockUntil(ctx, 1) {
			t.Fatal("no retry waiting")
		}
		clk.Advance(time.Second)
	}
	select {
	case id := <-acked:
		t.Fatalf("update %d acknowledged while its chat's store was down", id)
	default:
	}
	h.down.Store(false)
	back := clk.Now()
	for _, want := range []int64{1, 2} {
		for got := int64(0); got == 0; {
			select {
			case got = <-acked:
				if got != want {
					t.Fatalf("acknowledged %d; want %d (chat order)", got, want)
				}
			case <-ctx.Done():
				t.Fatalf("update %d not handled after the store's return", want)
			case <-time.After(time.Millisecond):
				if clk.Waiters() > 0 {
					clk.Advance(100 * time.Millisecond)
				}
			}
		}
	}
	if waited := clk.Now().Sub(back); waited > 2*time.Second {
		t.Errorf("handled %s after the store's return; want within the 2 s retry cap", waited)
	}
	done, told := h.snapshot()
	if !slices.Equal(done, []int64{3, 1, 2}) || !slices.Equal(told, []int64{1}) {
		t.Errorf("handled %v, told %v; want [3 1 2] and chat 1 told once", done, told)
	}
}

// TestDispatcherSameUpdateQueuedOnce: an update delivered again while its
// first copy still waits (Telegram retries a webhook call that timed out
// during a store outage) takes no second place in its chat's queue, so
// retries cannot fill it; both deliveries are acknowledged when it is
// handled, once.
func TestDispatcherSameUpdateQueuedOnce(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	h := &downFor{chat: 1}
	h.down.Store(true)
	d := bot.NewDispatcher(h, bot.DispatcherConfig{Workers: 1, PerChat: 2, Clock: clk})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		d.Close(ctx)
	}()
	acked := make(chan int64, 20)
	for range 5 { // the first delivery and four retries of update 7
		if err := d.Submit(context.Background(), bot.Update{ID: 7, ChatID: 1}, func() { acked <- 7 }); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Submit(context.Background(), bot.Update{ID: 8, ChatID: 1}, func() { acked <- 8 }); err != nil {
		t.Fatal(err)
	}
	if n := d.Queued(); n != 2 {
		t.Fatalf("%d queued; want 2 (update 7 once, then 8)", n)
	}
	h.down.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []int64
	for len(got) < 6 {
		select {
		case id := <-acked:
			got = append(got, id)
		case <-ctx.Done():
			t.Fatalf("acknowledged %v; want update 7 five times, then 8", got)
		case <-time.After(time.Millisecond):
			if clk.Waiters() > 0 {
				clk.Advance(100 * time.Millisecond)
			}
		}
	}
	if !slices.Equal(got, []int64{7, 7, 7, 7, 7, 8}) {
		t.Errorf("acknowledged %v; want 7 ×5 then 8", got)
	}
	if done, _ := h.snapshot(); !slices.Equal(done, []int64{7, 8}) {
		t.Errorf("handled %v; want 7 once, then 8", done)
	}
}

// TestDispatcherBusyUpdateNotToldUnavailable: an update that fails because
// another instance is handling it is tried again like the others, but the
// user is not told that the service is unavailable: it is not.
func TestDispatcherBusyUpdateNotToldUnavailable(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	h := &downFor{chat: 1, busy: true}
	h.down.Store(true)
	d := bot.NewDispatcher(h, bot.DispatcherConfig{Workers: 1, Clock: clk})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		d.Close(ctx)
	}()
	acked := make(chan struct{})
	if err := d.Submit(context.Background(), bot.Update{ID: 1, ChatID: 1}, func() { close(acked) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 10 {
		if !clk.BlockUntil(ctx, 1) {
			t.Fatal("no retry waiting")
		}
		clk.Advance(time.Second)
	}
	select {
	case <-acked:
		t.Fatal("acknowledged while another instance held it: if that one died, the update would be lost")
	default:
	}
	h.down.Store(false)
	for done := false; !done; {
		select {
		case <-acked:
			done = true
		case <-ctx.Done():
			t.Fatal("not handled")
		case <-time.After(time.Millisecond):
			if clk.Waiters() > 0 {
				clk.Advance(100 * time.Millisecond)
			}
		}
	}
	if _, told := h.snapshot(); len(told) != 0 {
		t.Errorf("told %v that the service is unavailable; want nobody", told)
	}
}

// TestDispatcherGivesUpOnOtherErrors: an update that fails for another
// reason than an unreachable store or another instance's claim (a bug) is
// tried Retries more times, then given up and acknowledged, so that its
// chat goes on; nobody is told the service is unavailable.
func TestDispatcherGivesUpOnOtherErrors(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	h := &downFor{chat: 1, broken: true}
	h.down.Store(true)
	d := bot.NewDispatcher(h, bot.DispatcherConfig{Workers: 1, Clock: clk})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		d.Close(ctx)
	}()
	acked := make(chan int64, 2)
	for _, id := range []int64{1, 2} {
		if err := d.Submit(context.Background(), bot.Update{ID: id, ChatID: 1}, func() { acked <- id }); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []int64
	for len(got) < 2 {
		select {
		case id := <-acked:
			got = append(got, id)
			h.down.Store(false) // the next one goes through
		case <-ctx.Done():
			t.Fatalf("acknowledged %v; want 1 given up, then 2", got)
		case <-time.After(time.Millisecond):
			if clk.Waiters() > 0 {
				clk.Advance(100 * time.Millisecond)
			}
		}
	}
	done, told := h.snapshot()
	if !slices.Equal(got, []int64{1, 2}) || !slices.Equal(done, []int64{2}) || len(told) != 0 {
		t.Errorf("acknowledged %v, handled %v, told %v; want 1 given up, 2 handled, nobody told", got, done, told)
	}
}

// TestDispatcherCopyDeliveredWhileFinishing: a copy of an update delivered
// while the first one is being acknowledged (a webhook retry arriving just
// as the handler finished) is acknowledged too, not joined to an
// acknowledgement already under way (it answered 503 after 25 s).
func TestDispatcherCopyDeliveredWhileFinishing(t *testing.T) {
	h := &counting{}
	d := bot.NewDispatcher(h, bot.DispatcherConfig{Workers: 1})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		d.Close(ctx)
	}()
	second := make(chan struct{})
	first := func() {
		if err := d.Submit(context.Background(), bot.Update{ID: 9, ChatID: 1}, func() { close(second) }); err != nil {
			t.Error(err)
		}
	}
	if err := d.Submit(context.Background(), bot.Update{ID: 9, ChatID: 1}, first); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second:
	case <-time.After(5 * time.Second):
		t.Fatal("the copy delivered while the first was being acknowledged was never acknowledged")
	}
	if n := h.n.Load(); n != 2 {
		t.Errorf("handled %d times; want 2 (the core finds the second already handled)", n)
	}
}

// counting handles every update at once, counting them.
type counting struct{ n atomic.Int32 }

func (c *counting) Handle(ctx context.Context, u bot.Update) error {
	c.n.Add(1)
	return nil
}

package telegram

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

const guard = 10 * time.Second

func newFake() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

// waitQueued waits until n sends wait in l.
func waitQueued(tb testing.TB, l *limiter, n int) {
	tb.Helper()
	deadline := time.After(guard)
	for {
		got, changed := l.queued()
		if got == n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("limiter queue = %d; want %d", got, n)
		}
	}
}

func waitClock(tb testing.TB, clk *clock.Fake, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if !clk.BlockUntil(ctx, n) {
		tb.Fatalf("clock waiters = %d; want %d", clk.Waiters(), n)
	}
}

// goAcquire runs acquire in a goroutine; the channel yields its error.
func goAcquire(l *limiter, chat int64, lane bot.Lane) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := l.acquire(context.Background(), chat, lane)
		ch <- err
	}()
	return ch
}

func recv(tb testing.TB, ch <-chan error) {
	tb.Helper()
	select {
	case err := <-ch:
		if err != nil {
			tb.Fatalf("acquire: %v", err)
		}
	case <-time.After(guard):
		tb.Fatal("acquire did not return")
	}
}

func pending(ch <-chan error) bool {
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

func TestLimiterChatBurstThenInterval(t *testing.T) {
	clk := newFake()
	l := newLimiter(clk, -1, time.Second, 3, 20)
	for i := 0; i < 3; i++ {
		if _, err := l.acquire(context.Background(), 7, bot.LaneInteractive); err != nil {
			t.Fatal(err)
		}
	}
	fourth := goAcquire(l, 7, bot.LaneInteractive)
	other := goAcquire(l, 8, bot.LaneBulk) // another chat is not held up
	recv(t, other)
	waitQueued(t, l, 1)
	waitClock(t, clk, 1)
	if !pending(fourth) {
		t.Fatal("4th message to one chat admitted within the burst")
	}
	clk.Advance(time.Second)
	recv(t, fourth)
}

func TestLimiterGroupPerMinute(t *testing.T) {
	clk := newFake()
	l := newLimiter(clk, -1, -1, 3, 2)
	const group = -100
	for i := 0; i < 2; i++ {
		done, err := l.acquire(context.Background(), group, bot.LaneBulk)
		if err != nil {
			t.Fatal(err)
		}
		done() // answered at once
	}
	third := goAcquire(l, group, bot.LaneBulk)
	waitQueued(t, l, 1)
	waitClock(t, clk, 1)
	clk.Advance(59 * time.Second)
	waitClock(t, clk, 1)
	if !pending(third) {
		t.Fatal("3rd group message admitted within the minute")
	}
	clk.Advance(time.Second)
	recv(t, third)
}

func TestLimiterPauseBlocksEveryChat(t *testing.T) {
	clk := newFake()
	l := newLimiter(clk, -1, -1, 3, -1)
	l.pauseFor(5 * time.Second)
	a := goAcquire(l, 1, bot.LaneInteractive)
	b := goAcquire(l, 2, bot.LaneBulk)
	waitQueued(t, l, 2)
	waitClock(t, clk, 1)
	if !pending(a) || !pending(b) {
		t.Fatal("admitted during a 429 pause")
	}
	clk.Advance(5 * time.Second)
	recv(t, a)
	recv(t, b)
}

func TestLimiterCancel(t *testing.T) {
	clk := newFake()
	l := newLimiter(clk, 1, -1, 3, -1)
	if _, err := l.acquire(context.Background(), 1, bot.LaneBulk); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() {
		_, err := l.acquire(ctx, 2, bot.LaneBulk)
		ch <- err
	}()
	waitQueued(t, l, 1)
	cancel()
	select {
	case err := <-ch:
		if err != context.Canceled {
			t.Fatalf("acquire after cancel = %v", err)
		}
	case <-time.After(guard):
		t.Fatal("acquire did not return after cancel")
	}
	waitQueued(t, l, 0)
}

// TestSenderLanes: with a slow global rate and bulk sends queued, an
// interactive send queued later goes out before the remaining bulk ones.
func TestSenderLanes(t *testing.T) {
	s := telegramtest.NewServer(t)
	clk := newFake()
	c, err := New(context.Background(), Config{
		Token: s.Token(), APIURL: s.APIURL(), Clock: clk,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		SendRate: 1, ChatInterval: -1, GroupPerMinute: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 5; id++ {
		s.AddUser(telegramtest.User{ID: id})
	}
	snd := c.Sender()
	results := make(chan error, 5)
	send := func(chat int64, lane bot.Lane) {
		go func() {
			_, err := snd.Send(context.Background(), bot.Reply{ChatID: chat, Text: "m", Lane: lane})
			results <- err
		}()
	}
	for id := int64(1); id <= 4; id++ {
		send(id, bot.LaneBulk)
	}
	s.WaitCalls(t, "sendMessage", 1, guard) // one bulk send had the token
	waitQueued(t, c.gate, 3)
	send(5, bot.LaneInteractive)
	waitQueued(t, c.gate, 4)

	for n := 2; n <= 5; n++ {
		waitClock(t, clk, 1)
		clk.Advance(time.Second)
		s.WaitCalls(t, "sendMessage", n, guard)
	}
	var order []string
	for _, call := range s.Calls("sendMessage") {
		order = append(order, call.Params["chat_id"])
	}
	if order[1] != strconv.Itoa(5) {
		t.Errorf("send order by chat = %v; want the interactive chat 5 second", order)
	}
	for i := 0; i < 5; i++ {
		if err := <-results; err != nil {
			t.Errorf("Send: %v", err)
		}
	}
}

// TestLimiterGlobalWindow: at 3/s, three messages go at once and the
// fourth only once the first has been in the window for a second, never
// four in one second (a GCRA with a second's burst lets it go after 1/3 s).
func TestLimiterGlobalWindow(t *testing.T) {
	clk := newFake()
	l := newLimiter(clk, 3, -1, 3, -1)
	for chat := int64(1); chat <= 3; chat++ {
		// Interactive: bulk sends are also spaced (TestLimiterSpacesBulk).
		done, err := l.acquire(context.Background(), chat, bot.LaneInteractive)
		if err != nil {
			t.Fatal(err)
		}
		done()
	}
	fourth := goAcquire(l, 4, bot.LaneBulk)
	waitQueued(t, l, 1)
	waitClock(t, clk, 1)
	clk.Advance(999 * time.Millisecond)
	waitClock(t, clk, 1)
	if !pending(fourth) {
		t.Fatal("4th message admitted within one second at 3/s")
	}
	clk.Advance(time.Millisecond)
	recv(t, fourth)
}

// TestLimiterCountsFromAnswer: a message counts in the global window for as
// long as its request is in flight, then from its answer, not from its
// admission.
func TestLimiterCountsFromAnswer(t *testing.T) {
	clk := newFake()
	l := newLimiter(clk, 1, -1, 3, -1)
	done, err := l.acquire(context.Background(), 1, bot.LaneBulk)
	if err != nil {
		t.Fatal(err)
	}
	next := goAcquire(l, 2, bot.LaneBulk)
	waitQueued(t, l, 1)
	clk.Advance(1500 * time.Millisecond) // the first request is still in flight
	if !pending(next) {
		t.Fatal("admitted while the previous request was in flight")
	}
	done() // answered 1.5 s after its admission: the scheduler sets a timer
	waitClock(t, clk, 1)
	clk.Advance(999 * time.Millisecond)
	waitClock(t, clk, 1)
	if !pending(next) {
		t.Fatal("admitted less than a second after the previous answer")
	}
	clk.Advance(time.Millisecond)
	recv(t, next)
}

// TestLimiterSpacesBulk: bulk sends are admitted one per interval of the
// global rate (1/3 s at 3/s; the burst is a tenth of the window, here
// one), not a window's worth at once, so that an
// interactive send arriving during a broadcast finds a slot within an
// interval instead of waiting for a whole window to age.
func TestLimiterSpacesBulk(t *testing.T) {
	clk := newFake()
	l := newLimiter(clk, 3, -1, 3, -1)
	done, err := l.acquire(context.Background(), 1, bot.LaneBulk)
	if err != nil {
		t.Fatal(err)
	}
	done()
	second := goAcquire(l, 2, bot.LaneBulk)
	waitQueued(t, l, 1)
	waitClock(t, clk, 1)
	clk.Advance(333 * time.Millisecond)
	waitClock(t, clk, 1)
	if !pending(second) {
		t.Fatal("a second bulk send admitted less than 1/3 s after the first at 3/s")
	}
	clk.Advance(time.Millisecond)
	recv(t, second)
	// An interactive send is not spaced: it takes the window's free slot.
	if _, err := l.acquire(context.Background(), 3, bot.LaneInteractive); err != nil {
		t.Fatal(err)
	}
}

// TestLimiterBulkCatchesUp: at 30/s, three bulk sends may go back to back
// (a scheduler that woke late catches up), not more.
func TestLimiterBulkCatchesUp(t *testing.T) {
	clk := newFake()
	l := newLimiter(clk, 30, -1, 3, -1)
	for chat := int64(1); chat <= 3; chat++ {
		done, err := l.acquire(context.Background(), chat, bot.LaneBulk)
		if err != nil {
			t.Fatal(err)
		}
		done()
	}
	fourth := goAcquire(l, 4, bot.LaneBulk)
	waitQueued(t, l, 1)
	waitClock(t, clk, 1)
	if !pending(fourth) {
		t.Fatal("a 4th bulk send went back to back at 30/s")
	}
	clk.Advance(time.Second / 30)
	recv(t, fourth)
}

package telegram

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
)

// limiter admits outgoing messages within Telegram's limits:
//
//   - a global rate shared by every send (GCRA: rate per second, burst of
//     one second's worth);
//   - per chat, one message per interval after a small burst (GCRA);
//   - per group (negative chat id), at most n messages in any minute
//     (sliding log of the last n send times);
//   - a bot-wide pause after a 429, during which nothing is admitted.
//
// Waiting sends form one queue. Whenever the global rate has a slot, the
// oldest waiting LaneInteractive send whose chat is ready goes first, then
// the oldest ready LaneBulk send: a send whose chat is not ready never holds
// up other chats. Admission runs in whichever goroutine changes the state
// (a caller arriving, or a scheduler goroutine that exists only while the
// queue is not empty and sleeps on the clock until the next send is due).
type limiter struct {
	clk clock.Clock

	globalT     time.Duration // emission interval of the global rate; 0: none
	globalBurst int
	chatT       time.Duration // 0: no per-chat limit
	chatBurst   int
	groupN      int // 0: no group limit

	mu          sync.Mutex
	globalTAT   time.Time             // GCRA theoretical arrival time
	chats       map[int64]time.Time   // GCRA TAT per chat
	groups      map[int64][]time.Time // last groupN admission times per group
	pausedUntil time.Time
	queue       []*ticket
	seq         uint64
	running     bool          // a scheduler goroutine is alive
	kick        chan struct{} // wakes the scheduler (buffered 1)
	changed     chan struct{} // closed and replaced when the queue changes (tests)
}

type ticket struct {
	chat     int64
	lane     bot.Lane
	seq      uint64
	ready    chan struct{}
	admitted bool
}

// newLimiter returns a limiter; a rate, interval or group count <= 0 turns
// that limit off.
func newLimiter(clk clock.Clock, rate float64, chatInterval time.Duration, chatBurst, groupPerMinute int) *limiter {
	var t time.Duration
	if rate > 0 {
		t = max(1, time.Duration(float64(time.Second)/rate))
	}
	burst := int(math.Max(1, math.Floor(rate)))
	return &limiter{
		clk:         clk,
		globalT:     t,
		globalBurst: burst,
		chatT:       max(0, chatInterval),
		chatBurst:   max(1, chatBurst),
		groupN:      max(0, groupPerMinute),
		chats:       make(map[int64]time.Time),
		groups:      make(map[int64][]time.Time),
		kick:        make(chan struct{}, 1),
		changed:     make(chan struct{}),
	}
}

// acquire waits until a message to chat may be sent, or ctx is done.
func (l *limiter) acquire(ctx context.Context, chat int64, lane bot.Lane) error {
	l.mu.Lock()
	l.seq++
	t := &ticket{chat: chat, lane: lane, seq: l.seq, ready: make(chan struct{})}
	l.queue = append(l.queue, t)
	l.admitLocked(l.clk.Now())
	if t.admitted {
		l.notifyLocked()
		l.mu.Unlock()
		return nil
	}
	if !l.running {
		l.running = true
		go l.run()
	}
	l.notifyLocked()
	l.mu.Unlock()
	l.wake()

	select {
	case <-t.ready:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.admitted { // admitted while we were giving up: the slot is spent
		return ctx.Err()
	}
	l.removeLocked(t)
	l.notifyLocked()
	l.wake()
	return ctx.Err()
}

func (l *limiter) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *limiter) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *limiter) removeLocked(t *ticket) {
	for i, q := range l.queue {
		if q == t {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			return
		}
	}
}

// run admits queued sends as they become due, then exits when the queue is
// empty. Only one runs at a time. It keeps a single clock timer and replaces
// it only when an earlier wake-up is needed.
func (l *limiter) run() {
	var timer <-chan time.Time
	var timerAt time.Time
	for {
		l.mu.Lock()
		now := l.clk.Now()
		n := len(l.queue)
		next := l.admitLocked(now)
		if len(l.queue) != n {
			l.notifyLocked()
		}
		if len(l.queue) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		if timer == nil || next.Before(timerAt) {
			timer, timerAt = l.clk.After(next.Sub(now)), next
		}
		select {
		case <-timer:
			timer = nil
		case <-l.kick:
		}
	}
}

// admitLocked admits every queued send that may go at now and returns when
// the next one may be due (zero if the queue is empty).
func (l *limiter) admitLocked(now time.Time) time.Time {
	for {
		if len(l.queue) == 0 {
			return time.Time{}
		}
		if now.Before(l.pausedUntil) {
			return l.pausedUntil
		}
		var best *ticket
		var bestIdx int
		earliest := time.Time{}
		for i, t := range l.queue {
			r := l.chatReadyLocked(t.chat, now)
			if r.After(now) {
				if earliest.IsZero() || r.Before(earliest) {
					earliest = r
				}
				continue
			}
			if best == nil || t.lane < best.lane || (t.lane == best.lane && t.seq < best.seq) {
				best, bestIdx = t, i
			}
		}
		if best == nil {
			return earliest
		}
		if g := l.globalReadyLocked(now); g.After(now) {
			return g
		}
		l.takeLocked(best.chat, now)
		l.queue = append(l.queue[:bestIdx], l.queue[bestIdx+1:]...)
		best.admitted = true
		close(best.ready)
	}
}

// gcraReady is when a GCRA with theoretical arrival time tat, interval t and
// burst b next admits.
func gcraReady(tat time.Time, t time.Duration, b int) time.Time {
	return tat.Add(-time.Duration(b-1) * t)
}

func (l *limiter) globalReadyLocked(now time.Time) time.Time {
	if l.globalT == 0 {
		return now
	}
	r := gcraReady(l.globalTAT, l.globalT, l.globalBurst)
	if r.Before(now) {
		return now
	}
	return r
}

func (l *limiter) chatReadyLocked(chat int64, now time.Time) time.Time {
	r := now
	if tat, ok := l.chats[chat]; ok && l.chatT > 0 {
		if c := gcraReady(tat, l.chatT, l.chatBurst); c.After(r) {
			r = c
		}
	}
	if chat < 0 && l.groupN > 0 {
		if log := l.groups[chat]; len(log) >= l.groupN {
			if g := log[len(log)-l.groupN].Add(time.Minute); g.After(r) {
				r = g
			}
		}
	}
	return r
}

// takeLocked records one admission for chat at now.
func (l *limiter) takeLocked(chat int64, now time.Time) {
	if l.globalT > 0 {
		l.globalTAT = laterOf(l.globalTAT, now).Add(l.globalT)
	}
	if l.chatT > 0 {
		l.chats[chat] = laterOf(l.chats[chat], now).Add(l.chatT)
	}
	if chat < 0 && l.groupN > 0 {
		log := append(l.groups[chat], now)
		if len(log) > l.groupN {
			log = append(log[:0], log[len(log)-l.groupN:]...)
		}
		l.groups[chat] = log
	}
	if len(l.chats) > 4096 {
		l.pruneLocked(now)
	}
}

// pruneLocked forgets chats whose limits are back to a full burst.
func (l *limiter) pruneLocked(now time.Time) {
	for id, tat := range l.chats {
		if !tat.After(now) {
			delete(l.chats, id)
		}
	}
	for id, log := range l.groups {
		if len(log) == 0 || !log[len(log)-1].Add(time.Minute).After(now) {
			delete(l.groups, id)
		}
	}
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// pauseFor stops every admission for d from now (a 429 applies to the whole
// bot). A shorter pause never shortens a longer one.
func (l *limiter) pauseFor(d time.Duration) {
	l.mu.Lock()
	until := l.clk.Now().Add(d)
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	l.mu.Unlock()
	l.wake()
}

// waitPause waits until no 429 pause is in force.
func (l *limiter) waitPause(ctx context.Context) error {
	for {
		l.mu.Lock()
		until := l.pausedUntil
		l.mu.Unlock()
		now := l.clk.Now()
		if !now.Before(until) {
			return ctx.Err()
		}
		if !clock.Sleep(ctx, l.clk, until.Sub(now)) {
			return ctx.Err()
		}
	}
}

// queued returns how many sends wait, and a channel closed at the next
// change of the queue. For tests.
func (l *limiter) queued() (int, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue), l.changed
}

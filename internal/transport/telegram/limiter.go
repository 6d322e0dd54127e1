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
//   - a global rate shared by every send: at most n messages in any window
//     of n/rate seconds, n = max(1, floor(rate)), i.e. at most 30 in any
//     second at 30/s (sliding window);
//   - per chat, one message per interval after a small burst (GCRA);
//   - per group (negative chat id), at most n messages in any minute
//     (sliding window);
//   - a bot-wide pause after a 429, during which nothing is admitted.
//
// The global limit is a sliding window rather than a GCRA with a burst: a
// GCRA that allows a second's worth at once and then one message per
// interval lets through nearly twice the rate in one second (30 at once,
// then 29 more before the second is over), which Telegram answers with 429.
//
// Telegram counts a message when its request arrives, some time after the
// limiter admits it and before the answer comes back, and that time in
// flight varies. In the sliding windows a message therefore counts from its
// admission for as long as its request is in flight, and from the answer on
// (see acquire's done), so that our windows contain Telegram's whatever the
// network did: two messages the limiter spaces by a window cannot reach
// Telegram closer than that. On a fake clock a request takes no time and
// this changes nothing.
//
// Waiting sends form one queue. Whenever the global rate has a slot, the
// oldest waiting LaneInteractive send whose chat is ready goes first, then
// the oldest ready LaneBulk send: a send whose chat is not ready never holds
// up other chats. LaneBulk sends are also paced at the global rate by a
// GCRA with a small burst (bulkBurst: 3 at 30/s): a broadcast fills the
// window a slot or so at a time instead of a second's worth at once, so
// the window never frees a block of slots that a broadcast takes back at
// once, and an interactive send arriving meanwhile waits at most a few
// intervals (1/30 s each) rather than up to a second. Admission runs in whichever goroutine changes the state
// (a caller arriving, or a scheduler goroutine that exists only while the
// queue is not empty and sleeps on the clock until the next send is due, or
// until an answer settles when that time depends on requests in flight).
type limiter struct {
	clk clock.Clock

	globalN    int           // messages per globalSpan; 0: no global limit
	globalSpan time.Duration // window of the global limit
	chatT      time.Duration // 0: no per-chat limit
	chatBurst  int
	groupN     int // 0: no group limit

	mu          sync.Mutex
	global      []*stamp            // messages that may count in the global window
	chats       map[int64]time.Time // GCRA TAT per chat
	groups      map[int64][]*stamp  // messages that may count in each group's minute
	pausedUntil time.Time
	bulkTAT     time.Time // GCRA theoretical arrival time of LaneBulk sends
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
	stamp    *stamp // the admitted message in the sliding windows; nil: none
}

// stamp is one admitted message in the sliding windows (global and group).
// While its request is in flight it counts in every window that begins
// after its admission (at), whatever the time; once settled it counts at
// at, the time of the answer. Logs of stamps are kept ordered by at.
type stamp struct {
	at      time.Time
	settled bool // the request was answered, failed or never made
}

// newLimiter returns a limiter; a rate, interval or group count <= 0 turns
// that limit off.
func newLimiter(clk clock.Clock, rate float64, chatInterval time.Duration, chatBurst, groupPerMinute int) *limiter {
	var n int
	var span time.Duration
	if rate > 0 {
		n = int(math.Max(1, math.Floor(rate)))
		span = max(1, time.Duration(float64(n)/rate*float64(time.Second)))
	}
	return &limiter{
		clk:        clk,
		globalN:    n,
		globalSpan: span,
		chatT:      max(0, chatInterval),
		chatBurst:  max(1, chatBurst),
		groupN:     max(0, groupPerMinute),
		chats:      make(map[int64]time.Time),
		groups:     make(map[int64][]*stamp),
		kick:       make(chan struct{}, 1),
		changed:    make(chan struct{}),
	}
}

// acquire waits until a message to chat may be sent, or ctx is done. Once
// the message's request is answered, or failed, the caller must call done:
// the message then counts in the sliding windows from that moment instead of
// its admission. done is nil when err is not.
func (l *limiter) acquire(ctx context.Context, chat int64, lane bot.Lane) (done func(), err error) {
	l.mu.Lock()
	l.seq++
	t := &ticket{chat: chat, lane: lane, seq: l.seq, ready: make(chan struct{})}
	done = func() { l.settle(t) }
	l.queue = append(l.queue, t)
	l.admitLocked(l.clk.Now())
	if t.admitted {
		l.notifyLocked()
		l.mu.Unlock()
		return done, nil
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
		return done, nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.admitted { // admitted while we were giving up: the slot is spent
		if t.stamp != nil {
			t.stamp.settled = true // no request: it counts from its admission
		}
		return nil, ctx.Err()
	}
	l.removeLocked(t)
	l.notifyLocked()
	l.wake()
	return nil, ctx.Err()
}

// settle places t's message in the sliding windows at now, when its
// request has been answered. Only the first call counts.
func (l *limiter) settle(t *ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := t.stamp
	if s == nil || s.settled {
		return
	}
	s.settled = true
	if now := l.clk.Now(); now.After(s.at) {
		s.at = now
		reorder(l.global, s)
		reorder(l.groups[t.chat], s)
	}
	if len(l.queue) > 0 {
		l.wake() // the time the window frees up may now be known
	}
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
		if !next.IsZero() && (timer == nil || next.Before(timerAt)) {
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
// the next one may be due: zero if the queue is empty, or if every waiting
// send waits for the answer to a request in flight (settle then wakes the
// scheduler).
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
			r, known := l.chatReadyLocked(t.chat, now)
			if !known {
				continue
			}
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
		if best.lane == bot.LaneBulk {
			// Bulk sends are paced at the global rate (a GCRA with a
			// burst of bulkBurst), so that the window frees up a slot or
			// so at a time: an interactive send then waits a few intervals
			// for the next slot, never a whole span behind a block of bulk
			// sends.
			if r := gcraReady(l.bulkTAT, l.bulkGap(), l.bulkBurst()); r.After(now) {
				g, known := l.globalReadyLocked(now)
				if !known {
					return time.Time{} // settle wakes the scheduler
				}
				r = laterOf(r, g)
				if earliest.IsZero() || r.Before(earliest) {
					earliest = r
				}
				return earliest
			}
		}
		if g, known := l.globalReadyLocked(now); !known {
			return time.Time{}
		} else if g.After(now) {
			return g
		}
		if best.lane == bot.LaneBulk {
			l.bulkTAT = laterOf(l.bulkTAT, now).Add(l.bulkGap())
		}
		best.stamp = l.takeLocked(best.chat, now)
		l.queue = append(l.queue[:bestIdx], l.queue[bestIdx+1:]...)
		best.admitted = true
		close(best.ready)
	}
}

// bulkGap is the interval of LaneBulk admissions: the global rate's (0
// without a global limit).
func (l *limiter) bulkGap() time.Duration {
	if l.globalN == 0 {
		return 0
	}
	return l.globalSpan / time.Duration(l.globalN)
}

// bulkBurst is how many LaneBulk sends may go back to back to catch up
// after a late wake-up (a loaded machine): a tenth of the window, so that
// an interactive send still finds a slot within a few intervals.
func (l *limiter) bulkBurst() int { return max(1, l.globalN/10) }

// gcraReady is when a GCRA with theoretical arrival time tat, interval t and
// burst b next admits.
func gcraReady(tat time.Time, t time.Duration, b int) time.Time {
	return tat.Add(-time.Duration(b-1) * t)
}

// globalReadyLocked is when the global limit next admits; known is false
// while that depends on requests in flight.
func (l *limiter) globalReadyLocked(now time.Time) (at time.Time, known bool) {
	if l.globalN == 0 {
		return now, true
	}
	l.global = pruneStamps(l.global, now.Add(-l.globalSpan))
	return windowReady(l.global, l.globalN, l.globalSpan, now)
}

// windowReady is when a sliding window holding log (ordered by at, pruned
// for now) may take one more message, for at most n messages in any span:
// now, or when enough settled messages have left the window. known is false
// if that takes more messages than have settled: the time then depends on
// answers still to come.
func windowReady(log []*stamp, n int, span time.Duration, now time.Time) (at time.Time, known bool) {
	excess := len(log) - n + 1 // messages that must leave first
	if excess <= 0 {
		return now, true
	}
	for _, s := range log {
		if !s.settled {
			continue
		}
		if excess--; excess == 0 {
			return laterOf(s.at.Add(span), now), true
		}
	}
	return time.Time{}, false
}

// pruneStamps drops from log the settled stamps at or before cut, which
// count in no window beginning after cut. It reuses log's array.
func pruneStamps(log []*stamp, cut time.Time) []*stamp {
	if len(log) == 0 || log[0].at.After(cut) {
		return log // ordered: nothing to drop
	}
	kept := log[:0]
	for _, s := range log {
		if s.at.After(cut) || !s.settled {
			kept = append(kept, s)
		}
	}
	clear(log[len(kept):])
	return kept
}

// reorder moves s, whose at has just grown, to its place in log, which is
// ordered by at. s is usually among the last.
func reorder(log []*stamp, s *stamp) {
	i := len(log) - 1
	for i >= 0 && log[i] != s {
		i--
	}
	if i < 0 {
		return
	}
	for ; i+1 < len(log) && log[i+1].at.Before(s.at); i++ {
		log[i] = log[i+1]
	}
	log[i] = s
}

// chatReadyLocked is when chat's limits next admit; known is false while
// that depends on requests in flight.
func (l *limiter) chatReadyLocked(chat int64, now time.Time) (at time.Time, known bool) {
	r := now
	if tat, ok := l.chats[chat]; ok && l.chatT > 0 {
		if c := gcraReady(tat, l.chatT, l.chatBurst); c.After(r) {
			r = c
		}
	}
	if chat < 0 && l.groupN > 0 {
		l.groups[chat] = pruneStamps(l.groups[chat], now.Add(-time.Minute))
		g, known := windowReady(l.groups[chat], l.groupN, time.Minute, now)
		if !known {
			return time.Time{}, false
		}
		r = laterOf(r, g)
	}
	return r, true
}

// takeLocked records one admission for chat at now and returns its place
// in the sliding windows (nil if there are none for chat).
func (l *limiter) takeLocked(chat int64, now time.Time) *stamp {
	s := &stamp{at: now}
	used := false
	if l.globalN > 0 {
		l.global = append(l.global, s)
		used = true
	}
	if l.chatT > 0 {
		l.chats[chat] = laterOf(l.chats[chat], now).Add(l.chatT)
	}
	if chat < 0 && l.groupN > 0 {
		l.groups[chat] = append(l.groups[chat], s)
		used = true
	}
	if len(l.chats) > 4096 || len(l.groups) > 4096 {
		l.pruneLocked(now)
	}
	if !used {
		return nil
	}
	return s
}

// pruneLocked forgets chats whose limits are back to a full burst.
func (l *limiter) pruneLocked(now time.Time) {
	for id, tat := range l.chats {
		if !tat.After(now) {
			delete(l.chats, id)
		}
	}
	for id, log := range l.groups {
		if log = pruneStamps(log, now.Add(-time.Minute)); len(log) == 0 {
			delete(l.groups, id)
		} else {
			l.groups[id] = log
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

// depth returns how many sends wait, per lane.
func (l *limiter) depth() (interactive, bulk int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.queue {
		if t.lane == bot.LaneBulk {
			bulk++
		} else {
			interactive++
		}
	}
	return interactive, bulk
}

// queued returns how many sends wait, and a channel closed at the next
// change of the queue. For tests.
func (l *limiter) queued() (int, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue), l.changed
}

package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
)

// ErrClosed is returned by Submit once the dispatcher stops taking updates.
var ErrClosed = errors.New("bot: dispatcher closed")

// UpdateHandler handles one update; *Bot is one.
type UpdateHandler interface {
	Handle(ctx context.Context, u Update) error
}

// Shedder is told about the updates the Dispatcher drops because their
// chat's queue is full (*Bot is one: it counts them and asks the sender to
// wait).
type Shedder interface {
	// Dropped is called for every update shed, in Submit: it must be fast.
	Dropped(u Update)
	// Shed runs in its own goroutine, at most once per burst of a chat
	// (from the moment its queue is full until it is empty again), with
	// the first update shed.
	Shed(ctx context.Context, u Update)
}

// DispatcherConfig sizes a Dispatcher. Zero values take the defaults.
type DispatcherConfig struct {
	Workers int // goroutines handling updates; default 16
	// PerChat is how many updates of one chat may wait or be handled at
	// once; default DefaultPerChat. A chat's newer updates are shed while
	// its queue is full.
	PerChat  int
	MaxQueue int // queued updates in all; default 10000
	// RetryMax caps the wait between two attempts at an update whose
	// handling failed for a transient reason (the store unreachable): it
	// is tried again after 100 ms, then twice as long each time up to
	// RetryMax, for as long as it takes, and stays unacknowledged meanwhile
	// (see Submit). The chat's later updates wait behind it; other chats go
	// on. Default 2 s.
	RetryMax time.Duration
	// NoticeAfter: once an update of a chat has been tried for that long
	// (from its first attempt) and has failed because the store is
	// unavailable (ErrUnavailable in the error), the handler is told once
	// (UnavailableNotifier), so that the user learns their message waits;
	// again only after one of the chat's updates was handled. Default 1 s.
	NoticeAfter time.Duration
	// Retries of an update whose handling failed for another reason (a
	// bug, a full disk: neither ErrUnavailable nor an update another
	// instance holds), after which it is given up, logged
	// (update_failed) and acknowledged, so that one bad update cannot
	// stall its chat for ever; default 4.
	Retries int
	Clock   clock.Clock
	Logger  *slog.Logger
}

// UnavailableNotifier is implemented by an UpdateHandler that can tell the
// sender of an update that it waits for the store to come back (*Bot
// does). The Dispatcher calls it once per chat and outage, outside the
// chat's order and without the store.
type UnavailableNotifier interface {
	NotifyUnavailable(ctx context.Context, u Update)
}

// retryBase is the first wait before an update is tried again.
const retryBase = 100 * time.Millisecond

// DefaultPerChat is the default size of a chat's queue: a resident's burst
// (an album is up to 10 updates) fits, and it stays well below the 100
// updates a poll returns and the 40 webhook connections Telegram opens, so
// that one slow chat never fills either.
const DefaultPerChat = 20

// Dispatcher runs updates through a handler: updates of one chat strictly
// in order, different chats in parallel. A worker that is busy with a slow
// chat never holds up other chats: each chat has its own bounded queue,
// and a chat is given to one worker at a time. When a chat's queue is
// full, its newest update is shed (acknowledged unhandled) rather than
// making the transport wait, and the handler, if it is a Shedder, is told
// once per burst so that the sender learns to wait and send it again.
type Dispatcher struct {
	h   UpdateHandler
	cfg DispatcherConfig

	mu      sync.Mutex
	queues  map[int64]*chatQueue
	total   int
	closed  bool
	space   chan struct{} // closed and replaced when room is freed
	drained chan struct{} // closed and replaced when total reaches 0

	ready  chan *chatQueue
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	shed   Shedder // nil: shed silently
}

type chatQueue struct {
	key   int64
	items []queued
	// warned: this burst's shed update was reported; the queue is dropped
	// when it empties, so the next burst is reported again.
	warned bool
	// While the head item fails: how many times in a row, since when (its
	// first attempt began), and whether the chat was told.
	failures int
	since    time.Time
	told     bool
}

type queued struct {
	u    Update
	done func()
	// finishing is set once the worker has taken done to call it: a
	// copy delivered from then on queues behind it (and is found handled)
	// rather than joining a done that is no longer called.
	finishing bool
}

// NewDispatcher starts the workers. They run until Close.
func NewDispatcher(h UpdateHandler, cfg DispatcherConfig) *Dispatcher {
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.PerChat <= 0 {
		cfg.PerChat = DefaultPerChat
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 10000
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 2 * time.Second
	}
	if cfg.NoticeAfter <= 0 {
		cfg.NoticeAfter = time.Second
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 4
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{
		h: h, cfg: cfg,
		queues:  map[int64]*chatQueue{},
		space:   make(chan struct{}),
		drained: make(chan struct{}),
		// Every scheduled chat holds at least one queued update, so this
		// channel never fills.
		ready:  make(chan *chatQueue, cfg.MaxQueue),
		ctx:    ctx,
		cancel: cancel,
	}
	d.shed, _ = h.(Shedder)
	for range cfg.Workers {
		d.wg.Add(1)
		go d.work(ctx)
	}
	return d
}

// chatKey orders updates: by chat, or by user for button presses on
// messages without a chat (inline messages).
func chatKey(u Update) int64 {
	if u.ChatID != 0 {
		return u.ChatID
	}
	return u.UserID
}

// Submit queues u. When u's chat already has PerChat updates queued, u is
// shed: done is called at once and Submit returns nil, so that a slow chat
// never holds up the transport (the first update shed in a burst is passed
// to the handler's Shed). Submit blocks only while the whole queue is full,
// until ctx is done. done, if not nil, is called exactly once after the
// update was handled or shed (whatever the outcome, except a transient
// failure: the update is then tried again until it is handled), or at
// once if Submit returns an error. An update still queued when Close gives up is dropped
// without calling done, so that the transport does not acknowledge it.
func (d *Dispatcher) Submit(ctx context.Context, u Update, done func()) error {
	if done == nil {
		done = func() {}
	}
	key := chatKey(u)
	d.mu.Lock()
	for {
		if d.closed {
			d.mu.Unlock()
			done()
			return ErrClosed
		}
		q := d.queues[key]
		if q != nil && u.ID != 0 {
			// Delivered again while still queued (a webhook call that
			// timed out during a store outage, retried by Telegram): the
			// queued copy answers both.
			for i := range q.items {
				if it := &q.items[i]; it.u.ID == u.ID && !it.finishing {
					first := it.done
					it.done = func() { first(); done() }
					d.mu.Unlock()
					d.cfg.Logger.Debug("update_requeued", "update_id", u.ID, "chat_id", u.ChatID)
					return nil
				}
			}
		}
		if q != nil && len(q.items) >= d.cfg.PerChat {
			warn := !q.warned
			q.warned = true
			if warn && d.shed != nil {
				d.wg.Add(1)
				go func() {
					defer d.wg.Done()
					d.shed.Shed(d.ctx, u)
				}()
			}
			d.mu.Unlock()
			d.cfg.Logger.Info("update_shed", "update_id", u.ID, "chat_id", u.ChatID, "told", warn)
			if d.shed != nil {
				d.shed.Dropped(u)
			}
			done()
			return nil
		}
		if d.total < d.cfg.MaxQueue {
			break
		}
		space := d.space
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			done()
			return ctx.Err()
		case <-space:
		}
		d.mu.Lock()
	}
	q := d.queues[key]
	if q == nil {
		q = &chatQueue{key: key}
		d.queues[key] = q
	}
	q.items = append(q.items, queued{u: u, done: done})
	d.total++
	if len(q.items) == 1 {
		d.ready <- q // not being worked on: schedule it
	}
	d.mu.Unlock()
	return nil
}

func (d *Dispatcher) work(ctx context.Context) {
	defer d.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-d.ready:
			if ctx.Err() != nil {
				return // closing: leave it unacknowledged
			}
			d.mu.Lock()
			it := q.items[0]
			if q.failures == 0 {
				q.since = d.cfg.Clock.Now()
			}
			d.mu.Unlock()
			if err := d.h.Handle(ctx, it.u); err != nil {
				if ctx.Err() != nil {
					return // closing: unacknowledged, Telegram delivers it again
				}
				if d.retryLater(ctx, q, it.u, err) {
					continue
				}
			} else if q.failures > 0 {
				d.cfg.Logger.Info("update_handled_after_retry", "update_id", it.u.ID, "chat_id", it.u.ChatID, "attempts", q.failures+1)
			}
			d.mu.Lock()
			q.items[0].finishing = true
			done := q.items[0].done // with the copies delivered meanwhile (Submit)
			d.mu.Unlock()
			done()
			d.mu.Lock()
			q.failures, q.told = 0, false
			q.items = q.items[1:]
			d.total--
			if len(q.items) > 0 {
				d.ready <- q // round robin: other chats get their turn
			} else {
				delete(d.queues, q.key)
			}
			close(d.space)
			d.space = make(chan struct{})
			if d.total == 0 {
				close(d.drained)
				d.drained = make(chan struct{})
			}
			d.mu.Unlock()
		}
	}
}

// retryLater keeps u at the head of its chat's queue and schedules the
// chat again after a backoff, without holding a worker meanwhile: while
// the store is unreachable, every chat waits its turn and is told once.
// It reports false when u is given up instead (Retries).
func (d *Dispatcher) retryLater(ctx context.Context, q *chatQueue, u Update, err error) bool {
	now := d.cfg.Clock.Now()
	d.mu.Lock()
	q.failures++
	if keep := errors.Is(err, ErrUnavailable) || errors.Is(err, errBusy); !keep && q.failures > d.cfg.Retries {
		attempts := q.failures
		d.mu.Unlock()
		d.cfg.Logger.Error("update_failed", "update_id", u.ID, "chat_id", u.ChatID, "attempts", attempts, "err", err)
		return false
	}
	// Only a store that cannot be reached is worth telling: an update
	// another instance is handling (busy) is done in a moment.
	tell := !q.told && errors.Is(err, ErrUnavailable) && now.Sub(q.since) >= d.cfg.NoticeAfter
	if tell {
		q.told = true
	}
	wait := retryBase
	for i := 1; i < q.failures && wait < d.cfg.RetryMax; i++ {
		wait *= 2
	}
	wait = min(wait, d.cfg.RetryMax)
	attempt := q.failures
	d.mu.Unlock()
	d.cfg.Logger.Warn("update_retry", "update_id", u.ID, "chat_id", u.ChatID, "attempt", attempt, "wait", wait, "err", err)
	n, notify := d.h.(UnavailableNotifier)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if tell && notify {
			n.NotifyUnavailable(ctx, u)
		}
		tick, stop := clock.Timer(d.cfg.Clock, wait)
		select {
		case <-tick:
			d.ready <- q
		case <-ctx.Done():
			stop()
		}
	}()
	return true
}

// Queued returns how many updates wait or are being handled.
func (d *Dispatcher) Queued() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.total
}

// Close stops taking updates, lets queued ones finish until ctx is done,
// then stops the workers. It returns ctx's error if updates were left.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	d.closed = true
	close(d.space) // wake blocked submitters: they see closed
	d.space = make(chan struct{})
	d.mu.Unlock()
	var err error
	for {
		d.mu.Lock()
		total, drained := d.total, d.drained
		d.mu.Unlock()
		if total == 0 {
			break
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-drained:
			continue
		}
		break
	}
	d.cancel()
	d.wg.Wait()
	// Anything still queued after the deadline is dropped unhandled and its
	// done is not called: the transport did not acknowledge it, so Telegram
	// delivers it again (to this process after a restart, or another one).
	d.mu.Lock()
	d.queues = map[int64]*chatQueue{}
	d.total = 0
	d.mu.Unlock()
	return err
}

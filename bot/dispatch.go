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

// DispatcherConfig sizes a Dispatcher. Zero values take the defaults.
type DispatcherConfig struct {
	Workers  int // goroutines handling updates; default 16
	PerChat  int // queued updates per chat; default 100
	MaxQueue int // queued updates in all; default 10000
	// Retries of an update whose handling failed for a transient reason
	// (store unreachable), with backoff from 100 ms doubling; default 4.
	Retries int
	Clock   clock.Clock
	Logger  *slog.Logger
}

// Dispatcher runs updates through a handler: updates of one chat strictly
// in order, different chats in parallel. A worker that is busy with a slow
// chat never holds up other chats: each chat has its own bounded queue,
// and a chat is given to one worker at a time.
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
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type chatQueue struct {
	key   int64
	items []queued
}

type queued struct {
	u    Update
	done func()
}

// NewDispatcher starts the workers. They run until Close.
func NewDispatcher(h UpdateHandler, cfg DispatcherConfig) *Dispatcher {
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.PerChat <= 0 {
		cfg.PerChat = 100
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 10000
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	} else if cfg.Retries == 0 {
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
		cancel: cancel,
	}
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

// Submit queues u. It blocks while the chat's queue or the whole queue is
// full, until ctx is done. done, if not nil, is called exactly once after
// the update was handled (whatever the outcome), or at once if Submit
// returns an error. An update still queued when Close gives up is dropped
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
		if (q == nil || len(q.items) < d.cfg.PerChat) && d.total < d.cfg.MaxQueue {
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
			d.mu.Unlock()
			d.run(ctx, it.u)
			it.done()
			d.mu.Lock()
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

func (d *Dispatcher) run(ctx context.Context, u Update) {
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := d.h.Handle(ctx, u)
		if err == nil {
			return
		}
		if attempt >= d.cfg.Retries || ctx.Err() != nil {
			d.cfg.Logger.Error("update_failed", "update_id", u.ID, "chat_id", u.ChatID, "attempts", attempt+1, "err", err)
			return
		}
		d.cfg.Logger.Warn("update_retry", "update_id", u.ID, "chat_id", u.ChatID, "attempt", attempt+1, "err", err)
		if !clock.Sleep(ctx, d.cfg.Clock, backoff) {
			return
		}
		backoff *= 2
	}
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

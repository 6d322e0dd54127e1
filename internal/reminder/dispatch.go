package reminder

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
)

// Notifier sends the reminder for a claimed entry and returns the entry's
// next due time (zero: no more milestones, the entry is removed).
type Notifier interface {
	Notify(ctx context.Context, c Claim) (next time.Time, err error)
}

// Config tunes a Dispatcher. Zero fields take their defaults.
type Config struct {
	Clock    clock.Clock    // default clock.Real{}
	Location *time.Location // for quiet hours; default time.Local
	Quiet    Hours          // default none
	Batch    int            // claims per pass; default 100
	// Workers notify claims of one pass concurrently, so that the send
	// rate is not bounded by one network round trip at a time; default 8.
	// The Notifier must then be safe for concurrent use.
	Workers int
	Lease   time.Duration // default 5 min
	Poll    time.Duration // wait after a partial batch; default 30 s
	Logger  *slog.Logger  // default discards
	// Observer, if set, is told what the dispatcher does (metrics).
	Observer Observer
}

// Observer is told what a Dispatcher does, for the operator's metrics:
// counts only, never an entry id. Its methods must be fast and safe for
// concurrent use.
type Observer interface {
	// Claimed: a pass claimed n entries, of which redelivered were claimed
	// before without being acked (their lease expired).
	Claimed(n, redelivered int)
	// Notified: the Notifier sent one reminder (ok) or failed.
	Notified(ok bool)
	// Acked: the ack of a sent reminder succeeded (ok) or failed.
	Acked(ok bool)
}

// Defaults for Config.
const (
	DefaultBatch   = 100
	DefaultWorkers = 8
	DefaultLease   = 5 * time.Minute
	DefaultPoll    = 30 * time.Second
)

// ackTimeout bounds an ack issued after ctx was cancelled: a reminder that
// was sent should still be recorded, but shutdown must not hang on it.
const ackTimeout = 10 * time.Second

// Dispatcher claims due entries, hands them to a Notifier and acks them.
// Delivery is at least once: a claim that is not acked (Notify failed,
// shutdown mid-batch, crash) comes back once its lease expires.
type Dispatcher struct {
	store    Store
	notifier Notifier
	cfg      Config
}

// NewDispatcher returns a Dispatcher over s and n, filling cfg's defaults.
func NewDispatcher(s Store, n Notifier, cfg Config) *Dispatcher {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{store: s, notifier: n, cfg: cfg}
}

// Run dispatches until ctx is done, then returns nil. During quiet hours it
// sleeps until they end; after a full batch it claims again at once,
// otherwise it waits Poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	c := d.cfg.Clock
	for ctx.Err() == nil {
		now := c.Now()
		if d.cfg.Quiet.Quiet(now, d.cfg.Location) {
			clock.Sleep(ctx, c, d.cfg.Quiet.NextAllowed(now, d.cfg.Location).Sub(now))
			continue
		}
		_, full, err := d.pass(ctx, now)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			d.cfg.Logger.ErrorContext(ctx, "reminder: claim failed", "err", err)
		} else if full {
			continue
		}
		clock.Sleep(ctx, c, d.cfg.Poll)
	}
	return nil
}

// RunOnce makes one claim, notify and ack pass, ignoring Poll. It sends
// nothing during quiet hours. sent counts successful notifications. err is
// the claim error, or ctx's error when the batch was cut short.
func (d *Dispatcher) RunOnce(ctx context.Context) (sent int, err error) {
	now := d.cfg.Clock.Now()
	if d.cfg.Quiet.Quiet(now, d.cfg.Location) {
		return 0, nil
	}
	sent, _, err = d.pass(ctx, now)
	return sent, err
}

// pass claims one batch due at now and hands it to the workers, earliest
// first. full reports that the store returned a whole batch, so more may be
// due.
func (d *Dispatcher) pass(ctx context.Context, now time.Time) (sent int, full bool, err error) {
	claims, err := d.store.Claim(ctx, now, d.cfg.Batch, d.cfg.Lease)
	if err != nil {
		return 0, false, err
	}
	if o := d.cfg.Observer; o != nil && len(claims) > 0 {
		again := 0
		for _, cl := range claims {
			if cl.Attempts > 1 {
				again++
			}
		}
		o.Claimed(len(claims), again)
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan Claim)
	)
	for range min(d.cfg.Workers, len(claims)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cl := range next {
				if d.one(ctx, cl) {
					mu.Lock()
					sent++
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, cl := range claims {
		select {
		case next <- cl:
		case <-ctx.Done():
			// The rest stay leased and come back after the lease.
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return sent, false, err
	}
	return sent, len(claims) >= d.cfg.Batch, nil
}

// one notifies and acks one claim; it reports whether the notification
// was sent.
func (d *Dispatcher) one(ctx context.Context, cl Claim) bool {
	log := d.cfg.Logger
	if ctx.Err() != nil {
		return false
	}
	next, err := d.notifier.Notify(ctx, cl)
	if o := d.cfg.Observer; o != nil {
		o.Notified(err == nil)
	}
	if err != nil {
		// Left unacked: re-delivered after the lease. The error may carry
		// user content, so only the id is logged.
		log.WarnContext(ctx, "reminder: notify failed; will retry after lease",
			"id", cl.ID, "attempts", cl.Attempts)
		return false
	}
	err = d.ack(ctx, cl, next)
	if o := d.cfg.Observer; o != nil {
		o.Acked(err == nil)
	}
	if err != nil {
		if errors.Is(err, ErrLeaseLost) {
			log.InfoContext(ctx, "reminder: lease lost before ack", "id", cl.ID)
		} else {
			log.ErrorContext(ctx, "reminder: ack failed", "id", cl.ID, "err", err)
		}
	}
	return true
}

// ack records a sent reminder even when ctx is cancelled meanwhile (a
// shutdown, or another worker stopping the pass), so that a reminder that
// was sent is not sent again; ackTimeout bounds it.
func (d *Dispatcher) ack(ctx context.Context, cl Claim, next time.Time) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	return d.store.Ack(ctx, cl.ID, cl.Token, next)
}

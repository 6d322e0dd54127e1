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
	// Lease is how long a claim is held without renewal: the longest a
	// dispatcher that dies (crash, SIGKILL, lost host) keeps its claims
	// from others. While a batch is being sent its claims are renewed
	// every Lease/3; default 20 s.
	Lease  time.Duration
	Poll   time.Duration // wait after a partial batch; default 30 s
	Logger *slog.Logger  // default discards
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
	DefaultLease   = 20 * time.Second
	DefaultPoll    = 10 * time.Second
	// RetryMax caps the wait between two claims while claiming fails (the
	// store is unreachable), so that the dispatcher resumes within about
	// RetryMax of the store's return; the first retry comes after
	// retryBase, then the wait doubles.
	RetryMax  = 2 * time.Second
	retryBase = 100 * time.Millisecond
)

// ackTimeout bounds an ack issued after ctx was cancelled: a reminder that
// was sent should still be recorded, but shutdown must not hang on it.
const ackTimeout = 10 * time.Second

// Dispatcher claims due entries, hands them to a Notifier and acks them.
// Delivery is at least once: a claim that is not acked (Notify failed,
// shutdown mid-batch, crash) comes back once its lease expires. Leases are
// short and renewed while their batch is being sent, so that the claims of
// a dispatcher that died come back within one lease.
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
// otherwise it waits Poll. While claiming fails it tries again after
// 100 ms, then twice as long each time, at most RetryMax: not after Poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	c := d.cfg.Clock
	failures := 0
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
			failures++
			wait := retryWait(failures)
			d.cfg.Logger.ErrorContext(ctx, "reminder: claim failed", "attempt", failures, "wait", wait, "err", err)
			clock.Sleep(ctx, c, wait)
			continue
		}
		if failures > 0 {
			d.cfg.Logger.InfoContext(ctx, "reminder: claiming again", "after_failures", failures)
			failures = 0
		}
		if full {
			continue
		}
		clock.Sleep(ctx, c, d.cfg.Poll)
	}
	return nil
}

// retryWait is the wait after the n-th claim failure in a row (n ≥ 1).
func retryWait(n int) time.Duration {
	w := retryBase
	for i := 1; i < n && w < RetryMax; i++ {
		w *= 2
	}
	return min(w, RetryMax)
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
	h := newHeld(claims)
	if len(claims) > 0 {
		stopRenew := make(chan struct{})
		renewed := make(chan struct{})
		go func() {
			defer close(renewed)
			d.renew(ctx, h, stopRenew)
		}()
		defer func() {
			close(stopRenew)
			<-renewed
		}()
	}
	for range min(d.cfg.Workers, len(claims)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cl := range next {
				if !h.start(cl.ID) {
					// Another dispatcher holds it now (our lease ran out
					// while the store was unreachable): it sends it.
					d.cfg.Logger.InfoContext(ctx, "reminder: lease lost before sending", "id", cl.ID)
					continue
				}
				ok := d.one(ctx, cl)
				h.finish(cl.ID)
				if ok {
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

// held is the claims of a pass not yet finished, which renew keeps.
type held struct {
	mu     sync.Mutex
	claims map[string]Claim
	lost   map[string]bool
}

func newHeld(claims []Claim) *held {
	h := &held{claims: make(map[string]Claim, len(claims)), lost: map[string]bool{}}
	for _, c := range claims {
		h.claims[c.ID] = c
	}
	return h
}

// start reports whether the claim of id is still ours to send.
func (h *held) start(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.lost[id]
}

// finish stops renewing id: it was acked, or is left to its lease.
func (h *held) finish(id string) {
	h.mu.Lock()
	delete(h.claims, id)
	h.mu.Unlock()
}

func (h *held) snapshot() []Claim {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Claim, 0, len(h.claims))
	for _, c := range h.claims {
		out = append(out, c)
	}
	return out
}

func (h *held) drop(ids []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		h.lost[id] = true
		delete(h.claims, id)
	}
}

// renew extends the leases of the claims h holds every Lease/3 until stop
// is closed or ctx is done. A failed renewal is logged and tried again at
// the next tick: the lease may then run out, and another dispatcher send
// the reminder again (at least once).
func (d *Dispatcher) renew(ctx context.Context, h *held, stop <-chan struct{}) {
	every := max(d.cfg.Lease/3, time.Millisecond)
	for {
		tick, stopTick := clock.Timer(d.cfg.Clock, every)
		select {
		case <-ctx.Done():
			stopTick()
			return
		case <-stop:
			stopTick()
			return
		case <-tick:
		}
		cs := h.snapshot()
		if len(cs) == 0 {
			continue
		}
		lost, err := d.store.Renew(ctx, cs, d.cfg.Lease)
		if err != nil {
			if ctx.Err() == nil {
				d.cfg.Logger.WarnContext(ctx, "reminder: renew failed", "held", len(cs), "err", err)
			}
			continue
		}
		if len(lost) > 0 {
			d.cfg.Logger.InfoContext(ctx, "reminder: leases lost", "count", len(lost))
			h.drop(lost)
		}
	}
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

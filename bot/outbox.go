package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// OutboxItem is one copy of a resident's message waiting to leave for a
// partner group. It holds ids only: the text to frame it with is in the
// case (handoff.Case.Inbox) until the copy is made.
type OutboxItem struct {
	Chat    int64 `json:"chat"`             // the group it goes to
	Thread  int   `json:"thread,omitempty"` // the case's topic there
	Seq     int64 `json:"seq"`              // its place in Chat's queue, set by OutboxEnqueue
	Case    int64 `json:"case"`
	Message int   `json:"msg"` // the resident's message id in their chat with the bot
}

// Outbox keeps the relay copies on their way to partner groups: one queue
// per chat, in order, persistent. Implementations live in internal/store/*
// and pass storetest.RunOutbox; they are safe for concurrent use by several
// processes sharing one backend.
type Outbox interface {
	// OutboxEnqueue appends it to the end of its chat's queue and returns true,
	// unless the same message (Chat, Thread, Case, Message) was enqueued
	// within ttl, whether it is still queued or already sent: then nothing
	// changes and it returns false. This keeps a copy from going twice when
	// an update is handled again.
	OutboxEnqueue(ctx context.Context, it OutboxItem, ttl time.Duration) (bool, error)
	// OutboxClaim returns the first item of chat's queue and leases it for lease
	// (judged by the backend's clock). claimed is false when the queue is
	// empty (wait 0), or when its first item is leased by someone else (wait
	// is then the time left): only one worker at a time sends to a chat, so
	// copies keep their order.
	OutboxClaim(ctx context.Context, chat int64, lease time.Duration) (it OutboxItem, claimed bool, wait time.Duration, err error)
	// OutboxDone removes item seq from the front of chat's queue (nothing if it
	// is no longer there) and ends its lease.
	OutboxDone(ctx context.Context, chat int64, seq int64) error
	// OutboxRetry keeps item seq first in chat's queue and leases it for after:
	// the next OutboxClaim returns it once that time has passed.
	OutboxRetry(ctx context.Context, chat int64, seq int64, after time.Duration) error
	// OutboxChats lists, sorted, the chats whose queue may not be empty (a chat whose
	// queue OutboxClaim found empty leaves the list).
	OutboxChats(ctx context.Context) ([]int64, error)
}

// Relay outbox timings.
const (
	// relayLease is how long a worker holds the first copy of a chat while
	// sending it: beyond it, another worker (or this one after a restart)
	// sends it. It covers the wait for the group's limit and the sender's
	// retries.
	relayLease = 2 * time.Minute
	// relaySendLimit bounds one attempt, within the lease.
	relaySendLimit = 90 * time.Second
	// relayDedup is how long an enqueued copy is remembered (as long as
	// Telegram may deliver an update again).
	relayDedup = 48 * time.Hour
	// relayRescan is how often the worker looks for chats another instance
	// left with copies to send.
	relayRescan = time.Minute
	// relayMaxRejected is how many times a copy Telegram refuses is tried
	// before it is given up.
	relayMaxRejected = 3
)

// memOutbox is an Outbox in memory, for a bot run without a store that has
// one (the terminal, tests). It does not survive a restart.
type memOutbox struct {
	clk    clock.Clock
	mu     sync.Mutex
	seq    int64
	queues map[int64][]OutboxItem
	leases map[int64]time.Time
	seen   map[OutboxItem]time.Time // key (Seq 0) → until
}

func newMemOutbox(clk clock.Clock) *memOutbox {
	return &memOutbox{clk: clk, queues: map[int64][]OutboxItem{}, leases: map[int64]time.Time{}, seen: map[OutboxItem]time.Time{}}
}

func (m *memOutbox) OutboxEnqueue(ctx context.Context, it OutboxItem, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clk.Now()
	key := it
	key.Seq = 0
	if until, ok := m.seen[key]; ok && now.Before(until) {
		return false, nil
	}
	for k, until := range m.seen {
		if !now.Before(until) {
			delete(m.seen, k)
		}
	}
	m.seen[key] = now.Add(ttl)
	m.seq++
	it.Seq = m.seq
	m.queues[it.Chat] = append(m.queues[it.Chat], it)
	return true, nil
}

func (m *memOutbox) OutboxClaim(ctx context.Context, chat int64, lease time.Duration) (OutboxItem, bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[chat]
	if len(q) == 0 {
		delete(m.queues, chat)
		return OutboxItem{}, false, 0, nil
	}
	now := m.clk.Now()
	if until := m.leases[chat]; now.Before(until) {
		return OutboxItem{}, false, until.Sub(now), nil
	}
	m.leases[chat] = now.Add(lease)
	return q[0], true, 0, nil
}

func (m *memOutbox) OutboxDone(ctx context.Context, chat int64, seq int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q := m.queues[chat]; len(q) > 0 && q[0].Seq == seq {
		m.queues[chat] = q[1:]
		delete(m.leases, chat)
	}
	return nil
}

func (m *memOutbox) OutboxRetry(ctx context.Context, chat int64, seq int64, after time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q := m.queues[chat]; len(q) > 0 && q[0].Seq == seq {
		m.leases[chat] = m.clk.Now().Add(after)
	}
	return nil
}

func (m *memOutbox) OutboxChats(ctx context.Context) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int64
	for chat := range m.queues {
		out = append(out, chat)
	}
	slices.Sort(out)
	return out, nil
}

// relayQueue runs the relay outbox: one drain per chat with copies to
// send, started by enqueues and by RunRelay.
type relayQueue struct {
	mu      sync.Mutex
	ctx     context.Context // RunRelay's; nil while it does not run
	running map[int64]*drain
	wg      sync.WaitGroup
}

type drain struct {
	again bool // an enqueue came while the drain was finishing
}

// enqueueCopy puts the copy of one resident message in its chat's queue
// and wakes the worker; it never waits for the group.
func (b *Bot) enqueueCopy(ctx context.Context, c handoff.Case, msg int) error {
	it := OutboxItem{Chat: b.topicChat(c), Thread: c.TopicID, Case: c.ID, Message: msg}
	added, err := b.outbox.OutboxEnqueue(ctx, it, relayDedup)
	if err != nil {
		return fmt.Errorf("enqueue copy: %w", err)
	}
	if added {
		b.kickRelay(it.Chat)
	}
	return nil
}

// RunRelay sends the relay copies queued in the outbox, each group's in
// order and at the pace its limits allow, until ctx is done; then it waits
// for the sends in progress. It resumes what a previous run (or another
// instance) left. Run it once per process.
func (b *Bot) RunRelay(ctx context.Context) error {
	q := &b.relay
	q.mu.Lock()
	q.ctx = ctx
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.ctx = nil
		q.mu.Unlock()
		q.wg.Wait()
	}()
	for {
		chats, err := b.outbox.OutboxChats(ctx)
		if err != nil && ctx.Err() == nil {
			b.log.Error("relay_scan_failed", "err", err)
		}
		for _, chat := range chats {
			b.kickRelay(chat)
		}
		if !clock.Sleep(ctx, b.clock, relayRescan) {
			return nil
		}
	}
}

// kickRelay makes sure chat's queue is being drained, when RunRelay runs.
func (b *Bot) kickRelay(chat int64) {
	q := &b.relay
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ctx == nil || q.ctx.Err() != nil {
		return
	}
	if d := q.running[chat]; d != nil {
		d.again = true
		return
	}
	if q.running == nil {
		q.running = map[int64]*drain{}
	}
	d := &drain{}
	q.running[chat] = d
	q.wg.Add(1)
	go func(ctx context.Context) {
		defer q.wg.Done()
		b.drainChat(ctx, chat, d)
	}(q.ctx)
}

// drainChat sends chat's copies one after the other until its queue is
// empty.
func (b *Bot) drainChat(ctx context.Context, chat int64, d *drain) {
	q := &b.relay
	rejected := 0
	failures := 0
	for {
		it, claimed, wait, err := b.outbox.OutboxClaim(ctx, chat, relayLease)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			b.log.Error("relay_claim_failed", "chat_id", chat, "err", err)
			failures++
			if !clock.Sleep(ctx, b.clock, retryDelay(failures)) {
				break
			}
			continue
		}
		if !claimed {
			if wait > 0 {
				if !clock.Sleep(ctx, b.clock, wait) {
					break
				}
				continue
			}
			q.mu.Lock()
			if d.again {
				d.again = false
				q.mu.Unlock()
				continue
			}
			delete(q.running, chat)
			q.mu.Unlock()
			return
		}
		err = b.deliverCopy(ctx, it)
		switch {
		case err == nil:
			failures, rejected = 0, 0
		case errors.Is(err, ErrRejected) && rejected+1 >= relayMaxRejected:
			// Telegram refuses it for good (the resident deleted their
			// message, the bot lost the group): give it up, say so in the log.
			rejected = 0
			b.log.Error("relay_copy_given_up", "chat_id", chat, "case", it.Case, "err", err)
			if err := b.outbox.OutboxDone(ctx, chat, it.Seq); err != nil {
				b.log.Error("relay_done_failed", "chat_id", chat, "case", it.Case, "err", err)
			}
		default:
			if errors.Is(err, ErrRejected) {
				rejected++
			}
			failures++
			b.log.Warn("relay_copy_failed", "chat_id", chat, "case", it.Case, "attempt", failures, "err", err)
			if err := b.outbox.OutboxRetry(ctx, chat, it.Seq, retryDelay(failures)); err != nil {
				b.log.Error("relay_retry_failed", "chat_id", chat, "case", it.Case, "err", err)
			}
		}
	}
	q.mu.Lock()
	delete(q.running, chat)
	q.mu.Unlock()
}

// retryDelay is the wait after the n-th failure in a row: 5 s doubling up
// to 5 minutes.
func retryDelay(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// FlushRelay sends every queued relay copy now, in the caller's goroutine,
// and returns the first error. For tests and tools that do not run
// RunRelay.
func (b *Bot) FlushRelay(ctx context.Context) error {
	chats, err := b.outbox.OutboxChats(ctx)
	if err != nil {
		return err
	}
	for _, chat := range chats {
		for {
			it, claimed, wait, err := b.outbox.OutboxClaim(ctx, chat, relayLease)
			if err != nil {
				return err
			}
			if !claimed {
				if wait > 0 {
					return fmt.Errorf("flush relay: chat %d is leased by another worker", chat)
				}
				break
			}
			if err := b.deliverCopy(ctx, it); err != nil {
				_ = b.outbox.OutboxRetry(ctx, chat, it.Seq, 0)
				return err
			}
		}
	}
	return nil
}

// deliverCopy makes the copy of one queued message, framed (see
// copyReplies), records it (the relay mapping a reply needs, and the
// artefacts deletion needs), takes it off the queue (Done), then forgets
// the message's text. A message whose case moved meanwhile follows it: to
// the case's new topic, or back to the messages waiting for one; a case
// deleted, or closed without a topic, drops it. On error the item stays
// queued.
func (b *Bot) deliverCopy(ctx context.Context, it OutboxItem) error {
	done := func() error {
		if err := b.outbox.OutboxDone(ctx, it.Chat, it.Seq); err != nil {
			return fmt.Errorf("relay done: %w", err)
		}
		return nil
	}
	c, err := b.cases.Case(ctx, it.Case)
	if errors.Is(err, handoff.ErrNotFound) {
		return done()
	}
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	if !c.Open() && (c.TopicID == 0 || c.Purged) {
		// Closed with nowhere to go: a message sent just before the close
		// still reaches the topic, which stays until retention.
		if err := done(); err != nil {
			return err
		}
		return b.dropIncoming(ctx, &c, it.Message)
	}
	if c.Open() && c.TopicID == 0 {
		// Forwarded meanwhile: it waits for the next topic.
		err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
			if c.TopicID != 0 {
				return false
			}
			if !slices.Contains(c.Pending, it.Message) {
				c.Pending = append(c.Pending, it.Message)
			}
			return true
		})
		switch {
		case err == nil:
			return done()
		case !errors.Is(err, errGiveUp):
			return err
		}
		// The next topic opened meanwhile (c is fresh): on to it.
	}
	if chat := b.topicChat(c); chat != it.Chat || c.TopicID != it.Thread {
		if err := b.enqueueCopy(ctx, c, it.Message); err != nil {
			return err
		}
		return done()
	}
	in := handoff.Incoming{Msg: it.Message, Form: handoff.FormHeader}
	if i := slices.IndexFunc(c.Inbox, func(in handoff.Incoming) bool { return in.Msg == it.Message }); i >= 0 {
		in = c.Inbox[i]
	}
	// A send under way finishes even when the worker is told to stop.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), relaySendLimit)
	defer cancel()
	for _, rep := range b.copyReplies(c, in, it.Chat, it.Thread) {
		id, err := b.sender.Send(sctx, rep)
		if err != nil {
			return fmt.Errorf("relay to topic: %w", err)
		}
		if err := b.cases.PutRelay(ctx, it.Chat, id, handoff.Relay{CaseID: c.ID, ResidentMessageID: it.Message}); err != nil {
			return fmt.Errorf("record relay: %w", err)
		}
		if err := b.cases.AddArtefact(ctx, c.ID, handoff.Artefact{Chat: it.Chat, Thread: it.Thread, Message: id, Kind: handoff.ArtefactCopy}); err != nil {
			return fmt.Errorf("record copy: %w", err)
		}
	}
	if err := done(); err != nil {
		return err
	}
	return b.dropIncoming(ctx, &c, it.Message)
}

// dropIncoming forgets the text of a message that was copied (or will
// never be).
func (b *Bot) dropIncoming(ctx context.Context, c *handoff.Case, msg int) error {
	err := b.updateCase(ctx, c, func(c *handoff.Case) bool {
		i := slices.IndexFunc(c.Inbox, func(in handoff.Incoming) bool { return in.Msg == msg })
		if i < 0 {
			return false
		}
		c.Inbox = slices.Delete(slices.Clone(c.Inbox), i, i+1)
		return true
	})
	if errors.Is(err, errGiveUp) || errors.Is(err, handoff.ErrNotFound) {
		return nil
	}
	return err
}

// OutboxLister is an optional extension of Outbox that lists a chat's
// queue without leasing anything: `passerelle migrate` copies and
// compares queued copies with it. Both stores and the in-memory outbox
// implement it (storetest.RunOutbox checks).
type OutboxLister interface {
	// OutboxItems returns chat's queued items, first to go first, leased
	// or not (nil when the queue is empty).
	OutboxItems(ctx context.Context, chat int64) ([]OutboxItem, error)
}

// OutboxItems lists chat's queue.
func (m *memOutbox) OutboxItems(ctx context.Context, chat int64) ([]OutboxItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.queues[chat]), ctx.Err()
}

package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
)

// Backoff of the poll loop after a failed getUpdates.
const (
	pollBackoffBase = time.Second
	pollBackoffMax  = 30 * time.Second
	pollLimit       = 100
	answerTimeout   = 10 * time.Second
	// redeliveryPause is the longest wait between two polls that return
	// only updates still being handled.
	redeliveryPause = time.Second
)

// Dispatcher hands updates to the core.
//
// Submit may block while the core's queues are full, and returns early with
// ctx's error when ctx is done. If Submit returns nil, the core owns the
// update and calls done exactly once when it has been handled, whatever the
// outcome (done must be cheap and may be called from any goroutine). If
// Submit returns an error, the update was not accepted and done is not
// called.
type Dispatcher interface {
	Submit(ctx context.Context, u bot.Update, done func()) error
}

// Poll receives updates by long polling and submits them to d, in update_id
// order, until ctx is done; then it returns nil at once, without waiting for
// updates in flight (the caller drains the core).
//
// An update is confirmed to Telegram (by the next getUpdates offset) only
// once it and every update fetched before it are done, so a crash never
// loses an accepted update; Telegram re-delivers unconfirmed updates, and
// Poll never submits one twice. One exception keeps a slow update from
// holding up every chat: when getUpdates returns a full batch (100) of
// updates all still known and the oldest is still in flight a second
// later, newer ones can only be fetched past it, so Poll confirms that
// oldest one early (logged as telegram_update_confirmed_early); it is
// still handled, but a crash before then loses it. While every update fetched is still in
// flight, Poll polls again when one is done or after a second on
// Config.Clock, so that new updates are not held up. An update that cannot be decoded is logged
// by id and skipped. Every callback query is answered (empty text) when its
// update is done.
//
// Poll first deletes any webhook. It returns an error wrapping ErrConflict
// when another instance polls with the same token, ErrUnauthorized when the
// token is rejected, or the error of a Submit that failed while ctx was not
// done. Other failures are retried with capped backoff; a 429 is waited out.
func (c *Client) Poll(ctx context.Context, d Dispatcher) error {
	if err := c.deleteWebhook(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "telegram_poll_start")
	defer c.log.LogAttrs(ctx, slog.LevelInfo, "telegram_poll_stop")

	allowed, _ := json.Marshal(allowedUpdates)
	// At least 1s: a zero timeout is short polling, which would spin.
	timeout := strconv.Itoa(max(1, int(c.cfg.PollTimeout/time.Second)))
	t := newTracker()
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		offset := t.offset()
		p := tgbotapi.Params{
			"limit":           strconv.Itoa(pollLimit),
			"timeout":         timeout,
			"allowed_updates": string(allowed),
		}
		p.AddNonZero64("offset", offset)
		res, err := c.call(ctx, "getUpdates", p)
		var batch []json.RawMessage
		if err == nil {
			if uerr := json.Unmarshal(res, &batch); uerr != nil {
				err = &serverError{method: "getUpdates", err: fmt.Errorf("decode result: %w", uerr)}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ae *APIError
			isAPI := errors.As(err, &ae)
			switch {
			case isAPI && ae.Code == http.StatusConflict:
				c.log.LogAttrs(ctx, slog.LevelError, "telegram_poll_conflict", slog.Int("status", ae.Code))
				return fmt.Errorf("telegram: poll: %w (%s)", ErrConflict, ae.Description)
			case isAPI && ae.Code == http.StatusUnauthorized:
				c.log.LogAttrs(ctx, slog.LevelError, "telegram_poll_unauthorized", slog.Int("status", ae.Code))
				return fmt.Errorf("telegram: poll: %w", ErrUnauthorized)
			case isAPI && ae.Code == http.StatusTooManyRequests:
				c.pause(ctx, "getUpdates", ae.RetryAfter)
				if !clock.Sleep(ctx, c.clk, max(ae.RetryAfter, time.Second)) {
					return nil
				}
			default:
				failures++
				wait := backoff(failures, pollBackoffBase, pollBackoffMax)
				attrs := []slog.Attr{slog.Int("attempt", failures), slog.Duration("wait", wait), slog.String("error", err.Error())}
				if isAPI {
					attrs = append(attrs, slog.Int("status", ae.Code))
				}
				c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_poll_error", attrs...)
				if !clock.Sleep(ctx, c.clk, wait) {
					return nil
				}
			}
			continue
		}
		failures = 0

		fresh := 0
		for _, raw := range batch {
			var head struct {
				UpdateID int64 `json:"update_id"`
			}
			_ = json.Unmarshal(raw, &head)
			id := head.UpdateID
			if id <= 0 {
				c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_update_undecodable", slog.Int64("update_id", id))
				continue
			}
			if !t.add(id) {
				continue // re-delivered: already submitted, not yet confirmed
			}
			fresh++
			u, derr := Decode(raw, c.Username())
			if derr != nil {
				c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_update_undecodable", slog.Int64("update_id", id), slog.String("error", derr.Error()))
				t.done(id)
				continue
			}
			if err := d.Submit(ctx, u, c.doneFunc(ctx, t, u)); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				c.log.LogAttrs(ctx, slog.LevelError, "telegram_submit_failed", slog.Int64("update_id", id), slog.String("error", err.Error()))
				return fmt.Errorf("telegram: poll: submit update %d: %w", id, err)
			}
		}
		if len(batch) > 0 && fresh == 0 && t.offset() == offset {
			// Everything Telegram returned is still being handled: polling
			// again would return it at once. Wait for progress, or a while,
			// so that updates arriving meanwhile are not held up for long
			// behind a slow one.
			if !c.waitProgress(ctx, t, offset, len(batch) >= pollLimit) {
				return nil
			}
		}
	}
}

// waitProgress waits, when every update of the last batch is still in
// flight, for one to be done or for redeliveryPause. With a full batch,
// newer updates can only be fetched once the oldest is confirmed: it then
// waits for the oldest itself, and if it is still in flight after the
// pause, confirms it early (still handled, but a crash before then loses
// it), so that one slow update cannot hold up every chat. It returns false
// when ctx is done.
func (c *Client) waitProgress(ctx context.Context, t *tracker, offset int64, full bool) bool {
	pause := c.clk.After(redeliveryPause)
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.progress:
			if !full || t.offset() != offset {
				return true
			}
		case <-pause:
			if full && t.offset() == offset {
				if id, ok := t.skip(); ok {
					c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_update_confirmed_early", slog.Int64("update_id", id))
				}
			}
			return true
		}
	}
}

// doneFunc returns the done callback for u: it marks u handled (once) and
// answers a callback query so that the client stops its spinner.
func (c *Client) doneFunc(ctx context.Context, t *tracker, u bot.Update) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			if t != nil {
				t.done(u.ID)
			}
			if u.Kind == bot.KindCallback && u.CallbackID != "" {
				go c.autoAnswer(context.WithoutCancel(ctx), u)
			}
		})
	}
}

func (c *Client) autoAnswer(ctx context.Context, u bot.Update) {
	ctx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	if err := c.AnswerCallback(ctx, u.CallbackID, ""); err != nil {
		// Often "query is too old" or already answered by the core.
		c.log.LogAttrs(ctx, slog.LevelDebug, "telegram_answer_callback_failed", slog.Int64("update_id", u.ID), slog.String("error", err.Error()))
	}
}

func (c *Client) deleteWebhook(ctx context.Context) error {
	failures := 0
	for {
		_, err := c.call(ctx, "deleteWebhook", tgbotapi.Params{"drop_pending_updates": "false"})
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ae *APIError
		isAPI := errors.As(err, &ae)
		wait := time.Duration(0)
		switch {
		case isAPI && ae.Code == http.StatusUnauthorized:
			return fmt.Errorf("telegram: poll: %w", ErrUnauthorized)
		case isAPI && ae.Code == http.StatusTooManyRequests:
			wait = max(ae.RetryAfter, time.Second)
		default:
			failures++
			wait = backoff(failures, pollBackoffBase, pollBackoffMax)
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_delete_webhook_error", slog.Int("attempt", failures), slog.String("error", err.Error()))
		}
		if !clock.Sleep(ctx, c.clk, wait) {
			return ctx.Err()
		}
	}
}

// tracker keeps the updates fetched but not yet confirmed, in fetch order,
// and computes the offset: the low watermark of handled updates.
type tracker struct {
	mu       sync.Mutex
	pending  []pendingUpdate
	index    map[int64]int // id → position in pending, shifted by base
	base     int           // number of entries dropped from pending's front
	maxID    int64         // highest id ever fetched
	progress chan struct{} // signalled (buffered 1) when an update is done
}

type pendingUpdate struct {
	id   int64
	done bool
}

func newTracker() *tracker {
	return &tracker{index: make(map[int64]int), progress: make(chan struct{}, 1)}
}

// add records a fetched update and reports whether it is new.
func (t *tracker) add(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.index[id]; ok {
		return false
	}
	// Between the oldest unconfirmed update and the highest fetched, every
	// id was seen. Below it, or with nothing pending, a smaller id than the
	// highest means Telegram restarted its ids (it does after a week with
	// no updates), since confirmed updates are never re-delivered.
	if len(t.pending) > 0 && id >= t.pending[0].id && id <= t.maxID {
		return false
	}
	t.index[id] = t.base + len(t.pending)
	t.pending = append(t.pending, pendingUpdate{id: id})
	t.maxID = max(t.maxID, id)
	return true
}

// done marks id handled.
func (t *tracker) done(id int64) {
	t.mu.Lock()
	if i, ok := t.index[id]; ok {
		t.pending[i-t.base].done = true
	}
	t.mu.Unlock()
	select {
	case t.progress <- struct{}{}:
	default:
	}
}

// skip marks the oldest update not yet handled as confirmed, though it is
// still in flight, and returns its id.
func (t *tracker) skip() (int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.pending {
		if !t.pending[i].done {
			t.pending[i].done = true
			return t.pending[i].id, true
		}
	}
	return 0, false
}

// offset drops the handled prefix and returns the offset to send: the
// first update not yet handled, or the one after the highest fetched.
func (t *tracker) offset() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for n < len(t.pending) && t.pending[n].done {
		delete(t.index, t.pending[n].id)
		n++
	}
	t.pending = t.pending[n:]
	t.base += n
	if len(t.pending) > 0 {
		return t.pending[0].id
	}
	if t.maxID > 0 {
		return t.maxID + 1
	}
	return 0
}

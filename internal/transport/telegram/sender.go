package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
)

// Retry bounds for transient failures (5xx, network) of a send.
const (
	sendAttempts    = 4
	sendBackoffBase = 500 * time.Millisecond
	sendBackoffMax  = 8 * time.Second
	maxFloodRetries = 20 // consecutive 429s before giving up on one reply
)

// Sender delivers bot.Reply values through the Bot API within Telegram's
// limits. It implements bot.Sender and is safe for concurrent use; get it
// from Client.Sender.
type Sender struct {
	c *Client

	mu       sync.Mutex
	inflight int
	idle     chan struct{} // closed when inflight drops to 0; nil when idle
}

var _ bot.Sender = (*Sender)(nil)

// Sender returns the client's sender. Every call returns the same Sender,
// so all sends share the same limits.
func (c *Client) Sender() *Sender { return c.sender }

// Send delivers r and returns the id of the message sent, edited or copied.
// It blocks while the rate limits or a 429 pause hold it back, LaneInteractive
// before LaneBulk.
//
// Errors: a private chat that blocked the bot (403) wraps bot.ErrBlocked; a
// 403 from a group, or a request Telegram refuses (400), wraps
// bot.ErrRejected. A 429 is waited out and the same request resent; 5xx and
// network failures are retried a few times with backoff. A group upgraded to
// a supergroup is followed: the reply is resent to the new id, later replies
// to the old id go there too, and Config.OnMigrate is called. An edit that
// Telegram reports as "message is not modified" counts as done.
func (s *Sender) Send(ctx context.Context, r bot.Reply) (int, error) {
	s.begin()
	defer s.end()
	c := s.c
	if r.AnswerCallbackID != "" {
		// A notice on a button press: answerCallbackQuery, no message.
		if err := c.AnswerCallback(ctx, r.AnswerCallbackID, r.Text); err != nil {
			return 0, fmt.Errorf("telegram: answerCallbackQuery: %w", err)
		}
		return 0, nil
	}

	method, p, err := buildReply(r)
	if err != nil {
		return 0, fmt.Errorf("telegram: %w: %w", bot.ErrRejected, err)
	}
	attempts, floods := 0, 0
	chat := c.resolveChat(r.ChatID)
	for {
		p["chat_id"] = strconv.FormatInt(chat, 10)
		done, err := c.gate.acquire(ctx, chat, r.Lane)
		if err != nil {
			return 0, fmt.Errorf("telegram: %s: %w", method, err)
		}
		res, err := c.callReply(ctx, method, p, r.File)
		done() // the message counts against the limits from its answer
		if o := c.cfg.Observer; o != nil && ctx.Err() == nil {
			o.SendResult(r.Lane, sendResult(err))
		}
		if err == nil {
			return messageID(res, r.EditMessageID), nil
		}
		if ctx.Err() != nil {
			return 0, err
		}
		var ae *APIError
		isAPI := errors.As(err, &ae)
		switch {
		case isAPI && ae.Code == http.StatusTooManyRequests:
			floods++
			if floods > maxFloodRetries {
				return 0, err
			}
			c.pause(ctx, method, ae.RetryAfter)
			continue // the same request, once the pause is over
		case isAPI && ae.MigrateToChatID != 0 && ae.MigrateToChatID != chat:
			from := chat
			chat = ae.MigrateToChatID
			c.remember(from, chat)
			c.log.LogAttrs(ctx, slog.LevelInfo, "telegram_chat_migrated", slog.Int64("chat_id", from), slog.Int64("new_chat_id", chat))
			if c.cfg.OnMigrate != nil {
				c.cfg.OnMigrate(ctx, from, chat)
			}
			continue
		case isAPI && ae.Code == http.StatusBadRequest && r.EditMessageID != 0 && strings.Contains(ae.Description, "message is not modified"):
			return r.EditMessageID, nil // the edit is already in place
		case isAPI && ae.Code == http.StatusForbidden:
			if chat > 0 {
				c.log.LogAttrs(ctx, slog.LevelInfo, "telegram_recipient_blocked", slog.Int64("chat_id", chat), slog.String("method", method))
				return 0, fmt.Errorf("%w: %w", bot.ErrBlocked, err)
			}
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_group_forbidden", slog.Int64("chat_id", chat), slog.String("method", method), slog.String("error", err.Error()))
			return 0, fmt.Errorf("%w: %w", bot.ErrRejected, err)
		case retryable(err):
			attempts++
			if attempts >= sendAttempts {
				c.log.LogAttrs(ctx, slog.LevelError, "telegram_send_failed", slog.Int64("chat_id", chat), slog.String("method", method), slog.String("error", err.Error()))
				return 0, err
			}
			d := backoff(attempts, sendBackoffBase, sendBackoffMax)
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_retry", slog.Int64("chat_id", chat), slog.String("method", method),
				slog.Int("attempt", attempts), slog.Duration("wait", d), slog.String("error", err.Error()))
			if !clock.Sleep(ctx, c.clk, d) {
				return 0, fmt.Errorf("telegram: %s: %w", method, ctx.Err())
			}
		case isAPI && ae.Code >= 400 && ae.Code < 500 && ae.Code != http.StatusUnauthorized && ae.Code != http.StatusNotFound:
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_reply_rejected", slog.Int64("chat_id", chat), slog.String("method", method), slog.Int("status", ae.Code), slog.String("error", err.Error()))
			return 0, fmt.Errorf("%w: %w", bot.ErrRejected, err)
		default:
			// 401 (token revoked), 404 (bad endpoint) or unknown: not the
			// reply's fault, so not ErrRejected.
			c.log.LogAttrs(ctx, slog.LevelError, "telegram_send_failed", slog.Int64("chat_id", chat), slog.String("method", method), slog.String("error", err.Error()))
			return 0, err
		}
	}
}

// Send results told to the SendObserver.
const (
	ResultOK       = "ok"
	ResultFlood    = "429"     // too many requests: waited out and resent
	ResultBlocked  = "403"     // forbidden: blocked by the resident, or out of a group
	ResultRejected = "4xx"     // any other refusal (bad request, not found…)
	ResultServer   = "5xx"     // Telegram's server failed: retried
	ResultNetwork  = "network" // no answer: retried
)

// sendResult classifies the outcome of one request.
func sendResult(err error) string {
	var ae *APIError
	switch {
	case err == nil:
		return ResultOK
	case errors.As(err, &ae) && ae.Code == http.StatusTooManyRequests:
		return ResultFlood
	case errors.As(err, &ae) && ae.Code == http.StatusForbidden:
		return ResultBlocked
	case errors.As(err, &ae) && ae.Code >= 500:
		return ResultServer
	case errors.As(err, &ae):
		return ResultRejected
	}
	var se *serverError
	if errors.As(err, &se) {
		return ResultServer
	}
	return ResultNetwork
}

// Queued returns how many sends wait for the rate limits, per lane.
func (s *Sender) Queued() (interactive, bulk int) {
	return s.c.gate.depth()
}

// Flush waits until every Send in flight has returned, or ctx is done. Sends
// started during Flush are waited for too.
func (s *Sender) Flush(ctx context.Context) error {
	s.mu.Lock()
	if s.inflight == 0 {
		s.mu.Unlock()
		return nil
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return s.Flush(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Sender) begin() {
	s.mu.Lock()
	if s.inflight == 0 {
		s.idle = make(chan struct{})
	}
	s.inflight++
	s.mu.Unlock()
}

func (s *Sender) end() {
	s.mu.Lock()
	s.inflight--
	if s.inflight == 0 {
		close(s.idle)
		s.idle = nil
	}
	s.mu.Unlock()
}

// buildReply chooses the Bot API method for r and its parameters, without
// chat_id (set per attempt, since a migration changes it).
func buildReply(r bot.Reply) (string, tgbotapi.Params, error) {
	p := tgbotapi.Params{}
	var err error
	addJSON := func(key string, v any) {
		if err == nil {
			err = p.AddInterface(key, v)
		}
	}
	switch {
	case r.File != nil:
		return documentReply(r)
	case r.CopyFromChatID != 0:
		p.AddNonZero64("from_chat_id", r.CopyFromChatID)
		p.AddNonZero("message_id", r.CopyMessageID)
		p.AddNonZero("message_thread_id", r.ThreadID)
		if r.ReplaceCaption {
			p["caption"] = r.Text
			p["parse_mode"] = tgbotapi.ModeHTML
		}
		if r.ReplyToMessageID != 0 {
			addJSON("reply_parameters", replyParameters(r.ReplyToMessageID))
		}
		if m := replyMarkup(r); m != nil {
			addJSON("reply_markup", m)
		}
		return "copyMessage", p, err
	case r.EditMessageID != 0 && r.Text == "":
		p.AddNonZero("message_id", r.EditMessageID)
		if kb := keyboard(r.Buttons); kb != nil {
			addJSON("reply_markup", kb)
		}
		return "editMessageReplyMarkup", p, err
	case r.EditMessageID != 0:
		p.AddNonZero("message_id", r.EditMessageID)
		p["text"] = r.Text
		p["parse_mode"] = tgbotapi.ModeHTML
		addJSON("link_preview_options", linkPreviewOff)
		if kb := keyboard(r.Buttons); kb != nil {
			addJSON("reply_markup", kb)
		}
		return "editMessageText", p, err
	}
	if r.Text == "" {
		return "", nil, errors.New("reply has no text")
	}
	p["text"] = r.Text
	p["parse_mode"] = tgbotapi.ModeHTML
	addJSON("link_preview_options", linkPreviewOff)
	p.AddNonZero("message_thread_id", r.ThreadID)
	if r.ReplyToMessageID != 0 {
		addJSON("reply_parameters", replyParameters(r.ReplyToMessageID))
	}
	if m := replyMarkup(r); m != nil {
		addJSON("reply_markup", m)
	}
	return "sendMessage", p, err
}

var linkPreviewOff = map[string]bool{"is_disabled": true}

func replyParameters(id int) map[string]any {
	// A reply to a message deleted meanwhile is still sent, unthreaded.
	return map[string]any{"message_id": id, "allow_sending_without_reply": true}
}

// inlineButton is the Bot API InlineKeyboardButton restricted to the two
// kinds the core uses.
type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

func keyboard(rows [][]bot.Button) any {
	var out [][]inlineButton
	for _, row := range rows {
		var r []inlineButton
		for _, b := range row {
			ib := inlineButton{Text: b.Label, URL: b.URL}
			if b.URL == "" {
				ib.CallbackData = b.Data
			}
			r = append(r, ib)
		}
		if len(r) > 0 {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return map[string]any{"inline_keyboard": out}
}

// replyMarkup is the reply_markup of a new message (sent or copied): the
// inline keyboard if r has buttons, else the reply keyboard, else its
// removal, else nil. A message carries one markup only, so inline buttons
// win. Edits take only inline keyboards (see keyboard).
func replyMarkup(r bot.Reply) any {
	if kb := keyboard(r.Buttons); kb != nil {
		return kb
	}
	if kb := replyKeyboard(r.Keyboard); kb != nil {
		return kb
	}
	if r.RemoveKeyboard {
		return replyKeyboardRemove{RemoveKeyboard: true}
	}
	return nil
}

// keyboardButton is the Bot API KeyboardButton: a text the user sends by
// tapping it.
type keyboardButton struct {
	Text string `json:"text"`
}

// replyKeyboardMarkup is the Bot API ReplyKeyboardMarkup. It is persistent
// (shown even when the user hides it behind the system keyboard) and sized
// to its buttons.
type replyKeyboardMarkup struct {
	Keyboard       [][]keyboardButton `json:"keyboard"`
	ResizeKeyboard bool               `json:"resize_keyboard"`
	IsPersistent   bool               `json:"is_persistent"`
}

// replyKeyboardRemove is the Bot API ReplyKeyboardRemove.
type replyKeyboardRemove struct {
	RemoveKeyboard bool `json:"remove_keyboard"`
}

// replyKeyboard builds a persistent reply keyboard, or nil when rows hold no
// button. Blank texts are left out: Telegram refuses a button without text,
// and the message matters more than one button.
func replyKeyboard(rows [][]string) any {
	var out [][]keyboardButton
	for _, row := range rows {
		var r []keyboardButton
		for _, t := range row {
			if strings.TrimSpace(t) != "" {
				r = append(r, keyboardButton{Text: t})
			}
		}
		if len(r) > 0 {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return replyKeyboardMarkup{Keyboard: out, ResizeKeyboard: true, IsPersistent: true}
}

// messageID reads the id from a Message or MessageId result; an edit of an
// inline message returns true, so fall back to the edited id.
func messageID(res json.RawMessage, fallback int) int {
	var m struct {
		MessageID int `json:"message_id"`
	}
	if json.Unmarshal(res, &m) == nil && m.MessageID != 0 {
		return m.MessageID
	}
	return fallback
}

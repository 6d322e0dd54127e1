package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// SecretHeader is the header in which Telegram sends the webhook secret.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Webhook defaults.
const (
	DefaultWebhookMaxBody  = 1 << 20
	DefaultWebhookDeadline = 25 * time.Second
	webhookMaxConnections  = 40
)

// DeriveSecret returns a webhook secret derived from the bot token:
// hex(sha256(token)), 64 characters Telegram accepts as secret_token. Use it
// when no secret is configured.
func DeriveSecret(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// SetWebhook asks Telegram to POST updates to url with secret in
// SecretHeader. An empty secret means DeriveSecret(token), as in
// WebhookHandler. Pending updates are kept.
func (c *Client) SetWebhook(ctx context.Context, url, secret string) error {
	if secret == "" {
		secret = DeriveSecret(c.token)
	}
	p := tgbotapi.Params{
		"url":                  url,
		"secret_token":         secret,
		"max_connections":      strconv.Itoa(webhookMaxConnections),
		"drop_pending_updates": "false",
	}
	if err := p.AddInterface("allowed_updates", allowedUpdates); err != nil {
		return err
	}
	if _, err := c.request(ctx, "setWebhook", p); err != nil {
		return err
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "telegram_webhook_set", slog.Int("max_connections", webhookMaxConnections))
	return nil
}

// WebhookOptions tunes WebhookHandler. Zero fields take the defaults.
type WebhookOptions struct {
	// MaxBody is the largest body accepted, in bytes (413 beyond).
	// Default 1 MiB.
	MaxBody int64
	// Deadline is how long a request waits for its update to be handled
	// before answering 503 so that Telegram retries. Default 25s, measured
	// on Config.Clock.
	Deadline time.Duration
}

// WebhookHandler returns the handler for Telegram's webhook calls. It
// accepts only POST (405), checks SecretHeader against secret in constant
// time (401, body unread; an empty secret means DeriveSecret(token)), limits
// the body (413), decodes the update and submits it to d. It answers 200
// once the update is done, which acknowledges it to Telegram, or 503 if
// opts.Deadline passes first, so that Telegram delivers it again (the core
// drops duplicates by update id). An undecodable update is logged by id and
// acknowledged with 200: Telegram would otherwise retry it forever. Callback
// queries are answered when done, as in Poll.
func (c *Client) WebhookHandler(d Dispatcher, secret string, opts WebhookOptions) http.Handler {
	if secret == "" {
		secret = DeriveSecret(c.token)
	}
	want := []byte(secret)
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultWebhookMaxBody
	}
	if opts.Deadline <= 0 {
		opts.Deadline = DefaultWebhookDeadline
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get(SecretHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_webhook_unauthorized",
				slog.String("remote_addr", r.RemoteAddr), slog.Bool("header_present", got != ""))
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, opts.MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_webhook_too_large", slog.Int64("limit", tooBig.Limit))
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_webhook_read_failed", slog.String("error", err.Error()))
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		u, err := Decode(body, c.Username())
		if err != nil {
			var head struct {
				UpdateID int64 `json:"update_id"`
			}
			_ = json.Unmarshal(body, &head)
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_update_undecodable", slog.Int64("update_id", head.UpdateID), slog.String("error", err.Error()))
			w.WriteHeader(http.StatusOK)
			return
		}

		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		expired := c.clk.After(opts.Deadline)
		go func() {
			select {
			case <-expired:
				cancel()
			case <-sctx.Done():
			}
		}()
		handled := make(chan struct{})
		var once sync.Once
		answer := c.doneFunc(ctx, nil, u)
		done := func() {
			once.Do(func() {
				close(handled)
				answer()
			})
		}
		if err := d.Submit(sctx, u, done); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_webhook_not_accepted", slog.Int64("update_id", u.ID), slog.String("error", err.Error()))
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		select {
		case <-handled:
			w.WriteHeader(http.StatusOK)
		case <-sctx.Done():
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_webhook_deadline", slog.Int64("update_id", u.ID))
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	})
}

// Package telegram connects the transport-neutral core (package bot) to the
// Telegram Bot API: it decodes updates, receives them by long polling or
// webhook, and delivers replies within Telegram's rate limits. It is the
// only package of Passerelle that imports the Telegram library.
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
)

// DefaultAPIURL is the base URL of the public Bot API.
const DefaultAPIURL = "https://api.telegram.org"

// Defaults applied by New to zero Config fields.
const (
	DefaultSendRate       = 30.0
	DefaultChatInterval   = time.Second
	DefaultGroupPerMinute = 20
	DefaultPollTimeout    = 50 * time.Second
)

// chatBurst is how many messages one chat may receive back to back before
// ChatInterval applies; Telegram tolerates short bursts.
const chatBurst = 3

// callTimeout bounds one Bot API call other than getUpdates, in real time:
// it is a network guard, not part of the bot's logic.
const callTimeout = 30 * time.Second

// allowedUpdates is the list of update types the bot asks for, by polling or
// webhook. It is always sent: an omitted list keeps Telegram's previous
// setting, and an empty one leaves chat_member out. chat_member (another
// user's membership of a group changed, so a volunteer who leaves a partner
// group releases their cases) must be listed explicitly, and Telegram sends
// it only for groups where the bot is an administrator.
var allowedUpdates = []string{"message", "edited_message", "callback_query", "my_chat_member", "chat_member"}

// Errors returned by Poll and New, wrapped.
var (
	// ErrConflict: Telegram refused getUpdates because another instance is
	// polling with the same token or a webhook is set (HTTP 409).
	ErrConflict = errors.New("telegram: conflict: another instance is polling or a webhook is set")
	// ErrUnauthorized: Telegram rejected the token (HTTP 401).
	ErrUnauthorized = errors.New("telegram: unauthorized: the bot token was rejected")
)

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// Token is the bot token from @BotFather. Required. It never appears in
	// logs or in errors returned by this package.
	Token string
	// APIURL is the Bot API base URL, e.g. https://api.telegram.org, a local
	// Bot API server or a test fake. The bot calls {APIURL}/bot{token}/{method}.
	// Default DefaultAPIURL.
	APIURL string
	// HTTPClient makes the requests. Optional; its Timeout, if any, must
	// exceed PollTimeout. Every request also carries the caller's context.
	HTTPClient *http.Client
	// Logger receives events with ids only. Default: slog.Default().
	Logger *slog.Logger
	// Clock drives every wait (rate limits, retry_after, backoff, webhook
	// deadline). Default clock.Real.
	Clock clock.Clock
	// SendRate is the global number of messages per second the Sender
	// allows, in any one second (a message counts from its admission until
	// its request is answered, then from the answer). Default 30; negative:
	// no global limit.
	SendRate float64
	// ChatInterval is the interval between messages to one chat, after a
	// burst of 3. Default 1s; negative: no per-chat limit.
	ChatInterval time.Duration
	// GroupPerMinute caps messages to one group (negative chat id) in any
	// 60-second window. Default 20; negative: no group limit.
	//
	// The negative settings are for tests on a fake clock and for local
	// Bot API servers; Telegram itself enforces the defaults.
	GroupPerMinute int
	// PollTimeout is the long-poll timeout sent to getUpdates (whole
	// seconds). Default 50s.
	PollTimeout time.Duration
	// OnMigrate, if set, is called when Telegram reports that group from
	// became supergroup to, before the reply is resent to the new id.
	OnMigrate func(ctx context.Context, from, to int64)
	// Observer, if set, is told the result of every send request and
	// every retry_after, for metrics.
	Observer SendObserver
}

// SendObserver is told what the Sender does, for the operator's metrics:
// lanes, results and waits only, never a chat id or a text. Its methods
// must be fast and safe for concurrent use.
type SendObserver interface {
	// SendResult: one request of a send got this result (Result*).
	SendResult(lane bot.Lane, result string)
	// RetryAfter: Telegram asked to wait d before sending again (429).
	RetryAfter(d time.Duration)
}

// Client talks to the Bot API for one bot. It is safe for concurrent use.
type Client struct {
	api     *tgbotapi.BotAPI
	token   string
	secrets []string // credentials of the API URL, never shown (urlSecrets)
	http    *http.Client
	log     *slog.Logger
	clk     clock.Clock
	cfg     Config
	sender  *Sender
	gate    *limiter // rate limits and the bot-wide 429 pause

	migMu      sync.Mutex
	migrations map[int64]int64 // old group id → new supergroup id
}

// New checks the token with getMe and returns a Client. Errors never
// contain the token; a rejected token gives an error wrapping
// ErrUnauthorized.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("telegram: empty token")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.SendRate == 0 {
		cfg.SendRate = DefaultSendRate
	}
	if cfg.ChatInterval == 0 {
		cfg.ChatInterval = DefaultChatInterval
	}
	if cfg.GroupPerMinute == 0 {
		cfg.GroupPerMinute = DefaultGroupPerMinute
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = DefaultPollTimeout
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	installLibraryLogger(cfg.Logger)

	c := &Client{
		token:      cfg.Token,
		http:       hc,
		log:        cfg.Logger,
		clk:        cfg.Clock,
		cfg:        cfg,
		migrations: make(map[int64]int64),
		secrets:    urlSecrets(cfg.APIURL),
	}
	c.gate = newLimiter(cfg.Clock, cfg.SendRate, cfg.ChatInterval, chatBurst, cfg.GroupPerMinute)
	c.sender = &Sender{c: c}

	// The library's constructor calls getMe without a context; give it a
	// client bound to ctx so that a dead endpoint cannot hang New.
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	cc := &callClient{ctx: cctx, base: hc, token: cfg.Token, secrets: c.secrets}
	// The library formats the endpoint with Sprintf: a "%" of the URL
	// (an escaped character of a password) must be doubled.
	endpoint := strings.ReplaceAll(cfg.APIURL, "%", "%%") + "/bot%s/%s"
	api, err := tgbotapi.NewBotAPIWithClient(cfg.Token, endpoint, cc)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("telegram: getMe: %w", ctx.Err())
		}
		err = c.convert("getMe", err, cc.status)
		c.log.LogAttrs(ctx, slog.LevelError, "telegram_getme_failed", slog.String("error", err.Error()))
		return nil, err
	}
	api.Debug = false // Debug logs full params and responses: message text.
	// Calls go through Client.call, which gives each one a client bound to
	// its context; this one only keeps errors redacted should the library
	// make a request on its own.
	api.Client = &callClient{base: hc, token: cfg.Token, secrets: c.secrets}
	c.api = api
	c.log.LogAttrs(ctx, slog.LevelInfo, "telegram_ready", slog.Int64("bot_id", api.Self.ID))
	return c, nil
}

// Username returns the bot's username as reported by getMe, without "@".
func (c *Client) Username() string { return c.api.Self.UserName }

// APIError is an error answer of the Bot API.
type APIError struct {
	Method      string // the Bot API method called
	Code        int    // error_code, e.g. 400, 403, 429
	Description string // Telegram's description, not a stable API
	// RetryAfter is how long to wait before repeating the request (429).
	RetryAfter time.Duration
	// MigrateToChatID is the new supergroup id when a group was upgraded.
	MigrateToChatID int64
}

// Error returns the method, code and description.
func (e *APIError) Error() string {
	return fmt.Sprintf("telegram: %s: %d %s", e.Method, e.Code, e.Description)
}

// Is makes errors.Is(err, ErrConflict) and errors.Is(err, ErrUnauthorized)
// hold for the matching codes.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrConflict:
		return e.Code == http.StatusConflict
	case ErrUnauthorized:
		return e.Code == http.StatusUnauthorized
	}
	return false
}

// serverError is a transport-level failure worth retrying: a network error,
// or an HTTP 5xx whose body was not a Bot API answer.
type serverError struct {
	method string
	status int
	err    error
}

func (e *serverError) Error() string {
	if e.status != 0 {
		return fmt.Sprintf("telegram: %s: HTTP %d: %v", e.method, e.status, e.err)
	}
	return fmt.Sprintf("telegram: %s: %v", e.method, e.err)
}

func (e *serverError) Unwrap() error { return e.err }

// call makes one Bot API request bound to ctx and returns its result. Errors
// are redacted and are *APIError for Bot API answers.
func (c *Client) call(ctx context.Context, method string, p tgbotapi.Params) (json.RawMessage, error) {
	timeout := callTimeout
	if method == "getUpdates" {
		timeout = c.cfg.PollTimeout + 10*time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cc := &callClient{ctx: cctx, base: c.http, token: c.token, secrets: c.secrets}
	api := *c.api // a per-call copy carries the per-call client
	api.Client = cc
	resp, err := api.MakeRequest(method, p)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("telegram: %s: %w", method, ctx.Err())
		}
		return nil, c.convert(method, err, cc.status)
	}
	return resp.Result, nil
}

// convert turns a library or transport error into *APIError or
// *serverError, redacted.
func (c *Client) convert(method string, err error, status int) error {
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		if te.Code == 0 {
			te.Code = status
		}
		return &APIError{
			Method:          method,
			Code:            te.Code,
			Description:     redact(te.Message, c.token, c.secrets...),
			RetryAfter:      time.Duration(te.RetryAfter) * time.Second,
			MigrateToChatID: te.MigrateToChatID,
		}
	}
	err = redactError(err, c.token, c.secrets...)
	switch {
	case status == http.StatusUnauthorized:
		return &APIError{Method: method, Code: status, Description: "Unauthorized"}
	case status == http.StatusConflict:
		return &APIError{Method: method, Code: status, Description: "Conflict"}
	case status == http.StatusTooManyRequests:
		return &APIError{Method: method, Code: status, Description: "Too Many Requests", RetryAfter: time.Second}
	case status >= 400 && status < 500:
		return &APIError{Method: method, Code: status, Description: http.StatusText(status)}
	}
	return &serverError{method: method, status: status, err: err}
}

// retryable reports whether err is a transient failure: 5xx or network.
func retryable(err error) bool {
	var se *serverError
	if errors.As(err, &se) {
		return true
	}
	var ae *APIError
	return errors.As(err, &ae) && ae.Code >= 500
}

// backoff returns the wait before retry number attempt (1-based): base
// doubling up to max, with ±20 % jitter.
func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return jitter(d)
}

// request makes a call that is not a message: it waits out a bot-wide 429
// pause, honours retry_after, and retries transient failures a few times.
func (c *Client) request(ctx context.Context, method string, p tgbotapi.Params) (json.RawMessage, error) {
	const maxAttempts = 4
	for attempt := 1; ; attempt++ {
		if err := c.gate.waitPause(ctx); err != nil {
			return nil, fmt.Errorf("telegram: %s: %w", method, err)
		}
		res, err := c.call(ctx, method, p)
		if err == nil {
			return res, nil
		}
		var ae *APIError
		switch {
		case ctx.Err() != nil:
			return nil, err
		case errors.As(err, &ae) && ae.Code == http.StatusTooManyRequests:
			c.pause(ctx, method, ae.RetryAfter)
			if attempt > 3*maxAttempts {
				return nil, err
			}
		case retryable(err) && attempt < maxAttempts:
			d := backoff(attempt, 500*time.Millisecond, 8*time.Second)
			c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_retry", slog.String("method", method),
				slog.Int("attempt", attempt), slog.Duration("wait", d), slog.String("error", err.Error()))
			if !clock.Sleep(ctx, c.clk, d) {
				return nil, fmt.Errorf("telegram: %s: %w", method, ctx.Err())
			}
		default:
			return nil, err
		}
	}
}

// pause blocks every send of the bot for d, after a 429.
func (c *Client) pause(ctx context.Context, method string, d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, "telegram_flood_wait", slog.String("method", method), slog.Duration("retry_after", d))
	if o := c.cfg.Observer; o != nil {
		o.RetryAfter(d)
	}
	c.gate.pauseFor(d)
}

// resolveChat follows group→supergroup migrations learnt from Telegram.
func (c *Client) resolveChat(id int64) int64 {
	c.migMu.Lock()
	defer c.migMu.Unlock()
	for i := 0; i < 4; i++ { // a chain longer than this would be a loop
		to, ok := c.migrations[id]
		if !ok {
			break
		}
		id = to
	}
	return id
}

func (c *Client) remember(from, to int64) {
	c.migMu.Lock()
	c.migrations[from] = to
	c.migMu.Unlock()
}

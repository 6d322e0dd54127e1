package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// tokenMask replaces the token wherever it would appear.
const tokenMask = "<token>"

// tokenPattern matches anything shaped like a bot token, for text whose
// token is not known (the library's global logger).
var tokenPattern = regexp.MustCompile(`\d{3,}:[A-Za-z0-9_-]{20,}`)

// quotedURLPattern matches a URL in double quotes, as Go's errors quote
// the request's (up to the closing quote: an unescaped password may hold
// spaces); urlPattern one without quotes.
var (
	quotedURLPattern = regexp.MustCompile(`"[A-Za-z][A-Za-z0-9+.-]*://[^"]*"`)
	urlPattern       = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)
)

// secretMask replaces what a URL carries besides its address.
const secretMask = "redacted"

// scrubURL returns raw without the credentials a URL may carry: the user
// and password become "redacted", so does the query; the fragment goes.
func scrubURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return scrubText(raw)
	}
	if u.User == nil && u.RawQuery == "" && u.Fragment == "" {
		return raw
	}
	if u.User != nil {
		u.User = url.User(secretMask)
	}
	if u.RawQuery != "" {
		u.RawQuery = secretMask
	}
	u.Fragment = ""
	return u.String()
}

// scrubText is scrubURL for a URL that does not parse: everything between
// the scheme and the last "@" of the authority, and from the first "?" or
// "#", is masked.
func scrubText(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i] + "?" + secretMask
	}
	auth, path := rest, ""
	if i := strings.Index(rest, "/"); i >= 0 {
		auth, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndex(auth, "@"); i >= 0 {
		auth = secretMask + auth[i:]
	}
	return scheme + "://" + auth + path
}

// urlSecrets lists what of the Bot API base URL must never be shown
// outside a URL either: its password and query values, when long enough
// to be told from ordinary words (a URL's user name, password and query
// are redacted wherever the URL itself appears).
func urlSecrets(base string) []string {
	u, err := url.Parse(base)
	if err != nil {
		return nil
	}
	var out []string
	add := func(v string) {
		if len(v) >= 6 {
			out = append(out, v)
		}
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			add(p)
			add(url.QueryEscape(p))
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			add(v)
			add(url.QueryEscape(v))
		}
	}
	return out
}

// redact removes token, and its secret half, from s, with the credentials
// of any URL in it and the other secrets given.
func redact(s, token string, secrets ...string) string {
	s = quotedURLPattern.ReplaceAllStringFunc(s, func(q string) string { return `"` + scrubURL(q[1:len(q)-1]) + `"` })
	s = urlPattern.ReplaceAllStringFunc(s, scrubURL)
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, secretMask)
		}
	}
	if token != "" {
		s = strings.ReplaceAll(s, token, tokenMask)
		s = strings.ReplaceAll(s, url.PathEscape(token), tokenMask)
		if _, secret, ok := strings.Cut(token, ":"); ok && len(secret) >= 8 {
			s = strings.ReplaceAll(s, secret, tokenMask)
		}
	}
	return tokenPattern.ReplaceAllString(s, tokenMask)
}

// redactedError carries a redacted message. It answers errors.Is for its
// cause (context.Canceled, os.ErrDeadlineExceeded…) and reports Timeout,
// but does not unwrap: errors.As cannot reach the unredacted cause.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Is(target error) bool { return errors.Is(e.cause, target) }

// Timeout reports whether the cause was a timeout.
func (e *redactedError) Timeout() bool {
	var ne net.Error
	return errors.As(e.cause, &ne) && ne.Timeout()
}

// redactError returns err unchanged if its text holds neither the token
// nor credentials (see redact), and a redacted copy otherwise. A *url.Error
// keeps its type with the URL redacted, so callers can still inspect it.
func redactError(err error, token string, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if redact(msg, token, secrets...) == msg {
		return err
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: redact(ue.URL, token, secrets...), Err: redactError(ue.Err, token, secrets...)}
	}
	return &redactedError{msg: redact(msg, token, secrets...), cause: err}
}

// callClient is the library's HTTPClient for one call: it binds the request
// to ctx (the library has no context), records the HTTP status, and
// redacts errors, which Go prints with the full URL and so the token.
type callClient struct {
	ctx     context.Context // nil: no binding
	base    *http.Client
	token   string
	secrets []string // of the API URL (urlSecrets)
	status  int
}

// Do sends req with the call's context.
func (cc *callClient) Do(req *http.Request) (*http.Response, error) {
	if cc.ctx != nil {
		req = req.WithContext(cc.ctx)
	}
	resp, err := cc.base.Do(req)
	if err != nil {
		return nil, redactError(err, cc.token, cc.secrets...)
	}
	cc.status = resp.StatusCode
	return resp, nil
}

// libLogger is the library's package-global logger. The library logs only
// in Debug mode (never enabled) and in GetUpdatesChan (never used); it is
// replaced anyway so that nothing it prints can carry a token or text.
type libLogger struct{}

var (
	libLoggerOnce sync.Once
	libLogTarget  atomic.Pointer[slog.Logger]
)

func installLibraryLogger(l *slog.Logger) {
	libLogTarget.Store(l)
	libLoggerOnce.Do(func() { _ = tgbotapi.SetLogger(libLogger{}) })
}

// Println logs a library message, redacted, at Debug.
func (libLogger) Println(v ...any) { logLibrary(fmt.Sprint(v...)) }

// Printf logs a library message, redacted, at Debug.
func (libLogger) Printf(format string, v ...any) { logLibrary(fmt.Sprintf(format, v...)) }

func logLibrary(msg string) {
	l := libLogTarget.Load()
	if l == nil {
		return
	}
	// The library's messages may hold request parameters (message text);
	// keep only their length.
	l.Debug("telegram_library_log", slog.Int("len", len(msg)))
}

// jitter spreads d by ±20 %.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - d/5 + time.Duration(rand.Int64N(int64(d)*2/5+1))
}

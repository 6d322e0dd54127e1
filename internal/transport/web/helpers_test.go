package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/catalog/catalogtest"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/transport/web"
)

// world is the bot and the page on a bolt store and a fake clock (the
// worked example's day: 2026-12-12), served by httptest.
type world struct {
	srv   *httptest.Server
	page  *web.Transport
	bot   *bot.Bot
	st    *bolt.Store
	cat   *catalog.Catalog
	clk   *clock.Fake
	paris *time.Location
	logs  *syncBuffer
}

var workedDay = time.Date(2026, 12, 12, 15, 0, 0, 0, time.UTC)

func newWorld(t testing.TB, cfg ...func(*web.Config)) *world {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{clk: clock.NewFake(workedDay), paris: paris, logs: &syncBuffer{}}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "web.db"), bolt.WithKeys(seal.Ephemeral()), bolt.WithClock(w.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	cat := catalogtest.Shipped(t)
	w.cat = cat
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wc := web.Config{Store: st, Catalog: cat, Clock: w.clk, Logger: logger}
	for _, f := range cfg {
		f(&wc)
	}
	page, err := web.New(wc)
	if err != nil {
		t.Fatal(err)
	}
	w.page = page
	b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: page, Logger: logger, Clock: w.clk, Location: paris, Guide: g, Documents: st, Reminders: st, ReminderHour: 10})
	if err != nil {
		t.Fatal(err)
	}
	w.bot = b
	page.SetCore(b)
	w.srv = httptest.NewServer(page)
	t.Cleanup(w.srv.Close)
	t.Cleanup(page.Close)
	return w
}

// browser is a resident's browser: it keeps the cookie (over plain http,
// which Go's cookie jar refuses for a Secure cookie) and the last page.
type browser struct {
	t       testing.TB
	w       *world
	cookie  string // the session token
	other   map[string]string
	page    string // last HTML page
	status  int
	lang    string // Accept-Language
	headers http.Header
}

func (w *world) browser(t testing.TB, lang string) *browser {
	return &browser{t: t, w: w, lang: lang}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request and follows redirects, keeping the cookie.
func (b *browser) do(method, path string, form url.Values) string {
	b.t.Helper()
	for range 5 {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, b.w.srv.URL+path, body)
		if err != nil {
			b.t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		if b.lang != "" {
			req.Header.Set("Accept-Language", b.lang)
		}
		if b.cookie != "" {
			req.AddCookie(&http.Cookie{Name: "__Host-passerelle", Value: b.cookie})
		}
		for k, v := range b.other {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			b.t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "__Host-passerelle" {
				b.cookie = c.Value
				if c.MaxAge < 0 {
					b.cookie = ""
				}
				continue
			}
			if b.other == nil {
				b.other = map[string]string{}
			}
			b.other[c.Name] = c.Value
		}
		b.status, b.headers = resp.StatusCode, resp.Header
		if resp.StatusCode == http.StatusSeeOther {
			method, path, form = http.MethodGet, resp.Header.Get("Location"), nil
			continue
		}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			b.page = string(data)
		}
		return string(data)
	}
	b.t.Fatal("too many redirects")
	return ""
}

func (b *browser) open(path string) string { return b.do(http.MethodGet, path, nil) }

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	buttonRE = regexp.MustCompile(`<button name="b" value="([^"]*)"[^>]*>([^<]*)</button>`)
)

func (b *browser) csrf() string {
	b.t.Helper()
	m := csrfRE.FindStringSubmatch(b.page)
	if m == nil {
		b.t.Fatalf("no CSRF token on the page:\n%s", b.page)
	}
	return m[1]
}

var nonces struct {
	sync.Mutex
	n int
}

func nonce() string {
	nonces.Lock()
	defer nonces.Unlock()
	nonces.n++
	return "test-nonce-" + strconv.Itoa(nonces.n)
}

// messages returns the part of the page with the conversation.
func (b *browser) messages() string {
	i := strings.Index(b.page, `<div id="msgs"`)
	j := strings.Index(b.page, `<form method="post" action="/chat/" class="compose">`)
	if i < 0 || j < i {
		return b.page
	}
	return b.page[i:j]
}

// press presses the button labelled label in the conversation.
func (b *browser) press(label string) string {
	b.t.Helper()
	for _, m := range buttonRE.FindAllStringSubmatch(b.messages(), -1) {
		if html.UnescapeString(m[2]) == label {
			return b.post("/chat/", url.Values{"b": {html.UnescapeString(m[1])}})
		}
	}
	b.t.Fatalf("no button %q on the page:\n%s", label, b.messages())
	return ""
}

// pressN presses the n-th button (from 1) of the conversation.
func (b *browser) pressN(n int) string {
	b.t.Helper()
	all := buttonRE.FindAllStringSubmatch(b.messages(), -1)
	if n > len(all) {
		b.t.Fatalf("no button %d on the page (%d buttons):\n%s", n, len(all), b.messages())
	}
	return b.post("/chat/", url.Values{"b": {html.UnescapeString(all[n-1][1])}})
}

// say types text in the field and sends it.
func (b *browser) say(text string) string {
	b.t.Helper()
	return b.post("/chat/", url.Values{"text": {text}})
}

func (b *browser) post(path string, form url.Values) string {
	b.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf())
	}
	if form.Get("n") == "" {
		form.Set("n", nonce())
	}
	return b.do(http.MethodPost, path, form)
}

// text is the page's conversation as text, without tags.
func (b *browser) text() string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(b.messages(), " "))
}

func (w *world) t(lang, id string, args ...any) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(w.cat.Printer(lang).T(id, args...), ""))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ = context.Background

func TestMain(m *testing.M) { catalogtest.Exit(m.Run()) }

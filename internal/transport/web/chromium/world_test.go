// Package chromium_test drives the web page in headless Chromium (Debian's
// chromium package) with chromedp: the whole bot, the page and the fake
// Bot API (partner groups) in process, one browser for all tests, one
// browser context (cookies, downloads) per test.
//
// Without Chromium the tests skip and say so; PASSERELLE_TEST_REQUIRE_BROWSER=1
// (set by CI) turns that skip into a failure. axe-core is read from
// PASSERELLE_TEST_AXE (the path of axe.min.js), else from
// ~/.cache/passerelle/axe/node_modules/axe-core/axe.min.js, where .ci/run
// installs it with npm. PASSERELLE_TEST_SCREENSHOTS=DIR writes the
// screenshots of docs/screenshots into DIR.
package chromium_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/internal/transport/web"
	"github.com/passerelle-bot/passerelle/locales"
)

// browserCtx is the shared browser, nil when Chromium is missing.
var (
	browserCtx  context.Context
	browserErr  error
	axeSource   string
	axeErr      error
	requireEnv  = os.Getenv("PASSERELLE_TEST_REQUIRE_BROWSER") == "1"
	screenshots = os.Getenv("PASSERELLE_TEST_SCREENSHOTS")
)

func TestMain(m *testing.M) {
	cancel := startBrowser()
	code := m.Run()
	cancel()
	os.Exit(code)
}

func startBrowser() func() {
	path := os.Getenv("PASSERELLE_TEST_CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		browserErr = fmt.Errorf("Chromium not found: install Debian's chromium package (apt-get install chromium) or set PASSERELLE_TEST_CHROMIUM")
		return func() {}
	}
	dir, err := os.MkdirTemp("", "passerelle-chromium-")
	if err != nil {
		browserErr = err
		return func() {}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(dir),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil {
		browserErr = fmt.Errorf("Chromium %s did not start: %w", path, err)
		cancelCtx()
		cancelAlloc()
		os.RemoveAll(dir)
		return func() {}
	}
	browserCtx = ctx
	axePath := os.Getenv("PASSERELLE_TEST_AXE")
	if axePath == "" {
		home, _ := os.UserHomeDir()
		axePath = filepath.Join(home, ".cache", "passerelle", "axe", "node_modules", "axe-core", "axe.min.js")
	}
	if b, err := os.ReadFile(axePath); err != nil {
		axeErr = fmt.Errorf("axe-core not found at %s: npm install --prefix ~/.cache/passerelle/axe axe-core, or set PASSERELLE_TEST_AXE", axePath)
	} else {
		axeSource = string(b)
	}
	return func() {
		cancelCtx()
		cancelAlloc()
		os.RemoveAll(dir)
	}
}

// needBrowser skips (or, in CI, fails) a test when Chromium is missing.
func needBrowser(t *testing.T) {
	t.Helper()
	if browserCtx != nil {
		return
	}
	if requireEnv {
		t.Fatalf("%v (PASSERELLE_TEST_REQUIRE_BROWSER=1)", browserErr)
	}
	t.Skipf("browser tests skipped: %v", browserErr)
}

const lyon = -1001000000001

const partnersYAML = `
partners:
  - id: lyon
    name: Entraide Rhône
    chat_id: -1001000000001
    departements: all
    languages: [fr, ar]
    problems: all
    hours: &always
      monday: 00:00-24:00
      tuesday: 00:00-24:00
      wednesday: 00:00-24:00
      thursday: 00:00-24:00
      friday: 00:00-24:00
      saturday: 00:00-24:00
      sunday: 00:00-24:00
    capacity: 10
    referents: [200000001]
`

var lina = telegramtest.User{ID: 200000005, FirstName: "Lina"}

// world is the bot as run wires it with PASSERELLE_WEB=on and a partner,
// on a fake clock at the worked example's day (2026-12-12).
type world struct {
	tg   *telegramtest.Server
	base string // http://localhost:PORT, a secure context for the cookie
	cat  *catalog.Catalog
	st   *bolt.Store
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{tg: telegramtest.NewServer(t)}
	w.tg.AddGroup(lyon, "Entraide Rhône – bénévoles", true, telegramtest.ChatAdminRights{CanManageChat: true, CanDeleteMessages: true, CanPinMessages: true, CanManageTopics: true})
	w.tg.SetMember(lyon, lina, "member")
	clk := clock.NewFake(time.Date(2026, 12, 12, 11, 0, 0, 0, time.UTC))
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "b.db"), bolt.WithKeys(seal.Ephemeral()), bolt.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	w.st = st
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	cat.SetMissing(func(lang, id string, err error) { t.Errorf("catalog fallback: %s %s", lang, id) })
	w.cat = cat
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	partners, err := handoff.LoadPartners(strings.NewReader(partnersYAML))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := telegram.New(ctx, telegram.Config{Token: w.tg.Token(), APIURL: w.tg.APIURL(), Logger: logger, ChatInterval: -1, GroupPerMinute: -1, PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	page, err := web.New(web.Config{Store: st, Catalog: cat, Clock: clk, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(bot.Config{
		Store: st, Catalog: cat, Sender: bot.NewRouter(client.Sender(), bot.Route{Owns: page.Owns, Sender: page}),
		Logger: logger, Clock: clk, Location: paris, Guide: g, Documents: st, Reminders: st, ReminderHour: 10,
		Partners: partners, Cases: st, Outbox: st, Groups: client, BotUsername: client.Username(),
	})
	if err != nil {
		t.Fatal(err)
	}
	page.SetCore(b)
	updates := bot.NewDispatcher(b, bot.DispatcherConfig{Logger: logger, Clock: clock.Real{}})
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); _ = client.Poll(ctx, updates) }()
	relayDone := make(chan struct{}) // relay copies leave through the outbox worker
	go func() { defer close(relayDone); _ = b.RunRelay(ctx) }()
	hs := httptest.NewServer(page)
	_, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
	w.base = "http://localhost:" + port
	t.Cleanup(func() {
		page.Close()
		hs.Close()
		cancel()
		<-pollDone
		_ = updates.Close(context.Background())
		<-relayDone
		st.Close()
	})
	w.tg.WaitPolling(t, 10*time.Second)
	return w
}

func (w *world) t(lang, id string, args ...any) string {
	return plainText(w.cat.Printer(lang).T(id, args...))
}

var shotMu sync.Mutex

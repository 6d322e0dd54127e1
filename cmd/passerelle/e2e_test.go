package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/locales"
)

const wait = 10 * time.Second

// syncBuffer collects the bot's logs from several goroutines.
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

// instance is one run() of the real program against the fake Bot API.
type instance struct {
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

func startBot(t *testing.T, env map[string]string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	getenv := func(k string) string { return env[k] }
	go func() { in.done <- run(ctx, []string{"run"}, getenv, strings.NewReader(""), io.Discard, in.logs) }()
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop cancels the instance as SIGTERM would and waits for it to return.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("run returned %v\nlogs:\n%s", err, in.logs.String())
		}
	case <-time.After(wait):
		t.Fatalf("run did not stop\nlogs:\n%s", in.logs.String())
	}
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// testDataKey is the master key of the end-to-end tests' stores (made with
// `passerelle keygen`); testKeys is it parsed.
const testDataKey = "y8ZqCnQy9K0mB6tF3hWm1rV2sXuJ7aLdE5oP4iGcN0U="

var testKeys = func() *seal.Keyring {
	k, err := seal.ParseKey(testDataKey)
	if err != nil {
		panic(err)
	}
	return k
}()

func baseEnv(t *testing.T, srv *telegramtest.Server, store string) map[string]string {
	return map[string]string{
		"TELEGRAM_BOT_TOKEN":   srv.Token(),
		"TELEGRAM_API_URL":     srv.APIURL(),
		"PASSERELLE_STORE":     store,
		"PASSERELLE_LISTEN":    freeAddr(t),
		"PASSERELLE_SEND_RATE": "1000",
		"PASSERELLE_DATA_KEY":  testDataKey,

		"PASSERELLE_OPERATOR_NAME":    testOperatorName,
		"PASSERELLE_OPERATOR_CONTACT": testOperatorContact,
	}
}

type backend struct {
	name  string
	store func(t *testing.T) string
}

// backends lists the stores end-to-end tests run on: bolt always, Redis
// when PASSERELLE_TEST_REDIS_URL is set (required in CI).
func backends(t *testing.T) []backend {
	list := []backend{{"bolt", func(t *testing.T) string { return "bolt:" + filepath.Join(t.TempDir(), "e2e.db") }}}
	url := os.Getenv("PASSERELLE_TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("PASSERELLE_TEST_REQUIRE_REDIS") == "1" {
			t.Fatal("PASSERELLE_TEST_REQUIRE_REDIS=1 but PASSERELLE_TEST_REDIS_URL is not set")
		}
		t.Log("Redis end-to-end skipped: set PASSERELLE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
		return list
	}
	return append(list, backend{"redis", func(t *testing.T) string {
		prefix := fmt.Sprintf("pase2e-%d-%d", os.Getpid(), time.Now().UnixNano())
		t.Cleanup(func() { cleanRedis(t, url, prefix) })
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		return url + sep + "prefix=" + prefix
	}})
}

func cleanRedis(t *testing.T, url, prefix string) {
	ctx := context.Background()
	st, err := redis.Open(ctx, url, redis.WithPrefix(prefix), redis.WithKeys(testKeys))
	if err != nil {
		t.Logf("clean redis: %v", err)
		return
	}
	defer st.Close()
	var keys []string
	st.Scan(ctx, func(k, v string) error { keys = append(keys, k); return nil })
	for _, k := range keys {
		st.Client().Del(ctx, k)
	}
}

func lastMessage(t *testing.T, srv *telegramtest.Server, chat int64, n int) telegramtest.Message {
	t.Helper()
	msgs := srv.WaitMessages(t, chat, n, wait)
	return msgs[n-1]
}

func hasButton(m telegramtest.Message, label string) bool {
	for _, row := range m.Buttons {
		for _, b := range row {
			if catalog.StripMarks(b.Text) == label {
				return true
			}
		}
	}
	return false
}

func TestEndToEndPolling(t *testing.T) {
	t.Parallel()
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			srv := telegramtest.NewServer(t)
			env := baseEnv(t, srv, be.store(t))
			in := startBot(t, env)

			srv.WaitPolling(t, wait)
			for _, path := range []string{"/healthz", "/readyz"} {
				resp, err := http.Get("http://" + env["PASSERELLE_LISTEN"] + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s = %d; want 200", path, resp.StatusCode)
				}
			}
			var health bytes.Buffer
			if err := run(context.Background(), []string{"health"}, func(k string) string { return env[k] }, nil, &health, &health); err != nil {
				t.Errorf("passerelle health: %v (%s)", err, health.String())
			}

			arabic := telegramtest.User{ID: 1001, FirstName: "Amal", LanguageCode: "ar"}
			srv.SendText(arabic, "/start")
			// First the honest notice (no native speaker reviewed Arabic
			// yet), then the welcome.
			if m := lastMessage(t, srv, arabic.ID, 1); !strings.Contains(m.Text, "بمساعدة آلة") {
				t.Errorf("ar /start: first message %q; want the not-yet-reviewed notice", m.Text)
			}
			m := lastMessage(t, srv, arabic.ID, 2)
			if !strings.Contains(catalog.StripMarks(m.Text), "مرحبًا بك في Passerelle") || !hasButton(m, "📄 بياناتي") {
				t.Errorf("ar /start: got %q with buttons %v; want the Arabic welcome with the menu", m.Text, m.Buttons)
			}

			unknown := telegramtest.User{ID: 1002, FirstName: "X", LanguageCode: "xx"}
			srv.SendText(unknown, "/start")
			m = lastMessage(t, srv, unknown.ID, 1)
			if !hasButton(m, "العربية") || !hasButton(m, "Français") || strings.Contains(m.Text, "Welcome") {
				t.Errorf("xx /start: got %q %v; want the language picker first", m.Text, m.Buttons)
			}

			french := telegramtest.User{ID: 1003, FirstName: "Jean", LanguageCode: "fr"}
			srv.SendText(french, "/language")
			lastMessage(t, srv, french.ID, 1)
			if _, err := srv.PressButton(french, french.ID, "English"); err != nil {
				t.Fatal(err)
			}
			m = lastMessage(t, srv, french.ID, 2)
			if !strings.Contains(m.Text, "Language: English") {
				t.Errorf("after choosing English: %q", m.Text)
			}
			srv.WaitCalls(t, "answerCallbackQuery", 1, wait)

			// Commands were installed per language.
			if cmds := srv.Commands(telegramtest.CommandScope{}, "fr"); len(cmds) != 9 {
				t.Errorf("French command menu has %d entries; want 9", len(cmds))
			}
			// Every locale has its commands and descriptions; zh-Hans
			// under Telegram's two-letter code.
			cat, err := catalog.Load(locales.FS)
			if err != nil {
				t.Fatal(err)
			}
			for _, code := range []string{"zh", "ps", "ti", "uk", "bn", "ur", "fa"} {
				tag := code
				if code == "zh" {
					tag = "zh-Hans"
				}
				p := cat.Printer(tag)
				if cmds := srv.Commands(telegramtest.CommandScope{}, code); len(cmds) != 9 || cmds[0].Description != p.T("command.start") {
					t.Errorf("%s command menu = %+v", code, cmds)
				}
				if got := srv.Description(code); got != p.T("bot.description") {
					t.Errorf("%s description = %q", code, got)
				}
				if got := srv.ShortDescription(code); got != p.T("bot.short_description") {
					t.Errorf("%s short description = %q", code, got)
				}
			}
			setCalls := len(srv.Calls("setMyDescription")) + len(srv.Calls("setMyShortDescription")) + len(srv.Calls("setMyCommands"))

			in.stop(t)
			// The choice survives a restart of run() on the same store.
			env["PASSERELLE_LISTEN"] = freeAddr(t)
			startBot(t, env)
			srv.SendText(french, "/menu")
			m = lastMessage(t, srv, french.ID, 3)
			if !strings.Contains(m.Text, "Main menu") {
				t.Errorf("after restart /menu = %q; want English", m.Text)
			}
			if n := len(srv.Calls("setMyDescription")) + len(srv.Calls("setMyShortDescription")) + len(srv.Calls("setMyCommands")); n != setCalls {
				t.Errorf("restart set commands or descriptions again (%d calls, was %d): they did not change", n, setCalls)
			}
			srv.RequireNoSpecErrors(t)
		})
	}
}

func TestEndToEndSenderFaults(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t)
	path := filepath.Join(t.TempDir(), "faults.db")
	in := startBot(t, baseEnv(t, srv, "bolt:"+path))

	flaky := telegramtest.User{ID: 2001, LanguageCode: "en"}
	srv.FailNext(flaky.ID, telegramtest.ServerError())
	srv.SendText(flaky, "/help")
	lastMessage(t, srv, flaky.ID, 1)

	busy := telegramtest.User{ID: 2002, LanguageCode: "en"}
	srv.FailNext(busy.ID, telegramtest.TooManyRequests(1))
	srv.SendText(busy, "/help")
	lastMessage(t, srv, busy.ID, 1)

	gone := telegramtest.User{ID: 2003, LanguageCode: "en"}
	srv.SendText(gone, "/start")
	lastMessage(t, srv, gone.ID, 1)
	srv.FailNext(gone.ID, telegramtest.Blocked())
	id := srv.SendText(gone, "/help")
	srv.WaitDelivered(t, id, wait)
	in.stop(t)

	for _, chat := range []int64{flaky.ID, busy.ID} {
		if n := len(srv.Messages(chat)); n != 1 {
			t.Errorf("chat %d: %d messages delivered; want exactly 1", chat, n)
		}
	}
	st, err := bolt.Open(path, bolt.WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.Profile(context.Background(), gone.ID)
	if err != nil || !p.Blocked {
		t.Errorf("after 403 the resident's profile = %+v, %v; want blocked", p, err)
	}
}

func TestEndToEndWebhook(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t)
	env := baseEnv(t, srv, "bolt:"+filepath.Join(t.TempDir(), "hook.db"))
	env["PASSERELLE_WEBHOOK_URL"] = "https://bot.example.org/telegram/hook"
	env["PASSERELLE_WEBHOOK_SECRET"] = "s3cret-Token_x"
	startBot(t, env)
	srv.WaitCalls(t, "setWebhook", 1, wait)
	url := "http://" + env["PASSERELLE_LISTEN"] + "/telegram/hook"

	update := func(id int64, text string) []byte {
		return []byte(fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1764000000,"chat":{"id":3001,"type":"private","first_name":"W"},"from":{"id":3001,"is_bot":false,"first_name":"W","language_code":"en"},"text":%q,"entities":[{"type":"bot_command","offset":0,"length":%d}]}}`, id, id, text, len(text)))
	}
	post := func(body []byte, secret string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(update(1, "/help"), ""); code != http.StatusUnauthorized {
		t.Errorf("no secret: %d; want 401", code)
	}
	if code := post(update(2, "/help"), "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d; want 401", code)
	}
	if code := post(bytes.Repeat([]byte("x"), 2<<20), "s3cret-Token_x"); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d; want 413", code)
	}
	if n := len(srv.Messages(3001)); n != 0 {
		t.Fatalf("%d messages sent for rejected calls", n)
	}
	for range 2 { // Telegram delivers the same update twice
		if code := post(update(3, "/help"), "s3cret-Token_x"); code != http.StatusOK {
			t.Errorf("right secret: %d; want 200", code)
		}
	}
	if code := post(update(4, "/menu"), "s3cret-Token_x"); code != http.StatusOK {
		t.Errorf("right secret: %d; want 200", code)
	}
	msgs := srv.WaitMessages(t, 3001, 2, wait)
	if len(msgs) != 2 || !strings.Contains(msgs[0].Text, "Help") || !strings.Contains(msgs[1].Text, "Main menu") {
		t.Errorf("messages = %+v; want /help answered once, then /menu", msgs)
	}
}

func TestTokenNeverLogged(t *testing.T) {
	t.Parallel()
	const token = "987654:SECRET-never-in-logs_0123456789"
	// A Bot API address where nothing listens: every call fails with a
	// network error whose URL contains the token.
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN": token,
		"TELEGRAM_API_URL":   "http://" + freeAddr(t),
		"PASSERELLE_STORE":   "bolt:" + filepath.Join(t.TempDir(), "t.db"),
		"PASSERELLE_LISTEN":  freeAddr(t),

		"PASSERELLE_OPERATOR_NAME":    testOperatorName,
		"PASSERELLE_OPERATOR_CONTACT": testOperatorContact,
	}
	var logs syncBuffer
	err := run(context.Background(), []string{"run"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &logs)
	if err == nil {
		t.Fatal("run succeeded without a reachable Bot API")
	}
	for _, secret := range []string{token, "SECRET-never-in-logs"} {
		if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("token leaked:\nerr: %v\nlogs: %s", err, logs.String())
		}
	}
}

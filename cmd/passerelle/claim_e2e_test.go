package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/locales"
)

// webhookPoster delivers updates to one run() instance in webhook mode, as
// Telegram does (the fake Bot API cannot reach the https address the bot
// registers, so the test posts the updates itself).
type webhookPoster struct {
	url, secret string
}

func (w webhookPoster) post(t *testing.T, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(telegramtestSecretHeader, w.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const telegramtestSecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// updateMaker builds the JSON of the updates a resident sends.
type updateMaker struct {
	srv  *telegramtest.Server
	u    telegramtest.User
	next int64
}

func (m *updateMaker) chat() map[string]any {
	return map[string]any{"id": m.u.ID, "type": "private", "first_name": m.u.FirstName}
}

func (m *updateMaker) from() map[string]any {
	return map[string]any{"id": m.u.ID, "is_bot": false, "first_name": m.u.FirstName, "language_code": m.u.LanguageCode}
}

// text is a message of the resident.
func (m *updateMaker) text(t *testing.T, text string) []byte {
	m.next++
	msg := map[string]any{"message_id": m.next, "date": time.Now().Unix(), "chat": m.chat(), "from": m.from(), "text": text}
	if strings.HasPrefix(text, "/") {
		msg["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(strings.Fields(text)[0])}}
	}
	return m.encode(t, map[string]any{"update_id": 500000 + m.next, "message": msg})
}

// press is a tap on the button labelled label of the bot's latest message
// that has it.
func (m *updateMaker) press(t *testing.T, label string) []byte {
	t.Helper()
	msgs := m.srv.Messages(m.u.ID)
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, row := range msgs[i].Buttons {
			for _, b := range row {
				if b.Text != label || b.Data == "" {
					continue
				}
				m.next++
				botMsg := map[string]any{"message_id": msgs[i].MessageID, "date": time.Now().Unix(), "chat": m.chat(),
					"from": map[string]any{"id": m.srv.BotID(), "is_bot": true, "first_name": "Passerelle", "username": m.srv.BotUsername()},
					"text": msgs[i].PlainText}
				return m.encode(t, map[string]any{"update_id": 500000 + m.next, "callback_query": map[string]any{
					"id": fmt.Sprint(900000 + m.next), "from": m.from(), "message": botMsg, "chat_instance": "1", "data": b.Data}})
			}
		}
	}
	t.Fatalf("no button %q in the bot's messages to %d", label, m.u.ID)
	return nil
}

func (m *updateMaker) encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTwoInstancesHandleAnUpdateOnce: two run() instances share one Redis
// and receive the same webhook update (Telegram delivers it again when the
// first delivery is slow). The update that opens a case is handled once:
// one case, one card in the partner group.
func TestTwoInstancesHandleAnUpdateOnce(t *testing.T) {
	t.Parallel()
	redisURL := os.Getenv("PASSERELLE_TEST_REDIS_URL")
	if redisURL == "" {
		if os.Getenv("PASSERELLE_TEST_REQUIRE_REDIS") == "1" {
			t.Fatal("PASSERELLE_TEST_REQUIRE_REDIS=1 but PASSERELLE_TEST_REDIS_URL is not set")
		}
		t.Skip("set PASSERELLE_TEST_REDIS_URL to run two instances on one Redis")
	}
	srv := telegramtest.NewServer(t)
	rights := telegramtest.ChatAdminRights{CanManageChat: true, CanDeleteMessages: true, CanPinMessages: true, CanManageTopics: true}
	for _, g := range []int64{e2eLyon, e2eParis, e2eNat} {
		srv.AddGroup(g, fmt.Sprint("groupe ", g), true, rights)
	}
	partners := filepath.Join(t.TempDir(), "partners.yaml")
	if err := os.WriteFile(partners, []byte(e2ePartners), 0o600); err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("pasclaim-%d-%d", os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() { cleanRedis(t, redisURL, prefix) })
	sep := "?"
	if strings.Contains(redisURL, "?") {
		sep = "&"
	}
	store := redisURL + sep + "prefix=" + prefix

	var hooks []webhookPoster
	for range 2 {
		env := baseEnv(t, srv, store)
		env["PASSERELLE_PARTNERS"] = partners
		env["PASSERELLE_WEBHOOK_URL"] = "https://bot.example.org/telegram"
		env["PASSERELLE_WEBHOOK_SECRET"] = "two-instances"
		startBot(t, env)
		hooks = append(hooks, webhookPoster{url: "http://" + env["PASSERELLE_LISTEN"] + "/telegram", secret: "two-instances"})
	}
	srv.WaitCalls(t, "setWebhook", 2, wait)

	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	ar := cat.Printer("ar")
	m := &updateMaker{srv: srv, u: amina}
	send := func(body []byte) {
		t.Helper()
		if code := hooks[0].post(t, body); code != http.StatusOK {
			t.Fatalf("webhook answered %d", code)
		}
	}
	// The intake, through the first instance.
	send(m.text(t, "/volunteer"))
	send(m.press(t, ar.T("help.problem.no_api")))
	send(m.text(t, "69"))
	send(m.press(t, "العربية"))
	send(m.text(t, "30/06/2027"))
	send(m.press(t, "◻️ "+ar.T("help.risk.work")))
	send(m.press(t, ar.T("help.risk.done")))
	send(m.press(t, ar.T("help.skip")))

	// The consent opens the case. Telegram delivers it to both instances;
	// the first call to the Bot API while it is handled is slow, so that
	// both have it in hand at once.
	consent := m.press(t, ar.T("help.consent.yes"))
	srv.FailMethod("sendMessage", telegramtest.Fault{Delay: 500 * time.Millisecond})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, h := range hooks {
		wg.Go(func() { codes[i] = h.post(t, consent) })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("instance %d answered %d to the update", i, c)
		}
	}

	st, err := redis.Open(context.Background(), redisURL, redis.WithPrefix(prefix), redis.WithKeys(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cases, err := st.CasesOf(context.Background(), amina.ID)
	if err != nil {
		t.Fatal(err)
	}
	var cards int
	for _, msg := range srv.Messages(e2eLyon) {
		if strings.Contains(msg.PlainText, "Dossier #") {
			cards++
		}
	}
	if len(cases) != 1 || cards != 1 {
		t.Errorf("%d cases and %d cards in the partner group; want exactly one of each", len(cases), cards)
	}
}

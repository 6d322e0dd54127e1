package telegram_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
)

const (
	hookSecret = "s3cret-Token_for_tests"
	textUpdate = `{"update_id":77,"message":{"message_id":3,"from":{"id":4242,"language_code":"fa"},"chat":{"id":4242,"type":"private"},"text":"salam"}}`
)

func hookRequest(method, secret, body string) *http.Request {
	r := httptest.NewRequest(method, "/telegram/webhook", strings.NewReader(body))
	if secret != "" {
		r.Header.Set(telegram.SecretHeader, secret)
	}
	return r
}

// serve runs h on r in a goroutine and yields the recorded response.
func serve(h http.Handler, r *http.Request) <-chan *httptest.ResponseRecorder {
	ch := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		ch <- w
	}()
	return ch
}

func TestWebhookRejects(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(true)
	h := e.c.WebhookHandler(rec, hookSecret, telegram.WebhookOptions{MaxBody: 200})
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"GET", hookRequest(http.MethodGet, hookSecret, ""), http.StatusMethodNotAllowed},
		{"no secret", hookRequest(http.MethodPost, "", textUpdate), http.StatusUnauthorized},
		{"wrong secret", hookRequest(http.MethodPost, hookSecret+"x", textUpdate), http.StatusUnauthorized},
		{"derived secret is not this one", hookRequest(http.MethodPost, telegram.DeriveSecret(e.s.Token()), textUpdate), http.StatusUnauthorized},
		{"oversized", hookRequest(http.MethodPost, hookSecret, textUpdate+strings.Repeat(" ", 300)), http.StatusRequestEntityTooLarge},
		{"undecodable is acknowledged", hookRequest(http.MethodPost, hookSecret, `{"update_id":`), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := wait(t, serve(h, tt.req))
			if w.Code != tt.want {
				t.Errorf("status = %d; want %d", w.Code, tt.want)
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Errorf("%d updates submitted; want 0", n)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"level":"WARN","msg":"telegram_webhook_unauthorized"`) {
		t.Errorf("no Warn for a bad secret in logs:\n%s", logs)
	}
	if strings.Contains(logs, "salam") {
		t.Errorf("message text in logs:\n%s", logs)
	}
}

func TestWebhookAcknowledgesAfterDone(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(false)
	h := e.c.WebhookHandler(rec, hookSecret, telegram.WebhookOptions{})
	res := serve(h, hookRequest(http.MethodPost, hookSecret, textUpdate))
	u := rec.waitN(t, 1)[0]
	if u.ID != 77 || u.Text != "salam" || u.LanguageCode != "fa" || u.Kind != bot.KindText {
		t.Errorf("submitted %+v", u)
	}
	select {
	case w := <-res:
		t.Fatalf("answered %d before the update was done", w.Code)
	default:
	}
	rec.done(0)
	if w := wait(t, res); w.Code != http.StatusOK {
		t.Errorf("status = %d; want 200", w.Code)
	}
}

func TestWebhookDeadline(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(false)
	h := e.c.WebhookHandler(rec, hookSecret, telegram.WebhookOptions{Deadline: 5 * time.Second})
	res := serve(h, hookRequest(http.MethodPost, hookSecret, textUpdate))
	rec.waitN(t, 1)
	blockUntil(t, e.clk, 1)
	e.clk.Advance(5 * time.Second)
	if w := wait(t, res); w.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d; want 503 so that Telegram retries", w.Code)
	}
	rec.done(0) // late done is harmless
}

// TestWebhookEndToEnd: setWebhook on the fake, which then POSTs updates to
// the handler with the secret; an update is delivered once handled.
func TestWebhookEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	rec := newRecorder(true)
	hook := httptest.NewServer(e.c.WebhookHandler(rec, "", telegram.WebhookOptions{}))
	t.Cleanup(hook.Close)
	if err := e.c.SetWebhook(context.Background(), hook.URL, ""); err != nil {
		t.Fatalf("SetWebhook: %v", err)
	}
	if got := e.s.WebhookURL(); got != hook.URL {
		t.Errorf("WebhookURL = %q; want %q", got, hook.URL)
	}
	call := e.s.Calls("setWebhook")[0]
	if call.Params["secret_token"] != telegram.DeriveSecret(e.s.Token()) || call.Params["max_connections"] != "40" ||
		call.Params["allowed_updates"] != `["message","edited_message","callback_query","my_chat_member","chat_member"]` {
		t.Errorf("setWebhook params = %v", call.Params)
	}
	id := e.s.SendText(resident, "hello")
	e.s.WaitDelivered(t, id, guard)
	if u := rec.waitN(t, 1)[0]; u.ID != id {
		t.Errorf("submitted %d; want %d", u.ID, id)
	}
	// Callback queries are answered once done, as when polling.
	e.s.AddUser(resident)
	if _, err := e.c.Sender().Send(context.Background(), bot.Reply{ChatID: resident.ID, Text: "Language?",
		Buttons: [][]bot.Button{{{Label: "English", Data: "lang:en"}}}}); err != nil {
		t.Fatal(err)
	}
	press, err := e.s.PressButton(resident, resident.ID, "English")
	if err != nil {
		t.Fatal(err)
	}
	e.s.WaitDelivered(t, press, guard)
	if call := e.s.WaitCalls(t, "answerCallbackQuery", 1, guard)[0]; call.Params["callback_query_id"] == "" {
		t.Errorf("answerCallbackQuery params = %v", call.Params)
	}

	// Switching to polling deletes the webhook first.
	ctx, cancel := context.WithCancel(context.Background())
	res := goPoll(ctx, e.c, rec)
	e.s.WaitCalls(t, "deleteWebhook", 1, guard)
	if got := e.s.WebhookURL(); got != "" {
		t.Errorf("WebhookURL after Poll started = %q; want none", got)
	}
	cancel()
	if err := wait(t, res); err != nil {
		t.Errorf("Poll = %v", err)
	}
}

func TestDeriveSecret(t *testing.T) {
	got := telegram.DeriveSecret("123:abc")
	if len(got) != 64 || strings.Trim(got, "0123456789abcdef") != "" {
		t.Errorf("DeriveSecret = %q; want 64 hex characters", got)
	}
	if got == telegram.DeriveSecret("123:abd") {
		t.Error("DeriveSecret does not depend on the token")
	}
}

package telegramtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// hookReceiver is a bot-side webhook endpoint that records every POST and
// answers with the next queued status (200 when the queue is empty).
type hookReceiver struct {
	srv  *httptest.Server
	hits chan hookHit

	mu       sync.Mutex
	statuses []int
	always   int
}

type hookHit struct {
	secret      string
	contentType string
	updateID    int64
	text        string
}

func newHookReceiver(t *testing.T, statuses ...int) *hookReceiver {
	h := &hookReceiver{hits: make(chan hookHit, 100), statuses: statuses}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var u struct {
			UpdateID int64 `json:"update_id"`
			Message  struct {
				Text string `json:"text"`
			} `json:"message"`
		}
		_ = json.Unmarshal(b, &u)
		h.mu.Lock()
		status := 200
		if len(h.statuses) > 0 {
			status, h.statuses = h.statuses[0], h.statuses[1:]
		} else if h.always != 0 {
			status = h.always
		}
		h.mu.Unlock()
		w.WriteHeader(status)
		h.hits <- hookHit{r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), r.Header.Get("Content-Type"), u.UpdateID, u.Message.Text}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) next(t *testing.T) hookHit {
	t.Helper()
	select {
	case hit := <-h.hits:
		return hit
	case <-time.After(wait):
		t.Fatal("no webhook request")
		return hookHit{}
	}
}

func TestWebhookDeliveryAndRetry(t *testing.T) {
	s := telegramtest.NewServer(t, telegramtest.WithWebhookRetry(5*time.Millisecond))
	hook := newHookReceiver(t, 500) // first delivery fails, the retry succeeds

	// Updates queued before the webhook is set are delivered too.
	first := s.SendText(alice, "queued before")
	mustOK(t, postForm(t, s, "setWebhook", url.Values{
		"url": {hook.srv.URL + "/tg"}, "secret_token": {"s3cr3t-Token_1"},
		"max_connections": {"5"}, "allowed_updates": {`["message","callback_query"]`},
	}), nil)
	if s.WebhookURL() != hook.srv.URL+"/tg" {
		t.Fatalf("WebhookURL = %q", s.WebhookURL())
	}
	s.WaitDelivered(t, first, wait)

	h1, h2 := hook.next(t), hook.next(t)
	for _, h := range []hookHit{h1, h2} {
		if h.secret != "s3cr3t-Token_1" || h.contentType != "application/json" || h.updateID != first || h.text != "queued before" {
			t.Fatalf("webhook request = %+v", h)
		}
	}
	if s.PendingUpdates() != 0 {
		t.Fatalf("pending = %d", s.PendingUpdates())
	}

	var info struct {
		URL                  string   `json:"url"`
		HasCustomCertificate bool     `json:"has_custom_certificate"`
		PendingUpdateCount   int      `json:"pending_update_count"`
		LastErrorDate        int64    `json:"last_error_date"`
		LastErrorMessage     string   `json:"last_error_message"`
		MaxConnections       int      `json:"max_connections"`
		AllowedUpdates       []string `json:"allowed_updates"`
	}
	mustOK(t, postForm(t, s, "getWebhookInfo", nil), &info)
	if info.URL != hook.srv.URL+"/tg" || info.HasCustomCertificate || info.PendingUpdateCount != 0 || info.LastErrorDate == 0 ||
		!strings.Contains(info.LastErrorMessage, "500") || info.MaxConnections != 5 ||
		!slices.Equal(info.AllowedUpdates, []string{"message", "callback_query"}) {
		t.Fatalf("getWebhookInfo = %+v", info)
	}

	// In order, one at a time.
	var sent []int64
	for _, text := range []string{"a", "b", "c"} {
		sent = append(sent, s.SendText(alice, text))
	}
	s.WaitDelivered(t, sent[2], wait)
	var got []int64
	for range 3 {
		got = append(got, hook.next(t).updateID)
	}
	if !slices.Equal(got, sent) {
		t.Fatalf("delivery order %v, want %v", got, sent)
	}

	// allowed_updates applies to webhooks too.
	if id := s.Block(alice); s.PendingUpdates() != 0 {
		t.Fatalf("my_chat_member %d queued despite allowed_updates", id)
	}

	// A failing endpoint keeps the update queued; deleteWebhook with
	// drop_pending_updates drops it and stops delivery.
	hook.mu.Lock()
	hook.always = 503
	hook.mu.Unlock()
	stuck := s.SendText(reza, "stuck")
	hook.next(t)
	hook.next(t) // retried
	if s.PendingUpdates() != 1 || s.Delivered(stuck) {
		t.Fatalf("failed delivery removed the update")
	}
	mustOK(t, postForm(t, s, "deleteWebhook", url.Values{"drop_pending_updates": {"true"}}), nil)
	if s.PendingUpdates() != 0 || s.WebhookURL() != "" {
		t.Fatalf("after deleteWebhook: pending %d url %q", s.PendingUpdates(), s.WebhookURL())
	}
	ft := &fakeTB{TB: t}
	s.WaitDelivered(ft, stuck, time.Millisecond)
	if len(ft.fatals) != 1 || !strings.Contains(ft.fatals[0], "drop_pending_updates") {
		t.Fatalf("WaitDelivered on dropped: %q", ft.fatals)
	}
	// Polling works again.
	id := s.SendText(reza, "polled")
	if ups := getUpdates(t, s, nil); len(ups) != 1 || ups[0].UpdateID != id {
		t.Fatalf("getUpdates after deleteWebhook: %v", ids(ups))
	}
	s.RequireNoSpecErrors(t)
}

func TestWebhookUnreachableAndEmptyURL(t *testing.T) {
	s := telegramtest.NewServer(t, telegramtest.WithWebhookRetry(time.Millisecond))
	hook := newHookReceiver(t)
	addr := hook.srv.URL
	hook.srv.Close() // nothing listens there any more

	mustOK(t, postForm(t, s, "setWebhook", url.Values{"url": {addr + "/tg"}}), nil)
	s.SendText(alice, "hello")
	// Wait for the failed attempt, woken by the server's change notifications.
	deadline := time.After(wait)
	for {
		ch := s.Changed()
		if s.WebhookError() != "" {
			break
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatal("no webhook error recorded")
		}
	}
	var info struct {
		LastErrorMessage string `json:"last_error_message"`
		PendingUpdates   int    `json:"pending_update_count"`
		MaxConnections   int    `json:"max_connections"`
	}
	mustOK(t, postForm(t, s, "getWebhookInfo", nil), &info)
	if info.LastErrorMessage != "Connection refused" || info.PendingUpdates != 1 || info.MaxConnections != 40 {
		t.Fatalf("getWebhookInfo = %+v", info)
	}
	// An empty url removes the webhook.
	mustOK(t, postForm(t, s, "setWebhook", url.Values{"url": {""}}), nil)
	if s.WebhookURL() != "" {
		t.Fatal("webhook not removed")
	}
	if ups := getUpdates(t, s, nil); len(ups) != 1 {
		t.Fatalf("update lost: %v", ids(ups))
	}
}

func TestSetWebhookEndsLongPoll(t *testing.T) {
	s := telegramtest.NewServer(t)
	res := make(chan envelope, 1)
	go func() { res <- postAsync(s, "getUpdates", url.Values{"timeout": {"30"}}).env }()
	s.WaitPolling(t, wait)
	hook := newHookReceiver(t)
	mustOK(t, postForm(t, s, "setWebhook", url.Values{"url": {hook.srv.URL}}), nil)
	select {
	case env := <-res:
		if env.ErrorCode != 409 || !strings.HasPrefix(env.Description, "Conflict: terminated by setWebhook") {
			t.Fatalf("poll ended with %d %q", env.ErrorCode, env.Description)
		}
	case <-time.After(wait):
		t.Fatal("setWebhook did not end the long poll")
	}
}

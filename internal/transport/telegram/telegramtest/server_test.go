package telegramtest_test

import (
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

const wait = 5 * time.Second

func TestSpecFound(t *testing.T) {
	s := telegramtest.NewServer(t)
	if !s.SpecLoaded() {
		t.Skip("botapi-spec.json not found from the working directory; validation tests run with hand-coded checks only")
	}
	if !strings.HasPrefix(s.SpecVersion(), "Bot API") {
		t.Errorf("SpecVersion = %q", s.SpecVersion())
	}
	if telegramtest.NewServer(t, telegramtest.WithoutSpec()).SpecLoaded() {
		t.Error("WithoutSpec still loads the spec")
	}
}

func TestRoutingAuthAndCase(t *testing.T) {
	s := telegramtest.NewServer(t)
	if !strings.HasPrefix(s.APIURL(), "http://127.0.0.1:") {
		t.Fatalf("APIURL = %s, want 127.0.0.1", s.APIURL())
	}

	var me struct {
		ID       int64  `json:"id"`
		IsBot    bool   `json:"is_bot"`
		Username string `json:"username"`
	}
	mustOK(t, get(t, s, "getMe", nil), &me)
	if me.ID != 999000999 || !me.IsBot || me.Username != "passerelle_test_bot" || s.BotID() != me.ID {
		t.Fatalf("getMe = %+v", me)
	}

	for _, name := range []string{"GETME", "getme", "GetMe"} {
		mustOK(t, postForm(t, s, name, nil), nil)
	}

	req := strings.Replace(methodURL(s, "getMe"), s.Token(), "123456:wrong", 1)
	mustFail(t, getURL(t, req), 401, "Unauthorized")

	mustFail(t, postForm(t, s, "noSuchMethod", nil), 404, "Not Found")

	calls := s.Calls("GETME")
	if len(calls) != 5 {
		t.Fatalf("Calls(GETME) = %d calls, want 5 (incl. the 401)", len(calls))
	}
	for _, c := range calls {
		if c.Method != "getMe" {
			t.Errorf("call recorded as %q, want canonical getMe", c.Method)
		}
	}
	if calls[4].Status != 401 {
		t.Errorf("status of wrong-token call = %d", calls[4].Status)
	}

	// Case-insensitive for a method with parameters too.
	mustOK(t, postForm(t, s, "SENDMESSAGE", url.Values{"chat_id": {"1111"}, "text": {"hi"}}), nil)
	if got := s.Calls("sendMessage"); len(got) != 1 || got[0].Method != "sendMessage" {
		t.Fatalf("Calls(sendMessage) = %+v", got)
	}
}

func TestCustomTokenAndUsername(t *testing.T) {
	s := telegramtest.NewServer(t, telegramtest.WithToken("42:abc"), telegramtest.WithBotUsername("other_bot"))
	var me struct{ Username string }
	mustOK(t, postForm(t, s, "getMe", nil), &me)
	if s.Token() != "42:abc" || me.Username != "other_bot" {
		t.Fatalf("token %q username %q", s.Token(), me.Username)
	}
}

func TestBodyEncodings(t *testing.T) {
	s := telegramtest.NewServer(t)
	kb := keyboard([]map[string]string{{"text": "OK", "callback_data": "ok"}})

	// Query string (GET).
	mustOK(t, get(t, s, "sendMessage", url.Values{"chat_id": {"1111"}, "text": {"query"}}), nil)
	// urlencoded.
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1111"}, "text": {"form"}, "reply_markup": {kb}}), nil)
	// multipart.
	mustOK(t, postMultipart(t, s, "sendMessage", map[string]string{"chat_id": "1111", "text": "multipart", "reply_markup": kb}), nil)
	// JSON, with non-string values.
	r := postJSON(t, s, "sendMessage", map[string]any{
		"chat_id":              1111,
		"text":                 "json",
		"disable_notification": true,
		"reply_markup":         map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "J", "callback_data": "j"}}}},
		"link_preview_options": map[string]any{"is_disabled": true},
	})
	var msg struct {
		MessageID   int             `json:"message_id"`
		Text        string          `json:"text"`
		ReplyMarkup json.RawMessage `json:"reply_markup"`
	}
	mustOK(t, r, &msg)
	if msg.Text != "json" || msg.MessageID != 4 || len(msg.ReplyMarkup) == 0 {
		t.Fatalf("JSON sendMessage result = %+v", msg)
	}

	msgs := s.Messages(1111)
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	if !slices.Equal(texts, []string{"query", "form", "multipart", "json"}) {
		t.Fatalf("texts = %q", texts)
	}
	if msgs[1].Buttons[0][0] != (telegramtest.Button{Text: "OK", Data: "ok"}) || msgs[2].Buttons[0][0].Data != "ok" || msgs[3].Buttons[0][0].Data != "j" {
		t.Fatalf("buttons = %+v", msgs)
	}

	calls := s.Calls("sendMessage")
	p := calls[3].Params
	if p["chat_id"] != "1111" || p["disable_notification"] != "true" || p["text"] != "json" ||
		p["link_preview_options"] != `{"is_disabled":true}` {
		t.Fatalf("flattened JSON params = %q", p)
	}
	if errs := s.SpecErrors(); len(errs) != 0 {
		t.Fatalf("spec errors: %q", errs)
	}
}

func TestNullIsAbsent(t *testing.T) {
	s := telegramtest.NewServer(t)
	mustOK(t, postForm(t, s, "sendMessage", url.Values{
		"chat_id": {"1111"}, "text": {"hi"}, "entities": {"null"}, "reply_markup": {"null"}, "reply_parameters": {"null"},
	}), nil)
	mustOK(t, postJSON(t, s, "sendMessage", map[string]any{"chat_id": 1111, "text": "hi again", "entities": nil}), nil)
	mustOK(t, postForm(t, s, "getUpdates", url.Values{"allowed_updates": {"null"}}), nil)
	if got := s.Calls("sendMessage")[0].Params["entities"]; got != "null" {
		t.Errorf("Call.Params should keep the value as received, got %q", got)
	}
	if m := s.Messages(1111); len(m) != 2 || m[0].Buttons != nil {
		t.Fatalf("messages = %+v", m)
	}
	// A required parameter sent as null is missing.
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"null"}, "text": {"x"}}), 400, "Bad Request: chat_id is required")
	if errs := s.TakeSpecErrors(); len(errs) != 1 || !strings.Contains(errs[0], "chat_id is required") {
		t.Fatalf("spec errors = %q", errs)
	}
}

func TestGetUpdatesOffsetLimit(t *testing.T) {
	s := telegramtest.NewServer(t)
	a := s.SendText(alice, "one")
	b := s.SendText(alice, "two")
	c := s.SendText(reza, "three")
	if a != 1000 || b != 1001 || c != 1002 {
		t.Fatalf("update ids %d %d %d, want 1000.. sequential", a, b, c)
	}
	if n := s.PendingUpdates(); n != 3 {
		t.Fatalf("pending = %d", n)
	}

	ups := getUpdates(t, s, url.Values{"limit": {"2"}})
	if !slices.Equal(ids(ups), []int64{1000, 1001}) {
		t.Fatalf("limit 2: %v", ids(ups))
	}
	m := ups[0].Message
	if m.Text != "one" || m.Chat.ID != alice.ID || m.Chat.Type != "private" || m.From.LanguageCode != "en" || m.MessageID != 1 || m.Date == 0 {
		t.Fatalf("message = %+v", m)
	}
	if ups[1].Message.MessageID != 2 {
		t.Errorf("second message id = %d, want 2 (per chat)", ups[1].Message.MessageID)
	}
	// Not confirmed yet: served again.
	if ups := getUpdates(t, s, nil); len(ups) != 3 {
		t.Fatalf("without offset: %v", ids(ups))
	}
	// offset confirms everything below it.
	ups = getUpdates(t, s, url.Values{"offset": {"1001"}})
	if !slices.Equal(ids(ups), []int64{1001, 1002}) || s.PendingUpdates() != 2 || !s.Delivered(1000) || s.Delivered(1001) {
		t.Fatalf("offset 1001: %v pending %d", ids(ups), s.PendingUpdates())
	}
	s.WaitDelivered(t, 1000, wait)
	// Negative offset: only the last -offset updates are kept.
	ups = getUpdates(t, s, url.Values{"offset": {"-1"}})
	if !slices.Equal(ids(ups), []int64{1002}) || s.PendingUpdates() != 1 || !s.Delivered(1001) {
		t.Fatalf("offset -1: %v pending %d", ids(ups), s.PendingUpdates())
	}
	ups = getUpdates(t, s, url.Values{"offset": {"1003"}, "timeout": {"0"}})
	if len(ups) != 0 || s.PendingUpdates() != 0 {
		t.Fatalf("offset 1003: %v pending %d", ids(ups), s.PendingUpdates())
	}
	// limit out of range falls back to 100.
	for range 120 {
		s.SendText(alice, "x")
	}
	if ups := getUpdates(t, s, url.Values{"limit": {"0"}}); len(ups) != 100 {
		t.Fatalf("limit 0 gave %d", len(ups))
	}
	if ups := getUpdates(t, s, url.Values{"limit": {"500"}}); len(ups) != 100 {
		t.Fatalf("limit 500 gave %d", len(ups))
	}
}

func TestGetUpdatesLongPoll(t *testing.T) {
	s := telegramtest.NewServer(t)

	// Times out with an empty result.
	start := time.Now()
	ups := getUpdates(t, s, url.Values{"timeout": {"1"}})
	if el := time.Since(start); len(ups) != 0 || el < 900*time.Millisecond || el > 4*time.Second {
		t.Fatalf("timeout 1: %d updates after %v", len(ups), el)
	}

	// Wakes as soon as an update is injected.
	done := make(chan []update, 1)
	go func() {
		r := postAsync(s, "getUpdates", url.Values{"timeout": {"30"}})
		var ups []update
		if r.status == 200 {
			_ = json.Unmarshal(r.env.Result, &ups)
		}
		done <- ups
	}()
	s.WaitPolling(t, wait)
	start = time.Now()
	id := s.SendText(alice, "wake up")
	select {
	case ups := <-done:
		if len(ups) != 1 || ups[0].UpdateID != id {
			t.Fatalf("woken with %v", ids(ups))
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("wake took %v", el)
		}
	case <-time.After(wait):
		t.Fatal("long poll not woken by SendText")
	}

	// Ends when the client goes away.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req := url.Values{"timeout": {"30"}, "offset": {"99999"}}
		errc <- pollCtx(ctx, s, req)
	}()
	s.WaitPolling(t, wait)
	n := len(s.Calls("getUpdates"))
	cancel()
	<-errc
	s.WaitCalls(t, "getUpdates", n+1, wait)
}

func TestGetUpdatesConflict(t *testing.T) {
	s := telegramtest.NewServer(t)
	res := make(chan envelope, 1)
	go func() {
		res <- postAsync(s, "getUpdates", url.Values{"timeout": {"30"}}).env
	}()
	s.WaitPolling(t, wait)
	// A second poller terminates the first one.
	mustOK(t, postForm(t, s, "getUpdates", url.Values{"timeout": {"0"}}), nil)
	select {
	case env := <-res:
		if env.ErrorCode != 409 || env.Description != "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" {
			t.Fatalf("first poller got %d %q", env.ErrorCode, env.Description)
		}
	case <-time.After(wait):
		t.Fatal("first poller not terminated")
	}

	// Injected conflict for the method.
	s.FailMethod("getupdates", telegramtest.Conflict())
	mustFail(t, postForm(t, s, "getUpdates", nil), 409, "Conflict: terminated by other getUpdates")
	mustOK(t, postForm(t, s, "getUpdates", nil), nil)

	// Webhook active.
	mustOK(t, postForm(t, s, "setWebhook", url.Values{"url": {"http://127.0.0.1:1/hook"}}), nil)
	mustFail(t, postForm(t, s, "getUpdates", nil), 409, "Conflict: can't use getUpdates method while webhook is active")
	mustOK(t, postForm(t, s, "deleteWebhook", nil), nil)
	mustOK(t, postForm(t, s, "getUpdates", nil), nil)
}

func TestAllowedUpdates(t *testing.T) {
	s := telegramtest.NewServer(t)
	getUpdates(t, s, url.Values{"allowed_updates": {`["callback_query"]`}})
	dropped := s.SendText(alice, "filtered out")
	if s.PendingUpdates() != 0 {
		t.Fatalf("message queued despite allowed_updates")
	}
	ft := &fakeTB{TB: t}
	s.WaitDelivered(ft, dropped, time.Millisecond)
	if len(ft.fatals) != 1 || !strings.Contains(ft.fatals[0], "dropped") {
		t.Fatalf("WaitDelivered on a dropped update: %q", ft.fatals)
	}
	// Omitted keeps the setting; an empty list restores the default.
	getUpdates(t, s, nil)
	s.SendText(alice, "still filtered")
	getUpdates(t, s, url.Values{"allowed_updates": {`[]`}})
	s.SendText(alice, "kept")
	s.SendUpdate([]byte(`{"chat_member":{"chat":{"id":-100,"type":"supergroup"}}}`))
	if ups := getUpdates(t, s, nil); len(ups) != 1 || ups[0].Message.Text != "kept" {
		t.Fatalf("default filter: %v", ids(ups))
	}
}

func TestUserActions(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.SendText(alice, "/start permit_7Hq2")
	s.SendText(reza, "/help@passerelle_test_bot now")
	s.SendText(reza, "سلام")
	s.SendGroupText(-1001234567890, 7, alice, "/status")
	s.SendGroupText(-1001234567891, 0, reza, "hello group")
	s.SendPhoto(alice, "my permit")
	ups := getUpdates(t, s, nil)
	if len(ups) != 6 {
		t.Fatalf("%d updates", len(ups))
	}
	if e := ups[0].Message.Entities; len(e) != 1 || e[0].Type != "bot_command" || e[0].Length != 6 {
		t.Errorf("/start entities = %+v", e)
	}
	if e := ups[1].Message.Entities; len(e) != 1 || e[0].Length != len("/help@passerelle_test_bot") {
		t.Errorf("/help@bot entities = %+v", e)
	}
	if ups[2].Message.Entities != nil || ups[2].Message.MessageID != 3 && ups[2].Message.MessageID != 2 {
		t.Errorf("plain text: %+v", ups[2].Message)
	}
	g := ups[3].Message
	if g.Chat.Type != "supergroup" || !g.Chat.IsForum || g.MessageThreadID != 7 || !g.IsTopicMessage || g.Entities[0].Type != "bot_command" {
		t.Errorf("forum message = %+v", g)
	}
	g = ups[4].Message
	if g.Chat.Type != "supergroup" || g.Chat.IsForum || g.MessageThreadID != 0 || g.IsTopicMessage {
		t.Errorf("group message = %+v", g)
	}
	p := ups[5].Message
	if len(p.Photo) != 2 || p.Photo[0].FileID == "" || p.Photo[1].FileUniqueID == "" || p.Caption != "my permit" || p.MessageID != 2 {
		t.Errorf("photo = %+v", p)
	}
}

func TestSpecValidation(t *testing.T) {
	s := telegramtest.NewServer(t)

	// Missing chat_id.
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"text": {"hi"}}), 400, "Bad Request: chat_id is required")
	// Bad type.
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"abc"}, "text": {"hi"}}), 400, "Bad Request:")
	wantErrs := 13
	if s.SpecLoaded() { // Boolean parsing of fields the fake does not use needs the spec.
		mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {"hi"}, "disable_notification": {"yes"}}), 400, "Bad Request:")
		wantErrs++
	}
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {"hi"}, "reply_markup": {"{not json"}}), 400, "Bad Request:")
	// callback_data over 64 bytes (33 Persian letters = 66 bytes).
	long := strings.Repeat("ب", 33)
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {"hi"},
		"reply_markup": {keyboard([]map[string]string{{"text": "x", "callback_data": long}})}}), 400, "Bad Request: BUTTON_DATA_INVALID")
	// A text button in an inline keyboard.
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {"hi"},
		"reply_markup": {keyboard([]map[string]string{{"text": "x"}})}}), 400, "Bad Request: can't parse inline keyboard button")
	// Bad HTML.
	for _, text := range []string{"<b>unclosed", "a < b", "Tom & Jerry", "<br>", "<b><i>x</b></i>", `<span>x</span>`} {
		mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {text}, "parse_mode": {"HTML"}}),
			400, "Bad Request: can't parse entities: ")
	}
	// Text length in UTF-16 code units after entity parsing.
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {strings.Repeat("😀", 2049)}}), 400, "Bad Request: message is too long")
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {"<b> </b>"}, "parse_mode": {"HTML"}}), 400, "Bad Request: message text is empty")

	errs := s.TakeSpecErrors()
	if len(errs) != wantErrs {
		t.Fatalf("%d spec errors, want %d:\n%s", len(errs), wantErrs, strings.Join(errs, "\n"))
	}
	for _, want := range []string{"sendMessage: chat_id is required", "callback_data", "can't parse entities", "4098 UTF-16"} {
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("no spec error mentions %q:\n%s", want, strings.Join(errs, "\n"))
		}
	}

	// Valid edge cases: exactly 4096 units after parsing, escapes, legacy
	// fields, 64-byte callback_data.
	ok := url.Values{"chat_id": {"1"}, "parse_mode": {"HTML"}, "reply_to_message_id": {"99"}, "allow_sending_without_reply": {"true"},
		"disable_web_page_preview": {"true"},
		"text":                     {"<b>" + strings.Repeat("😀", 2047) + "</b>&lt;&amp;"},
		"reply_markup":             {keyboard([]map[string]string{{"text": "x", "callback_data": strings.Repeat("ب", 32)}})}}
	var res struct {
		Text     string `json:"text"`
		Entities []struct {
			Type   string `json:"type"`
			Length int    `json:"length"`
		} `json:"entities"`
	}
	mustOK(t, postForm(t, s, "sendMessage", ok), &res)
	if !strings.HasSuffix(res.Text, "<&") || len(res.Entities) != 1 || res.Entities[0].Type != "bold" || res.Entities[0].Length != 4094 {
		t.Fatalf("parsed result: %d entities %+v", len(res.Entities), res.Entities)
	}
	if m := s.Messages(1)[0]; !strings.HasPrefix(m.Text, "<b>") || m.ReplyTo != 0 || m.ParseMode != "HTML" {
		t.Fatalf("recorded message: text prefix %q reply %d", m.Text[:3], m.ReplyTo)
	}

	// Unknown extra parameters are recorded but (as on Telegram) accepted.
	if s.SpecLoaded() {
		mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {"x"}, "colour": {"red"}}), nil)
		if errs := s.TakeSpecErrors(); len(errs) != 1 || !strings.Contains(errs[0], "unknown parameter colour") {
			t.Fatalf("extra param: %q", errs)
		}
	}
	s.RequireNoSpecErrors(t)
}

func TestSpecErrorsReportedAtCleanup(t *testing.T) {
	ft := &fakeTB{TB: t}
	s := telegramtest.NewServer(ft)
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}}), 400, "Bad Request: ") // text missing
	s.RequireNoSpecErrors(ft)
	if len(ft.errors) != 1 || len(ft.fatals) != 1 {
		t.Fatalf("RequireNoSpecErrors: errors %q fatals %q", ft.errors, ft.fatals)
	}
	mustFail(t, postForm(t, s, "answerCallbackQuery", url.Values{"callback_query_id": {"1"}, "text": {strings.Repeat("x", 201)}}),
		400, "Bad Request: MESSAGE_TOO_LONG")
	ft.runCleanups()
	if len(ft.errors) != 2 || !strings.Contains(ft.errors[1], "answerCallbackQuery") {
		t.Fatalf("cleanup reported %q", ft.errors)
	}
}

func TestPressButton(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.SendText(reza, "/start")
	getUpdates(t, s, url.Values{"offset": {"1001"}})

	kb := keyboard(
		[]map[string]string{{"text": "فارسی", "callback_data": "lang:fa"}, {"text": "English", "callback_data": "lang:en"}},
		[]map[string]string{{"text": "Site", "url": "https://example.org"}},
	)
	var sent struct {
		MessageID int `json:"message_id"`
	}
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"2222"}, "text": {"Choose"}, "reply_markup": {kb}}), &sent)

	id, err := s.PressButton(reza, 2222, "فارسی")
	if err != nil {
		t.Fatal(err)
	}
	ups := getUpdates(t, s, url.Values{"offset": {"1001"}})
	if len(ups) != 1 || ups[0].UpdateID != id || ups[0].CallbackQuery == nil {
		t.Fatalf("updates %v", ids(ups))
	}
	cq := ups[0].CallbackQuery
	if cq.Data != "lang:fa" || cq.From.ID != reza.ID || cq.Message.MessageID != sent.MessageID ||
		cq.Message.Chat.ID != 2222 || cq.Message.From.ID != s.BotID() || cq.Message.Text != "Choose" || len(cq.Message.ReplyMarkup) == 0 {
		t.Fatalf("callback_query = %+v", cq)
	}
	mustOK(t, postForm(t, s, "answerCallbackQuery", url.Values{"callback_query_id": {cq.ID}, "text": {"✓"}}), nil)
	if !s.Answered(cq.ID) {
		t.Error("Answered = false")
	}
	mustFail(t, postForm(t, s, "answerCallbackQuery", url.Values{"callback_query_id": {cq.ID}}), 400, "Bad Request: query is too old")

	id2, err := s.PressButton(reza, 2222, "English")
	if err != nil || id2 == id {
		t.Fatalf("second press: %d %v", id2, err)
	}
	if _, err := s.PressButton(reza, 2222, "Site"); err == nil || !strings.Contains(err.Error(), "no callback_data") {
		t.Errorf("URL button: %v", err)
	}
	if _, err := s.PressButton(reza, 2222, "Deutsch"); err == nil {
		t.Error("PressButton found a missing label")
	}
	if _, err := s.PressButton(reza, 3333, "English"); err == nil {
		t.Error("PressButton in an empty chat")
	}

	// The latest message wins, and buttons removed by an edit are gone.
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"2222"}, "text": {"Again"},
		"reply_markup": {keyboard([]map[string]string{{"text": "English", "callback_data": "lang:en:2"}})}}), nil)
	id3, _ := s.PressButton(reza, 2222, "English")
	ups = getUpdates(t, s, url.Values{"offset": {itoa(id2)}})
	if ups[len(ups)-1].UpdateID != id3 || ups[len(ups)-1].CallbackQuery.Data != "lang:en:2" {
		t.Fatalf("latest message not preferred: %+v", ups[len(ups)-1].CallbackQuery)
	}
	mustOK(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {"2222"}, "message_id": {itoa(int64(sent.MessageID))}, "text": {"Chosen: فارسی"}}), nil)
	if _, err := s.PressButton(reza, 2222, "فارسی"); err == nil {
		t.Error("pressed a button removed by editMessageText")
	}
}

func TestEditInPlace(t *testing.T) {
	s := telegramtest.NewServer(t)
	kb := keyboard([]map[string]string{{"text": "Yes", "callback_data": "y"}})
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1111"}, "text": {"Question?"}, "reply_markup": {kb}}), nil)
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1111"}, "text": {"second"}}), nil)

	var edited struct {
		MessageID   int             `json:"message_id"`
		Text        string          `json:"text"`
		EditDate    int64           `json:"edit_date"`
		ReplyMarkup json.RawMessage `json:"reply_markup"`
	}
	mustOK(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {"1111"}, "message_id": {"1"},
		"text": {"Question? <b>answered</b>"}, "parse_mode": {"HTML"}, "reply_markup": {kb}}), &edited)
	if edited.MessageID != 1 || edited.Text != "Question? answered" || edited.EditDate == 0 || len(edited.ReplyMarkup) == 0 {
		t.Fatalf("edit result = %+v", edited)
	}
	msgs := s.Messages(1111)
	if len(msgs) != 2 || !msgs[0].Edited || msgs[0].Text != "Question? <b>answered</b>" || msgs[0].PlainText != "Question? answered" ||
		msgs[0].Buttons == nil || msgs[1].Edited {
		t.Fatalf("after edit: %+v", msgs)
	}
	// Same content: not modified.
	mustFail(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {"1111"}, "message_id": {"1"},
		"text": {"Question? <b>answered</b>"}, "parse_mode": {"HTML"}, "reply_markup": {kb}}), 400, "Bad Request: message is not modified")
	// Remove the keyboard.
	mustOK(t, postForm(t, s, "editMessageReplyMarkup", url.Values{"chat_id": {"1111"}, "message_id": {"1"}}), nil)
	if m := s.Messages(1111)[0]; m.Buttons != nil {
		t.Fatalf("keyboard not removed: %+v", m.Buttons)
	}
	mustFail(t, postForm(t, s, "editMessageReplyMarkup", url.Values{"chat_id": {"1111"}, "message_id": {"1"}}), 400, "Bad Request: message is not modified")
	// Put one back via JSON.
	mustOK(t, postJSON(t, s, "editMessageReplyMarkup", map[string]any{"chat_id": 1111, "message_id": 1,
		"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "Undo", "callback_data": "u"}}}}}), nil)
	if m := s.Messages(1111)[0]; len(m.Buttons) != 1 || m.Buttons[0][0].Text != "Undo" {
		t.Fatalf("keyboard not set: %+v", m.Buttons)
	}
	mustFail(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {"1111"}, "message_id": {"77"}, "text": {"x"}}), 400, "Bad Request: message to edit not found")

	// Delete.
	mustOK(t, postForm(t, s, "deleteMessage", url.Values{"chat_id": {"1111"}, "message_id": {"2"}}), nil)
	mustFail(t, postForm(t, s, "deleteMessage", url.Values{"chat_id": {"1111"}, "message_id": {"2"}}), 400, "Bad Request: message to delete not found")
	msgs = s.WaitMessages(t, 1111, 1, wait)
	if len(msgs) != 2 || !msgs[1].Deleted || msgs[0].Deleted {
		t.Fatalf("after delete: %+v", msgs)
	}
	mustFail(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {"1111"}, "message_id": {"2"}, "text": {"x"}}), 400, "Bad Request: message to edit not found")
	s.RequireNoSpecErrors(t)
}

func TestCopyReplyAndThreads(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.SendText(alice, "my question")
	s.SendPhoto(alice, "scan")
	const group = int64(-1009876543210)
	s.AddGroup(group, "Volunteers", true, telegramtest.ChatAdminRights{CanManageTopics: true, CanDeleteMessages: true})

	var topic struct {
		MessageThreadID int    `json:"message_thread_id"`
		Name            string `json:"name"`
		IconColor       int    `json:"icon_color"`
	}
	mustOK(t, postForm(t, s, "createForumTopic", url.Values{"chat_id": {itoa(group)}, "name": {"Case #1 — Alice"}}), &topic)
	if topic.MessageThreadID != 100 || topic.Name != "Case #1 — Alice" || topic.IconColor == 0 {
		t.Fatalf("topic = %+v", topic)
	}
	th := itoa(int64(topic.MessageThreadID))

	var copied struct {
		MessageID int `json:"message_id"`
	}
	mustOK(t, postForm(t, s, "copyMessage", url.Values{"chat_id": {itoa(group)}, "from_chat_id": {"1111"}, "message_id": {"1"}, "message_thread_id": {th}}), &copied)
	mustOK(t, postForm(t, s, "copyMessage", url.Values{"chat_id": {itoa(group)}, "from_chat_id": {"1111"}, "message_id": {"2"}, "message_thread_id": {th}, "caption": {"<i>scan</i> of permit"}, "parse_mode": {"HTML"}}), nil)
	mustFail(t, postForm(t, s, "copyMessage", url.Values{"chat_id": {itoa(group)}, "from_chat_id": {"1111"}, "message_id": {"9"}}), 400, "Bad Request: message to copy not found")

	var reply struct {
		MessageThreadID int  `json:"message_thread_id"`
		IsTopicMessage  bool `json:"is_topic_message"`
		ReplyToMessage  *struct {
			MessageID int `json:"message_id"`
		} `json:"reply_to_message"`
	}
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {itoa(group)}, "message_thread_id": {th}, "text": {"Replying"},
		"reply_parameters": {`{"message_id":` + itoa(int64(copied.MessageID)) + `}`}}), &reply)
	if reply.MessageThreadID != 100 || !reply.IsTopicMessage || reply.ReplyToMessage == nil || reply.ReplyToMessage.MessageID != copied.MessageID {
		t.Fatalf("reply = %+v", reply)
	}
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1111"}, "text": {"x"}, "reply_parameters": {`{"message_id":555}`}}), 400, "Bad Request: message to be replied not found")

	msgs := s.Messages(group)
	if len(msgs) != 3 || msgs[0].CopiedFrom != 1111 || msgs[0].CopiedMessageID != 1 || msgs[0].Text != "my question" || msgs[0].ThreadID != 100 {
		t.Fatalf("copy = %+v", msgs[0])
	}
	if msgs[1].Text != "<i>scan</i> of permit" || msgs[1].PlainText != "scan of permit" || msgs[2].ReplyTo != copied.MessageID {
		t.Fatalf("messages = %+v", msgs)
	}

	// getChat / getChatMember.
	var chat struct {
		ID      int64  `json:"id"`
		Type    string `json:"type"`
		Title   string `json:"title"`
		IsForum bool   `json:"is_forum"`
	}
	mustOK(t, postForm(t, s, "getChat", url.Values{"chat_id": {itoa(group)}}), &chat)
	if chat.Type != "supergroup" || chat.Title != "Volunteers" || !chat.IsForum {
		t.Fatalf("getChat = %+v", chat)
	}
	var priv struct {
		Type      string `json:"type"`
		FirstName string `json:"first_name"`
	}
	mustOK(t, postForm(t, s, "getChat", url.Values{"chat_id": {"1111"}}), &priv)
	if priv.Type != "private" || priv.FirstName != "Alice" {
		t.Fatalf("getChat private = %+v", priv)
	}
	mustFail(t, postForm(t, s, "getChat", url.Values{"chat_id": {"-1000000000042"}}), 400, "Bad Request: chat not found")
	var member struct {
		Status          string `json:"status"`
		CanManageTopics bool   `json:"can_manage_topics"`
		CanBeEdited     *bool  `json:"can_be_edited"`
	}
	mustOK(t, postForm(t, s, "getChatMember", url.Values{"chat_id": {itoa(group)}, "user_id": {itoa(s.BotID())}}), &member)
	if member.Status != "administrator" || !member.CanManageTopics || member.CanBeEdited == nil {
		t.Fatalf("bot member = %+v", member)
	}
	mustOK(t, postForm(t, s, "getChatMember", url.Values{"chat_id": {itoa(group)}, "user_id": {"1111"}}), &member)
	if member.Status != "member" {
		t.Fatalf("user member = %+v", member)
	}

	// Topics without rights, and in a non-forum group.
	s.AddGroup(-1005, "Plain", false, telegramtest.ChatAdminRights{})
	mustFail(t, postForm(t, s, "createForumTopic", url.Values{"chat_id": {"-1005"}, "name": {"x"}}), 400, "Bad Request: the chat is not a forum")
	s.AddGroup(-1006, "Forum, no rights", true, telegramtest.ChatAdminRights{})
	mustFail(t, postForm(t, s, "createForumTopic", url.Values{"chat_id": {"-1006"}, "name": {"x"}}), 400, "Bad Request: not enough rights")

	// Delete the topic: its messages go too.
	mustOK(t, postForm(t, s, "deleteForumTopic", url.Values{"chat_id": {itoa(group)}, "message_thread_id": {th}}), nil)
	if ts := s.Topics(group); len(ts) != 1 || !ts[0].Deleted {
		t.Fatalf("topics = %+v", ts)
	}
	if m := s.Messages(group); !m[0].Deleted || !m[2].Deleted {
		t.Fatalf("topic messages not deleted")
	}
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {itoa(group)}, "message_thread_id": {th}, "text": {"x"}}), 400, "Bad Request: message thread not found")
	s.RequireNoSpecErrors(t)
}

func TestFaults(t *testing.T) {
	s := telegramtest.NewServer(t)
	send := func(chat string) result {
		return postForm(t, s, "sendMessage", url.Values{"chat_id": {chat}, "text": {"reminder"}})
	}
	s.FailNext(1111, telegramtest.TooManyRequests(7), telegramtest.ServerError(), telegramtest.Fault{Delay: 20 * time.Millisecond})
	s.FailNext(-4242, telegramtest.Migrated(-1001555296434))

	env := mustFail(t, send("1111"), 429, "Too Many Requests: retry after 7")
	if env.Parameters == nil || env.Parameters.RetryAfter != 7 {
		t.Fatalf("429 parameters = %+v", env.Parameters)
	}
	// Other chats are not affected.
	mustOK(t, send("2222"), nil)
	mustFail(t, send("1111"), 502, "Bad Gateway")
	start := time.Now()
	mustOK(t, send("1111"), nil)
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Errorf("delay fault took %v", el)
	}
	mustOK(t, send("1111"), nil)
	env = mustFail(t, send("-4242"), 400, "Bad Request: group chat was upgraded to a supergroup chat")
	if env.Parameters == nil || env.Parameters.MigrateToChatID != -1001555296434 {
		t.Fatalf("migrate parameters = %+v", env.Parameters)
	}
	if n := s.PendingFaults(); n != 0 {
		t.Fatalf("pending faults %d", n)
	}
	if msgs := s.Messages(1111); len(msgs) != 2 {
		t.Fatalf("failed sends recorded as messages: %d", len(msgs))
	}
	st := s.Calls("sendMessage")
	var codes []int
	for _, c := range st {
		codes = append(codes, c.Status)
	}
	if !slices.Equal(codes, []int{429, 200, 502, 200, 200, 400}) {
		t.Fatalf("statuses %v", codes)
	}

	// Method faults apply to any chat; a fault applies to other methods too.
	s.FailMethod("sendChatAction", telegramtest.Fault{Code: 500})
	mustFail(t, postForm(t, s, "sendChatAction", url.Values{"chat_id": {"5"}, "action": {"typing"}}), 500, "Internal Server Error")
	mustOK(t, postForm(t, s, "sendChatAction", url.Values{"chat_id": {"5"}, "action": {"typing"}}), nil)
	s.FailNext(5, telegramtest.Blocked())
	mustFail(t, postForm(t, s, "sendChatAction", url.Values{"chat_id": {"5"}, "action": {"typing"}}), 403, "Forbidden: bot was blocked by the user")

	// Block: a my_chat_member update, then every send is 403.
	id := s.Block(alice)
	ups := getUpdates(t, s, nil)
	if len(ups) != 1 || ups[0].UpdateID != id || ups[0].MyChatMember == nil ||
		ups[0].MyChatMember.OldChatMember.Status != "member" || ups[0].MyChatMember.NewChatMember.Status != "kicked" {
		t.Fatalf("block update = %+v", ups)
	}
	for range 2 {
		mustFail(t, send("1111"), 403, "Forbidden: bot was blocked by the user")
	}
	if !s.IsBlocked(1111) {
		t.Error("IsBlocked false")
	}
	s.Unblock(alice)
	mustOK(t, send("1111"), nil)
}

func TestCommandsAndProfile(t *testing.T) {
	s := telegramtest.NewServer(t)
	cmds := `[{"command":"start","description":"Start"},{"command":"lang","description":"Langue"}]`
	mustOK(t, postForm(t, s, "setMyCommands", url.Values{"commands": {cmds}, "language_code": {"fr"}}), nil)
	mustOK(t, postForm(t, s, "setMyCommands", url.Values{"commands": {`[{"command":"start","description":"شروع"}]`},
		"scope": {`{"type":"all_private_chats"}`}, "language_code": {"fa"}}), nil)
	var got []telegramtest.BotCommand
	mustOK(t, postForm(t, s, "getMyCommands", url.Values{"language_code": {"fr"}}), &got)
	if len(got) != 2 || got[1].Command != "lang" {
		t.Fatalf("getMyCommands fr = %+v", got)
	}
	mustOK(t, postForm(t, s, "getMyCommands", nil), &got)
	if len(got) != 0 {
		t.Fatalf("getMyCommands default = %+v", got)
	}
	if c := s.Commands(telegramtest.CommandScope{Type: "all_private_chats"}, "fa"); len(c) != 1 || c[0].Description != "شروع" {
		t.Fatalf("Commands(all_private_chats, fa) = %+v", c)
	}
	mustOK(t, postForm(t, s, "deleteMyCommands", url.Values{"language_code": {"fr"}}), nil)
	if c := s.Commands(telegramtest.CommandScope{}, "fr"); c != nil {
		t.Fatalf("after delete: %+v", c)
	}

	var many []telegramtest.BotCommand
	for i := range 101 {
		many = append(many, telegramtest.BotCommand{Command: "c" + itoa(int64(i)), Description: "d"})
	}
	manyJSON, _ := json.Marshal(many)
	for _, bad := range []url.Values{
		{"commands": {string(manyJSON)}},
		{"commands": {`[{"command":"Start","description":"x"}]`}},
		{"commands": {`[{"command":"` + strings.Repeat("a", 33) + `","description":"x"}]`}},
		{"commands": {`[{"command":"ok","description":""}]`}},
		{"commands": {`[{"command":"ok","description":"` + strings.Repeat("d", 257) + `"}]`}},
		{"commands": {cmds}, "language_code": {"eng"}},
		{"commands": {cmds}, "scope": {`{"type":"everyone"}`}},
	} {
		mustFail(t, postForm(t, s, "setMyCommands", bad), 400, "Bad Request: ")
	}
	if errs := s.TakeSpecErrors(); len(errs) != 7 {
		t.Fatalf("spec errors %d:\n%s", len(errs), strings.Join(errs, "\n"))
	}

	mustOK(t, postForm(t, s, "setMyDescription", url.Values{"description": {"Aide titre de séjour"}, "language_code": {"fr"}}), nil)
	mustOK(t, postForm(t, s, "setMyShortDescription", url.Values{"short_description": {"راهنما"}, "language_code": {"fa"}}), nil)
	var d struct {
		Description string `json:"description"`
	}
	mustOK(t, postForm(t, s, "getMyDescription", url.Values{"language_code": {"fr"}}), &d)
	if d.Description != "Aide titre de séjour" || s.Description("fr") != d.Description || s.ShortDescription("fa") != "راهنما" {
		t.Fatalf("descriptions: %q %q", d.Description, s.ShortDescription("fa"))
	}
	mustFail(t, postForm(t, s, "setMyShortDescription", url.Values{"short_description": {strings.Repeat("x", 121)}}), 400, "Bad Request: ")
	_ = s.TakeSpecErrors()
}

func TestSendChatActionAndWebhookSecretValidation(t *testing.T) {
	s := telegramtest.NewServer(t)
	mustOK(t, postForm(t, s, "sendChatAction", url.Values{"chat_id": {"1"}, "action": {"typing"}}), nil)
	mustFail(t, postForm(t, s, "sendChatAction", url.Values{"chat_id": {"1"}, "action": {"dancing"}}), 400, "Bad Request: ")
	mustFail(t, postForm(t, s, "setWebhook", url.Values{"url": {"http://127.0.0.1:1/h"}, "secret_token": {"has space"}}), 400, "Bad Request: bad webhook")
	mustFail(t, postForm(t, s, "setWebhook", url.Values{"url": {"http://127.0.0.1:1/h"}, "secret_token": {strings.Repeat("a", 257)}}), 400, "Bad Request: bad webhook")
	if errs := s.TakeSpecErrors(); len(errs) != 3 {
		t.Fatalf("spec errors %q", errs)
	}
	if s.WebhookURL() != "" {
		t.Fatal("invalid setWebhook stored a URL")
	}
}

func TestUnimplementedMethodIsReported(t *testing.T) {
	s := telegramtest.NewServer(t)
	if !s.SpecLoaded() {
		t.Skip("needs the spec to know the method exists")
	}
	mustFail(t, postForm(t, s, "sendDice", url.Values{"chat_id": {"1"}}), 400, "Bad Request: method sendDice is not implemented")
	if errs := s.TakeSpecErrors(); len(errs) != 1 || !strings.Contains(errs[0], "does not implement") {
		t.Fatalf("spec errors %q", errs)
	}
}

func TestWaitHelpersTimeOut(t *testing.T) {
	s := telegramtest.NewServer(t)
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {"only one"}}), nil)
	ft := &fakeTB{TB: t}
	s.WaitMessages(ft, 1, 2, 20*time.Millisecond)
	if len(ft.fatals) != 1 || !strings.Contains(ft.fatals[0], "1 message(s)") {
		t.Fatalf("WaitMessages fatals %q", ft.fatals)
	}
	s.WaitCalls(ft, "deleteMessage", 1, 20*time.Millisecond)
	s.WaitDelivered(ft, 4242, 20*time.Millisecond)
	if len(ft.fatals) != 3 {
		t.Fatalf("fatals %q", ft.fatals)
	}
	// And they return as soon as the condition holds, woken by the change.
	go func() {
		postAsync(s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {"two"}})
	}()
	if msgs := s.WaitMessages(t, 1, 2, wait); len(msgs) != 2 {
		t.Fatalf("WaitMessages = %d", len(msgs))
	}
}

func TestSamplesReplay(t *testing.T) {
	samples := telegramtest.Samples(t)
	s := telegramtest.NewServer(t)
	names := make([]string, 0, len(samples))
	for name := range samples {
		names = append(names, name)
	}
	slices.Sort(names)
	var got []int64
	for _, name := range names {
		var u map[string]json.RawMessage
		if err := json.Unmarshal(samples[name], &u); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		delete(u, "update_id") // let the server number them in order
		b, _ := json.Marshal(u)
		got = append(got, s.SendUpdate(b))
	}
	ups := getUpdates(t, s, nil)
	if len(ups) != len(samples) || !slices.Equal(ids(ups), got) {
		t.Fatalf("replayed %d of %d: %v", len(ups), len(samples), ids(ups))
	}
	// A given update_id is kept and later ids continue above it.
	id := s.SendUpdate(samples["01_private_text_en.json"])
	var orig struct {
		UpdateID int64 `json:"update_id"`
	}
	_ = json.Unmarshal(samples["01_private_text_en.json"], &orig)
	if id != orig.UpdateID || s.SendText(alice, "next") != orig.UpdateID+1 {
		t.Fatalf("kept id %d, want %d", id, orig.UpdateID)
	}
	// Sample 12 is a block and 13 the unblock by the same user, replayed in
	// that order above. Replaying 12 again blocks the chat.
	var blocked struct {
		MyChatMember struct {
			Chat struct{ ID int64 } `json:"chat"`
		} `json:"my_chat_member"`
	}
	_ = json.Unmarshal(samples["12_my_chat_member_private_blocked.json"], &blocked)
	chat := blocked.MyChatMember.Chat.ID
	if s.IsBlocked(chat) {
		t.Error("sample 13 did not unblock the chat")
	}
	s.SendUpdate(samples["12_my_chat_member_private_blocked.json"])
	if !s.IsBlocked(chat) {
		t.Error("sample 12 did not mark the chat blocked")
	}
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {itoa(chat)}, "text": {"x"}}), 403, "Forbidden: bot was blocked by the user")
	// Sample 24 is a callback query: it can be answered once.
	var cb struct {
		CallbackQuery struct{ ID string } `json:"callback_query"`
	}
	_ = json.Unmarshal(samples["24_callback_query_with_message.synthetic.json"], &cb)
	mustOK(t, postForm(t, s, "answerCallbackQuery", url.Values{"callback_query_id": {cb.CallbackQuery.ID}}), nil)
	// A user message of a sample can be copied.
	var m16 struct {
		Message struct {
			MessageID int `json:"message_id"`
			Chat      struct{ ID int64 }
		} `json:"message"`
	}
	_ = json.Unmarshal(samples["16_private_text_ru.json"], &m16)
	mustOK(t, postForm(t, s, "copyMessage", url.Values{"chat_id": {"-1001"}, "from_chat_id": {itoa(m16.Message.Chat.ID)}, "message_id": {itoa(int64(m16.Message.MessageID))}}), nil)
	s.RequireNoSpecErrors(t)
}

func TestWithSpecFile(t *testing.T) {
	path := t.TempDir() + "/spec.json"
	spec := `{"version":"Bot API test","methods":{"sendMessage":{"name":"sendMessage","fields":[
		{"name":"chat_id","types":["Integer","String"],"required":true},
		{"name":"text","types":["String"],"required":true}]}}}`
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	s := telegramtest.NewServer(t, telegramtest.WithSpec(path))
	if !s.SpecLoaded() || s.SpecVersion() != "Bot API test" {
		t.Fatalf("spec not loaded: %q", s.SpecVersion())
	}
	// parse_mode is not in this spec: recorded, but the call succeeds.
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1"}, "text": {"x"}, "parse_mode": {"HTML"}, "reply_to_message_id": {"0"}}), nil)
	if errs := s.TakeSpecErrors(); len(errs) != 1 || !strings.Contains(errs[0], "unknown parameter parse_mode") {
		t.Fatalf("spec errors %q", errs)
	}
	// Methods unknown to this spec and to the fake are 404.
	mustFail(t, postForm(t, s, "sendDice", nil), 404, "Not Found")

	ft := &fakeTB{TB: t}
	telegramtest.NewServer(ft, telegramtest.WithSpec(path+".missing"))
	ft.runCleanups()
	if len(ft.fatals) != 1 || !strings.Contains(ft.fatals[0], "WithSpec") {
		t.Fatalf("missing spec file: %q", ft.fatals)
	}
}

func TestMultipartFileUploadCountsAsPresent(t *testing.T) {
	s := telegramtest.NewServer(t)
	// setWebhook with a certificate file part, as the library does.
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("url", "http://127.0.0.1:1/hook") // nothing listens: no traffic leaves the machine
	fw, _ := mw.CreateFormFile("certificate", "cert.pem")
	_, _ = fw.Write([]byte("-----BEGIN CERTIFICATE-----"))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.APIURL()+"/bot"+s.Token()+"/setWebhook", strings.NewReader(buf.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	mustOK(t, do(t, req), nil)
	if p := s.Calls("setWebhook")[0].Params; !strings.Contains(p["certificate"], "cert.pem") {
		t.Fatalf("params = %q", p)
	}
	s.RequireNoSpecErrors(t)
}

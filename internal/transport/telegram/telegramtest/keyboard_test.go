package telegramtest_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

func TestReplyKeyboard(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.AddUser(alice)
	const leave = "🚪 End the help"
	send := func(markup string) result {
		return postForm(t, s, "sendMessage", url.Values{"chat_id": {itoa(alice.ID)}, "text": {"A volunteer will answer here."}, "reply_markup": {markup}})
	}
	mustOK(t, send(`{"keyboard":[[{"text":"`+leave+`"}],[{"text":"A"},{"text":"B"}]],"resize_keyboard":true,"is_persistent":true}`), nil)
	want := [][]string{{leave}, {"A", "B"}}
	if m := s.Messages(alice.ID); len(m) != 1 || !reflect.DeepEqual(m[0].Keyboard, want) || m[0].RemoveKeyboard || m[0].Buttons != nil {
		t.Fatalf("message = %+v", m)
	}
	if kb := s.ReplyKeyboard(alice.ID); !reflect.DeepEqual(kb, want) {
		t.Errorf("ReplyKeyboard = %q; want %q", kb, want)
	}
	// A message without markup leaves the keyboard shown.
	mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {itoa(alice.ID)}, "text": {"More"}}), nil)
	id, err := s.TapKeyboard(alice, leave)
	if err != nil {
		t.Fatal(err)
	}
	ups := getUpdates(t, s, nil)
	if len(ups) != 1 || ups[0].UpdateID != id || ups[0].Message.Text != leave || ups[0].Message.Chat.ID != alice.ID {
		t.Errorf("tap = %+v", ups)
	}
	if _, err := s.TapKeyboard(alice, "C"); err == nil || !strings.Contains(err.Error(), "no such reply keyboard button") {
		t.Errorf("TapKeyboard(C) = %v", err)
	}

	mustOK(t, send(`{"remove_keyboard":true}`), nil)
	if m := s.Messages(alice.ID); len(m) != 3 || !m[2].RemoveKeyboard || m[2].Keyboard != nil {
		t.Errorf("removal = %+v", m[2])
	}
	if kb := s.ReplyKeyboard(alice.ID); kb != nil {
		t.Errorf("ReplyKeyboard after removal = %q", kb)
	}
	if _, err := s.TapKeyboard(alice, leave); err == nil {
		t.Error("TapKeyboard after removal succeeded")
	}

	// Telegram's checks.
	for _, bad := range []struct{ markup, spec string }{
		{`{"keyboard":[[{"text":"A"}]],"resize_keyboard":"yes"}`, "not a valid keyboard"},
		{`{"keyboard":[]}`, "reply keyboard without buttons"},
		{`{"keyboard":[[{"text":""}]]}`, "keyboard button without text"},
		{`{"keyboard":[["A"]],"input_field_placeholder":"` + strings.Repeat("x", 65) + `"}`, "input_field_placeholder is 65"},
	} {
		if r := send(bad.markup); r.status != 400 {
			t.Errorf("%s: status %d; want 400", bad.markup, r.status)
		}
		if errs := s.TakeSpecErrors(); len(errs) != 1 || !strings.Contains(errs[0], bad.spec) {
			t.Errorf("%s: spec errors %q; want one with %q", bad.markup, errs, bad.spec)
		}
	}
	// Edits take inline keyboards only.
	mustFail(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {itoa(alice.ID)}, "message_id": {"1"}, "text": {"x"}, "reply_markup": {`{"keyboard":[["A"]]}`}}),
		400, "Bad Request: inline keyboard expected")
	s.TakeSpecErrors()
	// A copy can carry a reply keyboard too.
	mustOK(t, postForm(t, s, "copyMessage", url.Values{"chat_id": {itoa(alice.ID)}, "from_chat_id": {itoa(alice.ID)}, "message_id": {"1"},
		"reply_markup": {`{"keyboard":[[{"text":"` + leave + `"}]],"is_persistent":true}`}}), nil)
	if kb := s.ReplyKeyboard(alice.ID); !reflect.DeepEqual(kb, [][]string{{leave}}) {
		t.Errorf("ReplyKeyboard after a copy with a keyboard = %q", kb)
	}
	s.RequireNoSpecErrors(t)
}

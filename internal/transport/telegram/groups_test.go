package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

const partnerForum = int64(-1001555000111)

var (
	volunteer = telegramtest.User{ID: 5151, FirstName: "Camille", LanguageCode: "fr"}
	referent  = telegramtest.User{ID: 5252, FirstName: "Nadia", LanguageCode: "fr"}
)

// A reply keyboard goes out as a persistent, resized ReplyKeyboardMarkup
// and is removed with ReplyKeyboardRemove; inline buttons win; edits carry
// none.
func TestSendReplyKeyboard(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddUser(resident)
	s, ctx := e.c.Sender(), context.Background()
	const leave = "🚪 End the help"

	id, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, Text: "A volunteer will answer here.", Keyboard: [][]string{{leave}, {"", " "}}})
	if err != nil {
		t.Fatalf("Send with a keyboard: %v", err)
	}
	m := e.s.Messages(resident.ID)
	if len(m) != 1 || m[0].MessageID != id || !reflect.DeepEqual(m[0].Keyboard, [][]string{{leave}}) || m[0].Buttons != nil {
		t.Fatalf("messages = %+v; want one with the keyboard [[%s]] (blank buttons left out)", m, leave)
	}
	var markup map[string]any
	if err := json.Unmarshal([]byte(e.s.Calls("sendMessage")[0].Params["reply_markup"]), &markup); err != nil {
		t.Fatal(err)
	}
	if markup["resize_keyboard"] != true || markup["is_persistent"] != true || len(markup) != 3 {
		t.Errorf("reply_markup = %v; want keyboard, resize_keyboard and is_persistent", markup)
	}
	if _, err := e.s.TapKeyboard(resident, leave); err != nil {
		t.Errorf("the resident cannot tap it: %v", err)
	}

	// Inline buttons take precedence over the keyboard and its removal.
	if _, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, Text: "Closed.", RemoveKeyboard: true, Keyboard: [][]string{{"x"}},
		Buttons: [][]bot.Button{{{Label: "👍", Data: "fb:1"}}}}); err != nil {
		t.Fatal(err)
	}
	if m := e.s.Messages(resident.ID)[1]; len(m.Buttons) != 1 || m.Keyboard != nil || m.RemoveKeyboard {
		t.Errorf("inline + keyboard = %+v; want the inline keyboard only", m)
	}
	// Edits take no reply keyboard: it is left out, not refused.
	if _, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, EditMessageID: id, Text: "Edited", Keyboard: [][]string{{"x"}}, RemoveKeyboard: true}); err != nil {
		t.Fatalf("edit with a keyboard: %v", err)
	}
	// (editMessageReplyMarkup without markup on a message without inline
	// keyboard is "not modified", which counts as done.)
	if _, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, EditMessageID: id, Keyboard: [][]string{{"x"}}}); err != nil {
		t.Fatalf("markup edit with a keyboard: %v", err)
	}
	for _, c := range append(e.s.Calls("editMessageText"), e.s.Calls("editMessageReplyMarkup")...) {
		if c.Params["reply_markup"] != "" {
			t.Errorf("%s sent reply_markup %s", c.Method, c.Params["reply_markup"])
		}
	}
	if kb := e.s.ReplyKeyboard(resident.ID); !reflect.DeepEqual(kb, [][]string{{leave}}) {
		t.Errorf("keyboard shown = %q; want it unchanged by inline messages and edits", kb)
	}

	if _, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, Text: "Help ended.", RemoveKeyboard: true}); err != nil {
		t.Fatal(err)
	}
	if m := e.s.Messages(resident.ID)[2]; !m.RemoveKeyboard || m.Keyboard != nil {
		t.Errorf("removal = %+v", m)
	}
	if kb := e.s.ReplyKeyboard(resident.ID); kb != nil {
		t.Errorf("keyboard shown after removal = %q", kb)
	}
	// A keyboard of blank texts only is no keyboard.
	if _, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, Text: "Plain", Keyboard: [][]string{{""}}}); err != nil {
		t.Fatal(err)
	}
	if c := e.s.Calls("sendMessage"); c[len(c)-1].Params["reply_markup"] != "" {
		t.Errorf("blank keyboard sent as %s", c[len(c)-1].Params["reply_markup"])
	}

	// A copy can carry the keyboard (a volunteer's file relayed to the
	// resident during the help).
	e.s.SendDocument(resident, "scan")
	copied, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, CopyFromChatID: resident.ID, CopyMessageID: 1, Keyboard: [][]string{{leave}}})
	if err != nil {
		t.Fatal(err)
	}
	if m := e.s.Messages(resident.ID); m[len(m)-1].MessageID != copied || !reflect.DeepEqual(m[len(m)-1].Keyboard, [][]string{{leave}}) {
		t.Errorf("copy with keyboard = %+v", m[len(m)-1])
	}
	e.s.RequireNoSpecErrors(t)
}

// Documents and voice notes of a resident are copied into a case topic;
// Send returns the new message id.
func TestCopyMediaIntoTopic(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddGroup(partnerForum, "Partner", true, telegramtest.ChatAdminRights{CanManageTopics: true, CanDeleteMessages: true, CanPinMessages: true})
	s, ctx := e.c.Sender(), context.Background()
	thread, err := e.c.CreateForumTopic(ctx, partnerForum, "Case 4")
	if err != nil {
		t.Fatal(err)
	}
	summary, err := s.Send(ctx, bot.Reply{ChatID: partnerForum, ThreadID: thread, Text: "<b>Case 4</b>"})
	if err != nil {
		t.Fatal(err)
	}
	e.s.SendDocument(resident, "my récépissé")
	e.s.SendVoice(resident)
	var ids []int
	for _, src := range []int{1, 2} {
		id, err := s.Send(ctx, bot.Reply{ChatID: partnerForum, ThreadID: thread, CopyFromChatID: resident.ID, CopyMessageID: src})
		if err != nil {
			t.Fatalf("copy %d: %v", src, err)
		}
		ids = append(ids, id)
	}
	m := e.s.Messages(partnerForum)
	if len(m) != 3 {
		t.Fatalf("messages = %+v", m)
	}
	for i, want := range []string{"document", "voice"} {
		c := m[i+1]
		if c.MessageID != ids[i] || c.Media != want || c.FileID == "" || c.ThreadID != thread || c.CopiedFrom != resident.ID || c.CopiedMessageID != i+1 {
			t.Errorf("copy %d = %+v; want a %s in thread %d with id %d", i, c, want, thread, ids[i])
		}
	}
	if ids[0] == ids[1] || ids[0] == summary || slices.Contains(ids, thread) {
		t.Errorf("ids %v, summary %d, thread %d: not distinct", ids, summary, thread)
	}
	if err := e.c.PinMessage(ctx, partnerForum, summary); err != nil {
		t.Fatalf("PinMessage: %v", err)
	}
	if p := e.s.Pinned(partnerForum); !slices.Equal(p, []int{summary}) {
		t.Errorf("Pinned = %v; want [%d]", p, summary)
	}
	if c := e.s.Calls("pinChatMessage")[0]; c.Params["disable_notification"] != "true" {
		t.Errorf("pinChatMessage params = %v", c.Params)
	}
	if err := e.c.PinMessage(ctx, partnerForum, 999); err == nil {
		t.Error("PinMessage of a missing message = nil")
	}
	e.s.RequireNoSpecErrors(t)
}

// MemberStatus answers what the group says, and a volunteer leaving the
// group reaches the core as KindGroupMember through the poller, which asks
// for chat_member updates.
func TestMembersAndLeaving(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddGroup(partnerForum, "Partner", true, telegramtest.ChatAdminRights{CanManageTopics: true, CanPinMessages: true, CanDeleteMessages: true})
	e.s.SetMember(partnerForum, referent, "administrator")
	ctx := context.Background()
	for user, want := range map[int64]string{referent.ID: "administrator", volunteer.ID: "left"} {
		if st, err := e.c.MemberStatus(ctx, partnerForum, user); err != nil || st != want {
			t.Errorf("MemberStatus(%d) = %q, %v; want %s", user, st, err, want)
		}
	}
	rec := newRecorder(true)
	pctx, cancel := context.WithCancel(ctx)
	res := goPoll(pctx, e.c, rec)
	defer func() {
		cancel()
		if err := wait(t, res); err != nil {
			t.Errorf("Poll = %v", err)
		}
	}()
	e.s.SendGroupText(partnerForum, 0, volunteer, "bonjour")
	if st, err := e.c.MemberStatus(ctx, partnerForum, volunteer.ID); err != nil || st != "member" {
		t.Errorf("MemberStatus after writing = %q, %v; want member", st, err)
	}
	poll := e.s.WaitCalls(t, "getUpdates", 1, guard)[0]
	if got := poll.Params["allowed_updates"]; got != `["message","edited_message","callback_query","my_chat_member","chat_member"]` {
		t.Errorf("getUpdates allowed_updates = %s", got)
	}
	left := e.s.LeaveGroup(partnerForum, volunteer)
	e.s.WaitDelivered(t, left, guard) // dropped, and so failing, without chat_member in allowed_updates
	got := rec.waitN(t, 2)[1]
	want := bot.Update{ID: left, Kind: bot.KindGroupMember, ChatID: partnerForum, ChatType: bot.ChatSupergroup,
		UserID: volunteer.ID, FirstName: volunteer.FirstName, LanguageCode: volunteer.LanguageCode, MemberStatus: "left"}
	got.Raw = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("submitted %+v; want %+v", got, want)
	}
	if st, err := e.c.MemberStatus(ctx, partnerForum, volunteer.ID); err != nil || st != "left" {
		t.Errorf("MemberStatus after leaving = %q, %v", st, err)
	}
	// An unknown group is an error, not a status.
	if _, err := e.c.MemberStatus(ctx, -1001555000999, volunteer.ID); !errors.As(err, new(*telegram.APIError)) {
		t.Errorf("MemberStatus in an unknown group = %v; want an APIError", err)
	}
	e.s.RequireNoSpecErrors(t)
}

// Member tells the core what a strict membership needs: a restricted user
// who left the group (Telegram keeps "restricted", with is_member false)
// and a bot are told apart from members; and the first name, by which
// /assign offers colleagues.
func TestMemberStrict(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddGroup(partnerForum, "Partner", true, telegramtest.ChatAdminRights{CanManageTopics: true, CanPinMessages: true, CanDeleteMessages: true})
	muted := telegramtest.User{ID: 5353, FirstName: "Muted"}
	gone := telegramtest.User{ID: 5454, FirstName: "Gone"}
	helper := telegramtest.User{ID: 5555, FirstName: "Helper", IsBot: true}
	e.s.SetMember(partnerForum, volunteer, "member")
	e.s.SetMember(partnerForum, muted, "restricted")
	e.s.SetMember(partnerForum, gone, telegramtest.RestrictedLeft)
	e.s.SetMember(partnerForum, helper, "member")
	ctx := context.Background()
	for _, tt := range []struct {
		u      telegramtest.User
		want   bot.Membership
		member bool
	}{
		{volunteer, bot.Membership{Status: "member", FirstName: volunteer.FirstName}, true},
		{muted, bot.Membership{Status: "restricted", IsMember: true, FirstName: "Muted"}, true},
		{gone, bot.Membership{Status: "restricted", FirstName: "Gone"}, false},
		{helper, bot.Membership{Status: "member", IsBot: true, FirstName: "Helper"}, false},
		{referent, bot.Membership{Status: "left", FirstName: "Test"}, false},
	} {
		got, err := e.c.Member(ctx, partnerForum, tt.u.ID)
		if err != nil || got != tt.want || got.Member() != tt.member {
			t.Errorf("Member(%s) = %+v, %v (member %v); want %+v (member %v)", tt.u.FirstName, got, err, got.Member(), tt.want, tt.member)
		}
	}
	e.s.RequireNoSpecErrors(t)
}

// Deleting what is already gone is a refusal for good (bot.ErrRejected),
// not a failure to retry.
func TestDeleteGoneIsRejected(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddGroup(partnerForum, "Partner", true, telegramtest.ChatAdminRights{CanManageTopics: true, CanPinMessages: true, CanDeleteMessages: true})
	ctx := context.Background()
	thread, err := e.c.CreateForumTopic(ctx, partnerForum, "Case 5")
	if err != nil {
		t.Fatal(err)
	}
	card, err := e.c.Sender().Send(ctx, bot.Reply{ChatID: partnerForum, Text: "Dossier #5"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.DeleteMessage(ctx, partnerForum, card); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if err := e.c.DeleteForumTopic(ctx, partnerForum, thread); err != nil {
		t.Fatalf("DeleteForumTopic: %v", err)
	}
	if err := e.c.DeleteMessage(ctx, partnerForum, card); !errors.Is(err, bot.ErrRejected) {
		t.Errorf("DeleteMessage again = %v; want ErrRejected", err)
	}
	if err := e.c.DeleteForumTopic(ctx, partnerForum, thread); !errors.Is(err, bot.ErrRejected) {
		t.Errorf("DeleteForumTopic again = %v; want ErrRejected", err)
	}
	e.s.RequireNoSpecErrors(t)
}

// A copy with ReplaceCaption carries the new caption in HTML; other kinds
// of copies keep their own.
func TestCopyWithNewCaption(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddGroup(partnerForum, "Partner", true, telegramtest.ChatAdminRights{CanManageTopics: true, CanPinMessages: true, CanDeleteMessages: true})
	s, ctx := e.c.Sender(), context.Background()
	thread, err := e.c.CreateForumTopic(ctx, partnerForum, "Case 6")
	if err != nil {
		t.Fatal(err)
	}
	e.s.SendPhoto(resident, "\u202Etexte")
	e.s.SendMedia(resident, "location", "")
	if _, err := s.Send(ctx, bot.Reply{ChatID: partnerForum, ThreadID: thread, CopyFromChatID: resident.ID, CopyMessageID: 1,
		ReplaceCaption: true, Text: "💬 <b>Dossier #6</b>\n<blockquote>texte</blockquote>"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, bot.Reply{ChatID: partnerForum, ThreadID: thread, CopyFromChatID: resident.ID, CopyMessageID: 2}); err != nil {
		t.Fatal(err)
	}
	m := e.s.Messages(partnerForum)
	if len(m) != 2 || m[0].Media != "photo" || m[0].PlainText != "💬 Dossier #6\ntexte" || m[1].Media != "location" {
		t.Errorf("copies = %+v", m)
	}
	if c := e.s.Calls("copyMessage")[1]; c.Params["caption"] != "" || c.Params["parse_mode"] != "" {
		t.Errorf("a copy without ReplaceCaption sent a caption: %v", c.Params)
	}
	e.s.RequireNoSpecErrors(t)
}

// TestSyncChatCommands: a group's own menu (scope chat) is set once, and
// left alone when it is already right.
func TestSyncChatCommands(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddGroup(partnerForum, "Partner", true, telegramtest.ChatAdminRights{CanManageTopics: true, CanPinMessages: true, CanDeleteMessages: true})
	ctx := context.Background()
	cmds := []telegram.Command{{Name: "r", Description: "Écrire à la personne"}, {Name: "fermer", Description: "Clore le dossier"}}
	for i, want := range []bool{true, false} {
		changed, err := e.c.SyncChatCommands(ctx, partnerForum, cmds)
		if err != nil || changed != want {
			t.Fatalf("call %d: changed %v, %v; want %v", i+1, changed, err, want)
		}
	}
	got := e.s.Commands(telegramtest.CommandScope{Type: "chat", ChatID: partnerForum}, "")
	if len(got) != 2 || got[0].Command != "r" || got[1].Description != "Clore le dossier" {
		t.Errorf("menu = %+v", got)
	}
	if def := e.s.Commands(telegramtest.CommandScope{}, ""); len(def) != 0 {
		t.Errorf("the default menu changed: %+v", def)
	}
	if _, err := e.c.SyncChatCommands(ctx, partnerForum, []telegram.Command{{Name: "Bad-Name", Description: "x"}}); err == nil {
		t.Error("a bad command name was sent")
	}
	e.s.RequireNoSpecErrors(t)
}

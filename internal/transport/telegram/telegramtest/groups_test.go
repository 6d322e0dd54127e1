package telegramtest_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

var (
	vol   = telegramtest.User{ID: 3333, FirstName: "Camille", LanguageCode: "fr"}
	coord = telegramtest.User{ID: 4444, FirstName: "Nadia", LanguageCode: "fr"}
)

const partnerGroup = int64(-1001777000111)

var partnerRights = telegramtest.ChatAdminRights{CanManageTopics: true, CanDeleteMessages: true, CanPinMessages: true}

// rawUpdates returns the pending updates as JSON, confirming none.
func rawUpdates(t testing.TB, s *telegramtest.Server, form url.Values) []json.RawMessage {
	t.Helper()
	var ups []json.RawMessage
	mustOK(t, postForm(t, s, "getUpdates", form), &ups)
	return ups
}

// lastUpdate returns the last pending update, checked against the spec.
func lastUpdate(t testing.TB, s *telegramtest.Server) json.RawMessage {
	t.Helper()
	ups := rawUpdates(t, s, nil)
	if len(ups) == 0 {
		t.Fatal("no pending update")
	}
	u := ups[len(ups)-1]
	checkObject(t, "Update", u)
	return u
}

// memberOf calls getChatMember and checks the result against the spec.
func memberOf(t testing.TB, s *telegramtest.Server, chat, user int64) string {
	t.Helper()
	r := postForm(t, s, "getChatMember", url.Values{"chat_id": {itoa(chat)}, "user_id": {itoa(user)}})
	var m struct {
		Status string `json:"status"`
		User   struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	mustOK(t, r, &m)
	checkObject(t, "ChatMember", r.env.Result)
	if m.User.ID != user {
		t.Errorf("getChatMember(%d, %d).user.id = %d", chat, user, m.User.ID)
	}
	return m.Status
}

func TestSetMember(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.AddGroup(partnerGroup, "Partner", true, partnerRights)
	const other = int64(-1001777000222)
	s.AddGroup(other, "Other", true, partnerRights)

	// Before any SetMember, anyone is a member (the behaviour tests rely on).
	if st := memberOf(t, s, partnerGroup, 5555); st != "member" {
		t.Fatalf("unknown user before SetMember = %q; want member", st)
	}
	statuses := []string{"creator", "administrator", "member", "restricted", "left", "kicked"}
	for i, st := range statuses {
		s.SetMember(partnerGroup, telegramtest.User{ID: int64(7000 + i), FirstName: st}, st)
	}
	for i, want := range statuses {
		if got := memberOf(t, s, partnerGroup, int64(7000+i)); got != want {
			t.Errorf("status of the %s = %q", want, got)
		}
		if got := s.MemberStatus(partnerGroup, int64(7000+i)); got != want {
			t.Errorf("MemberStatus of the %s = %q", want, got)
		}
	}
	// Now the group has a member list: strangers have left (or never came).
	if st := memberOf(t, s, partnerGroup, 5555); st != "left" {
		t.Errorf("unknown user after SetMember = %q; want left", st)
	}
	if st := memberOf(t, s, other, 5555); st != "member" {
		t.Errorf("unknown user of a group without SetMember = %q; want member", st)
	}
	// Writing in the group makes one a member, but keeps a status set.
	s.SendGroupText(partnerGroup, 0, vol, "bonjour")
	s.SetMember(partnerGroup, coord, "restricted")
	s.SendGroupText(partnerGroup, 0, coord, "hello")
	if st := memberOf(t, s, partnerGroup, vol.ID); st != "member" {
		t.Errorf("user who wrote = %q; want member", st)
	}
	if st := memberOf(t, s, partnerGroup, coord.ID); st != "restricted" {
		t.Errorf("restricted user who wrote = %q; want restricted", st)
	}
	// The bot's own status still comes from AddGroup.
	if st := memberOf(t, s, partnerGroup, s.BotID()); st != "administrator" {
		t.Errorf("bot = %q", st)
	}
	if got := s.MemberStatus(partnerGroup, s.BotID()); got != "administrator" {
		t.Errorf("MemberStatus of the bot = %q", got)
	}
	if got := s.MemberStatus(-1001777000999, vol.ID); got != "" {
		t.Errorf("MemberStatus in an unknown chat = %q; want \"\"", got)
	}
	// SetMember makes a chat known.
	s.SetMember(-1001777000333, vol, "member")
	mustOK(t, postForm(t, s, "getChat", url.Values{"chat_id": {"-1001777000333"}}), nil)

	for _, bad := range []struct {
		chat   int64
		user   telegramtest.User
		status string
	}{
		{partnerGroup, vol, "banned"},
		{vol.ID, vol, "member"},
		{partnerGroup, telegramtest.User{ID: s.BotID()}, "member"},
	} {
		ft := &fakeTB{TB: t}
		fs := telegramtest.NewServer(ft)
		fs.SetMember(bad.chat, bad.user, bad.status)
		if len(ft.fatals) != 1 {
			t.Errorf("SetMember(%d, %d, %q): fatals %q; want one", bad.chat, bad.user.ID, bad.status, ft.fatals)
		}
		ft.runCleanups()
	}
	s.RequireNoSpecErrors(t)
}

func TestLeaveGroup(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.AddGroup(partnerGroup, "Partner", true, partnerRights)
	s.SetMember(partnerGroup, coord, "administrator")
	s.SendGroupText(partnerGroup, 0, vol, "je suis là")
	rawUpdates(t, s, url.Values{"allowed_updates": {`["message","callback_query","my_chat_member","chat_member"]`}})

	for _, c := range []struct {
		u   telegramtest.User
		old string
	}{{vol, "member"}, {coord, "administrator"}} {
		id := s.LeaveGroup(partnerGroup, c.u)
		raw := lastUpdate(t, s)
		var u struct {
			UpdateID   int64 `json:"update_id"`
			ChatMember *struct {
				Chat struct {
					ID   int64  `json:"id"`
					Type string `json:"type"`
				} `json:"chat"`
				From          struct{ ID int64 } `json:"from"`
				OldChatMember struct {
					Status string
					User   struct{ ID int64 }
				} `json:"old_chat_member"`
				NewChatMember struct {
					Status string
					User   struct {
						ID        int64  `json:"id"`
						FirstName string `json:"first_name"`
					}
				} `json:"new_chat_member"`
			} `json:"chat_member"`
		}
		if err := json.Unmarshal(raw, &u); err != nil || u.ChatMember == nil {
			t.Fatalf("update %s: %v", raw, err)
		}
		cm := u.ChatMember
		if u.UpdateID != id || cm.Chat.ID != partnerGroup || cm.Chat.Type != "supergroup" || cm.From.ID != c.u.ID ||
			cm.OldChatMember.Status != c.old || cm.OldChatMember.User.ID != c.u.ID ||
			cm.NewChatMember.Status != "left" || cm.NewChatMember.User.ID != c.u.ID || cm.NewChatMember.User.FirstName != c.u.FirstName {
			t.Errorf("chat_member update = %s", raw)
		}
		if st := memberOf(t, s, partnerGroup, c.u.ID); st != "left" {
			t.Errorf("after LeaveGroup: %q", st)
		}
	}
	getUpdates(t, s, url.Values{"offset": {itoa(1 << 40)}})

	// Without "chat_member" in allowed_updates Telegram never creates it.
	getUpdates(t, s, url.Values{"allowed_updates": {`[]`}})
	ft := &fakeTB{TB: t}
	s.WaitDelivered(ft, s.LeaveGroup(partnerGroup, coord), time.Millisecond)
	if len(ft.fatals) != 1 || !strings.Contains(ft.fatals[0], "allowed_updates") {
		t.Errorf("chat_member not asked for: %q", ft.fatals)
	}
	// Nor for a group where the bot is no administrator.
	getUpdates(t, s, url.Values{"allowed_updates": {`["message","chat_member"]`}})
	const plain = int64(-1001777000444)
	s.AddGroup(plain, "Bot is a member", true, telegramtest.ChatAdminRights{})
	ft = &fakeTB{TB: t}
	s.WaitDelivered(ft, s.LeaveGroup(plain, vol), time.Millisecond)
	if len(ft.fatals) != 1 || !strings.Contains(ft.fatals[0], "not an administrator") {
		t.Errorf("chat_member in a group the bot does not administer: %q", ft.fatals)
	}
	if s.PendingUpdates() != 0 {
		t.Errorf("%d updates queued; want the dropped ones left out", s.PendingUpdates())
	}
	// A chat_member update injected raw updates the member list.
	s.SendUpdate([]byte(`{"chat_member":{"chat":{"id":-1001777000111,"title":"Partner","type":"supergroup","is_forum":true},
		"from":{"id":4444,"is_bot":false,"first_name":"Nadia"},"date":1767225600,
		"old_chat_member":{"user":{"id":3333,"is_bot":false,"first_name":"Camille"},"status":"left"},
		"new_chat_member":{"user":{"id":3333,"is_bot":false,"first_name":"Camille"},"status":"member"}}}`))
	if st := memberOf(t, s, partnerGroup, vol.ID); st != "member" {
		t.Errorf("after a raw chat_member update: %q; want member", st)
	}
	s.RequireNoSpecErrors(t)
}

func TestPinChatMessage(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.AddGroup(partnerGroup, "Partner", true, partnerRights)
	var topic struct {
		MessageThreadID int `json:"message_thread_id"`
	}
	mustOK(t, postForm(t, s, "createForumTopic", url.Values{"chat_id": {itoa(partnerGroup)}, "name": {"Case 7"}}), &topic)
	th := itoa(int64(topic.MessageThreadID))
	send := func(chat int64, thread string) int {
		t.Helper()
		var m struct {
			MessageID int `json:"message_id"`
		}
		mustOK(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {itoa(chat)}, "message_thread_id": {thread}, "text": {"summary"}}), &m)
		return m.MessageID
	}
	first, second := send(partnerGroup, th), send(partnerGroup, th)
	pin := func(chat int64, id int) result {
		return postForm(t, s, "pinChatMessage", url.Values{"chat_id": {itoa(chat)}, "message_id": {itoa(int64(id))}, "disable_notification": {"true"}})
	}
	var ok bool
	mustOK(t, pin(partnerGroup, first), &ok)
	mustOK(t, pin(partnerGroup, second), nil)
	mustOK(t, pin(partnerGroup, first), nil) // pinned again: now the latest
	if !ok || !slices.Equal(s.Pinned(partnerGroup), []int{second, first}) {
		t.Errorf("Pinned = %v (result %v); want [%d %d]", s.Pinned(partnerGroup), ok, second, first)
	}
	// A user's message can be pinned too.
	s.SendGroupText(partnerGroup, topic.MessageThreadID, vol, "note")
	var up []update
	mustOK(t, postForm(t, s, "getUpdates", nil), &up)
	mustOK(t, pin(partnerGroup, up[len(up)-1].Message.MessageID), nil)

	mustFail(t, pin(partnerGroup, 999), 400, "Bad Request: message to pin not found")
	mustFail(t, pin(partnerGroup, topic.MessageThreadID), 400, "Bad Request: message to pin not found")
	mustFail(t, pin(-1001777000999, 1), 400, "Bad Request: chat not found")

	const noPin = int64(-1001777000555)
	s.AddGroup(noPin, "No pin right", true, telegramtest.ChatAdminRights{CanManageTopics: true})
	mustFail(t, pin(noPin, send(noPin, "")), 400, "Bad Request: not enough rights to manage pinned messages in the chat")
	if p := s.Pinned(noPin); len(p) != 0 {
		t.Errorf("Pinned without the right = %v", p)
	}
	// In a private chat no right is needed; a blocked user refuses.
	s.AddUser(alice)
	priv := send(alice.ID, "")
	mustOK(t, pin(alice.ID, priv), nil)
	if !slices.Equal(s.Pinned(alice.ID), []int{priv}) {
		t.Errorf("private Pinned = %v", s.Pinned(alice.ID))
	}
	s.Block(alice)
	mustFail(t, pin(alice.ID, priv), 403, "Forbidden: bot was blocked by the user")

	mustFail(t, postForm(t, s, "pinChatMessage", url.Values{"chat_id": {itoa(partnerGroup)}}), 400, "Bad Request: message_id is required")
	if errs := s.TakeSpecErrors(); len(errs) != 1 || !strings.Contains(errs[0], "pinChatMessage: message_id is required") {
		t.Errorf("spec errors = %q", errs)
	}
	if calls := s.Calls("pinchatmessage"); len(calls) != 11 || calls[0].Params["disable_notification"] != "true" {
		t.Errorf("pinChatMessage calls = %d", len(calls))
	}
}

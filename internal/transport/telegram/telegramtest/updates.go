package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

type queuedUpdate struct {
	id   int64
	kind string
	raw  []byte
}

// poller is one getUpdates request in progress.
type poller struct {
	kick   chan struct{} // closed when another request terminates this one
	reason string        // the 409 description; written before kick is closed
}

type webhookState struct {
	url     string
	secret  string
	maxConn int
	ctx     context.Context
	cancel  context.CancelFunc
}

// defaultExcluded are the update types Telegram leaves out unless they are
// listed in allowed_updates explicitly.
var defaultExcluded = map[string]bool{
	"chat_member":            true,
	"message_reaction":       true,
	"message_reaction_count": true,
}

func (s *Server) allowsLocked(kind string) bool {
	if len(s.allowed) == 0 {
		return !defaultExcluded[kind]
	}
	for _, a := range s.allowed {
		if a == kind {
			return true
		}
	}
	return false
}

// enqueueLocked queues an update unless allowed_updates filters its type
// out (then it is dropped, as Telegram never creates it).
func (s *Server) enqueueLocked(id int64, kind string, raw []byte) {
	defer s.notifyLocked()
	if !s.allowsLocked(kind) {
		s.dropped[id] = fmt.Sprintf("type %q is not in allowed_updates %v", kind, s.allowed)
		return
	}
	i := sort.Search(len(s.queue), func(i int) bool { return s.queue[i].id > id })
	s.queue = append(s.queue, queuedUpdate{})
	copy(s.queue[i+1:], s.queue[i:])
	s.queue[i] = queuedUpdate{id: id, kind: kind, raw: raw}
}

// injectLocked builds {"update_id":N,kind:body}, queues it and returns N.
func (s *Server) injectLocked(kind string, body any) int64 {
	id := s.nextUpdateID
	s.nextUpdateID++
	b, err := json.Marshal(body)
	if err != nil {
		panic("telegramtest: marshal update: " + err.Error())
	}
	raw := fmt.Appendf(nil, `{"update_id":%d,%q:%s}`, id, kind, b)
	s.enqueueLocked(id, kind, raw)
	return id
}

// commandEntities returns the bot_command entity Telegram adds to a text
// that starts with "/command" or "/command@bot".
func commandEntities(text string) []entity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	isCmd := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
	}
	j := 1
	for j < len(text) && isCmd(text[j]) {
		j++
	}
	if j == 1 {
		return nil
	}
	if j < len(text) && text[j] == '@' {
		k := j + 1
		for k < len(text) && isCmd(text[k]) {
			k++
		}
		if k > j+1 {
			j = k
		}
	}
	return []entity{{Type: "bot_command", Offset: 0, Length: utf16Len(text[:j])}}
}

// privateChatLocked prepares the private chat with u.
func (s *Server) privateChatLocked(u User) *chatState {
	s.noteUserLocked(u)
	cs := s.chatLocked(u.ID)
	uu := u
	cs.user = &uu
	cs.kind = "private"
	cs.known = true
	return cs
}

// SendText injects a message update from u in the private chat with the bot
// (chat id = u.ID) and returns its update_id. A text starting with "/" gets
// a bot_command entity, as Telegram adds.
func (s *Server) SendText(u User, text string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.privateChatLocked(u)
	um := &userMsg{id: cs.newMsgID(), from: u, text: text, entities: commandEntities(text), date: time.Now().Unix()}
	return s.userMessageLocked(cs, um)
}

// userMessageLocked records um in cs and injects it as a message update.
func (s *Server) userMessageLocked(cs *chatState, um *userMsg) int64 {
	cs.userMsgs[um.id] = um
	return s.injectLocked("message", s.renderUserLocked(cs, um, true))
}

// SendGroupText injects a message update from u in the supergroup chatID and
// returns its update_id. When threadID is not 0 the chat is a forum
// (is_forum) and the message carries message_thread_id and
// is_topic_message, and, as on Telegram, reply_to_message = the topic's
// creation message (message_id = threadID, forum_topic_created; sent by the
// bot for a topic of createForumTopic, else by u). A text starting with "/"
// gets a bot_command entity. u becomes a "member" of the chat unless
// SetMember gave it a status.
func (s *Server) SendGroupText(chatID int64, threadID int, u User, text string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.groupMessageChatLocked(chatID, threadID, u)
	um := &userMsg{id: cs.newMsgID(), from: u, text: text, entities: commandEntities(text), thread: threadID, date: time.Now().Unix()}
	return s.userMessageLocked(cs, um)
}

// SendGroupReply is SendGroupText for a message that replies to message
// replyTo of the chat (the bot's or a user's): reply_to_message is that
// message, with its author in from. The test fails if replyTo is not a
// message of the chat (or was deleted).
func (s *Server) SendGroupReply(chatID int64, threadID int, u User, replyTo int, text string) int64 {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.groupMessageChatLocked(chatID, threadID, u)
	if replyTo == 0 || s.renderRefLocked(cs, replyTo) == nil {
		s.tb.Fatalf("telegramtest: SendGroupReply(%d, %d): no message %d to reply to in the chat", chatID, threadID, replyTo)
		return 0
	}
	um := &userMsg{id: cs.newMsgID(), from: u, text: text, entities: commandEntities(text), thread: threadID, replyTo: replyTo, date: time.Now().Unix()}
	return s.userMessageLocked(cs, um)
}

// groupMessageChatLocked prepares group chatID for a message of u in
// threadID (0: none).
func (s *Server) groupMessageChatLocked(chatID int64, threadID int, u User) *chatState {
	s.noteUserLocked(u)
	cs := s.chatLocked(chatID)
	cs.kind = "supergroup"
	cs.known = true
	if threadID != 0 {
		cs.isForum = true
		cs.threads[threadID] = true
		s.topicLocked(cs, threadID, apiUserOf(u))
	}
	if _, ok := cs.members[u.ID]; !ok {
		cs.members[u.ID] = "member"
	}
	return cs
}

// SendPhoto injects a photo message (two sizes, each with file_id and
// file_unique_id) from u in the private chat with the bot, and returns its
// update_id.
func (s *Server) SendPhoto(u User, caption string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.privateChatLocked(u)
	um := &userMsg{id: cs.newMsgID(), from: u, caption: caption, media: media{photo: s.newPhotoLocked()}, date: time.Now().Unix()}
	return s.userMessageLocked(cs, um)
}

// SendDocument injects a document message (a PDF with file_id,
// file_unique_id, file_name and mime_type) with caption ("" for none) from
// u in the private chat with the bot, and returns its update_id.
func (s *Server) SendDocument(u User, caption string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.privateChatLocked(u)
	um := &userMsg{id: cs.newMsgID(), from: u, caption: caption, media: media{document: s.newDocumentLocked()}, date: time.Now().Unix()}
	return s.userMessageLocked(cs, um)
}

// SendVoice injects a voice note (OGG, with file_id, file_unique_id and
// duration) from u in the private chat with the bot, and returns its
// update_id.
func (s *Server) SendVoice(u User) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.privateChatLocked(u)
	um := &userMsg{id: cs.newMsgID(), from: u, media: media{voice: s.newVoiceLocked()}, date: time.Now().Unix()}
	return s.userMessageLocked(cs, um)
}

// SendMedia injects a message of kind "video", "video_note", "audio",
// "animation", "sticker", "location" or "contact" from u in the private
// chat with the bot, with caption ("" for none; kinds without a caption
// ignore it), and returns its update_id. An unknown kind fails the test.
func (s *Server) SendMedia(u User, kind, caption string) int64 {
	s.tb.Helper()
	switch kind {
	case "video", "video_note", "audio", "animation", "sticker", "location", "contact":
	default:
		s.tb.Fatalf("telegramtest: SendMedia(%q): unknown kind", kind)
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.privateChatLocked(u)
	m := s.newMediaLocked(kind)
	if !m.captioned() {
		caption = ""
	}
	um := &userMsg{id: cs.newMsgID(), from: u, caption: caption, media: m, date: time.Now().Unix()}
	return s.userMessageLocked(cs, um)
}

// TapKeyboard makes u tap the button labelled label of the reply keyboard
// the bot shows in the private chat with u (see ReplyKeyboard): it injects
// the button's text as a message, like SendText, and returns its update_id.
// It fails if no such button is shown.
func (s *Server) TapKeyboard(u User, label string) (int64, error) {
	s.mu.Lock()
	cs := s.chats[u.ID]
	var shown [][]string
	if cs != nil {
		shown = cs.replyKB
	}
	s.mu.Unlock()
	for _, row := range shown {
		if slices.Contains(row, label) {
			return s.SendText(u, label), nil
		}
	}
	return 0, fmt.Errorf("telegramtest: TapKeyboard(%q): no such reply keyboard button in chat %d (keyboard: %q)", label, u.ID, shown)
}

// SendUpdate injects a raw Update JSON object, such as a file of Samples,
// and returns its update_id. If update_id is missing or 0 the next one is
// assigned; a given update_id is kept (later assigned ids continue above
// it). Messages, callback queries and private my_chat_member updates in it
// are remembered (chat, user, message ids, callback id, blocked state), so
// that later calls about them behave as on Telegram. Invalid JSON fails the
// test of NewServer.
func (s *Server) SendUpdate(raw []byte) int64 {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		s.tb.Helper()
		s.tb.Fatalf("telegramtest: SendUpdate: not a JSON object: %v", err)
		return 0
	}
	var id int64
	if v, ok := m["update_id"]; ok {
		_ = json.Unmarshal(v, &id)
	}
	kinds := make([]string, 0, 1)
	for k := range m {
		if k != "update_id" {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	kind := ""
	if len(kinds) > 0 {
		kind = kinds[0]
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 {
		id = s.nextUpdateID
		s.nextUpdateID++
	} else if id >= s.nextUpdateID {
		s.nextUpdateID = id + 1
	}
	m["update_id"] = json.RawMessage(fmt.Sprint(id))
	out, err := json.Marshal(m)
	if err != nil {
		s.tb.Helper()
		s.tb.Fatalf("telegramtest: SendUpdate: %v", err)
		return 0
	}
	if kind != "" {
		s.observeLocked(kind, m[kind])
	}
	s.enqueueLocked(id, kind, out)
	return id
}

// observeLocked remembers what an injected update tells about chats.
func (s *Server) observeLocked(kind string, body json.RawMessage) {
	type userJ struct {
		ID           int64  `json:"id"`
		IsBot        bool   `json:"is_bot"`
		FirstName    string `json:"first_name"`
		Username     string `json:"username"`
		LanguageCode string `json:"language_code"`
	}
	type chatJ struct {
		ID        int64  `json:"id"`
		Type      string `json:"type"`
		Title     string `json:"title"`
		FirstName string `json:"first_name"`
		Username  string `json:"username"`
		IsForum   bool   `json:"is_forum"`
	}
	switch kind {
	case "message", "edited_message", "channel_post", "edited_channel_post", "business_message":
		var msg struct {
			MessageID       int            `json:"message_id"`
			MessageThreadID int            `json:"message_thread_id"`
			From            *userJ         `json:"from"`
			Chat            chatJ          `json:"chat"`
			Date            int64          `json:"date"`
			Text            string         `json:"text"`
			Entities        []entity       `json:"entities"`
			Caption         string         `json:"caption"`
			Photo           []apiPhotoSize `json:"photo"`
			Document        *apiDocument   `json:"document"`
			Voice           *apiVoice      `json:"voice"`
			ReplyTo         *struct {
				MessageID int `json:"message_id"`
			} `json:"reply_to_message"`
			ForumTopicCreated *apiForumTopicCreated `json:"forum_topic_created"`
		}
		if json.Unmarshal(body, &msg) != nil || msg.Chat.ID == 0 {
			return
		}
		var from User
		if msg.From != nil {
			from = User{ID: msg.From.ID, FirstName: msg.From.FirstName, Username: msg.From.Username, LanguageCode: msg.From.LanguageCode}
			if !msg.From.IsBot {
				s.noteUserLocked(from)
			}
		}
		cs := s.chatLocked(msg.Chat.ID)
		cs.known = true
		if msg.Chat.Type != "" {
			cs.kind = msg.Chat.Type
		}
		if msg.Chat.Title != "" {
			cs.title = msg.Chat.Title
		}
		if msg.Chat.IsForum {
			cs.isForum = true
		}
		if cs.kind == "private" && msg.From != nil && msg.From.ID == msg.Chat.ID {
			cs.user = &from
		}
		if msg.MessageThreadID != 0 {
			cs.threads[msg.MessageThreadID] = true
		}
		if msg.MessageID >= cs.nextMsgID {
			cs.nextMsgID = msg.MessageID + 1
		}
		if kind == "edited_message" || kind == "edited_channel_post" {
			if um := cs.userMsgs[msg.MessageID]; um != nil {
				um.text, um.caption, um.entities = msg.Text, msg.Caption, msg.Entities
			}
			return
		}
		date := msg.Date
		if date == 0 {
			date = time.Now().Unix()
		}
		if t := msg.ForumTopicCreated; t != nil {
			// A topic's creation message: its id is the thread id.
			cs.isForum = true
			cs.threads[msg.MessageID] = true
			var creator *apiUser
			if msg.From != nil {
				creator = apiUserOf(from)
				creator.IsBot = msg.From.IsBot
			}
			cs.topicInfo[msg.MessageID] = &topicInfo{creator: creator, name: t.Name, color: t.IconColor, date: date}
			return
		}
		um := &userMsg{
			id: msg.MessageID, from: from, text: msg.Text, entities: msg.Entities,
			caption: msg.Caption, media: media{photo: msg.Photo, document: msg.Document, voice: msg.Voice},
			thread: msg.MessageThreadID, date: date,
		}
		if msg.ReplyTo != nil {
			um.replyTo = msg.ReplyTo.MessageID
		}
		cs.userMsgs[msg.MessageID] = um
		if cs.kind != "private" && msg.From != nil && !msg.From.IsBot {
			if _, ok := cs.members[from.ID]; !ok {
				cs.members[from.ID] = "member"
			}
		}
	case "callback_query":
		var cq struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &cq) == nil && cq.ID != "" {
			if _, ok := s.callbacks[cq.ID]; !ok {
				s.callbacks[cq.ID] = false
			}
		}
	case "chat_member":
		var cm struct {
			Chat          chatJ `json:"chat"`
			NewChatMember struct {
				Status string `json:"status"`
				User   *userJ `json:"user"`
			} `json:"new_chat_member"`
		}
		if json.Unmarshal(body, &cm) != nil || cm.Chat.ID >= 0 || cm.NewChatMember.User == nil || !memberStatuses[cm.NewChatMember.Status] {
			return
		}
		m := cm.NewChatMember.User
		if m.ID == BotID {
			return
		}
		if !m.IsBot {
			s.noteUserLocked(User{ID: m.ID, FirstName: m.FirstName, Username: m.Username, LanguageCode: m.LanguageCode})
		}
		cs := s.chatLocked(cm.Chat.ID)
		cs.known = true
		if cm.Chat.Type != "" {
			cs.kind = cm.Chat.Type
		}
		cs.members[m.ID] = cm.NewChatMember.Status
	case "my_chat_member":
		var cm struct {
			Chat          chatJ `json:"chat"`
			NewChatMember struct {
				Status string `json:"status"`
			} `json:"new_chat_member"`
		}
		if json.Unmarshal(body, &cm) != nil || cm.Chat.Type != "private" {
			return
		}
		cs := s.chatLocked(cm.Chat.ID)
		cs.known = true
		switch cm.NewChatMember.Status {
		case "kicked":
			cs.blocked = true
		case "member":
			cs.blocked = false
		}
	}
}

type chatMember struct {
	Status    string   `json:"status"`
	User      *apiUser `json:"user"`
	UntilDate *int64   `json:"until_date,omitempty"`
}

func (s *Server) myChatMemberLocked(u User, oldStatus, newStatus string) int64 {
	cs := s.privateChatLocked(u)
	zero := int64(0)
	oldM := chatMember{Status: oldStatus, User: s.botUser()}
	newM := chatMember{Status: newStatus, User: s.botUser()}
	if oldStatus == "kicked" {
		oldM.UntilDate = &zero
	}
	if newStatus == "kicked" {
		newM.UntilDate = &zero
	}
	body := struct {
		Chat          apiChat    `json:"chat"`
		From          *apiUser   `json:"from"`
		Date          int64      `json:"date"`
		OldChatMember chatMember `json:"old_chat_member"`
		NewChatMember chatMember `json:"new_chat_member"`
	}{s.chatObjLocked(cs), apiUserOf(u), time.Now().Unix(), oldM, newM}
	return s.injectLocked("my_chat_member", body)
}

// Block makes u block the bot: it injects the private my_chat_member update
// (member → kicked) and returns its update_id. From then on the sending calls
// to that chat get 403 "Forbidden: bot was blocked by the user".
func (s *Server) Block(u User) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.privateChatLocked(u).blocked = true
	return s.myChatMemberLocked(u, "member", "kicked")
}

// Unblock makes u unblock (restart) the bot: it injects the private
// my_chat_member update (kicked → member) and returns its update_id.
func (s *Server) Unblock(u User) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.privateChatLocked(u).blocked = false
	return s.myChatMemberLocked(u, "kicked", "member")
}

// LeaveGroup makes u leave the group chatID: u's status becomes "left"
// ("restricted" with is_member false if u was restricted, as Telegram
// keeps it) and a chat_member update (old status → new, from = u) is
// injected; its update_id is returned. As on Telegram the update exists
// only if the bot asked for "chat_member" in allowed_updates and is an
// administrator of the group (for a group registered with AddGroup: with
// some right); otherwise it is dropped, and WaitDelivered on it fails
// saying why.
func (s *Server) LeaveGroup(chatID int64, u User) int64 {
	return s.memberChange(chatID, u, "left")
}

// BanFromGroup makes an administrator ban u from the group chatID: u's
// status becomes "kicked" and a chat_member update is injected, as for
// LeaveGroup.
func (s *Server) BanFromGroup(chatID int64, u User) int64 {
	return s.memberChange(chatID, u, "kicked")
}

func (s *Server) memberChange(chatID int64, u User, status string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noteUserLocked(u)
	cs := s.groupLocked(chatID)
	old := cs.memberStatus(u.ID)
	if status == "left" && old == "restricted" {
		status = restrictedLeft
	}
	cs.members[u.ID] = status
	body := struct {
		Chat          apiChat  `json:"chat"`
		From          *apiUser `json:"from"`
		Date          int64    `json:"date"`
		OldChatMember any      `json:"old_chat_member"`
		NewChatMember any      `json:"new_chat_member"`
	}{s.chatObjLocked(cs), apiUserOf(u), time.Now().Unix(), memberObject(old, u), memberObject(status, u)}
	if cs.added && !cs.admin {
		id := s.nextUpdateID
		s.nextUpdateID++
		s.dropped[id] = fmt.Sprintf("chat_member in chat %d: the bot is not an administrator there (AddGroup without rights)", chatID)
		s.notifyLocked()
		return id
	}
	return s.injectLocked("chat_member", body)
}

// PressButton makes u press the inline button labelled label. It searches the
// bot's messages in chatID, latest first (as they now stand, after edits;
// deleted ones skipped), injects a callback_query update (unique id, from u,
// message = that bot message, data = the button's callback_data) and returns
// its update_id. It fails if no such button with callback_data exists.
func (s *Server) PressButton(u User, chatID int64, label string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil || len(cs.bot) == 0 {
		return 0, fmt.Errorf("telegramtest: PressButton(%q): the bot sent no message to chat %d", label, chatID)
	}
	var labels []string
	for i := len(cs.bot) - 1; i >= 0; i-- {
		b := cs.bot[i]
		if b.m.Deleted {
			continue
		}
		for _, row := range b.m.Buttons {
			for _, btn := range row {
				if btn.Text != label {
					labels = append(labels, btn.Text)
					continue
				}
				if btn.Data == "" {
					return 0, fmt.Errorf("telegramtest: PressButton(%q): button of message %d in chat %d has no callback_data", label, b.m.MessageID, chatID)
				}
				s.noteUserLocked(u)
				s.nextCallback++
				id := fmt.Sprintf("%d%07d", 4266731700+chatID%1000, s.nextCallback)
				s.callbacks[id] = false
				cq := struct {
					ID           string      `json:"id"`
					From         *apiUser    `json:"from"`
					Message      *apiMessage `json:"message"`
					ChatInstance string      `json:"chat_instance"`
					Data         string      `json:"data"`
				}{id, apiUserOf(u), s.renderBotLocked(cs, b, true), fmt.Sprint(-(chatID*7919 + 1)), btn.Data}
				upd := s.injectLocked("callback_query", cq)
				s.queryOf[upd] = id
				return upd, nil
			}
		}
	}
	return 0, fmt.Errorf("telegramtest: PressButton(%q): no such inline button in chat %d (buttons: %q)", label, chatID, labels)
}

// PendingUpdates returns the number of queued updates not yet confirmed by a
// getUpdates offset nor delivered to the webhook with a 2xx answer.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Delivered reports whether an update was confirmed (a getUpdates offset
// passed it) or delivered to the webhook with a 2xx answer.
func (s *Server) Delivered(updateID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered[updateID]
}

// WaitDelivered blocks until updateID was confirmed by a getUpdates offset or
// delivered to the webhook with a 2xx answer. After timeout, or if the
// update was dropped (allowed_updates, drop_pending_updates), it fails the
// test with tb.Fatalf.
func (s *Server) WaitDelivered(tb testing.TB, updateID int64, timeout time.Duration) {
	tb.Helper()
	var why string
	ok := s.waitFor(timeout, func() bool {
		why = s.dropped[updateID]
		return s.delivered[updateID] || why != ""
	})
	if why != "" {
		tb.Fatalf("telegramtest: WaitDelivered(%d): update was dropped: %s", updateID, why)
	}
	if !ok {
		s.mu.Lock()
		pending, hook := len(s.queue), s.webhook != nil
		lastErr := s.whLastMsg
		s.mu.Unlock()
		tb.Fatalf("telegramtest: WaitDelivered(%d): not delivered after %v (pending %d, webhook %v, last webhook error %q)",
			updateID, timeout, pending, hook, lastErr)
	}
}

// confirmLocked applies a getUpdates offset.
func (s *Server) confirmLocked(offset int64) {
	n := 0
	switch {
	case offset > 0:
		for n < len(s.queue) && s.queue[n].id < offset {
			n++
		}
	case offset < 0:
		keep := -offset
		if int64(len(s.queue)) > keep {
			n = len(s.queue) - int(keep)
		}
	}
	if n == 0 {
		return
	}
	for _, u := range s.queue[:n] {
		s.delivered[u.id] = true
	}
	s.queue = append([]queuedUpdate(nil), s.queue[n:]...)
	s.notifyLocked()
}

func (s *Server) dropQueueLocked(why string) {
	for _, u := range s.queue {
		s.dropped[u.id] = why
	}
	s.queue = nil
	s.notifyLocked()
}

func parseAllowed(rq *request) ([]string, bool, *apiError) {
	var allowed []string
	given, aerr := rq.optJSON("allowed_updates", &allowed)
	if aerr != nil {
		return nil, false, aerr
	}
	if given && allowed == nil {
		allowed = []string{}
	}
	return allowed, given, nil
}

func (s *Server) getUpdates(ctx context.Context, rq *request) (any, *apiError) {
	offset, hasOffset, aerr := rq.optInt("offset")
	if aerr != nil {
		return nil, aerr
	}
	limit, hasLimit, aerr := rq.optInt("limit")
	if aerr != nil {
		return nil, aerr
	}
	if !hasLimit || limit < 1 || limit > 100 {
		limit = 100
	}
	timeout, _, aerr := rq.optInt("timeout")
	if aerr != nil {
		return nil, aerr
	}
	allowed, allowedGiven, aerr := parseAllowed(rq)
	if aerr != nil {
		return nil, aerr
	}

	s.mu.Lock()
	if s.webhook != nil {
		s.mu.Unlock()
		return nil, &apiError{code: 409, desc: conflictWebhook}
	}
	if allowedGiven {
		s.allowed = allowed
	}
	me := &poller{kick: make(chan struct{})}
	if s.poll != nil {
		s.poll.reason = conflictPoll
		close(s.poll.kick)
	}
	s.poll = me
	if hasOffset {
		s.confirmLocked(offset)
	}
	s.notifyLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.poll == me {
			s.poll = nil
			s.notifyLocked()
		}
		s.mu.Unlock()
	}()

	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expire = t.C
	}
	for {
		s.mu.Lock()
		n := min(int(limit), len(s.queue))
		batch := make([]json.RawMessage, n)
		for i := range n {
			batch[i] = s.queue[i].raw
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-me.kick:
			return nil, &apiError{code: 409, desc: me.reason}
		default:
		}
		if n > 0 || expire == nil {
			return batch, nil
		}
		select {
		case <-ch:
		case <-expire:
			return batch, nil
		case <-me.kick:
			return nil, &apiError{code: 409, desc: me.reason}
		case <-ctx.Done():
			return batch, nil
		case <-s.done:
			return batch, nil
		}
	}
}

func (s *Server) setWebhook(_ context.Context, rq *request) (any, *apiError) {
	rawURL := strings.TrimSpace(rq.str("url"))
	secret, hasSecret := rq.p["secret_token"]
	if hasSecret {
		if len(secret) < 1 || len(secret) > 256 {
			return nil, s.specFail(rq.method, fmt.Sprintf("secret_token must be 1-256 characters, got %d", len(secret)),
				"bad webhook: secret token must be 1-256 characters long")
		}
		for i := 0; i < len(secret); i++ {
			c := secret[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return nil, s.specFail(rq.method, "secret_token may only contain A-Z, a-z, 0-9, _ and -",
					"bad webhook: secret token contains unallowed characters")
			}
		}
	}
	maxConn, hasMax, aerr := rq.optInt("max_connections")
	if aerr != nil {
		return nil, aerr
	}
	if !hasMax {
		maxConn = 40
	} else if maxConn < 1 || maxConn > 100 {
		return nil, s.specFail(rq.method, fmt.Sprintf("max_connections must be 1-100, got %d", maxConn),
			"bad webhook: max_connections must be between 1 and 100")
	}
	drop, aerr := rq.optBool("drop_pending_updates")
	if aerr != nil {
		return nil, aerr
	}
	allowed, allowedGiven, aerr := parseAllowed(rq)
	if aerr != nil {
		return nil, aerr
	}
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, badRequest("bad webhook: invalid webhook URL specified")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if drop {
		s.dropQueueLocked("drop_pending_updates on setWebhook")
	}
	if allowedGiven {
		s.allowed = allowed
	}
	if s.webhook != nil {
		s.webhook.cancel()
		s.webhook = nil
	}
	if rawURL != "" {
		ctx, cancel := context.WithCancel(context.Background())
		s.webhook = &webhookState{url: rawURL, secret: secret, maxConn: int(maxConn), ctx: ctx, cancel: cancel}
		s.whLastErr, s.whLastMsg = 0, ""
		if s.poll != nil {
			s.poll.reason = conflictSetHook
			close(s.poll.kick)
			s.poll = nil
		}
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) deleteWebhook(_ context.Context, rq *request) (any, *apiError) {
	drop, aerr := rq.optBool("drop_pending_updates")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if drop {
		s.dropQueueLocked("drop_pending_updates on deleteWebhook")
	}
	if s.webhook != nil {
		s.webhook.cancel()
		s.webhook = nil
	}
	s.notifyLocked()
	return true, nil
}

type webhookInfo struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	LastErrorDate        int64    `json:"last_error_date,omitempty"`
	LastErrorMessage     string   `json:"last_error_message,omitempty"`
	MaxConnections       int      `json:"max_connections,omitempty"`
	AllowedUpdates       []string `json:"allowed_updates,omitempty"`
}

func (s *Server) getWebhookInfo(_ context.Context, _ *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := webhookInfo{PendingUpdateCount: len(s.queue), AllowedUpdates: s.allowed}
	if s.webhook != nil {
		info.URL = s.webhook.url
		info.MaxConnections = s.webhook.maxConn
		info.LastErrorDate = s.whLastErr
		info.LastErrorMessage = s.whLastMsg
	}
	return info, nil
}

// WebhookURL returns the URL set with setWebhook, or "" when none is set.
func (s *Server) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook == nil {
		return ""
	}
	return s.webhook.url
}

// webhookLoop posts queued updates, one at a time and in order, to the
// webhook while one is set.
func (s *Server) webhookLoop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		wh := s.webhook
		var next queuedUpdate
		have := wh != nil && wh.ctx.Err() == nil && len(s.queue) > 0
		if have {
			next = s.queue[0]
		}
		ch := s.changed
		s.mu.Unlock()
		if !have {
			select {
			case <-ch:
				continue
			case <-s.done:
				return
			}
		}

		status, errMsg := s.post(wh, next.raw)
		ok := errMsg == "" && status >= 200 && status < 300

		s.mu.Lock()
		if s.webhook != wh || wh.ctx.Err() != nil {
			// Changed or deleted while posting: start over.
			s.mu.Unlock()
			continue
		}
		if ok {
			if len(s.queue) > 0 && s.queue[0].id == next.id {
				s.queue = s.queue[1:]
				s.delivered[next.id] = true
			}
		} else {
			if errMsg == "" {
				errMsg = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
			}
			s.whLastErr, s.whLastMsg = time.Now().Unix(), errMsg
		}
		s.notifyLocked()
		s.mu.Unlock()

		if !ok {
			t := time.NewTimer(s.webhookRetry)
			select {
			case <-t.C:
			case <-wh.ctx.Done():
				t.Stop()
			case <-s.done:
				t.Stop()
				return
			}
		}
	}
}

// post sends one update to the webhook. It returns the HTTP status, or an
// error message in Telegram's wording.
func (s *Server) post(wh *webhookState, body []byte) (int, string) {
	req, err := http.NewRequestWithContext(wh.ctx, http.MethodPost, wh.url, bytes.NewReader(body))
	if err != nil {
		return 0, "Invalid webhook URL"
	}
	req.Header.Set("Content-Type", "application/json")
	if wh.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", wh.secret)
	}
	resp, err := s.whClient.Do(req)
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return 0, "Connection refused"
		case errors.As(err, &ne) && ne.Timeout():
			return 0, "Read timeout expired"
		default:
			return 0, "Connection failed"
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, ""
}

// WaitPolling blocks until a getUpdates long poll is waiting on the server
// (useful to check that an injected update wakes it). After timeout it fails
// the test with tb.Fatalf.
func (s *Server) WaitPolling(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	if !s.waitFor(timeout, func() bool { return s.poll != nil }) {
		tb.Fatalf("telegramtest: WaitPolling: no getUpdates request waiting after %v", timeout)
	}
}

// WebhookError returns last_error_message of getWebhookInfo (the last failed
// webhook delivery since setWebhook), or "".
func (s *Server) WebhookError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.whLastMsg
}

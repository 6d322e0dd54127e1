package telegramtest_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// message is the part of a Message the media and topic tests look at.
type message struct {
	MessageID       int    `json:"message_id"`
	MessageThreadID int    `json:"message_thread_id"`
	IsTopicMessage  bool   `json:"is_topic_message"`
	Text            string `json:"text"`
	Caption         string `json:"caption"`
	From            *struct {
		ID    int64 `json:"id"`
		IsBot bool  `json:"is_bot"`
	} `json:"from"`
	Chat struct {
		ID      int64 `json:"id"`
		IsForum bool  `json:"is_forum"`
	} `json:"chat"`
	Document *struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		FileName     string `json:"file_name"`
		MimeType     string `json:"mime_type"`
	} `json:"document"`
	Voice *struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		Duration     int    `json:"duration"`
	} `json:"voice"`
	ForumTopicCreated *struct {
		Name      string `json:"name"`
		IconColor int    `json:"icon_color"`
	} `json:"forum_topic_created"`
	ReplyToMessage *message `json:"reply_to_message"`
}

// nextMessage returns the message of the last pending update, checked
// against the spec, and confirms every pending update.
func nextMessage(t testing.TB, s *telegramtest.Server) message {
	t.Helper()
	raw := lastUpdate(t, s)
	var u struct {
		UpdateID int64    `json:"update_id"`
		Message  *message `json:"message"`
	}
	if err := json.Unmarshal(raw, &u); err != nil || u.Message == nil {
		t.Fatalf("not a message update: %s", raw)
	}
	getUpdates(t, s, url.Values{"offset": {itoa(u.UpdateID + 1)}})
	return *u.Message
}

func TestSendDocumentAndVoice(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.SendDocument(alice, "my récépissé")
	doc := nextMessage(t, s)
	if d := doc.Document; d == nil || d.FileID == "" || d.FileUniqueID == "" || d.FileName == "" || d.MimeType != "application/pdf" ||
		doc.Caption != "my récépissé" || doc.Chat.ID != alice.ID || doc.From.ID != alice.ID || doc.Text != "" {
		t.Errorf("document message = %+v (document %+v)", doc, doc.Document)
	}
	s.SendVoice(alice)
	voice := nextMessage(t, s)
	if v := voice.Voice; v == nil || v.FileID == "" || v.FileUniqueID == "" || v.Duration <= 0 || voice.MessageID != doc.MessageID+1 {
		t.Errorf("voice message = %+v (voice %+v)", voice, voice.Voice)
	}
	s.SendDocument(reza, "")
	other := nextMessage(t, s)
	if other.Document == nil || other.Document.FileID == doc.Document.FileID || other.Document.FileUniqueID == doc.Document.FileUniqueID || other.Caption != "" {
		t.Errorf("second document = %+v; want its own file ids and no caption", other.Document)
	}

	// Copies keep the file, into a forum topic.
	s.AddGroup(partnerGroup, "Partner", true, partnerRights)
	var topic struct {
		MessageThreadID int `json:"message_thread_id"`
	}
	mustOK(t, postForm(t, s, "createForumTopic", url.Values{"chat_id": {itoa(partnerGroup)}, "name": {"Case 3"}}), &topic)
	th := itoa(int64(topic.MessageThreadID))
	copyTo := func(src int, extra url.Values) int {
		t.Helper()
		form := url.Values{"chat_id": {itoa(partnerGroup)}, "from_chat_id": {itoa(alice.ID)}, "message_id": {itoa(int64(src))}, "message_thread_id": {th}}
		for k, v := range extra {
			form[k] = v
		}
		r := postForm(t, s, "copyMessage", form)
		var id struct {
			MessageID int `json:"message_id"`
		}
		mustOK(t, r, &id)
		checkObject(t, "MessageId", r.env.Result)
		return id.MessageID
	}
	docCopy := copyTo(doc.MessageID, nil)
	voiceCopy := copyTo(voice.MessageID, nil)
	captioned := copyTo(doc.MessageID, url.Values{"caption": {"<b>Case 3</b>: récépissé"}, "parse_mode": {"HTML"}})
	msgs := s.Messages(partnerGroup)
	if len(msgs) != 3 {
		t.Fatalf("%d messages in the group", len(msgs))
	}
	for i, want := range []struct {
		id          int
		media, file string
		src         int
		text, plain string
	}{
		{docCopy, "document", doc.Document.FileID, doc.MessageID, "my récépissé", "my récépissé"},
		{voiceCopy, "voice", voice.Voice.FileID, voice.MessageID, "", ""},
		{captioned, "document", doc.Document.FileID, doc.MessageID, "<b>Case 3</b>: récépissé", "Case 3: récépissé"},
	} {
		m := msgs[i]
		if m.MessageID != want.id || m.Media != want.media || m.FileID != want.file || m.CopiedFrom != alice.ID ||
			m.CopiedMessageID != want.src || m.ThreadID != topic.MessageThreadID || m.Text != want.text || m.PlainText != want.plain {
			t.Errorf("copy %d = %+v; want %+v", i, m, want)
		}
	}
	if docCopy == voiceCopy || docCopy == topic.MessageThreadID || voiceCopy == topic.MessageThreadID {
		t.Errorf("copy ids %d, %d in topic %d are not distinct", docCopy, voiceCopy, topic.MessageThreadID)
	}
	mustFail(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {itoa(partnerGroup)}, "message_id": {itoa(int64(docCopy))}, "text": {"x"}}),
		400, "Bad Request: there is no text in the message to edit")

	// A copy of a copy keeps the file too.
	var again struct {
		MessageID int `json:"message_id"`
	}
	mustOK(t, postForm(t, s, "copyMessage", url.Values{"chat_id": {itoa(reza.ID)}, "from_chat_id": {itoa(partnerGroup)}, "message_id": {itoa(int64(voiceCopy))}}), &again)
	if m := s.Messages(reza.ID); len(m) != 1 || m[0].Media != "voice" || m[0].FileID != voice.Voice.FileID || m[0].CopiedFrom != partnerGroup {
		t.Errorf("copy of the copy = %+v", m)
	}
	// The topic's creation message is a service message.
	mustFail(t, postForm(t, s, "copyMessage", url.Values{"chat_id": {itoa(reza.ID)}, "from_chat_id": {itoa(partnerGroup)}, "message_id": {th}}),
		400, "Bad Request: message can't be copied")
	s.RequireNoSpecErrors(t)
}

func TestTopicMessagesAndReplies(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.AddGroup(partnerGroup, "Partner", true, partnerRights)
	var topic struct {
		MessageThreadID int    `json:"message_thread_id"`
		Name            string `json:"name"`
		IconColor       int    `json:"icon_color"`
	}
	mustOK(t, postForm(t, s, "createForumTopic", url.Values{"chat_id": {itoa(partnerGroup)}, "name": {"Case 9 — 75"}}), &topic)
	thread := topic.MessageThreadID

	// The bot's own message in the topic, as sendMessage returns it.
	r := postForm(t, s, "sendMessage", url.Values{"chat_id": {itoa(partnerGroup)}, "message_thread_id": {itoa(int64(thread))}, "text": {"Case summary"}})
	var summary message
	mustOK(t, r, &summary)
	checkObject(t, "Message", r.env.Result)

	// A message in the topic that replies to nothing carries the topic's
	// creation message, as in the real sample 06.
	s.SendGroupText(partnerGroup, thread, vol, "internal note")
	note := nextMessage(t, s)
	for what, m := range map[string]message{"sent by the bot": summary, "sent by a volunteer": note} {
		rt := m.ReplyToMessage
		if m.MessageThreadID != thread || !m.IsTopicMessage || rt == nil || rt.MessageID != thread || rt.MessageThreadID != thread ||
			!rt.IsTopicMessage || rt.ForumTopicCreated == nil || rt.ForumTopicCreated.Name != topic.Name ||
			rt.ForumTopicCreated.IconColor != topic.IconColor || rt.From == nil || rt.From.ID != s.BotID() || !rt.From.IsBot || rt.ReplyToMessage != nil {
			t.Errorf("message %s = %+v; reply_to_message %+v", what, m, rt)
		}
	}

	// An explicit reply to the bot's message: reply_to_message is that
	// message with its author, and no reply of its own.
	s.SendGroupReply(partnerGroup, thread, coord, summary.MessageID, "/assign")
	reply := nextMessage(t, s)
	if rt := reply.ReplyToMessage; rt == nil || rt.MessageID != summary.MessageID || rt.From == nil || rt.From.ID != s.BotID() ||
		rt.Text != "Case summary" || rt.ReplyToMessage != nil || reply.MessageThreadID != thread || reply.Text != "/assign" {
		t.Errorf("reply to the bot = %+v; reply_to_message %+v", reply, reply.ReplyToMessage)
	}
	// A reply to a colleague's message names the colleague.
	s.SendGroupReply(partnerGroup, thread, coord, note.MessageID, "ok")
	reply = nextMessage(t, s)
	if rt := reply.ReplyToMessage; rt == nil || rt.MessageID != note.MessageID || rt.From == nil || rt.From.ID != vol.ID || rt.Text != "internal note" {
		t.Errorf("reply to a volunteer = %+v", reply.ReplyToMessage)
	}
	// A reply to the summary can be copied to the resident.
	mustOK(t, postForm(t, s, "copyMessage", url.Values{"chat_id": {itoa(alice.ID)}, "from_chat_id": {itoa(partnerGroup)}, "message_id": {itoa(int64(reply.MessageID))}}), nil)
	if m := s.Messages(alice.ID); len(m) != 1 || m[0].Text != "ok" {
		t.Errorf("copied reply = %+v", m)
	}
	// Outside topics (the General topic) there is no implicit reply.
	s.SendGroupText(partnerGroup, 0, vol, "general")
	if m := nextMessage(t, s); m.ReplyToMessage != nil || m.MessageThreadID != 0 || m.IsTopicMessage {
		t.Errorf("general message = %+v", m)
	}
	// A topic the fake did not see created was created by the first writer.
	const forum = int64(-1001777000666)
	s.SendGroupText(forum, 7, vol, "first")
	s.SendGroupText(forum, 7, coord, "second")
	second := nextMessage(t, s)
	if rt := second.ReplyToMessage; !second.Chat.IsForum || rt == nil || rt.MessageID != 7 || rt.From == nil || rt.From.ID != vol.ID ||
		rt.ForumTopicCreated == nil || rt.ForumTopicCreated.Name == "" {
		t.Errorf("message in an unseen topic = %+v; reply_to_message %+v", second, second.ReplyToMessage)
	}

	ft := &fakeTB{TB: t}
	fs := telegramtest.NewServer(ft)
	fs.SendGroupReply(partnerGroup, 0, vol, 42, "reply to nothing")
	if len(ft.fatals) != 1 || !strings.Contains(ft.fatals[0], "no message 42") {
		t.Errorf("SendGroupReply to a missing message: %q", ft.fatals)
	}
	ft.runCleanups()
	s.RequireNoSpecErrors(t)
}

// On Telegram a topic's id is the id of its creation message, so no other
// message of the group has it.
func TestTopicIDsAreNotMessageIDs(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.AddGroup(partnerGroup, "Partner", true, partnerRights)
	var topic struct {
		MessageThreadID int `json:"message_thread_id"`
	}
	mustOK(t, postForm(t, s, "createForumTopic", url.Values{"chat_id": {itoa(partnerGroup)}, "name": {"A"}}), &topic)
	seen := map[int]bool{}
	for i := 0; i < topic.MessageThreadID+5; i++ {
		s.SendGroupText(partnerGroup, 0, vol, "x")
		id := nextMessage(t, s).MessageID
		if id == topic.MessageThreadID || seen[id] {
			t.Fatalf("message %d has the id of the topic or of another message", id)
		}
		seen[id] = true
	}
	// A topic created after many messages does not take a used id either.
	mustOK(t, postForm(t, s, "createForumTopic", url.Values{"chat_id": {itoa(partnerGroup)}, "name": {"B"}}), &topic)
	if seen[topic.MessageThreadID] {
		t.Errorf("second topic id %d is a message id", topic.MessageThreadID)
	}
}

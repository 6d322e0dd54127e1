package telegramtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// User is a Telegram user the test acts as.
type User struct {
	ID           int64
	FirstName    string // "Test" when empty
	LanguageCode string // IETF tag as Telegram sends it, e.g. "fa"; may be empty
	Username     string // without "@"; may be empty
	IsBot        bool   // another bot (is_bot in every object naming it)
}

func (u User) firstName() string {
	if u.FirstName == "" {
		return "Test"
	}
	return u.FirstName
}

// Button is one inline keyboard button of a bot message.
type Button struct {
	Text string
	Data string // callback_data
	URL  string
}

// Message is a message the bot sent to a chat, as it now stands:
// sendMessage and copyMessage create it, editMessageText and
// editMessageReplyMarkup modify it in place, deleteMessage marks it Deleted.
type Message struct {
	ChatID    int64
	ThreadID  int // message_thread_id, 0 if none
	MessageID int
	// Text is the text exactly as the bot sent it (with its HTML or
	// Markdown markup); for a copy it is the caption or the source text.
	Text      string
	ParseMode string
	Buttons   [][]Button // inline keyboard; nil if none
	Edited    bool
	Deleted   bool
	// CopiedFrom is from_chat_id of copyMessage, 0 for other messages.
	CopiedFrom int64
	// ReplyTo is the id of the message replied to (reply_parameters or the
	// legacy reply_to_message_id), 0 if none.
	ReplyTo int

	// PlainText is Text after entity parsing (HTML tags removed, entities
	// decoded), as Telegram would show it. Markdown and MarkdownV2 texts are
	// not parsed: PlainText is then the raw text.
	PlainText string
	// CopiedMessageID is message_id of copyMessage (the source message).
	CopiedMessageID int
	// Keyboard holds the button texts of a reply keyboard
	// (ReplyKeyboardMarkup), nil if none.
	Keyboard [][]string
	// RemoveKeyboard is true when the bot sent ReplyKeyboardRemove.
	RemoveKeyboard bool
	// Media is the kind of file a copied message carries: "photo",
	// "document", "voice", "video", "video_note", "audio", "animation",
	// "sticker", "location" or "contact"; "" for a text message. Text is
	// then the caption (empty for kinds without one).
	Media string
	// FileID is the file_id of that file (the largest size of a photo).
	FileID string
	// FileName and FileData are the name and the content of a document
	// the bot uploaded with sendDocument.
	FileName string
	FileData []byte
}

func (m Message) clone() Message {
	if m.Buttons != nil {
		b := make([][]Button, len(m.Buttons))
		for i, row := range m.Buttons {
			b[i] = append([]Button(nil), row...)
		}
		m.Buttons = b
	}
	if m.Keyboard != nil {
		k := make([][]string, len(m.Keyboard))
		for i, row := range m.Keyboard {
			k[i] = append([]string(nil), row...)
		}
		m.Keyboard = k
	}
	return m
}

// ChatAdminRights are the administrator rights of the bot in a group
// registered with AddGroup. If any right is true the bot is an
// "administrator" there, otherwise a plain "member".
type ChatAdminRights struct {
	IsAnonymous         bool `json:"is_anonymous"`
	CanManageChat       bool `json:"can_manage_chat"`
	CanDeleteMessages   bool `json:"can_delete_messages"`
	CanManageVideoChats bool `json:"can_manage_video_chats"`
	CanRestrictMembers  bool `json:"can_restrict_members"`
	CanPromoteMembers   bool `json:"can_promote_members"`
	CanChangeInfo       bool `json:"can_change_info"`
	CanInviteUsers      bool `json:"can_invite_users"`
	CanPostStories      bool `json:"can_post_stories"`
	CanEditStories      bool `json:"can_edit_stories"`
	CanDeleteStories    bool `json:"can_delete_stories"`
	CanPinMessages      bool `json:"can_pin_messages"`
	CanManageTopics     bool `json:"can_manage_topics"`
}

func (r ChatAdminRights) any() bool { return r != ChatAdminRights{} }

// Topic is a forum topic created with createForumTopic.
type Topic struct {
	ThreadID  int
	Name      string
	IconColor int
	Deleted   bool
}

// BotCommand is one command of setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// CommandScope selects a command list like BotCommandScope. The zero value
// is the default scope. Type is one of default, all_private_chats,
// all_group_chats, all_chat_administrators, chat, chat_administrators,
// chat_member.
type CommandScope struct {
	Type   string
	ChatID int64
	UserID int64
}

func (c CommandScope) key(lang string) string {
	t := c.Type
	if t == "" {
		t = "default"
	}
	return fmt.Sprintf("%s|%d|%d|%s", t, c.ChatID, c.UserID, lang)
}

type botMsg struct {
	m        Message
	entities []entity
	date     int64
	editDate int64
	markup   json.RawMessage // inline keyboard markup as sent, for rendering
	media    media           // for copies of photos, documents, voice notes
}

type userMsg struct {
	id       int
	from     User
	text     string
	entities []entity
	caption  string
	media    media
	thread   int
	replyTo  int // explicit reply; 0 if none
	date     int64
	deleted  bool
}

// media is what a message carries besides text: a photo, a document, a
// voice note, a video, a video note, an audio file, an animation (with
// the document Telegram sends along), a sticker, a location or a contact.
type media struct {
	photo     []apiPhotoSize
	document  *apiDocument
	voice     *apiVoice
	video     *apiVideo
	videoNote *apiVideoNote
	audio     *apiAudio
	animation *apiAnimation
	sticker   *apiSticker
	location  *apiLocation
	contact   *apiContact
}

// kind returns "photo", "document", "voice", "video", "video_note",
// "audio", "animation", "sticker", "location", "contact", or "" for none.
func (m media) kind() string {
	switch {
	case m.photo != nil:
		return "photo"
	case m.animation != nil:
		return "animation"
	case m.document != nil:
		return "document"
	case m.voice != nil:
		return "voice"
	case m.video != nil:
		return "video"
	case m.videoNote != nil:
		return "video_note"
	case m.audio != nil:
		return "audio"
	case m.sticker != nil:
		return "sticker"
	case m.location != nil:
		return "location"
	case m.contact != nil:
		return "contact"
	}
	return ""
}

// captioned reports whether the kind carries a caption.
func (m media) captioned() bool {
	switch m.kind() {
	case "photo", "animation", "document", "voice", "video", "audio":
		return true
	}
	return false
}

// fileID returns the file_id of the file (the largest photo size), "" for
// a location or a contact.
func (m media) fileID() string {
	switch {
	case len(m.photo) > 0:
		return m.photo[len(m.photo)-1].FileID
	case m.animation != nil:
		return m.animation.FileID
	case m.document != nil:
		return m.document.FileID
	case m.voice != nil:
		return m.voice.FileID
	case m.video != nil:
		return m.video.FileID
	case m.videoNote != nil:
		return m.videoNote.FileID
	case m.audio != nil:
		return m.audio.FileID
	case m.sticker != nil:
		return m.sticker.FileID
	}
	return ""
}

// put sets the media fields of am.
func (m media) put(am *apiMessage) {
	am.Photo, am.Document, am.Voice = m.photo, m.document, m.voice
	am.Video, am.VideoNote, am.Audio, am.Animation = m.video, m.videoNote, m.audio, m.animation
	am.Sticker, am.Location, am.Contact = m.sticker, m.location, m.contact
}

// topicInfo describes the service message that created a forum topic; its
// message_id is the topic's message_thread_id.
type topicInfo struct {
	creator *apiUser
	name    string
	color   int
	date    int64
}

type chatState struct {
	id        int64
	kind      string // private, group, supergroup
	title     string
	isForum   bool
	known     bool // seen from a user, a group registration or an update
	added     bool // registered with AddGroup
	admin     bool
	rights    ChatAdminRights
	user      *User
	nextMsgID int
	bot       []*botMsg
	botByID   map[int]*botMsg
	userMsgs  map[int]*userMsg
	blocked   bool
	faults    []Fault
	topics    []*Topic
	nextTopic int
	threads   map[int]bool
	topicInfo map[int]*topicInfo // thread id -> its creation message
	// members holds the status of users in a group: set with SetMember, or
	// "member" for users who wrote there, "left" after LeaveGroup.
	members map[int64]string
	// membersSet: SetMember was used for this chat, so users not in members
	// are "left" rather than "member".
	membersSet bool
	pinned     []int      // pinned message ids, oldest pin first
	replyKB    [][]string // reply keyboard the user now sees; nil if none
}

// chatLocked returns the state of a chat, creating it if needed.
func (s *Server) chatLocked(id int64) *chatState {
	cs := s.chats[id]
	if cs != nil {
		return cs
	}
	cs = &chatState{
		id:        id,
		nextMsgID: 1,
		botByID:   map[int]*botMsg{},
		userMsgs:  map[int]*userMsg{},
		nextTopic: 100,
		threads:   map[int]bool{},
		topicInfo: map[int]*topicInfo{},
		members:   map[int64]string{},
	}
	switch {
	case id > 0:
		cs.kind = "private"
		if u, ok := s.users[id]; ok {
			cs.user = &u
		}
	case id <= -1000000000000:
		cs.kind = "supergroup"
		cs.title = fmt.Sprintf("Group %d", id)
	default:
		cs.kind = "group"
		cs.title = fmt.Sprintf("Group %d", id)
	}
	s.chats[id] = cs
	return cs
}

// newMsgID returns the next message id of the chat. Ids of forum topics
// are skipped: on Telegram a topic's id is the id of the message that
// created it, so no other message has it.
func (cs *chatState) newMsgID() int {
	for cs.threads[cs.nextMsgID] {
		cs.nextMsgID++
	}
	id := cs.nextMsgID
	cs.nextMsgID++
	return id
}

// noteUserLocked remembers a user and makes its private chat known.
func (s *Server) noteUserLocked(u User) {
	s.users[u.ID] = u
	if cs := s.chats[u.ID]; cs != nil {
		uu := u
		cs.user = &uu
		cs.known = true
	}
}

// AddUser registers a user, so that getChat knows the private chat with it
// before the user wrote anything.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noteUserLocked(u)
	cs := s.chatLocked(u.ID)
	uu := u
	cs.user = &uu
	cs.known = true
}

// AddGroup registers a supergroup: getChat then knows it, getChatMember
// answers for the bot "administrator" with botRights (if any right is set)
// or "member", and createForumTopic checks isForum and CanManageTopics.
func (s *Server) AddGroup(chatID int64, title string, isForum bool, botRights ChatAdminRights) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chatLocked(chatID)
	cs.kind = "supergroup"
	if title != "" {
		cs.title = title
	}
	cs.isForum = isForum
	cs.known = true
	cs.added = true
	cs.admin = botRights.any()
	cs.rights = botRights
}

// Messages returns the messages the bot sent to chatID, in send order,
// including deleted ones (marked Deleted).
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(chatID)
}

func (s *Server) messagesLocked(chatID int64) []Message {
	cs := s.chats[chatID]
	if cs == nil {
		return nil
	}
	out := make([]Message, 0, len(cs.bot))
	for _, b := range cs.bot {
		out = append(out, b.m.clone())
	}
	return out
}

// WaitMessages blocks until chatID has at least n messages from the bot,
// not counting deleted ones, and returns Messages(chatID). After timeout it
// fails the test with tb.Fatalf, listing what the chat has.
func (s *Server) WaitMessages(tb testing.TB, chatID int64, n int, timeout time.Duration) []Message {
	tb.Helper()
	var got []Message
	ok := s.waitFor(timeout, func() bool {
		got = s.messagesLocked(chatID)
		live := 0
		for _, m := range got {
			if !m.Deleted {
				live++
			}
		}
		return live >= n
	})
	if !ok {
		var b strings.Builder
		for _, m := range got {
			fmt.Fprintf(&b, "\n  #%d %s", m.MessageID, quoteShort(m.Text))
			if m.Deleted {
				b.WriteString(" (deleted)")
			}
			if m.Edited {
				b.WriteString(" (edited)")
			}
		}
		tb.Fatalf("telegramtest: WaitMessages(chat %d, %d): timed out after %v with %d message(s):%s",
			chatID, n, timeout, len(got), b.String())
	}
	return got
}

// LastUserMessageID returns the id of the latest message users (not the
// bot) sent in chatID through the Send* helpers, 0 if none.
func (s *Server) LastUserMessageID(chatID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := 0
	if cs := s.chats[chatID]; cs != nil {
		for id := range cs.userMsgs {
			last = max(last, id)
		}
	}
	return last
}

// Topics returns the forum topics created in chatID, in creation order.
func (s *Server) Topics(chatID int64) []Topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil {
		return nil
	}
	out := make([]Topic, 0, len(cs.topics))
	for _, t := range cs.topics {
		out = append(out, *t)
	}
	return out
}

// Commands returns the command list set with setMyCommands for a scope and
// language code ("" = all languages), or nil.
func (s *Server) Commands(scope CommandScope, languageCode string) []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand(nil), s.commands[scope.key(languageCode)]...)
}

// Description returns the text set with setMyDescription for a language
// code ("" = default).
func (s *Server) Description(languageCode string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile["description|"+languageCode]
}

// ShortDescription returns the text set with setMyShortDescription for a
// language code ("" = default).
func (s *Server) ShortDescription(languageCode string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile["short_description|"+languageCode]
}

// IsBlocked reports whether the user of a private chat has blocked the bot.
func (s *Server) IsBlocked(chatID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chats[chatID] != nil && s.chats[chatID].blocked
}

// --- JSON shapes of Telegram objects ---

type apiUser struct {
	ID                      int64  `json:"id"`
	IsBot                   bool   `json:"is_bot"`
	FirstName               string `json:"first_name"`
	Username                string `json:"username,omitempty"`
	LanguageCode            string `json:"language_code,omitempty"`
	CanJoinGroups           *bool  `json:"can_join_groups,omitempty"`
	CanReadAllGroupMessages *bool  `json:"can_read_all_group_messages,omitempty"`
	SupportsInlineQueries   *bool  `json:"supports_inline_queries,omitempty"`
	CanConnectToBusiness    *bool  `json:"can_connect_to_business,omitempty"`
	HasMainWebApp           *bool  `json:"has_main_web_app,omitempty"`
}

type apiChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	IsForum   bool   `json:"is_forum,omitempty"`
}

type apiPhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size,omitempty"`
}

type apiDocument struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type apiVoice struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Duration     int    `json:"duration"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type apiVideo struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Duration     int    `json:"duration"`
	MimeType     string `json:"mime_type,omitempty"`
}

type apiVideoNote struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Length       int    `json:"length"`
	Duration     int    `json:"duration"`
}

type apiAudio struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Duration     int    `json:"duration"`
	MimeType     string `json:"mime_type,omitempty"`
}

type apiAnimation struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Duration     int    `json:"duration"`
}

type apiSticker struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Type         string `json:"type"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	IsAnimated   bool   `json:"is_animated"`
	IsVideo      bool   `json:"is_video"`
	Emoji        string `json:"emoji,omitempty"`
}

type apiLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type apiContact struct {
	PhoneNumber string `json:"phone_number"`
	FirstName   string `json:"first_name"`
}

type apiForumTopicCreated struct {
	Name      string `json:"name"`
	IconColor int    `json:"icon_color"`
}

type apiMessage struct {
	MessageID         int                   `json:"message_id"`
	MessageThreadID   int                   `json:"message_thread_id,omitempty"`
	From              *apiUser              `json:"from,omitempty"`
	Chat              apiChat               `json:"chat"`
	Date              int64                 `json:"date"`
	EditDate          int64                 `json:"edit_date,omitempty"`
	IsTopicMessage    bool                  `json:"is_topic_message,omitempty"`
	ReplyToMessage    *apiMessage           `json:"reply_to_message,omitempty"`
	Text              string                `json:"text,omitempty"`
	Entities          []entity              `json:"entities,omitempty"`
	Photo             []apiPhotoSize        `json:"photo,omitempty"`
	Document          *apiDocument          `json:"document,omitempty"`
	Voice             *apiVoice             `json:"voice,omitempty"`
	Video             *apiVideo             `json:"video,omitempty"`
	VideoNote         *apiVideoNote         `json:"video_note,omitempty"`
	Audio             *apiAudio             `json:"audio,omitempty"`
	Animation         *apiAnimation         `json:"animation,omitempty"`
	Sticker           *apiSticker           `json:"sticker,omitempty"`
	Location          *apiLocation          `json:"location,omitempty"`
	Contact           *apiContact           `json:"contact,omitempty"`
	Caption           string                `json:"caption,omitempty"`
	CaptionEntities   []entity              `json:"caption_entities,omitempty"`
	ForumTopicCreated *apiForumTopicCreated `json:"forum_topic_created,omitempty"`
	ReplyMarkup       json.RawMessage       `json:"reply_markup,omitempty"`
}

func apiUserOf(u User) *apiUser {
	return &apiUser{ID: u.ID, IsBot: u.IsBot, FirstName: u.firstName(), Username: u.Username, LanguageCode: u.LanguageCode}
}

func (s *Server) botUser() *apiUser {
	return &apiUser{ID: BotID, IsBot: true, FirstName: "Passerelle Test Bot", Username: s.botUsername}
}

func (s *Server) chatObjLocked(cs *chatState) apiChat {
	c := apiChat{ID: cs.id, Type: cs.kind}
	if cs.kind == "private" {
		if cs.user != nil {
			c.FirstName = cs.user.firstName()
			c.Username = cs.user.Username
		} else {
			c.FirstName = "Test"
		}
		return c
	}
	c.Title = cs.title
	c.IsForum = cs.isForum
	return c
}

// renderBotLocked renders a bot message as the Message object Telegram
// returns.
func (s *Server) renderBotLocked(cs *chatState, b *botMsg, withReply bool) *apiMessage {
	am := &apiMessage{
		MessageID: b.m.MessageID,
		From:      s.botUser(),
		Chat:      s.chatObjLocked(cs),
		Date:      b.date,
		EditDate:  b.editDate,
	}
	if b.m.ThreadID != 0 {
		am.MessageThreadID = b.m.ThreadID
		am.IsTopicMessage = true
	}
	if b.media.kind() != "" {
		b.media.put(am)
		am.Caption = b.m.PlainText
		am.CaptionEntities = b.entities
	} else {
		am.Text = b.m.PlainText
		am.Entities = b.entities
	}
	if len(b.markup) > 0 {
		am.ReplyMarkup = b.markup
	}
	if withReply {
		am.ReplyToMessage = s.replyRefLocked(cs, b.m.ReplyTo, b.m.ThreadID)
	}
	return am
}

// renderUserLocked renders a user's message. withReply adds
// reply_to_message, which Telegram leaves out of a message that is itself
// a reply_to_message.
func (s *Server) renderUserLocked(cs *chatState, um *userMsg, withReply bool) *apiMessage {
	am := &apiMessage{
		MessageID: um.id,
		From:      apiUserOf(um.from),
		Chat:      s.chatObjLocked(cs),
		Date:      um.date,
		Text:      um.text,
		Entities:  um.entities,
		Caption:   um.caption,
	}
	um.media.put(am)
	if um.thread != 0 {
		am.MessageThreadID = um.thread
		am.IsTopicMessage = true
	}
	if withReply {
		am.ReplyToMessage = s.replyRefLocked(cs, um.replyTo, um.thread)
	}
	return am
}

// replyRefLocked returns reply_to_message of a message in thread that
// replies to replyTo (0: no explicit reply). As on Telegram, a message in a
// forum topic that is not an explicit reply carries the topic's creation
// message (whose message_id is the thread id).
func (s *Server) replyRefLocked(cs *chatState, replyTo, thread int) *apiMessage {
	switch {
	case replyTo != 0:
		return s.renderRefLocked(cs, replyTo)
	case thread != 0 && cs.isForum:
		return s.topicCreatedLocked(cs, thread)
	}
	return nil
}

// renderRefLocked renders the message with id in cs (bot's, user's, or the
// creation message of a topic), without its own reply_to_message, or nil if
// unknown.
func (s *Server) renderRefLocked(cs *chatState, id int) *apiMessage {
	if b := cs.botByID[id]; b != nil && !b.m.Deleted {
		return s.renderBotLocked(cs, b, false)
	}
	if um := cs.userMsgs[id]; um != nil && !um.deleted {
		return s.renderUserLocked(cs, um, false)
	}
	if cs.topicInfo[id] != nil {
		return s.topicCreatedLocked(cs, id)
	}
	return nil
}

// topicLocked returns what is known of the creation of topic thread,
// recording creator (nil: unknown) as its creator when nothing is.
func (s *Server) topicLocked(cs *chatState, thread int, creator *apiUser) *topicInfo {
	ti := cs.topicInfo[thread]
	if ti == nil {
		ti = &topicInfo{creator: creator, name: fmt.Sprintf("Topic %d", thread), color: defaultTopicColor, date: time.Now().Unix()}
		for _, t := range cs.topics {
			if t.ThreadID == thread {
				ti.name, ti.color = t.Name, t.IconColor
			}
		}
		cs.topicInfo[thread] = ti
	}
	return ti
}

// topicCreatedLocked renders the service message that created topic
// thread, as Telegram puts it in reply_to_message.
func (s *Server) topicCreatedLocked(cs *chatState, thread int) *apiMessage {
	ti := s.topicLocked(cs, thread, nil)
	from := ti.creator
	if from == nil {
		from = s.botUser()
	}
	return &apiMessage{
		MessageID:         thread,
		MessageThreadID:   thread,
		From:              from,
		Chat:              s.chatObjLocked(cs),
		Date:              ti.date,
		IsTopicMessage:    true,
		ForumTopicCreated: &apiForumTopicCreated{Name: ti.name, IconColor: ti.color},
	}
}

func (s *Server) newDocumentLocked() *apiDocument {
	s.nextFileID++
	n := s.nextFileID
	return &apiDocument{
		FileID: fmt.Sprintf("BQACAgQAAxkBAAI%06d-d", n), FileUniqueID: fmt.Sprintf("AgAD%06dd", n),
		FileName: "document.pdf", MimeType: "application/pdf", FileSize: 48213,
	}
}

func (s *Server) newVoiceLocked() *apiVoice {
	s.nextFileID++
	n := s.nextFileID
	return &apiVoice{
		FileID: fmt.Sprintf("AwACAgQAAxkBAAI%06d-v", n), FileUniqueID: fmt.Sprintf("AgAD%06dv", n),
		Duration: 4, MimeType: "audio/ogg", FileSize: 7421,
	}
}

// newMediaLocked makes a new file of kind: "video", "video_note",
// "audio", "animation", "sticker", "location" or "contact" (the others
// have their own constructors).
func (s *Server) newMediaLocked(kind string) media {
	s.nextFileID++
	n := s.nextFileID
	id := func(tag string) (string, string) {
		return fmt.Sprintf("BAACAgQAAxkBAAI%06d-%s", n, tag), fmt.Sprintf("AgAD%06d%s", n, tag)
	}
	switch kind {
	case "video":
		f, u := id("vid")
		return media{video: &apiVideo{FileID: f, FileUniqueID: u, Width: 640, Height: 360, Duration: 9, MimeType: "video/mp4"}}
	case "video_note":
		f, u := id("vn")
		return media{videoNote: &apiVideoNote{FileID: f, FileUniqueID: u, Length: 240, Duration: 6}}
	case "audio":
		f, u := id("aud")
		return media{audio: &apiAudio{FileID: f, FileUniqueID: u, Duration: 31, MimeType: "audio/mpeg"}}
	case "animation":
		f, u := id("gif")
		return media{animation: &apiAnimation{FileID: f, FileUniqueID: u, Width: 320, Height: 240, Duration: 2},
			document: &apiDocument{FileID: f, FileUniqueID: u, FileName: "animation.mp4", MimeType: "video/mp4", FileSize: 9000}}
	case "sticker":
		f, u := id("stk")
		return media{sticker: &apiSticker{FileID: f, FileUniqueID: u, Type: "regular", Width: 512, Height: 512, Emoji: "🙏"}}
	case "location":
		return media{location: &apiLocation{Latitude: 45.7578, Longitude: 4.832}}
	case "contact":
		return media{contact: &apiContact{PhoneNumber: "+33699000001", FirstName: "Contact"}}
	}
	panic("telegramtest: unknown media kind " + kind)
}

func (s *Server) newPhotoLocked() []apiPhotoSize {
	s.nextFileID++
	n := s.nextFileID
	return []apiPhotoSize{
		{FileID: fmt.Sprintf("AgACAgQAAxkBAAI%06d-s", n), FileUniqueID: fmt.Sprintf("AQAD%06ds", n), Width: 90, Height: 67, FileSize: 1234},
		{FileID: fmt.Sprintf("AgACAgQAAxkBAAI%06d-m", n), FileUniqueID: fmt.Sprintf("AQAD%06dm", n), Width: 1280, Height: 960, FileSize: 98765},
	}
}

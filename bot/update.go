// Package bot is the transport-neutral conversation core of Passerelle: it
// turns an Update into replies, keeping per-resident state in a Store.
// Transports (Telegram, the terminal) convert to and from its small
// vocabulary: Update, Reply, Button.
package bot

import "encoding/json"

// Kind says what an update carries.
type Kind int

// Kinds of update. The zero value is KindOther so that an update a
// transport cannot classify is never mistaken for text.
const (
	KindOther    Kind = iota
	KindText          // a text message that is not a command
	KindCommand       // a text message starting with "/"
	KindCallback      // a button press
	KindPhoto
	KindDocument
	KindVoice
	KindSticker
	KindMember // the bot's own membership changed (blocked, unblocked, added to a group)
	KindEdited // an edited message; never acted on as new input
	// KindGroupMember: another user's membership of a group changed (they
	// left, were removed, joined, were promoted). UserID is that member (not
	// who made the change), ChatID the group, MemberStatus the new status.
	KindGroupMember
	KindVideo
	KindVideoNote
	KindAudio
	KindAnimation
	KindLocation // a location or a venue
	KindContact
)

var kindNames = [...]string{"other", "text", "command", "callback", "photo", "document", "voice", "sticker", "member", "edited", "group_member",
	"video", "video_note", "audio", "animation", "location", "contact"}

// Media reports whether k is a message that is not text: a file, a
// sticker, a location, a contact, or another kind the core does not model
// (KindOther). A resident confirms before any of them reaches volunteers.
func (k Kind) Media() bool {
	switch k {
	case KindPhoto, KindDocument, KindVoice, KindSticker, KindVideo, KindVideoNote, KindAudio, KindAnimation, KindLocation, KindContact, KindOther:
		return true
	}
	return false
}

// Captioned reports whether messages of kind k carry a caption that a copy
// can replace.
func (k Kind) Captioned() bool {
	switch k {
	case KindPhoto, KindDocument, KindVoice, KindVideo, KindAudio, KindAnimation:
		return true
	}
	return false
}

// String returns a short stable name, used in logs.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// ChatType is the Telegram chat type: private, group, supergroup or channel.
type ChatType string

// Chat types.
const (
	ChatPrivate    ChatType = "private"
	ChatGroup      ChatType = "group"
	ChatSupergroup ChatType = "supergroup"
	ChatChannel    ChatType = "channel"
)

// Update is one incoming event, already decoded by a transport.
type Update struct {
	ID           int64 // transport's update id (Telegram update_id); unique per bot
	Kind         Kind
	ChatID       int64
	ChatType     ChatType
	UserID       int64
	LanguageCode string // IETF tag the client reports; may be empty
	// FirstName is the sender's Telegram first name. Only a volunteer's is
	// ever used (as the alias that signs their messages); a resident's is
	// never stored, logged or passed on.
	FirstName string
	MessageID int

	// Forum topics.
	ThreadID       int  // message_thread_id, 0 outside topics
	IsTopicMessage bool // the message belongs to a forum topic

	Text             string // message text or caption
	Command          string // for KindCommand: lower-case name without "/" or "@bot"
	Args             string // for KindCommand: what follows the command
	CallbackID       string // for KindCallback: to answer the query
	Data             string // for KindCallback: the button's data (untrusted)
	FileID           string // photo (largest size), document, voice, video, audio, animation, video note or sticker
	ReplyToMessageID int
	// The author of the message replied to, for /assign in partner groups.
	ReplyToUserID    int64
	ReplyToFirstName string
	ReplyToIsBot     bool   // the message replied to was written by a bot (this one or another)
	MemberStatus     string // KindMember: the bot's new status; KindGroupMember: the member's (member, left, kicked, administrator…)
	// IsMember: for KindGroupMember with MemberStatus "restricted", whether
	// the user is still in the group (a restricted user who left is not).
	IsMember bool

	Raw json.RawMessage // the update as received, for features the core does not model yet
}

// Private reports whether the update comes from a one-to-one chat with a resident.
func (u Update) Private() bool { return u.ChatType == ChatPrivate }

// Lane orders outgoing messages: interactive replies go before bulk sends
// such as reminders.
type Lane int

// Lanes.
const (
	LaneInteractive Lane = iota
	LaneBulk
)

// Button is an inline button. Exactly one of Data and URL is set.
type Button struct {
	Label string
	Data  string // callback data, at most 64 bytes
	URL   string
}

// Reply is one outgoing action: a new message, an edit of an earlier
// message, or a copy of a message.
type Reply struct {
	ChatID   int64
	ThreadID int    // forum topic to post in, 0 for none
	Text     string // Telegram HTML, values already escaped
	Buttons  [][]Button
	Lane     Lane

	EditMessageID    int // when set, edit that message instead of sending
	ReplyToMessageID int

	// Keyboard, when set, shows persistent reply-keyboard buttons (each a
	// text the resident sends by tapping); RemoveKeyboard removes them.
	// Both are ignored when Buttons is set.
	Keyboard       [][]string
	RemoveKeyboard bool
	// The author of the message replied to, for /assign in partner groups.
	ReplyToUserID    int64
	ReplyToFirstName string

	// Copy: when CopyFromChatID is set, copy message CopyMessageID of that
	// chat into ChatID. Text is ignored unless ReplaceCaption is set: it is
	// then the copy's new caption (HTML, "" for none), for a message that has
	// one (see Kind.Captioned).
	CopyFromChatID int64
	CopyMessageID  int
	ReplaceCaption bool

	// File, when set, sends a file (Text is its caption): Telegram sends a
	// document, the web page offers a download, the terminal writes it to
	// disk and prints the path.
	File *File

	// AnswerCallbackID, when set, answers that button press (Update.CallbackID)
	// with Text as a short notice shown to whoever pressed it (a toast, not an
	// alert, plain text of at most 200 characters), instead of sending a
	// message: ChatID only routes it to the transport of the chat where the
	// button was pressed, and nothing else of the reply is used. A press can be
	// answered once; the transport answers the others without text.
	AnswerCallbackID string
}

// File is a file a reply carries, such as the .ics calendar of a
// resident's deadlines.
type File struct {
	Name string // file name shown and offered for saving, e.g. "passerelle.ics"
	Type string // MIME type, e.g. "text/calendar"
	Data []byte
}

package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/passerelle-bot/passerelle/bot"
)

// extraFields holds what the library (Bot API 5.5) drops when decoding.
type extraFields struct {
	Message       *extraMessage `json:"message"`
	EditedMessage *extraMessage `json:"edited_message"`
	CallbackQuery *struct {
		Message *extraMessage `json:"message"`
	} `json:"callback_query"`
}

type extraMessage struct {
	MessageThreadID int  `json:"message_thread_id"`
	IsTopicMessage  bool `json:"is_topic_message"`
}

// Decode turns one Telegram Update (a getUpdates element or a webhook body)
// into a bot.Update. botUsername (without "@") tells commands addressed to
// this bot ("/help@thisbot") from commands for another bot, which decode as
// KindOther. Unknown fields and fields of an unexpected type are ignored;
// Decode fails only on malformed JSON or a missing update_id, and never
// panics. Raw holds a copy of raw.
func Decode(raw []byte, botUsername string) (bot.Update, error) {
	var tu tgbotapi.Update
	if err := json.Unmarshal(raw, &tu); err != nil {
		// A field whose type changed since Bot API 5.5 should not make the
		// whole update undecodable: encoding/json keeps decoding the rest.
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return bot.Update{}, fmt.Errorf("telegram: decode update: %w", err)
		}
	}
	var ex extraFields
	if err := json.Unmarshal(raw, &ex); err != nil {
		ex = extraFields{}
	}
	if tu.UpdateID <= 0 {
		// An id of a different type fails the library decode above and is
		// caught here too.
		return bot.Update{}, errors.New("telegram: decode update: missing update_id")
	}

	u := bot.Update{ID: int64(tu.UpdateID), Raw: append(json.RawMessage(nil), raw...)}
	switch {
	case tu.Message != nil:
		fillMessage(&u, tu.Message, ex.Message, botUsername)
	case tu.EditedMessage != nil:
		fillMessage(&u, tu.EditedMessage, ex.EditedMessage, botUsername)
		u.Kind = bot.KindEdited
		u.Command, u.Args = "", ""
	case tu.CallbackQuery != nil:
		q := tu.CallbackQuery
		u.Kind = bot.KindCallback
		u.CallbackID = q.ID
		u.Data = q.Data
		fillUser(&u, q.From)
		if q.Message != nil {
			var exm *extraMessage
			if ex.CallbackQuery != nil {
				exm = ex.CallbackQuery.Message
			}
			fillChat(&u, q.Message.Chat)
			u.MessageID = q.Message.MessageID
			if exm != nil {
				u.ThreadID, u.IsTopicMessage = exm.MessageThreadID, exm.IsTopicMessage
			}
		}
	case tu.MyChatMember != nil:
		m := tu.MyChatMember
		u.Kind = bot.KindMember
		fillChat(&u, &m.Chat)
		fillUser(&u, &m.From)
		u.MemberStatus = m.NewChatMember.Status
	case tu.ChatMember != nil:
		// Another user's membership of a group the bot administers. The
		// update is about the member, not about who made the change (an
		// admin removing a volunteer is From; the volunteer is the member).
		m := tu.ChatMember
		u.Kind = bot.KindGroupMember
		fillChat(&u, &m.Chat)
		member := m.NewChatMember.User
		if member == nil {
			member = m.OldChatMember.User
		}
		fillUser(&u, member)
		u.MemberStatus = m.NewChatMember.Status
		u.IsMember = m.NewChatMember.IsMember
	}
	return u, nil
}

func fillUser(u *bot.Update, from *tgbotapi.User) {
	if from == nil {
		return
	}
	u.UserID = from.ID
	u.LanguageCode = from.LanguageCode
	u.FirstName = from.FirstName
}

func fillChat(u *bot.Update, c *tgbotapi.Chat) {
	if c == nil {
		return
	}
	u.ChatID = c.ID
	u.ChatType = bot.ChatType(c.Type)
}

func fillMessage(u *bot.Update, m *tgbotapi.Message, ex *extraMessage, botUsername string) {
	fillChat(u, m.Chat)
	fillUser(u, m.From)
	u.MessageID = m.MessageID
	if m.ReplyToMessage != nil {
		u.ReplyToMessageID = m.ReplyToMessage.MessageID
		if f := m.ReplyToMessage.From; f != nil {
			u.ReplyToUserID, u.ReplyToFirstName, u.ReplyToIsBot = f.ID, f.FirstName, f.IsBot
		}
	}
	if ex != nil {
		u.ThreadID, u.IsTopicMessage = ex.MessageThreadID, ex.IsTopicMessage
	}
	switch {
	case m.Text != "":
		u.Text = m.Text
		u.Kind, u.Command, u.Args = parseCommand(m.Text, botUsername)
	case len(m.Photo) > 0:
		u.Kind = bot.KindPhoto
		u.Text = m.Caption
		best := m.Photo[0]
		for _, ph := range m.Photo[1:] {
			if ph.Width*ph.Height >= best.Width*best.Height {
				best = ph
			}
		}
		u.FileID = best.FileID
	case m.Animation != nil: // before the document Telegram sends with it
		u.Kind = bot.KindAnimation
		u.Text = m.Caption
		u.FileID = m.Animation.FileID
	case m.Document != nil:
		u.Kind = bot.KindDocument
		u.Text = m.Caption
		u.FileID = m.Document.FileID
	case m.Voice != nil:
		u.Kind = bot.KindVoice
		u.Text = m.Caption
		u.FileID = m.Voice.FileID
	case m.Video != nil:
		u.Kind = bot.KindVideo
		u.Text = m.Caption
		u.FileID = m.Video.FileID
	case m.VideoNote != nil:
		u.Kind = bot.KindVideoNote
		u.FileID = m.VideoNote.FileID
	case m.Audio != nil:
		u.Kind = bot.KindAudio
		u.Text = m.Caption
		u.FileID = m.Audio.FileID
	case m.Location != nil || m.Venue != nil:
		u.Kind = bot.KindLocation
	case m.Contact != nil:
		u.Kind = bot.KindContact
	case m.Sticker != nil:
		u.Kind = bot.KindSticker
		u.FileID = m.Sticker.FileID
	default:
		u.Kind = bot.KindOther
		u.Text = m.Caption
	}
}

// parseCommand classifies a text starting with "/": a command for this bot
// (its lower-cased name without "@bot", and the trimmed rest), a command for
// another bot (KindOther), or plain text ("/ hello", "/😀").
func parseCommand(text, botUsername string) (kind bot.Kind, name, args string) {
	if !strings.HasPrefix(text, "/") {
		return bot.KindText, "", ""
	}
	first, rest := text[1:], ""
	if i := strings.IndexFunc(first, unicode.IsSpace); i >= 0 {
		first, rest = first[:i], first[i:]
	}
	name, at, addressed := strings.Cut(first, "@")
	valid := name != "" && strings.IndexFunc(name, func(r rune) bool {
		return r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) < 0
	if !valid {
		return bot.KindText, "", ""
	}
	if addressed && !strings.EqualFold(at, strings.TrimPrefix(botUsername, "@")) {
		return bot.KindOther, "", ""
	}
	return bot.KindCommand, strings.ToLower(name), strings.TrimSpace(rest)
}

package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

func ptr[T any](v T) *T { return &v }

func (s *Server) getMe(_ context.Context, _ *request) (any, *apiError) {
	u := s.botUser()
	u.CanJoinGroups = ptr(true)
	u.CanReadAllGroupMessages = ptr(false)
	u.SupportsInlineQueries = ptr(false)
	u.CanConnectToBusiness = ptr(false)
	u.HasMainWebApp = ptr(false)
	return u, nil
}

// chatIDParam parses a required chat id parameter. "@username" is answered
// with "chat not found": the fake has no public chats.
func (s *Server) chatIDParam(rq *request, name string) (int64, *apiError) {
	v := strings.TrimSpace(rq.p[name])
	if v == "" {
		return 0, s.specFail(rq.method, name+" is required", name+" is required")
	}
	if strings.HasPrefix(v, "@") {
		return 0, badRequest("chat not found")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, s.specFail(rq.method, name+" must be an Integer or @username, got "+quoteShort(v),
			"field \""+name+"\" must be of type Integer or String")
	}
	return id, nil
}

// intParam parses a required integer parameter.
func (s *Server) intParam(rq *request, name string) (int64, *apiError) {
	v, ok, aerr := rq.optInt(name)
	if aerr != nil {
		s.mu.Lock()
		s.addSpecErrorLocked(rq.method, name+" must be an Integer")
		s.mu.Unlock()
		return 0, aerr
	}
	if !ok {
		return 0, s.specFail(rq.method, name+" is required", name+" is required")
	}
	return v, nil
}

// checkText applies parse_mode and Telegram's length limits to a text or a
// caption. It returns the plain text and its entities.
func (s *Server) checkText(rq *request, field, text, parseMode string, maxLen int, allowEmpty bool) (string, []entity, *apiError) {
	if !utf8.ValidString(text) {
		return "", nil, s.specFail(rq.method, field+" is not valid UTF-8", "strings must be encoded in UTF-8")
	}
	plain := text
	var ents []entity
	switch strings.ToLower(parseMode) {
	case "":
		entField := "entities"
		if field == "caption" {
			entField = "caption_entities"
		}
		if _, aerr := rq.optJSON(entField, &ents); aerr != nil {
			return "", nil, s.specFail(rq.method, entField+" is not a JSON array of MessageEntity", "can't parse entities JSON object")
		}
	case "html":
		var err error
		plain, ents, err = parseHTML(text)
		if err != nil {
			return "", nil, s.specFail(rq.method, "can't parse entities in "+field+" (parse_mode HTML): "+err.Error(),
				"can't parse entities: "+err.Error())
		}
	case "markdown", "markdownv2":
		// Not parsed: the length below is counted on the raw text.
	default:
		return "", nil, s.specFail(rq.method, "unsupported parse_mode "+quoteShort(parseMode), "unsupported parse_mode")
	}
	if !allowEmpty && strings.TrimSpace(plain) == "" {
		what := "message text is empty"
		if field != "text" {
			what = field + " is empty"
		}
		return "", nil, s.specFail(rq.method, field+" is empty after entity parsing", what)
	}
	if n := utf16Len(plain); n > maxLen {
		what := "message is too long"
		if field == "caption" {
			what = "message caption is too long"
		}
		return "", nil, s.specFail(rq.method,
			fmt.Sprintf("%s is %d UTF-16 code units after entity parsing, limit %d", field, n, maxLen), what)
	}
	return plain, ents, nil
}

// markup is a parsed reply_markup.
type markup struct {
	inline   json.RawMessage // {"inline_keyboard":...} when inline
	buttons  [][]Button
	keyboard [][]string
	remove   bool
	present  bool
}

func (s *Server) parseMarkup(rq *request, inlineOnly bool) (markup, *apiError) {
	v := rq.p["reply_markup"]
	if v == "" {
		return markup{}, nil
	}
	var m struct {
		InlineKeyboard [][]map[string]json.RawMessage `json:"inline_keyboard"`
		Keyboard       [][]json.RawMessage            `json:"keyboard"`
		RemoveKeyboard bool                           `json:"remove_keyboard"`
		ForceReply     bool                           `json:"force_reply"`
		// ReplyKeyboardMarkup options, checked for their type.
		IsPersistent          *bool   `json:"is_persistent"`
		ResizeKeyboard        *bool   `json:"resize_keyboard"`
		OneTimeKeyboard       *bool   `json:"one_time_keyboard"`
		Selective             *bool   `json:"selective"`
		InputFieldPlaceholder *string `json:"input_field_placeholder"`
	}
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return markup{}, s.specFail(rq.method, "reply_markup is not a valid keyboard JSON object (options must be Boolean, input_field_placeholder a String)",
			"can't parse reply keyboard markup JSON object")
	}
	out := markup{present: true}
	switch {
	case m.InlineKeyboard != nil:
		out.buttons = make([][]Button, 0, len(m.InlineKeyboard))
		for _, row := range m.InlineKeyboard {
			brow := make([]Button, 0, len(row))
			for _, b := range row {
				var btn Button
				if raw, ok := b["text"]; !ok || json.Unmarshal(raw, &btn.Text) != nil || btn.Text == "" {
					return markup{}, s.specFail(rq.method, "inline keyboard button without text",
						"can't parse inline keyboard button: Text must be non-empty")
				}
				actions := 0
				for k := range b {
					if k != "text" && k != "icon_custom_emoji_id" && k != "style" {
						actions++
					}
				}
				if actions == 0 {
					return markup{}, s.specFail(rq.method, fmt.Sprintf("inline keyboard button %s has no action (callback_data, url, ...)", quoteShort(btn.Text)),
						"can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
				}
				if raw, ok := b["callback_data"]; ok {
					if json.Unmarshal(raw, &btn.Data) != nil || len(btn.Data) < 1 || len(btn.Data) > 64 {
						return markup{}, s.specFail(rq.method,
							fmt.Sprintf("callback_data of button %s is %d bytes, must be 1-64", quoteShort(btn.Text), len(btn.Data)),
							"BUTTON_DATA_INVALID")
					}
				}
				if raw, ok := b["url"]; ok {
					if json.Unmarshal(raw, &btn.URL) != nil || btn.URL == "" {
						return markup{}, s.specFail(rq.method, fmt.Sprintf("url of button %s is empty", quoteShort(btn.Text)), "BUTTON_URL_INVALID")
					}
				}
				brow = append(brow, btn)
			}
			out.buttons = append(out.buttons, brow)
		}
		rows, _ := json.Marshal(m.InlineKeyboard)
		out.inline = fmt.Appendf(nil, `{"inline_keyboard":%s}`, rows)
	case inlineOnly:
		return markup{}, s.specFail(rq.method, "reply_markup must be an InlineKeyboardMarkup", "inline keyboard expected")
	case m.Keyboard != nil:
		if len(m.Keyboard) == 0 {
			return markup{}, s.specFail(rq.method, "reply keyboard without buttons", "keyboard must be non-empty")
		}
		if p := m.InputFieldPlaceholder; p != nil && utf16Len(*p) > 64 {
			return markup{}, s.specFail(rq.method, fmt.Sprintf("input_field_placeholder is %d characters, limit 64", utf16Len(*p)),
				"can't parse reply keyboard markup JSON object")
		}
		for _, row := range m.Keyboard {
			var texts []string
			for _, raw := range row {
				var t string
				if json.Unmarshal(raw, &t) != nil {
					var kb struct {
						Text string `json:"text"`
					}
					_ = json.Unmarshal(raw, &kb)
					t = kb.Text
				}
				if t == "" {
					return markup{}, s.specFail(rq.method, "keyboard button without text", "keyboard button text must be non-empty")
				}
				texts = append(texts, t)
			}
			out.keyboard = append(out.keyboard, texts)
		}
	case m.RemoveKeyboard:
		out.remove = true
	case m.ForceReply:
	default:
		return markup{}, s.specFail(rq.method, "reply_markup has none of inline_keyboard, keyboard, remove_keyboard, force_reply",
			"can't parse reply keyboard markup JSON object")
	}
	return out, nil
}

// replyTarget reads reply_parameters or the legacy reply_to_message_id.
func replyTarget(rq *request) (id int, allowMissing bool, aerr *apiError) {
	var rp struct {
		MessageID                int   `json:"message_id"`
		ChatID                   any   `json:"chat_id"`
		AllowSendingWithoutReply *bool `json:"allow_sending_without_reply"`
	}
	if ok, aerr := rq.optJSON("reply_parameters", &rp); aerr != nil {
		return 0, false, aerr
	} else if ok {
		if rp.ChatID != nil {
			return 0, true, nil // reply in another chat: not checked
		}
		return rp.MessageID, rp.AllowSendingWithoutReply != nil && *rp.AllowSendingWithoutReply, nil
	}
	legacy, _, aerr := rq.optInt("reply_to_message_id")
	if aerr != nil {
		return 0, false, aerr
	}
	allow, aerr := rq.optBool("allow_sending_without_reply")
	return int(legacy), allow, aerr
}

func (s *Server) checkThreadLocked(cs *chatState, thread int) *apiError {
	if thread == 0 {
		return nil
	}
	for _, t := range cs.topics {
		if t.ThreadID == thread && t.Deleted {
			return badRequest("message thread not found")
		}
	}
	return nil
}

func (s *Server) sendMessage(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	text, parseMode := rq.str("text"), rq.str("parse_mode")
	plain, ents, aerr := s.checkText(rq, "text", text, parseMode, 4096, false)
	if aerr != nil {
		return nil, aerr
	}
	mk, aerr := s.parseMarkup(rq, false)
	if aerr != nil {
		return nil, aerr
	}
	thread, _, aerr := rq.optInt("message_thread_id")
	if aerr != nil {
		return nil, aerr
	}
	replyTo, allowMissing, aerr := replyTarget(rq)
	if aerr != nil {
		return nil, aerr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chatLocked(chatID)
	if aerr := s.checkThreadLocked(cs, int(thread)); aerr != nil {
		return nil, aerr
	}
	if replyTo != 0 && s.renderRefLocked(cs, replyTo) == nil {
		if !allowMissing {
			return nil, badRequest("message to be replied not found")
		}
		replyTo = 0
	}
	b := &botMsg{
		m: Message{
			ChatID: chatID, ThreadID: int(thread), MessageID: cs.newMsgID(),
			Text: text, ParseMode: parseMode, Buttons: mk.buttons, ReplyTo: replyTo,
			PlainText: plain, Keyboard: mk.keyboard, RemoveKeyboard: mk.remove,
		},
		entities: ents,
		date:     time.Now().Unix(),
		markup:   mk.inline,
	}
	s.addBotMsgLocked(cs, b, mk)
	return s.renderBotLocked(cs, b, true), nil
}

// addBotMsgLocked records a new message of the bot, and the reply keyboard
// its markup shows or removes.
func (s *Server) addBotMsgLocked(cs *chatState, b *botMsg, mk markup) {
	cs.bot = append(cs.bot, b)
	cs.botByID[b.m.MessageID] = b
	switch {
	case mk.keyboard != nil:
		cs.replyKB = mk.keyboard
	case mk.remove:
		cs.replyKB = nil
	}
	s.notifyLocked()
}

// editTarget reads chat_id + message_id; inline reports an inline message.
func (s *Server) editTarget(rq *request) (chatID int64, msgID int, inline bool, aerr *apiError) {
	if rq.has("inline_message_id") {
		return 0, 0, true, nil
	}
	if !rq.has("chat_id") || !rq.has("message_id") {
		return 0, 0, false, s.specFail(rq.method, "needs chat_id and message_id, or inline_message_id",
			"message identifier is not specified")
	}
	chatID, aerr = s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return 0, 0, false, aerr
	}
	id, aerr := s.intParam(rq, "message_id")
	return chatID, int(id), false, aerr
}

func (s *Server) findBotMsgLocked(chatID int64, msgID int) (*chatState, *botMsg) {
	cs := s.chats[chatID]
	if cs == nil {
		return nil, nil
	}
	b := cs.botByID[msgID]
	if b == nil || b.m.Deleted {
		return cs, nil
	}
	return cs, b
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func (s *Server) editMessageText(_ context.Context, rq *request) (any, *apiError) {
	chatID, msgID, inline, aerr := s.editTarget(rq)
	if aerr != nil {
		return nil, aerr
	}
	text, parseMode := rq.str("text"), rq.str("parse_mode")
	plain, ents, aerr := s.checkText(rq, "text", text, parseMode, 4096, false)
	if aerr != nil {
		return nil, aerr
	}
	mk, aerr := s.parseMarkup(rq, true)
	if aerr != nil {
		return nil, aerr
	}
	if inline {
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, b := s.findBotMsgLocked(chatID, msgID)
	if b == nil {
		return nil, badRequest("message to edit not found")
	}
	if b.media.kind() != "" {
		return nil, badRequest("there is no text in the message to edit")
	}
	if plain == b.m.PlainText && reflect.DeepEqual(ents, b.entities) && bytes.Equal(mk.inline, b.markup) {
		return nil, badRequest(notModified)
	}
	// Like Telegram, an edit without reply_markup removes the inline keyboard.
	b.m.Text, b.m.ParseMode, b.m.PlainText, b.entities = text, parseMode, plain, ents
	b.m.Buttons, b.markup = mk.buttons, mk.inline
	b.m.Edited = true
	b.editDate = time.Now().Unix()
	s.notifyLocked()
	return s.renderBotLocked(cs, b, true), nil
}

func (s *Server) editMessageReplyMarkup(_ context.Context, rq *request) (any, *apiError) {
	chatID, msgID, inline, aerr := s.editTarget(rq)
	if aerr != nil {
		return nil, aerr
	}
	mk, aerr := s.parseMarkup(rq, true)
	if aerr != nil {
		return nil, aerr
	}
	if inline {
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, b := s.findBotMsgLocked(chatID, msgID)
	if b == nil {
		return nil, badRequest("message to edit not found")
	}
	if bytes.Equal(mk.inline, b.markup) {
		return nil, badRequest(notModified)
	}
	b.m.Buttons, b.markup = mk.buttons, mk.inline
	b.m.Edited = true
	b.editDate = time.Now().Unix()
	s.notifyLocked()
	return s.renderBotLocked(cs, b, true), nil
}

func (s *Server) copyMessage(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	fromID, aerr := s.chatIDParam(rq, "from_chat_id")
	if aerr != nil {
		return nil, aerr
	}
	srcID, aerr := s.intParam(rq, "message_id")
	if aerr != nil {
		return nil, aerr
	}
	caption, hasCaption := rq.p["caption"]
	parseMode := rq.str("parse_mode")
	var capPlain string
	var capEnts []entity
	if hasCaption {
		capPlain, capEnts, aerr = s.checkText(rq, "caption", caption, parseMode, 1024, true)
		if aerr != nil {
			return nil, aerr
		}
	}
	mk, aerr := s.parseMarkup(rq, false)
	if aerr != nil {
		return nil, aerr
	}
	thread, _, aerr := rq.optInt("message_thread_id")
	if aerr != nil {
		return nil, aerr
	}
	replyTo, allowMissing, aerr := replyTarget(rq)
	if aerr != nil {
		return nil, aerr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.chats[fromID]
	var (
		text, plain string
		ents        []entity
		file        media
		found       bool
	)
	if src != nil {
		if b := src.botByID[int(srcID)]; b != nil && !b.m.Deleted {
			text, plain, ents, file, found = b.m.PlainText, b.m.PlainText, b.entities, b.media, true
		} else if um := src.userMsgs[int(srcID)]; um != nil && !um.deleted {
			found = true
			if um.media.kind() != "" {
				text, plain, ents, file = um.caption, um.caption, nil, um.media
			} else {
				text, plain, ents = um.text, um.text, um.entities
			}
		} else if src.topicInfo[int(srcID)] != nil {
			return nil, badRequest("message can't be copied") // a service message
		}
	}
	if !found {
		return nil, badRequest("message to copy not found")
	}
	pm := ""
	if hasCaption && file.captioned() {
		text, plain, ents, pm = caption, capPlain, capEnts, parseMode
	}
	cs := s.chatLocked(chatID)
	if aerr := s.checkThreadLocked(cs, int(thread)); aerr != nil {
		return nil, aerr
	}
	if replyTo != 0 && s.renderRefLocked(cs, replyTo) == nil {
		if !allowMissing {
			return nil, badRequest("message to be replied not found")
		}
		replyTo = 0
	}
	b := &botMsg{
		m: Message{
			ChatID: chatID, ThreadID: int(thread), MessageID: cs.newMsgID(),
			Text: text, ParseMode: pm, Buttons: mk.buttons, ReplyTo: replyTo,
			CopiedFrom: fromID, CopiedMessageID: int(srcID), PlainText: plain,
			Keyboard: mk.keyboard, RemoveKeyboard: mk.remove,
			Media: file.kind(), FileID: file.fileID(),
		},
		entities: ents,
		date:     time.Now().Unix(),
		markup:   mk.inline,
		media:    file,
	}
	s.addBotMsgLocked(cs, b, mk)
	return struct {
		MessageID int `json:"message_id"`
	}{b.m.MessageID}, nil
}

func (s *Server) deleteMessage(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	msgID, aerr := s.intParam(rq, "message_id")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs != nil {
		if b := cs.botByID[int(msgID)]; b != nil && !b.m.Deleted {
			b.m.Deleted = true
			s.notifyLocked()
			return true, nil
		}
		if um := cs.userMsgs[int(msgID)]; um != nil && !um.deleted {
			um.deleted = true
			s.notifyLocked()
			return true, nil
		}
	}
	return nil, badRequest("message to delete not found")
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

func (s *Server) sendChatAction(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	if a := rq.str("action"); !chatActions[a] {
		return nil, s.specFail(rq.method, "unknown action "+quoteShort(a), "wrong parameter action in request")
	}
	thread, _, aerr := rq.optInt("message_thread_id")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.checkThreadLocked(s.chatLocked(chatID), int(thread)); aerr != nil {
		return nil, aerr
	}
	return true, nil
}

func (s *Server) answerCallbackQuery(_ context.Context, rq *request) (any, *apiError) {
	id := rq.str("callback_query_id")
	if id == "" {
		return nil, s.specFail(rq.method, "callback_query_id is required", "callback_query_id is required")
	}
	if n := utf16Len(rq.str("text")); n > 200 {
		return nil, s.specFail(rq.method, fmt.Sprintf("text is %d characters, limit 200", n), "MESSAGE_TOO_LONG")
	}
	alert, aerr := rq.optBool("show_alert")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	answered, ok := s.callbacks[id]
	if !ok || answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	s.callbacks[id] = true
	s.answers[id] = CallbackAnswer{Text: rq.str("text"), ShowAlert: alert}
	s.notifyLocked()
	return true, nil
}

// CallbackAnswer is how the bot answered a callback query.
type CallbackAnswer struct {
	Text      string // the notice shown to whoever pressed ("" for none)
	ShowAlert bool   // an alert to dismiss rather than a passing notice
}

// AnswerOf returns the answer to the callback query of update updateID
// (injected with PressButton), once the bot has answered it.
func (s *Server) AnswerOf(updateID int64) (CallbackAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.answers[s.queryOf[updateID]]
	return a, ok
}

// Answered reports whether the callback query of an update injected with
// PressButton (or SendUpdate) was answered with answerCallbackQuery.
func (s *Server) Answered(callbackQueryID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbacks[callbackQueryID]
}

func validLang(code string) bool {
	if code == "" {
		return true
	}
	return len(code) == 2 && code[0] >= 'a' && code[0] <= 'z' && code[1] >= 'a' && code[1] <= 'z'
}

// scopeLang reads scope and language_code and returns the storage key.
func (s *Server) scopeLang(rq *request) (string, *apiError) {
	lang := rq.str("language_code")
	if !validLang(lang) {
		return "", s.specFail(rq.method, "language_code "+quoteShort(lang)+" must be two lowercase letters (ISO 639-1) or empty",
			"invalid language code specified")
	}
	var raw struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID int64           `json:"user_id"`
	}
	ok, aerr := rq.optJSON("scope", &raw)
	if aerr != nil {
		return "", s.specFail(rq.method, "scope is not a BotCommandScope JSON object", "can't parse BotCommandScope JSON object")
	}
	sc := CommandScope{Type: "default"}
	if ok {
		sc.Type = raw.Type
		switch raw.Type {
		case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
		case "chat", "chat_administrators", "chat_member":
			if len(raw.ChatID) == 0 {
				return "", s.specFail(rq.method, "scope "+raw.Type+" needs chat_id", "can't parse BotCommandScope JSON object")
			}
			id, err := strconv.ParseInt(strings.Trim(string(raw.ChatID), `"`), 10, 64)
			if err != nil {
				return "", badRequest("chat not found")
			}
			sc.ChatID = id
			if raw.Type == "chat_member" {
				if raw.UserID == 0 {
					return "", s.specFail(rq.method, "scope chat_member needs user_id", "can't parse BotCommandScope JSON object")
				}
				sc.UserID = raw.UserID
			}
		default:
			return "", s.specFail(rq.method, "unknown scope type "+quoteShort(raw.Type), "wrong BotCommandScope type specified")
		}
	}
	return sc.key(lang), nil
}

func validCommand(c string) bool {
	if len(c) < 1 || len(c) > 32 {
		return false
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}

func (s *Server) setMyCommands(_ context.Context, rq *request) (any, *apiError) {
	var cmds []BotCommand
	ok, aerr := rq.optJSON("commands", &cmds)
	if aerr != nil {
		return nil, s.specFail(rq.method, "commands is not a JSON array of BotCommand", "can't parse commands JSON array")
	}
	if !ok {
		return nil, s.specFail(rq.method, "commands is required", "commands is required")
	}
	if len(cmds) > 100 {
		return nil, s.specFail(rq.method, fmt.Sprintf("%d commands, limit 100", len(cmds)), "too many commands")
	}
	for _, c := range cmds {
		if !validCommand(c.Command) {
			return nil, s.specFail(rq.method, "command "+quoteShort(c.Command)+" must be 1-32 characters of a-z, 0-9 and _",
				"BOT_COMMAND_INVALID")
		}
		if n := utf16Len(c.Description); n < 1 || n > 256 {
			return nil, s.specFail(rq.method, fmt.Sprintf("description of command %q is %d characters, must be 1-256", c.Command, n),
				"BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	key, aerr := s.scopeLang(rq)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(cmds) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = cmds
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) getMyCommands(_ context.Context, rq *request) (any, *apiError) {
	key, aerr := s.scopeLang(rq)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand{}, s.commands[key]...), nil
}

func (s *Server) deleteMyCommands(_ context.Context, rq *request) (any, *apiError) {
	key, aerr := s.scopeLang(rq)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, key)
	s.notifyLocked()
	return true, nil
}

// profileSetter handles setMyDescription, setMyShortDescription and
// setMyName: field is the parameter, maxLen its limit in characters.
func profileSetter(field string, maxLen int) handler {
	return func(s *Server, _ context.Context, rq *request) (any, *apiError) {
		v := rq.str(field)
		if n := utf16Len(v); n > maxLen {
			return nil, s.specFail(rq.method, fmt.Sprintf("%s is %d characters, limit %d", field, n, maxLen),
				strings.ToUpper(field)+"_INVALID")
		}
		lang := rq.str("language_code")
		if !validLang(lang) {
			return nil, s.specFail(rq.method, "language_code "+quoteShort(lang)+" must be two lowercase letters (ISO 639-1) or empty",
				"invalid language code specified")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if v == "" {
			delete(s.profile, field+"|"+lang)
		} else {
			s.profile[field+"|"+lang] = v
		}
		s.notifyLocked()
		return true, nil
	}
}

// profileGetter handles getMyDescription, getMyShortDescription and
// getMyName. It returns the value stored for exactly that language code.
func profileGetter(field string) handler {
	return func(s *Server, _ context.Context, rq *request) (any, *apiError) {
		lang := rq.str("language_code")
		if !validLang(lang) {
			return nil, s.specFail(rq.method, "language_code "+quoteShort(lang)+" must be two lowercase letters (ISO 639-1) or empty",
				"invalid language code specified")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return map[string]string{field: s.profile[field+"|"+lang]}, nil
	}
}

var topicColors = map[int64]bool{7322096: true, 16766590: true, 13338331: true, 9367192: true, 16749490: true, 16478047: true}

// defaultTopicColor is the icon colour of a topic created without one.
const defaultTopicColor = 7322096

func (s *Server) createForumTopic(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	name := rq.str("name")
	if n := utf16Len(name); n < 1 || n > 128 {
		return nil, s.specFail(rq.method, fmt.Sprintf("name is %d characters, must be 1-128", n), "TOPIC_NAME_INVALID")
	}
	color, hasColor, aerr := rq.optInt("icon_color")
	if aerr != nil {
		return nil, aerr
	}
	if !hasColor {
		color = defaultTopicColor
	} else if !topicColors[color] {
		return nil, s.specFail(rq.method, fmt.Sprintf("icon_color %d is not one of the six allowed colours", color), "TOPIC_ICON_COLOR_INVALID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chatLocked(chatID)
	if cs.kind == "group" || (cs.kind == "supergroup" && cs.added && !cs.isForum) {
		return nil, badRequest("the chat is not a forum")
	}
	if cs.added && !cs.rights.CanManageTopics {
		return nil, badRequest("not enough rights to create a topic")
	}
	// The thread id is the id of the topic's creation message, so it is
	// never the id of another message of the chat.
	t := &Topic{ThreadID: max(cs.nextTopic, cs.nextMsgID), Name: name, IconColor: int(color)}
	for cs.threads[t.ThreadID] {
		t.ThreadID++
	}
	cs.nextTopic = t.ThreadID + 1
	cs.topics = append(cs.topics, t)
	cs.threads[t.ThreadID] = true
	cs.topicInfo[t.ThreadID] = &topicInfo{creator: s.botUser(), name: name, color: int(color), date: time.Now().Unix()}
	s.notifyLocked()
	return struct {
		MessageThreadID int    `json:"message_thread_id"`
		Name            string `json:"name"`
		IconColor       int    `json:"icon_color"`
	}{t.ThreadID, t.Name, t.IconColor}, nil
}

func (s *Server) deleteForumTopic(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	thread, aerr := s.intParam(rq, "message_thread_id")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil || !cs.threads[int(thread)] {
		return nil, badRequest("message thread not found")
	}
	if cs.added && !cs.rights.CanDeleteMessages && !cs.rights.CanManageTopics {
		return nil, badRequest("not enough rights to delete a topic")
	}
	var topic *Topic
	for _, t := range cs.topics {
		if t.ThreadID == int(thread) {
			topic = t
		}
	}
	if topic == nil {
		topic = &Topic{ThreadID: int(thread)}
		cs.topics = append(cs.topics, topic)
	} else if topic.Deleted {
		return nil, badRequest("message thread not found")
	}
	topic.Deleted = true
	for _, b := range cs.bot {
		if b.m.ThreadID == int(thread) {
			b.m.Deleted = true
		}
	}
	s.notifyLocked()
	return true, nil
}

type acceptedGiftTypes struct {
	UnlimitedGifts      bool `json:"unlimited_gifts"`
	LimitedGifts        bool `json:"limited_gifts"`
	UniqueGifts         bool `json:"unique_gifts"`
	PremiumSubscription bool `json:"premium_subscription"`
	GiftsFromChannels   bool `json:"gifts_from_channels"`
}

type chatFullInfo struct {
	apiChat
	AccentColorID     int               `json:"accent_color_id"`
	MaxReactionCount  int               `json:"max_reaction_count"`
	AcceptedGiftTypes acceptedGiftTypes `json:"accepted_gift_types"`
}

func (s *Server) getChat(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil || !cs.known {
		return nil, badRequest("chat not found")
	}
	return chatFullInfo{
		apiChat:           s.chatObjLocked(cs),
		MaxReactionCount:  11,
		AcceptedGiftTypes: acceptedGiftTypes{UnlimitedGifts: true, LimitedGifts: true, UniqueGifts: true},
	}, nil
}

type adminMember struct {
	Status      string   `json:"status"`
	User        *apiUser `json:"user"`
	CanBeEdited bool     `json:"can_be_edited"`
	ChatAdminRights
}

func (s *Server) getChatMember(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	userID, aerr := s.intParam(rq, "user_id")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil || !cs.known {
		return nil, badRequest("chat not found")
	}
	if userID == BotID {
		if cs.admin {
			return adminMember{Status: "administrator", User: s.botUser(), ChatAdminRights: cs.rights}, nil
		}
		return chatMember{Status: "member", User: s.botUser()}, nil
	}
	u, ok := s.users[userID]
	if !ok {
		u = User{ID: userID}
	}
	return memberObject(cs.memberStatus(userID), u), nil
}

// memberStatuses are the ChatMember statuses SetMember accepts.
var memberStatuses = map[string]bool{
	"creator": true, "administrator": true, "member": true, "restricted": true, "left": true, "kicked": true,
	RestrictedLeft: true,
}

// RestrictedLeft is the status SetMember takes for a user who was
// restricted and left the group: Telegram still answers "restricted", with
// is_member false.
const RestrictedLeft = "restricted_left"

const restrictedLeft = RestrictedLeft

// memberStatus returns userID's status in a group: as set, else "left" if
// SetMember was used for the chat, else "member".
func (cs *chatState) memberStatus(userID int64) string {
	if st, ok := cs.members[userID]; ok {
		return st
	}
	if cs.membersSet {
		return "left"
	}
	return "member"
}

type ownerMember struct {
	Status      string   `json:"status"`
	User        *apiUser `json:"user"`
	IsAnonymous bool     `json:"is_anonymous"`
}

type restrictedMember struct {
	Status                string   `json:"status"`
	User                  *apiUser `json:"user"`
	IsMember              bool     `json:"is_member"`
	CanSendMessages       bool     `json:"can_send_messages"`
	CanSendAudios         bool     `json:"can_send_audios"`
	CanSendDocuments      bool     `json:"can_send_documents"`
	CanSendPhotos         bool     `json:"can_send_photos"`
	CanSendVideos         bool     `json:"can_send_videos"`
	CanSendVideoNotes     bool     `json:"can_send_video_notes"`
	CanSendVoiceNotes     bool     `json:"can_send_voice_notes"`
	CanSendPolls          bool     `json:"can_send_polls"`
	CanSendOtherMessages  bool     `json:"can_send_other_messages"`
	CanAddWebPagePreviews bool     `json:"can_add_web_page_previews"`
	CanReactToMessages    bool     `json:"can_react_to_messages"`
	CanEditTag            bool     `json:"can_edit_tag"`
	CanChangeInfo         bool     `json:"can_change_info"`
	CanInviteUsers        bool     `json:"can_invite_users"`
	CanPinMessages        bool     `json:"can_pin_messages"`
	CanManageTopics       bool     `json:"can_manage_topics"`
	UntilDate             int64    `json:"until_date"`
}

// userAdminRights are the rights of a user made "administrator" with
// SetMember: what a volunteer coordinator typically gets.
var userAdminRights = ChatAdminRights{
	CanManageChat: true, CanDeleteMessages: true, CanRestrictMembers: true, CanInviteUsers: true,
	CanPinMessages: true, CanManageTopics: true,
}

// memberObject renders a ChatMember of the given status for u, with the
// fields the Bot API requires for that status.
func memberObject(status string, u User) any {
	au := apiUserOf(u)
	zero := int64(0)
	switch status {
	case "creator":
		return ownerMember{Status: status, User: au}
	case "administrator":
		return adminMember{Status: status, User: au, ChatAdminRights: userAdminRights}
	case "restricted":
		// Muted but still in the group.
		return restrictedMember{Status: status, User: au, IsMember: true}
	case restrictedLeft:
		// Restricted, then left: Telegram keeps the status.
		return restrictedMember{Status: "restricted", User: au, IsMember: false}
	case "kicked":
		return chatMember{Status: status, User: au, UntilDate: &zero}
	}
	return chatMember{Status: status, User: au}
}

// SetMember sets u's status in the group chatID: "creator",
// "administrator", "member", "restricted" (muted, still in the group),
// RestrictedLeft (restricted, then left), "left" or "kicked". getChatMember then answers it. Once SetMember was used
// for a chat, users never set there (nor seen writing there) are "left";
// in other chats unknown users stay "member". It makes the chat known (as a
// supergroup unless it is a basic group) and does not inject any update: see
// LeaveGroup for that. The bot's own status comes from AddGroup. An unknown
// status, a private chat or the bot fail the test.
func (s *Server) SetMember(chatID int64, u User, status string) {
	s.tb.Helper()
	if !memberStatuses[status] {
		s.tb.Fatalf("telegramtest: SetMember(%d, %d, %q): status must be creator, administrator, member, restricted, %s, left or kicked", chatID, u.ID, status, RestrictedLeft)
		return
	}
	if chatID > 0 || u.ID == BotID {
		s.tb.Fatalf("telegramtest: SetMember(%d, %d): needs a group chat id (negative) and a user other than the bot (see AddGroup)", chatID, u.ID)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noteUserLocked(u)
	cs := s.groupLocked(chatID)
	cs.members[u.ID] = status
	cs.membersSet = true
	s.notifyLocked()
}

// MemberStatus returns userID's status in chatID as getChatMember answers
// it (RestrictedLeft for a restricted user who left), or "" for a chat the
// server does not know.
func (s *Server) MemberStatus(chatID, userID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	switch {
	case cs == nil || !cs.known:
		return ""
	case userID == BotID && cs.admin:
		return "administrator"
	case userID == BotID:
		return "member"
	}
	return cs.memberStatus(userID)
}

// groupLocked returns the state of group chatID, known from now on; a chat
// id of a basic group stays a "group", others become a "supergroup".
func (s *Server) groupLocked(chatID int64) *chatState {
	cs := s.chatLocked(chatID)
	if cs.kind != "group" {
		cs.kind = "supergroup"
	}
	cs.known = true
	return cs
}

// pinChatMessage pins a message of the chat. In a group the bot needs
// can_pin_messages when it was registered with AddGroup.
func (s *Server) pinChatMessage(_ context.Context, rq *request) (any, *apiError) {
	chatID, aerr := s.chatIDParam(rq, "chat_id")
	if aerr != nil {
		return nil, aerr
	}
	msgID, aerr := s.intParam(rq, "message_id")
	if aerr != nil {
		return nil, aerr
	}
	if _, aerr := rq.optBool("disable_notification"); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil {
		return nil, badRequest("chat not found")
	}
	if cs.blocked {
		b := Blocked()
		return nil, &apiError{code: b.Code, desc: b.Description}
	}
	if cs.kind != "private" && cs.added && !cs.rights.CanPinMessages {
		return nil, badRequest("not enough rights to manage pinned messages in the chat")
	}
	id := int(msgID)
	if s.renderRefLocked(cs, id) == nil || cs.topicInfo[id] != nil {
		return nil, badRequest("message to pin not found")
	}
	cs.pinned = slices.DeleteFunc(cs.pinned, func(p int) bool { return p == id })
	cs.pinned = append(cs.pinned, id)
	s.notifyLocked()
	return true, nil
}

// Pinned returns the ids of the messages pinned in chatID with
// pinChatMessage, oldest pin first (pinning a message again moves it last).
func (s *Server) Pinned(chatID int64) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.chats[chatID]; cs != nil {
		return append([]int(nil), cs.pinned...)
	}
	return nil
}

// ReplyKeyboard returns the reply keyboard the user of chatID now sees:
// the button texts of the last ReplyKeyboardMarkup the bot sent there,
// until a ReplyKeyboardRemove; nil if none.
func (s *Server) ReplyKeyboard(chatID int64) [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil || cs.replyKB == nil {
		return nil
	}
	out := make([][]string, len(cs.replyKB))
	for i, row := range cs.replyKB {
		out[i] = append([]string(nil), row...)
	}
	return out
}

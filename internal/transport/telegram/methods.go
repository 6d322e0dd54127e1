package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/passerelle-bot/passerelle/bot"
)

// AnswerCallback answers callback query id, with text shown to the user as
// a toast (empty: just stop the client's spinner). Poll and WebhookHandler
// already answer every callback query with an empty text when its update
// is done; a query can be answered only once.
func (c *Client) AnswerCallback(ctx context.Context, id, text string) error {
	p := tgbotapi.Params{"callback_query_id": id}
	p.AddNonEmpty("text", text)
	_, err := c.request(ctx, "answerCallbackQuery", p)
	return err
}

// DeleteMessage deletes message messageID of chatID. A message Telegram
// refuses to delete (already gone, too old) gives an error wrapping
// bot.ErrRejected.
func (c *Client) DeleteMessage(ctx context.Context, chatID int64, messageID int) error {
	p := tgbotapi.Params{}
	p.AddNonZero64("chat_id", c.resolveChat(chatID))
	p.AddNonZero("message_id", messageID)
	_, err := c.request(ctx, "deleteMessage", p)
	return rejected(err)
}

// rejected wraps bot.ErrRejected around a 400 or 403 answer: the request
// will never succeed as it is (the message or topic is gone, the bot lost
// its rights), as opposed to a failure worth retrying.
func rejected(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && (ae.Code == http.StatusBadRequest || ae.Code == http.StatusForbidden) {
		return fmt.Errorf("%w: %w", bot.ErrRejected, err)
	}
	return err
}

// CreateForumTopic creates a topic named name in forum supergroup chatID
// (the bot needs can_manage_topics) and returns its message_thread_id.
func (c *Client) CreateForumTopic(ctx context.Context, chatID int64, name string) (threadID int, err error) {
	p := tgbotapi.Params{"name": name}
	p.AddNonZero64("chat_id", c.resolveChat(chatID))
	res, err := c.request(ctx, "createForumTopic", p)
	if err != nil {
		return 0, err
	}
	var topic struct {
		MessageThreadID int `json:"message_thread_id"`
	}
	if err := json.Unmarshal(res, &topic); err != nil || topic.MessageThreadID == 0 {
		return 0, fmt.Errorf("telegram: createForumTopic: no message_thread_id in result")
	}
	return topic.MessageThreadID, nil
}

// DeleteForumTopic deletes topic threadID of forum supergroup chatID with
// all its messages.
func (c *Client) DeleteForumTopic(ctx context.Context, chatID int64, threadID int) error {
	p := tgbotapi.Params{}
	p.AddNonZero64("chat_id", c.resolveChat(chatID))
	p.AddNonZero("message_thread_id", threadID)
	_, err := c.request(ctx, "deleteForumTopic", p)
	return rejected(err)
}

// SetDescriptions sets the bot's description (shown before a chat starts)
// and short description (profile page) for language lang (two-letter code,
// "" for the default). Each is read first and set only when it differs.
func (c *Client) SetDescriptions(ctx context.Context, lang, description, short string) error {
	if err := checkLang(lang); err != nil {
		return err
	}
	for _, d := range []struct{ get, set, field, want string }{
		{"getMyDescription", "setMyDescription", "description", description},
		{"getMyShortDescription", "setMyShortDescription", "short_description", short},
	} {
		p := tgbotapi.Params{}
		p.AddNonEmpty("language_code", lang)
		res, err := c.request(ctx, d.get, p)
		if err != nil {
			return err
		}
		var cur map[string]string
		_ = json.Unmarshal(res, &cur)
		if cur[d.field] == d.want {
			continue
		}
		p = tgbotapi.Params{d.field: d.want}
		p.AddNonEmpty("language_code", lang)
		if _, err := c.request(ctx, d.set, p); err != nil {
			return err
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "telegram_description_set", slog.String("method", d.set), slog.String("lang", lang))
	}
	return nil
}

// Command is one entry of the bot's command menu.
type Command struct {
	Name        string // 1-32 characters: a-z, 0-9, _
	Description string // 1-256 characters
}

// SyncCommands makes the bot's command lists equal to byLang, whose keys are
// "" (the default list) or two-letter language codes ("zh", not "zh-Hans").
// For each language it reads the current list with getMyCommands and calls
// setMyCommands (deleteMyCommands for an empty list) only when the list
// differs, so it can run at every start. It returns how many lists it
// changed. Keys or commands Telegram would refuse are reported before any
// call.
func (c *Client) SyncCommands(ctx context.Context, byLang map[string][]Command) (changed int, err error) {
	langs := make([]string, 0, len(byLang))
	for lang, cmds := range byLang {
		if err := checkLang(lang); err != nil {
			return 0, err
		}
		for _, cmd := range cmds {
			if err := checkCommand(cmd); err != nil {
				return 0, fmt.Errorf("telegram: commands for %q: %w", lang, err)
			}
		}
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		want := make([]tgbotapi.BotCommand, 0, len(byLang[lang]))
		for _, cmd := range byLang[lang] {
			want = append(want, tgbotapi.BotCommand{Command: cmd.Name, Description: cmd.Description})
		}
		p := tgbotapi.Params{}
		p.AddNonEmpty("language_code", lang)
		res, err := c.request(ctx, "getMyCommands", p)
		if err != nil {
			return changed, err
		}
		var cur []tgbotapi.BotCommand
		if err := json.Unmarshal(res, &cur); err != nil {
			cur = nil // unreadable: set it
		}
		if slices.Equal(cur, want) {
			continue
		}
		method := "setMyCommands"
		if len(want) == 0 {
			method = "deleteMyCommands"
		} else if err := p.AddInterface("commands", want); err != nil {
			return changed, err
		}
		if _, err := c.request(ctx, method, p); err != nil {
			return changed, err
		}
		changed++
		c.log.LogAttrs(ctx, slog.LevelInfo, "telegram_commands_set", slog.String("lang", lang), slog.Int("count", len(want)))
	}
	return changed, nil
}

func checkLang(lang string) error {
	if lang == "" {
		return nil
	}
	if len(lang) != 2 || lang[0] < 'a' || lang[0] > 'z' || lang[1] < 'a' || lang[1] > 'z' {
		return fmt.Errorf("telegram: language code %q: want \"\" or two lower-case letters (ISO 639-1)", lang)
	}
	return nil
}

func checkCommand(cmd Command) error {
	if n := len(cmd.Name); n == 0 || n > 32 {
		return fmt.Errorf("command %q: name must have 1-32 characters", cmd.Name)
	}
	for _, r := range cmd.Name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return fmt.Errorf("command %q: name may hold only a-z, 0-9 and _", cmd.Name)
		}
	}
	if n := len([]rune(cmd.Description)); n == 0 || n > 256 {
		return fmt.Errorf("command %q: description must have 1-256 characters", cmd.Name)
	}
	return nil
}

// PinMessage pins message messageID in chatID without notifying members
// (the bot needs can_pin_messages).
func (c *Client) PinMessage(ctx context.Context, chatID int64, messageID int) error {
	p := tgbotapi.Params{}
	p.AddNonZero64("chat_id", c.resolveChat(chatID))
	p.AddNonZero("message_id", messageID)
	p.AddBool("disable_notification", true)
	_, err := c.request(ctx, "pinChatMessage", p)
	return err
}

// MemberStatus returns userID's status in chatID: creator, administrator,
// member, restricted, left or kicked.
func (c *Client) MemberStatus(ctx context.Context, chatID, userID int64) (string, error) {
	m, err := c.member(ctx, chatID, userID)
	return m.Status, err
}

// Member returns userID's standing in chatID: its status, whether a
// restricted user is still in the group, and whether the user is a bot.
func (c *Client) Member(ctx context.Context, chatID, userID int64) (bot.Membership, error) {
	m, err := c.member(ctx, chatID, userID)
	if err != nil {
		return bot.Membership{}, err
	}
	return bot.Membership{Status: m.Status, IsMember: m.IsMember, IsBot: m.User.IsBot, FirstName: m.User.FirstName}, nil
}

// chatMember is the part of a ChatMember the bot reads.
type chatMember struct {
	Status   string `json:"status"`
	IsMember bool   `json:"is_member"` // restricted only
	User     struct {
		IsBot     bool   `json:"is_bot"`
		FirstName string `json:"first_name"`
	} `json:"user"`
	CanManageTopics   bool `json:"can_manage_topics"`
	CanDeleteMessages bool `json:"can_delete_messages"`
	CanPinMessages    bool `json:"can_pin_messages"`
}

func (c *Client) member(ctx context.Context, chatID, userID int64) (chatMember, error) {
	p := tgbotapi.Params{}
	p.AddNonZero64("chat_id", c.resolveChat(chatID))
	p.AddNonZero64("user_id", userID)
	res, err := c.request(ctx, "getChatMember", p)
	if err != nil {
		return chatMember{}, err
	}
	var m chatMember
	if err := json.Unmarshal(res, &m); err != nil || m.Status == "" {
		return chatMember{}, fmt.Errorf("telegram: getChatMember: no status in result")
	}
	return m, nil
}

// CheckGroup checks that chatID can host the hand-off: a forum supergroup
// where the bot is an administrator allowed to manage topics, delete and
// pin messages. The error says what to fix, in words a coordinator can act
// on.
func (c *Client) CheckGroup(ctx context.Context, chatID int64) error {
	p := tgbotapi.Params{}
	p.AddNonZero64("chat_id", c.resolveChat(chatID))
	res, err := c.request(ctx, "getChat", p)
	if err != nil {
		return fmt.Errorf("the bot cannot see the group (add it to the group): %w", err)
	}
	var chat struct {
		Type    string `json:"type"`
		IsForum bool   `json:"is_forum"`
	}
	if err := json.Unmarshal(res, &chat); err != nil {
		return fmt.Errorf("telegram: getChat: %w", err)
	}
	if chat.Type != "supergroup" || !chat.IsForum {
		return fmt.Errorf("the group is not a forum: turn on Topics in the group settings")
	}
	m, err := c.member(ctx, chatID, c.api.Self.ID)
	if err != nil {
		return err
	}
	var missing []string
	if m.Status != "administrator" {
		return fmt.Errorf("the bot is not an administrator of the group")
	}
	if !m.CanManageTopics {
		missing = append(missing, "manage topics")
	}
	if !m.CanDeleteMessages {
		missing = append(missing, "delete messages")
	}
	if !m.CanPinMessages {
		missing = append(missing, "pin messages")
	}
	if len(missing) > 0 {
		return fmt.Errorf("the bot lacks these administrator rights: %v", missing)
	}
	return nil
}

// SyncChatCommands makes the command menu of group chatID (scope "chat",
// for every language) equal to cmds: it reads the current one with
// getMyCommands and calls setMyCommands only when it differs, so it can
// run at every start. It reports whether it changed the menu.
func (c *Client) SyncChatCommands(ctx context.Context, chatID int64, cmds []Command) (bool, error) {
	want := make([]tgbotapi.BotCommand, 0, len(cmds))
	for _, cmd := range cmds {
		if err := checkCommand(cmd); err != nil {
			return false, fmt.Errorf("telegram: commands of chat %d: %w", chatID, err)
		}
		want = append(want, tgbotapi.BotCommand{Command: cmd.Name, Description: cmd.Description})
	}
	p := tgbotapi.Params{}
	if err := p.AddInterface("scope", map[string]any{"type": "chat", "chat_id": c.resolveChat(chatID)}); err != nil {
		return false, err
	}
	res, err := c.request(ctx, "getMyCommands", p)
	if err != nil {
		return false, err
	}
	var cur []tgbotapi.BotCommand
	if err := json.Unmarshal(res, &cur); err != nil {
		cur = nil // unreadable: set it
	}
	if slices.Equal(cur, want) {
		return false, nil
	}
	method := "setMyCommands"
	if len(want) == 0 {
		method = "deleteMyCommands"
	} else if err := p.AddInterface("commands", want); err != nil {
		return false, err
	}
	if _, err := c.request(ctx, method, p); err != nil {
		return false, err
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "telegram_chat_commands_set", slog.Int64("chat_id", chatID), slog.Int("count", len(want)))
	return true, nil
}

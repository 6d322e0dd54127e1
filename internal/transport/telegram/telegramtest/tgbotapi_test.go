package telegramtest_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

func newBot(t *testing.T, s *telegramtest.Server) *tgbotapi.BotAPI {
	t.Helper()
	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(s.Token(), s.APIURL()+"/bot%s/%s")
	if err != nil {
		t.Fatalf("NewBotAPIWithAPIEndpoint: %v", err)
	}
	return bot
}

func TestGoTelegramBotAPISend(t *testing.T) {
	s := telegramtest.NewServer(t)
	bot := newBot(t, s)
	if bot.Self.ID != s.BotID() || bot.Self.UserName != "passerelle_test_bot" || !bot.Self.IsBot {
		t.Fatalf("bot.Self = %+v", bot.Self)
	}

	msg, err := bot.Send(tgbotapi.NewMessage(1111, "hi"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if msg.MessageID != 1 || msg.Chat == nil || msg.Chat.ID != 1111 || msg.Chat.Type != "private" ||
		msg.From == nil || msg.From.ID != s.BotID() || msg.Text != "hi" || msg.Date == 0 {
		t.Fatalf("sent message = %+v", msg)
	}
	calls := s.Calls("sendMessage")
	if len(calls) != 1 || calls[0].Params["entities"] != "null" || calls[0].Status != 200 {
		t.Fatalf("call = %+v (the library sends entities=null)", calls)
	}
	if m := s.Messages(1111); len(m) != 1 || m[0].Text != "hi" {
		t.Fatalf("Messages = %+v", m)
	}
	s.RequireNoSpecErrors(t)
}

func TestGoTelegramBotAPIConversation(t *testing.T) {
	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	// Long polling through the library's own loop wakes on SendText.
	cfg := tgbotapi.NewUpdate(0)
	cfg.Timeout = 30
	ch := bot.GetUpdatesChan(cfg)
	defer bot.StopReceivingUpdates()
	s.SendText(reza, "/start")
	var up tgbotapi.Update
	select {
	case up = <-ch:
	case <-time.After(wait):
		t.Fatal("no update from GetUpdatesChan")
	}
	if up.Message == nil || !up.Message.IsCommand() || up.Message.Command() != "start" || up.Message.From.LanguageCode != "fa" {
		t.Fatalf("update = %+v", up.Message)
	}

	// Reply with an HTML message and an inline keyboard.
	m := tgbotapi.NewMessage(reza.ID, "<b>Langue</b> / زبان")
	m.ParseMode = tgbotapi.ModeHTML
	m.ReplyToMessageID = up.Message.MessageID
	m.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("فارسی", "lang:fa"),
		tgbotapi.NewInlineKeyboardButtonData("Français", "lang:fr"),
	))
	sent, err := bot.Send(m)
	if err != nil {
		t.Fatalf("Send keyboard: %v", err)
	}
	if sent.Text != "Langue / زبان" || len(sent.Entities) != 1 || sent.Entities[0].Type != "bold" ||
		sent.ReplyMarkup == nil || sent.ReplyToMessage == nil || sent.ReplyToMessage.MessageID != up.Message.MessageID {
		t.Fatalf("sent = %+v", sent)
	}

	// The user presses a button.
	if _, err := s.PressButton(reza, reza.ID, "Français"); err != nil {
		t.Fatal(err)
	}
	select {
	case up = <-ch:
	case <-time.After(wait):
		t.Fatal("no callback update")
	}
	cq := up.CallbackQuery
	if cq == nil || cq.Data != "lang:fr" || cq.From.ID != reza.ID || cq.Message == nil || cq.Message.MessageID != sent.MessageID {
		t.Fatalf("callback = %+v", cq)
	}
	if _, err := bot.Request(tgbotapi.NewCallback(cq.ID, "✓")); err != nil {
		t.Fatalf("answerCallbackQuery: %v", err)
	}
	edited, err := bot.Send(tgbotapi.NewEditMessageText(reza.ID, sent.MessageID, "Langue : Français"))
	if err != nil || edited.EditDate == 0 || edited.ReplyMarkup != nil {
		t.Fatalf("edit: %+v %v", edited, err)
	}
	if _, err := bot.Request(tgbotapi.NewChatAction(reza.ID, tgbotapi.ChatTyping)); err != nil {
		t.Fatalf("sendChatAction: %v", err)
	}

	// Relay to a volunteer forum topic.
	const group = int64(-1001700000001)
	s.AddGroup(group, "Bénévoles", true, telegramtest.ChatAdminRights{CanManageChat: true, CanManageTopics: true})
	resp, err := bot.MakeRequest("createForumTopic", tgbotapi.Params{"chat_id": "-1001700000001", "name": "Dossier 1"})
	if err != nil {
		t.Fatalf("createForumTopic: %v", err)
	}
	var topic struct {
		MessageThreadID int `json:"message_thread_id"`
	}
	_ = json.Unmarshal(resp.Result, &topic)
	cp := tgbotapi.NewCopyMessage(group, reza.ID, up.CallbackQuery.Message.MessageID)
	if _, err := bot.CopyMessage(cp); err != nil {
		t.Fatalf("copyMessage: %v", err)
	}
	p := tgbotapi.Params{"chat_id": "-1001700000001", "text": "Nouvelle demande"}
	p.AddNonZero("message_thread_id", topic.MessageThreadID)
	if _, err := bot.MakeRequest("sendMessage", p); err != nil {
		t.Fatalf("sendMessage in topic: %v", err)
	}
	msgs := s.Messages(group)
	if len(msgs) != 2 || msgs[0].CopiedFrom != reza.ID || msgs[1].ThreadID != 100 {
		t.Fatalf("group messages = %+v", msgs)
	}

	chat, err := bot.GetChat(tgbotapi.ChatInfoConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: group}})
	if err != nil || chat.Title != "Bénévoles" || chat.Type != "supergroup" {
		t.Fatalf("GetChat = %+v %v", chat, err)
	}
	member, err := bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: group, UserID: s.BotID()}})
	if err != nil || member.Status != "administrator" || !member.CanManageChat {
		t.Fatalf("GetChatMember = %+v %v", member, err)
	}

	if _, err := bot.Request(tgbotapi.NewDeleteMessage(reza.ID, sent.MessageID)); err != nil {
		t.Fatalf("deleteMessage: %v", err)
	}
	if m := s.Messages(reza.ID); len(m) != 1 || !m[0].Deleted {
		t.Fatalf("after delete: %+v", m)
	}

	// Commands per scope and language.
	set := tgbotapi.NewSetMyCommandsWithScopeAndLanguage(tgbotapi.NewBotCommandScopeAllPrivateChats(), "fa",
		tgbotapi.BotCommand{Command: "start", Description: "شروع"})
	if _, err := bot.Request(set); err != nil {
		t.Fatalf("setMyCommands: %v", err)
	}
	scope := tgbotapi.NewBotCommandScopeAllPrivateChats()
	cmds, err := bot.GetMyCommandsWithConfig(tgbotapi.GetMyCommandsConfig{Scope: &scope, LanguageCode: "fa"})
	if err != nil || len(cmds) != 1 || cmds[0].Description != "شروع" {
		t.Fatalf("getMyCommands = %+v %v", cmds, err)
	}
	s.RequireNoSpecErrors(t)
}

func TestGoTelegramBotAPIErrors(t *testing.T) {
	s := telegramtest.NewServer(t)
	bot := newBot(t, s)

	s.FailNext(1111, telegramtest.TooManyRequests(3), telegramtest.Migrated(-1009))
	_, err := bot.Send(tgbotapi.NewMessage(1111, "x"))
	var tgErr *tgbotapi.Error
	if !errors.As(err, &tgErr) || tgErr.Code != 429 || tgErr.RetryAfter != 3 {
		t.Fatalf("429: %#v", err)
	}
	_, err = bot.Send(tgbotapi.NewMessage(1111, "x"))
	if !errors.As(err, &tgErr) || tgErr.Code != 400 || tgErr.MigrateToChatID != -1009 {
		t.Fatalf("migrate: %#v", err)
	}
	s.Block(alice)
	_, err = bot.Send(tgbotapi.NewMessage(1111, "x"))
	if !errors.As(err, &tgErr) || tgErr.Code != 403 || tgErr.Message != "Forbidden: bot was blocked by the user" {
		t.Fatalf("blocked: %#v", err)
	}

	// Webhook management through the library.
	hook := newHookReceiver(t)
	wh, _ := tgbotapi.NewWebhook(hook.srv.URL + "/hook")
	if _, err := bot.Request(wh); err != nil {
		t.Fatalf("setWebhook: %v", err)
	}
	info, err := bot.GetWebhookInfo()
	if err != nil || info.URL != hook.srv.URL+"/hook" || !info.IsSet() {
		t.Fatalf("GetWebhookInfo = %+v %v", info, err)
	}
	_, err = bot.GetUpdates(tgbotapi.NewUpdate(0))
	if !errors.As(err, &tgErr) || tgErr.Code != 409 {
		t.Fatalf("getUpdates with webhook: %v", err)
	}
	if _, err := bot.Request(tgbotapi.DeleteWebhookConfig{}); err != nil {
		t.Fatalf("deleteWebhook: %v", err)
	}

	// Wrong token.
	if _, err := tgbotapi.NewBotAPIWithAPIEndpoint("1:wrong", s.APIURL()+"/bot%s/%s"); err == nil {
		t.Fatal("wrong token accepted")
	}
	s.RequireNoSpecErrors(t)
}

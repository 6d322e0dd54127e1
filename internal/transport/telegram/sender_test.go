package telegram_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

var resident = telegramtest.User{ID: 4242, LanguageCode: "fa"}

func TestSendRetryAfter(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddUser(resident)
	e.s.FailNext(resident.ID, telegramtest.TooManyRequests(7))

	res := goSend(context.Background(), e.c.Sender(), bot.Reply{ChatID: resident.ID, Text: "<b>hello</b>"})
	blockUntil(t, e.clk, 1) // the sender waits out retry_after
	if got := e.s.Messages(resident.ID); len(got) != 0 {
		t.Fatalf("delivered before retry_after: %+v", got)
	}
	e.clk.Advance(6 * time.Second)
	if got := e.s.Messages(resident.ID); len(got) != 0 {
		t.Fatalf("delivered 6s into a 7s retry_after: %+v", got)
	}
	e.clk.Advance(time.Second)
	r := wait(t, res)
	if r.err != nil {
		t.Fatalf("Send: %v", r.err)
	}
	msgs := e.s.Messages(resident.ID)
	if len(msgs) != 1 || msgs[0].MessageID != r.id || msgs[0].Text != "<b>hello</b>" {
		t.Errorf("Messages = %+v; want one message with id %d", msgs, r.id)
	}
	calls := e.s.Calls("sendMessage")
	if len(calls) != 2 {
		t.Fatalf("sendMessage calls = %d; want 2 (429, then the same request)", len(calls))
	}
	for k, v := range calls[0].Params {
		if calls[1].Params[k] != v {
			t.Errorf("resent request differs on %s: %q then %q", k, v, calls[1].Params[k])
		}
	}
}

func TestSendBlockedPrivate(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddUser(resident)
	e.s.Block(resident)
	_, err := e.c.Sender().Send(context.Background(), bot.Reply{ChatID: resident.ID, Text: "hi"})
	if !errors.Is(err, bot.ErrBlocked) {
		t.Fatalf("Send to a blocked resident: err = %v; want bot.ErrBlocked", err)
	}
	if n := len(e.s.Calls("sendMessage")); n != 1 {
		t.Errorf("sendMessage calls = %d; want 1 (no retry)", n)
	}
}

func TestSendForbiddenGroup(t *testing.T) {
	e := newEnv(t, nil)
	const group = -1001234
	e.s.AddGroup(group, "partners", false, telegramtest.ChatAdminRights{})
	e.s.FailNext(group, telegramtest.Fault{Code: 403, Description: "Forbidden: bot was kicked from the supergroup chat"})
	_, err := e.c.Sender().Send(context.Background(), bot.Reply{ChatID: group, Text: "case"})
	if err == nil || errors.Is(err, bot.ErrBlocked) {
		t.Fatalf("Send to a group that removed the bot: err = %v; want an error that is not bot.ErrBlocked", err)
	}
	if !errors.Is(err, bot.ErrRejected) {
		t.Errorf("err = %v; want bot.ErrRejected", err)
	}
	if !strings.Contains(e.logs.String(), `"level":"WARN","msg":"telegram_group_forbidden"`) {
		t.Errorf("no Warn telegram_group_forbidden in logs:\n%s", e.logs)
	}
}

func TestSendServerErrorRetried(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddUser(resident)
	e.s.FailNext(resident.ID, telegramtest.ServerError())
	res := goSend(context.Background(), e.c.Sender(), bot.Reply{ChatID: resident.ID, Text: "hi"})
	blockUntil(t, e.clk, 1) // backoff
	e.clk.Advance(time.Minute)
	if r := wait(t, res); r.err != nil {
		t.Fatalf("Send: %v", r.err)
	}
	if n := len(e.s.Messages(resident.ID)); n != 1 {
		t.Errorf("messages = %d; want 1", n)
	}
	if n := len(e.s.Calls("sendMessage")); n != 2 {
		t.Errorf("sendMessage calls = %d; want 2", n)
	}
}

func TestSendServerErrorGivesUp(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddUser(resident)
	e.s.FailNext(resident.ID, telegramtest.ServerError(), telegramtest.ServerError(), telegramtest.ServerError(),
		telegramtest.ServerError(), telegramtest.ServerError(), telegramtest.ServerError())
	res := goSend(context.Background(), e.c.Sender(), bot.Reply{ChatID: resident.ID, Text: "hi"})
	stop := keepAdvancing(e.clk, time.Minute)
	r := wait(t, res)
	stop()
	if r.err == nil || errors.Is(r.err, bot.ErrRejected) || errors.Is(r.err, bot.ErrBlocked) {
		t.Fatalf("Send after repeated 5xx: err = %v; want a transient error", r.err)
	}
	if n := len(e.s.Calls("sendMessage")); n != 4 {
		t.Errorf("sendMessage calls = %d; want 4 (bounded retries)", n)
	}
}

func TestSendMigrated(t *testing.T) {
	const oldID, newID = int64(-555), int64(-1005550001)
	var mu sync.Mutex
	var migrations [][2]int64
	e := newEnv(t, func(c *telegram.Config) {
		c.OnMigrate = func(_ context.Context, from, to int64) {
			mu.Lock()
			migrations = append(migrations, [2]int64{from, to})
			mu.Unlock()
		}
	})
	e.s.AddGroup(newID, "partners", false, telegramtest.ChatAdminRights{})
	e.s.FailNext(oldID, telegramtest.Migrated(newID))

	s := e.c.Sender()
	if _, err := s.Send(context.Background(), bot.Reply{ChatID: oldID, Text: "one"}); err != nil {
		t.Fatalf("Send to a migrated group: %v", err)
	}
	if _, err := s.Send(context.Background(), bot.Reply{ChatID: oldID, Text: "two"}); err != nil {
		t.Fatalf("second Send: %v", err)
	}
	if got := e.s.Messages(newID); len(got) != 2 || got[0].Text != "one" || got[1].Text != "two" {
		t.Errorf("Messages(new) = %+v; want one, two", got)
	}
	want := []string{"-555", "-1005550001", "-1005550001"}
	if got := chatIDs(e.s.Calls("sendMessage")); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sendMessage chat ids = %v; want %v", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(migrations) != 1 || migrations[0] != [2]int64{oldID, newID} {
		t.Errorf("OnMigrate calls = %v; want one (%d, %d)", migrations, oldID, newID)
	}
}

func TestSendShapes(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddUser(resident)
	const forum = -1009990001
	e.s.AddGroup(forum, "cases", true, telegramtest.ChatAdminRights{CanManageTopics: true, CanDeleteMessages: true})
	ctx := context.Background()
	s := e.c.Sender()

	id, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, Text: "Choose", Buttons: [][]bot.Button{
		{{Label: "English", Data: "lang:en"}, {Label: "فارسی", Data: "lang:fa"}},
		{{Label: "Help", URL: "https://example.org/help"}},
	}})
	if err != nil {
		t.Fatalf("Send with buttons: %v", err)
	}
	call := e.s.Calls("sendMessage")[0]
	if call.Params["parse_mode"] != "HTML" || !strings.Contains(call.Params["link_preview_options"], `"is_disabled":true`) {
		t.Errorf("sendMessage params = %v; want parse_mode HTML and previews disabled", call.Params)
	}
	m := e.s.Messages(resident.ID)[0]
	if m.MessageID != id || len(m.Buttons) != 2 || m.Buttons[0][1].Data != "lang:fa" || m.Buttons[1][0].URL != "https://example.org/help" {
		t.Errorf("message = %+v", m)
	}

	if got, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, EditMessageID: id, Text: "Chosen"}); err != nil || got != id {
		t.Fatalf("edit text: id %d, err %v; want %d", got, err, id)
	}
	if m := e.s.Messages(resident.ID)[0]; m.Text != "Chosen" || !m.Edited || m.Buttons != nil {
		t.Errorf("after editMessageText: %+v", m)
	}
	if _, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, EditMessageID: id, Buttons: [][]bot.Button{{{Label: "Undo", Data: "undo"}}}}); err != nil {
		t.Fatalf("edit markup: %v", err)
	}
	if m := e.s.Messages(resident.ID)[0]; m.Text != "Chosen" || len(m.Buttons) != 1 {
		t.Errorf("after editMessageReplyMarkup: %+v", m)
	}
	if n := len(e.s.Calls("editMessageReplyMarkup")); n != 1 {
		t.Errorf("editMessageReplyMarkup calls = %d; want 1", n)
	}

	thread, err := e.c.CreateForumTopic(ctx, forum, "Case 12")
	if err != nil {
		t.Fatalf("CreateForumTopic: %v", err)
	}
	if _, err := s.Send(ctx, bot.Reply{ChatID: forum, ThreadID: thread, Text: "new case"}); err != nil {
		t.Fatalf("Send in topic: %v", err)
	}
	copied, err := s.Send(ctx, bot.Reply{ChatID: forum, ThreadID: thread, CopyFromChatID: resident.ID, CopyMessageID: id})
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	fm := e.s.Messages(forum)
	if len(fm) != 2 || fm[0].ThreadID != thread || fm[1].ThreadID != thread || fm[1].CopiedFrom != resident.ID || fm[1].MessageID != copied {
		t.Errorf("forum messages = %+v; want 2 in thread %d, the second copied", fm, thread)
	}
	reply, err := s.Send(ctx, bot.Reply{ChatID: resident.ID, Text: "re", ReplyToMessageID: id})
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if err := e.c.DeleteMessage(ctx, resident.ID, reply); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if m := e.s.Messages(resident.ID); len(m) != 2 || m[1].ReplyTo != id || !m[1].Deleted {
		t.Errorf("reply = %+v; want a deleted reply to %d", m, id)
	}
	if err := e.c.DeleteForumTopic(ctx, forum, thread); err != nil {
		t.Fatalf("DeleteForumTopic: %v", err)
	}
	if tp := e.s.Topics(forum); len(tp) != 1 || tp[0].ThreadID != thread || !tp[0].Deleted || tp[0].Name != "Case 12" {
		t.Errorf("Topics = %+v", tp)
	}

	if _, err := s.Send(ctx, bot.Reply{ChatID: resident.ID}); !errors.Is(err, bot.ErrRejected) {
		t.Errorf("Send with no text: err = %v; want bot.ErrRejected", err)
	}
	_, err = s.Send(ctx, bot.Reply{ChatID: resident.ID, Text: strings.Repeat("a", 5000)})
	if !errors.Is(err, bot.ErrRejected) {
		t.Errorf("Send of a too long text: err = %v; want bot.ErrRejected", err)
	}
	e.s.TakeSpecErrors() // the too long text is a limit error on purpose
}

func TestFlush(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddUser(resident)
	e.s.FailNext(resident.ID, telegramtest.TooManyRequests(3))
	s := e.c.Sender()
	res := goSend(context.Background(), s, bot.Reply{ChatID: resident.ID, Text: "hi"})
	blockUntil(t, e.clk, 1)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Flush(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush(cancelled ctx) with a send in flight = %v; want context.Canceled", err)
	}
	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush(context.Background()) }()
	e.clk.Advance(3 * time.Second)
	if err := wait(t, flushed); err != nil {
		t.Errorf("Flush = %v", err)
	}
	// Flush waits for the send itself, not for the goroutine that
	// reports its result: the message is delivered when Flush returns.
	if n := len(e.s.Messages(resident.ID)); n != 1 {
		t.Errorf("Flush returned before the send in flight: %d messages delivered; want 1", n)
	}
	if r := wait(t, res); r.err != nil {
		t.Errorf("Send: %v", r.err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Errorf("Flush when idle = %v", err)
	}
}

func TestSendCancelled(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddUser(resident)
	e.s.FailNext(resident.ID, telegramtest.TooManyRequests(30))
	ctx, cancel := context.WithCancel(context.Background())
	res := goSend(ctx, e.c.Sender(), bot.Reply{ChatID: resident.ID, Text: "hi"})
	blockUntil(t, e.clk, 1)
	cancel()
	if r := wait(t, res); !errors.Is(r.err, context.Canceled) {
		t.Errorf("Send after cancel: err = %v; want context.Canceled", r.err)
	}
	if n := len(e.s.Messages(resident.ID)); n != 0 {
		t.Errorf("messages = %d; want 0", n)
	}
}

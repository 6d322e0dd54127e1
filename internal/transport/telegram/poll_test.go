package telegram_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// goPoll runs Poll in a goroutine; the channel yields its result.
func goPoll(ctx context.Context, c *telegram.Client, d telegram.Dispatcher) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- c.Poll(ctx, d) }()
	return ch
}

func TestPollOffsetIsLowWatermark(t *testing.T) {
	e := newEnv(t, nil)
	ids := []int64{
		e.s.SendText(resident, "/start"),
		e.s.SendText(resident, "one"),
		e.s.SendText(resident, "two"),
	}
	rec := newRecorder(false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := goPoll(ctx, e.c, rec)

	got := rec.waitN(t, 3)
	for i, u := range got {
		if u.ID != ids[i] {
			t.Fatalf("update %d submitted = %d; want %d (in order)", i, u.ID, ids[i])
		}
	}
	if got[0].Kind != bot.KindCommand || got[0].Command != "start" || got[1].Text != "one" {
		t.Errorf("decoded = %+v", got[:2])
	}
	// Telegram re-delivers the three unconfirmed updates to the next poll.
	n := len(e.s.WaitCalls(t, "getUpdates", 2, guard))
	for _, id := range ids {
		if e.s.Delivered(id) {
			t.Fatalf("update %d confirmed before done", id)
		}
	}

	rec.done(1) // the second is done, the first is not: nothing confirmed
	n = len(e.s.WaitCalls(t, "getUpdates", n+1, guard))
	if e.s.Delivered(ids[0]) || e.s.Delivered(ids[1]) {
		t.Fatal("update confirmed while an earlier one is still being handled")
	}

	rec.done(0)
	e.s.WaitDelivered(t, ids[1], guard)
	if e.s.Delivered(ids[2]) {
		t.Fatal("third update confirmed before done")
	}
	// While the third is handled, Poll re-polls about every second (clock)
	// and so sees a later update; re-deliveries are never submitted again.
	stop := keepAdvancing(e.clk, time.Second)
	e.s.WaitCalls(t, "getUpdates", n+3, guard)
	fourth := e.s.SendText(resident, "three")
	got = rec.waitN(t, 4)
	stop()
	if got[3].ID != fourth {
		t.Fatalf("4th submitted = %d; want %d", got[3].ID, fourth)
	}
	rec.done(2)
	rec.done(3)
	e.s.WaitDelivered(t, fourth, guard)
	if n := rec.count(); n != 4 {
		t.Errorf("submitted %d updates; want 4 (no double submit)", n)
	}
	cancel()
	if err := wait(t, res); err != nil {
		t.Errorf("Poll after cancel = %v; want nil", err)
	}
	if n := len(e.s.Calls("deleteWebhook")); n != 1 {
		t.Errorf("deleteWebhook calls = %d; want 1", n)
	}
}

func TestPollAnswersCallbacks(t *testing.T) {
	e := newEnv(t, nil)
	e.s.AddUser(resident)
	if _, err := e.c.Sender().Send(context.Background(), bot.Reply{ChatID: resident.ID, Text: "Language?",
		Buttons: [][]bot.Button{{{Label: "فارسی", Data: "lang:fa"}}}}); err != nil {
		t.Fatal(err)
	}
	id, err := e.s.PressButton(resident, resident.ID, "فارسی")
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := goPoll(ctx, e.c, rec)
	u := rec.waitN(t, 1)[0]
	if u.ID != id || u.Kind != bot.KindCallback || u.Data != "lang:fa" || u.ChatID != resident.ID || u.LanguageCode != "fa" {
		t.Fatalf("callback update = %+v", u)
	}
	if n := len(e.s.Calls("answerCallbackQuery")); n != 0 {
		t.Fatalf("callback answered before done")
	}
	rec.done(0)
	rec.done(0) // a second call is a no-op
	calls := e.s.WaitCalls(t, "answerCallbackQuery", 1, guard)
	if calls[0].Params["callback_query_id"] != u.CallbackID {
		t.Errorf("answerCallbackQuery params = %v; want id %s", calls[0].Params, u.CallbackID)
	}
	e.s.WaitDelivered(t, id, guard)
	cancel()
	wait(t, res)
	if n := len(e.s.Calls("answerCallbackQuery")); n != 1 {
		t.Errorf("answerCallbackQuery calls = %d; want 1", n)
	}
}

func TestPollConflict(t *testing.T) {
	e := newEnv(t, nil)
	e.s.FailMethod("getUpdates", telegramtest.Conflict())
	err := wait(t, goPoll(context.Background(), e.c, newRecorder(true)))
	if !errors.Is(err, telegram.ErrConflict) {
		t.Fatalf("Poll = %v; want ErrConflict", err)
	}
	if n := len(e.s.Calls("getUpdates")); n != 1 {
		t.Errorf("getUpdates calls = %d; want 1 (no spinning)", n)
	}
}

func TestPollUnauthorized(t *testing.T) {
	e := newEnv(t, nil)
	e.s.FailMethod("deleteWebhook", telegramtest.Fault{Code: 401, Description: "Unauthorized"})
	if err := wait(t, goPoll(context.Background(), e.c, newRecorder(true))); !errors.Is(err, telegram.ErrUnauthorized) {
		t.Fatalf("Poll = %v; want ErrUnauthorized", err)
	}
}

func TestPollCancelDuringLongPoll(t *testing.T) {
	e := newEnv(t, nil)
	id := e.s.SendText(resident, "hello")
	ctx, cancel := context.WithCancel(context.Background())
	res := goPoll(ctx, e.c, newRecorder(true))
	// The update is confirmed by the next getUpdates, which then waits up
	// to PollTimeout (50s) for more.
	e.s.WaitDelivered(t, id, guard)
	cancel()
	if err := wait(t, res); err != nil {
		t.Fatalf("Poll after cancel = %v; want nil", err)
	}
}

func TestPollRetryAfter(t *testing.T) {
	e := newEnv(t, nil)
	e.s.FailMethod("getUpdates", telegramtest.TooManyRequests(4))
	id := e.s.SendText(resident, "hello")
	rec := newRecorder(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := goPoll(ctx, e.c, rec)
	e.s.WaitCalls(t, "getUpdates", 1, guard)
	blockUntil(t, e.clk, 1)
	if n := rec.count(); n != 0 {
		t.Fatalf("submitted during retry_after")
	}
	e.clk.Advance(4 * time.Second)
	if u := rec.waitN(t, 1)[0]; u.ID != id {
		t.Errorf("submitted %d; want %d", u.ID, id)
	}
	cancel()
	wait(t, res)
}

func TestPollServerErrorBacksOff(t *testing.T) {
	e := newEnv(t, nil)
	e.s.FailMethod("getUpdates", telegramtest.ServerError(), telegramtest.ServerError())
	id := e.s.SendText(resident, "hello")
	rec := newRecorder(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := goPoll(ctx, e.c, rec)
	for i := 1; i <= 2; i++ {
		e.s.WaitCalls(t, "getUpdates", i, guard)
		blockUntil(t, e.clk, 1)
		if n := len(e.s.Calls("getUpdates")); n != i {
			t.Fatalf("getUpdates calls = %d during backoff; want %d", n, i)
		}
		e.clk.Advance(time.Minute)
	}
	if u := rec.waitN(t, 1)[0]; u.ID != id {
		t.Errorf("submitted %d; want %d", u.ID, id)
	}
	cancel()
	wait(t, res)
}

// failingDispatcher refuses every update.
type failingDispatcher struct{}

func (failingDispatcher) Submit(context.Context, bot.Update, func()) error {
	return errors.New("core stopped")
}

func TestPollSubmitError(t *testing.T) {
	e := newEnv(t, nil)
	id := e.s.SendText(resident, "hello")
	err := wait(t, goPoll(context.Background(), e.c, failingDispatcher{}))
	if err == nil {
		t.Fatal("Poll = nil; want the Submit error")
	}
	if e.s.Delivered(id) {
		t.Error("an update the core refused was confirmed")
	}
}

// TestPollPastASlowUpdate: 100 updates of one chat fill Telegram's batch;
// all are done but the first, which is slow. Another chat's update waits
// beyond the batch: Poll confirms the slow one early after a second (on
// the clock), then fetches it. When the slow one finishes within that
// second, nothing is confirmed early.
func TestPollPastASlowUpdate(t *testing.T) {
	for _, slowFinishes := range []bool{false, true} {
		t.Run(map[bool]string{false: "stays slow", true: "finishes in time"}[slowFinishes], func(t *testing.T) {
			e := newEnv(t, nil)
			var ids []int64
			for range 100 {
				ids = append(ids, e.s.SendText(resident, "x"))
			}
			other := e.s.SendText(telegramtest.User{ID: 4343, LanguageCode: "en"}, "hi")
			rec := newRecorder(false)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res := goPoll(ctx, e.c, rec)
			rec.waitN(t, 100)
			for i := 1; i < 100; i++ {
				rec.done(i)
			}
			// Poll waits on the clock, the slow update still in flight:
			// the other chat's update is not fetched yet.
			if !e.clk.BlockUntil(ctx, 1) {
				t.Fatal("Poll does not wait")
			}
			if n := rec.count(); n != 100 || e.s.Delivered(ids[0]) {
				t.Fatalf("%d submitted, slow one confirmed: %v; want 100, false", n, e.s.Delivered(ids[0]))
			}
			if slowFinishes {
				rec.done(0)
			} else {
				e.clk.Advance(time.Second)
			}
			if got := rec.waitN(t, 101); got[100].ID != other {
				t.Fatalf("101st submitted = %d; want the other chat's %d", got[100].ID, other)
			}
			e.s.WaitDelivered(t, ids[0], guard)
			early := strings.Contains(e.logs.String(), `"msg":"telegram_update_confirmed_early"`)
			if early == slowFinishes {
				t.Errorf("confirmed early: %v; want %v\n%s", early, !slowFinishes, e.logs.String())
			}
			rec.done(100)
			if !slowFinishes {
				rec.done(0) // finishes at last: nothing changes
			}
			e.s.WaitDelivered(t, other, guard)
			cancel()
			if err := wait(t, res); err != nil {
				t.Errorf("Poll after cancel = %v; want nil", err)
			}
		})
	}
}

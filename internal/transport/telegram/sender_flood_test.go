package telegram_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// TestSendWithinFloodLimits: with the default limits, a burst of bulk sends
// to many private chats and to one group draws no 429 from a fake Bot API
// enforcing Telegram's flood limits, both judged on the same fake clock.
func TestSendWithinFloodLimits(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := telegramtest.NewServer(t, telegramtest.WithFloodLimits(0), telegramtest.WithNow(clk.Now))
	c, err := telegram.New(context.Background(), telegram.Config{
		Token: s.Token(), APIURL: s.APIURL(), Clock: clk,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	const private, group, groupMsgs = 100, int64(-100777), 25
	var results []<-chan sendResult
	for i := range private {
		results = append(results, goSend(context.Background(), c.Sender(), bot.Reply{ChatID: int64(1000 + i), Text: "rappel", Lane: bot.LaneBulk}))
	}
	for range groupMsgs {
		results = append(results, goSend(context.Background(), c.Sender(), bot.Reply{ChatID: group, Text: "relais", Lane: bot.LaneBulk}))
	}
	stop := keepAdvancing(clk, 50*time.Millisecond)
	defer stop()
	for _, ch := range results {
		if r := wait(t, ch); r.err != nil {
			t.Fatalf("Send: %v", r.err)
		}
	}
	stop()
	if n := s.RateLimited(); n != 0 {
		t.Errorf("the fake answered %d sends with 429; want 0", n)
	}
	if got := len(s.Messages(group)); got != groupMsgs {
		t.Errorf("group got %d messages; want %d", got, groupMsgs)
	}
	s.RequireNoSpecErrors(t)
}

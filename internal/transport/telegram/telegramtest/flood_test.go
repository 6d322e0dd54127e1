package telegramtest_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// floodServer starts a server enforcing the flood limits at perSecond,
// judged by a fake clock the test moves.
func floodServer(t testing.TB, perSecond int) (*telegramtest.Server, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := telegramtest.NewServer(t, telegramtest.WithFloodLimits(perSecond), telegramtest.WithNow(clk.Now))
	return s, clk
}

func sendTo(t testing.TB, s *telegramtest.Server, chat int64) result {
	t.Helper()
	return postForm(t, s, "sendMessage", url.Values{"chat_id": {itoa(chat)}, "text": {"reminder"}})
}

// mustFlood fails unless r is the 429 of the TooManyRequests fault with
// retry_after = retryAfter.
func mustFlood(t testing.TB, r result, retryAfter int) {
	t.Helper()
	want := telegramtest.TooManyRequests(retryAfter)
	env := mustFail(t, r, want.Code, want.Description)
	if env.Description != want.Description {
		t.Fatalf("description %q; want %q", env.Description, want.Description)
	}
	if env.Parameters == nil || env.Parameters.RetryAfter != retryAfter {
		t.Fatalf("parameters = %+v; want retry_after %d", env.Parameters, retryAfter)
	}
}

func TestFloodLimitsOffByDefault(t *testing.T) {
	s := telegramtest.NewServer(t)
	for i := range 40 {
		mustOK(t, sendTo(t, s, 1111), nil)
		mustOK(t, sendTo(t, s, -4242), nil)
		mustOK(t, sendTo(t, s, int64(5000+i)), nil)
	}
	if n := s.RateLimited(); n != 0 {
		t.Errorf("RateLimited() = %d without WithFloodLimits; want 0", n)
	}
	s.RequireNoSpecErrors(t)
}

func TestFloodGlobalLimit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		perSecond int
		want      int
	}{
		{"default", 0, telegramtest.DefaultFloodPerSecond},
		{"configured", 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := floodServer(t, tc.perSecond)
			for i := range tc.want { // distinct chats: only the bot-wide limit applies
				mustOK(t, sendTo(t, s, int64(1000+i)), nil)
			}
			mustFlood(t, sendTo(t, s, 9999), 1)
			// Any message counts, an edit too; a chat action does not.
			mustFlood(t, postForm(t, s, "copyMessage", url.Values{"chat_id": {"9999"}, "from_chat_id": {"1000"}, "message_id": {"1"}}), 1)
			mustFlood(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {"1000"}, "message_id": {"1"}, "text": {"edited"}}), 1)
			mustOK(t, postForm(t, s, "sendChatAction", url.Values{"chat_id": {"9999"}, "action": {"typing"}}), nil)

			clk.Advance(time.Second - time.Millisecond)
			mustFlood(t, sendTo(t, s, 9999), 1)
			clk.Advance(time.Millisecond) // the first second has passed
			for i := range tc.want {
				mustOK(t, sendTo(t, s, int64(2000+i)), nil)
			}
			mustFlood(t, sendTo(t, s, 9999), 1)

			if n := s.RateLimited(); n != 5 {
				t.Errorf("RateLimited() = %d; want 5", n)
			}
			if got := s.Messages(9999); len(got) != 0 {
				t.Errorf("refused messages delivered: %+v", got)
			}
			var statuses []int
			for _, c := range s.Calls("sendMessage") {
				statuses = append(statuses, c.Status)
			}
			if n := len(statuses); n != 2*tc.want+3 || statuses[tc.want] != 429 || statuses[n-1] != 429 {
				t.Errorf("sendMessage statuses = %v; want %d with 429 after each %d", statuses, 2*tc.want+3, tc.want)
			}
			s.RequireNoSpecErrors(t)
		})
	}
}

func TestFloodPrivateChatLimit(t *testing.T) {
	s, clk := floodServer(t, 0)
	mustOK(t, sendTo(t, s, 1111), nil)
	clk.Advance(400 * time.Millisecond)
	mustFlood(t, sendTo(t, s, 1111), 1)
	mustFlood(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {"1111"}, "message_id": {"1"}, "text": {"edited"}}), 1)
	mustOK(t, sendTo(t, s, 2222), nil) // another chat is not held up
	clk.Advance(600 * time.Millisecond)
	mustOK(t, postForm(t, s, "editMessageText", url.Values{"chat_id": {"1111"}, "message_id": {"1"}, "text": {"edited"}}), nil)
	mustFlood(t, sendTo(t, s, 1111), 1)
	clk.Advance(time.Second)
	mustOK(t, sendTo(t, s, 1111), nil)

	if n := s.RateLimited(); n != 3 {
		t.Errorf("RateLimited() = %d; want 3", n)
	}
	if got := s.Messages(1111); len(got) != 2 || got[0].Text != "edited" {
		t.Errorf("Messages(1111) = %+v; want the edited message and one more", got)
	}
	s.RequireNoSpecErrors(t)
}

func TestFloodGroupLimit(t *testing.T) {
	const group = -4242
	s, clk := floodServer(t, 0)
	// A group takes 20 messages back to back, then none until a minute
	// after the first.
	for range telegramtest.FloodGroupPerMinute {
		mustOK(t, sendTo(t, s, group), nil)
	}
	mustOK(t, sendTo(t, s, -5353), nil) // another group is not held up
	clk.Advance(15 * time.Second)
	mustFlood(t, sendTo(t, s, group), 45)
	clk.Advance(44*time.Second + 500*time.Millisecond)
	mustFlood(t, sendTo(t, s, group), 1) // 500ms left: rounded up
	clk.Advance(500 * time.Millisecond)  // a minute after the first 20
	for range telegramtest.FloodGroupPerMinute {
		mustOK(t, sendTo(t, s, group), nil)
	}
	mustFlood(t, sendTo(t, s, group), 60)

	if n := s.RateLimited(); n != 3 {
		t.Errorf("RateLimited() = %d; want 3", n)
	}
	if got := len(s.Messages(group)); got != 2*telegramtest.FloodGroupPerMinute {
		t.Errorf("group got %d messages; want %d", got, 2*telegramtest.FloodGroupPerMinute)
	}
	s.RequireNoSpecErrors(t)
}

// TestFloodWithinLimits paces messages exactly at every limit, windows
// touching end to end, and expects every one accepted.
func TestFloodWithinLimits(t *testing.T) {
	const perSecond = 30
	s, clk := floodServer(t, perSecond)
	// One message every step (rounded up, so that perSecond steps make at
	// least a second) for three seconds, each private chat once a second.
	step := (time.Second + perSecond - 1) / perSecond
	start := clk.Now()
	sent := 0
	for i := range 3 * perSecond {
		clk.Set(start.Add(time.Duration(i) * step))
		mustOK(t, sendTo(t, s, int64(7000+i%perSecond)), nil)
		sent++
	}
	// A burst of a whole second's worth, once the last second has passed,
	// each message to a new chat.
	clk.Set(start.Add(3*perSecond*step - step + time.Second))
	for i := range perSecond {
		mustOK(t, sendTo(t, s, int64(8000+i)), nil)
		sent++
	}
	// The group, 3s apart for a minute and more: 20 messages a minute.
	for i := range 25 {
		clk.Set(start.Add(10*time.Second + time.Duration(i)*3*time.Second))
		mustOK(t, sendTo(t, s, -4242), nil)
		sent++
	}
	if n := s.RateLimited(); n != 0 {
		t.Errorf("RateLimited() = %d for %d messages within the limits; want 0", n, sent)
	}
	if got := len(s.Calls("sendMessage")); got != sent {
		t.Errorf("sendMessage calls = %d; want %d", got, sent)
	}
	s.RequireNoSpecErrors(t)
}

func TestFloodFailedCallsDoNotCount(t *testing.T) {
	s, _ := floodServer(t, 2)
	s.FailNext(1111, telegramtest.ServerError())
	mustFail(t, sendTo(t, s, 1111), 502, "Bad Gateway")
	mustFail(t, postForm(t, s, "sendMessage", url.Values{"chat_id": {"1111"}, "text": {""}}), 400, "Bad Request")
	s.TakeSpecErrors() // the empty text is the point
	mustOK(t, sendTo(t, s, 1111), nil)
	mustOK(t, sendTo(t, s, 2222), nil)
	mustFlood(t, sendTo(t, s, 3333), 1)
	if n := s.RateLimited(); n != 1 {
		t.Errorf("RateLimited() = %d; want 1", n)
	}
}

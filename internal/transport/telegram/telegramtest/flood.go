package telegramtest

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultFloodPerSecond is the bot-wide number of messages per second the
// server accepts under WithFloodLimits when no other rate is given; it is
// Telegram's free broadcast limit.
const DefaultFloodPerSecond = 30

// Telegram's per-chat flood limits, enforced under WithFloodLimits.
const (
	// FloodPrivateInterval is the least time between two messages to one
	// private chat (positive chat id).
	FloodPrivateInterval = time.Second
	// FloodGroupPerMinute is how many messages one group (negative chat id)
	// accepts in any minute.
	FloodGroupPerMinute = 20
)

// WithFloodLimits makes the server enforce Telegram's flood limits on
// messages, as the real service does. Counting only the messages already
// accepted, a message is refused if it would be
//
//   - the bot's (perSecond+1)-th message within one second (perSecond <= 0
//     means DefaultFloodPerSecond);
//   - less than FloodPrivateInterval after the last message to the same
//     private chat (positive chat id);
//   - the (FloodGroupPerMinute+1)-th message to one group (negative chat id)
//     within one minute. A group is judged by this limit only.
//
// The windows slide: "within one second" is within any interval (t-1s, t],
// and a minute likewise, so a sender that passes is within the limit however
// Telegram cuts its windows (fixed windows, or a token bucket holding at
// most perSecond messages). Telegram tolerates short bursts in one chat; the
// server does not.
//
// A refused message gets Telegram's 429 answer, exactly as the
// TooManyRequests fault produces it, with retry_after the whole seconds
// until the message would be accepted (at least 1). It is recorded in Calls
// with status 429, is not delivered, and is counted by RateLimited; it does
// not count against the limits. Time is judged by the clock set with WithNow.
//
// Messages are the calls that create or change a message in a chat: every
// send* method but sendChatAction (sendMessage; sendPhoto and the others
// once the fake implements them), copyMessage(s), forwardMessage(s), and the
// editMessage* methods. Edits count because Telegram applies flood
// control to them too (a message edited in a fast loop draws 429s), and
// because the telegram Sender puts them through the same limiter, which the
// server then checks. An edit of an inline message (no chat_id) counts
// against the bot-wide limit only. Other calls (getUpdates, sendChatAction,
// deleteMessage, answerCallbackQuery, ...) are never limited. A call that
// fails for another reason (an injected fault, a blocked user, a bad
// request) is answered with that error and does not count.
//
// Without this option nothing is rate limited.
func WithFloodLimits(perSecond int) Option {
	return func(s *Server) {
		if perSecond <= 0 {
			perSecond = DefaultFloodPerSecond
		}
		if s.flood == nil {
			s.flood = &flood{chats: map[int64]time.Time{}, groups: map[int64][]time.Time{}}
		}
		s.flood.perSecond = perSecond
	}
}

// WithNow sets the clock by which the flood limits of WithFloodLimits are
// judged (default time.Now), so that a test can place each call in time
// without sleeping. now must be safe for concurrent use. It affects nothing
// else: Call.At and message dates stay in real time.
func WithNow(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// RateLimited returns how many calls the server refused with 429 because
// they broke a flood limit of WithFloodLimits. Injected TooManyRequests
// faults are not counted.
func (s *Server) RateLimited() int {
	if s.flood == nil {
		return 0
	}
	s.flood.mu.Lock()
	defer s.flood.mu.Unlock()
	return s.flood.limited
}

// flood is the state of WithFloodLimits.
type flood struct {
	perSecond int

	// mu is held from the check of a message to its recording, across the
	// method's handler, so that concurrent messages are judged one at a
	// time and none slips in between. It is taken before Server.mu.
	mu      sync.Mutex
	global  []time.Time           // accepted messages of the last second, oldest first
	chats   map[int64]time.Time   // last accepted message per private chat
	groups  map[int64][]time.Time // accepted messages of the last minute per group
	limited int                   // 429s answered
}

// floodCounted reports whether method sends or edits a message.
func floodCounted(method string) bool {
	switch method {
	case "sendChatAction":
		return false
	case "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
		"editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup":
		return true
	}
	return strings.HasPrefix(method, "send")
}

// floodGuard runs call, the handler of a message, within the flood limits:
// it answers 429 without calling it if the message breaks one, and records
// the message if call succeeds.
func (s *Server) floodGuard(rq *request, call func() (any, *apiError)) (any, *apiError) {
	f := s.flood
	if f == nil || !floodCounted(rq.method) {
		return call()
	}
	chat, err := strconv.ParseInt(strings.TrimSpace(rq.p["chat_id"]), 10, 64)
	if err != nil {
		chat = 0 // inline message or @username: bot-wide limit only
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := s.now()
	if wait := f.waitLocked(chat, now); wait > 0 {
		f.limited++
		ft := TooManyRequests(int((wait + time.Second - 1) / time.Second))
		return nil, &apiError{code: ft.Code, desc: ft.Description, retryAfter: ft.RetryAfter}
	}
	res, aerr := call()
	if aerr == nil {
		f.recordLocked(chat, now)
	}
	return res, aerr
}

// waitLocked forgets what has left the windows at now and returns how long
// a message to chat (0: none) must wait; 0 means it may go.
func (f *flood) waitLocked(chat int64, now time.Time) time.Duration {
	var wait time.Duration
	later := func(until time.Time) {
		if d := until.Sub(now); d > wait {
			wait = d
		}
	}
	f.global = since(f.global, now.Add(-time.Second))
	if n := len(f.global); n >= f.perSecond {
		later(f.global[n-f.perSecond].Add(time.Second))
	}
	switch {
	case chat > 0:
		if last, ok := f.chats[chat]; ok && last.After(now.Add(-FloodPrivateInterval)) {
			later(last.Add(FloodPrivateInterval))
		}
	case chat < 0:
		log := since(f.groups[chat], now.Add(-time.Minute))
		f.groups[chat] = log
		if n := len(log); n >= FloodGroupPerMinute {
			later(log[n-FloodGroupPerMinute].Add(time.Minute))
		}
	}
	return wait
}

// recordLocked counts an accepted message to chat at now.
func (f *flood) recordLocked(chat int64, now time.Time) {
	f.global = append(f.global, now)
	switch {
	case chat > 0:
		f.chats[chat] = now
	case chat < 0:
		f.groups[chat] = append(f.groups[chat], now)
	}
	if len(f.chats) > 4096 {
		for id, last := range f.chats {
			if !last.After(now.Add(-FloodPrivateInterval)) {
				delete(f.chats, id)
			}
		}
	}
	if len(f.groups) > 4096 {
		for id, log := range f.groups {
			if len(since(log, now.Add(-time.Minute))) == 0 {
				delete(f.groups, id)
			}
		}
	}
}

// since drops the times at or before cut from the front of log, which is in
// order.
func since(log []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(log) && !log[i].After(cut) {
		i++
	}
	if i == 0 {
		return log
	}
	return append(log[:0], log[i:]...)
}

package telegramtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Fault is an injected failure. The server first waits Delay (if any), then
// answers with the error envelope {"ok":false,"error_code":Code,
// "description":Description,"parameters":{...}} and HTTP status Code. A
// Fault with Code 0 only delays, and the call then succeeds normally.
type Fault struct {
	// Code is the error_code and HTTP status; 0 means "no error".
	Code int
	// Description is the error description; when empty a default for Code
	// is used.
	Description string
	// RetryAfter, when non-zero, is sent as parameters.retry_after.
	RetryAfter int
	// MigrateTo, when non-zero, is sent as parameters.migrate_to_chat_id.
	MigrateTo int64
	// Delay is waited before answering (cut short if the request is
	// cancelled or the server closes).
	Delay time.Duration
	// Until, when not nil, holds the answer until it is closed (cut short
	// like Delay): a call that hangs for as long as a test needs, with no
	// timer.
	Until <-chan struct{}
}

// TooManyRequests is Telegram's flood-control answer: 429 "Too Many
// Requests: retry after N" with parameters.retry_after = N.
func TooManyRequests(retryAfter int) Fault {
	return Fault{
		Code:        http.StatusTooManyRequests,
		Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		RetryAfter:  retryAfter,
	}
}

// Blocked is the answer for a user who blocked the bot: 403 "Forbidden: bot
// was blocked by the user".
func Blocked() Fault {
	return Fault{Code: http.StatusForbidden, Description: "Forbidden: bot was blocked by the user"}
}

// ServerError is a transient server-side failure: 502 "Bad Gateway".
func ServerError() Fault {
	return Fault{Code: http.StatusBadGateway, Description: "Bad Gateway"}
}

// Migrated is the answer for a group that became a supergroup: 400 "Bad
// Request: group chat was upgraded to a supergroup chat" with
// parameters.migrate_to_chat_id = to.
func Migrated(to int64) Fault {
	return Fault{
		Code:        http.StatusBadRequest,
		Description: "Bad Request: group chat was upgraded to a supergroup chat",
		MigrateTo:   to,
	}
}

// Conflict is the answer to a getUpdates call terminated by another poller:
// 409 "Conflict: terminated by other getUpdates request; make sure that only
// one bot instance is running".
func Conflict() Fault {
	return Fault{Code: http.StatusConflict, Description: conflictPoll}
}

const (
	conflictPoll    = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	conflictWebhook = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	conflictSetHook = "Conflict: terminated by setWebhook request"
)

// FailNext queues faults for chatID. Each of the next sending calls to that
// chat (sendMessage, editMessageText, editMessageReplyMarkup, copyMessage,
// sendChatAction, deleteMessage) consumes one, in order.
func (s *Server) FailNext(chatID int64, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chatLocked(chatID)
	cs.faults = append(cs.faults, faults...)
}

// FailMethod queues faults for a method (any case): each of its next calls,
// whatever the chat, consumes one, in order. Method faults are consumed
// before chat faults.
func (s *Server) FailMethod(method string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	canon, _, _ := s.canonical(method)
	s.methodFaults[canon] = append(s.methodFaults[canon], faults...)
}

// PendingFaults returns how many injected faults (chat and method) have not
// been consumed yet.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, cs := range s.chats {
		n += len(cs.faults)
	}
	for _, fs := range s.methodFaults {
		n += len(fs)
	}
	return n
}

func (s *Server) popMethodFault(method string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.methodFaults[method]
	if len(fs) == 0 {
		return Fault{}, false
	}
	s.methodFaults[method] = fs[1:]
	return fs[0], true
}

func (s *Server) popChatFault(chatID int64) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil || len(cs.faults) == 0 {
		return Fault{}, false
	}
	f := cs.faults[0]
	cs.faults = cs.faults[1:]
	return f, true
}

// applyFault waits the fault's delay and hold, and returns its error, or nil
// when the call should go on.
func (s *Server) applyFault(ctx context.Context, f Fault) *apiError {
	if f.Until != nil {
		select {
		case <-f.Until:
		case <-ctx.Done():
		case <-s.done:
		}
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		case <-s.done:
			t.Stop()
		}
	}
	if f.Code == 0 {
		return nil
	}
	desc := f.Description
	if desc == "" {
		desc = defaultDescription(f)
	}
	return &apiError{code: f.Code, desc: desc, retryAfter: f.RetryAfter, migrateTo: f.MigrateTo}
}

func defaultDescription(f Fault) string {
	switch f.Code {
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 409:
		return "Conflict"
	case 429:
		return fmt.Sprintf("Too Many Requests: retry after %d", f.RetryAfter)
	}
	if t := http.StatusText(f.Code); t != "" {
		return t
	}
	return strings.TrimSpace(fmt.Sprintf("Error %d", f.Code))
}

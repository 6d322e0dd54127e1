// Package telegramtest is a fake Telegram Bot API server for tests.
//
// NewServer starts it on 127.0.0.1 with net/http/httptest. A bot under test
// talks to it exactly as to api.telegram.org ({APIURL}/bot{token}/{method});
// the test acts as Telegram users (SendText, PressButton, Block, ...),
// observes what the bot did (Messages, Calls, Wait*), and injects faults
// (FailNext, FailMethod). Requests are checked against the Bot API spec
// (shared/telegram/botapi-spec.json, found automatically) and against the
// limits Telegram enforces; problems are collected as spec errors and fail
// the test at cleanup. WithFloodLimits turns on Telegram's flood limits
// (messages per second, per chat, per group), answered with 429.
//
// Updates follow Telegram's rules: update_id counts up from 1000, a
// getUpdates offset confirms (drops) the updates below it, and an update
// whose type the current allowed_updates excludes is dropped when injected,
// as Telegram never creates it. Chats the bot sends to need not be known in
// advance; getChat and getChatMember only know chats seen from users, from
// injected updates or from AddGroup/AddUser/SetMember. In a group, users
// are "member"s until SetMember is used there; from then on users it did
// not set (nor saw writing there) are "left".
//
// The server never logs; it keeps message texts in memory only.
package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the bot token the server accepts unless WithToken is used.
const DefaultToken = "123456:TEST-token_abcdefghijklmnopqrstuvw"

// DefaultBotUsername is the bot's username unless WithBotUsername is used.
const DefaultBotUsername = "passerelle_test_bot"

// BotID is the user id of the fake bot (getMe).
const BotID int64 = 999000999

// DefaultWebhookRetry is the pause between two failed webhook deliveries
// unless WithWebhookRetry is used.
const DefaultWebhookRetry = 50 * time.Millisecond

// Option configures a Server.
type Option func(*Server)

// WithToken sets the token the server accepts (default DefaultToken).
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithBotUsername sets the bot's username returned by getMe (default
// DefaultBotUsername).
func WithBotUsername(name string) Option { return func(s *Server) { s.botUsername = name } }

// WithSpec validates requests against the botapi-spec.json at path. The test
// fails if the file cannot be read. Without this option the server looks for
// shared/telegram/botapi-spec.json in the working directory and its parents,
// and turns validation off if none is found.
func WithSpec(path string) Option {
	return func(s *Server) { s.specPath = path; s.specOff = false }
}

// WithoutSpec turns spec validation off. The hand-coded limits (text length,
// callback_data, commands, ...) are still enforced.
func WithoutSpec() Option { return func(s *Server) { s.specOff = true; s.specPath = "" } }

// WithWebhookRetry sets the pause after a failed webhook delivery before the
// same update is posted again (default DefaultWebhookRetry).
func WithWebhookRetry(d time.Duration) Option { return func(s *Server) { s.webhookRetry = d } }

// Server is a fake Telegram Bot API server. All methods are safe for
// concurrent use.
type Server struct {
	tb           testing.TB
	srv          *httptest.Server
	token        string
	botUsername  string
	specPath     string
	specOff      bool
	spec         *apiSpec
	webhookRetry time.Duration
	done         chan struct{}
	wg           sync.WaitGroup
	whClient     *http.Client
	whTransport  *http.Transport
	now          func() time.Time // judges the flood limits
	flood        *flood           // nil: no flood limits

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every change
	calls        []Call
	specErrors   []string
	reported     int // spec errors already reported with tb.Errorf
	nextUpdateID int64
	queue        []queuedUpdate
	delivered    map[int64]bool
	dropped      map[int64]string // update id -> why it was dropped
	allowed      []string         // allowed_updates as last set; nil = never set
	poll         *poller
	webhook      *webhookState
	whLastErr    int64
	whLastMsg    string
	chats        map[int64]*chatState
	users        map[int64]User
	callbacks    map[string]bool // callback query id -> answered
	answers      map[string]CallbackAnswer
	queryOf      map[int64]string // update id -> its callback query id
	nextCallback int64
	methodFaults map[string][]Fault
	commands     map[string][]BotCommand
	profile      map[string]string // "description|en", "short_description|", "name|fr"
	nextFileID   int64
}

// NewServer starts the fake on 127.0.0.1 and closes it with tb.Cleanup. The
// cleanup also reports every spec error not yet reported with tb.Errorf.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		tb:           tb,
		token:        DefaultToken,
		botUsername:  DefaultBotUsername,
		webhookRetry: DefaultWebhookRetry,
		now:          time.Now,
		done:         make(chan struct{}),
		changed:      make(chan struct{}),
		nextUpdateID: 1000,
		delivered:    map[int64]bool{},
		dropped:      map[int64]string{},
		chats:        map[int64]*chatState{},
		users:        map[int64]User{},
		callbacks:    map[string]bool{},
		answers:      map[string]CallbackAnswer{},
		queryOf:      map[int64]string{},
		methodFaults: map[string][]Fault{},
		commands:     map[string][]BotCommand{},
		profile:      map[string]string{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.webhookRetry <= 0 {
		s.webhookRetry = DefaultWebhookRetry
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case s.specOff:
	case s.specPath != "":
		sp, err := loadSpec(s.specPath)
		if err != nil {
			tb.Fatalf("telegramtest: WithSpec: %v", err)
		}
		s.spec = sp
	default:
		if p, ok := findShared("botapi-spec.json"); ok {
			sp, err := loadSpec(p)
			if err != nil {
				tb.Fatalf("telegramtest: %v", err)
			}
			s.spec = sp
		}
	}

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("telegramtest: listen on 127.0.0.1: %v", err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	_ = s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()

	s.whTransport = &http.Transport{DisableKeepAlives: false, MaxIdleConnsPerHost: 2}
	s.whClient = &http.Client{Transport: s.whTransport, Timeout: 10 * time.Second}
	s.wg.Add(1)
	go s.webhookLoop()

	tb.Cleanup(func() {
		s.close()
		s.reportSpecErrors(tb)
	})
	return s
}

func (s *Server) close() {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return
	default:
	}
	close(s.done)
	if s.webhook != nil {
		s.webhook.cancel()
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.srv.Close()
	s.wg.Wait()
	s.whTransport.CloseIdleConnections()
}

// APIURL returns the base URL of the server, e.g. http://127.0.0.1:PORT. The
// bot calls {APIURL}/bot{token}/{method}.
func (s *Server) APIURL() string { return s.srv.URL }

// Endpoint returns the endpoint format go-telegram-bot-api expects:
// APIURL()+"/bot%s/%s".
func (s *Server) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

// Token returns the token the server accepts.
func (s *Server) Token() string { return s.token }

// BotID returns the bot's user id (getMe), always the constant BotID.
func (s *Server) BotID() int64 { return BotID }

// BotUsername returns the bot's username (getMe).
func (s *Server) BotUsername() string { return s.botUsername }

// SpecLoaded reports whether requests are validated against the spec.
func (s *Server) SpecLoaded() bool { return s.spec != nil }

// SpecVersion returns the Bot API version of the loaded spec, or "".
func (s *Server) SpecVersion() string {
	if s.spec == nil {
		return ""
	}
	return s.spec.Version
}

// Call is one request the server received.
type Call struct {
	// Method is the canonical method name, e.g. "sendMessage", whatever
	// case the bot used. For an unknown method it is the name as sent.
	Method string
	// Params holds the values as received (first value per name). JSON
	// bodies are flattened: string values stay as they are, other values are
	// re-encoded as JSON text. A literal "null" is kept here even though the
	// server treats it as absent.
	Params map[string]string
	// Status is the HTTP status the server answered (= error_code on errors).
	Status int
	// At is when the request arrived.
	At time.Time
}

// Calls returns the calls of method (case-insensitive) in arrival order of
// their completion, or all calls when method is "".
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsLocked(method)
}

func (s *Server) callsLocked(method string) []Call {
	var out []Call
	for _, c := range s.calls {
		if method == "" || strings.EqualFold(c.Method, method) {
			cp := c
			cp.Params = make(map[string]string, len(c.Params))
			for k, v := range c.Params {
				cp.Params[k] = v
			}
			out = append(out, cp)
		}
	}
	return out
}

// WaitCalls blocks until at least n calls of method ("" = any) have been
// answered, and returns them. After timeout it fails the test with tb.Fatalf.
func (s *Server) WaitCalls(tb testing.TB, method string, n int, timeout time.Duration) []Call {
	tb.Helper()
	var got []Call
	ok := s.waitFor(timeout, func() bool {
		got = s.callsLocked(method)
		return len(got) >= n
	})
	if !ok {
		names := make([]string, 0, len(got))
		for _, c := range got {
			names = append(names, fmt.Sprintf("%s→%d", c.Method, c.Status))
		}
		tb.Fatalf("telegramtest: WaitCalls(%q, %d): only %d after %v: %v", method, n, len(got), timeout, names)
	}
	return got
}

// SpecErrors returns the validation problems seen so far: requests that
// break the Bot API spec or one of Telegram's limits.
func (s *Server) SpecErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.specErrors...)
}

// TakeSpecErrors returns the spec errors seen so far and forgets them, so
// that a test that provokes them on purpose does not fail at cleanup.
func (s *Server) TakeSpecErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.specErrors
	s.specErrors = nil
	s.reported = 0
	return out
}

// RequireNoSpecErrors reports each spec error not yet reported with
// tb.Errorf, and stops the test with tb.FailNow if there was any.
func (s *Server) RequireNoSpecErrors(tb testing.TB) {
	tb.Helper()
	if s.reportSpecErrors(tb) > 0 {
		tb.FailNow()
	}
}

func (s *Server) reportSpecErrors(tb testing.TB) int {
	tb.Helper()
	s.mu.Lock()
	errs := append([]string(nil), s.specErrors[s.reported:]...)
	s.reported = len(s.specErrors)
	s.mu.Unlock()
	for _, e := range errs {
		tb.Errorf("telegramtest: spec error: %s", e)
	}
	return len(errs)
}

func (s *Server) addSpecErrorLocked(method, msg string) {
	s.specErrors = append(s.specErrors, method+": "+msg)
	s.notifyLocked()
}

// notifyLocked wakes everyone waiting for a change. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor calls cond under s.mu until it returns true or timeout passes.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			s.mu.Lock()
			ok := cond()
			s.mu.Unlock()
			return ok
		}
	}
}

// apiError is an error answer of the Bot API.
type apiError struct {
	code       int
	desc       string
	retryAfter int
	migrateTo  int64
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: 400, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

// specFail records a spec error and returns the matching 400 answer.
func (s *Server) specFail(method, msg, desc string) *apiError {
	s.mu.Lock()
	s.addSpecErrorLocked(method, msg)
	s.mu.Unlock()
	return &apiError{code: 400, desc: "Bad Request: " + desc}
}

type handler func(s *Server, ctx context.Context, rq *request) (any, *apiError)

// methods lists the implemented methods by canonical name.
var methods = map[string]handler{
	"getMe":                  (*Server).getMe,
	"getUpdates":             (*Server).getUpdates,
	"setWebhook":             (*Server).setWebhook,
	"deleteWebhook":          (*Server).deleteWebhook,
	"getWebhookInfo":         (*Server).getWebhookInfo,
	"sendMessage":            (*Server).sendMessage,
	"editMessageText":        (*Server).editMessageText,
	"editMessageReplyMarkup": (*Server).editMessageReplyMarkup,
	"answerCallbackQuery":    (*Server).answerCallbackQuery,
	"copyMessage":            (*Server).copyMessage,
	"sendDocument":           (*Server).sendDocument,
	"deleteMessage":          (*Server).deleteMessage,
	"sendChatAction":         (*Server).sendChatAction,
	"setMyCommands":          (*Server).setMyCommands,
	"getMyCommands":          (*Server).getMyCommands,
	"deleteMyCommands":       (*Server).deleteMyCommands,
	"setMyDescription":       profileSetter("description", 512),
	"getMyDescription":       profileGetter("description"),
	"setMyShortDescription":  profileSetter("short_description", 120),
	"getMyShortDescription":  profileGetter("short_description"),
	"setMyName":              profileSetter("name", 64),
	"getMyName":              profileGetter("name"),
	"createForumTopic":       (*Server).createForumTopic,
	"deleteForumTopic":       (*Server).deleteForumTopic,
	"getChat":                (*Server).getChat,
	"getChatMember":          (*Server).getChatMember,
	"pinChatMessage":         (*Server).pinChatMessage,
}

var methodsLower = func() map[string]string {
	m := make(map[string]string, len(methods))
	for name := range methods {
		m[strings.ToLower(name)] = name
	}
	return m
}()

// chatFaultMethods are the sending calls that consume FailNext faults and
// fail for chats that blocked the bot.
var chatFaultMethods = map[string]bool{
	"sendMessage":            true,
	"editMessageText":        true,
	"editMessageReplyMarkup": true,
	"copyMessage":            true,
	"sendDocument":           true,
	"sendChatAction":         true,
	"deleteMessage":          true,
}

// canonical maps a method name in any case to its canonical name; impl
// reports whether the fake implements it.
func (s *Server) canonical(name string) (canon string, impl bool, known bool) {
	low := strings.ToLower(name)
	if c, ok := methodsLower[low]; ok {
		return c, true, true
	}
	if c, ok := legacyMethods[low]; ok {
		return c, false, true
	}
	if s.spec != nil {
		if m, ok := s.spec.byLower[low]; ok {
			return m.Name, false, true
		}
	}
	return name, false, false
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		errorResp(&apiError{code: 404, desc: "Not Found"}).write(w)
		return
	}
	token, name, ok := strings.Cut(rest, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		errorResp(&apiError{code: 404, desc: "Not Found"}).write(w)
		return
	}
	canon, impl, known := s.canonical(name)
	raw, files, uploads, perr := parseParams(r)
	if raw == nil {
		raw = map[string]string{}
	}
	resp := s.serveCall(r.Context(), token, canon, impl, known, raw, files, uploads, perr)
	// Record before answering, so that a caller that got its answer always
	// finds its call in Calls.
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: canon, Params: raw, Status: resp.status, At: at})
	s.notifyLocked()
	s.mu.Unlock()
	resp.write(w)
}

func (s *Server) serveCall(ctx context.Context, token, canon string, impl, known bool,
	raw map[string]string, files map[string]bool, uploads map[string]upload, perr error) response {
	if token != s.token {
		return errorResp(&apiError{code: 401, desc: "Unauthorized"})
	}
	if !known {
		return errorResp(&apiError{code: 404, desc: "Not Found"})
	}
	if perr != nil {
		return errorResp(badRequest("%v", perr))
	}
	if !impl {
		s.mu.Lock()
		s.addSpecErrorLocked(canon, "method exists in the Bot API but the telegramtest fake does not implement it")
		s.mu.Unlock()
		return errorResp(badRequest("method %s is not implemented by the telegramtest fake server", canon))
	}
	rq := &request{method: canon, raw: raw, p: effective(raw), files: files, uploads: uploads}

	if s.spec != nil {
		problems := s.spec.validate(canon, rq.p, files)
		var reject *apiError
		s.mu.Lock()
		for _, p := range problems {
			s.addSpecErrorLocked(canon, p.msg)
			if reject == nil && p.desc != "" {
				reject = &apiError{code: 400, desc: p.desc}
			}
		}
		s.mu.Unlock()
		if reject != nil {
			return errorResp(reject)
		}
	}

	// Faults for the method, then for the chat.
	if f, ok := s.popMethodFault(canon); ok {
		if aerr := s.applyFault(ctx, f); aerr != nil {
			return errorResp(aerr)
		}
	}
	if chatFaultMethods[canon] {
		if id, err := strconv.ParseInt(strings.TrimSpace(rq.p["chat_id"]), 10, 64); err == nil {
			if f, ok := s.popChatFault(id); ok {
				if aerr := s.applyFault(ctx, f); aerr != nil {
					return errorResp(aerr)
				}
			}
			s.mu.Lock()
			blocked := s.chats[id] != nil && s.chats[id].blocked
			s.mu.Unlock()
			if blocked {
				b := Blocked()
				return errorResp(&apiError{code: b.Code, desc: b.Description})
			}
		}
	}

	res, aerr := s.floodGuard(rq, func() (any, *apiError) { return methods[canon](s, ctx, rq) })
	if aerr != nil {
		return errorResp(aerr)
	}
	return resultResp(res)
}

// response is an encoded answer.
type response struct {
	status int
	body   []byte
}

func (r response) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

type okEnvelope struct {
	OK     bool `json:"ok"`
	Result any  `json:"result"`
}

type errParams struct {
	RetryAfter      int   `json:"retry_after,omitempty"`
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
}

type errEnvelope struct {
	OK          bool       `json:"ok"`
	ErrorCode   int        `json:"error_code"`
	Description string     `json:"description"`
	Parameters  *errParams `json:"parameters,omitempty"`
}

func resultResp(res any) response {
	b, err := json.Marshal(okEnvelope{OK: true, Result: res})
	if err != nil {
		return errorResp(&apiError{code: 500, desc: "Internal Server Error: " + err.Error()})
	}
	return response{status: http.StatusOK, body: b}
}

func errorResp(e *apiError) response {
	env := errEnvelope{ErrorCode: e.code, Description: e.desc}
	if e.retryAfter != 0 || e.migrateTo != 0 {
		env.Parameters = &errParams{RetryAfter: e.retryAfter, MigrateToChatID: e.migrateTo}
	}
	b, _ := json.Marshal(env)
	return response{status: e.code, body: b}
}

// Changed returns a channel that is closed at the next change of the
// server's state: a call answered, an update queued, confirmed or delivered,
// a webhook attempt, a spec error. Take it before checking a condition, then
// wait on it, to wait for anything the Wait helpers do not cover without
// polling.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

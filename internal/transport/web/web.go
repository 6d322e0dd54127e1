// Package web is Passerelle's third transport: the same conversation as
// on Telegram, as a light web page rendered on the server. Each action (a
// button, a typed text) is one bot.Update; the replies it produces make
// the next page: their text, their buttons as form buttons, a text field,
// the date picker as buttons. It works with JavaScript off; a small
// same-origin script only adds live updates (Server-Sent Events) for
// messages that arrive on their own, such as a volunteer's reply.
//
// Residents have no account: a random token in an HttpOnly, Secure,
// SameSite=Strict cookie names them, and their id lives in the web id
// space (bot.WebIDMin). Every form carries a CSRF token; pages carry a
// strict Content-Security-Policy. Nothing a resident types is logged.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
)

// Config configures the transport. Store and Catalog are required.
type Config struct {
	Store   bot.Store
	Catalog *catalog.Catalog
	// Prefix is the path the page is served under; default "/chat/".
	Prefix string
	// FrameAncestors lists the origins allowed to show the page in an
	// iframe (Content-Security-Policy frame-ancestors), e.g.
	// "https://association.example"; none: no embedding.
	FrameAncestors []string
	// StepTTL: how long the current step is kept (default 6 h, like a chat
	// session); MailTTL: how long unseen messages and the texts of an open
	// case are kept (default 30 days).
	StepTTL time.Duration
	MailTTL time.Duration
	Clock   clock.Clock  // default clock.Real
	Logger  *slog.Logger // default slog.Default()
}

// Transport serves the page and is the bot.Sender of web residents.
type Transport struct {
	cfg     Config
	core    bot.UpdateHandler
	coreMu  sync.RWMutex
	pages   *template.Template
	hub     *hub
	locksMu sync.Mutex
	locks   map[int64]*residentLock
	mu      sync.Mutex
	running map[int64]*step // the action being handled, per resident
	mux     *http.ServeMux
	closed  chan struct{}
	once    sync.Once
}

// step collects what the core sends while one action of a resident is
// handled; it becomes the page's current step.
type step struct {
	you  *message
	msgs []message
	kb   *[][]string // reply keyboard shown (empty slice: removed)
}

// New returns the transport; call SetCore before serving.
func New(cfg Config) (*Transport, error) {
	if cfg.Store == nil || cfg.Catalog == nil {
		return nil, errors.New("web: Store and Catalog are required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/chat/"
	}
	if !strings.HasPrefix(cfg.Prefix, "/") || !strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("web: prefix %q must start and end with /", cfg.Prefix)
	}
	for _, o := range cfg.FrameAncestors {
		if err := CheckFrameAncestor(o); err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
	}
	if cfg.StepTTL <= 0 {
		cfg.StepTTL = 6 * time.Hour
	}
	if cfg.MailTTL <= 0 {
		cfg.MailTTL = 30 * 24 * time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &Transport{cfg: cfg, hub: newHub(), running: map[int64]*step{}, locks: map[int64]*residentLock{}, closed: make(chan struct{})}
	var err error
	if t.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	t.routes()
	return t, nil
}

// SetCore sets the conversation core the page feeds (the *bot.Bot, whose
// Sender routes web chats back to this transport).
func (t *Transport) SetCore(h bot.UpdateHandler) {
	t.coreMu.Lock()
	t.core = h
	t.coreMu.Unlock()
}

// Close ends the live streams, so that a server shutting down does not
// wait for them (http.Server.RegisterOnShutdown).
func (t *Transport) Close() { t.once.Do(func() { close(t.closed) }) }

// Owns reports whether chatID is a web resident's chat: Route.Owns.
func (t *Transport) Owns(chatID int64) bool { return bot.IsWebID(chatID) }

// ServeHTTP serves the page under Prefix.
func (t *Transport) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.headers(w)
	t.mux.ServeHTTP(w, r)
}

// residentLock serialises the actions of one resident (two tabs, a double
// tap), as the Telegram dispatcher serialises the updates of one chat.
type residentLock struct {
	sync.Mutex
	users int
}

// lock locks the resident's actions and returns the unlock.
func (t *Transport) lock(id int64) func() {
	t.locksMu.Lock()
	l := t.locks[id]
	if l == nil {
		l = &residentLock{}
		t.locks[id] = l
	}
	l.users++
	t.locksMu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		t.locksMu.Lock()
		if l.users--; l.users == 0 {
			delete(t.locks, id)
		}
		t.locksMu.Unlock()
	}
}

// Send implements bot.Sender for web residents: during an action the
// reply joins the action's step; otherwise it is kept unseen in the
// resident's page and pushed live to an open page.
func (t *Transport) Send(ctx context.Context, rep bot.Reply) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if rep.AnswerCallbackID != "" {
		return 0, nil // a notice on a button press: the page has none to show
	}
	id := rep.ChatID
	if !t.Owns(id) {
		return 0, fmt.Errorf("web: %w: chat %d is not a web resident", bot.ErrRejected, id)
	}
	m := message{Text: rep.Text, Buttons: rep.Buttons, File: rep.File}
	if rep.CopyFromChatID != 0 {
		// A copy the router could not turn into text (a volunteer's photo
		// or file, in Telegram): say so, in the resident's language.
		m.Text = t.printer(ctx, id, "").T("web.copy_unavailable")
		m.Buttons = nil
	}
	var kb *[][]string
	switch {
	case len(rep.Buttons) == 0 && hasText(rep.Keyboard):
		k := rep.Keyboard
		kb = &k
	case len(rep.Buttons) == 0 && rep.RemoveKeyboard:
		kb = &[][]string{}
	}
	if rep.Text == "" && rep.EditMessageID != 0 && rep.CopyFromChatID == 0 {
		// Only the buttons change.
		return rep.EditMessageID, t.edit(ctx, id, rep.EditMessageID, func(old *message) { old.Buttons = rep.Buttons })
	}
	if rep.EditMessageID != 0 {
		err := t.edit(ctx, id, rep.EditMessageID, func(old *message) { old.Text, old.Buttons = m.Text, m.Buttons })
		return rep.EditMessageID, err
	}

	t.mu.Lock()
	if st := t.running[id]; st != nil {
		m.ID = newMsgID(st.msgs)
		st.msgs = append(st.msgs, m)
		if kb != nil {
			st.kb = kb
		}
		t.mu.Unlock()
		return m.ID, nil
	}
	t.mu.Unlock()

	m.Async, m.Unseen = true, true
	err := t.mutate(ctx, id, func(rec *record) bool {
		m.ID = newMsgID(rec.Msgs)
		rec.Msgs = append(rec.Msgs, m)
		if kb != nil {
			rec.Keyboard = *kb
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	t.hub.publish(id, m)
	return m.ID, nil
}

// edit changes a message of the running step or of the stored page; a
// message no longer there is not an error (the page moved on).
func (t *Transport) edit(ctx context.Context, id int64, msgID int, change func(*message)) error {
	t.mu.Lock()
	if st := t.running[id]; st != nil {
		for i := range st.msgs {
			if st.msgs[i].ID == msgID {
				change(&st.msgs[i])
				t.mu.Unlock()
				return nil
			}
		}
	}
	t.mu.Unlock()
	return t.mutate(ctx, id, func(rec *record) bool {
		for i := range rec.Msgs {
			if rec.Msgs[i].ID == msgID {
				change(&rec.Msgs[i])
				return true
			}
		}
		return false
	})
}

// MessageText returns a text the resident typed, escaped as Telegram HTML,
// so that the router can send it into a partner's topic. It implements
// bot.MessageSource.
func (t *Transport) MessageText(ctx context.Context, chatID int64, messageID int) (string, error) {
	t.mu.Lock()
	if st := t.running[chatID]; st != nil && st.you != nil && st.you.ID == messageID {
		s := st.you.Text
		t.mu.Unlock()
		return catalog.Escape(s), nil
	}
	t.mu.Unlock()
	rec, err := t.load(ctx, chatID)
	if err != nil {
		return "", err
	}
	for _, o := range rec.Own {
		if o.ID == messageID {
			return catalog.Escape(o.Text), nil
		}
	}
	return "", fmt.Errorf("web: %w: message %d of chat %d is no longer kept", bot.ErrRejected, messageID, chatID)
}

func hasText(rows [][]string) bool {
	for _, row := range rows {
		for _, s := range row {
			if strings.TrimSpace(s) != "" {
				return true
			}
		}
	}
	return false
}

// printer returns the printer of the resident's language: their choice,
// else the browser's (acceptLang), else the reference.
func (t *Transport) printer(ctx context.Context, id int64, acceptLang string) *catalog.Printer {
	if p, err := t.cfg.Store.Profile(ctx, id); err == nil && p.Lang != "" && t.cfg.Catalog.Has(p.Lang) {
		return t.cfg.Catalog.Printer(p.Lang)
	}
	if tag, ok := t.cfg.Catalog.Match(acceptLang); ok {
		return t.cfg.Catalog.Printer(tag)
	}
	return t.cfg.Catalog.Printer(catalog.Reference)
}

// CheckFrameAncestor checks an origin allowed to embed the page: 'self'
// or scheme://host[:port], nothing a policy could be extended with.
func CheckFrameAncestor(o string) error {
	if o == "'self'" {
		return nil
	}
	if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") || strings.ContainsAny(o, " ;,'\"") || strings.Count(o, "/") != 2 {
		return fmt.Errorf("frame ancestor %q: want an origin such as https://association.example", o)
	}
	return nil
}

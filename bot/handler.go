package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// A Handler responds to one update. It returns an error instead of
// logging it; middleware decides what the resident sees.
type Handler interface {
	Handle(ctx context.Context, r *Request) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, r *Request) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, r *Request) error { return f(ctx, r) }

// Middleware wraps a Handler.
type Middleware func(Handler) Handler

// chain applies middleware so that the first one listed runs first.
func chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Mux routes an update to a handler: commands by name, button presses by
// the prefix of their data, free text, and everything else. A command or a
// button it does not know goes to Fallback.
type Mux struct {
	commands  map[string]Handler
	callbacks map[string]Handler
	text      Handler
	media     Handler
	fallback  Handler
}

// NewMux returns an empty Mux.
func NewMux() *Mux {
	return &Mux{commands: map[string]Handler{}, callbacks: map[string]Handler{}}
}

// Command routes /name.
func (m *Mux) Command(name string, h Handler) { m.commands[name] = h }

// Callback routes buttons whose data is "prefix" or "prefix:arg".
func (m *Mux) Callback(prefix string, h Handler) { m.callbacks[prefix] = h }

// Text routes free text.
func (m *Mux) Text(h Handler) { m.text = h }

// Media routes every message that is not text (see Kind.Media).
func (m *Mux) Media(h Handler) { m.media = h }

// Fallback routes unknown commands and buttons.
func (m *Mux) Fallback(h Handler) { m.fallback = h }

// Handle dispatches r.
func (m *Mux) Handle(ctx context.Context, r *Request) error {
	h := m.route(r)
	if h == nil {
		return nil
	}
	return h.Handle(ctx, r)
}

func (m *Mux) route(r *Request) Handler {
	u := r.Update
	switch u.Kind {
	case KindCommand:
		if h, ok := m.commands[u.Command]; ok {
			return h
		}
		return m.fallback
	case KindCallback:
		cb, err := ParseCallback(u.Data)
		if err != nil {
			return m.fallback
		}
		r.Callback = cb
		if h, ok := m.callbacks[cb.Prefix]; ok {
			return h
		}
		return m.fallback
	case KindText:
		return m.text
	}
	if u.Kind.Media() {
		return m.media
	}
	return nil
}

// Callback is parsed button data: "prefix" or "prefix:arg".
type Callback struct {
	Prefix string
	Arg    string
}

// String encodes the callback as button data.
func (c Callback) String() string {
	if c.Arg == "" {
		return c.Prefix
	}
	return c.Prefix + ":" + c.Arg
}

// ErrBadCallback is returned for button data Passerelle did not make.
var ErrBadCallback = errors.New("bot: malformed callback data")

var (
	prefixRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,15}$`)
	argRE    = regexp.MustCompile(`^[A-Za-z0-9_.:-]{0,60}$`)
)

// ParseCallback parses button data. Data comes from the client and is
// untrusted: anything not in the shape Passerelle makes is rejected, and
// handlers still re-check the state it refers to.
func ParseCallback(data string) (Callback, error) {
	if data == "" || len(data) > 64 {
		return Callback{}, fmt.Errorf("%w: length %d", ErrBadCallback, len(data))
	}
	prefix, arg, _ := strings.Cut(data, ":")
	if !prefixRE.MatchString(prefix) || !argRE.MatchString(arg) {
		return Callback{}, ErrBadCallback
	}
	return Callback{Prefix: prefix, Arg: arg}, nil
}

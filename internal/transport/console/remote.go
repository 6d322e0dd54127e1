package console

// A volunteer terminal: a second terminal plays one partner's groups
// next to the resident's. The terminal that runs the bot (and so holds the
// store, whose embedded file only one process may open) serves a local
// socket; `passerelle chat --as-volunteer PARTNER` connects to it. What
// the bot posts in that partner's groups is shown in the volunteer
// terminal instead of the resident's, and every line typed there is the
// volunteer's, in the group the bot posted in last (in its latest topic),
// or the press of button N of that group's latest message. Updates from
// both terminals reach the bot one at a time.
//
// The protocol is one JSON object per line. The volunteer terminal sends
// a hello ({"partner", "user_id", "first_name"}), then one {"line"} per
// line typed, waiting for {"ready"} before the next. The served side
// answers the hello with {"hello": NAME} or {"error": WHY} and sends what
// to print as {"out"}.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/passerelle-bot/passerelle/bot"
)

// Team is what a volunteer terminal plays: a partner's name and its group
// chats (the volunteers' group, and the referents' one if any).
type Team struct {
	Name  string
	Chats []int64
}

// wireMsg is one line of the protocol.
type wireMsg struct {
	Partner   string `json:"partner,omitempty"`
	UserID    int64  `json:"user_id,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	Line      string `json:"line,omitempty"`
	Hello     string `json:"hello,omitempty"`
	Error     string `json:"error,omitempty"`
	Out       string `json:"out,omitempty"`
	Ready     bool   `json:"ready,omitempty"`
}

// remote is one connected volunteer terminal.
type remote struct {
	mu   sync.Mutex
	enc  *json.Encoder
	team Team
}

func (r *remote) send(m wireMsg) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.enc.Encode(m)
}

// ServeVolunteers accepts volunteer terminals on ln until ctx is done (it
// then closes ln and every connection, and waits for them). team returns
// what a partner id plays, or an error to show the volunteer terminal. h
// is the handler Run is given: updates from all terminals reach it one at
// a time.
func (c *Console) ServeVolunteers(ctx context.Context, ln net.Listener, h bot.UpdateHandler, team func(partner string) (Team, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	defer func() {
		cancel()
		mu.Lock()
		for conn := range conns {
			conn.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("console: accept: %w", err)
		}
		mu.Lock()
		conns[conn] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.serveVolunteer(ctx, conn, h, team)
			conn.Close()
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
		}()
	}
}

// serveVolunteer runs one volunteer terminal's connection.
func (c *Console) serveVolunteer(ctx context.Context, conn io.ReadWriter, h bot.UpdateHandler, team func(string) (Team, error)) {
	dec := json.NewDecoder(bufio.NewReader(conn))
	r := &remote{enc: json.NewEncoder(conn)}
	var hello wireMsg
	if err := dec.Decode(&hello); err != nil {
		return
	}
	t, err := team(hello.Partner)
	if err == nil {
		err = c.attach(r, t)
	}
	if err != nil {
		r.send(wireMsg{Error: err.Error()})
		return
	}
	defer c.detach(r)
	if r.send(wireMsg{Hello: t.Name}) != nil {
		return
	}
	v := &Volunteer{UserID: hello.UserID, FirstName: hello.FirstName}
	for {
		var m wireMsg
		if err := dec.Decode(&m); err != nil || ctx.Err() != nil {
			return
		}
		line := strings.TrimSpace(m.Line)
		if text, ok := strings.CutPrefix(line, VolunteerPrefix); ok {
			line = strings.TrimSpace(text) // typed out of habit
		}
		if line != "" {
			id, n := c.nextUpdateID()
			if u, found := c.volunteerUpdate(id, line, v, t.Chats); !found {
				r.send(wireMsg{Out: fmt.Sprintf("(the bot has posted nothing in the groups of %s yet)\n", t.Name)})
			} else if err := c.handle(ctx, h, u); err != nil {
				r.send(wireMsg{Out: fmt.Sprintf("(update %d not handled: %v)\n", n, err)})
			}
		}
		if r.send(wireMsg{Ready: true}) != nil {
			return
		}
	}
}

// attach shows t's groups in r from now on.
func (c *Console) attach(r *remote, t Team) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, chat := range t.Chats {
		if c.remotes[chat] != nil {
			return fmt.Errorf("another volunteer terminal already plays %s", t.Name)
		}
	}
	r.team = t
	for _, chat := range t.Chats {
		c.remotes[chat] = r
	}
	io.WriteString(c.out, fmt.Sprintf("(a volunteer terminal plays %s: what the bot posts in its groups is shown there)\n", t.Name))
	return nil
}

// detach shows r's groups here again.
func (c *Console) detach(r *remote) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.detachLocked(r)
}

func (c *Console) detachLocked(r *remote) {
	gone := false
	for _, chat := range r.team.Chats {
		if c.remotes[chat] == r {
			delete(c.remotes, chat)
			gone = true
		}
	}
	if gone {
		io.WriteString(c.out, fmt.Sprintf("(the volunteer terminal of %s left: its groups are shown here again)\n", r.team.Name))
	}
}

// VolunteerOptions describe a volunteer terminal.
type VolunteerOptions struct {
	Partner   string // the partner id it plays
	Volunteer Volunteer
	// Echo prints each input line, for transcripts of piped input.
	Echo bool
	// Prompt is printed before reading each line (interactive use).
	Prompt string
}

// ErrRefused is returned by RunVolunteer when the served terminal refuses
// the volunteer terminal (unknown partner, already played).
var ErrRefused = errors.New("refused")

// RunVolunteer runs a volunteer terminal over conn, connected to a
// console's ServeVolunteers: it reads lines from in until it ends, /quit,
// ctx is done or the served terminal ends, and prints what the bot posts
// in the partner's groups to out.
func RunVolunteer(ctx context.Context, conn io.ReadWriter, in io.Reader, out io.Writer, opt VolunteerOptions) error {
	var omu sync.Mutex
	say := func(s string) {
		omu.Lock()
		defer omu.Unlock()
		io.WriteString(out, s)
	}
	enc, dec := json.NewEncoder(conn), json.NewDecoder(bufio.NewReader(conn))
	if err := enc.Encode(wireMsg{Partner: opt.Partner, UserID: opt.Volunteer.UserID, FirstName: opt.Volunteer.FirstName}); err != nil {
		return fmt.Errorf("console: hello: %w", err)
	}
	var hello wireMsg
	if err := dec.Decode(&hello); err != nil {
		return fmt.Errorf("console: hello: %w", err)
	}
	if hello.Error != "" {
		return fmt.Errorf("%w: %s", ErrRefused, hello.Error)
	}
	say(fmt.Sprintf("(you are %s, a volunteer of %s)\n", opt.Volunteer.FirstName, hello.Hello))

	ready := make(chan struct{}, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			var m wireMsg
			if err := dec.Decode(&m); err != nil {
				return
			}
			if m.Out != "" {
				say(m.Out)
			}
			if m.Ready {
				ready <- struct{}{}
			}
		}
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ended:
				return
			}
		}
	}()
	for {
		if opt.Prompt != "" {
			say(opt.Prompt)
		}
		var line string
		select {
		case l, ok := <-lines:
			if !ok {
				return nil
			}
			line = strings.TrimSpace(l)
		case <-ended:
			say("(the resident's chat has ended)\n")
			return nil
		case <-ctx.Done():
			return nil
		}
		if line == "" {
			continue
		}
		if opt.Echo {
			say("you> " + line + "\n")
		}
		if line == "/quit" {
			return nil
		}
		if err := enc.Encode(wireMsg{Line: line}); err != nil {
			say("(the resident's chat has ended)\n")
			return nil
		}
		select {
		case <-ready:
		case <-ended:
			say("(the resident's chat has ended)\n")
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

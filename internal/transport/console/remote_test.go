package console_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/transport/console"
)

// waitBuffer is an output a test can wait on.
type waitBuffer struct {
	mu   sync.Mutex
	cond *sync.Cond
	b    strings.Builder
}

func newWaitBuffer() *waitBuffer {
	w := &waitBuffer{}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *waitBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	w.cond.Broadcast()
	return len(p), nil
}

func (w *waitBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *waitBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	expired := false
	timer := time.AfterFunc(10*time.Second, func() {
		w.mu.Lock()
		expired = true
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer timer.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for !strings.Contains(w.b.String(), want) {
		if expired {
			t.Fatalf("never printed %q; printed:\n%s", want, w.b.String())
		}
		w.cond.Wait()
	}
}

// TestVolunteerTerminal: a volunteer terminal connected to a console shows
// what the bot posts in its partner's groups (and only there), turns its
// lines into the volunteer's updates in the group the bot posted in last,
// and gives the groups back when it leaves; an unknown partner, or one
// already played, is refused.
func TestVolunteerTerminal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const groupA, referentsA, groupB = -1001, -1101, -1002
	local := newWaitBuffer()
	c := console.New(local)
	c.AddGroup(groupA, "A")
	c.AddGroup(referentsA, "A (referents)")
	c.AddGroup(groupB, "B")
	updates := make(chan bot.Update, 4)
	h := handlerFunc(func(ctx context.Context, u bot.Update) error {
		updates <- u
		if u.Text == "fail" {
			return errors.New("boom")
		}
		return nil
	})
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- c.ServeVolunteers(ctx, ln, h, func(id string) (console.Team, error) {
			if id != "a" {
				return console.Team{}, fmt.Errorf("no partner %q", id)
			}
			return console.Team{Name: "A", Chats: []int64{groupA, referentsA}}, nil
		})
	}()
	join := func(partner string, in io.Reader, out io.Writer) error {
		conn, err := net.Dial("unix", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return console.RunVolunteer(context.Background(), conn, in, out, console.VolunteerOptions{
			Partner: partner, Volunteer: console.Volunteer{UserID: 77, FirstName: "Sam"}, Echo: true})
	}
	if err := join("zz", strings.NewReader(""), io.Discard); !errors.Is(err, console.ErrRefused) || !strings.Contains(err.Error(), `no partner "zz"`) {
		t.Errorf("unknown partner: %v", err)
	}

	in, typeIn := io.Pipe()
	remote := newWaitBuffer()
	joined := make(chan error, 1)
	go func() { joined <- join("a", in, remote) }()
	remote.waitFor(t, "(you are Sam, a volunteer of A)")
	local.waitFor(t, "(a volunteer terminal plays A")
	if err := join("a", strings.NewReader(""), io.Discard); !errors.Is(err, console.ErrRefused) {
		t.Errorf("a second terminal for A: %v", err)
	}

	// Before the bot posts in A's groups, a line is answered, not handled.
	io.WriteString(typeIn, "hello\n")
	remote.waitFor(t, "(the bot has posted nothing in the groups of A yet)")

	send(t, c, bot.Reply{ChatID: groupA, Text: "card", Buttons: [][]bot.Button{{{Label: "Take", Data: "take:1"}}}})
	send(t, c, bot.Reply{ChatID: groupB, Text: "B's card"})
	send(t, c, bot.Reply{ChatID: 5, Text: "to the resident"})
	send(t, c, bot.Reply{ChatID: referentsA, ThreadID: 9, Text: "sensitive"})
	remote.waitFor(t, "bot → A (referents) #9> sensitive")
	if got := local.String(); strings.Contains(got, "card\n     [1]") || strings.Contains(got, "sensitive") || !strings.Contains(got, "B's card") || !strings.Contains(got, "to the resident") {
		t.Errorf("local terminal:\n%s", got)
	}
	// The referents' group was posted in last: a line goes to its topic.
	io.WriteString(typeIn, "@vol noted\n")
	if u := <-updates; u.ChatID != referentsA || u.ThreadID != 9 || u.UserID != 77 || u.FirstName != "Sam" || u.Text != "noted" || u.Kind != bot.KindText {
		t.Errorf("line in the topic = %+v", u)
	}
	send(t, c, bot.Reply{ChatID: groupA, Text: "card 2", Buttons: [][]bot.Button{{{Label: "Take", Data: "take:2"}}}})
	remote.waitFor(t, "card 2")
	io.WriteString(typeIn, "1\n")
	if u := <-updates; u.ChatID != groupA || u.Kind != bot.KindCallback || u.Data != "take:2" {
		t.Errorf("button press = %+v", u)
	}
	io.WriteString(typeIn, "fail\n")
	<-updates
	remote.waitFor(t, "not handled: boom)")

	io.WriteString(typeIn, "/quit\n")
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
	local.waitFor(t, "(the volunteer terminal of A left")
	send(t, c, bot.Reply{ChatID: groupA, Text: "card 3"})
	local.waitFor(t, "bot → A> card 3")
	if strings.Contains(remote.String(), "card 3") {
		t.Error("a terminal that left still gets A's messages")
	}

	// Ending the console ends the volunteer terminals.
	in2, typeIn2 := io.Pipe()
	defer typeIn2.Close()
	remote2 := newWaitBuffer()
	go func() { joined <- join("a", in2, remote2) }()
	remote2.waitFor(t, "(you are Sam")
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
	remote2.waitFor(t, "(the resident's chat has ended)")
}

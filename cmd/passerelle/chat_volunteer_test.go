package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
)

// termOut is a terminal's output that a test can wait on.
type termOut struct {
	mu      sync.Mutex
	cond    *sync.Cond
	b       strings.Builder
	from    int // where the next wait starts looking
	expired bool
}

func newTermOut() *termOut {
	o := &termOut{}
	o.cond = sync.NewCond(&o.mu)
	return o
}

func (o *termOut) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b.Write(p)
	o.cond.Broadcast()
	return len(p), nil
}

func (o *termOut) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// waitFor waits until want is printed after what earlier waits found
// (French typography's spaces read as plain ones).
func (o *termOut) waitFor(t *testing.T, name, want string) {
	t.Helper()
	timer := time.AfterFunc(20*time.Second, func() {
		o.mu.Lock()
		o.expired = true
		o.cond.Broadcast()
		o.mu.Unlock()
	})
	defer timer.Stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		s := strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(o.b.String()[o.from:])
		if i := strings.Index(s, want); i >= 0 {
			// s and the buffer differ in length by the replaced spaces:
			// count the runes of the matched prefix in the buffer.
			n := len([]rune(s[:i+len(want)]))
			o.from += len(string([]rune(o.b.String()[o.from:])[:n]))
			return
		}
		if o.expired {
			t.Fatalf("%s terminal never printed %q; it printed:\n%s", name, want, o.b.String())
		}
		o.cond.Wait()
	}
}

// TestChatAsVolunteer: a resident's `passerelle chat --partners FILE` in
// one terminal, `passerelle chat --as-volunteer entraide-rhone` in
// another, both through run: the partner group's card, topic and copies
// show in the volunteer terminal only; the volunteer takes the case,
// writes between volunteers, answers with /r (a preview, then Send) and
// closes (/fermer, a reason, the confirmation); the resident
// gets the answer and the close. Golden transcript of the volunteer side
// in testdata/chat_volunteer_fr.txt (refresh with -update).
func TestChatAsVolunteer(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	old := chatClock
	t.Cleanup(func() { chatClock = old })
	chatClock = clock.NewFake(time.Date(2026, time.December, 8, 10, 30, 0, 0, paris))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sock := filepath.Join(t.TempDir(), "chat.sock")
	resIn, resType := io.Pipe()
	volIn, volType := io.Pipe()
	defer resType.Close()
	defer volType.Close()
	resOut, volOut := newTermOut(), newTermOut()
	resDone, volDone := make(chan error, 1), make(chan error, 1)
	go func() {
		resDone <- run(ctx, []string{"chat", "--lang", "fr", "--partners", "../../partners.example.yaml", "--socket", sock}, noEnv, resIn, resOut, resOut)
	}()
	resident := func(line string, wait ...string) {
		t.Helper()
		if _, err := io.WriteString(resType, line+"\n"); err != nil {
			t.Fatal(err)
		}
		for _, w := range wait {
			resOut.waitFor(t, "resident", w)
		}
	}
	volunteer := func(line string) {
		t.Helper()
		if _, err := io.WriteString(volType, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}

	// The resident's chat serves the socket before it reads a line.
	resident("/volunteer", "Quel est le problème ?")
	go func() {
		volDone <- run(ctx, []string{"chat", "--as-volunteer", "entraide-rhone", "--socket", sock}, noEnv, volIn, volOut, volOut)
	}()
	volOut.waitFor(t, "volunteer", "(you are Léa, a volunteer of Entraide Rhône (fictional))")
	resOut.waitFor(t, "resident", "(a volunteer terminal plays Entraide Rhône (fictional)")

	resident("8", "Dans quel département")
	resident("69", "Quand expire")
	resident("1", "Risquez-vous")
	resident("1", "✅ Mon travail")
	resident("4", "court message")
	resident("Mon API a expiré le mois dernier.", "Avant l'envoi")
	resident("1", "[keyboard] 🚪 Terminer l'aide") // consent: the card goes to the group
	volOut.waitFor(t, "volunteer", "[1] ✋ Prendre en charge")
	volunteer("1") // Take: a topic opens
	resOut.waitFor(t, "resident", "s'occupe de votre demande #1")
	resident("Bonjour, vous avez reçu ma demande ?")
	volOut.waitFor(t, "volunteer", "Bonjour, vous avez reçu ma demande ?")
	volunteer("On regarde ensemble ce qui manque, entre nous.") // stays in the topic
	volunteer("/r Bonjour, je suis Léa. Avez-vous le récépissé de dépôt ?")
	volOut.waitFor(t, "volunteer", "[1] ✅ Envoyer à la personne") // the preview
	volunteer("1")                                                // Send
	resOut.waitFor(t, "resident", "Bonjour, je suis Léa.")
	volOut.waitFor(t, "volunteer", "📤 Envoyé à la personne par Léa, en français :")
	resident("Oui, je l'ai.")
	volOut.waitFor(t, "volunteer", "Oui, je l'ai.")
	volunteer("/fermer")
	volOut.waitFor(t, "volunteer", "[1] Résolu")
	volunteer("1") // the reason
	volOut.waitFor(t, "volunteer", "[1] ✔️ Clore le dossier")
	volunteer("1") // confirmed
	resOut.waitFor(t, "resident", "[2] 👎 Pas utile")
	resident("1", "Merci.")
	volOut.waitFor(t, "volunteer", "👍 La personne a trouvé cette aide utile.") // the rating, shown in the topic
	volunteer("/quit")
	if err := <-volDone; err != nil {
		t.Fatalf("volunteer terminal: %v\n%s", err, volOut.String())
	}
	resOut.waitFor(t, "resident", "(the volunteer terminal of Entraide Rhône (fictional) left")
	resident("/quit")
	if err := <-resDone; err != nil {
		t.Fatalf("resident's chat: %v\n%s", err, resOut.String())
	}

	res := resOut.String()
	if strings.Contains(res, "bot → ") || strings.Contains(res, "Prendre en charge") {
		t.Errorf("the partner group showed in the resident's terminal:\n%s", res)
	}
	if strings.Contains(res, "On regarde ensemble") {
		t.Errorf("a message without /r reached the resident:\n%s", res)
	}
	vol := volOut.String()
	for _, want := range []string{
		"bot → Entraide Rhône (fictional)> Dossier #1",
		"[new topic #1:",
		"💬 Dossier #1 · message de la personne",
		"✔️ Clos. Motif",
	} {
		if !strings.Contains(vol, want) {
			t.Errorf("volunteer terminal lacks %q", want)
		}
	}
	golden(t, "chat_volunteer_fr", dateRE.ReplaceAllString(vol, "DD/MM/YYYY"))
}

// TestChatAsVolunteerRefused: a volunteer terminal with no resident's chat
// to join, or for a partner the chat does not know, says why and fails;
// when the resident's chat ends first, the volunteer terminal says so and
// ends too.
func TestChatAsVolunteerRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sock := filepath.Join(t.TempDir(), "chat.sock")
	var out strings.Builder
	err := run(ctx, []string{"chat", "--as-volunteer", "entraide-rhone", "--socket", sock}, noEnv, strings.NewReader("1\n"), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "no resident's chat to join") || !strings.Contains(err.Error(), "--partners") {
		t.Errorf("without a resident's chat: %v", err)
	}

	resIn, resType := io.Pipe()
	resOut := newTermOut()
	resDone := make(chan error, 1)
	go func() {
		resDone <- run(ctx, []string{"chat", "--lang", "fr", "--partners", "../../partners.example.yaml", "--socket", sock}, noEnv, resIn, resOut, resOut)
	}()
	io.WriteString(resType, "/start\n")
	resOut.waitFor(t, "resident", "bot>")
	out.Reset()
	err = run(ctx, []string{"chat", "--as-volunteer", "nobody", "--socket", sock}, noEnv, strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), `no partner "nobody"`) || !strings.Contains(err.Error(), "entraide-rhone, accueil-paris-est") {
		t.Errorf("unknown partner: %v", err)
	}

	volIn, volType := io.Pipe()
	defer volType.Close()
	volOut := newTermOut()
	volDone := make(chan error, 1)
	go func() {
		volDone <- run(ctx, []string{"chat", "--as-volunteer", "collectif-gironde", "--socket", sock}, noEnv, volIn, volOut, volOut)
	}()
	volOut.waitFor(t, "volunteer", "(you are Léa, a volunteer of Collectif Gironde (fictional))")
	// A second terminal for the same partner is refused.
	out.Reset()
	err = run(ctx, []string{"chat", "--as-volunteer", "collectif-gironde", "--socket", sock}, noEnv, strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "already plays") {
		t.Errorf("second terminal for one partner: %v", err)
	}
	// Before any case, a line gets an answer, not silence.
	io.WriteString(volType, "bonjour\n")
	volOut.waitFor(t, "volunteer", "(the bot has posted nothing in the groups of Collectif Gironde (fictional) yet)")
	// The resident's chat ends: so does the volunteer terminal.
	resType.Close()
	if err := <-resDone; err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("resident's chat: %v", err)
	}
	if err := <-volDone; err != nil {
		t.Fatalf("volunteer terminal: %v", err)
	}
	if !strings.Contains(volOut.String(), "(the resident's chat has ended)") {
		t.Errorf("volunteer terminal after the resident's chat ended:\n%s", volOut.String())
	}
}

// TestVolunteerSocketPrivate: the default socket's directory must be the
// user's alone, on both sides (whoever joins sees the partner groups;
// whoever serves reads what the volunteer types); a socket left by a chat
// that ended is replaced; the hint a resident's chat prints finds the
// same socket from any directory and shows no password.
func TestVolunteerSocketPrivate(t *testing.T) {
	t.Parallel()
	open := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := listenVolunteers(filepath.Join(open, "s.sock"), true); err == nil || !strings.Contains(err.Error(), "only you can open") {
		t.Errorf("serving in a directory others can open: %v", err)
	}
	err := runVolunteerTerminal(context.Background(), filepath.Join(open, "s.sock"), true, "entraide-rhone", 1, strings.NewReader(""), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "only you can open") {
		t.Errorf("joining through a directory others can open: %v", err)
	}

	private := filepath.Join(t.TempDir(), "mine")
	path := filepath.Join(private, "s.sock")
	ln, note, err := listenVolunteers(path, true)
	if err != nil || note != "" {
		t.Fatalf("listenVolunteers = %v, %q", err, note)
	}
	if fi, err := os.Stat(private); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory: %v, %v", fi.Mode(), err)
	}
	// Served: a second chat leaves it alone.
	if ln2, note, err := listenVolunteers(path, true); ln2 != nil || err != nil || !strings.Contains(note, "already serves") {
		t.Errorf("second chat on a served socket: %v, %q, %v", ln2, note, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // a chat that ended without removing its socket
	ln, _, err = listenVolunteers(path, true)
	if err != nil {
		t.Fatalf("a stale socket is not replaced: %v", err)
	}
	ln.Close()

	abs, _ := filepath.Abs("chat.db")
	for store, want := range map[string]string{
		"":                           "",
		"bolt:chat.db":               " --store bolt:" + abs,
		"redis://redis:6379/0":       " --store redis://redis:6379/0",
		"redis://:secret@redis:6379": " --store URL (this chat's)",
	} {
		if got := volunteerHint("", store); got != want {
			t.Errorf("volunteerHint(%q) = %q; want %q", store, got, want)
		}
		if a, _ := chatSocket(store); store == "bolt:chat.db" {
			if b, _ := chatSocket("bolt:" + abs); a != b {
				t.Errorf("a relative and an absolute path to one store meet at %s and %s", a, b)
			}
		}
	}
}

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/transport/console"
	"github.com/passerelle-bot/passerelle/locales"
)

// chatClock is the clock of `passerelle chat`; golden tests fix it so that
// opening hours and dates do not depend on when they run.
var chatClock clock.Clock = clock.Real{}

// defaultVolunteerID is the user id of the volunteer a chat plays: neither
// a referent nor a coordinator of any example partner.
const defaultVolunteerID = 424242

// runChat runs the bot in the terminal: on PASSERELLE_STORE or --store if
// given, else on a fresh temporary store. With a partners file
// (--partners, else PASSERELLE_PARTNERS) the terminal also plays the
// partner groups.
func runChat(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("chat", stderr)
	lang := fs.String("lang", "", "your language code, as Telegram would send it (e.g. fr, ar)")
	storeURL := fs.String("store", strings.TrimSpace(getenv("PASSERELLE_STORE")), "store URL (default: PASSERELLE_STORE, else a temporary embedded store removed at exit)")
	partnersFile := fs.String("partners", strings.TrimSpace(getenv("PASSERELLE_PARTNERS")), "partners file: this terminal then also plays the partner groups ('@vol TEXT', '@vol N'); default PASSERELLE_PARTNERS")
	volunteerID := fs.Int64("volunteer-id", defaultVolunteerID, "Telegram user id of the volunteer you play in partner groups (a referent's or a coordinator's id from the partners file lets you try their commands)")
	temporary := fs.Bool("temporary", false, "use a fresh temporary store even when PASSERELLE_STORE is set (inside the container, PASSERELLE_STORE is the live store)")
	user := fs.Int64("user", 1, "resident's user id")
	asVolunteer := fs.String("as-volunteer", "", "play the volunteers of partner `ID` (its id in the partners file) in this terminal, next to a resident's 'passerelle chat --partners FILE' running in another terminal with the same store (or the same --socket)")
	socket := fs.String("socket", "", "where a resident's chat and a volunteer terminal meet (default: a socket named after the store, in a private directory under the temporary one); a chat with piped input serves it only when this is given")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *temporary {
		*storeURL = ""
	}
	storeGiven := *storeURL // before a temporary store is made: what a volunteer terminal repeats
	sock := *socket
	if sock == "" {
		var err error
		if sock, err = chatSocket(*storeURL); err != nil {
			return err
		}
	}
	if *asVolunteer != "" {
		return runVolunteerTerminal(ctx, sock, *socket == "", *asVolunteer, *volunteerID, stdin, stdout)
	}
	keys, err := loadKey(getenv, "PASSERELLE_DATA_KEY")
	if err != nil {
		return err
	}
	var idBase int64
	if *storeURL == "" {
		dir, err := os.MkdirTemp("", "passerelle-chat-")
		if err != nil {
			return fmt.Errorf("temporary store: %w", err)
		}
		defer os.RemoveAll(dir)
		*storeURL = "bolt:" + filepath.Join(dir, "chat.db")
		if keys == nil {
			keys = seal.Ephemeral() // the store goes with the process
		}
	} else if keys == nil {
		return fmt.Errorf("--store: %w", errNoDataKey)
	} else {
		// A reused store remembers the update ids of earlier runs (to drop
		// duplicates, for 48 h) and their message ids (relays): start this
		// run's ids after theirs. Microseconds: no run makes an id per µs.
		idBase = chatClock.Now().UnixMicro()
	}
	st, err := openStore(ctx, *storeURL, keys)
	if err != nil {
		return err
	}
	defer st.Close()
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cat, g, release, err := builtinContent(logger)
	if err != nil {
		return err
	}
	defer release()
	con := console.New(stdout)
	docs, sched, err := reminderParts(st)
	if err != nil {
		return err
	}
	partners, err := loadPartners(*partnersFile)
	if err != nil {
		return err
	}
	// Registration works here; reminders themselves are sent by `run`.
	bc := bot.Config{
		Store: st, Catalog: cat, Sender: con, Logger: logger, Location: locationFrom(getenv), Guide: g,
		Documents: docs, Reminders: sched, Reviewed: locales.ReviewedSet(), Clock: chatClock,
		BotUsername: "passerelle_chat_bot", Operator: chatOperator(getenv),
	}
	opt := console.Options{UserID: *user, LanguageCode: *lang, Echo: !isTerminal(stdin), IDBase: idBase}
	if partners != nil {
		if bc.Cases, err = caseStore(st); err != nil {
			return err
		}
		bc.Partners, bc.Groups = partners, con
		for _, p := range partners.All() {
			con.AddGroup(p.ChatID, p.Name)
			if p.ReferentsChatID != 0 {
				con.AddGroup(p.ReferentsChatID, p.Name+" (referents)")
			}
		}
		opt.Volunteer = &console.Volunteer{UserID: *volunteerID, FirstName: "Léa"}
	}
	b, err := bot.New(bc)
	if err != nil {
		return err
	}
	var h bot.UpdateHandler = b
	if partners != nil {
		h = flushingHandler{b}
	}
	// A second terminal may play one partner's volunteers: this process
	// holds the store (an embedded file opens in one process only), so it
	// serves a local socket that `chat --as-volunteer` joins.
	var ln net.Listener
	if partners != nil && (!opt.Echo || *socket != "") {
		var note string
		if ln, note, err = listenVolunteers(sock, *socket == ""); err != nil {
			return err
		} else if note != "" {
			fmt.Fprintln(stderr, note)
		}
	}
	if !opt.Echo {
		fmt.Fprintln(stdout, "Passerelle in your terminal. Type a message, a /command, or the number of a button. /quit to leave.")
		if partners != nil {
			fmt.Fprintln(stdout, "You also play a volunteer, Léa: '@vol TEXT' writes in the partner group the bot posted in last (in its topic), '@vol N' presses its button N.")
		}
		if ln != nil {
			fmt.Fprintf(stdout, "Or play one partner's volunteers in a second terminal: passerelle chat --as-volunteer ID%s (ids: %s).\n",
				volunteerHint(*socket, storeGiven), strings.Join(partnerIDs(partners), ", "))
		}
		opt.Prompt = "> "
	}
	if ln == nil {
		return con.Run(ctx, h, stdin, opt)
	}
	con.SetIDBase(idBase)
	serveCtx, stopServing := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- con.ServeVolunteers(serveCtx, ln, h, func(id string) (console.Team, error) {
			p, ok := partners.Get(id)
			if !ok {
				return console.Team{}, fmt.Errorf("no partner %q in the partners file of this chat (ids: %s)", id, strings.Join(partnerIDs(partners), ", "))
			}
			t := console.Team{Name: p.Name, Chats: []int64{p.ChatID}}
			if p.ReferentsChatID != 0 {
				t.Chats = append(t.Chats, p.ReferentsChatID)
			}
			return t, nil
		})
	}()
	err = con.Run(ctx, h, stdin, opt)
	stopServing()
	if serr := <-served; err == nil && serr != nil {
		err = fmt.Errorf("volunteer terminals: %w", serr)
	}
	return err
}

func partnerIDs(ps *handoff.Partners) []string {
	var ids []string
	for _, p := range ps.All() {
		ids = append(ids, p.ID)
	}
	return ids
}

// volunteerHint is what a volunteer terminal must repeat of this chat's
// flags to find it.
func volunteerHint(socket, storeURL string) string {
	switch {
	case socket != "":
		return " --socket " + socket
	case redactURL(storeURL) != storeURL: // a password: not on the screen
		return " --store URL (this chat's)"
	case strings.HasPrefix(storeURL, "bolt:"):
		if abs, err := filepath.Abs(strings.TrimPrefix(storeURL, "bolt:")); err == nil {
			return " --store bolt:" + abs // from any directory
		}
	}
	if storeURL != "" {
		return " --store " + storeURL
	}
	return ""
}

// chatSocket is the default meeting point of a resident's chat and its
// volunteer terminals: named after the store (the same store, the same
// socket; no store at all is one more), in a directory of the user's own
// under the temporary one.
func chatSocket(storeURL string) (string, error) {
	key := "temporary"
	if path, ok := strings.CutPrefix(storeURL, "bolt:"); ok {
		abs, err := filepath.Abs(path)
		if err != nil {
			return "", fmt.Errorf("--store: %w", err)
		}
		key = "bolt:" + abs
	} else if storeURL != "" {
		key = storeURL
	}
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(chatSocketDir(), hex.EncodeToString(sum[:8])+".sock"), nil
}

func chatSocketDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("passerelle-chat-%d", os.Getuid()))
}

// listenVolunteers serves the socket at path for volunteer terminals. A
// socket left by a chat that ended is replaced; one another chat serves
// is left to it (nil listener and a note). private: path is in
// chatSocketDir, which is made (or checked to be) the user's alone, since
// whoever connects sees the partner groups.
func listenVolunteers(path string, private bool) (net.Listener, string, error) {
	if len(path) > 100 { // sun_path holds 104 to 108 bytes
		return nil, "", fmt.Errorf("volunteer terminals: socket path %s is too long for a socket; pass a shorter --socket", path)
	}
	if private {
		if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, "", fmt.Errorf("volunteer terminals: %w", err)
		}
		if err := checkPrivateDir(filepath.Dir(path)); err != nil {
			return nil, "", fmt.Errorf("volunteer terminals: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		if _, statErr := os.Lstat(path); statErr != nil {
			return nil, "", fmt.Errorf("volunteer terminals: %w", err)
		}
		if conn, dialErr := net.Dial("unix", path); dialErr == nil {
			conn.Close()
			return nil, fmt.Sprintf("volunteer terminals: another chat on this store already serves them (%s); this one plays the partner groups here only", path), nil
		}
		// Left by a chat that ended without removing it.
		if err := os.Remove(path); err != nil {
			return nil, "", fmt.Errorf("volunteer terminals: %w", err)
		}
		if ln, err = net.Listen("unix", path); err != nil {
			return nil, "", fmt.Errorf("volunteer terminals: %w", err)
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, "", fmt.Errorf("volunteer terminals: %w", err)
	}
	return ln, "", nil
}

// checkPrivateDir fails unless dir is a directory (not a link) of this
// user's that no one else may open.
func checkPrivateDir(dir string) error {
	if runtime.GOOS == "windows" { // the temporary directory is the user's own
		return nil
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 || !ownedByMe(fi) {
		return fmt.Errorf("%s must be a directory of yours only you can open (mode 0700); remove it, or pass --socket on both sides", dir)
	}
	return nil
}

// runVolunteerTerminal plays one partner's volunteers, joined to the
// resident's chat served at sock.
func runVolunteerTerminal(ctx context.Context, sock string, private bool, partner string, userID int64, stdin io.Reader, stdout io.Writer) error {
	if private {
		// Someone else's directory could hold someone else's socket.
		if err := checkPrivateDir(filepath.Dir(sock)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--as-volunteer: %w", err)
		}
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return fmt.Errorf("--as-volunteer: no resident's chat to join (%s): start 'passerelle chat --partners FILE' in another terminal first, with the same PASSERELLE_STORE or --store (or the same --socket)", sock)
	}
	defer conn.Close()
	opt := console.VolunteerOptions{Partner: partner, Volunteer: console.Volunteer{UserID: userID, FirstName: "Léa"}, Echo: !isTerminal(stdin)}
	if !opt.Echo {
		fmt.Fprintln(stdout, "Passerelle's partner group in your terminal. A line is what you write in the group the bot posted in last (in its topic once there is one), N presses its button N; /r TEXT answers the resident. /quit to leave.")
		opt.Prompt = "> "
	}
	if err := console.RunVolunteer(ctx, conn, stdin, stdout, opt); err != nil {
		return fmt.Errorf("--as-volunteer: %w", err)
	}
	return nil
}

// flushingHandler sends the relay copies an update queued before the next
// line is read, as run's relay worker would, so that a terminal transcript
// shows each copy right after the message it copies.
type flushingHandler struct{ b *bot.Bot }

func (f flushingHandler) Handle(ctx context.Context, u bot.Update) error {
	if err := f.b.Handle(ctx, u); err != nil {
		return err
	}
	if err := f.b.FlushRelay(ctx); err != nil {
		return fmt.Errorf("relay copies: %w", err)
	}
	return nil
}

// chatOperator is the operator named in a terminal chat, when configured
// (a local trial without it names nobody).
func chatOperator(getenv func(string) string) bot.Operator {
	return bot.Operator{
		Name:    strings.TrimSpace(getenv("PASSERELLE_OPERATOR_NAME")),
		Contact: strings.TrimSpace(getenv("PASSERELLE_OPERATOR_CONTACT")),
		DPO:     strings.TrimSpace(getenv("PASSERELLE_OPERATOR_DPO")),
	}
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

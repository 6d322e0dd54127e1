package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
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
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	keys, err := loadKey(getenv, "PASSERELLE_DATA_KEY")
	if err != nil {
		return err
	}
	var idBase int64
	if *temporary {
		*storeURL = ""
	}
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
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cat.SetMissing(func(lang, id string, err error) {
		logger.Warn("catalog_missing", "lang", lang, "message_id", id)
	})
	g, err := mustGuide(cat)
	if err != nil {
		return err
	}
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
		}
		opt.Volunteer = &console.Volunteer{UserID: *volunteerID, FirstName: "Léa"}
	}
	b, err := bot.New(bc)
	if err != nil {
		return err
	}
	if !opt.Echo {
		fmt.Fprintln(stdout, "Passerelle in your terminal. Type a message, a /command, or the number of a button. /quit to leave.")
		if partners != nil {
			fmt.Fprintln(stdout, "You also play a volunteer, Léa: '@vol TEXT' writes in the partner group the bot posted in last (in its topic), '@vol N' presses its button N.")
		}
		opt.Prompt = "> "
	}
	var h bot.UpdateHandler = b
	if partners != nil {
		h = flushingHandler{b}
	}
	return con.Run(ctx, h, stdin, opt)
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

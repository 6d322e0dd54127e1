package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/transport/console"
	"github.com/passerelle-bot/passerelle/locales"
)

// runChat runs the bot in the terminal on a fresh temporary store unless
// --store names one.
func runChat(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("chat", stderr)
	lang := fs.String("lang", "", "your language code, as Telegram would send it (e.g. fr, ar)")
	storeURL := fs.String("store", "", "store URL (default: a temporary embedded store, removed at exit)")
	user := fs.Int64("user", 1, "resident's user id")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	keys, err := loadKey(getenv, "PASSERELLE_DATA_KEY")
	if err != nil {
		return err
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
	// Registration works here; reminders themselves are sent by `run`.
	b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: con, Logger: logger, Location: locationFrom(getenv), Guide: g, Documents: docs, Reminders: sched, Reviewed: locales.ReviewedSet()})
	if err != nil {
		return err
	}
	opt := console.Options{UserID: *user, LanguageCode: *lang, Echo: !isTerminal(stdin)}
	if !opt.Echo {
		fmt.Fprintln(stdout, "Passerelle in your terminal. Type a message, a /command, or the number of a button. /quit to leave.")
		opt.Prompt = "> "
	}
	return con.Run(ctx, b, stdin, opt)
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

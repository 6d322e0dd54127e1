package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/transport/web"
	"github.com/passerelle-bot/passerelle/locales"
)

// webPage builds the web page when cfg asks for it, and the sender the
// core needs: telegram's alone, or a router giving web chats to the page.
func webPage(cfg config, st bot.Store, cat *catalog.Catalog, telegram bot.Sender, logger *slog.Logger) (*web.Transport, bot.Sender, error) {
	if !cfg.Web {
		return nil, telegram, nil
	}
	page, err := web.New(web.Config{Store: st, Catalog: cat, FrameAncestors: cfg.FrameAncestors, Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	return page, bot.NewRouter(telegram, bot.Route{Owns: page.Owns, Sender: page}), nil
}

// runWeb serves the web page alone: no Telegram token, the page under
// /chat/ on --listen. The volunteers' side of the hand-off is in Telegram:
// with --partners it needs TELEGRAM_BOT_TOKEN and then runs as `run` with
// PASSERELLE_WEB=on.
func runWeb(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := newFlags("web", stderr)
	listen := fs.String("listen", orDefault(getenv("PASSERELLE_LISTEN"), ":8080"), "address to serve the page on (under /chat/)")
	storeURL := fs.String("store", "", "store URL (default PASSERELLE_STORE, else bolt:passerelle.db)")
	partners := fs.String("partners", "", "partners file (needs TELEGRAM_BOT_TOKEN: volunteers work in Telegram)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	env := func(k string) string {
		switch k {
		case "PASSERELLE_LISTEN":
			return *listen
		case "PASSERELLE_STORE":
			if *storeURL != "" {
				return *storeURL
			}
		case "PASSERELLE_PARTNERS":
			if *partners != "" {
				return *partners
			}
		case "PASSERELLE_WEB":
			return "on"
		}
		return getenv(k)
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if cfg.Partners != "" {
		if cfg.Token == "" {
			return errors.New("--partners (PASSERELLE_PARTNERS): the volunteers answer in their Telegram groups, so the hand-off needs TELEGRAM_BOT_TOKEN; set it (the page then runs as `passerelle run` with PASSERELLE_WEB=on), or leave --partners out: the page then shows public help")
		}
		return runBot(ctx, nil, env, stderr)
	}
	if cfg.DataKey == nil {
		return errNoDataKey
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	st, err := openStore(ctx, cfg.Store, cfg.DataKey)
	if err != nil {
		return err
	}
	defer st.Close()
	cat, g, release, err := builtinContent(logger)
	if err != nil {
		return err
	}
	defer release()
	docs, sched, err := reminderParts(st)
	if err != nil {
		return err
	}
	page, err := web.New(web.Config{Store: st, Catalog: cat, FrameAncestors: cfg.FrameAncestors, Logger: logger})
	if err != nil {
		return err
	}
	b, err := bot.New(bot.Config{
		Store: st, Catalog: cat, Sender: page, Logger: logger, Location: cfg.Location, Guide: g,
		Documents: docs, Reminders: sched, ReminderHour: cfg.ReminderHour, Reviewed: locales.ReviewedSet(),
		InactiveMonths: cfg.InactiveMonths,
		Operator:       bot.Operator{Name: cfg.Operator.Name, Contact: cfg.Operator.Contact, DPO: cfg.Operator.DPO},
	})
	if err != nil {
		return err
	}
	page.SetCore(b)
	if err := b.StartSweeps(ctx); err != nil {
		logger.Warn("sweep_not_scheduled", "err", err)
	}
	// Reminders of web residents wait on their page; the calendar file is
	// their main channel.
	reminders := reminder.NewDispatcher(sched, b, reminder.Config{
		Clock: clock.Real{}, Location: cfg.Location, Logger: logger,
		Quiet: reminder.Hours{From: cfg.QuietFrom, To: cfg.QuietTo},
	})
	remCtx, stopReminders := context.WithCancel(ctx)
	defer stopReminders()
	remDone := make(chan struct{})
	go func() {
		defer close(remDone)
		_ = reminders.Run(remCtx)
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	var ready atomic.Bool
	mux.Handle("GET /readyz", readyHandler(ready.Load, st, func(err error) {
		logger.Warn("store_unavailable", "source", "readyz", "err", err)
	}))
	mux.Handle("/chat/", page)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		to := "/chat/"
		if q := r.URL.RawQuery; q != "" {
			to += "?" + q
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := newHTTPServer(ctx, mux)
	srv.RegisterOnShutdown(page.Close)
	serveErr := make(chan error, 1)
	ready.Store(true) // before the first request can arrive
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("started", "mode", "web", "addr", ln.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	}
	ready.Store(false)
	logger.Info("stopping")
	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(grace); err != nil {
		logger.Warn("http_shutdown", "err", err)
	}
	stopReminders()
	select {
	case <-remDone:
	case <-grace.Done():
		logger.Warn("reminders_not_stopped")
	}
	logger.Info("stopped")
	return runErr
}

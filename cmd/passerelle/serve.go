package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/locales"
)

// shutdownGrace is how long in-flight updates and sends may take to finish
// after SIGINT or SIGTERM.
const shutdownGrace = 10 * time.Second

// runBot runs the Telegram bot until ctx is cancelled.
func runBot(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if err := cfg.requireForRun(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if cfg.DataKey == nil {
		return errNoDataKey
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	started := time.Now()
	logger.Info("starting", "version", buildVersion(), "go", runtime.Version())

	st, err := openStore(ctx, cfg.Store, cfg.DataKey)
	if err != nil {
		return err
	}
	defer st.Close()
	watchBackups(ctx, st, logger)
	raw := st // /readyz pings it, past the metrics
	m := newMetrics(cfg.Store)
	st = m.timeStore(st)
	cat, g, release, err := builtinContent(logger)
	if err != nil {
		return err
	}
	defer release()

	var core atomic.Pointer[bot.Bot]
	client, err := telegram.New(ctx, telegram.Config{
		Token:    cfg.Token,
		APIURL:   cfg.APIURL,
		Logger:   logger,
		SendRate: cfg.SendRate,
		Observer: m,
		OnMigrate: func(ctx context.Context, from, to int64) {
			if b := core.Load(); b != nil {
				b.ChatMigrated(ctx, from, to)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("telegram: %w", err)
	}
	sender := client.Sender()
	m.queued = sender.Queued
	docs, sched, err := reminderParts(st)
	if err != nil {
		return err
	}
	partners, err := loadPartners(cfg.Partners)
	if err != nil {
		return err
	}
	page, routed, err := webPage(cfg, st, cat, sender, logger)
	if err != nil {
		return err
	}
	bc := bot.Config{
		Store: st, Catalog: cat, Sender: routed, Logger: logger, Location: cfg.Location, Guide: g,
		Documents: docs, Reminders: sched, ReminderHour: cfg.ReminderHour, BotUsername: client.Username(),
		Reviewed: locales.ReviewedSet(), InactiveMonths: cfg.InactiveMonths,
		Operator: bot.Operator{Name: cfg.Operator.Name, Contact: cfg.Operator.Contact, DPO: cfg.Operator.DPO},
		Admins:   cfg.Admins, Status: m, Observer: m,
	}
	if partners != nil {
		if bc.Cases, err = caseStore(st); err != nil {
			return err
		}
		if bc.Outbox, err = outboxOf(st); err != nil {
			return err
		}
		bc.Partners, bc.Groups = partners, client
		if cfg.Translator != nil {
			bc.Translator = cfg.Translator
		}
	}
	b, err := bot.New(bc)
	if err != nil {
		return err
	}
	core.Store(b)
	if page != nil {
		page.SetCore(b)
	}
	if err := b.StartSweeps(ctx); err != nil {
		logger.Warn("sweep_not_scheduled", "err", err)
	}
	if partners != nil {
		checkGroups(ctx, partners, client, b, logger)
		syncGroupCommands(ctx, partners, client, b, logger)
	}
	reminders := reminder.NewDispatcher(sched, b, reminder.Config{
		Clock: clock.Real{}, Location: cfg.Location, Logger: logger,
		Quiet: reminder.Hours{From: cfg.QuietFrom, To: cfg.QuietTo}, Observer: m,
	})
	m.watch(sched, bc.Cases, partners)
	remCtx, stopReminders := context.WithCancel(ctx)
	defer stopReminders()
	remDone := make(chan struct{})
	go func() {
		defer close(remDone)
		_ = reminders.Run(remCtx) // returns nil when remCtx ends
	}()
	// Relay copies leave the update path: the outbox worker sends them at
	// each group's pace.
	relayCtx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		_ = b.RunRelay(relayCtx) // returns nil when relayCtx ends
	}()
	disp := bot.NewDispatcher(b, bot.DispatcherConfig{Logger: logger, Clock: clock.Real{}})

	if _, err := client.SyncCommands(ctx, commandMenus(b)); err != nil {
		logger.Warn("commands_not_set", "err", err)
	}
	for lang, d := range b.Descriptions() {
		// Read first, set only when changed.
		if err := client.SetDescriptions(ctx, lang, d[0], d[1]); err != nil {
			logger.Warn("descriptions_not_set", "lang", lang, "err", err)
		}
	}

	var ready atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", healthHandler(started))
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /readyz", readyHandler(ready.Load, raw, func(err error) {
		logger.Warn("store_unavailable", "source", "readyz", "err", err)
	}))
	if page != nil {
		mux.Handle("/chat/", page)
	}
	if cfg.WebhookURL != "" {
		secret := cfg.WebhookSecret
		if secret == "" {
			secret = telegram.DeriveSecret(cfg.Token)
		}
		u, _ := url.Parse(cfg.WebhookURL) // validated by loadConfig
		path := u.EscapedPath()
		if path == "" {
			path = "/"
		}
		mux.Handle("POST "+path, client.WebhookHandler(disp, secret, telegram.WebhookOptions{}))
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on PASSERELLE_LISTEN %s: %w", cfg.Listen, err)
	}
	srv := newHTTPServer(ctx, mux)
	if page != nil {
		srv.RegisterOnShutdown(page.Close)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String())

	recvErr := make(chan error, 1)
	if cfg.WebhookURL != "" {
		secret := cfg.WebhookSecret
		if secret == "" {
			secret = telegram.DeriveSecret(cfg.Token)
		}
		if err := client.SetWebhook(ctx, cfg.WebhookURL, secret); err != nil {
			srv.Close()
			return fmt.Errorf("set webhook: %w", err)
		}
		ready.Store(true)
		logger.Info("started", "mode", "webhook")
	} else {
		// Ready before the first getUpdates: whoever sees the bot poll
		// (Telegram, a test) finds /readyz already saying so.
		ready.Store(true)
		go func() { recvErr <- client.Poll(ctx, disp) }()
		logger.Info("started", "mode", "polling")
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-recvErr:
		runErr = err
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	}
	ready.Store(false)
	logger.Info("stopping")
	if cfg.WebhookURL == "" && runErr == nil {
		select { // the poll loop returns promptly once ctx is done
		case err := <-recvErr:
			runErr = err
		case <-time.After(shutdownGrace):
			logger.Warn("poll_not_stopped")
		}
	}

	// Stop receiving first, then finish what was received, then flush.
	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(grace); err != nil {
		logger.Warn("http_shutdown", "err", err)
	}
	if err := disp.Close(grace); err != nil {
		logger.Warn("updates_left_unhandled", "err", err)
	}
	// A reminder claimed but not sent comes back after its lease; so does
	// a relay copy, from the outbox.
	stopReminders()
	stopRelay()
	select {
	case <-remDone:
	case <-grace.Done():
		logger.Warn("reminders_not_stopped")
	}
	select {
	case <-relayDone:
	case <-grace.Done():
		logger.Warn("relay_not_stopped")
	}
	if err := sender.Flush(grace); err != nil {
		logger.Warn("sends_left_unflushed", "err", err)
	}
	logger.Info("stopped")
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	return nil
}

// reminderParts returns the document and schedule sides of the store: both
// stores implement them.
func reminderParts(st bot.Store) (bot.DocumentStore, reminder.Store, error) {
	docs, ok1 := st.(bot.DocumentStore)
	sched, ok2 := st.(reminder.Store)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("store %T cannot keep documents and reminders", st)
	}
	return docs, sched, nil
}

func commandMenus(b *bot.Bot) map[string][]telegram.Command {
	out := map[string][]telegram.Command{}
	for lang, list := range b.CommandMenus() {
		for _, c := range list {
			out[lang] = append(out[lang], telegram.Command{Name: c.Name, Description: c.Description})
		}
	}
	return out
}

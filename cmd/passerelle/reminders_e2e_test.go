package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/locales"
)

// yearWorld is the bot wired as runBot wires it, on a fake clock, against
// the fake Bot API: residents act through Telegram, reminders are claimed by
// the real dispatcher from the real bolt store.
type yearWorld struct {
	srv   *telegramtest.Server
	clk   *clock.Fake
	disp  *reminder.Dispatcher
	paris *time.Location
	sent  map[int64][]time.Time // when each chat got a reminder, by the fake clock
	seen  map[int64]int         // messages of each chat already accounted for
}

func newYearWorld(t *testing.T, now time.Time) *yearWorld {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	w := &yearWorld{srv: telegramtest.NewServer(t), clk: clock.NewFake(now), paris: paris, sent: map[int64][]time.Time{}, seen: map[int64]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := bolt.Open(filepath.Join(t.TempDir(), "year.db"), bolt.WithKeys(testKeys), bolt.WithClock(w.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	cat.SetMissing(func(lang, id string, err error) { t.Errorf("catalog fallback: %s %s", lang, id) })
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	client, err := telegram.New(ctx, telegram.Config{Token: w.srv.Token(), APIURL: w.srv.APIURL(), Logger: logger, ChatInterval: -1, PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	docs, sched, err := reminderParts(st)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: client.Sender(), Logger: logger, Clock: w.clk, Location: paris, Guide: g, Documents: docs, Reminders: sched, ReminderHour: 10})
	if err != nil {
		t.Fatal(err)
	}
	w.disp = reminder.NewDispatcher(sched, b, reminder.Config{Clock: w.clk, Location: paris, Quiet: reminder.Hours{From: 21, To: 9}, Logger: logger})
	updates := bot.NewDispatcher(b, bot.DispatcherConfig{Logger: logger, Clock: clock.Real{}})
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); _ = client.Poll(ctx, updates) }()
	t.Cleanup(func() {
		cancel()
		<-pollDone
		_ = updates.Close(context.Background())
		st.Close()
	})
	w.srv.WaitPolling(t, wait)
	return w
}

// do runs one resident action and waits until the bot has handled it.
func (w *yearWorld) do(t *testing.T, id int64) {
	t.Helper()
	w.srv.WaitDelivered(t, id, wait)
}

func (w *yearWorld) press(t *testing.T, u telegramtest.User, label string) {
	t.Helper()
	id, err := w.srv.PressButton(u, u.ID, label)
	if err != nil {
		t.Fatal(err)
	}
	w.do(t, id)
}

// register adds the worked example's card through Telegram: a carte de
// séjour temporaire (étudiant, filed on the ANEF) ending 30/06/2027.
func (w *yearWorld) register(t *testing.T, u telegramtest.User) {
	t.Helper()
	w.do(t, w.srv.SendText(u, "/reminders"))
	w.press(t, u, "➕ Add a document")
	w.press(t, u, "1. Carte de séjour temporaire")
	w.press(t, u, "Étudiant (student)")
	w.press(t, u, "No")
	w.press(t, u, "👤 Mine")
	w.do(t, w.srv.SendText(u, "30/06/2027"))
	w.press(t, u, "✅ Yes, save")
	w.mark(u.ID)
}

// mark accounts for the chat's messages so far as conversation, not
// reminders.
func (w *yearWorld) mark(chat int64) { w.seen[chat] = len(w.srv.Messages(chat)) }

// run moves the fake clock hour by hour up to end, running one dispatcher
// pass each hour (skipping the hours skip returns true for), and records
// new messages of chats as reminders sent at that hour.
func (w *yearWorld) run(t *testing.T, end time.Time, chats []int64, skip func(time.Time) bool, at func(time.Time)) {
	t.Helper()
	ctx := context.Background()
	for now := w.clk.Now().Truncate(time.Hour).Add(time.Hour); !now.After(end); now = now.Add(time.Hour) {
		w.clk.Set(now)
		if at != nil {
			at(now)
		}
		if skip != nil && skip(now) {
			continue
		}
		if _, err := w.disp.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range chats {
			msgs := w.srv.Messages(c)
			for range msgs[w.seen[c]:] {
				w.sent[c] = append(w.sent[c], now)
			}
			w.seen[c] = len(msgs)
		}
	}
}

func (w *yearWorld) days(chat int64) []string {
	var out []string
	for _, t := range w.sent[chat] {
		out = append(out, t.In(w.paris).Format("2006-01-02 15:04"))
	}
	return out
}

// TestReminderYear follows the worked example of the reminders issue over a
// simulated year: an ANEF titre ending 2027-06-30, registered on 2026-12-12.
func TestReminderYear(t *testing.T) {
	t.Parallel()
	w := newYearWorld(t, time.Date(2026, 12, 12, 15, 0, 0, 0, time.UTC))
	a := telegramtest.User{ID: 9101, LanguageCode: "en"} // does nothing: every milestone
	b := telegramtest.User{ID: 9102, LanguageCode: "en"} // files after D-90
	c := telegramtest.User{ID: 9103, LanguageCode: "en"} // blocks the bot after D-150
	d := telegramtest.User{ID: 9104, LanguageCode: "en"} // stops reminders after D-150
	for _, u := range []telegramtest.User{a, b, c, d} {
		w.register(t, u)
	}
	chats := []int64{a.ID, b.ID, c.ID, d.ID}
	w.run(t, time.Date(2027, 8, 2, 12, 0, 0, 0, w.paris), chats, nil, func(now time.Time) {
		switch now.In(w.paris).Format("2006-01-02 15") {
		case "2027-02-01 12":
			w.do(t, w.srv.Block(c))
			w.press(t, d, "🔕 Stop reminders")
			w.mark(d.ID)
		case "2027-04-01 12":
			w.press(t, b, "✅ I have filed")
			w.press(t, b, "Today")
			w.press(t, b, "Not yet")
			w.mark(b.ID)
		}
	})

	want := []string{
		"2027-01-31 10:00", // D-150 prepare
		"2027-03-02 10:00", // D-120 the window opens
		"2027-04-01 10:00", // D-90
		"2027-04-26 10:00", // D-65 last call
		"2027-05-01 10:00", // D-60 last day of the window
		"2027-05-02 10:00", // D-59 late
		"2027-06-23 10:00", // D-7
		"2027-06-30 10:00", // expiry
	}
	if got := w.days(a.ID); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("reminders of the worked example:\n got %v\nwant %v", got, want)
	}
	msgs := w.srv.Messages(a.ID)
	for _, m := range msgs[len(msgs)-len(want):] {
		if first, _, _ := strings.Cut(m.Text, "\n"); first != "🔔 Passerelle: a reminder you asked for." {
			t.Errorf("reminder starts with %q, not the neutral line", first)
		}
	}

	wantB := []string{
		"2027-01-31 10:00", "2027-03-02 10:00", "2027-04-01 10:00",
		"2027-06-23 10:00", // check for the API
		"2027-06-30 10:00", // expiry, filed, no API: help offered
		"2027-08-01 10:00", // 4 months after filing: implicit rejection
	}
	if got := w.days(b.ID); strings.Join(got, ",") != strings.Join(wantB, ",") {
		t.Errorf("after “I have filed”:\n got %v\nwant %v", got, wantB)
	}
	bm := w.srv.Messages(b.ID)
	if last := bm[len(bm)-1].Text; !strings.Contains(last, "refus implicite") {
		t.Errorf("last reminder after filing is not the implicit rejection:\n%s", last)
	}
	if exp := bm[len(bm)-2].Text; !strings.Contains(exp, "Défenseur des droits") {
		t.Errorf("expired, filed, no API: help not offered:\n%s", exp)
	}
	if got := w.days(c.ID); len(got) != 1 {
		t.Errorf("resident who blocked the bot got %v after D-150", got)
	}
	if got := w.days(d.ID); len(got) != 1 {
		t.Errorf("resident who stopped reminders got %v", got)
	}
}

// TestReminderQuietHours: a dispatcher down on the day a reminder falls due
// sends nothing during the quiet hours (21:00–09:00) and catches up at 09:00.
func TestReminderQuietHours(t *testing.T) {
	t.Parallel()
	w := newYearWorld(t, time.Date(2026, 12, 12, 15, 0, 0, 0, time.UTC))
	e := telegramtest.User{ID: 9105, LanguageCode: "en"}
	w.register(t, e)
	down := func(now time.Time) bool {
		l := now.In(w.paris)
		return l.Format("2006-01-02") == "2027-01-31" && l.Hour() >= 9 && l.Hour() < 21
	}
	w.run(t, time.Date(2027, 2, 2, 0, 0, 0, 0, w.paris), []int64{e.ID}, down, nil)
	if got := w.days(e.ID); strings.Join(got, ",") != "2027-02-01 09:00" {
		t.Errorf("after downtime on the due day, reminders at %v; want only 2027-02-01 09:00", got)
	}
}

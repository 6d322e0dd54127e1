package fault

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/locales"
)

// loadCatalog loads the reference catalog and those of langs only: the 14
// catalogs take seconds to load under -race.
func loadCatalog(t *testing.T, langs ...string) *catalog.Catalog {
	t.Helper()
	cat, err := loadCatalogErr(langs...)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func loadCatalogErr(langs ...string) (*catalog.Catalog, error) {
	fsys := fstest.MapFS{}
	for _, l := range append([]string{catalog.Reference}, langs...) {
		name := "active." + l + ".toml"
		b, err := fs.ReadFile(locales.FS, name)
		if err != nil {
			return nil, err
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	return catalog.Load(fsys)
}

// ackCounter is a reminder.Observer that counts failed acks.
type ackCounter struct {
	failed  atomic.Int32
	claimed atomic.Int64 // Unix ns of the last pass that claimed something
}

func (a *ackCounter) Claimed(n, redelivered int) { a.claimed.Store(time.Now().UnixNano()) }
func (a *ackCounter) Notified(ok bool)           {}
func (a *ackCounter) Acked(ok bool) {
	if !ok {
		a.failed.Add(1)
	}
}

// TestRedisRestartDuringConversationAndDispatch stops the Redis server
// (as a restart does) while reminders are being sent and residents write
// through the Telegram poll loop (the fake Bot API), keeps it down for
// 2.5 s (longer than the 1.5 s of retries after which main dropped an
// update), and starts it again on the same data. The bot reconnects by
// itself; the updates written meanwhile are not confirmed to Telegram
// while Redis is down; each resident who wrote gets one "temporarily
// unavailable" in their language, then one answer to each message, in
// order, and no duplicate welcome; every reminder is sent, again only
// when its ack was lost with the server.
func TestRedisRestartDuringConversationAndDispatch(t *testing.T) {
	t.Parallel()
	srv := StartRedis(t)
	st := openRedis(t, srv.URL(), "pas")
	cat := loadCatalog(t, "uk", "fa")
	api := telegramtest.NewServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	client, err := telegram.New(ctx, telegram.Config{Token: api.Token(), APIURL: api.APIURL(), ChatInterval: -1, PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: client.Sender(), Documents: st, Reminders: st})
	if err != nil {
		t.Fatal(err)
	}
	disp := bot.NewDispatcher(b, bot.DispatcherConfig{Workers: 4})
	polled := make(chan struct{})
	go func() { client.Poll(ctx, disp); close(polled) }()
	defer func() {
		cancel()
		<-polled
		ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		disp.Close(ctx)
	}()
	count := func(chat int64, text string) int {
		n := 0
		for _, m := range api.Messages(chat) {
			if strings.Contains(m.PlainText, text) {
				n++
			}
		}
		return n
	}
	known := telegramtest.User{ID: 880001, LanguageCode: "uk"} // wrote before the outage
	fresh := telegramtest.User{ID: 880002, LanguageCode: "fa"} // first message during the outage
	uk, fa := cat.Printer("uk"), cat.Printer("fa")
	plain := func(p *catalog.Printer, key string) string { return catalog.PlainText(p.T(key)) }
	api.WaitDelivered(t, api.SendText(known, "/start"), 10*time.Second)

	// Reminders being sent when the server stops.
	const n = 40
	due := time.Now().Add(-time.Minute)
	for i := range n {
		if err := st.Schedule(t.Context(), fmt.Sprintf("88%07d:doc1", i), due); err != nil {
			t.Fatal(err)
		}
	}
	var reminders sends
	acks := &ackCounter{}
	rd := reminder.NewDispatcher(st, notifyFunc(func(ctx context.Context, c reminder.Claim) (time.Time, error) {
		time.Sleep(20 * time.Millisecond) // a send to Telegram
		reminders.add(c.ID)
		return time.Time{}, nil
	}), reminder.Config{Workers: 4, Batch: 10, Lease: time.Second, Observer: acks})
	rctx, stopReminders := context.WithCancel(t.Context())
	rdone := make(chan struct{})
	go func() { rd.Run(rctx); close(rdone) }()
	defer func() { stopReminders(); <-rdone }()
	waitFor(t, "some reminders sent", 5*time.Second, func() bool { d, _ := reminders.total(); return d >= 8 })

	srv.Stop()
	down := time.Now()
	during := []int64{api.SendText(known, "/help"), api.SendText(fresh, "/start")}
	noticed := waitFor(t, "the notices", 5*time.Second, func() bool {
		return count(known.ID, plain(uk, "error.unavailable")) > 0 && count(fresh.ID, plain(fa, "error.unavailable")) > 0
	})
	during = append(during, api.SendText(known, "/menu"))
	waitFor(t, "an outage of 2.5 s", 5*time.Second, func() bool { return time.Since(down) > 2500*time.Millisecond })
	for _, id := range during {
		if api.Delivered(id) {
			t.Fatalf("update %d was confirmed to Telegram while Redis was down: it would never be answered", id)
		}
	}
	restart := time.Now()
	srv.Start()
	back := time.Now()
	t.Logf("restart took %s; notices came %s after the stop", back.Sub(restart), noticed.Round(10*time.Millisecond))
	answered := waitFor(t, "every update answered after the restart", 20*time.Second, func() bool {
		return count(known.ID, plain(uk, "help.body")) > 0 && count(known.ID, plain(uk, "menu.title")) > 0 && count(fresh.ID, plain(fa, "welcome.title")) > 0
	})
	for _, id := range during {
		api.WaitDelivered(t, id, 10*time.Second)
	}
	resumed := time.Duration(0)
	waitFor(t, "every reminder sent and acked", 20*time.Second, func() bool {
		if resumed == 0 {
			if at := acks.claimed.Load(); at > back.UnixNano() {
				resumed = time.Duration(at - back.UnixNano())
			}
		}
		d, _ := reminders.total()
		return d == n && entryCount(t, st) == 0
	})
	distinct, all := reminders.total()
	t.Logf("Redis down %s; updates answered %s after it was back; reminder claims resumed %s after; %d reminders sent, %d twice (%d acks lost with the server)",
		back.Sub(down).Round(10*time.Millisecond), answered.Round(10*time.Millisecond), resumed.Round(10*time.Millisecond), distinct, all-distinct, acks.failed.Load())

	for _, c := range []struct {
		who  telegramtest.User
		p    *catalog.Printer
		key  string
		want int
	}{
		{known, uk, "error.unavailable", 1}, {fresh, fa, "error.unavailable", 1},
		{known, uk, "welcome.title", 1}, {fresh, fa, "welcome.title", 1},
		{known, uk, "help.body", 1}, {known, uk, "error.apology", 0}, {fresh, fa, "error.apology", 0},
	} {
		if got := count(c.who.ID, plain(c.p, c.key)); got != c.want {
			t.Errorf("resident %d got %s %d times; want %d", c.who.ID, c.key, got, c.want)
		}
	}
	helpAt, menuAt := -1, -1
	for i, m := range api.Messages(known.ID) {
		if strings.Contains(m.PlainText, plain(uk, "help.body")) {
			helpAt = i
		}
		if strings.Contains(m.PlainText, plain(uk, "menu.title")) && menuAt < 0 {
			menuAt = i
		}
	}
	if helpAt < 0 || menuAt < helpAt {
		t.Errorf("known resident's answers out of order or missing (help at %d, menu at %d)", helpAt, menuAt)
	}
	// The retry cap (2 s), plus up to a second for go-redis to dial again
	// (after failed dials its pool tries once a second).
	if answered > 3*time.Second {
		t.Errorf("answered %s after Redis was back; want within the 2 s retry cap and a reconnection", answered)
	}
	if distinct != n {
		t.Errorf("%d of %d reminders sent", distinct, n)
	}
	if dup := all - distinct; dup > int(acks.failed.Load()) {
		t.Errorf("%d reminders sent twice; want at most the %d whose ack was lost", dup, acks.failed.Load())
	}
	// What was saved before the outage survived it (append-only file).
	if p, err := st.Profile(t.Context(), known.ID); err != nil || !p.Created.Before(down) {
		t.Errorf("profile after the restart = %+v, %v; want the one saved before the outage", p, err)
	}
}

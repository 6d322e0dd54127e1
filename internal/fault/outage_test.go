package fault

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/locales"
)

// chatSender is a bot.Sender that records what each chat was sent.
type chatSender struct {
	mu   sync.Mutex
	sent map[int64][]string
}

func (s *chatSender) Send(ctx context.Context, r bot.Reply) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[int64][]string{}
	}
	s.sent[r.ChatID] = append(s.sent[r.ChatID], r.Text)
	return len(s.sent[r.ChatID]), nil
}

func (s *chatSender) to(chat int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent[chat]...)
}

// count returns how many messages to chat contain text.
func (s *chatSender) count(chat int64, text string) int {
	n := 0
	for _, m := range s.to(chat) {
		if strings.Contains(m, text) {
			n++
		}
	}
	return n
}

func loadCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	return cat
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
// (as a restart does) while reminders are being sent and residents write,
// keeps it down for 2.5 s (longer than the 1.5 s of retries after which
// main dropped an update), and starts it again on the same data. The bot
// reconnects by itself; each resident who wrote during the outage gets one
// "temporarily unavailable" in their language, then one answer to each
// message, in order, and no duplicate welcome; every reminder is sent,
// again only when its ack was lost with the server.
func TestRedisRestartDuringConversationAndDispatch(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	st := openRedis(t, srv.URL(), "pas")
	cat := loadCatalog(t)
	out := &chatSender{}
	b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: out, Documents: st, Reminders: st})
	if err != nil {
		t.Fatal(err)
	}
	disp := bot.NewDispatcher(b, bot.DispatcherConfig{Workers: 4})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		disp.Close(ctx)
	}()
	var nextID atomic.Int64
	submit := func(user int64, lang, cmd string) <-chan struct{} {
		done := make(chan struct{})
		u := bot.Update{ID: 100 + nextID.Add(1), Kind: bot.KindCommand, ChatID: user, ChatType: bot.ChatPrivate, UserID: user,
			LanguageCode: lang, Command: cmd, Text: "/" + cmd}
		if err := disp.Submit(context.Background(), u, func() { close(done) }); err != nil {
			t.Fatal(err)
		}
		return done
	}
	closed := func(c <-chan struct{}) func() bool {
		return func() bool {
			select {
			case <-c:
				return true
			default:
				return false
			}
		}
	}
	const (
		known = int64(880001) // wrote before the outage, in Ukrainian
		fresh = int64(880002) // first message during the outage, in Dari/Persian
	)
	uk, fa := cat.Printer("uk"), cat.Printer("fa")
	waitFor(t, "the first welcome", 5*time.Second, closed(submit(known, "uk", "start")))

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
	during := []<-chan struct{}{submit(known, "uk", "help"), submit(fresh, "fa", "start")}
	noticed := waitFor(t, "the notices", 5*time.Second, func() bool {
		return out.count(known, uk.T("error.unavailable")) > 0 && out.count(fresh, fa.T("error.unavailable")) > 0
	})
	during = append(during, submit(known, "uk", "menu"))
	waitFor(t, "an outage of 2.5 s", 5*time.Second, func() bool { return time.Since(down) > 2500*time.Millisecond })
	for _, d := range during {
		if closed(d)() {
			t.Fatal("an update was acknowledged while Redis was down: it would never be answered")
		}
	}
	restart := time.Now()
	srv.Start()
	back := time.Now()
	t.Logf("restart took %s; notices came %s after the stop", back.Sub(restart), noticed.Round(10*time.Millisecond))
	answered := waitFor(t, "every update answered after the restart", 20*time.Second, func() bool {
		for _, d := range during {
			if !closed(d)() {
				return false
			}
		}
		return true
	})
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

	if got := out.count(known, uk.T("error.unavailable")); got != 1 {
		t.Errorf("resident who wrote twice during the outage got %d notices; want 1", got)
	}
	if got := out.count(fresh, fa.T("error.unavailable")); got != 1 {
		t.Errorf("new resident got %d notices; want 1", got)
	}
	if got := out.count(known, uk.T("welcome.title")); got != 1 {
		t.Errorf("known resident got %d welcomes; want 1", got)
	}
	if got := out.count(fresh, fa.T("welcome.title")); got != 1 {
		t.Errorf("new resident got %d welcomes; want 1: %q", got, out.to(fresh))
	}
	if got := out.count(known, uk.T("help.body")); got != 1 {
		t.Errorf("known resident got %d help answers; want 1", got)
	}
	msgs := out.to(known)
	helpAt, menuAt := -1, -1
	for i, m := range msgs {
		if strings.Contains(m, uk.T("help.body")) {
			helpAt = i
		}
		if strings.Contains(m, uk.T("menu.title")) && menuAt < 0 {
			menuAt = i
		}
		if strings.Contains(m, uk.T("error.apology")) {
			t.Errorf("apology sent for an outage")
		}
	}
	if helpAt < 0 || menuAt < helpAt {
		t.Errorf("known resident's answers out of order or missing (help at %d, menu at %d): %q", helpAt, menuAt, msgs)
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
	if p, err := st.Profile(t.Context(), known); err != nil || !p.Created.Before(down) {
		t.Errorf("profile after the restart = %+v, %v; want the one saved before the outage", p, err)
	}
}

package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/locales"
)

// BenchmarkReminderBurst (README, Benchmarks):
//
//	go test -run '^$' -bench ReminderBurst -benchtime 1x -timeout 30m ./cmd/passerelle
//
// -burst.reminders due reminders (10,000; seeded by `passerelle seed
// --due-now` into a bbolt store) drain through the real reminder
// dispatcher, the core and the Telegram Sender to the fake Bot API, which
// enforces Telegram's limits at 30 messages a second (and one a second per
// private chat), while -burst.residents residents (50) each send /help
// every -burst.every (5 s, jittered ±50 %) through long polling, the update
// dispatcher and the same core and Sender. It reports the residents'
// latency from an update's arrival at the fake to its reply's acceptance
// by the fake (p50-ms, p95-ms, p99-ms), the rate of all messages the fake
// accepted during the burst (msgs/s, pct_of_rate: replies and reminders
// share the 30 a second), the reminders' own rate (reminders/s) and the
// 429s the fake answered. It runs on the real clock, once per iteration
// (use -benchtime 1x).
var (
	burstReminders = flag.Int("burst.reminders", 10000, "due reminders BenchmarkReminderBurst drains")
	burstResidents = flag.Int("burst.residents", 50, "residents sending commands during BenchmarkReminderBurst")
	burstEvery     = flag.Duration("burst.every", 5*time.Second, "mean interval between two commands of one resident in BenchmarkReminderBurst")
)

// sharedCatalog is loaded once for the tests that do not watch for
// fallbacks (loading the 14 catalogs takes a while under -race).
var sharedCatalog = sync.OnceValues(func() (*catalog.Catalog, error) { return catalog.Load(locales.FS) })

// burstRate is Telegram's global message rate, of both the Sender and the
// fake.
const burstRate = 30

func BenchmarkReminderBurst(b *testing.B) {
	for range b.N {
		b.StopTimer()
		w := newBurstWorld(b, *burstReminders, burstRate)
		b.StartTimer()
		r := w.run(b, *burstResidents, *burstEvery)
		b.StopTimer()
		b.ReportMetric(r.quantile(0.50), "p50-ms")
		b.ReportMetric(r.quantile(0.95), "p95-ms")
		b.ReportMetric(r.quantile(0.99), "p99-ms")
		b.ReportMetric(r.msgsPerSec, "msgs/s")
		b.ReportMetric(100*r.msgsPerSec/burstRate, "pct_of_rate")
		b.ReportMetric(r.remindersPerSec, "reminders/s")
		b.ReportMetric(float64(r.limited), "429s")
		b.Logf("%d reminders in %v with %d residents' commands: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms (max %.0f ms); %.2f msgs/s (%.1f%% of %d/s), %.2f reminders/s, %d 429s",
			*burstReminders, r.took.Round(time.Millisecond), len(r.latencies), r.quantile(0.5), r.quantile(0.95), r.quantile(0.99), r.quantile(1), r.msgsPerSec, 100*r.msgsPerSec/burstRate, burstRate, r.remindersPerSec, r.limited)
	}
}

// TestBurstRepliesInterleave checks the mechanism BenchmarkReminderBurst
// measures, quickly (the fake and the Sender allow 200 messages a
// second): residents' replies go out during a burst of due reminders, on
// the interactive lane, ahead of the reminders still queued, instead of
// after the whole burst.
func TestBurstRepliesInterleave(t *testing.T) {
	t.Parallel()
	const n, rate = 240, 200
	w := newBurstWorld(t, n, rate)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.disp.Run(ctx)
	// Once the burst is under way, three residents write.
	w.waitSent(t, n/4)
	var asked []time.Time
	for i := range 3 {
		asked = append(asked, time.Now())
		w.srv.SendText(telegramtest.User{ID: int64(100 + i), LanguageCode: "fr"}, "/help")
	}
	w.waitSent(t, n)
	calls := w.srv.Calls("sendMessage")
	last := time.Time{}
	for _, c := range calls {
		if c.Status == 200 && w.isReminder(c) && c.At.After(last) {
			last = c.At
		}
	}
	for i := range 3 {
		chat := strconv.Itoa(100 + i)
		var reply *telegramtest.Call
		for _, c := range calls {
			if c.Status == 200 && c.Params["chat_id"] == chat {
				reply = &c
				break
			}
		}
		switch {
		case reply == nil:
			t.Errorf("resident %s got no reply", chat)
		case !reply.At.Before(last):
			t.Errorf("resident %s was answered after the whole burst (%v after asking; the last reminder went %v after)", chat, reply.At.Sub(asked[i]), last.Sub(asked[i]))
		}
	}
	if got := w.srv.RateLimited(); got != 0 {
		t.Errorf("the fake answered %d sends with 429", got)
	}
}

// burstWorld is the bot as runBot wires it, on the real clock, against the
// fake Bot API enforcing the flood limits, with reminders due in a bbolt
// store.
type burstWorld struct {
	srv   *telegramtest.Server
	disp  *reminder.Dispatcher
	n     int
	first int64 // the first seeded resident's chat
}

func newBurstWorld(tb testing.TB, n int, rate float64) *burstWorld {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "burst.db")
	env := envOf(map[string]string{"PASSERELLE_DATA_KEY": testDataKey})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed", "-n", strconv.Itoa(n), "--due-now", "--store", "bolt:" + path}, env, nil, &out, &out); err != nil {
		tb.Fatalf("seed: %v\n%s", err, out.String())
	}
	cfg, err := loadConfig(env)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := bolt.Open(path, bolt.WithKeys(cfg.DataKey))
	if err != nil {
		tb.Fatal(err)
	}
	w := &burstWorld{srv: telegramtest.NewServer(tb, telegramtest.WithFloodLimits(int(rate))), n: n, first: seedFirstUser}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := sharedCatalog()
	if err != nil {
		tb.Fatal(err)
	}
	client, err := telegram.New(ctx, telegram.Config{Token: w.srv.Token(), APIURL: w.srv.APIURL(), Logger: logger, SendRate: rate, PollTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	docs, sched, err := reminderParts(st)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: client.Sender(), Logger: logger, Location: cfg.Location, ReminderHour: cfg.ReminderHour, Documents: docs, Reminders: sched})
	if err != nil {
		tb.Fatal(err)
	}
	w.disp = reminder.NewDispatcher(sched, b, reminder.Config{Location: cfg.Location, Logger: logger, Poll: 100 * time.Millisecond})
	updates := bot.NewDispatcher(b, bot.DispatcherConfig{Logger: logger})
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); _ = client.Poll(ctx, updates) }()
	tb.Cleanup(func() {
		cancel()
		<-pollDone
		_ = updates.Close(context.Background())
		st.Close()
	})
	w.srv.WaitPolling(tb, 10*time.Second)
	return w
}

// isReminder reports whether c went to a seeded resident.
func (w *burstWorld) isReminder(c telegramtest.Call) bool {
	id, err := strconv.ParseInt(c.Params["chat_id"], 10, 64)
	return err == nil && id >= w.first && id < w.first+int64(w.n)
}

// sentReminders counts the reminders the fake accepted.
func (w *burstWorld) sentReminders() int {
	k := 0
	for _, c := range w.srv.Calls("sendMessage") {
		if c.Status == 200 && w.isReminder(c) {
			k++
		}
	}
	return k
}

// waitSent waits until the fake accepted k reminders.
func (w *burstWorld) waitSent(tb testing.TB, k int) {
	tb.Helper()
	deadline := time.Now().Add(time.Duration(w.n)*time.Second/5 + time.Minute)
	for w.sentReminders() < k {
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d reminders sent", w.sentReminders(), k)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type burstResult struct {
	latencies       []time.Duration
	took            time.Duration
	msgsPerSec      float64
	remindersPerSec float64
	limited         int
}

// quantile returns the q-quantile of the latencies, in milliseconds.
func (r burstResult) quantile(q float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(r.latencies))
	i := min(len(s)-1, int(q*float64(len(s))))
	return float64(s[i]) / float64(time.Millisecond)
}

// run drains the burst while residents write, and measures.
func (w *burstWorld) run(tb testing.TB, residents int, every time.Duration) burstResult {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	go w.disp.Run(ctx)
	type ask struct {
		chat int64
		at   time.Time
	}
	var mu sync.Mutex
	var asks []ask
	var wg sync.WaitGroup
	for i := range residents {
		u := telegramtest.User{ID: int64(1000 + i), LanguageCode: "fr"}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for {
				d := time.Duration(float64(every) * (0.5 + rng.Float64()))
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
				mu.Lock()
				asks = append(asks, ask{u.ID, time.Now()})
				mu.Unlock()
				w.srv.SendText(u, "/help")
			}
		})
	}
	w.waitSent(tb, w.n)
	cancel()
	wg.Wait()
	took := time.Since(start)
	calls := w.srv.Calls("sendMessage")
	replies := map[string][]time.Time{}
	var first, last time.Time
	accepted, reminders := 0, 0
	for _, c := range calls {
		if c.Status != 200 {
			continue
		}
		if w.isReminder(c) {
			reminders++
			if first.IsZero() || c.At.Before(first) {
				first = c.At
			}
			if c.At.After(last) {
				last = c.At
			}
			continue
		}
		replies[c.Params["chat_id"]] = append(replies[c.Params["chat_id"]], c.At)
	}
	for _, c := range calls {
		if c.Status == 200 && !c.At.Before(first) && !c.At.After(last) {
			accepted++
		}
	}
	for _, rs := range replies {
		slices.SortFunc(rs, func(x, y time.Time) int { return x.Compare(y) })
	}
	var r burstResult
	seen := map[int64]int{}
	mu.Lock()
	for _, a := range asks {
		// The k-th /help of a chat is answered by its k-th message; an ask
		// whose answer came after the burst ended is not counted.
		k := seen[a.chat]
		seen[a.chat]++
		rs := replies[strconv.FormatInt(a.chat, 10)]
		if k < len(rs) {
			r.latencies = append(r.latencies, rs[k].Sub(a.at))
		}
	}
	mu.Unlock()
	span := last.Sub(first).Seconds()
	r.took = took
	r.msgsPerSec = float64(accepted) / span
	r.remindersPerSec = float64(reminders) / span
	r.limited = w.srv.RateLimited()
	if r.limited != 0 {
		tb.Errorf("the fake answered %d sends with 429; want 0", r.limited)
	}
	if len(asks) > 0 && len(r.latencies) < len(asks)*9/10 {
		tb.Errorf("only %d of %d commands answered during the burst", len(r.latencies), len(asks))
	}
	return r
}

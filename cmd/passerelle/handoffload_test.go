package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// BenchmarkHandoffLoad (README, Benchmarks):
//
//	go test -run '^$' -bench HandoffLoad -benchtime 1x -timeout 30m ./cmd/passerelle
//
// -handoff.residents residents (200) have an open case, taken by a
// volunteer, in -handoff.groups partner groups (10; each case through the
// real intake in French, card and take, so each has its topic). Then every resident
// writes -handoff.messages messages (3) into their case at once, while 50
// other residents each send /help every 2.5 s or so. Telegram's limits — 20
// messages a minute per group, one a second per private chat, 30 a second
// in all — are applied by the transport and enforced by the fake Bot API
// on a fake clock of their own: while the cases open, it is advanced by
// 100 ms whenever something waits on it; while the residents write, it
// runs -handoff.speed times (10) as fast as the wall clock, so that the
// three minutes the groups' limit needs take 18 s.
//
// It checks that every case's topic receives its resident's messages
// once each, in order, none lost, and no 429; it reports when the last
// copy went, in the fake clock's minutes from the first message
// (last-copy-min, against the least the groups' limit allows:
// min-possible-min), and the other residents' reply latency meanwhile, in
// wall-clock time (p50-ms, p95-ms, p99-ms).
var (
	handoffResidents = flag.Int("handoff.residents", 200, "residents with an open case in BenchmarkHandoffLoad")
	handoffGroups    = flag.Int("handoff.groups", 10, "partner groups in BenchmarkHandoffLoad")
	handoffMessages  = flag.Int("handoff.messages", 3, "messages each resident writes into their case in BenchmarkHandoffLoad")
	handoffSpeed     = flag.Int("handoff.speed", 10, "how many times as fast as the wall clock Telegram's time runs while BenchmarkHandoffLoad's residents write")
)

func BenchmarkHandoffLoad(b *testing.B) {
	for range b.N {
		b.StopTimer()
		w := newLoadWorld(b, *handoffGroups)
		w.openCases(b, *handoffResidents)
		w.stop()
		// Two minutes on, so that the cards and topics the setup posted
		// have left the groups' minutes.
		w.tclk.Advance(2 * time.Minute)
		w.stop = advanceAtSpeed(w.tclk, *handoffSpeed)
		b.StartTimer()
		r := w.write(b, *handoffMessages)
		b.StopTimer()
		b.ReportMetric(r.lastCopy.Minutes(), "last-copy-min")
		b.ReportMetric(r.least.Minutes(), "min-possible-min")
		b.ReportMetric(float64(r.copies), "copies")
		b.ReportMetric(r.quantile(0.50), "p50-ms")
		b.ReportMetric(r.quantile(0.95), "p95-ms")
		b.ReportMetric(r.quantile(0.99), "p99-ms")
		b.Logf("%d copies into %d topics of %d groups: the last after %.2f min of Telegram time (at least %.1f at 20 a minute per group), in order, once each, %d 429s; %d replies to other residents meanwhile: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms (wall clock, Telegram's time at %dx)",
			r.copies, *handoffResidents, *handoffGroups, r.lastCopy.Minutes(), r.least.Minutes(), r.limited, len(r.latencies), r.quantile(0.5), r.quantile(0.95), r.quantile(0.99), r.quantile(1), *handoffSpeed)
	}
}

// loadWorld is the bot with a partners file of n partners, each with its
// own group, département (01, 02…) and volunteer, Telegram's limits on the
// transport's fake clock tclk.
type loadWorld struct {
	srv    *telegramtest.Server
	tclk   *clock.Fake
	st     *bolt.Store
	groups []int64
	deps   []string
	vols   []telegramtest.User
	cases  [][]loadCase // per group
	stop   func()       // stops advancing tclk
}

type loadCase struct {
	u      telegramtest.User
	id     int64
	thread int
}

// advanceAtSpeed moves clk forward speed times as fast as the wall
// clock, in steps of a millisecond of wall time, until stop is called.
func advanceAtSpeed(clk *clock.Fake, speed int) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				clk.Advance(now.Sub(last) * time.Duration(speed))
				last = now
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func loadGroup(i int) int64 { return -1002000000000 - int64(i) }

func newLoadWorld(tb testing.TB, n int) *loadWorld {
	tb.Helper()
	// A Wednesday at 10:00 in Paris: partners open (they are open all week).
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	w := &loadWorld{tclk: clock.NewFake(now)}
	w.srv = telegramtest.NewServer(tb, telegramtest.WithFloodLimits(0), telegramtest.WithNow(w.tclk.Now))
	rights := telegramtest.ChatAdminRights{CanManageChat: true, CanDeleteMessages: true, CanPinMessages: true, CanManageTopics: true}
	var yaml strings.Builder
	yaml.WriteString("partners:\n")
	for i := range n {
		g, dep := loadGroup(i), fmt.Sprintf("%02d", i+1)
		vol := telegramtest.User{ID: int64(300000000 + i), FirstName: "Vol" + strconv.Itoa(i)}
		w.groups, w.deps, w.vols = append(w.groups, g), append(w.deps, dep), append(w.vols, vol)
		w.srv.AddGroup(g, "Partenaire "+dep, true, rights)
		w.srv.SetMember(g, vol, "member")
		fmt.Fprintf(&yaml, "  - id: p%02d\n    name: Partenaire %s\n    chat_id: %d\n    departements: [%q]\n    languages: [fr]\n    problems: all\n", i, dep, g, dep)
		yaml.WriteString("    hours:\n")
		for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
			fmt.Fprintf(&yaml, "      %s: 00:00-24:00\n", d)
		}
		fmt.Fprintf(&yaml, "    capacity: 1000\n    referents: [%d]\n", vol.ID)
	}
	path := filepath.Join(tb.TempDir(), "partners.yaml")
	if err := os.WriteFile(path, []byte(yaml.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	partners, err := loadPartners(path)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "load.db"), bolt.WithKeys(testKeys))
	if err != nil {
		tb.Fatal(err)
	}
	w.st = st
	cat, err := sharedCatalog()
	if err != nil {
		tb.Fatal(err)
	}
	// Telegram's default limits, on the transport's clock.
	client, err := telegram.New(ctx, telegram.Config{Token: w.srv.Token(), APIURL: w.srv.APIURL(), Logger: logger, Clock: w.tclk, PollTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	docs, sched, _ := reminderParts(st)
	cases, _ := caseStore(st)
	outbox, _ := outboxOf(st)
	paris, _ := time.LoadLocation("Europe/Paris")
	b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: client.Sender(), Logger: logger, Location: paris,
		Documents: docs, Reminders: sched, Partners: partners, Cases: cases, Groups: client, Outbox: outbox, BotUsername: client.Username()})
	if err != nil {
		tb.Fatal(err)
	}
	checkGroups(ctx, partners, client, b, logger)
	relayDone := make(chan struct{})
	go func() { defer close(relayDone); _ = b.RunRelay(ctx) }()
	updates := bot.NewDispatcher(b, bot.DispatcherConfig{Logger: logger})
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); _ = client.Poll(ctx, updates) }()
	w.stop = advanceWhileWaiting(w.tclk)
	tb.Cleanup(func() {
		w.stop()
		cancel()
		<-pollDone
		_ = updates.Close(context.Background())
		<-relayDone
		st.Close()
	})
	w.srv.WaitPolling(tb, wait)
	return w
}

func (w *loadWorld) t(id string, args ...any) string {
	cat, _ := sharedCatalog()
	return cat.Printer("fr").T(id, args...)
}

func (w *loadWorld) do(tb testing.TB, id int64) {
	tb.Helper()
	w.srv.WaitDelivered(tb, id, time.Minute)
}

func (w *loadWorld) press(tb testing.TB, u telegramtest.User, chat int64, label string) {
	tb.Helper()
	id, err := w.srv.PressButton(u, chat, label)
	if err != nil {
		tb.Fatal(err)
	}
	w.do(tb, id)
}

// openCases opens n cases, spread over the groups, through the intake,
// and has each taken by its group's volunteer (so each has a topic).
// Groups are served in parallel, the cases of one group one by one.
func (w *loadWorld) openCases(tb testing.TB, n int) {
	tb.Helper()
	w.cases = make([][]loadCase, len(w.groups))
	var wg sync.WaitGroup
	for g := range w.groups {
		wg.Go(func() {
			for k := g; k < n; k += len(w.groups) {
				u := telegramtest.User{ID: int64(8000000 + k), LanguageCode: "fr"}
				w.do(tb, w.srv.SendText(u, "/volunteer"))
				w.press(tb, u, u.ID, w.t("help.problem.login"))
				w.do(tb, w.srv.SendText(u, w.deps[g]))
				w.do(tb, w.srv.SendText(u, "30/06/2027"))
				w.press(tb, u, u.ID, "◻️ "+w.t("help.risk.work"))
				w.press(tb, u, u.ID, w.t("help.risk.done"))
				w.press(tb, u, u.ID, w.t("help.skip"))
				w.press(tb, u, u.ID, w.t("help.consent.yes"))
				cs, err := w.st.CasesOf(context.Background(), u.ID)
				if err != nil || len(cs) != 1 || cs[0].TopicChat != 0 && cs[0].TopicChat != w.groups[g] {
					tb.Errorf("cases of resident %d: %+v, %v", k, cs, err)
					return
				}
				w.press(tb, w.vols[g], w.groups[g], w.t("case.take"))
				c, err := w.st.Case(context.Background(), cs[0].ID)
				if err != nil || c.TopicID == 0 {
					tb.Errorf("case %d not taken with a topic: %+v, %v", cs[0].ID, c, err)
					return
				}
				w.cases[g] = append(w.cases[g], loadCase{u: u, id: c.ID, thread: c.TopicID})
			}
		})
	}
	wg.Wait()
	if tb.Failed() {
		tb.FailNow()
	}
	w.outboxDrained(tb)
}

// outboxDrained waits until the relay outbox is empty.
func (w *loadWorld) outboxDrained(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		chats, err := w.st.OutboxChats(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		if len(chats) == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the outbox still has copies for %v", chats)
		}
		time.Sleep(time.Millisecond) // polls the store, which has no change signal
	}
}

// copies returns the texts of case c's copies in its topic, in order.
func (w *loadWorld) copies(g int, c loadCase) []string {
	header := catalog.PlainText(w.t("case.copy_header", "Case", c.id))
	var out []string
	for _, m := range w.srv.Messages(w.groups[g]) {
		if m.ThreadID == c.thread && !m.Deleted && strings.HasPrefix(m.PlainText, header) {
			out = append(out, m.PlainText)
		}
	}
	return out
}

type loadResult struct {
	lastCopy, least time.Duration
	copies          int
	limited         int
	latencies       []time.Duration
}

func (r loadResult) quantile(q float64) float64 {
	return burstResult{latencies: r.latencies}.quantile(q)
}

// write has every resident write m messages into their case at once,
// while other residents ask for /help, and waits for every copy.
func (w *loadWorld) write(tb testing.TB, m int) loadResult {
	tb.Helper()
	var r loadResult
	limited := w.srv.RateLimited()
	start := w.tclk.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var wg, others sync.WaitGroup
	var mu sync.Mutex
	for i := range 50 {
		u := telegramtest.User{ID: int64(8500000 + i), LanguageCode: "fr"}
		others.Go(func() {
			// Every 2.5 s, jittered: under the core's flood limit (one
			// update per 2 s after a burst), whose silence would read as
			// a lost reply.
			for first := true; ; first = false {
				wait := time.Duration(2500+i*7%500) * time.Millisecond
				if first {
					wait = time.Duration(i*50) * time.Millisecond
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				asked := time.Now()
				before := len(w.srv.Messages(u.ID))
				w.do(tb, w.srv.SendText(u, "/help"))
				for len(w.srv.Messages(u.ID)) <= before {
					if time.Since(asked) > time.Minute {
						tb.Errorf("resident %d: no reply to /help after a minute", u.ID)
						return
					}
					select {
					case <-w.srv.Changed():
					case <-time.After(10 * time.Millisecond):
					}
				}
				mu.Lock()
				r.latencies = append(r.latencies, time.Since(asked))
				mu.Unlock()
			}
		})
	}
	total := 0
	for g, cs := range w.cases {
		total += len(cs) * m
		// The least time the group's limit allows: 20 copies a minute,
		// the first 20 at once.
		if least := time.Duration((len(cs)*m-1)/telegramtest.FloodGroupPerMinute) * time.Minute; least > r.least {
			r.least = least
		}
		for _, c := range cs {
			wg.Go(func() {
				for k := 1; k <= m; k++ {
					w.do(tb, w.srv.SendText(c.u, fmt.Sprintf("r%d g%d message %d", c.u.ID, g, k)))
				}
			})
		}
	}
	wg.Wait()
	// Wait for every copy, noting the transport's time of the last.
	deadline := time.Now().Add(10 * time.Minute)
	for {
		changed := w.srv.Changed()
		n := 0
		for g, cs := range w.cases {
			for _, c := range cs {
				n += len(w.copies(g, c))
			}
		}
		if n >= total {
			r.lastCopy = w.tclk.Now().Sub(start)
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d copies after 10 minutes", n, total)
		}
		select {
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel()
	others.Wait()
	w.outboxDrained(tb)
	for g, cs := range w.cases {
		for _, c := range cs {
			got := w.copies(g, c)
			r.copies += len(got)
			if len(got) != m {
				tb.Errorf("case %d: %d copies, want %d, once each", c.id, len(got), m)
				continue
			}
			for k, text := range got {
				if want := fmt.Sprintf("r%d g%d message %d", c.u.ID, g, k+1); !strings.HasSuffix(text, want) {
					tb.Errorf("case %d copy %d = %q, want %q, in order", c.id, k+1, text, want)
				}
			}
		}
	}
	r.limited = w.srv.RateLimited() - limited
	if r.limited != 0 {
		tb.Errorf("the fake answered %d sends with 429", r.limited)
	}
	slices.Sort(r.latencies)
	return r
}

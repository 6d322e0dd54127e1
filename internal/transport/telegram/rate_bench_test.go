package telegram_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// reminders is how many due reminders BenchmarkReminderRate dispatches. At
// 30 messages a second the default takes about 10 s; 10000 take about 5.5
// minutes:
//
//	go test -run '^$' -bench ReminderRate -benchtime 1x -timeout 30m \
//	    ./internal/transport/telegram -reminders=10000
var reminders = flag.Int("reminders", 300, "due reminders BenchmarkReminderRate dispatches, one private chat each")

// benchSendRate is the rate of both the Sender (Config.SendRate, fed by
// PASSERELLE_SEND_RATE) and the fake Bot API's flood limit.
const benchSendRate = 30

// BenchmarkReminderRate measures how close a reminder broadcast gets to the
// global send rate: -reminders due reminders for as many private chats go
// through reminder.Dispatcher, whose Notifier sends one message per claim on
// the Sender's bulk lane, to a fake Bot API enforcing Telegram's flood limits
// at the same rate. It reports msgs/s, the percentage of the configured rate
// (pct_of_rate) and the 429s the fake answered (429s), which must be 0: the
// benchmark fails otherwise.
//
// msgs/s is reminders over the wall time of the broadcast. The window
// starts empty, so the first second's messages go at once and a short run
// reads above the rate (300 reminders: about 110%); with 10000 that start
// weighs 0.3%.
//
// Each iteration is one whole broadcast on a fresh server and client; run it
// with -benchtime 1x. It runs on the real clock, as a bot would.
func BenchmarkReminderRate(b *testing.B) {
	n := *reminders
	if n <= 0 {
		b.Fatalf("-reminders=%d; want > 0", n)
	}
	var total time.Duration
	sent, limited := 0, 0
	for range b.N {
		b.StopTimer()
		r := newReminderBench(b, n)
		b.StartTimer()
		start := time.Now()
		r.dispatchAll(b)
		total += time.Since(start)
		b.StopTimer()
		sent += n
		limited += r.s.RateLimited()
		if got := len(r.s.Calls("sendMessage")) - r.s.RateLimited(); got != n {
			b.Fatalf("the fake accepted %d messages; want %d", got, n)
		}
		r.s.RequireNoSpecErrors(b)
	}
	rate := float64(sent) / total.Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(100*rate/benchSendRate, "pct_of_rate")
	b.ReportMetric(float64(limited), "429s")
	b.Logf("%d reminders in %v: %.2f msgs/s, %.1f%% of %d/s, %d 429s",
		sent, total.Round(time.Millisecond), rate, 100*rate/benchSendRate, benchSendRate, limited)
	if limited != 0 {
		b.Errorf("the fake answered %d sends with 429; want 0", limited)
	}
}

// reminderBench is one broadcast: a fake Bot API, a Client and a Dispatcher
// over a store holding n due reminders.
type reminderBench struct {
	s     *telegramtest.Server
	store *memStore
	d     *reminder.Dispatcher
	n     int
}

func newReminderBench(tb testing.TB, n int) *reminderBench {
	tb.Helper()
	s := telegramtest.NewServer(tb, telegramtest.WithFloodLimits(benchSendRate))
	c, err := telegram.New(context.Background(), telegram.Config{
		Token:    s.Token(),
		APIURL:   s.APIURL(),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		SendRate: benchSendRate,
	})
	if err != nil {
		tb.Fatalf("telegram.New: %v", err)
	}
	store := newMemStore()
	due := time.Now().Add(-time.Minute)
	for i := range n {
		id := fmt.Sprintf("%d:doc", benchChat(i))
		if err := store.Schedule(context.Background(), id, due.Add(time.Duration(i)*time.Millisecond)); err != nil {
			tb.Fatalf("Schedule: %v", err)
		}
	}
	d := reminder.NewDispatcher(store, bulkNotifier{c.Sender()}, reminder.Config{Location: time.UTC})
	return &reminderBench{s: s, store: store, d: d, n: n}
}

// benchChat is the private chat of reminder i.
func benchChat(i int) int64 { return 500000 + int64(i) }

// dispatchAll runs dispatcher passes until every reminder was sent.
func (r *reminderBench) dispatchAll(tb testing.TB) {
	tb.Helper()
	// Far more than the broadcast needs at the configured rate: a bound
	// against a hang, not a measurement.
	limit := 2*time.Duration(r.n)*time.Second/benchSendRate + time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	sent := 0
	for sent < r.n {
		k, err := r.d.RunOnce(ctx)
		if err != nil {
			tb.Fatalf("RunOnce after %d sent: %v", sent, err)
		}
		if k == 0 {
			tb.Fatalf("RunOnce sent nothing after %d of %d", sent, r.n)
		}
		sent += k
	}
	if left := r.store.len(); left != 0 {
		tb.Fatalf("%d reminders left in the store", left)
	}
}

// bulkNotifier sends one message per claim, on the bulk lane, to the chat
// named by the claim's id ("<chat>:<doc>").
type bulkNotifier struct{ s bot.Sender }

func (n bulkNotifier) Notify(ctx context.Context, c reminder.Claim) (time.Time, error) {
	chat, _, _ := strings.Cut(c.ID, ":")
	id, err := strconv.ParseInt(chat, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("reminder id %q: %w", c.ID, err)
	}
	_, err = n.s.Send(ctx, bot.Reply{ChatID: id, Lane: bot.LaneBulk,
		Text: "Rappel : votre titre de séjour expire dans 2 mois. Pensez à demander son renouvellement."})
	if err != nil {
		return time.Time{}, fmt.Errorf("notify %s: %w", c.ID, err)
	}
	return time.Time{}, nil
}

// memStore is an in-memory reminder.Store; leases are judged by the real
// clock.
type memStore struct {
	clk clock.Clock

	mu      sync.Mutex
	entries map[string]*memEntry
	seq     int
}

type memEntry struct {
	due        time.Time
	token      string
	leaseUntil time.Time
	attempts   int
}

var _ reminder.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{clk: clock.Real{}, entries: map[string]*memEntry{}}
}

func (s *memStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

func (s *memStore) Schedule(_ context.Context, id string, due time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[id]; ok && e.due.Equal(due) {
		return nil
	}
	s.entries[id] = &memEntry{due: due}
	return nil
}

func (s *memStore) Cancel(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, id)
	return nil
}

func (s *memStore) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]reminder.Claim, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.clk.Now()
	var ids []string
	for id, e := range s.entries {
		if e.token != "" && at.Before(e.leaseUntil) {
			continue // leased
		}
		if e.token != "" || !e.due.After(now) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := s.entries[ids[i]], s.entries[ids[j]]
		if !a.due.Equal(b.due) {
			return a.due.Before(b.due)
		}
		return ids[i] < ids[j]
	})
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]reminder.Claim, 0, len(ids))
	for _, id := range ids {
		e := s.entries[id]
		s.seq++
		e.token = strconv.Itoa(s.seq)
		e.leaseUntil = at.Add(lease)
		e.attempts++
		out = append(out, reminder.Claim{ID: id, Due: e.due, Token: e.token, Attempts: e.attempts})
	}
	return out, nil
}

func (s *memStore) Ack(_ context.Context, id, token string, next time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok || e.token != token {
		return reminder.ErrLeaseLost
	}
	if next.IsZero() {
		delete(s.entries, id)
		return nil
	}
	s.entries[id] = &memEntry{due: next}
	return nil
}

func (s *memStore) Renew(_ context.Context, held []reminder.Claim, lease time.Duration) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lost []string
	for _, c := range held {
		e, ok := s.entries[c.ID]
		if !ok || e.token == "" || e.token != c.Token {
			lost = append(lost, c.ID)
			continue
		}
		e.leaseUntil = s.clk.Now().Add(lease)
	}
	return lost, nil
}

func (s *memStore) Get(_ context.Context, id string) (reminder.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return reminder.Entry{}, false, nil
	}
	return reminder.Entry{ID: id, Due: e.due, Leased: e.token != "" && s.clk.Now().Before(e.leaseUntil)}, true, nil
}

package telegram_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// guard bounds every wait of a test so that a bug fails it instead of
// hanging; it is never what a test asserts.
const guard = 10 * time.Second

// logBuffer collects JSON log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a Client wired to the fake Bot API with a fake clock.
type env struct {
	s    *telegramtest.Server
	c    *telegram.Client
	clk  *clock.Fake
	logs *logBuffer
}

// newEnv starts a fake Bot API and a Client with limits high enough not to
// matter; mod may change the config before New.
func newEnv(tb testing.TB, mod func(*telegram.Config), opts ...telegramtest.Option) *env {
	tb.Helper()
	s := telegramtest.NewServer(tb, opts...)
	e := &env{s: s, clk: clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), logs: &logBuffer{}}
	cfg := telegram.Config{
		Token:          s.Token(),
		APIURL:         s.APIURL(),
		Logger:         slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:          e.clk,
		SendRate:       -1, // no limits: the fake clock stands still
		ChatInterval:   -1,
		GroupPerMinute: -1,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := telegram.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	e.c = c
	tb.Cleanup(func() { assertNoToken(tb, s.Token(), "logs", e.logs.String()) })
	return e
}

// assertNoToken fails if text holds the token or its secret half.
func assertNoToken(tb testing.TB, token, what, text string) {
	tb.Helper()
	_, secret, _ := strings.Cut(token, ":")
	if strings.Contains(text, token) || (secret != "" && strings.Contains(text, secret)) {
		tb.Errorf("%s contain the bot token:\n%s", what, text)
	}
}

// blockUntil waits until the fake clock has n waiters.
func blockUntil(tb testing.TB, clk *clock.Fake, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if !clk.BlockUntil(ctx, n) {
		tb.Fatalf("clock: %d waiters, want %d", clk.Waiters(), n)
	}
}

// keepAdvancing advances clk by step whenever something waits on it, until
// stop is called.
func keepAdvancing(clk *clock.Fake, step time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for clk.BlockUntil(ctx, 1) {
			clk.Advance(step)
		}
	}()
	return func() { cancel(); <-done }
}

type sendResult struct {
	id  int
	err error
}

// goSend runs Send in a goroutine.
func goSend(ctx context.Context, s bot.Sender, r bot.Reply) <-chan sendResult {
	ch := make(chan sendResult, 1)
	go func() {
		id, err := s.Send(ctx, r)
		ch <- sendResult{id, err}
	}()
	return ch
}

func wait[T any](tb testing.TB, ch <-chan T) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		tb.Fatal("timed out")
		var zero T
		return zero
	}
}

// chatIDs returns the chat_id parameter of calls.
func chatIDs(calls []telegramtest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Params["chat_id"])
	}
	return out
}

// recorder is a Dispatcher that records submitted updates and lets the test
// call done. If auto is set, done is called at once.
type recorder struct {
	auto bool

	mu      sync.Mutex
	updates []bot.Update
	dones   []func()
	changed chan struct{}
}

func newRecorder(auto bool) *recorder {
	return &recorder{auto: auto, changed: make(chan struct{})}
}

func (r *recorder) Submit(ctx context.Context, u bot.Update, done func()) error {
	r.mu.Lock()
	r.updates = append(r.updates, u)
	r.dones = append(r.dones, done)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	if r.auto {
		done()
	}
	return nil
}

// waitN waits until at least n updates were submitted and returns them.
func (r *recorder) waitN(tb testing.TB, n int) []bot.Update {
	tb.Helper()
	deadline := time.After(guard)
	for {
		r.mu.Lock()
		got, ch := append([]bot.Update(nil), r.updates...), r.changed
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			tb.Fatalf("%d updates submitted, want %d", len(got), n)
		}
	}
}

func (r *recorder) done(i int) {
	r.mu.Lock()
	d := r.dones[i]
	r.mu.Unlock()
	d()
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.updates)
}

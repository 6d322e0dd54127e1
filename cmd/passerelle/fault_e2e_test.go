package main

import (
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/fault"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/locales"
)

// TestRunAnswersAfterRedisRestart: the real program (run, long polling,
// the fake Bot API) on a redis-server of the test's own, restarted while a
// resident writes. The update is not confirmed to Telegram while Redis is
// down; the resident is told once, in Arabic, that the service is
// temporarily unavailable, then answered once Redis is back, with no
// second welcome (on main: dropped after 1.5 s of retries, never answered).
func TestRunAnswersAfterRedisRestart(t *testing.T) {
	t.Parallel()
	rs := fault.StartRedis(t)
	srv := telegramtest.NewServer(t)
	in := startBot(t, baseEnv(t, srv, rs.URL()))
	srv.WaitPolling(t, wait)
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	ar := cat.Printer("ar")
	plain := func(key string) string { return catalog.PlainText(ar.T(key)) }
	count := func(key string) int {
		n := 0
		for _, m := range srv.Messages(samir.ID) {
			if strings.Contains(m.PlainText, plain(key)) {
				n++
			}
		}
		return n
	}
	srv.WaitDelivered(t, srv.SendText(samir, "/start"), wait)

	rs.Stop()
	down := time.Now()
	help := srv.SendText(samir, "/help")
	waitUntil(t, "the notice", wait, func() bool { return count("error.unavailable") > 0 })
	noticed := time.Since(down)
	waitUntil(t, "an outage of 2.5 s", wait, func() bool { return time.Since(down) > 2500*time.Millisecond })
	if srv.Delivered(help) {
		t.Fatalf("the update was confirmed to Telegram while Redis was down\nlogs:\n%s", in.logs.String())
	}
	rs.Start()
	back := time.Now()
	waitUntil(t, "the answer after the restart", 3*wait, func() bool { return count("help.body") > 0 })
	answered := time.Since(back)
	srv.WaitDelivered(t, help, wait)
	t.Logf("run(): notice %s after Redis stopped; answer %s after it was back (outage %s)",
		noticed.Round(10*time.Millisecond), answered.Round(10*time.Millisecond), back.Sub(down).Round(10*time.Millisecond))
	for key, want := range map[string]int{"error.unavailable": 1, "welcome.title": 1, "help.body": 1, "error.apology": 0} {
		if got := count(key); got != want {
			t.Errorf("resident got %s %d times; want %d", key, got, want)
		}
	}
}

var samir = telegramtest.User{ID: 7400777, FirstName: "Samir", LanguageCode: "ar"}

// waitUntil polls cond every 10 ms, for at most limit.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

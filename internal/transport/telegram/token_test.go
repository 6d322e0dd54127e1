package telegram_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
)

const secretToken = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// tokenCase collects the logs and every error string of a scenario, then
// checks that none holds the token.
type tokenCase struct {
	t    *testing.T
	logs logBuffer
	errs []string
}

func (tc *tokenCase) config(apiURL string, clk clock.Clock) telegram.Config {
	return telegram.Config{
		Token:  secretToken,
		APIURL: apiURL,
		Logger: slog.New(slog.NewJSONHandler(&tc.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:  clk,
	}
}

func (tc *tokenCase) record(err error) {
	if err != nil {
		tc.errs = append(tc.errs, err.Error())
	}
}

func (tc *tokenCase) check() {
	tc.t.Helper()
	if len(tc.errs) == 0 {
		tc.t.Error("the scenario produced no error to check")
	}
	assertNoToken(tc.t, secretToken, "errors", strings.Join(tc.errs, "\n"))
	assertNoToken(tc.t, secretToken, "logs", tc.logs.String())
}

func TestTokenNotLeakedUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	tc := &tokenCase{t: t}
	_, err = telegram.New(context.Background(), tc.config("http://"+addr, clock.NewFake(time.Now())))
	if err == nil {
		t.Fatal("New against a closed port succeeded")
	}
	tc.record(err)
	if !strings.Contains(err.Error(), "<token>") {
		t.Errorf("New error = %q; want the URL with the token redacted", err)
	}
	tc.check()
}

func TestTokenNotLeakedServerErrors(t *testing.T) {
	for _, body := range []string{
		"Internal Server Error", // not JSON
		`{"ok":false,"error_code":500,"description":"Internal Server Error"}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, body)
		}))
		tc := &tokenCase{t: t}
		_, err := telegram.New(context.Background(), tc.config(srv.URL, clock.NewFake(time.Now())))
		if err == nil {
			t.Fatal("New against a failing server succeeded")
		}
		tc.record(err)
		tc.check()
		srv.Close()
	}
}

// TestTokenNotLeakedAfterStart: the API fails after getMe (500, then the
// server goes away); sends, polling and other calls fail without the token.
func TestTokenNotLeakedAfterStart(t *testing.T) {
	polls := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/getMe"):
			io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"b","username":"b_bot"}}`)
			return
		case strings.HasSuffix(r.URL.Path, "/deleteWebhook"):
			io.WriteString(w, `{"ok":true,"result":true}`)
			return
		case strings.HasSuffix(r.URL.Path, "/getUpdates"):
			polls <- struct{}{}
		}
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
	}))
	defer srv.Close()
	clk := clock.NewFake(time.Now())
	tc := &tokenCase{t: t}
	c, err := telegram.New(context.Background(), tc.config(srv.URL, clk))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	for _, phase := range []string{"500", "down"} {
		if phase == "down" {
			srv.Close()
		}
		stop := keepAdvancing(clk, time.Minute)
		_, err = c.Sender().Send(ctx, bot.Reply{ChatID: 5, Text: "hi"})
		if err == nil || errors.Is(err, bot.ErrRejected) {
			t.Errorf("%s: Send = %v; want a transient error", phase, err)
		}
		tc.record(err)
		_, err = c.SyncCommands(ctx, map[string][]telegram.Command{"": {{Name: "start", Description: "Start"}}})
		tc.record(err)
		tc.record(c.AnswerCallback(ctx, "q", ""))
		tc.record(c.SetWebhook(ctx, "https://example.org/hook", ""))

		pctx, cancel := context.WithCancel(ctx)
		res := goPoll(pctx, c, newRecorder(true))
		if phase == "500" {
			for i := 0; i < 3; i++ { // a few failed polls and backoffs
				wait(t, polls)
			}
		} else {
			blockUntil(t, clk, 1) // deleteWebhook failed and backs off
		}
		cancel()
		tc.record(wait(t, res))
		stop()
	}
	if !strings.Contains(tc.logs.String(), "telegram_poll_error") {
		t.Errorf("no telegram_poll_error logged:\n%s", tc.logs.String())
	}
	tc.check()
}

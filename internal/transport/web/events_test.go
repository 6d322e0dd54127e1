package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
)

// TestEventStreamOutlivesServerTimeouts: the live stream keeps working on a
// server whose read and write timeouts (`run` and `web` set them all) pass
// while it is open: each event extends the write deadline through
// http.ResponseController (without it the stream ends at WriteTimeout;
// net/http itself lifts the read deadline while a handler runs).
func TestEventStreamOutlivesServerTimeouts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "en")
	b.open("/chat/")
	id := residentID(t, w, b)

	const timeout = 50 * time.Millisecond
	srv := httptest.NewUnstartedServer(w.page)
	srv.Config.ReadHeaderTimeout = timeout
	srv.Config.ReadTimeout = timeout
	srv.Config.WriteTimeout = timeout
	srv.Config.IdleTimeout = timeout
	srv.Start()
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/chat/events", nil)
	req.Header.Set("Cookie", "__Host-passerelle="+b.cookie)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, _ := rd.ReadString('\n'); !strings.HasPrefix(line, ": stream") {
		t.Fatalf("stream starts with %q", line)
	}
	// Past every timeout of the server (real time: the deadlines are the
	// network's), a message still reaches the open page.
	time.Sleep(4 * timeout)
	if _, err := w.page.Send(context.Background(), bot.Reply{ChatID: id, Text: "Still there"}); err != nil {
		t.Fatal(err)
	}
	var event strings.Builder
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended after the server's timeouts: %v (got %q)", err, event.String())
		}
		if line == "\n" && strings.Contains(event.String(), "event:") {
			break
		}
		event.WriteString(line)
	}
	if !strings.Contains(event.String(), "Still there") {
		t.Errorf("event = %q", event.String())
	}
}

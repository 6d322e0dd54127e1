package telegram

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
)

func TestTracker(t *testing.T) {
	tr := newTracker()
	if got := tr.offset(); got != 0 {
		t.Fatalf("offset() of a new tracker = %d; want 0", got)
	}
	for _, id := range []int64{10, 11, 12} {
		if !tr.add(id) {
			t.Fatalf("add(%d) = false for a new id", id)
		}
	}
	if tr.add(11) {
		t.Error("add(11) = true for a re-delivered id")
	}
	steps := []struct {
		done int64
		want int64
	}{
		{11, 10}, // 10 still in flight
		{10, 12},
		{12, 13},
	}
	for _, s := range steps {
		tr.done(s.done)
		if got := tr.offset(); got != s.want {
			t.Errorf("after done(%d): offset() = %d; want %d", s.done, got, s.want)
		}
	}
	if !tr.add(13) || tr.add(13) {
		t.Error("add(13) twice: want true then false")
	}
	// Telegram restarts ids after a week without updates: a smaller id
	// with nothing in flight is new.
	tr.done(13)
	tr.offset()
	if !tr.add(5) {
		t.Error("add(5) after an id restart = false; want true")
	}
}

// stubAPI answers getMe, deleteWebhook and one getUpdates batch, then
// empty batches.
func stubAPI(t *testing.T, batch string) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	served := false
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body to EOF lets the server notice a cancelled
		// request and cancel r.Context.
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/getMe"):
			io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"b","username":"b_bot"}}`)
		case strings.HasSuffix(r.URL.Path, "/getUpdates"):
			mu.Lock()
			first := !served
			served = true
			mu.Unlock()
			if first {
				io.WriteString(w, `{"ok":true,"result":`+batch+`}`)
				return
			}
			select { // a long poll with nothing new
			case <-r.Context().Done():
			case <-stop:
			}
		default:
			io.WriteString(w, `{"ok":true,"result":true}`)
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	return srv
}

type chanDispatcher chan bot.Update

func (c chanDispatcher) Submit(ctx context.Context, u bot.Update, done func()) error {
	c <- u
	done()
	return nil
}

func TestPollSkipsUpdatesWithoutID(t *testing.T) {
	srv := stubAPI(t, `[{"update_id":"x"},{"update_id":5.5},{"message":{}},{"update_id":7,"message":{"message_id":1,"chat":{"id":1,"type":"private"},"text":"hi"}}]`)
	c, err := New(context.Background(), Config{Token: "1:t", APIURL: srv.URL, Clock: newFake(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	d := make(chanDispatcher, 4)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- c.Poll(ctx, d) }()
	u := <-d
	if u.ID != 7 || u.Text != "hi" {
		t.Errorf("submitted %+v; want update 7", u)
	}
	cancel()
	if err := <-res; err != nil {
		t.Errorf("Poll = %v", err)
	}
	if len(d) != 0 {
		t.Errorf("%d more updates submitted; want none", len(d))
	}
}

func TestTrackerSkip(t *testing.T) {
	tr := newTracker()
	for id := int64(1); id <= 4; id++ {
		tr.add(id)
	}
	tr.done(2)
	if id, ok := tr.skip(); !ok || id != 1 {
		t.Fatalf("skip() = %d, %v; want 1, the oldest in flight", id, ok)
	}
	if got := tr.offset(); got != 3 {
		t.Errorf("offset() after skipping 1 = %d; want 3 (2 is done)", got)
	}
	tr.done(1) // the skipped update finishes later: nothing changes
	if id, ok := tr.skip(); !ok || id != 3 {
		t.Fatalf("second skip() = %d, %v; want 3", id, ok)
	}
	tr.done(4)
	if got := tr.offset(); got != 5 {
		t.Errorf("offset() = %d; want 5", got)
	}
	if _, ok := tr.skip(); ok {
		t.Error("skip() with nothing in flight = true")
	}
}

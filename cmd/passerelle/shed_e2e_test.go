package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/locales"
)

// TestSlowChatDoesNotDelayOthers: 100 updates queued for one slow chat do
// not delay the answer to another chat. The slow resident's first answer
// hangs at the fake Bot API until the test releases it (no timer); 99 more
// updates of that chat follow (edits, which the bot handles without
// sending anything, so that the queue drains at once when released), then
// another resident writes. Through the real run() with long polling, the
// other resident is answered while the slow chat's first answer still
// hangs: the slow chat keeps a bounded queue, its newest updates are shed
// with one translated "please wait", and the poller reads past the slow
// update instead of waiting for it.
func TestSlowChatDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t)
	env := baseEnv(t, srv, "bolt:"+filepath.Join(t.TempDir(), "shed.db"))
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	es, en := cat.Printer("es"), cat.Printer("en")

	slow := telegramtest.User{ID: 6001, FirstName: "S", LanguageCode: "es"}
	other := telegramtest.User{ID: 6002, FirstName: "O", LanguageCode: "en"}
	release := make(chan struct{})
	srv.FailNext(slow.ID, telegramtest.Fault{Until: release})
	in := startBot(t, env)
	var once sync.Once
	unhold := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unhold) // before stopping the bot, even when failing early
	srv.WaitPolling(t, wait)

	first := srv.SendText(slow, "/help")
	msgID := srv.LastUserMessageID(slow.ID)
	// The answer to it is on its way, and held, before anything else of
	// that chat arrives (so that the "please wait" is never the one held).
	for deadline := time.Now().Add(wait); srv.PendingFaults() > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the slow chat's first answer was not sent within %v\n%s", wait, in.logs.String())
		}
	}
	var last int64
	for i := range 99 {
		raw, err := json.Marshal(map[string]any{"edited_message": map[string]any{
			"message_id": msgID, "date": time.Now().Unix(), "edit_date": time.Now().Unix() + int64(i),
			"chat": map[string]any{"id": slow.ID, "type": "private", "first_name": slow.FirstName},
			"from": map[string]any{"id": slow.ID, "is_bot": false, "first_name": slow.FirstName, "language_code": slow.LanguageCode},
			"text": "/help " + strings.Repeat("!", i+1),
		}})
		if err != nil {
			t.Fatal(err)
		}
		last = srv.SendUpdate(raw)
	}
	if last != first+99 {
		t.Fatalf("update ids %d..%d; want 100 in a row", first, last)
	}
	otherID := srv.SendText(other, "/help")

	// The other resident is answered while the slow chat's first answer
	// still hangs.
	got := srv.WaitMessages(t, other.ID, 1, wait)[0]
	if !strings.Contains(got.Text, "Help") {
		t.Errorf("other resident got %q; want the help", got.Text)
	}
	// The slow resident is told once, in their language, to wait and send
	// again; their /help is not answered yet.
	busy := srv.WaitMessages(t, slow.ID, 1, wait)
	if len(busy) != 1 || busy[0].PlainText != catalog.StripMarks(es.T("input.busy")) {
		t.Fatalf("slow resident got %+v; want only the Spanish please-wait %q", busy, es.T("input.busy"))
	}
	if en.T("input.busy") == es.T("input.busy") {
		t.Fatal("input.busy is not translated into Spanish")
	}

	unhold()
	msgs := srv.WaitMessages(t, slow.ID, 2, wait)
	if !strings.Contains(msgs[1].Text, "Ayuda") && !strings.Contains(msgs[1].Text, "ayuda") {
		t.Errorf("slow resident's /help answered with %q; want the Spanish help", msgs[1].Text)
	}
	// Every update is confirmed at last, the newest included.
	srv.WaitDelivered(t, otherID, wait)
	if n := scrape(t, "http://"+env["PASSERELLE_LISTEN"])[`passerelle_updates_handled_total{kind="edited",outcome="shed"}`]; n != 80 {
		t.Errorf("metrics: %v updates shed; want 80", n)
	}
	in.stop(t)

	logs := in.logs.String()
	// The slow chat's queue holds 20 (the one being handled and 19
	// edits); the 80 newer updates were shed, one of them told.
	if n := strings.Count(logs, `"msg":"update_shed"`); n != 80 {
		t.Errorf("%d updates shed; want 80", n)
	}
	if n := strings.Count(logs, `"msg":"shed_notice_sent"`); n != 1 {
		t.Errorf("%d please-wait notices; want 1 per burst", n)
	}
	if n := len(srv.Messages(slow.ID)); n != 2 {
		t.Errorf("slow resident got %d messages; want 2 (please wait, then the help)", n)
	}
	if n := srv.PendingUpdates(); n != 0 {
		t.Errorf("%d updates left unconfirmed at Telegram", n)
	}
}

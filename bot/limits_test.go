package bot_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/transport/console"
)

// keepSender records every reply and passes it on.
type keepSender struct {
	next bot.Sender
	mu   sync.Mutex
	all  []bot.Reply
}

func (k *keepSender) Send(ctx context.Context, r bot.Reply) (int, error) {
	k.mu.Lock()
	k.all = append(k.all, r)
	k.mu.Unlock()
	return k.next.Send(ctx, r)
}

// TestRTLRepliesKeepTelegramLimits walks the guide and a reminder
// registration in the right-to-left languages and checks what Telegram
// receives after the layout rule: every text within 4096 UTF-16 units once
// parsed, every callback data within 64 bytes and free of direction marks
// (the rule touches labels, never data), every button label laid out right
// to left.
func TestRTLRepliesKeepTelegramLimits(t *testing.T) {
	script := "/start\n/help\n/privacy\n/guide\n8\n3\n4\n25/02/2027\n/reminders\n1\n1\n1\n2\n1\n30/06/2027\n1\n"
	for _, lang := range []string{"ar", "fa", "ps", "ur"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			g, err := guide.Load()
			if err != nil {
				t.Fatal(err)
			}
			con := console.New(io.Discard) // one console: it sends and it presses the buttons it showed
			rec := &keepSender{next: con}
			b, err := bot.New(bot.Config{Store: f.store, Catalog: f.cat, Sender: rec, Clock: f.clock, Guide: g, Documents: f.store, Reminders: f.store})
			if err != nil {
				t.Fatal(err)
			}
			if err := con.Run(context.Background(), b, strings.NewReader(script), console.Options{UserID: 91, LanguageCode: lang}); err != nil {
				t.Fatal(err)
			}
			buttons := 0
			for _, r := range rec.all {
				for _, row := range r.Buttons {
					buttons += len(row)
				}
			}
			if len(rec.all) < 14 || buttons < 40 {
				t.Fatalf("walk too short: %d replies, %d buttons", len(rec.all), buttons)
			}
			for _, r := range rec.all {
				if n := len(utf16.Encode([]rune(catalog.PlainText(r.Text)))); n > 4096 {
					t.Errorf("%d UTF-16 units: %.80q", n, r.Text)
				}
				for _, row := range r.Buttons {
					for _, btn := range row {
						if len(btn.Data) > 64 || catalog.StripMarks(btn.Data) != btn.Data {
							t.Errorf("callback data %q: %d bytes or direction marks", btn.Data, len(btn.Data))
						}
						for _, p := range catalog.LayoutProblems(btn.Label, nil) {
							t.Errorf("button %q: %s", btn.Label, p)
						}
					}
				}
			}
		})
	}
}

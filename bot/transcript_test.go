package bot_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/transport/console"
)

var update = flag.Bool("update", false, "rewrite golden transcripts in testdata")

// TestGuideTranscripts runs complete guide paths and a reminder
// registration in the terminal transport,
// in French and in Arabic, and compares them with golden transcripts
// (today is 25/11/2026). Refresh with go test ./bot -run Transcripts -update,
// then read the diff as you would a translation change.
func TestGuideTranscripts(t *testing.T) {
	paths := []struct{ name, script string }{
		// other → renew → talent → expiry date: an ANEF renewal with its window
		{"renewal_anef", "/guide\n8\n3\n4\n25/02/2027\n"},
		// stateless → renew → expiry date: préfecture only
		{"prefecture_only", "/guide\n7\n2\n10/01/2027\n"},
		// other → I'm stuck → cannot log in: human help
		{"stuck", "/guide\n8\n15\n1\n"},
		// reminders → add → carte de séjour temporaire → étudiant → not a
		// first multi-year card → mine → typed date → confirm; then the
		// date typed with the picker for a passport of "my son"
		{"reminder_registration", "/reminders\n1\n1\n1\n2\n1\n30/06/2027\n1\n/reminders\n2\n12\n2\nmy son\n1\n4\n1\n15\n1\n"},
	}
	// Every shipped language: one complete guide path and one reminder
	// registration; French and Arabic also the other paths.
	all := []string{"fr", "ar", "en", "fa", "ps", "ti", "uk", "ru", "es", "pt", "tr", "zh-Hans", "bn", "ur"}
	for _, lang := range all {
		for _, p := range paths {
			if lang != "fr" && lang != "ar" && p.name != "renewal_anef" && p.name != "reminder_registration" {
				continue
			}
			name := "guide_" + p.name + "_" + lang
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				g, err := guide.Load()
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				con := console.New(&out)
				b, err := bot.New(bot.Config{Store: f.store, Catalog: f.cat, Sender: con, Clock: f.clock, Guide: g, Documents: f.store, Reminders: f.store})
				if err != nil {
					t.Fatal(err)
				}
				if err := con.Run(context.Background(), b, strings.NewReader(p.script), console.Options{UserID: 90, LanguageCode: lang, Echo: true}); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name+".txt")
				if *update {
					if err := os.MkdirAll("testdata", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if out.String() != string(want) {
					t.Errorf("transcript differs from %s:\n--- got\n%s\n--- want\n%s", golden, out.String(), want)
				}
			})
		}
	}
}

package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/locales"
)

// rtlWalks visit the first screens, the guide (a renewal, a
// préfecture-only case, an OQTF letter, a stuck file), public help (no
// partners are configured) and a reminder registration, in two chat
// sessions short enough for the flood limit of the real clock.
var rtlWalks = []string{
	"/start\n/help\n/privacy\n/mydata\n/guide\n8\n3\n4\n25/02/2027\n/guide\n7\n2\n10/01/2027\n/guide\n9\n1\n/quit\n",
	// stuck, then "talk to a volunteer": public help; then a reminder registration
	"/guide\n8\n15\n1\n1\n/reminders\n1\n1\n1\n2\n1\n30/06/2027\n1\n/mydata\n/quit\n",
}

var buttonCellRE = regexp.MustCompile(`\[\d+\] `)

// TestChatRTLWalk runs `passerelle chat --lang ar|fa|ps|ur` through a
// scripted walk and lays out every line and every button it shows, as a
// phone would: no line or button whose first strong character is left to
// right, phone numbers and dates in their own order, French terms whole,
// and the Défenseur des droits number isolated as a unit.
func TestChatRTLWalk(t *testing.T) {
	terms := catalog.GlossaryTerms(locales.Glossary)
	for _, lang := range []string{"ar", "fa", "ps", "ur"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			for _, walk := range rtlWalks {
				if err := run(context.Background(), []string{"chat", "--lang", lang}, noEnv, strings.NewReader(walk), &out, &errOut); err != nil {
					t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
				}
			}
			if strings.Contains(out.String(), "(update ") || strings.Contains(errOut.String(), "flood_limited") {
				t.Fatalf("an update was not handled or was flood-limited:\n%s", out.String())
			}
			lines, buttons := screenParts(out.String())
			if len(lines) < 100 || len(buttons) < 50 {
				t.Fatalf("walk too short: %d lines, %d buttons:\n%s", len(lines), len(buttons), out.String())
			}
			ddd := false
			for _, l := range append(lines, buttons...) {
				for _, p := range catalog.LayoutProblems(l, terms) {
					t.Error(p)
				}
				if strings.Contains(catalog.StripMarks(l), "09 69 39 00 00") {
					ddd = true
					if !strings.Contains(l, "\u206609 69 39 00 00") && !strings.Contains(l, "\u2066Défenseur des droits: 09 69 39 00 00") {
						t.Errorf("Défenseur des droits number not isolated: %q", l)
					}
				}
			}
			if !ddd {
				t.Error("the walk never showed the Défenseur des droits number")
			}
		})
	}
}

// screenParts splits a chat transcript into the text lines of the bot's
// messages and the labels of their buttons.
func screenParts(transcript string) (lines, buttons []string) {
	for _, l := range strings.Split(transcript, "\n") {
		switch {
		case strings.HasPrefix(l, "you> "), strings.TrimSpace(l) == "":
			continue
		case strings.HasPrefix(l, "bot> "):
			lines = append(lines, strings.TrimPrefix(l, "bot> "))
		case strings.HasPrefix(l, "bot (edited)> "):
			lines = append(lines, strings.TrimPrefix(l, "bot (edited)> "))
		case strings.HasPrefix(strings.TrimLeft(l, " "), "[keyboard removed]"):
		case strings.HasPrefix(strings.TrimLeft(l, " "), "[keyboard] "):
			buttons = append(buttons, strings.TrimPrefix(strings.TrimLeft(l, " "), "[keyboard] "))
		case strings.HasPrefix(l, "     [") && buttonCellRE.MatchString(l):
			for _, cell := range buttonCellRE.Split(strings.TrimSpace(l), -1) {
				if cell = strings.TrimSpace(cell); cell != "" {
					buttons = append(buttons, cell)
				}
			}
		default:
			lines = append(lines, strings.TrimLeft(l, " "))
		}
	}
	return lines, buttons
}

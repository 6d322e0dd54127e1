package bot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/locales"
)

func TestCleanText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Bonjour, je regarde.", "Bonjour, je regarde."},
		{"lines kept", "ligne 1\nligne 2\tfin", "ligne 1\nligne 2\tfin"},
		{"right-to-left override", "\u202E✅ Dossier clos.", "✅ Dossier clos."},
		{"isolates and marks", "a\u2066b\u2069c\u200Fd\u200Ee\u061Cf", "abcdef"},
		{"zero-width space and joiner at the edge", "\u200BDossier\u200B clos\u2060\uFEFF\u200D", "Dossier clos"},
		{"Persian non-joiner inside a word", "می\u200Cخواهم", "می\u200Cخواهم"},
		{"non-joiner next to a space", "a \u200Cb", "a b"},
		{"emoji joiner", "👨\u200D👩\u200D👧", "👨\u200D👩\u200D👧"},
		{"Bengali joiner", "র\u200D্য", "র\u200D্য"},
		{"control characters", "a\x00b\x1bc\x7fd", "abcd"},
		{"soft hyphen and fillers", "ab\u00ADc\u3164d\u115F", "abcd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanText(tt.in); got != tt.want {
				t.Errorf("cleanText(%q) = %q; want %q", tt.in, got, tt.want)
			}
			if got := cleanText(cleanText(tt.in)); got != cleanText(tt.in) {
				t.Errorf("cleanText is not idempotent on %q", tt.in)
			}
		})
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"\u202Eabc", "می\u200Cخواهم", "👨\u200D👩", "\u200B\u200C\u200D", "a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := cleanText(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("cleanText(%q) = %q: not UTF-8", s, out)
		}
		for _, c := range out {
			if c != '\u200C' && c != '\u200D' && suspicious(c) {
				t.Fatalf("cleanText(%q) = %q keeps %U", s, out, c)
			}
		}
		if cleanText(out) != out {
			t.Fatalf("cleanText not idempotent on %q", s)
		}
	})
}

func TestChunksFitTelegramLimits(t *testing.T) {
	long := strings.Repeat("mot ", 3000) + strings.Repeat("😀", 3000)
	parts := chunks(long, 4000)
	if strings.Join(parts, "") != long {
		t.Fatal("chunks lose or change text")
	}
	for i, p := range parts {
		if n := utf16Units(p); n > 4000 || n == 0 {
			t.Errorf("part %d: %d UTF-16 units", i, n)
		}
	}
	if got := chunks("court", 4000); len(got) != 1 || got[0] != "court" {
		t.Errorf("chunks(short) = %q", got)
	}
}

// TestCopyFraming: every form of copy starts with the header; a caption
// that does not fit goes in a text before the copy, whose caption is then
// emptied; texts are escaped inside the quote.
func TestCopyFraming(t *testing.T) {
	b := newTestBot(t)
	c := handoff.Case{ID: 12, ResidentChat: 7}
	header := b.staff().T("case.copy_header", "Case", 12)
	tests := []struct {
		name  string
		in    handoff.Incoming
		check func(t *testing.T, rs []Reply)
	}{
		{"text", handoff.Incoming{Msg: 3, Form: handoff.FormText, Text: "<b>✅ Dossier clos.</b>"}, func(t *testing.T, rs []Reply) {
			if len(rs) != 1 || rs[0].Text != header+"\n<blockquote>&lt;b&gt;✅ Dossier clos.&lt;/b&gt;</blockquote>" || rs[0].CopyFromChatID != 0 {
				t.Errorf("%+v", rs)
			}
		}},
		{"long text", handoff.Incoming{Msg: 3, Form: handoff.FormText, Text: strings.Repeat("a ", 3000)}, func(t *testing.T, rs []Reply) {
			if len(rs) != 2 || !strings.HasPrefix(rs[1].Text, header) {
				t.Errorf("%d replies", len(rs))
			}
		}},
		{"caption", handoff.Incoming{Msg: 3, Form: handoff.FormCaption, Text: "recto"}, func(t *testing.T, rs []Reply) {
			if len(rs) != 1 || !rs[0].ReplaceCaption || rs[0].Text != header+"\n<blockquote>recto</blockquote>" || rs[0].CopyMessageID != 3 || rs[0].CopyFromChatID != 7 {
				t.Errorf("%+v", rs)
			}
		}},
		{"caption too long", handoff.Incoming{Msg: 3, Form: handoff.FormCaption, Text: strings.Repeat("é", 1020)}, func(t *testing.T, rs []Reply) {
			if len(rs) != 2 || !strings.HasPrefix(rs[0].Text, header) || !rs[1].ReplaceCaption || rs[1].Text != "" || rs[1].CopyMessageID != 3 {
				t.Errorf("%+v", rs)
			}
		}},
		{"no caption", handoff.Incoming{Msg: 3, Form: handoff.FormHeader}, func(t *testing.T, rs []Reply) {
			if len(rs) != 2 || rs[0].Text != header || rs[1].CopyMessageID != 3 || rs[1].ReplaceCaption {
				t.Errorf("%+v", rs)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := b.copyReplies(c, tt.in, -100, 9)
			for _, r := range rs {
				if r.ChatID != -100 || r.ThreadID != 9 {
					t.Errorf("reply to %d/%d", r.ChatID, r.ThreadID)
				}
			}
			tt.check(t, rs)
		})
	}
}

// newTestBot is a Bot with only its catalog, for the functions that need
// no more.
func newTestBot(t *testing.T) *Bot {
	t.Helper()
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	return &Bot{cat: cat}
}

package catalog_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/locales"
)

// TestRTLLayoutEveryMessage lays out every message and button label of the
// right-to-left catalogs (ar, fa, ps, ur), rendered with sample values, with
// the Unicode Bidirectional Algorithm: every paragraph right to left, every
// phone number, date and time in its own order, no French term split, the
// rule applied once.
func TestRTLLayoutEveryMessage(t *testing.T) {
	t.Parallel()
	c := load(t)
	terms := catalog.GlossaryTerms(locales.Glossary)
	if len(terms) < 20 {
		t.Fatalf("only %d glossary terms read", len(terms))
	}
	problems := c.LayoutReport(terms)
	for i, p := range problems {
		if i == 40 {
			t.Errorf("... and %d more", len(problems)-40)
			break
		}
		t.Error(p)
	}
}

// TestDefenseurDesDroitsNumberIsolated: the number of the Défenseur des
// droits keeps its digit groups in order in every right-to-left locale.
func TestDefenseurDesDroitsNumberIsolated(t *testing.T) {
	t.Parallel()
	c := load(t)
	for _, tag := range []string{"ar", "fa", "ps", "ur"} {
		text := c.Printer(tag).T("guide.help.public")
		if !strings.Contains(catalog.PlainText(text), "09 69 39 00 00") {
			t.Fatalf("%s guide.help.public lacks the number", tag)
		}
		found := false
		for _, para := range strings.Split(text, "\n") {
			plain := catalog.PlainText(para)
			if !strings.Contains(plain, "09 69 39 00 00") {
				continue
			}
			found = true
			if !isolatedLTR(plain, "09 69 39 00 00") {
				t.Errorf("%s: number not inside one left-to-right isolate: %q", tag, plain)
			}
			v, err := catalog.Visual(plain)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(v, "09 69 39 00 00") {
				t.Errorf("%s: visual line shows the groups out of order: %q", tag, v)
			}
		}
		if !found {
			t.Errorf("%s: number not found in a paragraph", tag)
		}
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	c := load(t)
	fa := c.Printer("fa")
	tests := []struct{ name, in, want string }{
		{"Latin first word", "Passerelle یک ربات است.", "\u200f\u2066Passerelle\u2069 یک ربات است."},
		{"phone number", "شماره 09 69 39 00 00 است", "شماره \u206609 69 39 00 00\u2069 است"},
		{"case number glued to a value", "پرونده #\u206842\u2069", "پرونده \u2068#42\u2069"},
		{"command", "/start – شروع", "\u200f\u2066/start\u2069 – شروع"},
		{"already right to left", "سلام", "سلام"},
		{"brackets stay paired", "سند VLS-TS (visa long séjour) است", "سند \u2066VLS-TS (visa long séjour)\u2069 است"},
		{"open bracket cut", "ANEF (سایت)", "\u200f\u2066ANEF\u2069 (سایت)"},
		{"entity not split", "l&#39;ANEF و 12&amp;13", "\u200f\u2066l&#39;ANEF\u2069 و \u206612&amp;13\u2069"},
		{"tag kept whole", "<b>API</b> سند", "\u200f<b>\u2066API\u2069</b> سند"},
		{"link attribute untouched", `<a href="https://x.org/a 1">متن</a>`, `<a href="https://x.org/a 1">متن</a>`},
		{"value isolate kept", "تاریخ \u206825/11/2026\u2069", "تاریخ \u206825/11/2026\u2069"},
		{"value first", "\u2068Entraide Rhône\u2069 جواب داد", "\u200f\u2068Entraide Rhône\u2069 جواب داد"},
		{"each paragraph", "ANEF\n\nسلام\n• CCC", "\u200f\u2066ANEF\u2069\n\nسلام\n\u200f• \u2066CCC\u2069"},
		{"percent with its number", "۱۰٪ و 10 %", "\u200f\u2066۱۰٪\u2069 و \u206610\u2069 %"},
	}
	for _, tt := range tests {
		got := fa.Layout(tt.in)
		if got != tt.want {
			t.Errorf("%s: Layout(%q) = %q; want %q", tt.name, tt.in, got, tt.want)
		}
		if again := fa.Layout(got); again != got {
			t.Errorf("%s: not idempotent: %q → %q", tt.name, got, again)
		}
	}
	if got := c.Printer("fr").Layout("ANEF : 09 69 39 00 00"); got != "ANEF : 09 69 39 00 00" {
		t.Errorf("left-to-right locale changed: %q", got)
	}
}

func FuzzLayout(f *testing.F) {
	c, err := catalog.Load(locales.FS)
	if err != nil {
		f.Fatal(err)
	}
	ar := c.Printer("ar")
	f.Add("<b>API</b> (attestation) &amp; 09 69 39 00 00\nسلام")
	f.Add("\u2068x")
	f.Add("&#x;<a href=\"x\">/start</a>")
	f.Fuzz(func(t *testing.T, s string) {
		got := ar.Layout(s)
		if !utf8.ValidString(s) {
			return
		}
		if catalog.StripMarks(got) != catalog.StripMarks(s) {
			t.Fatalf("Layout changed more than marks: %q → %q", s, got)
		}
		if again := ar.Layout(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", s, got, again)
		}
	})
}

// TestLayoutKeepsTelegramLimits: with the marks the layout adds, every
// message still fits Telegram's 4096 UTF-16 units.
func TestLayoutKeepsTelegramLimits(t *testing.T) {
	t.Parallel()
	c := load(t)
	for _, tag := range []string{"ar", "fa", "ps", "ur"} {
		p := c.Printer(tag)
		for _, id := range c.IDs() {
			for _, text := range p.Samples(id) {
				if n := len(utf16.Encode([]rune(catalog.PlainText(text)))); n > 4096 {
					t.Errorf("%s %s: %d UTF-16 units", tag, id, n)
				}
			}
		}
	}
}

// isolatedLTR reports whether every occurrence of sub in s lies inside one
// LRI…PDI isolate.
func isolatedLTR(s, sub string) bool {
	for rest := s; ; {
		i := strings.Index(rest, sub)
		if i < 0 {
			return true
		}
		open := strings.LastIndex(rest[:i], "\u2066")
		if open < 0 || strings.Contains(rest[open:i], "\u2069") || !strings.Contains(rest[i+len(sub):], "\u2069") {
			return false
		}
		rest = rest[i+len(sub):]
	}
}

// TestCheckGuards: passerelle check fails on a glossary term dropped, on
// two kinds of quote marks in one locale, on an English word left in a
// locale written in another script, and LayoutProblems on text laid out
// left to right or a phone number out of order.
func TestCheckGuards(t *testing.T) {
	t.Parallel()
	glossary := "| French term | What |\n|---|---|\n| préfecture | office |\n"
	en := "[a]\ndescription = \"d\"\nother = \"Go to the préfecture.\"\n[b]\ndescription = \"d\"\nother = \"Press “Skip” for the Withdrawal Agreement.\"\n[c]\ndescription = \"d\"\nother = \"Say “yes”.\"\n"
	fr := "[a]\nother = \"Allez à la préfecture.\"\n[b]\nother = \"Appuyez sur « Passer » pour l'accord de retrait.\"\n[c]\nother = \"Dites « oui ».\"\n"
	tests := []struct{ name, tag, content, want string }{
		{"glossary term dropped", "ru", "[a]\nother = \"Идите в префектуру.\"\n[b]\nother = \"Нажмите «Пропустить» (accord de retrait).\"\n[c]\nother = \"Скажите «да».\"\n", `a: keeps no "préfecture"`},
		{"two kinds of quotes", "ru", "[a]\nother = \"Идите в préfecture.\"\n[b]\nother = \"Нажмите «Пропустить» (accord de retrait).\"\n[c]\nother = \"Скажите “да”.\"\n", "quote marks of several kinds"},
		{"English left", "ru", "[a]\nother = \"Идите в préfecture.\"\n[b]\nother = \"Нажмите «Пропустить» (Withdrawal Agreement).\"\n[c]\nother = \"Скажите «да».\"\n", `English word "Withdrawal" left`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := catalog.Check(fstest.MapFS{
				"GLOSSARY.md":                {Data: []byte(glossary)},
				"active.en.toml":             {Data: []byte(en)},
				"active.fr.toml":             {Data: []byte(fr)},
				"active." + tt.tag + ".toml": {Data: []byte(tt.content)},
			})
			if rep.OK() || !strings.Contains(rep.String(), tt.want) {
				t.Errorf("want a problem %q:\n%s", tt.want, rep)
			}
		})
	}
	if p := catalog.LayoutProblems("ANEF یک سایت است", nil); len(p) != 1 || !strings.Contains(p[0], "left to right") {
		t.Errorf("LTR paragraph not reported: %v", p)
	}
	if p := catalog.LayoutProblems("شماره 09 69 39 00 00 است", nil); len(p) != 1 || !strings.Contains(p[0], "own order") {
		t.Errorf("reversed phone number not reported: %v", p)
	}
	if p := catalog.LayoutProblems("\u200fشماره \u206609 69 39 00 00\u2069 است", nil); len(p) != 0 {
		t.Errorf("laid-out text reported: %v", p)
	}
}

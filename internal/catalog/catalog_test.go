package catalog_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf16"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/catalog/catalogtest"
	"github.com/passerelle-bot/passerelle/locales"
)

// load returns the shipped catalog, shared by the package's tests.
func load(t *testing.T) *catalog.Catalog {
	t.Helper()
	return catalogtest.Shipped(t)
}

func TestMain(m *testing.M) { catalogtest.Exit(m.Run()) }

func TestShippedCatalogsComplete(t *testing.T) {
	t.Parallel()
	rep := catalog.Check(locales.FS)
	if !rep.OK() {
		t.Fatalf("catalogs incomplete:\n%s", rep)
	}
	var tags []string
	for _, l := range rep.Locales {
		tags = append(tags, l.Tag)
	}
	for _, want := range []string{"ar", "en", "fr"} {
		if !strings.Contains(strings.Join(tags, ","), want) {
			t.Errorf("locale %s not shipped; have %v", want, tags)
		}
	}
}

// TestCheckCatchesProblems makes sure the completeness check can fail: a
// missing message, a changed placeholder, a missing plural form, an empty
// text, a missing description.
func TestCheckCatchesProblems(t *testing.T) {
	t.Parallel()
	en := `
[hello]
description = "greeting"
other = "Hello {{.Name}}"
[hours]
description = "count"
one = "{{.Count}} hour"
other = "{{.Count}} hours"
[bye]
description = "bye"
other = "Bye"
`
	tests := []struct {
		name, file, content, want string
	}{
		{"missing message", "active.fr.toml", "[hello]\nother = \"Bonjour {{.Name}}\"\n[hours]\none = \"{{.Count}} heure\"\nmany = \"{{.Count}} heures\"\nother = \"{{.Count}} heures\"\n", "bye: missing"},
		{"placeholder renamed", "active.fr.toml", "[hello]\nother = \"Bonjour {{.Nom}}\"\n[hours]\none = \"{{.Count}} heure\"\nmany = \"{{.Count}} heures\"\nother = \"{{.Count}} heures\"\n[bye]\nother = \"Au revoir\"\n", "hello: placeholders"},
		{"plural form missing", "active.ar.toml", "[hello]\nother = \"مرحبا {{.Name}}\"\n[hours]\none = \"ساعة\"\nother = \"{{.Count}} ساعة\"\n[bye]\nother = \"مع السلامة\"\n", "plural form \"few\""},
		{"empty message", "active.fr.toml", "[hello]\nother = \"Bonjour {{.Name}}\"\n[hours]\none = \"{{.Count}} heure\"\nmany = \"{{.Count}} heures\"\nother = \"{{.Count}} heures\"\n[bye]\nother = \"\"\n", "bye: empty"},
		{"left in English", "active.fr.toml", "[hello]\nother = \"Bonjour {{.Name}}\"\n[hours]\none = \"{{.Count}} heure\"\nmany = \"{{.Count}} heures\"\nother = \"{{.Count}} heures\"\n[bye]\nother = \"Bye\"\n", "bye: identical to English"},
		{"unknown placeholder in a form", "active.fr.toml", "[hello]\nother = \"Bonjour {{.Name}}\"\n[hours]\none = \"{{.X}} heure\"\nmany = \"{{.Count}} heures\"\nother = \"{{.Count}} heures\"\n[bye]\nother = \"Au revoir\"\n", "uses {{.X}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"active.en.toml": {Data: []byte(en)},
				tt.file:          {Data: []byte(tt.content)},
			}
			rep := catalog.Check(fsys)
			if rep.OK() {
				t.Fatalf("Check passed; want a problem %q", tt.want)
			}
			if !strings.Contains(rep.String(), tt.want) {
				t.Errorf("report lacks %q:\n%s", tt.want, rep)
			}
		})
	}
	t.Run("French terms may stay as in English", func(t *testing.T) {
		en := "[kind]\ndescription = \"d\"\nother = \"Carte de séjour temporaire\"\n[api]\ndescription = \"d\"\nother = \"📄 API / récépissé\"\n[\"language.native\"]\ndescription = \"d\"\nother = \"English\"\n"
		fr := "[kind]\nother = \"Carte de séjour temporaire\"\n[api]\nother = \"📄 API / récépissé\"\n[\"language.native\"]\nother = \"Français\"\n"
		rep := catalog.Check(fstest.MapFS{"active.en.toml": {Data: []byte(en)}, "active.fr.toml": {Data: []byte(fr)}})
		if !rep.OK() {
			t.Errorf("French terms kept as they are were reported:\n%s", rep)
		}
	})
	t.Run("description missing", func(t *testing.T) {
		rep := catalog.Check(fstest.MapFS{"active.en.toml": {Data: []byte("[x]\nother = \"X\"\n")}})
		if rep.OK() || !strings.Contains(rep.String(), "no description") {
			t.Errorf("want a missing-description problem:\n%s", rep)
		}
	})
}

func TestMatch(t *testing.T) {
	t.Parallel()
	c := load(t)
	tests := []struct {
		code string
		want string
		ok   bool
	}{
		{"fr", "fr", true},
		{"fr-FR", "fr", true},
		{"fr-CA", "fr", true},
		{"ar", "ar", true},
		{"ar-SA", "ar", true},
		{"en", "en", true},
		{"en-US", "en", true},
		{"xx", "", false},
		{"", "", false},
		{"de", "", false},
		{"zz-Hant", "", false},
		{"not a tag!", "", false},
		{"pt-BR", "pt", true},
		{"pt-PT", "pt", true},
		{"fa-AF", "fa", true},
		{"prs", "fa", true},
		{"ps-AF", "ps", true},
		{"zh-CN", "zh-Hans", true},
		{"zh", "zh-Hans", true},
		{"zh-Hant", "", false}, // Traditional script: the picker, not a guess
		{"zh-TW", "", false},
		{"uk-UA", "uk", true},
		{"ti-ER", "ti", true},
		{"es-419", "es", true},
		{"ur-PK", "ur", true},
		{"bn-BD", "bn", true},
	}
	for _, tt := range tests {
		got, ok := c.Match(tt.code)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Match(%q) = %q, %v; want %q, %v", tt.code, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPrinterEscapesAndIsolates(t *testing.T) {
	t.Parallel()
	c := load(t)
	fr := c.Printer("fr").T("language.set", "Language", "<b>&x</b>")
	if !strings.Contains(fr, "&lt;b&gt;&amp;x&lt;/b&gt;") {
		t.Errorf("fr value not escaped: %q", fr)
	}
	if strings.Contains(fr, "\u2068") {
		t.Errorf("left-to-right text got an isolate: %q", fr)
	}
	ar := c.Printer("ar")
	got := ar.T("mydata.created", "Date", "25/11/2026")
	if strings.Count(got, "\u2068") != 1 || !strings.Contains(got, "\u206825/11/2026\u2069") {
		t.Errorf("ar date not isolated exactly once: %q", got)
	}
	if twice := ar.Isolate(ar.Isolate("42")); twice != "\u206842\u2069" {
		t.Errorf("Isolate twice = %q", twice)
	}
	if raw := c.Printer("fr").T("language.set", "Language", catalog.HTML("<i>x</i>")); !strings.Contains(raw, "<i>x</i>") {
		t.Errorf("HTML value was escaped: %q", raw)
	}
}

func TestPluralForms(t *testing.T) {
	t.Parallel()
	c := load(t)
	ar := c.Printer("ar")
	seen := map[string]bool{}
	for _, n := range []int{0, 1, 2, 3, 11, 100} {
		seen[ar.N("mydata.session", n)] = true
	}
	if len(seen) != 6 {
		t.Errorf("Arabic: want 6 distinct plural texts for 0,1,2,3,11,100; got %d", len(seen))
	}
}

func TestMissingMessageReported(t *testing.T) {
	t.Parallel()
	c, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	c.SetMissing(func(lang, id string, err error) { got = append(got, lang+":"+id) })
	if s := c.Printer("fr").T("no.such.message"); s == "" {
		t.Error("missing message rendered empty")
	}
	if len(got) != 1 || got[0] != "fr:no.such.message" {
		t.Errorf("missing reports = %v", got)
	}
}

func TestLanguagesHaveNativeNames(t *testing.T) {
	t.Parallel()
	c := load(t)
	want := map[string]string{"en": "English", "fr": "Français", "ar": "العربية", "es": "Español", "ru": "Русский", "uk": "Українська", "tr": "Türkçe", "pt": "Português", "ps": "پښتو", "zh-Hans": "简体中文"}
	rtl := map[string]bool{"ar": true, "fa": true, "ps": true, "ur": true}
	seen := map[string]bool{}
	for _, l := range c.Languages() {
		seen[l.Native] = true
		if w, ok := want[l.Tag]; ok && l.Native != w {
			t.Errorf("%s native = %q; want %q", l.Tag, l.Native, w)
		}
		if l.Native == "" || l.Native == "English" && l.Tag != "en" {
			t.Errorf("%s has no native name of its own: %q", l.Tag, l.Native)
		}
		if l.RTL != rtl[l.Tag] {
			t.Errorf("%s RTL = %v", l.Tag, l.RTL)
		}
	}
	if len(seen) != len(c.Languages()) {
		t.Errorf("two locales share a native name: %v", seen)
	}
}

// TestButtonLabelsFit keeps button labels short enough to show on a phone
// and every message within Telegram's 4096 UTF-16 units.
func TestButtonLabelsFit(t *testing.T) {
	t.Parallel()
	c := load(t)
	for _, l := range c.Languages() {
		p := c.Printer(l.Tag)
		for _, id := range []string{"menu.language", "menu.help", "menu.privacy", "menu.mydata", "menu.forget", "menu.back", "forget.yes", "forget.no", "language.native"} {
			if n := len([]rune(catalog.StripMarks(p.T(id)))); n > 40 {
				t.Errorf("%s %s: %d characters, max 40", l.Tag, id, n)
			}
		}
	}
	for _, l := range c.Languages() {
		p := c.Printer(l.Tag)
		for _, id := range c.IDs() {
			args := []any{"Language", "Français", "Date", "25/11/2026", "UserID", "123456789"}
			text := p.T(id, args...)
			if c.IsPlural(id) {
				text = p.N(id, 2, args...)
			}
			if n := len(utf16.Encode([]rune(text))); n > 4096 {
				t.Errorf("%s %s: %d UTF-16 units, Telegram allows 4096", l.Tag, id, n)
			}
		}
	}
}

func TestNormalizeDigits(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"٢٥/١١/٢٠٢٦", "25/11/2026"},
		{"۲۵.۱۱.۱۴۰۵", "25.11.1405"},
		{"12/03/2027", "12/03/2027"},
		{"abc ٣", "abc 3"},
		{"٣٫٥", "3.5"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := catalog.NormalizeDigits(tt.in); got != tt.want {
			t.Errorf("NormalizeDigits(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalizeDigits(f *testing.F) {
	f.Add("٢٥/١١/٢٠٢٦")
	f.Add("۱۴۰۵")
	f.Fuzz(func(t *testing.T, s string) {
		out := catalog.NormalizeDigits(s)
		if catalog.NormalizeDigits(out) != out {
			t.Errorf("not idempotent on %q", s)
		}
		for _, r := range out {
			if r >= '\u0660' && r <= '\u0669' || r >= '\u06F0' && r <= '\u06F9' {
				t.Errorf("digit %q left in %q", r, out)
			}
		}
	})
}

// TestRTLIsolatesEveryValueOnce renders every message of every
// right-to-left locale with left-to-right values (dates, numbers, case
// numbers, URLs, French labels) and checks that each appears wrapped in
// exactly one FSI…PDI pair.
func TestRTLIsolatesEveryValueOnce(t *testing.T) {
	t.Parallel()
	c := load(t)
	values := []string{"31/12/2099", "123456789", "https://t.me/x?start=p-lyon", "Je valide mon VLS-TS", "Entraide Rhône"}
	names := []string{"Date", "UserID", "Link", "Label", "Partner", "Expiry", "Opens", "Closes", "Case", "Count", "N", "Filed", "APIExpiry", "Deadline", "Year", "Day", "Short", "Time", "Alias", "Departement", "Language", "Title", "Kind", "Mention", "Problem", "Text", "Steps", "Risks", "Languages", "Weekday", "Month", "Referents"}
	rtl := 0
	for _, l := range c.Languages() {
		if !l.RTL {
			continue
		}
		rtl++
		p := c.Printer(l.Tag)
		for _, id := range c.IDs() {
			for _, v := range values {
				var args []any
				for _, n := range names {
					args = append(args, n, v)
				}
				text := p.T(id, args...)
				if c.IsPlural(id) {
					text = p.N(id, 3, args...)
				}
				if strings.Contains(text, "\u2068\u2068") || strings.Contains(text, "\u2069\u2069") {
					t.Errorf("%s %s: isolated twice: %q", l.Tag, id, text)
				}
				// A "#" glued to a value moves into its isolate ("#42").
				bare := strings.ReplaceAll(strings.ReplaceAll(text, "\u2068#"+v+"\u2069", ""), "\u2068"+v+"\u2069", "")
				if strings.Contains(bare, v) {
					t.Errorf("%s %s: %q not isolated: %q", l.Tag, id, v, text)
				}
			}
		}
	}
	if rtl != 4 {
		t.Errorf("%d right-to-left locales; want 4 (ar, fa, ps, ur)", rtl)
	}
}

// TestFixedMessagesRenderedOnce: a message rendered without values is
// rendered once per printer (the template, French typography and the
// layout run once), and then costs no allocation; with values, or plural,
// it is rendered every time.
func TestFixedMessagesRenderedOnce(t *testing.T) {
	c := load(t)
	for _, tag := range []string{"fr", "ar", "en"} {
		p := c.Printer(tag)
		first := p.T("help.body")
		if allocs := testing.AllocsPerRun(100, func() {
			if p.T("help.body") != first {
				t.Fatalf("%s: help.body rendered differently the second time", tag)
			}
		}); allocs > 0 {
			t.Errorf("%s: T of a message without values allocates %.0f times per call; want it cached", tag, allocs)
		}
	}
	p := c.Printer("fr")
	if one, two := p.N("privacy.inactive", 1), p.N("privacy.inactive", 24); one == two {
		t.Errorf("plural message cached across counts: %q", one)
	}
}

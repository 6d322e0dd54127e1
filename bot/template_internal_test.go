package bot

import (
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/locales"
)

// TestEveryTemplateInEveryLocale renders every reply template in every
// shipped locale as a resident receives it (with a date in their words
// and a place as typed), with the checks of every other message: no
// fallback, the values present, right-to-left paragraphs laid out as a
// phone shows them (catalog.LayoutProblems) and laid out once, French
// typography.
func TestEveryTemplateInEveryLocale(t *testing.T) {
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	cat.SetMissing(func(lang, id string, err error) { t.Errorf("catalog fallback: %s %s: %v", lang, id, err) })
	md, err := locales.FS.ReadFile("GLOSSARY.md")
	if err != nil {
		t.Fatal(err)
	}
	terms := catalog.GlossaryTerms(md)
	if n := len(cat.Languages()); n != 14 {
		t.Fatalf("%d locales; want 14", n)
	}
	day := permit.Date{Year: 2026, Month: 12, Day: 2}
	const place = "12 rue Victor Hugo, 69002 Lyon"
	for _, l := range cat.Languages() {
		p := cat.Printer(l.Tag)
		for _, tpl := range templates {
			value := ""
			switch tpl.need {
			case "date":
				value = day.String()
			case "place":
				value = place
			}
			got := renderTemplate(p, tpl, value)
			if strings.TrimSpace(got) == "" {
				t.Errorf("%s %s: empty", l.Tag, tpl.id)
				continue
			}
			plain := catalog.StripMarks(catalog.PlainText(got))
			if tpl.need == "date" && !strings.Contains(got, longDate(p, day)) {
				t.Errorf("%s %s: the date is not in the resident's words: %q", l.Tag, tpl.id, plain)
			}
			if tpl.need == "place" && !strings.Contains(plain, place) {
				t.Errorf("%s %s: the place is missing: %q", l.Tag, tpl.id, plain)
			}
			if l.RTL {
				for _, prob := range catalog.LayoutProblems(got, terms) {
					t.Errorf("%s %s: %s", l.Tag, tpl.id, prob)
				}
				if again := p.Layout(got); again != got {
					t.Errorf("%s %s: laid out twice", l.Tag, tpl.id)
				}
			}
			if l.Tag == "fr" {
				for _, prob := range catalog.FrenchTypographyProblems(got) {
					t.Errorf("fr %s: typography: %q", tpl.id, prob)
				}
			}
		}
	}
	if ids := TemplateIDs(); len(ids) != 7 {
		t.Errorf("%d templates; want the 7 of the issue", len(ids))
	}
}

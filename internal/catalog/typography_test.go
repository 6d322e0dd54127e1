package catalog_test

import (
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/catalog"
)

// TestFrenchTypography: French output has a no-break space before ":" and
// inside « », a narrow one before ";", "!" and "?", "1er" for the first of
// the month and times as "9 h" / "9 h 30", in every message; values and
// URLs are left as they are.
func TestFrenchTypography(t *testing.T) {
	t.Parallel()
	c := load(t)
	fr := c.Printer("fr")
	if probs := c.TypographyReport(); len(probs) > 0 {
		for i, p := range probs {
			if i == 30 {
				t.Errorf("... and %d more", len(probs)-30)
				break
			}
			t.Error(p)
		}
	}
	tests := []struct {
		name, got, want string
	}{
		{"colon", fr.T("mydata.language", "Language", "Français"), "Langue\u00a0: Français"},
		{"question mark", fr.T("menu.title"), "faire\u202f?"},
		{"first of the month", fr.T("date.long", "Weekday", catalog.HTML("samedi"), "Day", "1", "Month", catalog.HTML("mai"), "Year", "2027", "Short", "01/05/2027"), "samedi 1er mai 2027"},
		{"other days", fr.T("date.long", "Weekday", catalog.HTML("dimanche"), "Day", "2", "Month", catalog.HTML("mai"), "Year", "2027", "Short", "02/05/2027"), "dimanche 2 mai 2027"},
		{"full hour", fr.T("date.time", "Hour", catalog.HTML("9"), "Minute", catalog.HTML("00")), "9\u00a0h"},
		{"hour and minutes", fr.T("date.time", "Hour", catalog.HTML("9"), "Minute", catalog.HTML("30")), "9\u00a0h\u00a030"},
		{"label and value", fr.T("text.label_value", "Label", "La Cimade", "Value", "01 23 45 67 89"), "La Cimade\u00a0: 01 23 45 67 89"},
		{"value untouched", fr.T("text.label_value", "Label", "Note: urgent !", "Value", "x"), "Note: urgent !\u00a0: x"},
	}
	for _, tt := range tests {
		if !strings.Contains(tt.got, tt.want) {
			t.Errorf("%s: %q lacks %q", tt.name, tt.got, tt.want)
		}
	}
	if got := fr.T("date.time", "Hour", catalog.HTML("9"), "Minute", catalog.HTML("00")); got != "9\u00a0h" {
		t.Errorf("9:00 in French = %q; want \"9\u00a0h\"", got)
	}
	if got := c.Printer("en").T("date.time", "Hour", catalog.HTML("9"), "Minute", catalog.HTML("30")); got != "9:30" {
		t.Errorf("9:30 in English = %q", got)
	}
	if p := catalog.FrenchTypographyProblems("Langue : x. Vraiment ? « oui »"); len(p) != 4 {
		t.Errorf("problems of ordinary spaces = %q; want 4", p)
	}
}

package guide_test

import (
	"slices"
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	g := loadValid(t)
	tests := []struct {
		name, lang, text string
		max              int
		want             []string
	}{
		{"exact French", "fr", "renouvellement carte étudiant", 2, []string{"o_student", "q_mention"}},
		{"partial matches fill the rest", "fr", "renouvellement carte étudiant", 3, []string{"o_student", "q_mention", "o_duplicata"}},
		{"French without accents", "fr", "RENOUVELLEMENT CARTE ETUDIANT", 2, []string{"o_student", "q_mention"}},
		{"French in a sentence", "fr", "Bonjour, j'ai perdu ma carte !", 1, []string{"o_duplicata"}},
		{"typo", "fr", "renouvelement carte etudiant", 1, []string{"o_student"}},
		{"region tag", "fr-FR", "OQTF", 2, []string{"o_oqtf", "q_letter"}},
		{"hyphen joined", "fr", "vlsts", 3, []string{"q_sit"}},
		{"hyphen split", "fr", "vls ts", 3, []string{"q_sit"}},
		{"switched-off id skipped", "fr", "carte supprimée", 1, []string{"o_duplicata"}},
		{"Arabic", "ar", "تجديد بطاقة الطالب", 2, []string{"o_student", "q_mention"}},
		{"Arabic with tashkeel and variants", "ar", "تَجْدِيد بطاقه الطالب", 1, []string{"o_student"}},
		{"Arabic, Persian digits", "ar", "البطاقة ۱۰ سنوات", 1, []string{"q_sit_alg"}},
		{"Arabic, Eastern Arabic digits", "ar", "بطاقة ١٠ سنوات", 1, []string{"q_sit_alg"}},
		{"other language falls back", "fr", "renew student card", 2, []string{"o_student", "q_mention"}},
		{"unknown language falls back", "uk", "lost card", 1, []string{"o_duplicata"}},
		{"own language first, en", "en", "naturalisation OQTF", 3, []string{"q_sit", "o_oqtf", "q_letter"}},
		{"own language first, fr", "fr", "naturalisation OQTF", 3, []string{"o_oqtf", "q_letter", "q_sit"}},
		{"nothing matches", "fr", "xyzzy", 3, []string{"q_regime", "o_help"}},
		{"only filler words", "en", "hello, I want to", 3, []string{"q_regime", "o_help"}},
		{"empty", "fr", "", 3, []string{"q_regime", "o_help"}},
		{"max below one", "fr", "", 0, []string{"q_regime"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := g.Suggest(tt.lang, tt.text, tt.max)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Suggest(%q, %q, %d) = %q; want %q", tt.lang, tt.text, tt.max, got, tt.want)
			}
		})
	}
}

func TestSuggestNeverEmpty(t *testing.T) {
	g := loadValid(t)
	for _, text := range []string{"", " ", "?!", "…", "🙂", strings.Repeat("a ", 5000), "\xff\xfe", "ـــ", "َ"} {
		for _, lang := range []string{"fr", "ar", "en", "", "zz"} {
			got := g.Suggest(lang, text, 3)
			if len(got) == 0 || len(got) > 3 {
				t.Errorf("Suggest(%q, %q, 3) = %q; want 1 to 3 ids", lang, text, got)
			}
			for _, id := range got {
				if _, ok := g.Question(id); !ok && !g.IsOutcome(id) {
					t.Errorf("Suggest(%q, %q, 3) gave %q, not a live question or outcome", lang, text, id)
				}
			}
		}
	}
}

func FuzzSuggest(f *testing.F) {
	for _, s := range []string{"renouvellement carte étudiant", "تجديد بطاقة", "۱۰", "VLS-TS", ""} {
		f.Add("fr", s)
	}
	g := loadValid(f)
	f.Fuzz(func(t *testing.T, lang, text string) {
		got := g.Suggest(lang, text, 3)
		if len(got) == 0 || len(got) > 3 {
			t.Fatalf("Suggest(%q, %q, 3) = %q; want 1 to 3 ids", lang, text, got)
		}
	})
}

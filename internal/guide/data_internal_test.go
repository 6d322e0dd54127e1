package guide

import (
	"slices"
	"testing"
)

// TestDataPhrases checks that typing a shipped phrase exactly suggests,
// first, one of the ids that phrase lists, or that a phrase with the same
// words once normalised lists.
func TestDataPhrases(t *testing.T) {
	g, err := Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	for _, lang := range sortedKeys(g.phrases) {
		table := g.phrases[lang]
		for _, text := range sortedKeys(table) {
			toks := tokens(text)
			slices.Sort(toks)
			var allowed []string
			for other, ids := range table {
				ot := tokens(other)
				slices.Sort(ot)
				if slices.Equal(ot, toks) {
					allowed = append(allowed, ids...)
				}
			}
			got := g.Suggest(lang, text, 3)
			if len(got) == 0 || !slices.Contains(allowed, got[0]) {
				t.Errorf("Suggest(%q, %q, 3) = %q; want one of %q first", lang, text, got, allowed)
			}
		}
	}
}

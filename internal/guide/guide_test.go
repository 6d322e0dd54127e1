package guide_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/guide"
)

// testdata is the directory of the synthetic trees.
var testdata = os.DirFS("testdata")

// loadValid loads the small valid tree of testdata/valid.
func loadValid(tb testing.TB) *guide.Guide {
	tb.Helper()
	g, err := guide.LoadFS(testdata, "valid/tree.yaml", "valid/sources.yaml", "valid/phrases.yaml")
	if err != nil {
		tb.Fatalf("LoadFS(valid) = %v", err)
	}
	return g
}

// known is the fake catalog of the synthetic trees: every id under "g.".
func known(id string) bool { return strings.HasPrefix(id, "g.") }

func TestLoadFSErrors(t *testing.T) {
	tests := []struct {
		name                   string
		tree, sources, phrases string
		want                   []string // substrings of the error
	}{
		{"unknown field", "load/unknown_field.yaml", "valid/sources.yaml", "valid/phrases.yaml",
			[]string{"load/unknown_field.yaml", "line 13", "colour"}},
		{"syntax", "load/syntax.yaml", "valid/sources.yaml", "valid/phrases.yaml",
			[]string{"load/syntax.yaml", "line 3"}},
		{"second document", "load/two_docs.yaml", "valid/sources.yaml", "valid/phrases.yaml",
			[]string{"load/two_docs.yaml", "second YAML document"}},
		{"empty tree", "load/empty.yaml", "valid/sources.yaml", "valid/phrases.yaml",
			[]string{"load/empty.yaml", "empty file"}},
		{"wrong type", "load/wrong_type.yaml", "valid/sources.yaml", "valid/phrases.yaml",
			[]string{"load/wrong_type.yaml", "line 7"}},
		{"missing file", "load/nothere.yaml", "valid/sources.yaml", "valid/phrases.yaml",
			[]string{"read load/nothere.yaml"}},
		{"source unknown field", "valid/tree.yaml", "load/sources_unknown_field.yaml", "valid/phrases.yaml",
			[]string{"load/sources_unknown_field.yaml", "line 3", "link"}},
		{"phrases wrong type", "valid/tree.yaml", "valid/sources.yaml", "load/phrases_wrong_type.yaml",
			[]string{"load/phrases_wrong_type.yaml", "line 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := guide.LoadFS(testdata, tt.tree, tt.sources, tt.phrases)
			if err == nil {
				t.Fatalf("LoadFS(%s) = %v, nil; want an error", tt.tree, g)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadFS(%s) = %q; want it to contain %q", tt.tree, err, w)
				}
			}
		})
	}
}

func TestLoadFSEmptyOptionalFiles(t *testing.T) {
	g, err := guide.LoadFS(testdata, "valid/tree.yaml", "load/empty.yaml", "load/empty.yaml")
	if err != nil {
		t.Fatalf("LoadFS with empty sources and phrases = %v; want nil", err)
	}
	if _, ok := g.Source("S1"); ok {
		t.Errorf("Source(S1) found with no sources")
	}
}

func TestLookups(t *testing.T) {
	g := loadValid(t)
	if got := g.Start(); got != "q_regime" {
		t.Errorf("Start() = %q; want q_regime", got)
	}
	tests := []struct {
		id            string
		question, out bool
	}{
		{"q_regime", true, false},
		{"q_closed", false, false}, // switched off
		{"o_help", false, true},
		{"o_gone", false, false}, // switched off
		{"o_nowhere", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if _, ok := g.Question(tt.id); ok != tt.question {
			t.Errorf("Question(%q) ok = %v; want %v", tt.id, ok, tt.question)
		}
		if _, ok := g.Outcome(tt.id); ok != tt.out {
			t.Errorf("Outcome(%q) ok = %v; want %v", tt.id, ok, tt.out)
		}
		if got := g.IsOutcome(tt.id); got != tt.out {
			t.Errorf("IsOutcome(%q) = %v; want %v", tt.id, got, tt.out)
		}
	}
	if s, ok := g.Source("S2"); !ok || s.Date != "2024-01-01" {
		t.Errorf("Source(S2) = %+v, %v; want the 2024-01-01 source", s, ok)
	}
	if _, ok := g.Source("S9"); ok {
		t.Errorf("Source(S9) found; want none")
	}
}

func TestNext(t *testing.T) {
	g := loadValid(t)
	tests := []struct {
		name, question, answer string
		want                   string
		wantErr                error
	}{
		{"to a question", "q_regime", "other", "q_sit", nil},
		{"to an outcome", "q_sit", "lost", "o_duplicata", nil},
		{"dontknow", "q_sit", "dontknow", "o_help", nil},
		{"switched-off answer", "q_sit", "old", "o_help", nil},
		{"switched-off outcome", "q_sit", "gone", "o_help", nil},
		{"switched-off target question", "q_regime", "closed", "o_help", nil},
		{"switched-off question itself", "q_closed", "dontknow", "o_help", nil},
		{"forged answer", "q_regime", "admin", "", guide.ErrUnknown},
		{"answer of another question", "q_regime", "lost", "", guide.ErrUnknown},
		{"unknown question", "q_nowhere", "dontknow", "", guide.ErrUnknown},
		{"outcome as question", "o_help", "dontknow", "", guide.ErrUnknown},
		{"empty", "", "", "", guide.ErrUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.Next(tt.question, tt.answer)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Next(%q, %q) = %q, %v; want %q, %v", tt.question, tt.answer, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNextDanglingTarget(t *testing.T) {
	// An unvalidated tree whose answer leads nowhere: an error, no panic.
	g := guide.New(guide.Tree{
		Start: "q_a", Help: "o_help",
		Questions: []guide.Question{{ID: "q_a", Answers: []guide.Answer{{ID: "x", Next: "o_nowhere"}}}},
	}, nil, nil)
	if got, err := g.Next("q_a", "x"); !errors.Is(err, guide.ErrUnknown) {
		t.Errorf("Next(q_a, x) = %q, %v; want %v", got, err, guide.ErrUnknown)
	}
}

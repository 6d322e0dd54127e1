package guide_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/guide"
)

func TestValidateValid(t *testing.T) {
	g := loadValid(t)
	if errs := g.Validate(known); len(errs) != 0 {
		t.Errorf("Validate(valid) = %v; want no problems", errs)
	}
	base, err := guide.LoadFS(testdata, "broken/base.yaml", "broken/sources.yaml", "broken/phrases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if errs := base.Validate(known); len(errs) != 0 {
		t.Errorf("Validate(broken/base) = %v; want no problems", errs)
	}
}

// finding is what a broken tree must produce: the node and the rule.
type finding struct {
	node string
	rule error
}

func (f finding) String() string { return f.node + ": " + f.rule.Error() }

func TestValidateBroken(t *testing.T) {
	tests := []struct {
		tree    string // in testdata/broken
		sources string // default sources.yaml
		phrases string // default phrases.yaml
		want    []finding
	}{
		{tree: "version.yaml", want: []finding{{guide.TreeNode, guide.ErrVersion}}},
		{tree: "start.yaml", want: []finding{{guide.TreeNode, guide.ErrStart}}},
		{tree: "help_missing.yaml", want: []finding{{guide.TreeNode, guide.ErrHelp}}},
		{tree: "help_channel.yaml", want: []finding{{"o_help", guide.ErrHelp}}},
		{tree: "help_off.yaml", want: []finding{{"o_help", guide.ErrHelp}}},
		{tree: "bad_id.yaml", want: []finding{{"o-done", guide.ErrBadID}}},
		{tree: "bad_answer_id.yaml", want: []finding{
			{"q_start.Renew", guide.ErrBadID},
			{"q_start.this_answer_is_far_too_long", guide.ErrBadID},
		}},
		{tree: "duplicate_id.yaml", want: []finding{{"o_done", guide.ErrDuplicateID}}},
		{tree: "duplicate_answer.yaml", want: []finding{{"q_start.renew", guide.ErrDuplicateID}}},
		{tree: "dangling.yaml", want: []finding{{"q_start.renew", guide.ErrDangling}}},
		{tree: "dead_end.yaml", want: []finding{{"q_empty", guide.ErrDeadEnd}}},
		{tree: "unreachable.yaml", want: []finding{{"q_orphan", guide.ErrUnreachable}}},
		{tree: "cycle.yaml", want: []finding{{"q_start", guide.ErrCycle}}},
		{tree: "too_deep.yaml", want: []finding{{"q_7", guide.ErrTooDeep}}},
		{tree: "no_dontknow.yaml", want: []finding{{"q_start", guide.ErrNoDontKnow}}},
		{tree: "dontknow_off.yaml", want: []finding{{"q_start", guide.ErrNoDontKnow}}},
		{tree: "duplicate_label.yaml", want: []finding{{"q_start.other", guide.ErrDuplicateLabel}}},
		{tree: "no_source.yaml", want: []finding{{"o_done", guide.ErrNoSource}}},
		{tree: "unknown_source.yaml", want: []finding{{"o_done", guide.ErrUnknownSource}}},
		{tree: "base.yaml", sources: "sources_bad.yaml", want: []finding{
			{"source S1", guide.ErrSource},         // twice
			{"source S3", guide.ErrSource},         // no title
			{"source S3", guide.ErrSource},         // not https
			{"source S3", guide.ErrSource},         // no date
			{"source S4", guide.ErrSource},         // kind other (a forum)
			{"source S5", guide.ErrSource},         // citation-only with an article link
			{"source S6", guide.ErrSource},         // a mirror
			{"source S7", guide.ErrSource},         // http://
			{"source S8", guide.ErrSource},         // unknown kind
			{"source S8", guide.ErrMissingMessage}, // no gloss
			{"source S8", guide.ErrSource},         // unknown status
			{"source S8", guide.ErrSource},         // date in words
		}},
		{tree: "official.yaml", want: []finding{{"o_done", guide.ErrOfficial}}},
		{tree: "explanatory.yaml", want: []finding{{"o_done", guide.ErrExplanatory}}},
		{tree: "no_official_reason.yaml", want: nil},
		{tree: "review.yaml", want: []finding{
			{"o_done", guide.ErrReview}, // impossible day
			{"o_done", guide.ErrReview}, // no fingerprint
		}},
		{tree: "review_status.yaml", want: []finding{{"o_done", guide.ErrReview}}},
		{tree: "prefill.yaml", want: []finding{
			{"o_done", guide.ErrReminder}, // document
			{"o_done", guide.ErrReminder}, // mention
			{"o_done", guide.ErrReminder}, // first_multi
		}},
		{tree: "then.yaml", want: []finding{{"o_done", guide.ErrThen}}},
		{tree: "rule_unknown.yaml", want: []finding{{"o_done", guide.ErrRule}}},
		{tree: "rules.yaml", want: []finding{
			{"rule bad_date", guide.ErrRule},
			{"rule no_date", guide.ErrRule},
			{"rule reversed", guide.ErrRule},
			{"rule after_open", guide.ErrRule},
			{"rule not_law", guide.ErrOfficial},
		}},
		{tree: "protected.yaml", want: []finding{{"q_start", guide.ErrProtected}}},
		{tree: "missing_message.yaml", want: []finding{
			{"q_start", guide.ErrMissingMessage},
			{"q_start.renew", guide.ErrMissingMessage},
			{"o_done", guide.ErrMissingMessage}, // empty title
			{"o_done", guide.ErrMissingMessage}, // keep
		}},
		{tree: "sensitive.yaml", want: []finding{{"o_done", guide.ErrSensitive}}},
		{tree: "sensitive_document.yaml", want: []finding{{"o_done", guide.ErrSensitive}}},
		{tree: "urgent.yaml", want: []finding{{"o_done", guide.ErrUrgent}}},
		{tree: "channel.yaml", want: []finding{{"o_done", guide.ErrChannel}}},
		{tree: "timing.yaml", want: []finding{{"o_done", guide.ErrTiming}}},
		{tree: "base.yaml", phrases: "phrases_bad.yaml", want: []finding{
			{"phrase FR", guide.ErrPhrase},
			{"phrase fr de la", guide.ErrPhrase},
			{"phrase fr perdu", guide.ErrPhrase},
			{"phrase fr renouvellement", guide.ErrPhrase},
		}},
	}
	for _, tt := range tests {
		name := strings.TrimSuffix(tt.tree, ".yaml")
		if tt.sources != "" {
			name = strings.TrimSuffix(tt.sources, ".yaml")
		}
		if tt.phrases != "" {
			name = strings.TrimSuffix(tt.phrases, ".yaml")
		}
		t.Run(name, func(t *testing.T) {
			sources, phrases := cmpOr(tt.sources, "sources.yaml"), cmpOr(tt.phrases, "phrases.yaml")
			g, err := guide.LoadFS(testdata, "broken/"+tt.tree, "broken/"+sources, "broken/"+phrases)
			if err != nil {
				t.Fatalf("LoadFS = %v", err)
			}
			errs := g.Validate(known)
			var got []finding
			for _, err := range errs {
				var p *guide.Problem
				if !errors.As(err, &p) {
					t.Fatalf("Validate returned %T %v; want *guide.Problem", err, err)
				}
				got = append(got, finding{p.Node, ruleOf(p)})
				if !strings.HasPrefix(err.Error(), p.Node+": ") {
					t.Errorf("error %q does not start with its node %q", err, p.Node)
				}
			}
			if !sameFindings(got, tt.want) {
				t.Errorf("Validate(%s) = %v;\nwant %v", tt.tree, errs, tt.want)
			}
		})
	}
}

// ruleOf returns the rule error a problem wraps.
func ruleOf(p *guide.Problem) error {
	for _, rule := range []error{
		guide.ErrVersion, guide.ErrStart, guide.ErrHelp, guide.ErrBadID, guide.ErrDuplicateID,
		guide.ErrDangling, guide.ErrDeadEnd, guide.ErrUnreachable, guide.ErrCycle, guide.ErrTooDeep,
		guide.ErrNoDontKnow, guide.ErrDuplicateLabel, guide.ErrNoSource, guide.ErrUnknownSource,
		guide.ErrSource, guide.ErrReview, guide.ErrMissingMessage, guide.ErrSensitive, guide.ErrUrgent,
		guide.ErrChannel, guide.ErrTiming, guide.ErrPhrase, guide.ErrOfficial, guide.ErrExplanatory,
		guide.ErrRule, guide.ErrThen, guide.ErrReminder, guide.ErrProtected,
	} {
		if errors.Is(p, rule) {
			return rule
		}
	}
	return p.Err
}

func sameFindings(got, want []finding) bool {
	key := func(f finding) string { return fmt.Sprintf("%s|%v", f.node, f.rule) }
	g, w := make([]string, len(got)), make([]string, len(want))
	for i, f := range got {
		g[i] = key(f)
	}
	for i, f := range want {
		w[i] = key(f)
	}
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestValidateTooDeepNamesThePath(t *testing.T) {
	g, err := guide.LoadFS(testdata, "broken/too_deep.yaml", "broken/sources.yaml", "broken/phrases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	errs := g.Validate(known)
	want := "q_start → q_2 → q_3 → q_4 → q_5 → q_6 → q_7"
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
		t.Errorf("Validate(too_deep) = %v; want the path %q", errs, want)
	}
}

func TestValidateNilCatalog(t *testing.T) {
	g, err := guide.LoadFS(testdata, "broken/missing_message.yaml", "broken/sources.yaml", "broken/phrases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Without a catalog only the empty title is a problem.
	errs := g.Validate(nil)
	if len(errs) != 1 || !errors.Is(errs[0], guide.ErrMissingMessage) || !strings.Contains(errs[0].Error(), "title is empty") {
		t.Errorf("Validate(nil) = %v; want only the empty title", errs)
	}
}

func TestPaths(t *testing.T) {
	g := loadValid(t)
	got := make([]string, 0)
	for _, p := range g.Paths() {
		got = append(got, strings.Join(p, "/"))
	}
	slices.Sort(got)
	want := []string{
		"q_regime/q_closed/o_help",
		"q_regime/q_d2/q_d3/q_d4/q_d5/q_d6/o_help",
		"q_regime/q_letter/o_oqtf",
		"q_regime/q_sit/o_duplicata",
		"q_regime/q_sit/o_gone",
		"q_regime/q_sit/o_help",
		"q_regime/q_sit/o_silence",
		"q_regime/q_sit/q_mention/o_health",
		"q_regime/q_sit/q_mention/o_help",
		"q_regime/q_sit/q_mention/o_student",
		"q_regime/q_sit_alg/o_help",
		"q_regime/q_sit_alg/o_student",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Paths() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPathsCycleSafe(t *testing.T) {
	g, err := guide.LoadFS(testdata, "broken/cycle.yaml", "broken/sources.yaml", "broken/phrases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(g.Paths()); got != 2 {
		t.Errorf("len(Paths()) on a cycle = %d; want 2 (%v)", got, g.Paths())
	}
}

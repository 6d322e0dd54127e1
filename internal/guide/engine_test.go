package guide_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// loadThen loads the small tree with a follow-up question, a protected
// branch, dated rules and a reviewed outcome.
func loadThen(tb testing.TB) *guide.Guide {
	tb.Helper()
	g, err := guide.LoadFS(testdata, "then/tree.yaml", "then/sources.yaml", "then/phrases.yaml")
	if err != nil {
		tb.Fatalf("LoadFS(then) = %v", err)
	}
	return g
}

// fakeText is a catalog where every message says its id.
func fakeText(id string) string { return "text of " + id }

func TestThenValid(t *testing.T) {
	g := loadThen(t)
	if errs := g.Validate(known); len(errs) != 0 {
		t.Errorf("Validate(then) = %v; want no problems", errs)
	}
}

// TestThenQuestionContinuesTheWalk: an outcome with a follow-up question
// shows the outcome, and its answers continue the walk; Back returns to it.
func TestThenQuestionContinuesTheWalk(t *testing.T) {
	g := loadThen(t)
	state, cur, err := g.Answer("", "renew")
	if err != nil || cur != "o_unknown" {
		t.Fatalf("Answer(renew) = %q, %q, %v; want o_unknown", state, cur, err)
	}
	if q, ok := g.Asking(cur); !ok || q.ID != "q_channel" {
		t.Fatalf("Asking(o_unknown) = %v, %v; want q_channel", q.ID, ok)
	}
	state2, cur2, err := g.Answer(state, "prefecture")
	if err != nil || cur2 != "o_prefecture" || state2 != "q_start.renew/q_channel.prefecture" {
		t.Fatalf("Answer(prefecture) = %q, %q, %v", state2, cur2, err)
	}
	if got, err := g.Walk(state2); got != "o_prefecture" || err != nil {
		t.Errorf("Walk(%q) = %q, %v", state2, got, err)
	}
	if back := g.Back(state2); back != state {
		t.Errorf("Back = %q; want %q", back, state)
	}
	// An outcome without a follow-up ends the walk.
	if _, _, err := g.Answer(state2, "anef"); err == nil {
		t.Errorf("answering at an outcome without a follow-up question succeeded")
	}
	if st, err := g.StateFor("q_channel"); err != nil || st != "q_start.renew" {
		t.Errorf("StateFor(q_channel) = %q, %v; want the state of o_unknown", st, err)
	}
	paths := g.AnswerPaths()
	if !slices.Contains(paths["o_prefecture"], "renew/prefecture") || !slices.Contains(paths["o_prefecture"], "protected/renew/prefecture") {
		t.Errorf("AnswerPaths()[o_prefecture] = %q", paths["o_prefecture"])
	}
}

func TestProtected(t *testing.T) {
	g := loadThen(t)
	tests := []struct {
		state string
		want  bool
	}{
		{"", false},
		{"q_start.renew", false},
		{"q_start.protected", false}, // at the protected question, not past it
		{"q_start.protected/q_protected.renew", true},
		{"q_start.protected/q_protected.renew/q_channel.anef", true},
		{"garbage", false},
	}
	for _, tt := range tests {
		if got := g.Protected(tt.state); got != tt.want {
			t.Errorf("Protected(%q) = %v; want %v", tt.state, got, tt.want)
		}
	}
}

// TestRuleTextsCrossEachBoundary: a rule shows its "before" text the day
// before it starts, its text from its first to its last day, its "after"
// text the day after.
func TestRuleTextsCrossEachBoundary(t *testing.T) {
	g := loadThen(t)
	o, _ := g.Outcome("o_unknown")
	day := func(s string) permit.Date {
		var d permit.Date
		if err := d.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		day  string
		want []string
	}{
		{"2025-12-31", []string{"g.rule.exam_before", "g.rule.tp"}},
		{"2026-01-01", []string{"g.rule.exam", "g.rule.tp"}},
		{"2027-03-04", []string{"g.rule.exam", "g.rule.tp"}},
		{"2027-03-05", []string{"g.rule.exam", "g.rule.tp_after"}},
	}
	for _, tt := range tests {
		if got := g.RuleTexts(o, day(tt.day)); !slices.Equal(got, tt.want) {
			t.Errorf("RuleTexts(%s) = %q; want %q", tt.day, got, tt.want)
		}
	}
	if got := g.Sources(o); !slices.Equal(got, []string{"S1", "S2"}) {
		t.Errorf("Sources(o_unknown) = %q; want its own, then its rules' (S1, S2)", got)
	}
}

// TestFilingDate: the rule in force is picked on the filing day.
func TestFilingDate(t *testing.T) {
	d := func(s string) permit.Date {
		var x permit.Date
		if err := x.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		return x
	}
	today := d("2025-11-25")
	exp := d("2026-04-30")
	tests := []struct {
		timing guide.Timing
		typed  *permit.Date
		want   string
	}{
		{guide.TimingANEFWindow, nil, "2025-11-25"},
		{guide.TimingANEFWindow, &exp, "2025-12-31"},       // D-120
		{guide.TimingBothWindows, &exp, "2025-12-31"},      // the ANEF window, the earlier one
		{guide.TimingPrefectureWindow, &exp, "2026-02-28"}, // two months before
		{guide.TimingAPS, &exp, "2026-04-09"},              // three weeks before
		{guide.TimingFirstRequest, &exp, "2025-11-25"},
	}
	for _, tt := range tests {
		if got := guide.FilingDate(tt.timing, tt.typed, today); got.String() != tt.want {
			t.Errorf("FilingDate(%s) = %s; want %s", tt.timing, got, tt.want)
		}
	}
	late := d("2026-01-10")
	if got := guide.FilingDate(guide.TimingANEFWindow, &late, today); got != today {
		t.Errorf("FilingDate with the window already open = %s; want today", got)
	}
}

// TestReviewGoesBackToVerify: an outcome reviewed with the fingerprint of
// what was read counts as reviewed; any change to its texts, its route or
// its sources makes it to_verify again, with no one editing the review.
func TestReviewGoesBackToVerify(t *testing.T) {
	g := loadThen(t)
	o, _ := g.Outcome("o_prefecture")
	if g.Reviewed(o, fakeText) {
		t.Fatal("reviewed with a made-up fingerprint")
	}
	if got := g.ReviewState(o, fakeText); got != guide.ReviewChanged {
		t.Errorf("ReviewState = %q; want %q", got, guide.ReviewChanged)
	}
	// Record the review of the outcome as it is.
	tree := g.Tree
	tree.Outcomes = slices.Clone(tree.Outcomes)
	i := slices.IndexFunc(tree.Outcomes, func(o guide.Outcome) bool { return o.ID == "o_prefecture" })
	tree.Outcomes[i].Review.Fingerprint = g.Fingerprint(o, fakeText)
	sources := []guide.Source{}
	for _, tag := range []string{"S1", "S2"} {
		s, _ := g.Source(tag)
		sources = append(sources, s)
	}
	reviewed := guide.New(tree, sources, nil)
	o = tree.Outcomes[i]
	if !reviewed.Reviewed(o, fakeText) || reviewed.ReviewState(o, fakeText) != guide.ReviewReviewed {
		t.Fatalf("outcome with its own fingerprint is not reviewed")
	}
	// A French text changes: back to to_verify.
	changedText := func(id string) string {
		if id == "g.o.prefecture" {
			return "a new title"
		}
		return fakeText(id)
	}
	if reviewed.Reviewed(o, changedText) {
		t.Errorf("still reviewed after its title changed")
	}
	// Its route changes: back to to_verify.
	o2 := o
	o2.Channel = guide.ChannelANEF
	if reviewed.Reviewed(o2, fakeText) {
		t.Errorf("still reviewed after its channel changed")
	}
	// A source's link changes: back to to_verify.
	movedSources := slices.Clone(sources)
	movedSources[0].URL = "https://example.org/moved"
	moved := guide.New(tree, movedSources, nil)
	if moved.Reviewed(o, fakeText) {
		t.Errorf("still reviewed after its legal basis moved")
	}
	// The diff says so too.
	lines := guide.Diff(reviewed, moved, fakeText)
	if !slices.ContainsFunc(lines, func(l string) bool {
		return strings.Contains(l, "o_prefecture") && strings.Contains(l, "back to to_verify")
	}) {
		t.Errorf("Diff does not say o_prefecture goes back to to_verify:\n%s", strings.Join(lines, "\n"))
	}
}

func TestDiff(t *testing.T) {
	old := loadThen(t)
	if lines := guide.Diff(old, old, fakeText); len(lines) != 0 {
		t.Errorf("Diff of a tree with itself = %q", lines)
	}
	tree := old.Tree
	tree.Outcomes = slices.Clone(tree.Outcomes)
	tree.Outcomes[1].When = "g.when.new"
	tree.Outcomes = append(tree.Outcomes[:3], tree.Outcomes[4:]...) // drop o_prefecture
	tree.Questions = slices.Clone(tree.Questions)
	tree.Questions[2].Answers = tree.Questions[2].Answers[:1]
	var sources []guide.Source
	for _, tag := range []string{"S1", "S2"} {
		s, _ := old.Source(tag)
		sources = append(sources, s)
	}
	lines := guide.Diff(old, guide.New(tree, sources, nil), fakeText)
	for _, want := range []string{
		"~ outcome o_unknown: when  → g.when.new «text of g.when.new»",
		"- outcome o_prefecture",
		"- answer q_channel.prefecture",
		"- answer q_channel.dontknow",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("Diff lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

func TestExport(t *testing.T) {
	g := loadThen(t)
	var b bytes.Buffer
	if err := g.Export(&b, "csv", fakeText); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1+len(g.Tree.Outcomes) || records[0][0] != "outcome" {
		t.Fatalf("CSV has %d records, header %q", len(records), records[0])
	}
	row := records[3] // o_anef
	for _, want := range []string{"o_anef", "renew/anef", "text of g.o.anef", "Code synthétique, art. 1 [law, verified, n.d.]", "to_verify"} {
		if !strings.Contains(strings.Join(row, "|"), want) {
			t.Errorf("CSV row %q lacks %q", row, want)
		}
	}
	b.Reset()
	if err := g.Export(&b, "md", fakeText); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## o_prefecture: text of g.o.prefecture", "**review**: " + guide.ReviewChanged, "**fingerprint**: "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Markdown export lacks %q", want)
		}
	}
	if err := g.Export(&b, "pdf", fakeText); err == nil {
		t.Error("Export(pdf) succeeded")
	}
}

package guide_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/guide"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		state   string
		want    guide.Path
		wantErr bool
	}{
		{"", nil, false},
		{"q_regime.other", guide.Path{"q_regime.other"}, false},
		{"q_regime.other/q_sit.renew", guide.Path{"q_regime.other", "q_sit.renew"}, false},
		{"q_regime", nil, true},
		{"q_regime.", nil, true},
		{".other", nil, true},
		{"q_regime.other/", nil, true},
		{"/q_regime.other", nil, true},
		{"Q_regime.other", nil, true},
		{"q_regime.Other", nil, true},
		{"q_regime.other.x", nil, true},
		{"q_regime.an_answer_id_that_is_too_long", nil, true},
		{strings.Repeat("q_a.b/", 6) + "q_a.b", nil, true}, // 7 steps
		{strings.Repeat("x", guide.MaxStateLen+1), nil, true},
	}
	for _, tt := range tests {
		got, err := guide.ParsePath(tt.state)
		if (err != nil) != tt.wantErr || got.String() != tt.want.String() {
			t.Errorf("ParsePath(%q) = %q, %v; want %q, error %v", tt.state, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, guide.ErrState) {
			t.Errorf("ParsePath(%q) error %v does not wrap ErrState", tt.state, err)
		}
	}
}

func TestWalk(t *testing.T) {
	g := loadValid(t)
	tests := []struct {
		name, state string
		want        string
		wantErr     error
	}{
		{"start", "", "q_regime", nil},
		{"one step", "q_regime.other", "q_sit", nil},
		{"to an outcome", "q_regime.other/q_sit.renew/q_mention.student", "o_student", nil},
		{"dontknow shares the next question", "q_regime.dontknow/q_sit.lost", "o_duplicata", nil},
		{"switched-off answer", "q_regime.other/q_sit.old", "o_help", nil},
		{"switched-off outcome", "q_regime.other/q_sit.gone", "o_help", nil},
		{"switched-off question", "q_regime.closed", "o_help", nil},
		{"six questions deep", "q_regime.deep/q_d2.dontknow/q_d3.dontknow/q_d4.dontknow/q_d5.dontknow/q_d6.dontknow", "o_help", nil},
		{"beyond a switched-off question", "q_regime.closed/q_closed.dontknow", "", guide.ErrState},
		{"forged answer", "q_regime.admin", "", guide.ErrUnknown},
		{"step skipped", "q_sit.renew", "", guide.ErrState},
		{"past an outcome", "q_regime.other/q_sit.lost/q_sit.lost", "", guide.ErrState},
		{"unknown question", "q_regime.other/q_nowhere.x", "", guide.ErrState},
		{"malformed", "q_regime/other", "", guide.ErrState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.Walk(tt.state)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Walk(%q) = %q, %v; want %q, %v", tt.state, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAnswerBackRoundTrip(t *testing.T) {
	g := loadValid(t)
	steps := []struct {
		answer, wantState, wantCur string
	}{
		{"other", "q_regime.other", "q_sit"},
		{"renew", "q_regime.other/q_sit.renew", "q_mention"},
		{"health", "q_regime.other/q_sit.renew/q_mention.health", "o_health"},
	}
	state := ""
	var states []string
	for _, s := range steps {
		states = append(states, state)
		next, cur, err := g.Answer(state, s.answer)
		if err != nil || next != s.wantState || cur != s.wantCur {
			t.Fatalf("Answer(%q, %q) = %q, %q, %v; want %q, %q, nil", state, s.answer, next, cur, err, s.wantState, s.wantCur)
		}
		if got, err := g.Walk(next); got != cur || err != nil {
			t.Fatalf("Walk(%q) = %q, %v; want %q, nil", next, got, err, cur)
		}
		state = next
	}
	if _, _, err := g.Answer(state, "dontknow"); !errors.Is(err, guide.ErrState) {
		t.Errorf("Answer at an outcome = %v; want %v", err, guide.ErrState)
	}
	for i := len(states) - 1; i >= 0; i-- {
		state = g.Back(state)
		if state != states[i] {
			t.Fatalf("Back = %q; want %q", state, states[i])
		}
	}
	if got := g.Back(""); got != "" {
		t.Errorf("Back(\"\") = %q; want \"\"", got)
	}
	if got := g.Back("not a state"); got != "" {
		t.Errorf("Back(malformed) = %q; want \"\"", got)
	}
}

func TestAnswerErrors(t *testing.T) {
	g := loadValid(t)
	tests := []struct {
		name, state, answer string
		wantErr             error
	}{
		{"forged answer", "", "admin", guide.ErrUnknown},
		{"answer of another question", "q_regime.other", "oqtf", guide.ErrUnknown},
		{"stale state", "q_sit.renew", "student", guide.ErrState},
		{"at an outcome", "q_regime.other/q_sit.lost", "dontknow", guide.ErrState},
		{"at help after switched-off", "q_regime.closed", "dontknow", guide.ErrState},
		{"malformed state", "q_regime", "other", guide.ErrState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, cur, err := g.Answer(tt.state, tt.answer)
			if !errors.Is(err, tt.wantErr) || next != "" || cur != "" {
				t.Errorf("Answer(%q, %q) = %q, %q, %v; want \"\", \"\", %v", tt.state, tt.answer, next, cur, err, tt.wantErr)
			}
		})
	}
}

func TestAnswerSwitchedOff(t *testing.T) {
	g := loadValid(t)
	for _, a := range []string{"old", "gone"} {
		next, cur, err := g.Answer("q_regime.other", a)
		if err != nil || cur != "o_help" || next != "q_regime.other/q_sit."+a {
			t.Errorf("Answer(q_regime.other, %q) = %q, %q, %v; want the help outcome", a, next, cur, err)
		}
	}
}

func TestStateFor(t *testing.T) {
	g := loadValid(t)
	tests := []struct {
		id, want string
		wantErr  error
	}{
		{"q_regime", "", nil},
		{"q_sit", "q_regime.other", nil},
		{"q_mention", "q_regime.other/q_sit.renew", nil},
		{"o_student", "q_regime.algeria/q_sit_alg.student", nil},
		{"q_d6", "q_regime.deep/q_d2.dontknow/q_d3.dontknow/q_d4.dontknow/q_d5.dontknow", nil},
		{"o_help", "q_regime.closed", nil},
		{"q_closed", "", guide.ErrUnknown}, // switched off
		{"o_gone", "", guide.ErrUnknown},   // switched off
		{"o_nowhere", "", guide.ErrUnknown},
	}
	for _, tt := range tests {
		got, err := g.StateFor(tt.id)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("StateFor(%q) = %q, %v; want %q, %v", tt.id, got, err, tt.want, tt.wantErr)
			continue
		}
		if err == nil {
			if cur, err := g.Walk(got); cur != tt.id || err != nil {
				t.Errorf("Walk(StateFor(%q)) = %q, %v; want %q", tt.id, cur, err, tt.id)
			}
		}
	}
}

func TestStartSwitchedOff(t *testing.T) {
	g := guide.New(guide.Tree{
		Start: "q_a", Help: "o_help",
		Questions: []guide.Question{{ID: "q_a", Off: true, Answers: []guide.Answer{{ID: "dontknow", Next: "o_help"}}}},
		Outcomes:  []guide.Outcome{{ID: "o_help", Channel: guide.ChannelHuman}},
	}, nil, nil)
	if cur, err := g.Walk(""); cur != "o_help" || err != nil {
		t.Errorf("Walk(\"\") with the start switched off = %q, %v; want o_help, nil", cur, err)
	}
}

// FuzzWalk checks that no state, however forged, makes the guide panic,
// and that whatever Walk accepts, Answer and Back handle too.
func FuzzWalk(f *testing.F) {
	for _, s := range []string{
		"", "q_regime.other", "q_regime.other/q_sit.renew/q_mention.student",
		"q_regime.closed", "q_regime.other/q_sit.old", "/", ".", "q_regime..", "q_regime.other//",
		"q_regime.deep/q_d2.dontknow/q_d3.dontknow/q_d4.dontknow/q_d5.dontknow/q_d6.dontknow",
		"q_régime.autre", "\x00.\xff",
	} {
		f.Add(s, "dontknow")
	}
	g := loadValid(f)
	f.Fuzz(func(t *testing.T, state, answer string) {
		cur, err := g.Walk(state)
		g.Back(state)
		next, cur2, aerr := g.Answer(state, answer)
		if err != nil {
			if aerr == nil {
				t.Fatalf("Answer(%q, %q) succeeded after Walk failed: %v", state, answer, err)
			}
			return
		}
		if cur == "" {
			t.Fatalf("Walk(%q) = \"\", nil", state)
		}
		if aerr == nil {
			if got, err := g.Walk(next); got != cur2 || err != nil {
				t.Fatalf("Walk(Answer(%q, %q)) = %q, %v; want %q", state, answer, got, err, cur2)
			}
			if back := g.Back(next); back != state {
				t.Fatalf("Back(%q) = %q; want %q", next, back, state)
			}
		}
	})
}

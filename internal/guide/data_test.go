package guide_test

import (
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// TestData checks the shipped tree. Message ids are checked against the
// catalogs where both are known (cmd check, bot tests), not here: this
// package does not import the catalog.
func TestData(t *testing.T) {
	g, err := guide.Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	for _, err := range g.Validate(nil) {
		t.Errorf("Validate: %v", err)
	}
	if t.Failed() {
		return
	}
	t.Run("every live node has a state", func(t *testing.T) {
		var ids []string
		for _, q := range g.Tree.Questions {
			if !q.Off {
				ids = append(ids, q.ID)
			}
		}
		for _, o := range g.Tree.Outcomes {
			if !o.Off {
				ids = append(ids, o.ID)
			}
		}
		for _, id := range ids {
			state, err := g.StateFor(id)
			if err != nil {
				// Outcomes only reached from phrases have no state.
				if _, isQ := g.Question(id); isQ {
					t.Errorf("StateFor(%q) = %v", id, err)
				}
				continue
			}
			cur, err := g.Walk(state)
			if q, ok := g.Asking(cur); err != nil || cur != id && (!ok || q.ID != id) {
				t.Errorf("Walk(StateFor(%q)) = %q, %v", id, cur, err)
			}
		}
	})
	t.Run("every path walks", func(t *testing.T) {
		for _, p := range g.Paths() {
			n := 0
			for _, id := range p {
				if _, ok := g.Question(id); ok {
					n++
				}
			}
			if n > guide.MaxDepth {
				t.Errorf("path %v: more than %d questions", p, guide.MaxDepth)
			}
		}
	})
}

// TestCalendarSourcesAreKnown: the sources reminders cite (the permit
// calendar's tags) are all in sources.yaml, so a reminder never cites a
// source the guide does not show.
func TestCalendarSourcesAreKnown(t *testing.T) {
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := permit.NewDate(2027, time.June, 30)
	filed, _ := permit.NewDate(2027, time.March, 10)
	api, _ := permit.NewDate(2027, time.September, 30)
	arrival, _ := permit.NewDate(2026, time.September, 1)
	reg, _ := permit.NewDate(2026, time.January, 1)
	late, _ := permit.NewDate(2027, time.July, 5)
	seen := 0
	for _, k := range permit.Kinds() {
		for _, m := range []permit.Mention{permit.MentionEtudiant, permit.MentionSalarie, permit.MentionProtection} {
			for _, d := range []permit.Document{
				{Kind: k, Mention: m, Expiry: exp, FirstMultiYear: true, Arrival: &arrival},
				{Kind: k, Mention: m, Expiry: exp, Filed: &filed, APIExpiry: &api},
				{Kind: k, Mention: m, Expiry: exp, Filed: &filed},
			} {
				for _, day := range []permit.Date{reg, late} {
					for _, ms := range permit.Schedule(d, day) {
						for _, tag := range ms.Sources {
							seen++
							if _, ok := g.Source(tag); !ok {
								t.Errorf("%s %s: source %q is not in sources.yaml", k, ms.Kind, tag)
							}
						}
					}
				}
			}
		}
	}
	if w := permit.RenewalWindow(exp, permit.ANEF); len(w.Sources) == 0 {
		t.Error("the renewal window cites nothing")
	} else if _, ok := g.Source(w.Sources[0]); !ok {
		t.Errorf("window source %q is not in sources.yaml", w.Sources[0])
	}
	if seen < 100 {
		t.Fatalf("only %d citations checked", seen)
	}
}

package guide_test

import (
	"testing"

	"github.com/passerelle-bot/passerelle/internal/guide"
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

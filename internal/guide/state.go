package guide

import (
	"errors"
	"fmt"
	"strings"
)

// Limits of the tree and of a stored state.
const (
	// MaxDepth is the most questions a resident answers before an outcome.
	MaxDepth = 6
	// MaxIDLen bounds question and outcome ids, in bytes: they go into
	// callback data ("g:o:<id>"), which Telegram caps at 64 bytes.
	MaxIDLen = 48
	// MaxAnswerLen bounds answer ids, in bytes.
	MaxAnswerLen = 20
	// MaxStateLen bounds a state string: MaxDepth steps of the longest ids.
	MaxStateLen = MaxDepth*(MaxIDLen+1+MaxAnswerLen) + MaxDepth - 1
)

// ErrState is wrapped by the errors of [ParsePath], [Guide.Walk] and
// [Guide.Answer] when a state is malformed, too deep, or no longer matches
// the tree (it was stored before the tree changed, or forged).
var ErrState = errors.New("guide: invalid state")

// Path is the walk so far: one step per question answered, in order, each
// "questionID.answerID". Its string form, steps joined by "/", is the
// state a session stores, e.g. "q_regime.other/q_sit_other.renew"; the
// empty state is the start. Keeping the question ids lets [Guide.Walk]
// notice a state that no longer fits the tree instead of silently
// following answers into a different question.
type Path []string

// String returns the state: the steps joined by "/".
func (p Path) String() string { return strings.Join(p, "/") }

// ParsePath checks the syntax of a state and splits it into steps. It
// does not look at the tree; [Guide.Walk] does.
func ParsePath(state string) (Path, error) {
	if state == "" {
		return nil, nil
	}
	if len(state) > MaxStateLen {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrState, len(state), MaxStateLen)
	}
	if n := strings.Count(state, "/") + 1; n > MaxDepth {
		return nil, fmt.Errorf("%w: %d steps, at most %d", ErrState, n, MaxDepth)
	}
	p := Path(strings.Split(state, "/"))
	for i, step := range p {
		q, a, ok := strings.Cut(step, ".")
		if !ok || !validID(q) || !validAnswerID(a) {
			return nil, fmt.Errorf("%w: step %d is not question.answer", ErrState, i+1)
		}
	}
	return p, nil
}

// entry is where every walk begins: Tree.Start, or Tree.Help when the
// start question is switched off.
func (g *Guide) entry() (string, error) {
	i, ok := g.questions[g.Tree.Start]
	if !ok {
		return "", fmt.Errorf("%w: start question %q", ErrUnknown, g.Tree.Start)
	}
	if g.Tree.Questions[i].Off {
		return g.Tree.Help, nil
	}
	return g.Tree.Start, nil
}

// Walk replays a state from the start, checking every step against the
// tree as it is now, and returns the id reached: a question or an
// outcome. States come from sessions and may be stale or forged: any
// mismatch is an error wrapping [ErrState] or [ErrUnknown]; the caller
// starts over.
func (g *Guide) Walk(state string) (current string, err error) {
	p, err := ParsePath(state)
	if err != nil {
		return "", err
	}
	cur, err := g.entry()
	if err != nil {
		return "", err
	}
	for i, step := range p {
		q, a, _ := strings.Cut(step, ".")
		if at := g.asking(cur); q != at {
			return "", fmt.Errorf("%w: step %d answers %q but the walk is at %q", ErrState, i+1, q, cur)
		}
		if cur, err = g.Next(q, a); err != nil {
			return "", fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return cur, nil
}

// Back returns the state one answer earlier. The start, and any state
// that does not parse, go back to the start ("").
func (g *Guide) Back(state string) string {
	p, err := ParsePath(state)
	if err != nil || len(p) == 0 {
		return ""
	}
	return p[:len(p)-1].String()
}

// Answer applies answerID to the question the state has reached and
// returns the new state and the id it reaches. It fails, wrapping
// [ErrState] or [ErrUnknown], when the state is invalid, has reached an
// outcome, or the question has no such answer.
func (g *Guide) Answer(state, answerID string) (newState, currentID string, err error) {
	cur, err := g.Walk(state)
	if err != nil {
		return "", "", err
	}
	cur = g.asking(cur)
	if _, ok := g.Question(cur); !ok {
		return "", "", fmt.Errorf("%w: the walk is at %q, not at a question", ErrState, cur)
	}
	p, _ := ParsePath(state) // Walk parsed it
	if len(p) >= MaxDepth {
		return "", "", fmt.Errorf("%w: more than %d questions", ErrState, MaxDepth)
	}
	next, err := g.Next(cur, answerID)
	if err != nil {
		return "", "", err
	}
	return append(p, cur+"."+answerID).String(), next, nil
}

// StateFor returns the shortest state that walks to id, a question or an
// outcome that is not switched off, preferring answers in their order. For
// a question asked under an outcome (Outcome.Then), it is the state of that
// outcome: [Guide.Asking] of where it walks gives the question.
// It lets a suggestion jump into the tree with Back still working. An id
// that is unknown, switched off or unreachable is an error wrapping
// [ErrUnknown].
func (g *Guide) StateFor(id string) (string, error) {
	start, err := g.entry()
	if err != nil {
		return "", err
	}
	_, isQ := g.Question(id)
	if !isQ && !g.IsOutcome(id) {
		return "", fmt.Errorf("%w: %q", ErrUnknown, id)
	}
	type node struct {
		id   string
		path Path
	}
	seen := map[string]bool{start: true}
	queue := []node{{id: start}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n.id == id {
			return n.path.String(), nil
		}
		if o, ok := g.Outcome(n.id); ok && o.Then == id && isQ {
			// A question asked under an outcome: the outcome's state.
			return n.path.String(), nil
		}
		q, ok := g.Question(g.asking(n.id))
		if !ok || len(n.path) >= MaxDepth {
			continue
		}
		for _, a := range q.Answers {
			next, err := g.Next(q.ID, a.ID)
			if err != nil || seen[next] {
				continue
			}
			seen[next] = true
			p := append(n.path[:len(n.path):len(n.path)], q.ID+"."+a.ID)
			queue = append(queue, node{id: next, path: p})
		}
	}
	return "", fmt.Errorf("%w: %q is not reachable from the start", ErrUnknown, id)
}

// asking returns the question a resident answers when the walk is at id:
// id itself for a question, the Then question of an outcome that has one,
// or "" (an outcome where the walk ends, or an unknown id).
func (g *Guide) asking(id string) string {
	if _, ok := g.questions[id]; ok {
		return id
	}
	if i, ok := g.outcomes[id]; ok && !g.Tree.Outcomes[i].Off {
		return g.Tree.Outcomes[i].Then
	}
	return ""
}

// Asking returns the question to answer when the walk is at id: id itself
// for a question that is not switched off, the Then question of an outcome,
// and ok false when the walk ends there.
func (g *Guide) Asking(id string) (Question, bool) {
	return g.Question(g.asking(id))
}

// Protected reports whether the walk of state passed a question marked
// Protected: the resident said they are a refugee, under subsidiary
// protection or stateless. A state that does not parse is not protected.
func (g *Guide) Protected(state string) bool {
	p, err := ParsePath(state)
	if err != nil {
		return false
	}
	for _, step := range p {
		q, _, _ := strings.Cut(step, ".")
		if i, ok := g.questions[q]; ok && g.Tree.Questions[i].Protected {
			return true
		}
	}
	return false
}

// validID reports whether s is a well-formed question or outcome id:
// ^[a-z][a-z0-9_]*$, at most MaxIDLen bytes.
func validID(s string) bool {
	if s == "" || len(s) > MaxIDLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	return allIDBytes(s)
}

// validAnswerID reports whether s is a well-formed answer id:
// ^[a-z0-9_]{1,20}$.
func validAnswerID(s string) bool {
	return s != "" && len(s) <= MaxAnswerLen && allIDBytes(s)
}

func allIDBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

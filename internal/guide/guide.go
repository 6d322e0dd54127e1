package guide

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"go.yaml.in/yaml/v3"
)

// ErrUnknown is wrapped by the errors of [Guide.Next], [Guide.Walk],
// [Guide.Answer] and [Guide.StateFor] when an id names no question, no
// answer or no outcome of the tree. Ids come from callback data, which
// anyone can forge: callers treat it as a stale button, not as a bug.
var ErrUnknown = errors.New("guide: unknown id")

// Phrases is, for each language (a base tag such as "fr"), what residents
// type mapped to the entry points it suggests: question or outcome ids,
// best first.
type Phrases map[string]map[string][]string

// Guide is a loaded decision tree with its indexes. It is read-only once
// built, so its methods are safe for concurrent use. Build it with [Load],
// [LoadFS] or [New], then check it with [Guide.Validate]: a Guide that
// fails validation still never panics, but its walks may end early on
// errors.
type Guide struct {
	// Tree is the tree as loaded. Do not modify it: the indexes are built
	// from it once.
	Tree Tree

	questions map[string]int // id → index in Tree.Questions (first wins)
	outcomes  map[string]int // id → index in Tree.Outcomes (first wins)
	sources   []Source
	sourceIdx map[string]int // tag → index in sources (first wins)
	phrases   Phrases
	index     map[string][]phrase // language → phrases, tokenised
	df        map[string]map[string]int
}

// New indexes a tree, its sources and its phrases. Duplicate ids keep
// their first occurrence; [Guide.Validate] reports them.
func New(tree Tree, sources []Source, phrases Phrases) *Guide {
	g := &Guide{
		Tree:      tree,
		questions: make(map[string]int, len(tree.Questions)),
		outcomes:  make(map[string]int, len(tree.Outcomes)),
		sources:   sources,
		sourceIdx: make(map[string]int, len(sources)),
		phrases:   phrases,
	}
	for i, q := range tree.Questions {
		if _, dup := g.questions[q.ID]; !dup {
			g.questions[q.ID] = i
		}
	}
	for i, o := range tree.Outcomes {
		if _, dup := g.outcomes[o.ID]; !dup {
			g.outcomes[o.ID] = i
		}
	}
	for i, s := range sources {
		if _, dup := g.sourceIdx[s.Tag]; !dup {
			g.sourceIdx[s.Tag] = i
		}
	}
	g.buildIndex()
	return g
}

// LoadFS reads a tree, its sources and its phrases from fsys. Unknown
// fields are errors, reported with the file name and the line. An empty
// sources or phrases file means none; an empty tree file is an error.
// LoadFS does not validate: call [Guide.Validate].
func LoadFS(fsys fs.FS, treeFile, sourcesFile, phrasesFile string) (*Guide, error) {
	var tree Tree
	if err := decodeFile(fsys, treeFile, &tree, false); err != nil {
		return nil, err
	}
	var sources []Source
	if err := decodeFile(fsys, sourcesFile, &sources, true); err != nil {
		return nil, err
	}
	var phrases Phrases
	if err := decodeFile(fsys, phrasesFile, &phrases, true); err != nil {
		return nil, err
	}
	return New(tree, sources, phrases), nil
}

// decodeFile decodes the single YAML document of name into v, rejecting
// unknown fields and trailing documents.
func decodeFile(fsys fs.FS, name string, v any, emptyOK bool) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("guide: read %s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	switch err := dec.Decode(v); {
	case errors.Is(err, io.EOF):
		if emptyOK {
			return nil
		}
		return fmt.Errorf("guide: %s: empty file", name)
	case err != nil:
		return fmt.Errorf("guide: %s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return fmt.Errorf("guide: %s: %w", name, err)
		}
		return fmt.Errorf("guide: %s: line %d: a second YAML document; keep one per file", name, extra.Line)
	}
	return nil
}

// Start returns the id of the first question.
func (g *Guide) Start() string { return g.Tree.Start }

// Question returns the question with that id. ok is false when there is
// none or when it is switched off.
func (g *Guide) Question(id string) (q Question, ok bool) {
	i, found := g.questions[id]
	if !found || g.Tree.Questions[i].Off {
		return Question{}, false
	}
	return g.Tree.Questions[i], true
}

// Outcome returns the outcome with that id. ok is false when there is
// none or when it is switched off, so a forged or stale button never
// shows a switched-off outcome.
func (g *Guide) Outcome(id string) (o Outcome, ok bool) {
	i, found := g.outcomes[id]
	if !found || g.Tree.Outcomes[i].Off {
		return Outcome{}, false
	}
	return g.Tree.Outcomes[i], true
}

// IsOutcome reports whether id names an outcome that is not switched off.
func (g *Guide) IsOutcome(id string) bool {
	_, ok := g.Outcome(id)
	return ok
}

// Source returns the source with that tag.
func (g *Guide) Source(tag string) (Source, bool) {
	i, ok := g.sourceIdx[tag]
	if !ok {
		return Source{}, false
	}
	return g.sources[i], true
}

// Next returns the id reached from question questionID by its answer
// answerID. A switched-off question, answer, target question or target
// outcome leads to Tree.Help, the human-help outcome. An unknown question,
// an answer the question does not have, or a target missing from the tree
// is an error wrapping [ErrUnknown].
func (g *Guide) Next(questionID, answerID string) (nextID string, err error) {
	qi, ok := g.questions[questionID]
	if !ok {
		return "", fmt.Errorf("%w: question %q", ErrUnknown, questionID)
	}
	q := &g.Tree.Questions[qi]
	a, ok := findAnswer(q, answerID)
	if !ok {
		return "", fmt.Errorf("%w: question %q has no answer %q", ErrUnknown, questionID, answerID)
	}
	if q.Off || a.Off {
		return g.Tree.Help, nil
	}
	return g.resolve(a.Next)
}

// resolve maps a target id to itself, or to Tree.Help when the target is
// switched off.
func (g *Guide) resolve(id string) (string, error) {
	if i, ok := g.questions[id]; ok {
		if g.Tree.Questions[i].Off {
			return g.Tree.Help, nil
		}
		return id, nil
	}
	if i, ok := g.outcomes[id]; ok {
		if g.Tree.Outcomes[i].Off {
			return g.Tree.Help, nil
		}
		return id, nil
	}
	return "", fmt.Errorf("%w: target %q", ErrUnknown, id)
}

func findAnswer(q *Question, id string) (*Answer, bool) {
	for i := range q.Answers {
		if q.Answers[i].ID == id {
			return &q.Answers[i], true
		}
	}
	return nil, false
}

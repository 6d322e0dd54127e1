package guide

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/passerelle-bot/passerelle/internal/permit"
)

// Errors of [Guide.Validate], one per rule. Each problem wraps one of
// them inside a [Problem] that names the node.
var (
	ErrVersion        = errors.New("unsupported version")
	ErrStart          = errors.New("bad start")
	ErrHelp           = errors.New("bad help outcome")
	ErrBadID          = errors.New("malformed id")
	ErrDuplicateID    = errors.New("duplicate id")
	ErrDangling       = errors.New("answer leads nowhere")
	ErrDeadEnd        = errors.New("question has no answers")
	ErrUnreachable    = errors.New("not reachable from the start")
	ErrCycle          = errors.New("cycle")
	ErrTooDeep        = errors.New("too many questions")
	ErrNoDontKnow     = errors.New(`no "dontknow" answer`)
	ErrDuplicateLabel = errors.New("duplicate label")
	ErrNoSource       = errors.New("no source")
	ErrUnknownSource  = errors.New("unknown source")
	ErrSource         = errors.New("bad source")
	ErrReview         = errors.New("bad review status")
	ErrMissingMessage = errors.New("missing message")
	ErrSensitive      = errors.New("sensitive outcome")
	ErrUrgent         = errors.New("urgent outcome without warning")
	ErrChannel        = errors.New("unknown channel")
	ErrTiming         = errors.New("unknown timing")
	ErrPhrase         = errors.New("bad phrase")
	ErrOfficial       = errors.New("no official legal basis first")
	ErrExplanatory    = errors.New("too many explanatory sources")
	ErrRule           = errors.New("bad dated rule")
	ErrThen           = errors.New("bad follow-up question")
	ErrReminder       = errors.New("bad reminder pre-fill")
	ErrProtected      = errors.New("bad protected branch")
)

// MaxExplanatory is the most sources an outcome cites besides its legal
// basis (administration pages and associations' guides together).
const MaxExplanatory = 2

// mirrorHosts are sites that copy legal texts or service-public fiches: the
// guide cites the official text instead.
var mirrorHosts = []string{
	"doctrine.fr", "juriblio.fr", "pappers.fr", "tricoteuses.fr", "french-business-law.com",
	"weka.fr", "calenco", "lexbase.fr", "comarquage", "?xml=", "illicoweb.com",
}

// legifranceCodePage is the form of a code's page on Légifrance, the only
// link a citation-only source may carry.
var legifranceCodePage = regexp.MustCompile(`^https://www\.legifrance\.gouv\.fr/codes/id/LEGITEXT\d{12}/?$`)

var sourceDateRE = regexp.MustCompile(`^(\d{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$`)

var sourceKinds = []SourceKind{KindLaw, KindCaseLaw, KindAdministration, KindAssociation}

var linkStatuses = []LinkStatus{LinkVerified, LinkIDSeen, LinkFicheSeen, LinkCitationOnly}

// TreeNode is the [Problem.Node] of problems about the tree as a whole.
const TreeNode = "tree"

// Problem is one finding of [Guide.Validate]. Node names what is wrong:
// a question or outcome id, "question.answer" for an answer, "source
// <tag>" for a source, "phrase <lang> <text>" for a phrase, or
// [TreeNode]. Err wraps one of the Err… rule errors above.
type Problem struct {
	Node string
	Err  error
}

// Error returns "node: what is wrong".
func (p *Problem) Error() string { return p.Node + ": " + p.Err.Error() }

// Unwrap returns the rule error.
func (p *Problem) Unwrap() error { return p.Err }

var langRE = regexp.MustCompile(`^[a-z]{2,3}$`)

var channels = []Channel{ChannelANEF, ChannelPrefecture, ChannelDS, ChannelEmployer, ChannelOther, ChannelHuman}

var timings = []Timing{TimingANEFWindow, TimingPrefectureWindow, TimingBothWindows, TimingAPS, TimingVLSTS, TimingFirstRequest, TimingTurning18, TimingTurning19, TimingASAP, TimingNone}

// Validate checks the tree, its sources and its phrases, and returns every
// problem found, each a *[Problem]; none means the tree is sound.
// hasMessage says whether a catalog message id exists; nil skips that
// check (but required texts must still be set).
//
// Structural rules (start, reachability, cycles, depth) consider every
// answer, switched off or not: switching a branch off or on again must
// never make the tree invalid.
//
// Two rules are policy:
//   - A sensitive outcome (illness, violence, trafficking) must either be
//     handled by a person (channel human) or say where specialised help is
//     (a next_steps text). It sets no document: a reminder would keep a
//     trace of it ("keep nothing").
//   - An urgent outcome must not be reached before the resident has been
//     warned that deadlines run: every path from the start to it passes a
//     question with Urgent set, or the outcome carries the warning itself
//     (timing asap and a when text).
//
// And the rules on sources (DESIGN.md, Sources): every outcome and every
// dated rule cites first its official legal basis (a law or a court
// decision), unless the outcome says why it has none (no_official_source);
// at most [MaxExplanatory] other sources; no forum or news site, no mirror
// of a legal text, no http:// link; a citation-only source shows no link
// but the Légifrance page of its code.
func (g *Guide) Validate(hasMessage func(id string) bool) []error {
	v := &validator{g: g, hasMessage: hasMessage}
	v.tree()
	v.ids()
	v.questions()
	v.outcomes()
	v.sources()
	v.rules()
	v.graph()
	v.phrases()
	return v.errs
}

type validator struct {
	g          *Guide
	hasMessage func(string) bool
	errs       []error
}

func (v *validator) add(node string, err error, format string, args ...any) {
	if format != "" {
		err = fmt.Errorf("%w: "+format, append([]any{err}, args...)...)
	}
	v.errs = append(v.errs, &Problem{Node: node, Err: err})
}

// message checks a catalog message id; required ones must be set.
func (v *validator) message(node, field, id string, required bool) {
	switch {
	case id == "" && required:
		v.add(node, ErrMissingMessage, "%s is empty", field)
	case id != "" && v.hasMessage != nil && !v.hasMessage(id):
		v.add(node, ErrMissingMessage, "%s %q is not in the catalog", field, id)
	}
}

func (v *validator) tree() {
	t := &v.g.Tree
	if t.Version != 1 {
		v.add(TreeNode, ErrVersion, "version %d, want 1", t.Version)
	}
	if _, ok := v.g.questions[t.Start]; !ok {
		v.add(TreeNode, ErrStart, "start %q is not a question", t.Start)
	}
	i, ok := v.g.outcomes[t.Help]
	switch {
	case !ok:
		v.add(TreeNode, ErrHelp, "help %q is not an outcome", t.Help)
	case t.Outcomes[i].Channel != ChannelHuman:
		v.add(t.Help, ErrHelp, "channel %q, want %q", t.Outcomes[i].Channel, ChannelHuman)
	case t.Outcomes[i].Off:
		v.add(t.Help, ErrHelp, "switched off, but switched-off branches lead to it")
	}
	v.message(TreeNode, "protected_warning", t.ProtectedWarning, false)
	for _, q := range t.Questions {
		if q.Protected && t.ProtectedWarning == "" {
			v.add(q.ID, ErrProtected, "question is protected but the tree has no protected_warning")
		}
	}
}

func (v *validator) ids() {
	seen := make(map[string]string)
	check := func(kind, id string, i int) {
		if !validID(id) {
			node := id
			if node == "" {
				node = fmt.Sprintf("%s #%d", kind, i+1)
			}
			v.add(node, ErrBadID, "want ^[a-z][a-z0-9_]*$, at most %d bytes", MaxIDLen)
		}
		if prev, dup := seen[id]; dup {
			v.add(id, ErrDuplicateID, "%s and %s", prev, kind)
			return
		}
		seen[id] = kind
	}
	for i, q := range v.g.Tree.Questions {
		check("question", q.ID, i)
	}
	for i, o := range v.g.Tree.Outcomes {
		check("outcome", o.ID, i)
	}
}

func (v *validator) questions() {
	for _, q := range v.g.Tree.Questions {
		v.message(q.ID, "text", q.Text, true)
		v.message(q.ID, "urgent", q.Urgent, false)
		if len(q.Answers) == 0 {
			v.add(q.ID, ErrDeadEnd, "")
			continue
		}
		ids := make(map[string]bool)
		labels := make(map[string]string)
		dontKnow := false
		for _, a := range q.Answers {
			node := q.ID + "." + a.ID
			if !validAnswerID(a.ID) {
				v.add(node, ErrBadID, "answer id: want ^[a-z0-9_]{1,%d}$", MaxAnswerLen)
			}
			if ids[a.ID] {
				v.add(node, ErrDuplicateID, "answer id used twice")
			}
			ids[a.ID] = true
			v.message(node, "label", a.Label, true)
			if prev, dup := labels[a.Label]; dup && a.Label != "" {
				v.add(node, ErrDuplicateLabel, "label %q already on answer %q", a.Label, prev)
			} else {
				labels[a.Label] = a.ID
			}
			if _, ok := v.g.questions[a.Next]; !ok && !v.isOutcome(a.Next) {
				v.add(node, ErrDangling, "next %q is neither a question nor an outcome", a.Next)
			}
			if a.ID == "dontknow" && !a.Off {
				dontKnow = true
			}
		}
		if !dontKnow {
			v.add(q.ID, ErrNoDontKnow, "every question needs one that is not switched off")
		}
	}
}

func (v *validator) isOutcome(id string) bool {
	_, ok := v.g.outcomes[id]
	return ok
}

func (v *validator) outcomes() {
	for _, o := range v.g.Tree.Outcomes {
		v.message(o.ID, "title", o.Title, true)
		v.message(o.ID, "when", o.When, false)
		v.message(o.ID, "prepare", o.Prepare, false)
		for _, id := range o.Keep {
			v.message(o.ID, "keep", id, true)
		}
		for _, id := range o.Warnings {
			v.message(o.ID, "warnings", id, true)
		}
		v.message(o.ID, "next_steps", o.Next, false)
		if !slices.Contains(channels, o.Channel) {
			v.add(o.ID, ErrChannel, "%q", o.Channel)
		}
		if !slices.Contains(timings, o.Timing) {
			v.add(o.ID, ErrTiming, "%q", o.Timing)
		}
		v.citations(o.ID, o.Sources, o.NoOfficialSource)
		v.review(o)
		for _, id := range o.Rules {
			if _, ok := v.g.Rule(id); !ok {
				v.add(o.ID, ErrRule, "rule %q is not in the tree's rules", id)
			}
		}
		if o.Then != "" {
			switch _, ok := v.g.questions[o.Then]; {
			case !ok:
				v.add(o.ID, ErrThen, "then %q is not a question", o.Then)
			case o.Sensitive:
				v.add(o.ID, ErrThen, "a sensitive outcome asks nothing more")
			}
		}
		v.prefill(o)
		if o.Sensitive {
			if o.Channel != ChannelHuman && o.Next == "" {
				v.add(o.ID, ErrSensitive, "needs channel human or next_steps naming specialised help")
			}
			if o.Document != "" {
				v.add(o.ID, ErrSensitive, "sets document %q; keep nothing of a sensitive outcome", o.Document)
			}
		}
	}
}

// citations checks the sources an outcome or a rule cites: known tags, the
// official legal basis first, at most MaxExplanatory others.
func (v *validator) citations(node string, tags []string, noOfficial string) {
	if len(tags) == 0 {
		v.add(node, ErrNoSource, "every outcome cites at least one")
		return
	}
	explanatory := 0
	for i, tag := range tags {
		s, ok := v.g.Source(tag)
		if !ok {
			v.add(node, ErrUnknownSource, "%q is not in the sources", tag)
			continue
		}
		if i == 0 && !s.Kind.Official() && noOfficial == "" {
			v.add(node, ErrOfficial, "first source %q is of kind %q; cite the law or a court decision first, or give no_official_source with a reason", tag, s.Kind)
		}
		if !s.Kind.Official() {
			explanatory++
		}
	}
	if explanatory > MaxExplanatory {
		v.add(node, ErrExplanatory, "%d sources besides the legal basis, at most %d", explanatory, MaxExplanatory)
	}
}

// review checks an outcome's review record.
func (v *validator) review(o Outcome) {
	r := o.Review
	switch r.Status {
	case ReviewToVerify:
		if r.By != "" || r.On != "" || r.Fingerprint != "" {
			v.add(o.ID, ErrReview, "to_verify with a reviewer, a date or a fingerprint")
		}
	case ReviewReviewed:
		if r.By == "" {
			v.add(o.ID, ErrReview, "reviewed, but by whom?")
		}
		if _, err := parseDay(r.On); err != nil {
			v.add(o.ID, ErrReview, "reviewed on %q: want YYYY-MM-DD", r.On)
		}
		if r.Fingerprint == "" {
			v.add(o.ID, ErrReview, "reviewed without the fingerprint of what was reviewed (see passerelle guide export)")
		}
	default:
		v.add(o.ID, ErrReview, "%q, want %q or %q", r.Status, ReviewToVerify, ReviewReviewed)
	}
}

// prefill checks what "remind me" takes from an outcome.
func (v *validator) prefill(o Outcome) {
	if o.Document != "" && !permit.Kind(o.Document).Valid() {
		v.add(o.ID, ErrReminder, "document %q is not a permit kind", o.Document)
	}
	if o.Mention != "" {
		switch {
		case o.Document == "":
			v.add(o.ID, ErrReminder, "mention %q without a document", o.Mention)
		case !permit.Mention(o.Mention).Valid():
			v.add(o.ID, ErrReminder, "mention %q is not a permit mention", o.Mention)
		}
	}
	if o.FirstMulti != "" && o.FirstMulti != "yes" && o.FirstMulti != "no" {
		v.add(o.ID, ErrReminder, "first_multi %q, want yes or no", o.FirstMulti)
	}
}

func (v *validator) sources() {
	seen := make(map[string]bool)
	for _, s := range v.g.sources {
		node := "source " + s.Tag
		switch {
		case s.Tag == "":
			v.add(node, ErrSource, "empty tag")
		case seen[s.Tag]:
			v.add(node, ErrSource, "tag used twice")
		}
		seen[s.Tag] = true
		if s.Title == "" {
			v.add(node, ErrSource, "empty title")
		}
		switch {
		case s.Kind == KindOther:
			v.add(node, ErrSource, "kind other (forum, news, blog): not a source to show residents")
		case !slices.Contains(sourceKinds, s.Kind):
			v.add(node, ErrSource, "kind %q, want one of %v", s.Kind, sourceKinds)
		}
		v.message(node, "gloss", s.Gloss, true)
		if !slices.Contains(linkStatuses, s.Status) {
			v.add(node, ErrSource, "status %q, want one of %v", s.Status, linkStatuses)
		}
		switch {
		case s.Status == LinkCitationOnly && s.URL != "" && !legifranceCodePage.MatchString(s.URL):
			v.add(node, ErrSource, "citation-only, so no link but the Légifrance page of its code; got %q", s.URL)
		case s.Status != LinkCitationOnly && !strings.HasPrefix(s.URL, "https://"):
			v.add(node, ErrSource, "url %q is not https", s.URL)
		}
		for _, m := range mirrorHosts {
			if strings.Contains(s.URL, m) {
				v.add(node, ErrSource, "url %q is a mirror (%s): cite the official text", s.URL, m)
			}
		}
		if s.Date != "n.d." && !sourceDateRE.MatchString(s.Date) {
			v.add(node, ErrSource, `date %q: want YYYY-MM-DD, YYYY-MM, YYYY or "n.d."`, s.Date)
		}
	}
}

// rules checks the dated rules.
func (v *validator) rules() {
	seen := make(map[string]bool)
	for _, r := range v.g.Tree.Rules {
		node := "rule " + r.ID
		if !validID(r.ID) {
			v.add(node, ErrBadID, "want ^[a-z][a-z0-9_]*$")
		}
		if seen[r.ID] {
			v.add(node, ErrDuplicateID, "rule id used twice")
		}
		seen[r.ID] = true
		v.message(node, "text", r.Text, true)
		v.message(node, "before", r.Before, false)
		v.message(node, "after", r.After, false)
		p, err := r.Period()
		switch {
		case err != nil:
			v.add(node, ErrRule, "%v", err)
		case r.From == "" && r.Until == "":
			v.add(node, ErrRule, "neither from nor until: not a dated rule")
		case r.From != "" && r.Until != "" && p.Until.Before(p.From):
			v.add(node, ErrRule, "until %s before from %s", r.Until, r.From)
		}
		if r.Before != "" && r.From == "" {
			v.add(node, ErrRule, "before text without a from date")
		}
		if r.After != "" && r.Until == "" {
			v.add(node, ErrRule, "after text without an until date")
		}
		v.citations(node, r.Sources, "")
	}
}

func (v *validator) phrases() {
	for _, lang := range sortedKeys(v.g.phrases) {
		if !langRE.MatchString(lang) {
			v.add("phrase "+lang, ErrPhrase, "language %q is not a base tag like fr", lang)
		}
		table := v.g.phrases[lang]
		for _, text := range sortedKeys(table) {
			node := "phrase " + lang + " " + text
			if len(tokens(text)) == 0 {
				v.add(node, ErrPhrase, "no word left to match once normalised")
			}
			ids := table[text]
			if len(ids) == 0 {
				v.add(node, ErrPhrase, "no entry ids")
			}
			for _, id := range ids {
				if _, ok := v.g.questions[id]; !ok && !v.isOutcome(id) {
					v.add(node, ErrPhrase, "%q is neither a question nor an outcome", id)
				}
			}
		}
	}
}

// graph checks reachability, cycles, depth and the urgent rule.
func (v *validator) graph() {
	g := v.g
	start := g.Tree.Start
	if _, ok := g.questions[start]; !ok {
		return // reported by tree()
	}
	// Reachability over every answer.
	reached := map[string]bool{start: true}
	stack := []string{start}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, next := range v.targets(id) {
			if !reached[next] {
				reached[next] = true
				stack = append(stack, next)
			}
		}
	}
	for _, q := range g.Tree.Questions {
		if !reached[q.ID] {
			v.add(q.ID, ErrUnreachable, "")
		}
	}
	if v.cycles() {
		return // depth and paths are meaningless with a cycle
	}
	// Depth: the longest chain of questions from the start.
	memo := make(map[string][]string)
	var longest func(id string) []string
	longest = func(id string) []string {
		if p, ok := memo[id]; ok {
			return p
		}
		var best []string
		for _, next := range v.targets(id) {
			if p := longest(next); len(p) > len(best) {
				best = p
			}
		}
		p := append([]string{id}, best...)
		memo[id] = p
		return p
	}
	if p := longest(start); len(p) > MaxDepth {
		v.add(p[MaxDepth], ErrTooDeep, "question %d of %s; at most %d", MaxDepth+1, strings.Join(p, " → "), MaxDepth)
	}
	v.urgent()
}

// targets lists the question ids reached by the answers of question id,
// switched off or not, including the Then question of an outcome they
// reach; outcomes are left out.
func (v *validator) targets(id string) []string {
	i, ok := v.g.questions[id]
	if !ok {
		return nil
	}
	var out []string
	for _, a := range v.g.Tree.Questions[i].Answers {
		if _, ok := v.g.questions[a.Next]; ok {
			out = append(out, a.Next)
		} else if oi, ok := v.g.outcomes[a.Next]; ok {
			if then := v.g.Tree.Outcomes[oi].Then; then != "" {
				if _, ok := v.g.questions[then]; ok {
					out = append(out, then)
				}
			}
		}
	}
	return out
}

// cycles reports every cycle among questions, once each, and whether
// there was any.
func (v *validator) cycles() bool {
	const (
		white = iota
		grey
		black
	)
	color := make(map[string]int)
	var stack []string
	found := false
	var visit func(id string)
	visit = func(id string) {
		color[id] = grey
		stack = append(stack, id)
		for _, next := range v.targets(id) {
			switch color[next] {
			case white:
				visit(next)
			case grey:
				i := slices.Index(stack, next)
				cycle := append(slices.Clone(stack[i:]), next)
				v.add(next, ErrCycle, "%s", strings.Join(cycle, " → "))
				found = true
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
	}
	for _, q := range v.g.Tree.Questions {
		if color[q.ID] == white {
			visit(q.ID)
		}
	}
	return found
}

// urgent checks that no urgent outcome is reached without a warning: it
// walks from the start without entering questions that set Urgent, and
// any urgent outcome it meets must carry the warning itself.
func (v *validator) urgent() {
	g := v.g
	start := g.Tree.Start
	if g.Tree.Questions[g.questions[start]].Urgent != "" {
		return // every path is warned at the first question
	}
	parent := map[string]string{start: ""}
	queue := []string{start}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, a := range g.Tree.Questions[g.questions[id]].Answers {
			if _, seen := parent[a.Next]; seen {
				continue
			}
			if qi, ok := g.questions[a.Next]; ok {
				if g.Tree.Questions[qi].Urgent == "" {
					parent[a.Next] = id
					queue = append(queue, a.Next)
				}
				continue
			}
			oi, ok := g.outcomes[a.Next]
			if !ok {
				continue
			}
			parent[a.Next] = id
			o := g.Tree.Outcomes[oi]
			if qi, ok := g.questions[o.Then]; ok && g.Tree.Questions[qi].Urgent == "" {
				if _, seen := parent[o.Then]; !seen {
					parent[o.Then] = id
					queue = append(queue, o.Then)
				}
			}
			if o.Urgent && (o.Timing != TimingASAP || o.When == "") {
				path := []string{o.ID}
				for p := id; p != ""; p = parent[p] {
					path = append(path, p)
				}
				slices.Reverse(path)
				v.add(o.ID, ErrUrgent, "reached by %s without a question that sets urgent; set urgent there, or give the outcome timing asap and a when text", strings.Join(path, " → "))
			}
		}
	}
}

// Paths returns every path from the start to an outcome, as the ids of
// the questions passed and the outcome reached, following every answer,
// switched off or not; paths that differ only by the answer taken appear
// once. An outcome with a Then question ends one path and continues into
// others (its id then appears inside them). It stops at cycles and at
// MaxDepth+1 questions, so it is safe on an invalid tree.
func (g *Guide) Paths() [][]string {
	var out [][]string
	seen := make(map[string]bool)
	var walk func(path []string)
	walk = func(path []string) {
		id := path[len(path)-1]
		qi, ok := g.questions[id]
		if !ok {
			if oi, ok := g.outcomes[id]; ok {
				key := strings.Join(path, "/")
				if !seen[key] {
					seen[key] = true
					out = append(out, slices.Clone(path))
				}
				if then := g.Tree.Outcomes[oi].Then; then != "" {
					if _, ok := g.questions[then]; ok {
						walk(append(path, then))
					}
				}
			}
			return
		}
		if questionsIn(g, path) > MaxDepth+1 || slices.Contains(path[:len(path)-1], id) {
			return
		}
		for _, a := range g.Tree.Questions[qi].Answers {
			walk(append(path, a.Next))
		}
	}
	if _, ok := g.questions[g.Tree.Start]; ok {
		walk([]string{g.Tree.Start})
	}
	return out
}

// questionsIn counts the questions of a path.
func questionsIn(g *Guide, path []string) int {
	n := 0
	for _, id := range path {
		if _, ok := g.questions[id]; ok {
			n++
		}
	}
	return n
}

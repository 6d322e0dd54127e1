package guide

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
)

// AnswerPaths returns, for every outcome reachable from the start, the
// paths of answer ids that lead to it ("other/renew/student"), shortest
// first. Only answers that are not switched off are followed; a path
// through a follow-up question (Outcome.Then) includes its answer.
func (g *Guide) AnswerPaths() map[string][]string {
	out := make(map[string][]string)
	start, err := g.entry()
	if err != nil {
		return out
	}
	var walk func(id string, path []string, depth int)
	walk = func(id string, path []string, depth int) {
		if g.IsOutcome(id) {
			out[id] = append(out[id], strings.Join(path, "/"))
		}
		q, ok := g.Asking(id)
		if !ok || depth >= MaxDepth {
			return
		}
		for _, a := range q.Answers {
			if a.Off {
				continue
			}
			next, err := g.Next(q.ID, a.ID)
			if err != nil {
				continue
			}
			walk(next, append(path[:len(path):len(path)], a.ID), depth+1)
		}
	}
	walk(start, nil, 0)
	for id, ps := range out {
		slices.SortStableFunc(ps, func(a, b string) int {
			return strings.Count(a, "/") - strings.Count(b, "/")
		})
		out[id] = slices.Compact(ps)
	}
	return out
}

// ExportRow is one outcome as `passerelle guide export` lists it for a
// lawyer or an association to annotate: its paths, its texts (as text
// gives them: French), its sources and its review status.
type ExportRow struct {
	Outcome, Paths, Title, Channel, Timing, ANEFLabel string
	When, Prepare, Keep, Warnings, Rules, Next, Then  string
	Sources, NoOfficialSource                         string
	Review, ReviewedBy, ReviewedOn, Fingerprint       string
}

var exportHeader = []string{
	"outcome", "paths", "title", "channel", "timing", "anef_label", "when", "prepare", "keep",
	"warnings", "rules", "next_steps", "then", "sources", "no_official_source",
	"review", "reviewed_by", "reviewed_on", "fingerprint",
}

func (r ExportRow) cells() []string {
	return []string{
		r.Outcome, r.Paths, r.Title, r.Channel, r.Timing, r.ANEFLabel, r.When, r.Prepare, r.Keep,
		r.Warnings, r.Rules, r.Next, r.Then, r.Sources, r.NoOfficialSource,
		r.Review, r.ReviewedBy, r.ReviewedOn, r.Fingerprint,
	}
}

// ExportRows lists every outcome of the tree, switched off or not, in the
// tree's order.
func (g *Guide) ExportRows(text func(id string) string) []ExportRow {
	paths := g.AnswerPaths()
	t := func(id string) string {
		if id == "" {
			return ""
		}
		return text(id)
	}
	join := func(ids []string) string {
		var parts []string
		for _, id := range ids {
			parts = append(parts, t(id))
		}
		return strings.Join(parts, "\n")
	}
	var rows []ExportRow
	for _, o := range g.Tree.Outcomes {
		var rules []string
		for _, id := range o.Rules {
			r, _ := g.Rule(id)
			line := fmt.Sprintf("%s (from %s until %s): %s", id, orOpen(r.From), orOpen(r.Until), t(r.Text))
			if r.Before != "" {
				line += " / before: " + t(r.Before)
			}
			if r.After != "" {
				line += " / after: " + t(r.After)
			}
			rules = append(rules, line)
		}
		var srcs []string
		for _, tag := range g.Sources(o) {
			s, _ := g.Source(tag)
			line := fmt.Sprintf("%s [%s, %s, %s]", s.Title, s.Kind, s.Status, s.Date)
			if s.URL != "" {
				line += " " + s.URL
			}
			srcs = append(srcs, line)
		}
		review := g.ReviewState(o, text)
		if o.Off {
			review += " (off)"
		}
		rows = append(rows, ExportRow{
			Outcome: o.ID, Paths: strings.Join(paths[o.ID], "\n"), Title: t(o.Title),
			Channel: string(o.Channel), Timing: string(o.Timing), ANEFLabel: o.ANEFLabel,
			When: t(o.When), Prepare: t(o.Prepare), Keep: join(o.Keep), Warnings: join(o.Warnings),
			Rules: strings.Join(rules, "\n"), Next: t(o.Next), Then: o.Then,
			Sources: strings.Join(srcs, "\n"), NoOfficialSource: o.NoOfficialSource,
			Review: review, ReviewedBy: o.Review.By, ReviewedOn: o.Review.On,
			Fingerprint: g.Fingerprint(o, text),
		})
	}
	return rows
}

func orOpen(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Export writes every outcome for review, as CSV (one row per outcome,
// texts with their line breaks) or Markdown (one section per outcome).
func (g *Guide) Export(w io.Writer, format string, text func(id string) string) error {
	rows := g.ExportRows(text)
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(exportHeader); err != nil {
			return fmt.Errorf("guide export: %w", err)
		}
		for _, r := range rows {
			if err := cw.Write(r.cells()); err != nil {
				return fmt.Errorf("guide export: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("guide export: %w", err)
		}
		return nil
	case "md":
		var b strings.Builder
		b.WriteString("# Passerelle guide: outcomes for review\n\nEach outcome with its paths (answer ids from the first question), its texts in French, its sources (legal basis first) and its review status. To record a review, set in `tree.yaml`: `review: {status: reviewed, by: NAME, on: YYYY-MM-DD, fingerprint: FINGERPRINT}`.\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "\n## %s: %s\n\n", r.Outcome, r.Title)
			field := func(name, v string) {
				if v == "" {
					return
				}
				if strings.Contains(v, "\n") {
					fmt.Fprintf(&b, "- **%s**:\n", name)
					for _, line := range strings.Split(v, "\n") {
						fmt.Fprintf(&b, "  > %s\n", line)
					}
					return
				}
				fmt.Fprintf(&b, "- **%s**: %s\n", name, v)
			}
			for i, h := range exportHeader[1:] {
				field(h, r.cells()[i+1])
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	return fmt.Errorf("guide export: unknown format %q, want csv or md", format)
}

// Diff lists what changed from old to new, for review: questions, answers,
// outcomes (each field, with the French text when text is given), rules and
// sources; an outcome reviewed in old and changed in new is said to go back
// to to_verify. It returns one line per change, in the trees' order; none
// means the trees are the same.
func Diff(old, new *Guide, text func(id string) string) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	t := func(id string) string {
		if id == "" || text == nil {
			return id
		}
		return id + " «" + strings.ReplaceAll(text(id), "\n", " ") + "»"
	}
	// Questions.
	oldQ := make(map[string]Question)
	for _, q := range old.Tree.Questions {
		oldQ[q.ID] = q
	}
	newQ := make(map[string]bool)
	for _, q := range new.Tree.Questions {
		newQ[q.ID] = true
		o, ok := oldQ[q.ID]
		if !ok {
			add("+ question %s: %s", q.ID, t(q.Text))
			continue
		}
		if o.Text != q.Text {
			add("~ question %s: text %s → %s", q.ID, t(o.Text), t(q.Text))
		}
		if o.Off != q.Off || o.Protected != q.Protected || o.Urgent != q.Urgent {
			add("~ question %s: off %v → %v, protected %v → %v, urgent %q → %q", q.ID, o.Off, q.Off, o.Protected, q.Protected, o.Urgent, q.Urgent)
		}
		oldA := make(map[string]Answer)
		for _, a := range o.Answers {
			oldA[a.ID] = a
		}
		for _, a := range q.Answers {
			oa, ok := oldA[a.ID]
			switch {
			case !ok:
				add("+ answer %s.%s → %s", q.ID, a.ID, a.Next)
			case oa.Next != a.Next || oa.Off != a.Off || oa.Label != a.Label:
				add("~ answer %s.%s: → %s (off %v) became → %s (off %v)", q.ID, a.ID, oa.Next, oa.Off, a.Next, a.Off)
			}
			delete(oldA, a.ID)
		}
		for _, a := range o.Answers {
			if _, gone := oldA[a.ID]; gone {
				add("- answer %s.%s", q.ID, a.ID)
			}
		}
	}
	for _, q := range old.Tree.Questions {
		if !newQ[q.ID] {
			add("- question %s", q.ID)
		}
	}
	// Outcomes.
	oldO := make(map[string]Outcome)
	for _, o := range old.Tree.Outcomes {
		oldO[o.ID] = o
	}
	newO := make(map[string]bool)
	for _, n := range new.Tree.Outcomes {
		newO[n.ID] = true
		o, ok := oldO[n.ID]
		if !ok {
			add("+ outcome %s: %s", n.ID, t(n.Title))
			continue
		}
		changed := false
		field := func(name, a, b string) {
			if a != b {
				changed = true
				add("~ outcome %s: %s %s → %s", n.ID, name, a, b)
			}
		}
		msg := func(name, a, b string) {
			if a != b {
				changed = true
				add("~ outcome %s: %s %s → %s", n.ID, name, t(a), t(b))
			}
		}
		msg("title", o.Title, n.Title)
		field("anef_label", o.ANEFLabel, n.ANEFLabel)
		field("channel", string(o.Channel), string(n.Channel))
		field("timing", string(o.Timing), string(n.Timing))
		msg("when", o.When, n.When)
		msg("prepare", o.Prepare, n.Prepare)
		field("keep", strings.Join(o.Keep, ","), strings.Join(n.Keep, ","))
		field("warnings", strings.Join(o.Warnings, ","), strings.Join(n.Warnings, ","))
		field("rules", strings.Join(o.Rules, ","), strings.Join(n.Rules, ","))
		msg("next_steps", o.Next, n.Next)
		field("then", o.Then, n.Then)
		field("sources", strings.Join(o.Sources, ","), strings.Join(n.Sources, ","))
		field("no_official_source", o.NoOfficialSource, n.NoOfficialSource)
		field("document", o.Document+"/"+o.Mention+"/"+o.FirstMulti, n.Document+"/"+n.Mention+"/"+n.FirstMulti)
		if o.Off != n.Off || o.Urgent != n.Urgent || o.Sensitive != n.Sensitive {
			changed = true
			add("~ outcome %s: off %v → %v, urgent %v → %v, sensitive %v → %v", n.ID, o.Off, n.Off, o.Urgent, n.Urgent, o.Sensitive, n.Sensitive)
		}
		if o.Review != n.Review {
			add("~ outcome %s: review %s → %s", n.ID, reviewString(o.Review), reviewString(n.Review))
		}
		if text != nil && old.Reviewed(o, text) && n.Review.Status == ReviewReviewed && !new.Reviewed(n, text) {
			add("! outcome %s: reviewed by %s on %s, changed since: back to to_verify", n.ID, n.Review.By, n.Review.On)
		} else if text == nil && changed && o.Review.Status == ReviewReviewed && n.Review == o.Review {
			add("! outcome %s: changed after its review: back to to_verify", n.ID)
		}
	}
	for _, o := range old.Tree.Outcomes {
		if !newO[o.ID] {
			add("- outcome %s", o.ID)
		}
	}
	// Rules.
	oldR := make(map[string]Rule)
	for _, r := range old.Tree.Rules {
		oldR[r.ID] = r
	}
	newR := make(map[string]bool)
	for _, r := range new.Tree.Rules {
		newR[r.ID] = true
		o, ok := oldR[r.ID]
		switch {
		case !ok:
			add("+ rule %s (from %s until %s): %s", r.ID, orOpen(r.From), orOpen(r.Until), t(r.Text))
		case o.From != r.From || o.Until != r.Until || o.Text != r.Text || o.Before != r.Before || o.After != r.After || !slices.Equal(o.Sources, r.Sources):
			add("~ rule %s: from %s until %s → from %s until %s; text %s → %s", r.ID, orOpen(o.From), orOpen(o.Until), orOpen(r.From), orOpen(r.Until), t(o.Text), t(r.Text))
		}
	}
	for _, r := range old.Tree.Rules {
		if !newR[r.ID] {
			add("- rule %s", r.ID)
		}
	}
	// Sources.
	oldS := make(map[string]Source)
	for _, s := range old.sources {
		oldS[s.Tag] = s
	}
	newS := make(map[string]bool)
	for _, s := range new.sources {
		newS[s.Tag] = true
		o, ok := oldS[s.Tag]
		switch {
		case !ok:
			add("+ source %s: %s [%s, %s] %s", s.Tag, s.Title, s.Kind, s.Status, s.URL)
		case o != s:
			add("~ source %s: %s [%s, %s, %s] %s → %s [%s, %s, %s] %s", s.Tag, o.Title, o.Kind, o.Status, o.Date, o.URL, s.Title, s.Kind, s.Status, s.Date, s.URL)
		}
	}
	for _, s := range old.sources {
		if !newS[s.Tag] {
			add("- source %s: %s", s.Tag, s.Title)
		}
	}
	return out
}

func reviewString(r Review) string {
	if r.Status != ReviewReviewed {
		return r.Status
	}
	return fmt.Sprintf("%s by %s on %s (%s)", r.Status, r.By, r.On, r.Fingerprint)
}

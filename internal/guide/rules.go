package guide

import (
	"fmt"
	"time"

	"github.com/passerelle-bot/passerelle/internal/permit"
)

// parseDay reads a YYYY-MM-DD date of the tree.
func parseDay(s string) (permit.Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return permit.Date{}, fmt.Errorf("%q: want YYYY-MM-DD", s)
	}
	return permit.NewDate(t.Year(), t.Month(), t.Day())
}

// Period returns when r is in force. An empty From or Until is open.
func (r Rule) Period() (permit.Period, error) {
	var p permit.Period
	var err error
	if r.From != "" {
		if p.From, err = parseDay(r.From); err != nil {
			return permit.Period{}, fmt.Errorf("from %w", err)
		}
	}
	if r.Until != "" {
		if p.Until, err = parseDay(r.Until); err != nil {
			return permit.Period{}, fmt.Errorf("until %w", err)
		}
	}
	return p, nil
}

// TextOn returns the catalog id of what r says on day: Text while in force,
// Before before it starts, After once it has ended ("" when that text is
// not set, or when the rule's dates do not parse).
func (r Rule) TextOn(day permit.Date) string {
	p, err := r.Period()
	if err != nil {
		return ""
	}
	switch p.PhaseOn(day) {
	case permit.BeforePeriod:
		return r.Before
	case permit.AfterPeriod:
		return r.After
	}
	return r.Text
}

// Rule returns the dated rule with that id.
func (g *Guide) Rule(id string) (Rule, bool) {
	for _, r := range g.Tree.Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// RuleTexts returns the catalog ids of what the rules of o say on day, the
// filing day ([FilingDate]), in the order of o.Rules; rules with nothing
// to say that day are left out.
func (g *Guide) RuleTexts(o Outcome, day permit.Date) []string {
	var out []string
	for _, id := range o.Rules {
		if r, ok := g.Rule(id); ok {
			if t := r.TextOn(day); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// Sources returns the tags o cites followed by those of its rules not
// already cited, in order: the legal basis comes first.
func (g *Guide) Sources(o Outcome) []string {
	out := append([]string(nil), o.Sources...)
	seen := make(map[string]bool, len(out))
	for _, t := range out {
		seen[t] = true
	}
	for _, id := range o.Rules {
		r, ok := g.Rule(id)
		if !ok {
			continue
		}
		for _, t := range r.Sources {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// FilingDate is the day that decides which version of a dated rule applies
// to a resident: the day they will file. For a renewal with a typed expiry
// it is the day the filing window opens, or today once it is open or
// closed; for an APS with a typed expiry, the earliest day the local rules
// ask for (3 weeks before), or today; otherwise today.
func FilingDate(t Timing, typed *permit.Date, today permit.Date) permit.Date {
	if typed == nil {
		return today
	}
	var opens permit.Date
	switch t {
	case TimingANEFWindow, TimingBothWindows:
		opens = permit.RenewalWindow(*typed, permit.ANEF).Opens
	case TimingPrefectureWindow:
		opens = permit.RenewalWindow(*typed, permit.Prefecture).Opens
	case TimingAPS:
		opens = typed.AddDays(-permit.APSEarliestDays)
	default:
		return today
	}
	if opens.After(today) {
		return opens
	}
	return today
}

package bot

import (
	"context"
	"fmt"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// Appeal deadlines of urgent letters. The project's sources
// (shared/domain/official-sources.md) confirm no appeal window for an
// OQTF or a refusal; shared/domain/anef.md §5 says only that some removal
// orders leave 48 hours ([S158]). So a card gives the day the resident
// says the letter reached them and, for an OQTF, "as soon as possible, by
// <that day + 2> to be safe", never a computed legal deadline the sources
// do not give.
const shortestAppealDays = 2

// notified returns the day an urgent letter of c was notified.
func notified(c handoff.Case) (permit.Date, bool) {
	if c.Notified == "" || !c.Problem.Urgent() {
		return permit.Date{}, false
	}
	d, err := permit.ParseDate(c.Notified)
	return d, err == nil
}

// safeLimit is the day by which to act on c's letter to be sure not to
// miss the shortest window the sources mention (OQTF only).
func safeLimit(c handoff.Case) (permit.Date, bool) {
	d, ok := notified(c)
	if !ok || c.Problem != handoff.ProblemOQTF {
		return permit.Date{}, false
	}
	return d.AddDays(shortestAppealDays), true
}

// deadlineLines are the lines of a card or summary about c's letter: when
// it was notified and, for an OQTF, the safe limit.
//
// For an OQTF the card also says whether the person says it grants a
// voluntary departure period. The sources give no appeal window by kind of
// OQTF (with or without that period), so the answer changes no date: the
// card keeps the prudent limit and says the sources do not say which
// window applies.
func (b *Bot) deadlineLines(p *catalog.Printer, c handoff.Case) []string {
	var lines []string
	if d, ok := notified(c); ok {
		lines = append(lines, p.T("case.notified", "Date", frDate(d)))
	}
	if c.Problem == handoff.ProblemOQTF && handoff.ValidDeparture(c.Departure) {
		lines = append(lines, p.T("case.departure."+c.Departure))
	}
	if limit, ok := safeLimit(c); ok {
		lines = append(lines, p.T("case.deadline_oqtf", "Date", frDate(limit)))
	}
	return lines
}

// earlier lists the resident's cases still kept, newest first (at most 3),
// for the card of their new case.
func (b *Bot) earlier(ctx context.Context, residentID int64) ([]handoff.Earlier, error) {
	cases, err := b.cases.CasesOf(ctx, residentID)
	if err != nil {
		return nil, fmt.Errorf("earlier cases: %w", err)
	}
	var out []handoff.Earlier
	for i := len(cases) - 1; i >= 0 && len(out) < 3; i-- {
		c := cases[i]
		out = append(out, handoff.Earlier{ID: c.ID, Partner: c.PartnerID, Created: c.Created, Closed: c.Closed,
			Reason: c.CloseReason, Steps: c.Steps, Sensitive: c.Sensitive})
	}
	return out, nil
}

// earlierLines say what the resident's earlier cases were: number, date,
// partner, how they ended and what was done. An earlier sensitive case
// shows only on a sensitive case's summary (in the referents' group).
func (b *Bot) earlierLines(p *catalog.Printer, c handoff.Case) []string {
	var lines []string
	for _, e := range c.Earlier {
		if e.Sensitive && !c.Sensitive {
			continue
		}
		status := p.T("case.earlier_open")
		if !e.Closed.IsZero() {
			status = p.T("case.earlier_closed", "Date", b.date(e.Closed))
			if e.Reason != "" {
				status = p.T("case.earlier_closed_why", "Date", b.date(e.Closed), "Reason", p.T("case.close_reason."+e.Reason))
			}
		}
		lines = append(lines, p.T("case.earlier", "Case", e.ID, "Date", b.date(e.Created), "Partner", partnerName(b.partner(e.Partner)), "Status", HTML(status)))
		if e.Steps != "" {
			lines = append(lines, p.T("case.earlier_steps", "Steps", e.Steps))
		}
	}
	return lines
}

// staffProblems are the problems whose resident label speaks in the first
// person ("Je ne peux pas…"): volunteers read them said of the person.
var staffProblems = map[handoff.Problem]bool{handoff.ProblemOQTF: true, handoff.ProblemLogin: true, handoff.ProblemUpload: true,
	handoff.ProblemCannotModify: true, handoff.ProblemWrongData: true}

// staffProblem is a problem as volunteers read it, in p's language.
func staffProblem(p *catalog.Printer, pr handoff.Problem) string {
	if staffProblems[pr] {
		return p.T("case.problem." + string(pr))
	}
	return p.T("help.problem." + string(pr))
}

package bot

import (
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
func (b *Bot) deadlineLines(p *catalog.Printer, c handoff.Case) []string {
	d, ok := notified(c)
	if !ok {
		return nil
	}
	lines := []string{p.T("case.notified", "Date", frDate(d))}
	if limit, ok := safeLimit(c); ok {
		lines = append(lines, p.T("case.deadline_oqtf", "Date", frDate(limit)))
	}
	return lines
}

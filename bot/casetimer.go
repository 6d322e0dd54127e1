package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// scheduleCase puts the case's next timer in the schedule (or removes it).
func (b *Bot) scheduleCase(ctx context.Context, c handoff.Case) error {
	if b.rem == nil {
		return nil
	}
	id := caseTimerID(c.ID)
	next := b.caseNextTimer(c)
	if next.IsZero() {
		if err := b.rem.Cancel(ctx, id); err != nil {
			return fmt.Errorf("cancel case timer: %w", err)
		}
		return nil
	}
	if err := b.rem.Schedule(ctx, id, next); err != nil {
		return fmt.Errorf("schedule case timer: %w", err)
	}
	return nil
}

// caseNextTimer is when something must happen to c without anyone acting:
// the SLA deadline of a waiting case (counted in the partner's opening
// hours), the nudge of a silent taken case, the deletion of everything a
// closed case left in partner groups and then of its mappings.
func (b *Bot) caseNextTimer(c handoff.Case) time.Time {
	next := b.caseStatusTimer(c)
	if e := replyExpiry(c); !e.IsZero() && (next.IsZero() || e.Before(next)) {
		next = e
	}
	return next
}

// caseStatusTimer is caseNextTimer without the replies to forget.
func (b *Bot) caseStatusTimer(c handoff.Case) time.Time {
	p := b.partner(c.PartnerID)
	switch c.Status {
	case handoff.StatusWaiting:
		if p == nil || c.Nudged {
			return time.Time{}
		}
		d := handoff.Deadline(c, p)
		if h := handoff.HalfDeadline(c, p); !c.HalfAlerted && !h.IsZero() && h.Before(d) {
			return h
		}
		return d
	case handoff.StatusTaken:
		if p == nil {
			return time.Time{}
		}
		next := answerAlertAt(c, p)
		if !c.Nudged {
			if n := handoff.NudgeAt(c, p); next.IsZero() || !n.IsZero() && n.Before(next) {
				next = n
			}
		}
		return next
	case handoff.StatusClosed:
		if !c.Purged {
			return c.Closed.Add(b.cfg.TopicRetention)
		}
		return c.Closed.Add(b.cfg.MappingRetention)
	}
	return time.Time{}
}

// caseTimer runs the timer of case id when its schedule entry falls due,
// and returns the next one. Every effect is a compare-and-set on the case,
// so a timer delivered twice acts once.
func (b *Bot) caseTimer(ctx context.Context, id int64) (time.Time, error) {
	c, err := b.cases.Case(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("load case: %w", err)
	}
	now := b.clock.Now()
	if e := replyExpiry(c); !e.IsZero() && !now.Before(e) {
		if err := b.forgetReplies(ctx, &c); err != nil {
			return time.Time{}, err
		}
	}
	due := b.caseStatusTimer(c)
	if due.IsZero() || now.Before(due) {
		return b.caseNextTimer(c), nil
	}
	partner := b.partner(c.PartnerID)
	switch c.Status {
	case handoff.StatusWaiting:
		if d := handoff.Deadline(c, partner); !c.HalfAlerted && now.Before(d) {
			err = b.halfAlert(ctx, c, partner)
		} else {
			err = b.escalate(ctx, c, partner)
		}
	case handoff.StatusTaken:
		if a := answerAlertAt(c, partner); !a.IsZero() && !now.Before(a) {
			err = b.alertOwner(ctx, c, partner)
		} else {
			err = b.nudge(ctx, c, partner)
		}
	case handoff.StatusClosed:
		err = b.retire(ctx, c, partner)
	}
	if err != nil {
		return time.Time{}, err
	}
	c, err = b.cases.Case(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reload case: %w", err)
	}
	return b.caseNextTimer(c), nil
}

// escalate sends a case nobody took within the SLA to the next partner of
// the routing order (or the fallback), and tells the resident. With no
// partner left, the resident is told once and given public help.
func (b *Bot) escalate(ctx context.Context, c handoff.Case, from *handoff.Partner) error {
	skip := append(slices.Clone(c.Tried), c.PartnerID)
	cands, err := b.route(ctx, c, "", skip)
	if err != nil {
		return err
	}
	if len(cands) > 0 && from != nil {
		b.log.Info("case_escalated", "case", c.ID, "from", from.ID, "to", cands[0].ID)
		return b.forward(ctx, c, from, cands[0], 0, "escalated")
	}
	err = b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if c.Status != handoff.StatusWaiting || c.Nudged {
			return false
		}
		c.Nudged = true
		return true
	})
	if errors.Is(err, errGiveUp) {
		return nil
	}
	if err != nil {
		return err
	}
	b.audit(ctx, c.ID, 0, "no_partner_left", "")
	rp := b.residentPrinter(ctx, c)
	return b.residentReply(ctx, c.ResidentChat, rp, rp.T("help.still_waiting")+"\n\n"+rp.T("guide.help.public"))
}

// nudge reminds the topic once of a taken case silent for two opening days.
func (b *Bot) nudge(ctx context.Context, c handoff.Case, partner *handoff.Partner) error {
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if c.Status != handoff.StatusTaken || c.Nudged {
			return false
		}
		c.Nudged = true
		return true
	})
	if errors.Is(err, errGiveUp) {
		return nil
	}
	if err != nil {
		return err
	}
	if partner == nil || c.TopicID == 0 {
		return nil
	}
	b.audit(ctx, c.ID, 0, "nudged", "")
	return b.send(ctx, Reply{ChatID: b.topicChat(c), ThreadID: c.TopicID, Text: b.staff().T("case.nudge", "Alias", c.TakenAlias)})
}

// retire deletes, after the topic retention, everything a closed case
// left in partner groups (every topic, card, copy and note it ever had, in
// every group it went through), then, after the mapping retention, the
// case and its mappings (counts stay).
func (b *Bot) retire(ctx context.Context, c handoff.Case, partner *handoff.Partner) error {
	if !c.Purged {
		if err := b.purgeArtefacts(ctx, c); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
			if c.Purged {
				return false
			}
			c.Purged, c.TopicID, c.CardMessageID, c.SummaryMessageID = true, 0, 0, 0
			c.Inbox, c.Pending = nil, nil
			return true
		})
		if errors.Is(err, errGiveUp) {
			return nil
		}
		return err
	}
	b.log.Info("case_deleted_after_retention", "case", c.ID)
	if err := b.cases.DeleteCase(ctx, c.ID); err != nil {
		return fmt.Errorf("delete case: %w", err)
	}
	return nil
}

// stats answers /stats for a partner's coordinators.
func (b *Bot) stats(ctx context.Context, r *Request, partner *handoff.Partner) error {
	s := b.staff()
	all, err := b.cases.Cases(ctx)
	if err != nil {
		return fmt.Errorf("load cases: %w", err)
	}
	now := b.clock.Now().In(b.cfg.Location)
	month := now.Format("2006-01")
	var waiting, taken, resolved int
	var takeTimes []time.Duration
	byProblem := map[handoff.Problem]int{}
	for _, c := range all {
		if c.PartnerID != partner.ID {
			continue
		}
		switch c.Status {
		case handoff.StatusWaiting:
			waiting++
		case handoff.StatusTaken:
			taken++
		case handoff.StatusClosed:
			if c.Closed.In(b.cfg.Location).Format("2006-01") == month {
				resolved++
			}
		}
		if !c.Taken.IsZero() {
			takeTimes = append(takeTimes, partner.Hours.OpenBetween(c.Routed, c.Taken))
		}
		if c.Created.In(b.cfg.Location).Format("2006-01") == month {
			byProblem[groupProblem(c.Problem)]++
		}
	}
	median := s.T("stats.none")
	if len(takeTimes) > 0 {
		slices.Sort(takeTimes)
		median = formatHours(takeTimes[len(takeTimes)/2])
	}
	lines := []string{
		"<b>" + s.T("stats.title", "Partner", partner.Name) + "</b>",
		s.T("stats.waiting", "N", waiting),
		s.T("stats.taken", "N", taken),
		s.T("stats.median", "Time", median),
		s.T("stats.resolved", "N", resolved),
		s.T("stats.by_problem"),
	}
	for _, pr := range handoff.Problems() {
		if n := byProblem[pr]; n > 0 {
			label := s.T("help.problem." + string(pr))
			if pr.Sensitive() {
				label = s.T("stats.sensitive")
			}
			lines = append(lines, "• "+s.T("text.label_value", "Label", HTML(label), "Value", n))
		}
	}
	return b.send(ctx, Reply{ChatID: r.Update.ChatID, ThreadID: r.Update.ThreadID, Text: strings.Join(lines, "\n")})
}

func formatHours(d time.Duration) string {
	h := int(d / time.Hour)
	m := int(d%time.Hour) / int(time.Minute)
	return fmt.Sprintf("%d\u00a0h\u00a0%02d", h, m) // French: "2 h 05"
}

// groupProblem is the problem as partner groups may see it: every
// sensitive problem counts as one, so that no count in a group tells which
// sensitive problem a neutral card hides.
func groupProblem(p handoff.Problem) handoff.Problem {
	if p.Sensitive() {
		return handoff.ProblemSensitive
	}
	return p
}

// SmallCount is the smallest count an export shows; smaller ones read
// "<5", so that nobody can be recognised in a rare combination.
const SmallCount = 5

// ExportCSV renders the anonymous counts as CSV with French headers:
// mois, département, problème, demandes; counts under SmallCount shown as
// "<5". Counts only: no case number, no text.
func ExportCSV(counts []handoff.Count) string {
	slices.SortFunc(counts, func(a, b handoff.Count) int {
		return strings.Compare(a.Month+"|"+a.Departement+"|"+string(a.Problem), b.Month+"|"+b.Departement+"|"+string(b.Problem))
	})
	var sb strings.Builder
	sb.WriteString("mois,département,problème,demandes\n")
	for _, c := range counts {
		n := strconv.Itoa(c.N)
		if c.N < SmallCount {
			n = "<" + strconv.Itoa(SmallCount)
		}
		dep := c.Departement
		if dep == "" {
			dep = "inconnu"
		}
		fmt.Fprintf(&sb, "%s,%s,%s,%s\n", c.Month, dep, c.Problem, n)
	}
	return sb.String()
}

// export answers /export with the anonymous counts of partner's requests
// (those first sent to it) as CSV. Counts made before they were kept per
// partner belong to no partner's export.
func (b *Bot) export(ctx context.Context, r *Request, partner *handoff.Partner) error {
	stored, err := b.cases.Counts(ctx)
	if err != nil {
		return fmt.Errorf("load counts: %w", err)
	}
	merged := map[handoff.Count]int{}
	for _, c := range stored {
		if c.Partner != partner.ID {
			continue
		}
		n := c.N
		c.Problem, c.N = groupProblem(c.Problem), 0
		merged[c] += n
	}
	counts := make([]handoff.Count, 0, len(merged))
	for c, n := range merged {
		c.N = n
		counts = append(counts, c)
	}
	text := b.staff().T("stats.export") + "\n<pre>" + html.EscapeString(ExportCSV(counts)) + "</pre>"
	return b.send(ctx, Reply{ChatID: r.Update.ChatID, ThreadID: r.Update.ThreadID, Text: text})
}

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

// The queue and ownership views of a partner group: /file lists the open
// cases (waiting, taken by whom, overdue), /mes the cases the asker holds.
// The card of each case in the General thread is kept current (taken,
// assigned, released, transferred, closed and why).

// AnswerWithin is how many opening hours a resident's message may wait for
// an answer before the case counts as overdue and its owner is alerted.
const AnswerWithin = 3 * time.Hour

// unanswered reports whether the resident wrote last and nobody answered
// within AnswerWithin opening hours of p, at now.
func unanswered(c handoff.Case, p *handoff.Partner, now time.Time) bool {
	if c.Status != handoff.StatusTaken || c.LastIn.IsZero() || !c.LastOut.Before(c.LastIn) {
		return false
	}
	return p.Hours.OpenBetween(c.LastIn, now) >= AnswerWithin
}

// answerAlertAt is when the owner of c is alerted that the resident's last
// message waits for an answer: AnswerWithin opening hours after it, once
// per message; zero when nobody waits or the alert was given.
func answerAlertAt(c handoff.Case, p *handoff.Partner) time.Time {
	if p == nil || c.Status != handoff.StatusTaken || c.LastIn.IsZero() || !c.LastOut.Before(c.LastIn) || !c.Alerted.Before(c.LastIn) {
		return time.Time{}
	}
	return p.Hours.AddOpen(c.LastIn, AnswerWithin)
}

// alertOwner mentions whoever holds c in its topic: the resident's last
// message has waited AnswerWithin opening hours.
func (b *Bot) alertOwner(ctx context.Context, c handoff.Case, partner *handoff.Partner) error {
	last := c.LastIn
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if c.Status != handoff.StatusTaken || !c.LastIn.Equal(last) || !c.Alerted.Before(last) {
			return false
		}
		c.Alerted = last
		return true
	})
	if err != nil {
		return ignoreGiveUp(err)
	}
	if c.TopicID == 0 {
		return nil
	}
	b.audit(ctx, c.ID, 0, "owner_alerted", "")
	s := b.staff()
	owner := HTML(`<a href="tg://user?id=` + strconv.FormatInt(c.TakenBy, 10) + `">` + html.EscapeString(c.TakenAlias) + `</a>`)
	now := b.clock.Now()
	return b.send(ctx, Reply{ChatID: b.topicChat(c), ThreadID: c.TopicID,
		Text: s.T("case.waiting_answer", "Owner", owner, "Since", formatHours(partner.Hours.OpenBetween(last, now)), "Time", HTML(b.longMoment(s, last)))})
}

// overdue reports whether c waits past its SLA or a message of the
// resident waits for an answer.
func overdue(c handoff.Case, p *handoff.Partner, now time.Time) bool {
	if c.Status == handoff.StatusWaiting {
		d := handoff.Deadline(c, p)
		return !d.IsZero() && now.After(d)
	}
	return unanswered(c, p, now)
}

// topicLink is the t.me link of a forum topic of a supergroup.
func topicLink(chat int64, thread int) string {
	id := strconv.FormatInt(-chat, 10)
	id = strings.TrimPrefix(id, "100")
	return "https://t.me/c/" + id + "/" + strconv.Itoa(thread)
}

// queueLine is one case of /file or /mes: its number (linking to its topic
// when the asker's group holds it), the problem (or "referents only" where
// a sensitive case must stay neutral), the language, who holds it, and
// what is late.
func (b *Bot) queueLine(c handoff.Case, p *handoff.Partner, chat int64, now time.Time) string {
	s := b.staff()
	ref := "#" + strconv.FormatInt(c.ID, 10)
	if c.TopicID != 0 && b.topicChat(c) == chat {
		ref = `<a href="` + topicLink(chat, c.TopicID) + `">` + ref + `</a>`
	}
	parts := []string{ref}
	if c.Sensitive && chat != p.ReferentsChatID {
		parts = append(parts, s.T("case.referents_only"))
	} else {
		parts = append(parts, orDash(c.Departement), staffProblem(s, c.Problem))
	}
	parts = append(parts, languageName(c.Lang))
	if c.Status == handoff.StatusTaken {
		parts = append(parts, s.T("case.queue_held", "Alias", c.TakenAlias))
	} else {
		parts = append(parts, s.T("case.queue_waiting", "Since", formatHours(p.Hours.OpenBetween(c.Routed, now))))
	}
	if c.Urgent {
		parts = append(parts, s.T("case.queue_urgent"))
	}
	line := "• " + strings.Join(parts, " · ")
	if overdue(c, p, now) {
		line += " " + s.T("case.queue_overdue")
	}
	return line
}

// queue answers /file: every open case of the partner, waiting first.
func (b *Bot) queue(ctx context.Context, r *Request, partner *handoff.Partner) error {
	u := r.Update
	s := b.staff()
	open, err := b.cases.OpenCases(ctx, partner.ID)
	if err != nil {
		return fmt.Errorf("open cases: %w", err)
	}
	now := b.clock.Now()
	slices.SortFunc(open, func(a, b handoff.Case) int {
		if a.Status != b.Status {
			return strings.Compare(string(b.Status), string(a.Status)) // waiting before taken
		}
		return a.Routed.Compare(b.Routed)
	})
	var waiting, taken, late []string
	for _, c := range open {
		line := b.queueLine(c, partner, u.ChatID, now)
		if c.Status == handoff.StatusWaiting {
			waiting = append(waiting, line)
		} else {
			taken = append(taken, line)
		}
		if overdue(c, partner, now) {
			late = append(late, line)
		}
	}
	lines := []string{"<b>" + s.T("case.queue_title", "Partner", partner.Name) + "</b>"}
	lines = append(lines, "", s.N("case.queue_waiting_n", len(waiting)))
	lines = append(lines, waiting...)
	lines = append(lines, "", s.N("case.queue_taken_n", len(taken)))
	lines = append(lines, taken...)
	lines = append(lines, "", s.N("case.queue_overdue_n", len(late)))
	return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: strings.Join(lines, "\n")})
}

// mine answers /mes: the open cases the asker holds at this partner.
func (b *Bot) mine(ctx context.Context, r *Request, partner *handoff.Partner) error {
	u := r.Update
	s := b.staff()
	open, err := b.cases.OpenCases(ctx, partner.ID)
	if err != nil {
		return fmt.Errorf("open cases: %w", err)
	}
	now := b.clock.Now()
	var lines []string
	for _, c := range open {
		if c.Status == handoff.StatusTaken && c.TakenBy == u.UserID {
			lines = append(lines, b.queueLine(c, partner, u.ChatID, now))
		}
	}
	head := s.N("case.mine_n", len(lines), "Alias", volunteerAlias(u.FirstName))
	return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: strings.Join(append([]string{head}, lines...), "\n")})
}

// refreshCard edits the card of an open case in the partner's General
// thread to what it is now: waiting (with Take) or held by whom.
func (b *Bot) refreshCard(ctx context.Context, c handoff.Case, partner *handoff.Partner) {
	if c.CardMessageID == 0 || c.PartnerID != partner.ID || !c.Open() {
		return
	}
	s := b.staff()
	rep := Reply{ChatID: partner.ChatID, EditMessageID: c.CardMessageID, Text: b.cardText(s, c, partner)}
	if c.Status == handoff.StatusWaiting {
		rep.Buttons = b.takeButton(c)
	} else {
		rep.Text += "\n\n" + s.T("case.taken_by", "Alias", c.TakenAlias)
	}
	if err := b.send(ctx, rep); err != nil {
		b.log.Warn("card_edit_failed", "case", c.ID, "err", err)
	}
}

// halfAlert tells the partner's group, under the card, that a case has
// waited half its SLA with nobody taking it (once per partner).
func (b *Bot) halfAlert(ctx context.Context, c handoff.Case, partner *handoff.Partner) error {
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if c.Status != handoff.StatusWaiting || c.HalfAlerted || c.PartnerID != partner.ID {
			return false
		}
		c.HalfAlerted = true
		return true
	})
	if err != nil {
		return ignoreGiveUp(err)
	}
	b.audit(ctx, c.ID, 0, "half_sla", "")
	s := b.staff()
	now := b.clock.Now()
	text := s.T("case.half_sla", "Case", c.ID, "Since", formatHours(partner.Hours.OpenBetween(c.Routed, now)),
		"Date", HTML(b.longMoment(s, handoff.Deadline(c, partner))))
	return b.note(ctx, c.ID, partner.ChatID, 0, c.CardMessageID, text)
}

// findCase answers /dossier N: where case N stands, if this partner has or
// had it (a sensitive one stays neutral outside the referents' group).
func (b *Bot) findCase(ctx context.Context, r *Request, partner *handoff.Partner) error {
	u := r.Update
	s := b.staff()
	reply := func(text string) error {
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: text})
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(u.Args), "#"), 10, 64)
	if err != nil || id <= 0 {
		return reply(s.T("case.search_usage"))
	}
	c, err := b.cases.Case(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) || err == nil && c.PartnerID != partner.ID && !slices.Contains(c.Tried, partner.ID) {
		return reply(s.T("case.search_none", "Case", id, "Days", int(b.cfg.MappingRetention/(24*time.Hour))))
	}
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	if c.Open() && c.PartnerID == partner.ID {
		return reply(b.queueLine(c, partner, u.ChatID, b.clock.Now()))
	}
	status := s.T("case.earlier_open")
	switch {
	case c.PartnerID != partner.ID:
		status = s.T("case.forwarded_to", "Partner", partnerName(b.partner(c.PartnerID)))
	case c.CloseReason != "":
		status = s.T("case.earlier_closed_why", "Date", b.date(c.Closed), "Reason", s.T("case.close_reason."+c.CloseReason))
	case !c.Closed.IsZero():
		status = s.T("case.earlier_closed", "Date", b.date(c.Closed))
	}
	return reply("• #" + strconv.FormatInt(c.ID, 10) + " · " + status)
}

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

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// relayResident handles what a resident with an open case sends: the
// "leave" button, else a copy into the case's topic (media only after the
// resident confirmed who will see it). It reports false when the resident
// has no open case.
func (b *Bot) relayResident(ctx context.Context, r *Request) (bool, error) {
	if !b.handoffOn() || r.Profile.OpenCase == 0 {
		return false, nil
	}
	c, ok, err := b.openCase(ctx, r)
	if err != nil || !ok {
		return false, err
	}
	p := r.P
	if r.Update.Kind == KindText && strings.TrimSpace(catalog.StripMarks(r.Update.Text)) == catalog.StripMarks(p.T("help.leave")) {
		return true, b.helpEnd(ctx, r)
	}
	partner := b.partner(c.PartnerID)
	if partner == nil {
		return false, nil
	}
	if r.Update.Kind == KindPhoto || r.Update.Kind == KindDocument {
		if r.Session.Data[helpMedia] == "" || r.Session.Flow != "relay" {
			r.SetFlow("relay", "media")
			r.setData(helpMedia, strconv.Itoa(r.Update.MessageID))
			return true, r.Reply(ctx, p.T("help.media.confirm", "Partner", partner.Name),
				[]Button{{Label: p.T("help.media.yes"), Data: "h:m:y"}, {Label: p.T("help.media.no"), Data: "h:m:n"}})
		}
	}
	return true, b.copyToCase(ctx, r, c, partner, r.Update.MessageID)
}

// helpMediaAnswer sends (or not) the photo or document waiting for the
// resident's go. After a yes, later media of the case go without asking.
func (b *Bot) helpMediaAnswer(ctx context.Context, r *Request, yes bool) error {
	msg, err := strconv.Atoi(r.Session.Data[helpMedia])
	if r.Session.Flow != "relay" || err != nil {
		return b.stale(ctx, r)
	}
	c, ok, err := b.openCase(ctx, r)
	if err != nil {
		return err
	}
	if !ok {
		r.ClearFlow()
		return b.stale(ctx, r)
	}
	if !yes {
		r.ClearFlow()
		return r.Reply(ctx, r.P.T("help.media.kept"))
	}
	r.SetFlow("relay", "ok")
	r.setData(helpMedia, "ok")
	partner := b.partner(c.PartnerID)
	if partner == nil {
		return b.stale(ctx, r)
	}
	return b.copyToCase(ctx, r, c, partner, msg)
}

// copyToCase copies a resident's message into the case's topic, or keeps
// its id until the case is taken and its topic exists.
func (b *Bot) copyToCase(ctx context.Context, r *Request, c handoff.Case, partner *handoff.Partner, msgID int) error {
	// Kept for later while the case has no topic; the check is part of
	// the compare-and-set, so a topic opening meanwhile is seen.
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if c.TopicID != 0 {
			return false
		}
		c.Pending = append(c.Pending, msgID)
		return true
	})
	switch {
	case errors.Is(err, errGiveUp):
		if err := b.copyOne(ctx, c, partner, msgID); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if err := b.touch(ctx, &c); err != nil {
		return err
	}
	return b.outOfHours(ctx, r, c, partner)
}

// relayTimeout bounds a copy into a partner group.
const relayTimeout = 5 * time.Minute

// copyOne copies one resident message into the topic and remembers the
// copy, so that a volunteer's reply to it reaches the resident.
func (b *Bot) copyOne(ctx context.Context, c handoff.Case, partner *handoff.Partner, msgID int) error {
	// A group takes 20 messages a minute: the copy may wait in the sender
	// longer than one update's deadline. It queues rather than drops.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), relayTimeout)
	defer cancel()
	copied, err := b.sender.Send(ctx, Reply{ChatID: partner.ChatID, ThreadID: c.TopicID, CopyFromChatID: c.ResidentChat, CopyMessageID: msgID})
	if err != nil {
		return fmt.Errorf("relay to topic: %w", err)
	}
	if err := b.cases.PutRelay(ctx, partner.ChatID, copied, handoff.Relay{CaseID: c.ID, ResidentMessageID: msgID}); err != nil {
		return fmt.Errorf("record relay: %w", err)
	}
	return nil
}

// touch records activity on the case (for the two-day nudge).
func (b *Bot) touch(ctx context.Context, c *handoff.Case) error {
	now := b.clock.Now()
	err := b.updateCase(ctx, c, func(c *handoff.Case) bool {
		c.Activity = now
		return true
	})
	if err != nil {
		return err
	}
	return b.scheduleCase(ctx, *c)
}

// outOfHours tells the resident, once per closed period, when the
// partner's volunteers will likely read their message.
func (b *Bot) outOfHours(ctx context.Context, r *Request, c handoff.Case, partner *handoff.Partner) error {
	now := b.clock.Now()
	if partner.Hours.Open(now) {
		return nil
	}
	next := partner.Hours.NextOpening(now)
	key := strconv.FormatInt(next.Unix(), 10)
	if r.Session.Data["ooh"] == key {
		return nil
	}
	if r.Session.Flow == "" {
		r.SetFlow("relay", "ok")
	}
	r.setData("ooh", key)
	p := r.P
	text := p.T("help.closed_now", "Partner", partner.Name) + "\n" + b.whenRead(p, partner, now)
	if c.Urgent {
		if e := b.emergency(p, partner); e != "" {
			text += "\n\n" + e
		}
	}
	return r.Reply(ctx, text)
}

// relayReply sends a volunteer's reply to a relayed message to the
// resident, signed; anything else in a topic stays internal.
func (b *Bot) relayReply(ctx context.Context, r *Request, partner *handoff.Partner) error {
	u := r.Update
	rel, err := b.cases.Relay(ctx, u.ChatID, u.ReplyToMessageID)
	if errors.Is(err, handoff.ErrNotFound) {
		return nil // internal discussion
	}
	if err != nil {
		return fmt.Errorf("load relay: %w", err)
	}
	c, err := b.cases.Case(ctx, rel.CaseID)
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	return b.toResident(ctx, r, partner, c, u.Text, u.Kind != KindText)
}

// toResident sends a volunteer's message to the resident of c, signed with
// the volunteer's alias and the partner's name, and marks it in the topic.
func (b *Bot) toResident(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case, text string, copyMedia bool) error {
	s := b.staff()
	u := r.Update
	if !c.Open() || c.PartnerID != partner.ID || c.TopicID != u.ThreadID {
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: s.T("case.not_sent_closed")})
	}
	if ok, err := b.isMember(ctx, partner, u.UserID); err != nil || !ok {
		return err
	}
	alias := volunteerAlias(u.FirstName)
	rp := b.residentPrinter(ctx, c)
	sign := rp.T("relay.from", "Alias", alias, "Partner", partner.Name)
	if copyMedia {
		if err := b.residentReply(ctx, c.ResidentChat, rp, sign); err != nil {
			return err
		}
		if _, err := b.sender.Send(ctx, Reply{ChatID: c.ResidentChat, CopyFromChatID: u.ChatID, CopyMessageID: u.MessageID}); err != nil {
			return fmt.Errorf("relay to resident: %w", err)
		}
	} else if err := b.residentReply(ctx, c.ResidentChat, rp, sign+"\n"+ownDirection(rp, html.EscapeString(text))); err != nil {
		return err
	}
	b.audit(ctx, c.ID, u.UserID, "sent", "")
	if err := b.touch(ctx, &c); err != nil {
		return err
	}
	return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: s.T("case.sent")})
}

// caseInTopic returns the case of the topic a command was sent in.
func (b *Bot) caseInTopic(ctx context.Context, r *Request, partner *handoff.Partner) (handoff.Case, bool, error) {
	if r.Update.ThreadID == 0 {
		return handoff.Case{}, false, nil
	}
	id, err := b.cases.CaseByTopic(ctx, partner.ChatID, r.Update.ThreadID)
	if errors.Is(err, handoff.ErrNotFound) {
		return handoff.Case{}, false, nil
	}
	if err != nil {
		return handoff.Case{}, false, fmt.Errorf("case by topic: %w", err)
	}
	c, err := b.cases.Case(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) {
		return handoff.Case{}, false, nil
	}
	if err != nil {
		return handoff.Case{}, false, fmt.Errorf("load case: %w", err)
	}
	return c, true, nil
}

// groupCommand handles commands in partner groups. Every one re-checks
// membership (and the role it needs) server-side.
func (b *Bot) groupCommand(ctx context.Context, r *Request, partner *handoff.Partner) error {
	u := r.Update
	s := b.staff()
	ok, err := b.isMember(ctx, partner, u.UserID)
	if err != nil || !ok {
		return err
	}
	reply := func(text string) error {
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: text})
	}
	coordinator := slices.Contains(partner.Coordinators, u.UserID) || slices.Contains(partner.Referents, u.UserID)
	switch u.Command {
	case "stats":
		if !coordinator {
			return reply(s.T("case.coordinators_only"))
		}
		return b.stats(ctx, r, partner)
	case "export":
		if !coordinator {
			return reply(s.T("case.coordinators_only"))
		}
		return b.export(ctx, r)
	case "pause", "resume":
		if !coordinator {
			return reply(s.T("case.coordinators_only"))
		}
		if err := b.cases.SetPaused(ctx, partner.ID, u.Command == "pause"); err != nil {
			return fmt.Errorf("pause: %w", err)
		}
		return reply(s.T("case." + u.Command + "d"))
	case "link":
		if !coordinator {
			return reply(s.T("case.coordinators_only"))
		}
		return reply(s.T("case.link", "Link", "https://t.me/"+b.cfg.BotUsername+"?start=p-"+partner.ID))
	}
	c, found, err := b.caseInTopic(ctx, r, partner)
	if err != nil {
		return err
	}
	if !found {
		if slices.Contains([]string{"r", "close", "release", "transfer", "summary", "assign"}, u.Command) {
			return reply(s.T("case.no_case_here"))
		}
		return nil
	}
	owner := c.TakenBy == u.UserID || slices.Contains(partner.Referents, u.UserID)
	switch u.Command {
	case "r":
		if strings.TrimSpace(u.Args) == "" {
			return reply(s.T("case.r_usage"))
		}
		return b.toResident(ctx, r, partner, c, strings.TrimSpace(u.Args), false)
	case "summary":
		if strings.TrimSpace(u.Args) == "" {
			return reply(s.T("case.summary_usage"))
		}
		steps := strings.TrimSpace(u.Args)
		if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool { c.Steps = steps; return true }); err != nil {
			return err
		}
		if c.SummaryMessageID != 0 {
			if err := b.send(ctx, Reply{ChatID: u.ChatID, EditMessageID: c.SummaryMessageID, Text: b.summaryText(s, c)}); err != nil {
				return err
			}
		}
		return reply(s.T("case.summary_done"))
	case "close":
		if !owner {
			return reply(s.T("case.owner_only"))
		}
		return b.closeCase(ctx, c, u.UserID, "closed")
	case "release":
		if !owner || c.Status != handoff.StatusTaken {
			return reply(s.T("case.owner_only"))
		}
		return b.release(ctx, c, partner, u.UserID)
	case "transfer":
		if !owner {
			return reply(s.T("case.owner_only"))
		}
		to := b.partner(strings.TrimSpace(u.Args))
		if to == nil || to.ID == partner.ID {
			return reply(s.T("case.transfer_usage"))
		}
		return b.forward(ctx, c, partner, to, u.UserID, "transferred")
	case "assign":
		if !slices.Contains(partner.Referents, u.UserID) {
			return reply(s.T("case.referents_only_assign"))
		}
		target, name, ok := b.assignTarget(ctx, r)
		if !ok {
			return reply(s.T("case.assign_usage"))
		}
		return b.assign(ctx, c, partner, u.UserID, target, name)
	}
	return nil
}

// assignTarget reads the colleague an /assign names: by replying to one of
// their messages in the topic.
func (b *Bot) assignTarget(ctx context.Context, r *Request) (int64, string, bool) {
	u := r.Update
	if u.ReplyToUserID == 0 || u.ReplyToUserID == u.UserID || u.ReplyToMessageID == u.ThreadID {
		return 0, "", false
	}
	return r.Update.ReplyToUserID, r.Update.ReplyToFirstName, true
}

// assign gives a case to a named colleague (referents only).
func (b *Bot) assign(ctx context.Context, c handoff.Case, partner *handoff.Partner, by, to int64, name string) error {
	s := b.staff()
	if ok, err := b.isMember(ctx, partner, to); err != nil || !ok {
		return err
	}
	alias := volunteerAlias(name)
	now := b.clock.Now()
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if !c.Open() || c.PartnerID != partner.ID {
			return false
		}
		c.Status, c.TakenBy, c.TakenAlias = handoff.StatusTaken, to, alias
		if c.Taken.IsZero() {
			c.Taken = now
		}
		return true
	})
	if errors.Is(err, errGiveUp) {
		return nil
	}
	if err != nil {
		return err
	}
	b.audit(ctx, c.ID, by, "assigned", alias)
	if c.TopicID == 0 {
		if err := b.openTopic(ctx, &c, partner); err != nil {
			return err
		}
	}
	return b.send(ctx, Reply{ChatID: partner.ChatID, ThreadID: c.TopicID, Text: s.T("case.assigned", "Alias", alias)})
}

// release puts a taken case back in the queue.
func (b *Bot) release(ctx context.Context, c handoff.Case, partner *handoff.Partner, by int64) error {
	s := b.staff()
	now := b.clock.Now()
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if c.Status != handoff.StatusTaken {
			return false
		}
		c.Status, c.TakenBy, c.TakenAlias, c.Routed = handoff.StatusWaiting, 0, "", now
		return true
	})
	if errors.Is(err, errGiveUp) {
		return nil
	}
	if err != nil {
		return err
	}
	b.audit(ctx, c.ID, by, "released", "")
	if c.CardMessageID != 0 {
		if err := b.send(ctx, Reply{ChatID: partner.ChatID, EditMessageID: c.CardMessageID, Text: b.cardText(s, c, partner),
			Buttons: [][]Button{{{Label: s.T("case.take"), Data: "hc:t:" + strconv.FormatInt(c.ID, 10)}}}}); err != nil {
			b.log.Warn("card_edit_failed", "case", c.ID, "err", err)
		}
	}
	if err := b.scheduleCase(ctx, c); err != nil {
		return err
	}
	return b.send(ctx, Reply{ChatID: partner.ChatID, ThreadID: c.TopicID, Text: s.T("case.released")})
}

// forward sends a case to another partner (a /transfer, or an SLA
// escalation) and tells the resident.
func (b *Bot) forward(ctx context.Context, c handoff.Case, from, to *handoff.Partner, by int64, why string) error {
	s := b.staff()
	now := b.clock.Now()
	oldTopic := c.TopicID
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if !c.Open() || c.PartnerID != from.ID {
			return false
		}
		c.Tried = append(c.Tried, from.ID)
		c.PartnerID, c.Status, c.TakenBy, c.TakenAlias, c.Routed = to.ID, handoff.StatusWaiting, 0, "", now
		c.CardMessageID, c.TopicID, c.SummaryMessageID, c.Nudged = 0, 0, 0, false
		c.Taken = time.Time{}
		return true
	})
	if errors.Is(err, errGiveUp) {
		return nil
	}
	if err != nil {
		return err
	}
	b.audit(ctx, c.ID, by, why, to.ID)
	b.log.Info("case_forwarded", "case", c.ID, "from", from.ID, "to", to.ID, "why", why)
	if oldTopic != 0 {
		if err := b.send(ctx, Reply{ChatID: from.ChatID, ThreadID: oldTopic, Text: s.T("case.forwarded_to", "Partner", to.Name)}); err != nil {
			b.log.Warn("topic_note_failed", "case", c.ID, "err", err)
		}
	}
	if err := b.postCard(ctx, &c, to); err != nil {
		return err
	}
	if err := b.scheduleCase(ctx, c); err != nil {
		return err
	}
	rp := b.residentPrinter(ctx, c)
	return b.residentReply(ctx, c.ResidentChat, rp, rp.T("help.forwarded", "Partner", to.Name)+"\n"+b.whenRead(rp, to, now))
}

// closeCase closes a case, tells the resident and asks for feedback.
func (b *Bot) closeCase(ctx context.Context, c handoff.Case, by int64, why string) error {
	s := b.staff()
	now := b.clock.Now()
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if !c.Open() {
			return false
		}
		c.Status, c.Closed = handoff.StatusClosed, now
		return true
	})
	if errors.Is(err, errGiveUp) {
		return nil
	}
	if err != nil {
		return err
	}
	b.audit(ctx, c.ID, by, why, "")
	b.log.Info("case_closed", "case", c.ID, "why", why)
	if err := b.clearOpenCase(ctx, c); err != nil {
		return err
	}
	if err := b.scheduleCase(ctx, c); err != nil {
		return err
	}
	if partner := b.partner(c.PartnerID); partner != nil {
		note := s.T("case.closed")
		if why == "closed_by_resident" {
			note = s.T("case.closed_by_resident")
		}
		if c.TopicID != 0 {
			if err := b.send(ctx, Reply{ChatID: partner.ChatID, ThreadID: c.TopicID, Text: note}); err != nil {
				b.log.Warn("topic_note_failed", "case", c.ID, "err", err)
			}
		} else if c.CardMessageID != 0 {
			if err := b.send(ctx, Reply{ChatID: partner.ChatID, EditMessageID: c.CardMessageID, Text: b.cardText(s, c, partner) + "\n\n" + note}); err != nil {
				b.log.Warn("card_edit_failed", "case", c.ID, "err", err)
			}
		}
	}
	// One message carries one markup: first remove the "leave" keyboard,
	// then add the feedback buttons to the same message.
	rp := b.residentPrinter(ctx, c)
	id := strconv.FormatInt(c.ID, 10)
	text := rp.T("help.closed", "Case", c.ID)
	msg, err := b.sender.Send(ctx, laidOut(rp, Reply{ChatID: c.ResidentChat, Text: text, RemoveKeyboard: true}))
	if errors.Is(err, ErrBlocked) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tell resident: %w", err)
	}
	return b.send(ctx, laidOut(rp, Reply{ChatID: c.ResidentChat, EditMessageID: msg, Text: text,
		Buttons: [][]Button{{{Label: rp.T("help.feedback.useful"), Data: "h:f:" + id + ":u"}, {Label: rp.T("help.feedback.not_useful"), Data: "h:f:" + id + ":n"}}}}))
}

// clearOpenCase forgets the resident's open case in their profile.
func (b *Bot) clearOpenCase(ctx context.Context, c handoff.Case) error {
	prof, err := b.store.Profile(ctx, c.ResidentID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load profile: %w", err)
	}
	if prof.OpenCase != c.ID {
		return nil
	}
	prof.OpenCase = 0
	if err := b.store.PutProfile(ctx, prof); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	return nil
}

// helpFeedback records the resident's rating of a closed case.
func (b *Bot) helpFeedback(ctx context.Context, r *Request, arg string) error {
	idText, rating, _ := strings.Cut(arg, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || (rating != "u" && rating != "n") {
		return b.stale(ctx, r)
	}
	c, err := b.cases.Case(ctx, id)
	if err != nil || c.ResidentID != r.Update.UserID || c.Status != handoff.StatusClosed {
		return b.stale(ctx, r)
	}
	value := map[string]string{"u": "useful", "n": "not_useful"}[rating]
	if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool { c.Rating = value; return true }); err != nil && !errors.Is(err, errGiveUp) {
		return err
	}
	return r.Reply(ctx, r.P.T("help.feedback.thanks"), b.menuRows(r.P)...)
}

// caseLines lists the resident's cases for /mydata.
func (b *Bot) caseLines(ctx context.Context, p *catalog.Printer, userID int64) ([]string, error) {
	cases, err := b.cases.CasesOf(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("load cases: %w", err)
	}
	lines := []string{p.N("mydata.cases", len(cases))}
	for _, c := range cases {
		lines = append(lines, "• "+p.T("mydata.case", "Case", c.ID, "Partner", partnerName(b.partner(c.PartnerID)),
			"Status", HTML(p.T("help.status."+string(c.Status))), "Date", b.date(c.Created)))
	}
	return lines, nil
}

// forgetCases deletes the resident's cases and their topics.
func (b *Bot) forgetCases(ctx context.Context, userID int64) error {
	if !b.handoffOn() {
		return nil
	}
	cases, err := b.cases.CasesOf(ctx, userID)
	if err != nil {
		return fmt.Errorf("load cases: %w", err)
	}
	for _, c := range cases {
		if partner := b.partner(c.PartnerID); partner != nil && c.TopicID != 0 && b.groups != nil {
			if err := b.groups.DeleteForumTopic(ctx, partner.ChatID, c.TopicID); err != nil {
				b.log.Warn("topic_delete_failed", "case", c.ID, "err", err)
			}
		}
		if partner := b.partner(c.PartnerID); partner != nil && c.CardMessageID != 0 && c.Open() {
			if err := b.send(ctx, Reply{ChatID: partner.ChatID, EditMessageID: c.CardMessageID, Text: b.staff().T("case.forgotten", "Case", c.ID)}); err != nil {
				b.log.Warn("card_edit_failed", "case", c.ID, "err", err)
			}
		}
		if b.rem != nil {
			if err := b.rem.Cancel(ctx, caseTimerID(c.ID)); err != nil {
				return fmt.Errorf("cancel case timer: %w", err)
			}
		}
		if err := b.cases.DeleteCase(ctx, c.ID); err != nil {
			return fmt.Errorf("delete case: %w", err)
		}
	}
	return nil
}

// ownDirection isolates each line of a volunteer's text (usually French)
// in a right-to-left language, so that it keeps its own direction inside
// the resident's right-to-left message instead of being laid out as theirs.
func ownDirection(p *catalog.Printer, escaped string) string {
	if !p.RTL() {
		return escaped
	}
	lines := strings.Split(escaped, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = p.Isolate(l)
		}
	}
	return strings.Join(lines, "\n")
}

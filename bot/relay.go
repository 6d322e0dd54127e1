package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// Session keys of the relay flow.
const (
	flowRelay = "relay"
	// helpMediaOK holds the id of the case whose volunteers the resident
	// agreed to send files to.
	helpMediaOK = "mediaok"
	// mediaCaption + message id holds the cleaned caption of a file
	// waiting for the resident's go.
	mediaCaption = "mcap."
)

// relayResident handles what a resident with an open case sends: the
// "leave" button, else their message goes to the case's topic through the
// relay outbox. Anything that is not typed text (photo, document, voice,
// video, video note, audio, animation, sticker, location, contact…) waits
// for the resident's go first. It reports false when the resident has no
// open case.
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
	in := incoming(r.Update)
	if r.Update.Kind.Media() && r.Session.Data[helpMediaOK] != strconv.FormatInt(c.ID, 10) {
		return true, b.askMedia(ctx, r, partner, in)
	}
	return true, b.relayIn(ctx, r, c, partner, []handoff.Incoming{in})
}

// askMedia keeps a file in the session until the resident says whether it
// may go to the volunteers (every file sent meanwhile waits with it).
func (b *Bot) askMedia(ctx context.Context, r *Request, partner *handoff.Partner, in handoff.Incoming) error {
	var waiting []string
	if r.Session.Flow == flowRelay && r.Session.Step == "media" && r.Session.Data[helpMedia] != "" {
		waiting = strings.Split(r.Session.Data[helpMedia], ",")
	}
	if len(waiting) >= 20 {
		return r.Reply(ctx, r.P.T("help.media.confirm", "Partner", partner.Name), b.mediaButtons(r.P))
	}
	r.SetFlow(flowRelay, "media")
	r.setData(helpMedia, strings.Join(append(waiting, encodeIncoming(in)), ","))
	if in.Text != "" {
		r.setData(mediaCaption+strconv.Itoa(in.Msg), in.Text)
	}
	if len(waiting) > 0 {
		return nil // the question is already on screen
	}
	return r.Reply(ctx, r.P.T("help.media.confirm", "Partner", partner.Name), b.mediaButtons(r.P))
}

func (b *Bot) mediaButtons(p *catalog.Printer) []Button {
	return []Button{{Label: p.T("help.media.yes"), Data: "h:m:y"}, {Label: p.T("help.media.no"), Data: "h:m:n"}}
}

// helpMediaAnswer sends (or not) the files waiting for the resident's go.
// After a yes, later files of the same case go without asking while the
// conversation lasts.
func (b *Bot) helpMediaAnswer(ctx context.Context, r *Request, yes bool) error {
	if r.Session.Flow != flowRelay || r.Session.Data[helpMedia] == "" {
		return b.stale(ctx, r)
	}
	var waiting []handoff.Incoming
	for _, s := range strings.Split(r.Session.Data[helpMedia], ",") {
		if in, ok := decodeIncoming(s); ok {
			in.Text = r.Session.Data[mediaCaption+strconv.Itoa(in.Msg)]
			waiting = append(waiting, in)
		}
	}
	c, ok, err := b.openCase(ctx, r)
	if err != nil {
		return err
	}
	if !ok || len(waiting) == 0 {
		r.ClearFlow()
		return b.stale(ctx, r)
	}
	r.ClearFlow()
	if !yes {
		return r.Reply(ctx, r.P.T("help.media.kept"))
	}
	r.SetFlow(flowRelay, "ok")
	r.setData(helpMediaOK, strconv.FormatInt(c.ID, 10))
	partner := b.partner(c.PartnerID)
	if partner == nil {
		return b.stale(ctx, r)
	}
	return b.relayIn(ctx, r, c, partner, waiting)
}

// relayIn hands the resident's messages to the relay: their text joins the
// case (until copied), their ids join the topic's outbox queue, or wait for
// the topic when the case has none yet. It never waits for the group: the
// outbox worker sends at the group's pace.
func (b *Bot) relayIn(ctx context.Context, r *Request, c handoff.Case, partner *handoff.Partner, msgs []handoff.Incoming) error {
	b.translateIncoming(ctx, c, r.Lang, msgs)
	now := b.clock.Now()
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		inbox := slices.Clone(c.Inbox)
		pending := slices.Clone(c.Pending)
		for _, in := range msgs {
			if !slices.ContainsFunc(inbox, func(x handoff.Incoming) bool { return x.Msg == in.Msg }) {
				inbox = append(inbox, in)
			}
			if c.TopicID == 0 && !slices.Contains(pending, in.Msg) {
				pending = append(pending, in.Msg)
			}
		}
		c.Inbox, c.Pending, c.Activity, c.LastIn = inbox, pending, now, now
		return true
	})
	if err != nil {
		return err
	}
	if c.TopicID != 0 {
		for _, in := range msgs {
			if err := b.enqueueCopy(ctx, c, in.Msg); err != nil {
				return err
			}
		}
	}
	if err := b.scheduleCase(ctx, c); err != nil {
		return err
	}
	return b.outOfHours(ctx, r, c, partner)
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
		r.SetFlow(flowRelay, "ok")
	}
	r.setData("ooh", key)
	if err := r.Reply(ctx, b.outOfHoursText(r.P, c, partner, now)); err != nil {
		return err
	}
	b.shown(ctx, c, r.Lang, b.outOfHoursText(b.staff(), c, partner, now))
	return nil
}

// outOfHoursText is the automatic answer of a closed period, in p's language.
func (b *Bot) outOfHoursText(p *catalog.Printer, c handoff.Case, partner *handoff.Partner, now time.Time) string {
	text := p.T("help.closed_now", "Partner", partner.Name) + "\n" + b.whenRead(p, partner, now)
	if c.Urgent {
		if e := b.emergency(p, partner); e != "" {
			text += "\n\n" + e
		}
	}
	return text
}

// refuse posts an authorize refusal as a reply in the group (nothing when
// it is silent).
func (b *Bot) refuse(ctx context.Context, r *Request, caseID int64, refusal string, err error) error {
	if err != nil || refusal == "" {
		return err
	}
	return b.note(ctx, caseID, r.Update.ChatID, r.Update.ThreadID, r.Update.MessageID, refusal)
}

// caseInTopic returns the case of the topic a command was sent in.
func (b *Bot) caseInTopic(ctx context.Context, r *Request) (handoff.Case, bool, error) {
	if r.Update.ThreadID == 0 {
		return handoff.Case{}, false, nil
	}
	id, err := b.cases.CaseByTopic(ctx, r.Update.ChatID, r.Update.ThreadID)
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

// topicActions are the commands about the case of the topic they are sent
// in, and what each asks.
var topicActions = map[string]action{
	"r": actReply, "modele": actReply, "summary": actSummary, "close": actClose, "release": actRelease, "transfer": actTransfer, "assign": actAssign,
}

// groupCommand handles commands in partner groups. Each one goes through
// authorize (membership and the role it needs) before it acts.
func (b *Bot) groupCommand(ctx context.Context, r *Request, partner *handoff.Partner) error {
	if name, ok := commandAliases[r.Update.Command]; ok {
		r.Update.Command = name
	}
	u := r.Update
	s := b.staff()
	reply := func(text string) error {
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: text})
	}
	switch u.Command {
	case "file", "mes", "dossier":
		ok, _, err := b.authorize(ctx, partner, u.ChatID, nil, u.UserID, actQueue)
		if err != nil || !ok {
			return err
		}
		switch u.Command {
		case "file":
			return b.queue(ctx, r, partner)
		case "dossier":
			return b.findCase(ctx, r, partner)
		}
		return b.mine(ctx, r, partner)
	case "stats", "export", "pause", "resume", "link":
		ok, refusal, err := b.authorize(ctx, partner, u.ChatID, nil, u.UserID, actCoordinate)
		if err != nil || !ok {
			if refusal != "" && err == nil {
				return reply(refusal)
			}
			return err
		}
		switch u.Command {
		case "stats":
			return b.stats(ctx, r, partner)
		case "export":
			return b.export(ctx, r, partner)
		case "link":
			return reply(s.T("case.link", "Link", "https://t.me/"+b.cfg.BotUsername+"?start=p-"+partner.ID))
		}
		if err := b.cases.SetPaused(ctx, partner.ID, u.Command == "pause"); err != nil {
			return fmt.Errorf("pause: %w", err)
		}
		return reply(s.T("case." + u.Command + "d"))
	}
	act, ok := topicActions[u.Command]
	if !ok {
		return nil
	}
	c, found, err := b.caseInTopic(ctx, r)
	if err != nil {
		return err
	}
	if !found {
		if _, in, err := b.member(ctx, u.ChatID, u.UserID); err != nil || !in {
			return err
		}
		return reply(s.T("case.no_case_here"))
	}
	allowed, refusal, err := b.authorize(ctx, partner, u.ChatID, &c, u.UserID, act)
	if err != nil || !allowed {
		return b.refuse(ctx, r, c.ID, refusal, err)
	}
	switch act {
	case actReply:
		if u.Command == "modele" {
			return b.templateStart(ctx, r, partner, c)
		}
		return b.draftReply(ctx, r, partner, c, u.Args)
	case actSummary:
		steps := strings.TrimSpace(cleanText(u.Args))
		if steps == "" {
			return reply(s.T("case.summary_usage"))
		}
		if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool { c.Steps = steps; return true }); err != nil {
			return err
		}
		if c.SummaryMessageID != 0 {
			if err := b.send(ctx, Reply{ChatID: b.topicChat(c), EditMessageID: c.SummaryMessageID, Text: b.summaryText(s, c)}); err != nil {
				return err
			}
		}
		return reply(s.T("case.summary_done"))
	case actClose:
		return b.closeStart(ctx, r, c)
	case actRelease:
		if c.Status != handoff.StatusTaken {
			return reply(s.T("case.owner_only"))
		}
		return b.release(ctx, c, partner, u.UserID)
	case actTransfer:
		return b.transferStart(ctx, r, partner, c)
	case actAssign:
		return b.assignStart(ctx, r, partner, c)
	}
	return nil
}

// assignTarget reads the colleague an /assign names: by replying to one of
// their messages in the topic. A bot (this one, whose copies and notes
// fill the topic, or another) is never a colleague.
func assignTarget(u Update) (int64, string, bool) {
	if u.ReplyToUserID == 0 || u.ReplyToIsBot || u.ReplyToUserID == u.UserID || u.ReplyToMessageID == u.ThreadID {
		return 0, "", false
	}
	return u.ReplyToUserID, u.ReplyToFirstName, true
}

// assign gives a case to a named colleague (referents only): a person who
// is a member of the group where the case's topic lives (the referents'
// group for a sensitive case), never a bot. It reports whether it did.
func (b *Bot) assign(ctx context.Context, r *Request, c handoff.Case, partner *handoff.Partner, to int64, name string) (bool, error) {
	s := b.staff()
	by := r.Update.UserID
	m, in, err := b.member(ctx, partner.Room(c.Sensitive), to)
	if err != nil {
		return false, err
	}
	if !in {
		b.log.Info("assign_refused", "case", c.ID, "user_id", to, "bot", m.IsBot)
		return false, b.send(ctx, Reply{ChatID: r.Update.ChatID, ThreadID: r.Update.ThreadID, ReplyToMessageID: r.Update.MessageID, Text: s.T("case.assign_usage")})
	}
	alias := volunteerAlias(name)
	now := b.clock.Now()
	err = b.updateCase(ctx, &c, func(c *handoff.Case) bool {
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
		return false, nil
	}
	if err != nil {
		return false, err
	}
	b.audit(ctx, c.ID, by, "assigned", alias)
	b.refreshCard(ctx, c, partner)
	if c.TopicID == 0 {
		if err := b.openTopic(ctx, &c, partner); err != nil {
			return false, err
		}
	}
	return true, nil
}

// release puts a taken case back in the queue.
func (b *Bot) release(ctx context.Context, c handoff.Case, partner *handoff.Partner, by int64) error {
	s := b.staff()
	now := b.clock.Now()
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if c.Status != handoff.StatusTaken {
			return false
		}
		c.Status, c.TakenBy, c.TakenAlias, c.Routed, c.HalfAlerted = handoff.StatusWaiting, 0, "", now, false
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
		if err := b.send(ctx, Reply{ChatID: partner.ChatID, EditMessageID: c.CardMessageID, Text: b.cardText(s, c, partner), Buttons: b.takeButton(c)}); err != nil {
			b.log.Warn("card_edit_failed", "case", c.ID, "err", err)
		}
	}
	if err := b.scheduleCase(ctx, c); err != nil {
		return err
	}
	if c.TopicID == 0 {
		return nil
	}
	return b.send(ctx, Reply{ChatID: b.topicChat(c), ThreadID: c.TopicID, Text: s.T("case.released")})
}

// forward sends a case to another partner (a /transfer, or an SLA
// escalation with why "escalated") and tells the resident. The card left
// behind becomes neutral; the old topic stays (recorded) until retention
// or /forget deletes it.
func (b *Bot) forward(ctx context.Context, c handoff.Case, from, to *handoff.Partner, by int64, why string, also ...func(*handoff.Case)) error {
	s := b.staff()
	now := b.clock.Now()
	oldCard, oldTopic, oldChat := c.CardMessageID, c.TopicID, b.topicChat(c)
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if !c.Open() || c.PartnerID != from.ID {
			return false
		}
		oldCard, oldTopic, oldChat = c.CardMessageID, c.TopicID, b.topicChat(*c)
		c.Tried = append(c.Tried, from.ID)
		c.PartnerID, c.Status, c.TakenBy, c.TakenAlias, c.Routed = to.ID, handoff.StatusWaiting, 0, "", now
		c.CardMessageID, c.TopicChat, c.TopicID, c.SummaryMessageID, c.Nudged, c.HalfAlerted = 0, 0, 0, 0, false, false
		c.Taken = time.Time{}
		for _, f := range also {
			f(c)
		}
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
	what := s.T("case.forwarded_to", "Partner", to.Name)
	if n := len(c.Handovers); why == "transferred" && n > 0 && c.Handovers[n-1].To == to.ID {
		what += "\n" + s.T("case.handover_reason", "Reason", s.T("case.transfer_reason."+c.Handovers[n-1].Reason))
	}
	if why == "escalated" {
		what = s.T("case.escalated", "Partner", to.Name)
	}
	if oldCard != 0 {
		if err := b.send(ctx, Reply{ChatID: from.ChatID, EditMessageID: oldCard, Text: b.cardEnd(c, what)}); err != nil {
			b.log.Warn("card_edit_failed", "case", c.ID, "err", err)
		}
	}
	if oldTopic != 0 {
		if err := b.send(ctx, Reply{ChatID: oldChat, ThreadID: oldTopic, Text: what}); err != nil {
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

// closeCase closes a case, turns its cards neutral, tells the resident and
// asks for feedback. Messages still on their way go into the topic, which
// stays until retention; with no topic they are dropped.
func (b *Bot) closeCase(ctx context.Context, c handoff.Case, by int64, why, reason string) error {
	s := b.staff()
	now := b.clock.Now()
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if !c.Open() {
			return false
		}
		c.Status, c.Closed, c.CloseReason = handoff.StatusClosed, now, reason
		if c.TopicID == 0 {
			c.Inbox, c.Pending = nil, nil
		}
		return true
	})
	if errors.Is(err, errGiveUp) {
		return nil
	}
	if err != nil {
		return err
	}
	b.audit(ctx, c.ID, by, why, reason)
	b.log.Info("case_closed", "case", c.ID, "why", why, "reason", reason)
	if err := b.clearOpenCase(ctx, c); err != nil {
		return err
	}
	if err := b.scheduleCase(ctx, c); err != nil {
		return err
	}
	if err := b.closeCards(ctx, c); err != nil {
		b.log.Warn("close_cards_failed", "case", c.ID, "err", err)
	}
	if c.TopicID != 0 {
		note := s.T("case.closed")
		if why == "closed_by_resident" {
			note = s.T("case.closed_by_resident")
		}
		if err := b.send(ctx, Reply{ChatID: b.topicChat(c), ThreadID: c.TopicID, Text: note}); err != nil {
			b.log.Warn("topic_note_failed", "case", c.ID, "err", err)
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
	b.shown(ctx, c, rp.Lang(), s.T("help.closed", "Case", c.ID))
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
	first := c.Rating == ""
	if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool { c.Rating = value; return true }); err != nil && !errors.Is(err, errGiveUp) {
		return err
	}
	if first && c.TopicID != 0 && !c.Purged {
		// The team sees the rating in the topic (once).
		if err := b.send(ctx, Reply{ChatID: b.topicChat(c), ThreadID: c.TopicID, Text: b.staff().T("case.feedback." + value)}); err != nil {
			b.log.Warn("topic_note_failed", "case", c.ID, "err", err)
		}
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

// forgetCases deletes the resident's cases and everything they left in
// every partner group they went through (topics, cards, copies, notes).
func (b *Bot) forgetCases(ctx context.Context, userID int64) error {
	if !b.handoffOn() {
		return nil
	}
	cases, err := b.cases.CasesOf(ctx, userID)
	if err != nil {
		return fmt.Errorf("load cases: %w", err)
	}
	for _, c := range cases {
		if err := b.purgeArtefacts(ctx, c); err != nil {
			// Deletion is best effort on Telegram's side; the store's side
			// goes below whatever happens.
			b.log.Warn("forget_artefacts_failed", "case", c.ID, "err", err)
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

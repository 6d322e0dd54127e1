package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// Groups is what the hand-off needs from the transport besides sending:
// forum topics, pins, deletions and membership checks.
type Groups interface {
	CreateForumTopic(ctx context.Context, chatID int64, name string) (threadID int, err error)
	// DeleteForumTopic and DeleteMessage wrap ErrRejected when Telegram
	// refuses for good (already gone, too old, no right).
	DeleteForumTopic(ctx context.Context, chatID int64, threadID int) error
	DeleteMessage(ctx context.Context, chatID int64, messageID int) error
	PinMessage(ctx context.Context, chatID int64, messageID int) error
	// Member returns the user's standing in the chat.
	Member(ctx context.Context, chatID, userID int64) (Membership, error)
}

// StaffLanguage is the language of everything posted in partner groups:
// associations work in French.
const StaffLanguage = "fr"

// Retention of closed cases (DESIGN.md, Privacy).
const (
	DefaultTopicRetention   = 30 * 24 * time.Hour
	DefaultMappingRetention = 90 * 24 * time.Hour
)

// caseTimerID is the schedule entry of a case's timers (SLA, nudge,
// retention): one entry per case, scored by its next timer.
func caseTimerID(id int64) string { return "c:" + strconv.FormatInt(id, 10) }

func (b *Bot) staff() *catalog.Printer { return b.cat.Printer(StaffLanguage) }

// partnerByChat returns the partner one of whose groups (volunteers' or
// referents') is chatID.
func (b *Bot) partnerByChat(chatID int64) *handoff.Partner {
	if b.partners == nil {
		return nil
	}
	for _, p := range b.partners.All() {
		if p.ChatID == chatID || p.ReferentsChatID != 0 && p.ReferentsChatID == chatID {
			return p
		}
	}
	return nil
}

// topicChat returns the group of c's topic: recorded with the topic, or
// (records from before) the group its partner keeps its kind of case in.
func (b *Bot) topicChat(c handoff.Case) int64 {
	if c.TopicChat != 0 {
		return c.TopicChat
	}
	if p := b.partner(c.PartnerID); p != nil {
		return p.ChatID
	}
	return 0
}

// SetPartnerUnavailable marks a partner whose group is misconfigured: it
// gets no case until the process restarts with a fixed group.
func (b *Bot) SetPartnerUnavailable(id string) {
	b.unavailableMu.Lock()
	defer b.unavailableMu.Unlock()
	if b.unavailableIDs == nil {
		b.unavailableIDs = map[string]bool{}
	}
	b.unavailableIDs[id] = true
}

// SetReferentsUnavailable marks a partner whose referents' group is
// misconfigured: it gets no sensitive case until the process restarts.
func (b *Bot) SetReferentsUnavailable(id string) {
	b.SetPartnerUnavailable("referents:" + id)
}

// unavailable reports whether partner id may not receive a case of
// problem pr now.
func (b *Bot) unavailable(id string, pr handoff.Problem) bool {
	b.unavailableMu.Lock()
	defer b.unavailableMu.Unlock()
	return b.unavailableIDs[id] || pr.Sensitive() && b.unavailableIDs["referents:"+id]
}

// takeButton is the card's Take button.
func (b *Bot) takeButton(c handoff.Case) [][]Button {
	return [][]Button{{{Label: b.staff().T("case.take"), Data: "hc:t:" + strconv.FormatInt(c.ID, 10)}}}
}

// postCard posts the case card in the partner's group, with the Take
// button, and records it.
func (b *Bot) postCard(ctx context.Context, c *handoff.Case, partner *handoff.Partner) error {
	if c.Urgent {
		// The card calls the referents by their names.
		for _, id := range partner.Referents {
			if _, _, err := b.member(ctx, partner.ChatID, id); err != nil {
				b.log.Warn("referent_name_unknown", "case", c.ID, "user_id", id, "err", err)
			}
		}
	}
	id, err := b.sender.Send(ctx, Reply{ChatID: partner.ChatID, Text: b.cardText(b.staff(), *c, partner), Buttons: b.takeButton(*c)})
	if err != nil {
		return fmt.Errorf("post case card: %w", err)
	}
	if err := b.record(ctx, c.ID, handoff.Artefact{Chat: partner.ChatID, Message: id, Kind: handoff.ArtefactCard}); err != nil {
		return err
	}
	return b.updateCase(ctx, c, func(c *handoff.Case) bool {
		c.CardMessageID = id
		return true
	})
}

// cardText is the case card: the summary, the priority, and for urgent
// cases a mention of the referents so that they are notified at once. The
// card of a sensitive case is neutral: every member of the group sees it,
// so it says its number, its priority and that it is for referents, and
// nothing of the problem or of what the resident wrote.
func (b *Bot) cardText(s *catalog.Printer, c handoff.Case, partner *handoff.Partner) string {
	var lines []string
	if c.Sensitive {
		lines = append(lines, "<b>"+s.T("case.title", "Case", c.ID)+"</b>", s.T("case.referents_only"))
		if c.Urgent {
			lines = append(lines, s.T("case.urgent"))
		}
		if limit, ok := safeLimit(c); ok {
			lines = append(lines, s.T("case.deadline_neutral", "Date", frDate(limit)))
		}
	} else {
		lines = append(lines, b.caseSummary(s, c, c.ID))
		if c.Lang != "" && !partner.Speaks(c.Lang) {
			lines = append(lines, s.T("case.no_language_here", "Language", languageName(c.Lang)))
		}
	}
	if c.Urgent && len(partner.Referents) > 0 {
		var refs []string
		for i, id := range partner.Referents {
			label := s.T("case.referent", "N", i+1)
			if name, ok := b.names.Load(id); ok {
				label = html.EscapeString(name.(string)) // the name the group sees
			}
			refs = append(refs, `<a href="tg://user?id=`+strconv.FormatInt(id, 10)+`">`+label+`</a>`)
		}
		lines = append(lines, s.T("case.urgent_call", "Referents", HTML(strings.Join(refs, ", "))))
	}
	if c.Sensitive && len(c.Tried) > 0 {
		// The note may say what the card must not: it goes to the topic.
		lines = append(lines, s.T("case.forwarded_by", "Partner", partnerName(b.partner(c.Tried[len(c.Tried)-1]))))
	} else if h := b.handoverLines(c); len(h) > 0 {
		lines = append(lines, "")
		lines = append(lines, h...)
	}
	return strings.Join(lines, "\n")
}

// cardEnd is the neutral card of a case that left the group (closed,
// forwarded, deleted): its number and what happened, no detail.
func (b *Bot) cardEnd(c handoff.Case, what string) string {
	return "<b>" + b.staff().T("case.title", "Case", c.ID) + "</b>\n" + what
}

// updateCase applies change to a fresh copy of the case until the
// compare-and-set succeeds; change returns false to give up. c is updated.
func (b *Bot) updateCase(ctx context.Context, c *handoff.Case, change func(*handoff.Case) bool) error {
	for range 5 {
		cur := *c
		if !change(&cur) {
			return errGiveUp
		}
		ver, err := b.cases.UpdateCase(ctx, cur)
		if err == nil {
			cur.Version = ver
			*c = cur
			return nil
		}
		if !errors.Is(err, handoff.ErrConflict) {
			return fmt.Errorf("update case: %w", err)
		}
		fresh, err := b.cases.Case(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("reload case: %w", err)
		}
		*c = fresh
	}
	return fmt.Errorf("update case %d: %w", c.ID, handoff.ErrConflict)
}

// errGiveUp: the change no longer applies to the stored case.
var errGiveUp = errors.New("bot: case changed meanwhile")

// group handles every update from a partner group. Each action is
// resolved to what it asks and on which case, then goes through the one
// rule of authorize before anything happens.
func (b *Bot) group(ctx context.Context, r *Request) error {
	u := r.Update
	partner := b.partnerByChat(u.ChatID)
	if partner == nil || u.UserID == 0 {
		return nil
	}
	r.P = b.staff()
	r.Lang = StaffLanguage
	switch u.Kind {
	case KindGroupMember:
		if !memberStatus(u.MemberStatus, u.IsMember) {
			return b.memberLeft(ctx, partner, u.ChatID, u.UserID)
		}
		return nil
	case KindCallback:
		cb, err := ParseCallback(u.Data)
		if err != nil || cb.Prefix != "hc" {
			return nil
		}
		r.Callback = cb
		return b.groupButton(ctx, r, partner)
	case KindCommand:
		return b.groupCommand(ctx, r, partner)
	case KindEdited:
		return b.editedInTopic(ctx, r, partner)
	}
	// Anything else, a reply to a resident's message included, is an
	// internal note: only /r and its preview's button send.
	return nil
}

// groupButton handles buttons in partner groups: hc:t:<case> (take), and
// those of replies (replyButton).
func (b *Bot) groupButton(ctx context.Context, r *Request, partner *handoff.Partner) error {
	code, arg, _ := strings.Cut(r.Callback.Arg, ":")
	switch code {
	case "s", "d", "u":
		return b.replyButton(ctx, r, partner, code, arg)
	case "a", "A", "x", "y", "X", "c", "C", "n", "m":
		return b.caseButton(ctx, r, partner, code, arg)
	case "t":
	default:
		return nil
	}
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return nil
	}
	return b.take(ctx, r, partner, id)
}

// take gives case id to the volunteer who pressed Take, atomically: of two
// volunteers pressing at once, exactly one wins.
func (b *Bot) take(ctx context.Context, r *Request, partner *handoff.Partner, id int64) error {
	u := r.Update
	s := b.staff()
	c, err := b.cases.Case(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	if u.ChatID != partner.ChatID {
		return nil // cards are in the volunteers' group
	}
	ok, refusal, err := b.authorize(ctx, partner, u.ChatID, &c, u.UserID, actTake)
	if err != nil {
		return err
	}
	if !ok {
		if refusal != "" {
			return b.note(ctx, c.ID, u.ChatID, u.ThreadID, 0, refusal)
		}
		return nil
	}
	alias := volunteerAlias(u.FirstName)
	now := b.clock.Now()
	err = b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if c.Status != handoff.StatusWaiting || c.PartnerID != partner.ID {
			return false
		}
		c.Status, c.TakenBy, c.TakenAlias, c.Taken, c.Nudged = handoff.StatusTaken, u.UserID, alias, now, false
		return true
	})
	if errors.Is(err, errGiveUp) {
		b.log.Info("take_lost", "case", id, "user_id", u.UserID)
		if c.Status == handoff.StatusTaken && c.TakenBy != u.UserID && c.TakenAlias != "" {
			// The volunteer who lost the race learns who won it.
			r.Toast(ctx, s.T("case.take_lost", "Alias", c.TakenAlias))
		}
		return nil
	}
	if err != nil {
		return err
	}
	b.log.Info("case_taken", "case", id, "partner", partner.ID, "user_id", u.UserID)
	b.audit(ctx, id, u.UserID, "taken", alias)
	if c.CardMessageID != 0 {
		if err := b.send(ctx, Reply{ChatID: partner.ChatID, EditMessageID: c.CardMessageID, Text: b.cardText(s, c, partner) + "\n\n" + s.T("case.taken_by", "Alias", alias)}); err != nil {
			b.log.Warn("card_edit_failed", "case", id, "err", err)
		}
	}
	if err := b.openTopic(ctx, &c, partner); err != nil {
		return err
	}
	if err := b.scheduleCase(ctx, c); err != nil {
		return err
	}
	rp := b.residentPrinter(ctx, c)
	// The topic's note first: the resident may answer at once, and their
	// message's copy then comes after it.
	b.shown(ctx, c, rp.Lang(), s.T("help.taken", "Case", c.ID, "Partner", partner.Name))
	return b.residentReply(ctx, c.ResidentChat, rp, rp.T("help.taken", "Case", c.ID, "Partner", partner.Name))
}

// volunteerAlias is the first name a volunteer signs with, trimmed.
func volunteerAlias(name string) string {
	name = cleanLabel(name)
	if r := []rune(name); len(r) > 32 {
		name = string(r[:32])
	}
	if name == "" {
		return "Bénévole"
	}
	return name
}

// openTopic creates the case's forum topic (once) in the partner's group
// for its kind of case (the referents' group for a sensitive case), posts
// and pins its summary, records both, and queues what the resident sent
// before.
func (b *Bot) openTopic(ctx context.Context, c *handoff.Case, partner *handoff.Partner) error {
	if c.TopicID != 0 || b.groups == nil {
		return nil
	}
	room := partner.Room(c.Sensitive)
	if room == 0 {
		return fmt.Errorf("open topic of case %d: partner %s has no referents' group", c.ID, partner.ID)
	}
	s := b.staff()
	name := s.T("case.topic", "Case", c.ID, "Departement", orDash(c.Departement), "Problem", HTML(staffProblem(s, c.Problem)))
	thread, err := b.groups.CreateForumTopic(ctx, room, name)
	if err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	if err := b.record(ctx, c.ID, handoff.Artefact{Chat: room, Thread: thread, Kind: handoff.ArtefactTopic}); err != nil {
		return err
	}
	if err := b.cases.SetTopic(ctx, room, thread, c.ID); err != nil {
		return fmt.Errorf("map topic: %w", err)
	}
	msg, err := b.sender.Send(ctx, Reply{ChatID: room, ThreadID: thread, Text: b.summaryText(s, *c)})
	if err != nil {
		return fmt.Errorf("post summary: %w", err)
	}
	if err := b.record(ctx, c.ID, handoff.Artefact{Chat: room, Thread: thread, Message: msg, Kind: handoff.ArtefactSummary}); err != nil {
		return err
	}
	if err := b.groups.PinMessage(ctx, room, msg); err != nil {
		b.log.Warn("pin_failed", "case", c.ID, "err", err)
	}
	var pending []int
	if err := b.updateCase(ctx, c, func(c *handoff.Case) bool {
		pending = c.Pending
		c.TopicChat, c.TopicID, c.SummaryMessageID, c.Pending = room, thread, msg, nil
		return true
	}); err != nil {
		return err
	}
	for _, m := range pending {
		if err := b.enqueueCopy(ctx, *c, m); err != nil {
			return err
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// summaryText is the pinned summary of a topic: the case, the steps done
// and the next action (edited with /summary), and how to answer.
func (b *Bot) summaryText(s *catalog.Printer, c handoff.Case) string {
	lines := []string{b.caseSummary(s, c, c.ID)}
	if h := b.handoverLines(c); len(h) > 0 && len(c.Handovers) > 0 {
		lines = append(lines, "")
		lines = append(lines, h[:3]...) // the steps follow below
	}
	if c.TakenAlias != "" {
		lines = append(lines, s.T("case.taken_by", "Alias", c.TakenAlias))
	}
	steps := c.Steps
	if steps == "" {
		steps = s.T("case.steps.none")
	}
	lines = append(lines, "", s.T("case.steps", "Steps", steps), "", s.T("case.howto"))
	return strings.Join(lines, "\n")
}

// residentPrinter prints in the resident's chosen language.
func (b *Bot) residentPrinter(ctx context.Context, c handoff.Case) *catalog.Printer {
	lang := c.Lang
	if prof, err := b.store.Profile(ctx, c.ResidentID); err == nil && b.cat.Has(prof.Lang) {
		lang = prof.Lang
	}
	if !b.cat.Has(lang) {
		lang = catalog.Reference
	}
	return b.cat.Printer(lang)
}

// memberLeft puts back in the queue, at once, the cases held by someone who
// left one of the partner's groups, was banned from it, or is restricted
// and no longer in it: the cases whose topic lives in that group (the
// referents' group for sensitive cases). Nobody outside a group may keep
// its cases.
func (b *Bot) memberLeft(ctx context.Context, partner *handoff.Partner, chat, userID int64) error {
	open, err := b.cases.OpenCases(ctx, partner.ID)
	if err != nil {
		return fmt.Errorf("open cases: %w", err)
	}
	s := b.staff()
	for _, c := range open {
		if c.Status != handoff.StatusTaken || c.TakenBy != userID {
			continue
		}
		if b.topicChat(c) != chat {
			continue
		}
		alias := c.TakenAlias
		if err := b.release(ctx, c, partner, 0); err != nil {
			return err
		}
		b.log.Info("case_released_member_left", "case", c.ID, "user_id", userID)
		if err := b.note(ctx, c.ID, partner.ChatID, 0, 0, s.T("case.member_left", "Alias", alias, "Case", c.ID)); err != nil {
			b.log.Warn("group_note_failed", "case", c.ID, "err", err)
		}
	}
	return nil
}

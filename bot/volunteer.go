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

// Groups is what the hand-off needs from the transport besides sending:
// forum topics, pins and membership checks.
type Groups interface {
	CreateForumTopic(ctx context.Context, chatID int64, name string) (threadID int, err error)
	DeleteForumTopic(ctx context.Context, chatID int64, threadID int) error
	PinMessage(ctx context.Context, chatID int64, messageID int) error
	// MemberStatus returns the user's status in the chat: creator,
	// administrator, member, restricted, left or kicked.
	MemberStatus(ctx context.Context, chatID, userID int64) (string, error)
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

// partnerByChat returns the partner whose volunteers' group is chatID.
func (b *Bot) partnerByChat(chatID int64) *handoff.Partner {
	if b.partners == nil {
		return nil
	}
	for _, p := range b.partners.All() {
		if p.ChatID == chatID {
			return p
		}
	}
	return nil
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

func (b *Bot) unavailable(id string) bool {
	b.unavailableMu.Lock()
	defer b.unavailableMu.Unlock()
	return b.unavailableIDs[id]
}

// postCard posts the case card in the partner's group, with the Take
// button, and records its message id.
func (b *Bot) postCard(ctx context.Context, c *handoff.Case, partner *handoff.Partner) error {
	s := b.staff()
	text := b.cardText(s, *c, partner)
	id, err := b.sender.Send(ctx, Reply{ChatID: partner.ChatID, Text: text, Buttons: [][]Button{{{Label: s.T("case.take"), Data: "hc:t:" + strconv.FormatInt(c.ID, 10)}}}})
	if err != nil {
		return fmt.Errorf("post case card: %w", err)
	}
	return b.updateCase(ctx, c, func(c *handoff.Case) bool {
		c.CardMessageID = id
		return true
	})
}

// cardText is the case card: the summary, the priority, and for urgent
// cases a mention of the referents so that they are notified at once.
func (b *Bot) cardText(s *catalog.Printer, c handoff.Case, partner *handoff.Partner) string {
	lines := []string{b.caseSummary(s, c, c.ID)}
	if c.Sensitive {
		lines = append(lines, s.T("case.referents_only"))
	}
	if c.Urgent && len(partner.Referents) > 0 {
		var refs []string
		for i, id := range partner.Referents {
			refs = append(refs, `<a href="tg://user?id=`+strconv.FormatInt(id, 10)+`">`+s.T("case.referent", "N", i+1)+`</a>`)
		}
		lines = append(lines, s.T("case.urgent_call", "Referents", HTML(strings.Join(refs, ", "))))
	}
	if len(c.Tried) > 0 {
		lines = append(lines, s.T("case.forwarded_from"))
	}
	return strings.Join(lines, "\n")
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

// group handles every update from a partner group.
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
		if u.MemberStatus == "left" || u.MemberStatus == "kicked" {
			return b.memberLeft(ctx, partner, u.UserID)
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
	case KindText, KindPhoto, KindDocument, KindVoice:
		if u.ReplyToMessageID != 0 && u.ThreadID != 0 {
			return b.relayReply(ctx, r, partner)
		}
	}
	return nil
}

// isMember checks server-side that the user belongs to the partner's group.
func (b *Bot) isMember(ctx context.Context, partner *handoff.Partner, userID int64) (bool, error) {
	if b.groups == nil {
		return false, nil
	}
	st, err := b.groups.MemberStatus(ctx, partner.ChatID, userID)
	if err != nil {
		return false, fmt.Errorf("member status: %w", err)
	}
	switch st {
	case "creator", "administrator", "member", "restricted":
		return true, nil
	}
	return false, nil
}

// groupButton handles buttons in partner groups: hc:t:<case> (take).
func (b *Bot) groupButton(ctx context.Context, r *Request, partner *handoff.Partner) error {
	code, arg, _ := strings.Cut(r.Callback.Arg, ":")
	if code != "t" {
		return nil
	}
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return nil
	}
	return b.take(ctx, r, partner, id, r.Update.UserID, r.Update.FirstName)
}

// take gives case id to volunteer userID, atomically: of two volunteers
// pressing at once, exactly one wins.
func (b *Bot) take(ctx context.Context, r *Request, partner *handoff.Partner, id, userID int64, name string) error {
	s := b.staff()
	c, err := b.cases.Case(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	if c.PartnerID != partner.ID {
		return nil // a card of another partner, or forged data
	}
	ok, err := b.isMember(ctx, partner, userID)
	if err != nil {
		return err
	}
	if !ok {
		b.log.Warn("take_refused_not_member", "case", id, "user_id", userID)
		return nil
	}
	if c.Sensitive && !slices.Contains(partner.Referents, userID) {
		b.log.Info("take_refused_not_referent", "case", id, "user_id", userID)
		return b.send(ctx, Reply{ChatID: partner.ChatID, ThreadID: r.Update.ThreadID, Text: s.T("case.referents_only_refused", "Case", id)})
	}
	alias := volunteerAlias(name)
	now := b.clock.Now()
	err = b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		if c.Status != handoff.StatusWaiting || c.PartnerID != partner.ID {
			return false
		}
		c.Status, c.TakenBy, c.TakenAlias, c.Taken, c.Nudged = handoff.StatusTaken, userID, alias, now, false
		return true
	})
	if errors.Is(err, errGiveUp) {
		b.log.Info("take_lost", "case", id, "user_id", userID)
		return nil
	}
	if err != nil {
		return err
	}
	b.log.Info("case_taken", "case", id, "partner", partner.ID, "user_id", userID)
	b.audit(ctx, id, userID, "taken", alias)
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

// openTopic creates the case's forum topic (once), posts and pins its
// summary, and copies in what the resident sent before the claim.
func (b *Bot) openTopic(ctx context.Context, c *handoff.Case, partner *handoff.Partner) error {
	if c.TopicID != 0 {
		return nil
	}
	s := b.staff()
	if b.groups == nil {
		return nil
	}
	name := s.T("case.topic", "Case", c.ID, "Departement", orDash(c.Departement), "Problem", HTML(s.T("help.problem."+string(c.Problem))))
	thread, err := b.groups.CreateForumTopic(ctx, partner.ChatID, name)
	if err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	if err := b.cases.SetTopic(ctx, partner.ChatID, thread, c.ID); err != nil {
		return fmt.Errorf("map topic: %w", err)
	}
	msg, err := b.sender.Send(ctx, Reply{ChatID: partner.ChatID, ThreadID: thread, Text: b.summaryText(s, *c)})
	if err != nil {
		return fmt.Errorf("post summary: %w", err)
	}
	if err := b.groups.PinMessage(ctx, partner.ChatID, msg); err != nil {
		b.log.Warn("pin_failed", "case", c.ID, "err", err)
	}
	var pending []int
	if err := b.updateCase(ctx, c, func(c *handoff.Case) bool {
		pending = c.Pending
		c.TopicID, c.SummaryMessageID, c.Pending = thread, msg, nil
		return true
	}); err != nil {
		return err
	}
	for _, m := range pending {
		if err := b.copyOne(ctx, *c, partner, m); err != nil {
			b.log.Warn("pending_relay_failed", "case", c.ID, "err", err)
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

// memberLeft puts back in the queue the cases of a volunteer who left the
// partner's group: nobody outside the group may keep them.
func (b *Bot) memberLeft(ctx context.Context, partner *handoff.Partner, userID int64) error {
	open, err := b.cases.OpenCases(ctx, partner.ID)
	if err != nil {
		return fmt.Errorf("open cases: %w", err)
	}
	s := b.staff()
	for _, c := range open {
		if c.Status != handoff.StatusTaken || c.TakenBy != userID {
			continue
		}
		alias := c.TakenAlias
		if err := b.release(ctx, c, partner, 0); err != nil {
			return err
		}
		b.log.Info("case_released_member_left", "case", c.ID, "user_id", userID)
		if err := b.send(ctx, Reply{ChatID: partner.ChatID, Text: s.T("case.member_left", "Alias", alias, "Case", c.ID)}); err != nil {
			b.log.Warn("group_note_failed", "case", c.ID, "err", err)
		}
	}
	return nil
}

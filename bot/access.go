package bot

import (
	"context"
	"fmt"
	"slices"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// Membership is a user's standing in a group, as the transport reports it
// (Telegram's getChatMember).
type Membership struct {
	Status   string // creator, administrator, member, restricted, left or kicked
	IsMember bool   // for "restricted": whether the user is still in the group
	IsBot    bool
	// FirstName is the user's first name, which the group sees: the bot
	// offers colleagues by it (/assign). Never a resident's.
	FirstName string
}

// Member reports whether m counts as a member of a partner group: a
// person (never a bot) who is in the group now. A restricted user counts
// only while still in the group: Telegram keeps the "restricted" status
// of someone who left.
func (m Membership) Member() bool {
	if m.IsBot {
		return false
	}
	return memberStatus(m.Status, m.IsMember)
}

// memberStatus is the rule of Member for a status alone, as a chat_member
// update reports it.
func memberStatus(status string, isMember bool) bool {
	switch status {
	case "creator", "administrator", "member":
		return true
	case "restricted":
		return isMember
	}
	return false
}

// action is what someone asks of the bot in a partner group.
type action int

// The actions. Every one goes through authorize.
const (
	actTake       action = iota + 1 // take a waiting case (the card's button)
	actReply                        // send to the resident: /r, its preview's buttons
	actSummary                      // edit the pinned summary (/summary)
	actClose                        // /close
	actRelease                      // /release
	actTransfer                     // /transfer
	actAssign                       // /assign
	actCoordinate                   // /stats, /export, /pause, /resume, /link
	actQueue                        // /file, /mes, /dossier: any member
)

// member checks server-side that userID is a member of group chat (see
// Membership.Member). Without a transport for groups nobody is.
func (b *Bot) member(ctx context.Context, chat, userID int64) (Membership, bool, error) {
	if b.groups == nil || chat == 0 {
		return Membership{}, false, nil
	}
	m, err := b.groups.Member(ctx, chat, userID)
	if err != nil {
		return Membership{}, false, fmt.Errorf("member status: %w", err)
	}
	if m.FirstName != "" && m.Member() {
		b.names.Store(userID, volunteerAlias(m.FirstName))
	}
	return m, m.Member(), nil
}

// authorize is the one rule for every action in a partner group: who may
// do a on case c (nil for actions on no case) when asking in group chat.
//
//   - Only members of the group where they ask (Membership.Member: people
//     in the group now, never bots) are heard; anyone else is ignored
//     silently, as is a case of another partner.
//   - Coordinating (numbers, pause, referral link) is for coordinators and
//     referents; assigning is for referents.
//   - A sensitive case is for the partner's referents and for whoever holds
//     it (a referent, or the colleague a referent assigned it to) and
//     nobody else: taking it needs a referent who is also in the
//     referents' group, where its topic lives.
//   - Any other case may be taken and summarised by any member; writing
//     to the resident (/r and its preview's buttons), closing, releasing
//     and transferring it are for whoever holds it and the referents.
//
// It returns ok, or the refusal to post in the group (French, with no
// detail of the case; "" to stay silent). Nothing is changed.
func (b *Bot) authorize(ctx context.Context, partner *handoff.Partner, chat int64, c *handoff.Case, userID int64, a action) (ok bool, refusal string, err error) {
	if _, in, err := b.member(ctx, chat, userID); err != nil || !in {
		if err == nil {
			b.log.Info("group_action_refused_not_member", "chat_id", chat, "user_id", userID)
		}
		return false, "", err
	}
	s := b.staff()
	referent := partner.IsReferent(userID)
	switch a {
	case actCoordinate:
		if referent || partner.IsCoordinator(userID) {
			return true, "", nil
		}
		return false, s.T("case.coordinators_only"), nil
	case actAssign:
		if !referent {
			return false, s.T("case.referents_only_assign"), nil
		}
	}
	if c == nil {
		return true, "", nil
	}
	if c.PartnerID != partner.ID {
		if a == actReply && slices.Contains(c.Tried, partner.ID) {
			return false, s.T("case.not_sent_closed"), nil // forwarded since
		}
		return false, "", nil // a card of another partner, or forged data
	}
	holder := c.TakenBy != 0 && c.TakenBy == userID
	if c.Sensitive {
		switch {
		case a == actTake && partner.ReferentsChatID == 0:
			return false, s.T("case.no_referents_room", "Case", c.ID), nil
		case a == actTake && !referent:
			return false, s.T("case.referents_only_refused", "Case", c.ID), nil
		case a == actTake:
			// The topic opens in the referents' group: the taker must see it.
			if _, in, err := b.member(ctx, partner.ReferentsChatID, userID); err != nil || !in {
				return false, s.T("case.referents_only_refused", "Case", c.ID), err
			}
			return true, "", nil
		case referent || holder:
			return true, "", nil
		}
		b.log.Info("group_action_refused_sensitive", "case", c.ID, "user_id", userID, "action", int(a))
		return false, s.T("case.referents_only_action", "Case", c.ID), nil
	}
	switch a {
	case actReply, actClose, actRelease, actTransfer:
		if !holder && !referent {
			return false, s.T("case.owner_only"), nil
		}
	}
	return true, "", nil
}

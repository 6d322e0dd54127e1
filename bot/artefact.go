package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// Every message and topic the bot leaves in a partner group for a case is
// an artefact, recorded with the case (handoff.Store.AddArtefact) in
// whichever group it is: the card, the topic and its pinned summary, each
// copy of a resident's message, every note outside the topic. The three
// paths that must make a case disappear use that one record: closing
// (closeCards: every card of the case in every group it went through
// becomes a neutral "closed"), retention and /forget (purgeArtefacts:
// every topic and message deleted).

// record adds an artefact to the case's record.
func (b *Bot) record(ctx context.Context, caseID int64, a handoff.Artefact) error {
	if err := b.cases.AddArtefact(ctx, caseID, a); err != nil {
		return fmt.Errorf("record %s: %w", a.Kind, err)
	}
	return nil
}

// note posts a bot note about case c in a partner group and, outside a
// topic (a topic goes with everything in it), records it. A note replies to
// replyTo when it is not 0.
func (b *Bot) note(ctx context.Context, caseID int64, chat int64, thread, replyTo int, text string) error {
	id, err := b.sender.Send(ctx, Reply{ChatID: chat, ThreadID: thread, ReplyToMessageID: replyTo, Text: text})
	if err != nil {
		return fmt.Errorf("send note: %w", err)
	}
	if thread == 0 && caseID != 0 {
		return b.record(ctx, caseID, handoff.Artefact{Chat: chat, Message: id, Kind: handoff.ArtefactNote})
	}
	return nil
}

// artefacts returns every artefact of c: the record, and the card and
// topic its fields name (cases created before the record existed).
func (b *Bot) artefacts(ctx context.Context, c handoff.Case) ([]handoff.Artefact, error) {
	all, err := b.cases.Artefacts(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("load artefacts: %w", err)
	}
	add := func(a handoff.Artefact) {
		if a.Chat != 0 && !slices.Contains(all, a) {
			all = append(all, a)
		}
	}
	if p := b.partner(c.PartnerID); p != nil && c.CardMessageID != 0 {
		add(handoff.Artefact{Chat: p.ChatID, Message: c.CardMessageID, Kind: handoff.ArtefactCard})
	}
	if c.TopicID != 0 {
		add(handoff.Artefact{Chat: b.topicChat(c), Thread: c.TopicID, Kind: handoff.ArtefactTopic})
	}
	slices.SortFunc(all, handoff.CompareArtefacts)
	return all, nil
}

// closeCards turns every card of c, in every group it went through, into
// the neutral card of a closed case: its number and "closed", no detail.
func (b *Bot) closeCards(ctx context.Context, c handoff.Case) error {
	all, err := b.artefacts(ctx, c)
	if err != nil {
		return err
	}
	what := b.staff().T("case.card_closed")
	if c.CloseReason != "" {
		what = b.staff().T("case.closed_why", "Reason", b.staff().T("case.close_reason."+c.CloseReason))
	}
	text := b.cardEnd(c, what)
	for _, a := range all {
		if a.Kind != handoff.ArtefactCard {
			continue
		}
		if err := b.send(ctx, Reply{ChatID: a.Chat, EditMessageID: a.Message, Text: text}); err != nil {
			b.log.Warn("card_edit_failed", "case", c.ID, "chat_id", a.Chat, "err", err)
		}
	}
	return nil
}

// purgeArtefacts deletes every artefact of c from the partner groups:
// each topic (with everything in it), then each message left outside one.
// A message Telegram will not delete any more is edited to a neutral text
// when it can be; either way it leaves the record. Artefacts whose deletion
// failed for a reason worth retrying stay recorded and make the error.
func (b *Bot) purgeArtefacts(ctx context.Context, c handoff.Case) error {
	all, err := b.artefacts(ctx, c)
	if err != nil {
		return err
	}
	if b.groups == nil {
		return nil
	}
	type thread struct {
		chat int64
		id   int
	}
	deleted := map[thread]bool{}
	var gone []handoff.Artefact
	var errs []error
	for _, a := range all {
		if a.Kind != handoff.ArtefactTopic {
			continue
		}
		err := b.groups.DeleteForumTopic(ctx, a.Chat, a.Thread)
		switch {
		case err == nil, errors.Is(err, ErrRejected): // deleted, or gone already
			if err != nil {
				b.log.Warn("artefact_delete_rejected", "case", c.ID, "chat_id", a.Chat, "kind", string(a.Kind), "err", err)
			}
			deleted[thread{a.Chat, a.Thread}] = true
			gone = append(gone, a)
		default:
			errs = append(errs, fmt.Errorf("delete topic: %w", err))
		}
	}
	neutral := b.cardEnd(c, b.staff().T("case.card_deleted"))
	for _, a := range all {
		if a.Kind == handoff.ArtefactTopic {
			continue
		}
		if a.Thread != 0 && deleted[thread{a.Chat, a.Thread}] || a.Message == 0 {
			gone = append(gone, a)
			continue
		}
		err := b.groups.DeleteMessage(ctx, a.Chat, a.Message)
		switch {
		case err == nil:
			gone = append(gone, a)
		case errors.Is(err, ErrRejected):
			// Too old, already gone, or no right: a card or a note becomes
			// neutral.
			b.log.Warn("artefact_delete_rejected", "case", c.ID, "chat_id", a.Chat, "kind", string(a.Kind), "err", err)
			if a.Kind == handoff.ArtefactCard || a.Kind == handoff.ArtefactNote {
				if err := b.send(ctx, Reply{ChatID: a.Chat, EditMessageID: a.Message, Text: neutral}); err != nil {
					b.log.Warn("artefact_neutral_edit_failed", "case", c.ID, "chat_id", a.Chat, "err", err)
				}
			}
			gone = append(gone, a)
		default:
			errs = append(errs, fmt.Errorf("delete message: %w", err))
		}
	}
	if len(gone) > 0 {
		if err := b.cases.RemoveArtefacts(ctx, c.ID, gone); err != nil {
			errs = append(errs, fmt.Errorf("forget artefacts: %w", err))
		}
	}
	b.log.Info("case_artefacts_deleted", "case", c.ID, "deleted", len(gone), "left", len(all)-len(gone))
	return errors.Join(errs...)
}

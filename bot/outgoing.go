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

// In a case topic everything is an internal note unless it is sent on
// purpose: /r <text> by whoever holds the case posts a preview of exactly
// what the resident will receive and in which language, with a button to
// send it; a sent reply can be withdrawn for UndoWindow ("↩️ Annuler"
// deletes it on the resident's side); an edit of the /r message changes
// nothing on the resident's side and says so. Every message the resident
// receives shows in the topic as a bot note.

// UndoWindow is how long a volunteer may withdraw a reply the resident
// received.
const UndoWindow = 5 * time.Minute

// draftTTL is how long an unsent draft waits for its author's go.
const draftTTL = 24 * time.Hour

// frenchLanguage names a resident's language as the team writes it.
var frenchLanguage = map[string]string{
	"fr": "français", "en": "anglais", "ar": "arabe", "fa": "persan (dari ou farsi)", "ps": "pachto",
	"ti": "tigrigna", "uk": "ukrainien", "ru": "russe", "es": "espagnol", "pt": "portugais", "tr": "turc",
	"zh-Hans": "chinois (simplifié)", "bn": "bengali", "ur": "ourdou",
}

// languageName is the French name of language tag lang.
func languageName(lang string) string {
	if n, ok := frenchLanguage[lang]; ok {
		return n
	}
	return lang
}

// signed is what the resident receives for a volunteer's reply: the
// signature in their language, then body (HTML, see draftBody).
func (b *Bot) signed(rp *catalog.Printer, partner *handoff.Partner, alias, body string) string {
	return rp.T("relay.from", "Alias", alias, "Partner", partner.Name) + "\n" + body
}

// quoted frames what the resident receives (or will) in the topic.
func quoted(text string) string { return "<blockquote>" + text + "</blockquote>" }

// draftReply posts the preview of a /r reply in the topic, with the
// buttons to send it or drop it. Nothing reaches the resident yet.
func (b *Bot) draftReply(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case, text string) error {
	u := r.Update
	text = strings.TrimSpace(cleanText(text))
	if text == "" && u.ReplyToMessageID != 0 && u.ReplyToMessageID != u.ThreadID && u.ReplyToUserID == u.UserID && !u.ReplyToIsBot {
		// /r in reply to one's own message (a photo, a document…): it
		// goes to the resident as it is.
		return b.newDraft(ctx, r, partner, c, handoff.Draft{CopyOf: u.ReplyToMessageID}, false)
	}
	if text == "" {
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: b.staff().T("case.r_usage")})
	}
	return b.newDraft(ctx, r, partner, c, handoff.Draft{Text: text}, false)
}

// newDraft records draft d of the asker and posts its preview: exactly
// what the resident will receive, in their language, and for a template
// its French version (edit: in the message of the pressed button).
func (b *Bot) newDraft(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case, d handoff.Draft, edit bool) error {
	u := r.Update
	s := b.staff()
	if !c.Open() || c.PartnerID != partner.ID || c.TopicID != u.ThreadID || b.topicChat(c) != u.ChatID {
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: s.T("case.not_sent_closed")})
	}
	rp := b.residentPrinter(ctx, c)
	if d.Template == "" && rp.Lang() != StaffLanguage {
		d.Translated = b.translate(ctx, c.ID, d.Text, StaffLanguage, rp.Lang())
	}
	now := b.clock.Now()
	d.By, d.Alias, d.At = u.UserID, volunteerAlias(u.FirstName), now
	err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		c.DraftSeq++
		d.N = c.DraftSeq
		c.Drafts = slices.DeleteFunc(slices.Clone(c.Drafts), func(d handoff.Draft) bool { return now.Sub(d.At) > draftTTL })
		c.Drafts = append(c.Drafts, d)
		return true
	})
	if err != nil {
		return err
	}
	if err := b.scheduleCase(ctx, c); err != nil { // the draft is forgotten after a day
		return err
	}
	id := strconv.FormatInt(c.ID, 10) + ":" + strconv.Itoa(d.N)
	preview := s.T("case.preview", "Language", languageName(rp.Lang())) + "\n" + quoted(b.signed(rp, partner, d.Alias, b.draftBody(rp, d)))
	if (d.Template != "" || d.Translated != "") && rp.Lang() != StaffLanguage {
		preview += "\n" + s.T("case.preview_french") + "\n" + quoted(b.draftBody(s, d))
	}
	if b.cfg.Translator != nil && d.Template == "" && d.Translated == "" && rp.Lang() != StaffLanguage {
		preview += "\n" + s.T("case.translation_failed")
	}
	rep := Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, Text: preview,
		Buttons: [][]Button{{{Label: s.T("case.send_button"), Data: "hc:s:" + id}, {Label: s.T("case.drop_button"), Data: "hc:d:" + id}}}}
	if edit {
		rep.EditMessageID = u.MessageID
	} else {
		rep.ReplyToMessageID = u.MessageID
	}
	return b.send(ctx, rep)
}

// replyButton handles the buttons of a draft or of a sent reply:
// hc:s:<case>:<n> sends draft n, hc:d drops it, hc:u withdraws sent reply n.
func (b *Bot) replyButton(ctx context.Context, r *Request, partner *handoff.Partner, code, arg string) error {
	u := r.Update
	caseText, nText, _ := strings.Cut(arg, ":")
	id, err1 := strconv.ParseInt(caseText, 10, 64)
	n, err2 := strconv.Atoi(nText)
	if err1 != nil || err2 != nil {
		return nil
	}
	c, err := b.cases.Case(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	ok, refusal, err := b.authorize(ctx, partner, u.ChatID, &c, u.UserID, actReply)
	if err != nil || !ok {
		return b.refuse(ctx, r, c.ID, refusal, err)
	}
	switch code {
	case "s", "d":
		i := slices.IndexFunc(c.Drafts, func(d handoff.Draft) bool { return d.N == n })
		if i < 0 {
			return nil // sent or dropped already
		}
		d := c.Drafts[i]
		if d.By != u.UserID && !(code == "d" && partner.IsReferent(u.UserID)) {
			return b.note(ctx, c.ID, u.ChatID, u.ThreadID, u.MessageID, b.staff().T("case.draft_author_only", "Alias", d.Alias))
		}
		if code == "d" {
			if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
				c.Drafts = slices.DeleteFunc(slices.Clone(c.Drafts), func(d handoff.Draft) bool { return d.N == n })
				return true
			}); err != nil && !errors.Is(err, errGiveUp) {
				return err
			}
			return b.send(ctx, Reply{ChatID: u.ChatID, EditMessageID: u.MessageID, Text: b.staff().T("case.draft_dropped")})
		}
		return b.sendDraft(ctx, r, partner, c, d)
	case "u":
		return b.withdraw(ctx, r, c, n)
	}
	return nil
}

// sendDraft sends draft d to the resident and turns its preview into the
// note of what they received, with the button to withdraw it.
func (b *Bot) sendDraft(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case, d handoff.Draft) error {
	u := r.Update
	s := b.staff()
	if !c.Open() || c.PartnerID != partner.ID || b.topicChat(c) != u.ChatID {
		return b.send(ctx, Reply{ChatID: u.ChatID, EditMessageID: u.MessageID, Text: s.T("case.not_sent_closed")})
	}
	rp := b.residentPrinter(ctx, c)
	text := b.signed(rp, partner, d.Alias, b.draftBody(rp, d))
	if d.CopyOf != 0 {
		text = rp.T("relay.from", "Alias", d.Alias, "Partner", partner.Name)
	}
	msg, err := b.sender.Send(ctx, laidOut(rp, Reply{ChatID: c.ResidentChat, Text: text, Keyboard: [][]string{{rp.T("help.leave")}}}))
	var copied int
	if err == nil && d.CopyOf != 0 {
		copied, err = b.sender.Send(ctx, Reply{ChatID: c.ResidentChat, CopyFromChatID: u.ChatID, CopyMessageID: d.CopyOf})
	}
	if errors.Is(err, ErrBlocked) {
		if merr := b.markBlocked(ctx, c.ResidentChat, true); merr != nil {
			return merr
		}
		return b.note(ctx, c.ID, u.ChatID, u.ThreadID, u.MessageID, s.T("case.unreachable"))
	}
	if err != nil {
		return fmt.Errorf("relay to resident: %w", err)
	}
	now := b.clock.Now()
	err = b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		c.Drafts = slices.DeleteFunc(slices.Clone(c.Drafts), func(x handoff.Draft) bool { return x.N == d.N })
		c.Sent = slices.DeleteFunc(slices.Clone(c.Sent), func(x handoff.Sent) bool { return now.Sub(x.At) > UndoWindow })
		sent := handoff.Sent{Draft: d, Msg: msg, Copy: copied, Note: u.MessageID}
		sent.At = now
		c.Sent = append(c.Sent, sent)
		c.Activity, c.LastOut = now, now
		return true
	})
	if err != nil {
		return err
	}
	b.audit(ctx, c.ID, u.UserID, "sent", "")
	if err := b.scheduleCase(ctx, c); err != nil {
		return err
	}
	id := strconv.FormatInt(c.ID, 10) + ":" + strconv.Itoa(d.N)
	return b.send(ctx, Reply{ChatID: u.ChatID, EditMessageID: u.MessageID, Text: b.sentNote(rp, partner, d),
		Buttons: [][]Button{{{Label: s.T("case.undo_button", "Minutes", int(UndoWindow/time.Minute)), Data: "hc:u:" + id}}}})
}

// sentNote is the topic's note of a reply the resident received.
func (b *Bot) sentNote(rp *catalog.Printer, partner *handoff.Partner, d handoff.Draft) string {
	return b.staff().T("case.sent_to", "Language", languageName(rp.Lang()), "Alias", d.Alias) + "\n" + quoted(b.signed(rp, partner, d.Alias, b.draftBody(rp, d)))
}

// withdraw deletes sent reply n on the resident's side, within UndoWindow.
func (b *Bot) withdraw(ctx context.Context, r *Request, c handoff.Case, n int) error {
	u := r.Update
	s := b.staff()
	i := slices.IndexFunc(c.Sent, func(x handoff.Sent) bool { return x.N == n })
	if i < 0 {
		// Withdrawn already, or its window passed and it was forgotten.
		return b.note(ctx, c.ID, u.ChatID, u.ThreadID, u.MessageID, s.T("case.undo_too_late"))
	}
	sent := c.Sent[i]
	partner := b.partner(c.PartnerID)
	if partner == nil {
		return nil
	}
	rp := b.residentPrinter(ctx, c)
	note := b.sentNote(rp, partner, sent.Draft)
	now := b.clock.Now()
	late := now.Sub(sent.At) > UndoWindow
	if !late && b.groups != nil {
		for _, m := range []int{sent.Copy, sent.Msg} {
			if m == 0 {
				continue
			}
			err := b.groups.DeleteMessage(ctx, c.ResidentChat, m)
			if errors.Is(err, ErrRejected) {
				late = true // Telegram would not delete it any more
			} else if err != nil {
				return fmt.Errorf("withdraw reply: %w", err)
			}
		}
	}
	if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		c.Sent = slices.DeleteFunc(slices.Clone(c.Sent), func(x handoff.Sent) bool { return x.N == n })
		return true
	}); err != nil && !errors.Is(err, errGiveUp) {
		return err
	}
	if late {
		return b.send(ctx, Reply{ChatID: u.ChatID, EditMessageID: u.MessageID, Text: note + "\n" + s.T("case.undo_too_late")})
	}
	b.audit(ctx, c.ID, u.UserID, "withdrawn", "")
	return b.send(ctx, Reply{ChatID: u.ChatID, EditMessageID: u.MessageID,
		Text: s.T("case.withdrawn", "Alias", volunteerAlias(u.FirstName), "Time", HTML(clockTime(s, now.In(b.cfg.Location)))) + "\n" + quoted(b.signed(rp, partner, sent.Alias, b.draftBody(rp, sent.Draft)))})
}

// editedInTopic answers the edit of a /r message: the resident keeps what
// the preview showed.
func (b *Bot) editedInTopic(ctx context.Context, r *Request, partner *handoff.Partner) error {
	u := r.Update
	if u.ThreadID == 0 || !strings.HasPrefix(strings.TrimSpace(u.Text), "/r") {
		return nil
	}
	c, found, err := b.caseInTopic(ctx, r)
	if err != nil || !found {
		return err
	}
	ok, _, err := b.authorize(ctx, partner, u.ChatID, &c, u.UserID, actReply)
	if err != nil || !ok {
		return err
	}
	return b.note(ctx, c.ID, u.ChatID, u.ThreadID, u.MessageID, b.staff().T("case.edit_not_sent"))
}

// shown posts in the case's topic, as a bot note, an automatic message
// the resident received: its French text and the language it went in.
func (b *Bot) shown(ctx context.Context, c handoff.Case, lang, french string) {
	if c.TopicID == 0 {
		return
	}
	s := b.staff()
	text := s.T("case.received_auto", "Language", languageName(lang))
	if lang != StaffLanguage {
		text += "\n" + s.T("case.preview_french")
	}
	text += "\n" + quoted(french)
	if err := b.send(ctx, Reply{ChatID: b.topicChat(c), ThreadID: c.TopicID, Text: text}); err != nil {
		b.log.Warn("topic_note_failed", "case", c.ID, "err", err)
	}
}

// replyExpiry is when the next draft or sent reply of c is to be
// forgotten (zero: none).
func replyExpiry(c handoff.Case) time.Time {
	var next time.Time
	at := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, d := range c.Drafts {
		at(d.At.Add(draftTTL))
	}
	for _, x := range c.Sent {
		at(x.At.Add(UndoWindow))
	}
	return next
}

// forgetReplies drops the drafts older than a day and the sent replies
// past the undo window, and takes the undo button off their notes.
func (b *Bot) forgetReplies(ctx context.Context, c *handoff.Case) error {
	now := b.clock.Now()
	var gone []handoff.Sent
	err := b.updateCase(ctx, c, func(c *handoff.Case) bool {
		gone = nil
		for _, x := range c.Sent {
			if now.Sub(x.At) > UndoWindow {
				gone = append(gone, x)
			}
		}
		drafts := slices.DeleteFunc(slices.Clone(c.Drafts), func(d handoff.Draft) bool { return now.Sub(d.At) > draftTTL })
		if len(gone) == 0 && len(drafts) == len(c.Drafts) {
			return false
		}
		c.Drafts = drafts
		c.Sent = slices.DeleteFunc(slices.Clone(c.Sent), func(x handoff.Sent) bool { return now.Sub(x.At) > UndoWindow })
		return true
	})
	if err != nil {
		return ignoreGiveUp(err)
	}
	partner := b.partner(c.PartnerID)
	if partner == nil || c.TopicID == 0 {
		return nil
	}
	rp := b.residentPrinter(ctx, *c)
	for _, x := range gone {
		if x.Note == 0 {
			continue
		}
		if err := b.send(ctx, Reply{ChatID: b.topicChat(*c), EditMessageID: x.Note, Text: b.sentNote(rp, partner, x.Draft)}); err != nil {
			b.log.Warn("sent_note_edit_failed", "case", c.ID, "err", err)
		}
	}
	return nil
}

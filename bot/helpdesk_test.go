package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// buttonIn returns the data of the last button starting with prefix posted
// (or edited in) chat, and the message it is on.
func (h *handoffFixture) buttonIn(t *testing.T, chat int64, prefix string) (string, bot.Reply) {
	t.Helper()
	for _, r := range slicesReverse(h.sent.to(chat)) {
		for d := range buttons(r) {
			if strings.HasPrefix(d, prefix) {
				return d, r
			}
		}
	}
	t.Fatalf("no button %s… in chat %d", prefix, chat)
	return "", bot.Reply{}
}

// lastButton is buttonIn without failing.
func (h *handoffFixture) lastButton(chat int64, prefix string) (string, bool) {
	for _, r := range slicesReverse(h.sent.to(chat)) {
		for d := range buttons(r) {
			if strings.HasPrefix(d, prefix) {
				return d, true
			}
		}
	}
	return "", false
}

// closeBy has user close the case of its topic: /close, the reason
// "solved", then the confirmation.
func (h *handoffFixture) closeBy(t *testing.T, chat int64, c handoff.Case, user int64, name string) {
	t.Helper()
	h.handle(t, groupText(chat, c.TopicID, user, name, "/close", 0))
	h.handle(t, pressOn(chat, c.TopicID, user, name, fmt.Sprintf("hc:c:%d:solved", c.ID), 850))
	h.handle(t, pressOn(chat, c.TopicID, user, name, fmt.Sprintf("hc:C:%d:solved", c.ID), 850))
}

// pressOn is a press of a button of message msg in a topic.
func pressOn(chat int64, thread int, user int64, name, data string, msg int) bot.Update {
	u := groupPress(chat, user, name, data)
	u.ThreadID, u.IsTopicMessage, u.MessageID = thread, true, msg
	return u
}

// lastTopicText is the text of the last message posted in a topic (or edited).
func (h *handoffFixture) lastTopicText(t *testing.T, chat int64, thread int) string {
	t.Helper()
	all := h.sent.to(chat)
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].ThreadID == thread || all[i].EditMessageID != 0 {
			return all[i].Text
		}
	}
	return ""
}

// TestInternalByDefaultAndDeliberateSend: replying to a copy sends
// nothing; /r from a member who does not hold the case is refused; /r by
// the holder shows a preview in the resident's language and sends only
// on its button; a sent reply withdrawn within the window is deleted on
// the resident's side, not after; an edit is answered; the topic shows
// what the resident received.
func TestInternalByDefaultAndDeliberateSend(t *testing.T) {
	h := newHandoffFixture(t)
	ctx := context.Background()
	c := h.takenCase(t, residentAr) // Arabic, held by Lina
	s := h.cat.Printer("fr")
	// The resident's "case taken" message shows in the topic.
	if got := h.lastTopicText(t, lyonChat, c.TopicID); !strings.Contains(got, "en arabe") || !strings.Contains(got, "Entraide Rhône") {
		t.Errorf("the topic does not show the 'taken' message the resident got: %q", got)
	}
	h.handle(t, bot.Update{Kind: bot.KindText, UserID: residentAr, LanguageCode: "ar", Text: "هل من جديد؟", MessageID: 502})
	rel := h.relayedID(t, c, 502)
	before := len(h.sent.to(residentAr))

	// A reply to the copy is an internal note.
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "Rémi, c'est mal parti pour ce dossier.", rel))
	// /r from a member who does not hold the case is refused.
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol2, "Marc", "/r Bonjour", 0))
	if got := h.sent.last(t, lyonChat).Text; got != s.T("case.owner_only") {
		t.Errorf("/r by a non-holder: %q; want the refusal", got)
	}
	if n := len(h.sent.to(residentAr)); n != before {
		t.Fatalf("the resident got %d messages from an internal note or a refused /r", n-before)
	}

	// /r by the holder: a preview, in Arabic, nothing sent yet.
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "/r Bonjour, je regarde votre dossier.", 0))
	send, preview := h.buttonIn(t, lyonChat, "hc:s:")
	ar := h.cat.Printer("ar")
	sign := ar.T("relay.from", "Alias", "Lina", "Partner", "Entraide Rhône")
	if !strings.Contains(preview.Text, "en arabe") || !strings.Contains(preview.Text, sign) || !strings.Contains(preview.Text, "je regarde") {
		t.Errorf("preview = %q", preview.Text)
	}
	if n := len(h.sent.to(residentAr)); n != before {
		t.Fatal("/r sent before its confirmation")
	}
	// Someone else's press sends nothing.
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonRef, "Rémi", send, 900))
	if n := len(h.sent.to(residentAr)); n != before {
		t.Fatal("another volunteer sent Lina's draft")
	}
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", send, 900))
	got := h.sent.to(residentAr)
	if len(got) != before+1 || !strings.Contains(got[before].Text, "je regarde") || !strings.Contains(got[before].Text, sign) {
		t.Fatalf("after Send the resident got %+v", got[before:])
	}
	// A second press (double tap) sends nothing more.
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", send, 900))
	if n := len(h.sent.to(residentAr)); n != before+1 {
		t.Fatal("the draft was sent twice")
	}
	undo, note := h.buttonIn(t, lyonChat, "hc:u:")
	if note.EditMessageID != 900 || !strings.Contains(note.Text, "Envoyé à la personne par Lina, en arabe") || !strings.Contains(note.Text, "je regarde") {
		t.Errorf("the topic does not show what the resident received: %+v", note)
	}

	// Withdrawn within the window: deleted on the resident's side.
	cs, _ := h.store.Case(ctx, c.ID)
	if len(cs.Sent) != 1 {
		t.Fatalf("sent replies recorded: %+v", cs.Sent)
	}
	h.clock.Advance(time.Minute)
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", undo, 900))
	if del := h.groups.msgDel[residentAr]; len(del) != 1 || del[0] != cs.Sent[0].Msg {
		t.Fatalf("deleted on the resident's side: %v; want [%d]", del, cs.Sent[0].Msg)
	}
	if last := h.sent.last(t, lyonChat); last.EditMessageID != 900 || !strings.Contains(last.Text, "Retiré par Lina") {
		t.Errorf("after undo: %+v", last)
	}

	// After the window: not deleted, and said so.
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "/r Rendez-vous mardi.", 0))
	send2, _ := h.buttonIn(t, lyonChat, "hc:s:")
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", send2, 901))
	undo2, _ := h.buttonIn(t, lyonChat, "hc:u:")
	h.clock.Advance(bot.UndoWindow + time.Minute)
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", undo2, 901))
	if del := h.groups.msgDel[residentAr]; len(del) != 1 {
		t.Errorf("withdrawn after the window: %v", del)
	}
	if last := h.sent.last(t, lyonChat).Text; !strings.Contains(last, "Trop tard") {
		t.Errorf("late undo: %q", last)
	}

	// Dropping a draft sends nothing.
	n := len(h.sent.to(residentAr))
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "/r brouillon", 0))
	drop, _ := h.buttonIn(t, lyonChat, "hc:d:")
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", drop, 902))
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", strings.Replace(drop, "hc:d:", "hc:s:", 1), 902))
	if len(h.sent.to(residentAr)) != n {
		t.Error("a dropped draft was sent")
	}

	// Editing a /r message: nothing reaches the resident, a note says so.
	h.handle(t, bot.Update{Kind: bot.KindEdited, ChatID: lyonChat, ChatType: bot.ChatSupergroup, UserID: lyonVol, FirstName: "Lina",
		Text: "/r Rendez-vous mercredi.", ThreadID: c.TopicID, IsTopicMessage: true, MessageID: 77})
	if last := h.sent.last(t, lyonChat); last.Text != s.T("case.edit_not_sent") || last.ReplyToMessageID != 77 {
		t.Errorf("after an edit: %+v", last)
	}
	if len(h.sent.to(residentAr)) != n {
		t.Error("an edit reached the resident")
	}

	// Out of hours and closing: the topic shows what the resident got.
	h.clock.Set(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)) // Saturday
	h.handle(t, bot.Update{Kind: bot.KindText, UserID: residentAr, LanguageCode: "ar", Text: "؟", MessageID: 503})
	shown := func(what string) bool {
		for _, r := range h.sent.to(lyonChat) {
			if r.ThreadID == c.TopicID && strings.Contains(r.Text, "Message automatique reçu par la personne, en arabe") && strings.Contains(r.Text, what) {
				return true
			}
		}
		return false
	}
	if !shown("est fermée en ce moment") {
		t.Error("out-of-hours answer not shown in the topic")
	}
	h.closeBy(t, lyonChat, c, lyonVol, "Lina")
	if cl, _ := h.store.Case(ctx, c.ID); cl.Status != handoff.StatusClosed || !shown("est fermée. Cette aide") {
		t.Errorf("closing message not shown in the topic (status %s)", cl.Status)
	}
}

// plain replaces French typography's no-break spaces with spaces.
func plain(s string) string { return strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(s) }

// buttonLabels lists the labels of the buttons of r.
func buttonLabels(r bot.Reply) []string {
	var out []string
	for _, row := range r.Buttons {
		for _, b := range row {
			out = append(out, b.Label)
		}
	}
	return out
}

// TestAssignAndTransferByButtons: /assign offers members only (never a
// bot, nor who holds it) and needs a confirmation; /transfer needs a note,
// offers the partners with what they cover, asks a reason and a
// confirmation (warning outside the partner's area), and the receiving
// card carries the reason, the note and the summary.
func TestAssignAndTransferByButtons(t *testing.T) {
	h := newHandoffFixture(t)
	ctx := context.Background()
	// A resident of the Ain (01): Lyon covers it, Paris does not.
	h.intake(t, residentAr, "ar", "no_api", "01", "")
	h.handle(t, press(residentAr, "ar", "h:y"))
	c := h.caseOf(t, residentAr)
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", fmt.Sprintf("hc:t:%d", c.ID)))
	c = h.caseOf(t, residentAr)
	// Marc holds another case; the coordinator's account is a bot.
	other := h.takenCaseBy(t, residentAr+1, lyonVol2, "Marc")
	_ = other
	h.groups.mu.Lock()
	h.groups.bots[100000003] = true
	h.groups.mu.Unlock()

	// /attribuer (French alias), replying to the bot's own copy: the list.
	h.handle(t, bot.Update{Kind: bot.KindCommand, ChatID: lyonChat, ChatType: bot.ChatSupergroup, UserID: lyonRef, FirstName: "Rémi",
		Command: "attribuer", Text: "/attribuer", ThreadID: c.TopicID, ReplyToMessageID: 9999, ReplyToUserID: 8000000001, ReplyToIsBot: true})
	_, list := h.buttonIn(t, lyonChat, "hc:a:")
	labels := strings.Join(buttonLabels(list), ",")
	if !strings.Contains(labels, "Marc") || !strings.Contains(labels, "Rémi") || strings.Contains(labels, "Coralie") || strings.Contains(labels, "Lina") {
		t.Errorf("/assign offers %q; want Rémi and Marc, not the bot (Coralie) nor the holder (Lina)", labels)
	}
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonRef, "Rémi", fmt.Sprintf("hc:a:%d:%d", c.ID, lyonVol2), 810))
	if last := h.sent.last(t, lyonChat); last.EditMessageID != 810 || !strings.Contains(last.Text, "Attribuer le dossier") || !strings.Contains(last.Text, "Marc") {
		t.Errorf("no confirmation: %+v", last)
	}
	if got, _ := h.store.Case(ctx, c.ID); got.TakenBy != lyonVol {
		t.Fatal("assigned before the confirmation")
	}
	// A forged confirmation for the bot account changes nothing.
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonRef, "Rémi", fmt.Sprintf("hc:A:%d:%d", c.ID, 100000003), 810))
	if got, _ := h.store.Case(ctx, c.ID); got.TakenBy != lyonVol {
		t.Fatalf("assigned to a bot: %+v", got)
	}
	// A volunteer who is not a referent cannot confirm.
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", fmt.Sprintf("hc:A:%d:%d", c.ID, lyonVol2), 810))
	if got, _ := h.store.Case(ctx, c.ID); got.TakenBy != lyonVol {
		t.Fatalf("a non-referent assigned the case: %+v", got)
	}
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonRef, "Rémi", fmt.Sprintf("hc:A:%d:%d", c.ID, lyonVol2), 810))
	if got, _ := h.store.Case(ctx, c.ID); got.TakenBy != lyonVol2 || got.TakenAlias != "Marc" {
		t.Fatalf("after the confirmation: %+v", got)
	}

	// /transferer without a note: asked for one.
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol2, "Marc", "/summary Appel CCC fait le 25/11", 0))
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol2, "Marc", "/transferer", 0))
	if last := h.sent.last(t, lyonChat).Text; !strings.Contains(last, "note de passation") {
		t.Errorf("/transfer without a note: %q", last)
	}
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol2, "Marc", "/transferer Parle surtout dari, RDV préfecture à prendre", 0))
	_, plist := h.buttonIn(t, lyonChat, "hc:x:")
	for _, want := range []string{"Accueil Paris Est : départements 75, 93, 69 ; langues : français, anglais, persan (dari ou farsi), pachto", "hors de sa zone (01)",
		"personne n'y déclare parler arabe", "Permanence nationale : départements toute la France"} {
		if !strings.Contains(plain(plist.Text), want) {
			t.Errorf("/transfer list lacks %q:\n%s", want, plist.Text)
		}
	}
	if labels := strings.Join(buttonLabels(plist), ","); !strings.Contains(labels, "Accueil Paris Est") || strings.Contains(labels, "Entraide Rhône") {
		t.Errorf("partners offered: %q", labels)
	}
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol2, "Marc", fmt.Sprintf("hc:x:%d:paris", c.ID), 820))
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol2, "Marc", fmt.Sprintf("hc:y:%d:language", c.ID), 820))
	confirm := h.sent.last(t, lyonChat)
	if !strings.Contains(plain(confirm.Text), "ne couvre pas le département 01") || !strings.Contains(confirm.Text, "Parle surtout dari") {
		t.Errorf("transfer confirmation = %q", confirm.Text)
	}
	if got, _ := h.store.Case(ctx, c.ID); got.PartnerID != "lyon" {
		t.Fatal("transferred before the confirmation")
	}
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol2, "Marc", fmt.Sprintf("hc:X:%d", c.ID), 820))
	if got, _ := h.store.Case(ctx, c.ID); got.PartnerID != "paris" || len(got.Handovers) != 1 {
		t.Fatalf("after the confirmation: %+v", got)
	}
	card := h.cardOf(t, parisChat)
	for _, want := range []string{"Transféré par Entraide Rhône", "Motif : Langue : personne ici ne la parle", "Note de passation : Parle surtout dari", "Appel CCC fait le 25/11"} {
		if !strings.Contains(plain(card.Text), want) {
			t.Errorf("receiving card lacks %q:\n%s", want, card.Text)
		}
	}
}

// takenCaseBy runs an intake to consent and has user take the case.
func (h *handoffFixture) takenCaseBy(t *testing.T, resident, user int64, name string) handoff.Case {
	t.Helper()
	h.intake(t, resident, "ar", "no_api", "69", "")
	h.handle(t, press(resident, "ar", "h:y"))
	c := h.caseOf(t, resident)
	h.handle(t, groupPress(lyonChat, user, name, fmt.Sprintf("hc:t:%d", c.ID)))
	return h.caseOf(t, resident)
}

// lastEditOf returns the text of the last edit of message id in chat.
func (h *handoffFixture) lastEditOf(t *testing.T, chat int64, id int) string {
	t.Helper()
	for _, r := range slicesReverse(h.sent.to(chat)) {
		if r.EditMessageID == id {
			return plain(r.Text)
		}
	}
	t.Fatalf("message %d of chat %d never edited", id, chat)
	return ""
}

// TestQueueMineAndCurrentCards: /file lists the cases created in the test
// (waiting, taken by whom, overdue; a sensitive one neutral), /mes those
// the asker holds; the cards in General follow assign, transfer and close.
func TestQueueMineAndCurrentCards(t *testing.T) {
	h := newHandoffFixture(t)
	ctx := context.Background()
	lina := h.takenCaseBy(t, residentAr, lyonVol, "Lina")
	marc := h.takenCaseBy(t, residentAr+1, lyonVol2, "Marc")
	h.intake(t, residentAr+2, "ar", "no_api", "69", "")
	h.handle(t, press(residentAr+2, "ar", "h:y"))
	waiting := h.caseOf(t, residentAr+2)
	// Lyon is full now (capacity 3): the OQTF case is stored as the intake
	// would leave it there.
	sensitive := h.waitingCase(t, residentAr+3, handoff.ProblemOQTF)
	// Monday 10:00: the waiting case is past its 16 opening hours.
	h.clock.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))

	h.handle(t, groupText(lyonChat, 0, lyonVol, "Lina", "/file", 0))
	q := plain(h.sent.last(t, lyonChat).Text)
	for _, want := range []string{
		"En attente : 2", "Suivis : 2", "En retard : 2", // the unclaimed case and the urgent OQTF
		fmt.Sprintf("#%d</a> · 69 · 📄 Pas d'API, ou API non renouvelée · arabe · suivi par Lina", lina.ID),
		"· suivi par Marc",
		fmt.Sprintf("#%d · 69 · 📄 Pas d'API, ou API non renouvelée · arabe · en attente depuis", waiting.ID),
		fmt.Sprintf("#%d · %s", sensitive.ID, plain(h.cat.Printer("fr").T("case.referents_only"))),
	} {
		if !strings.Contains(q, want) {
			t.Errorf("/file lacks %q:\n%s", want, q)
		}
	}
	if strings.Contains(q, "zorglub") || strings.Contains(q, "OQTF") {
		t.Errorf("/file shows a sensitive case's detail in the volunteers' group:\n%s", q)
	}
	h.handle(t, groupText(lyonChat, 0, lyonVol, "Lina", "/mes", 0))
	mine := plain(h.sent.last(t, lyonChat).Text)
	if !strings.Contains(mine, "Lina, dossiers que vous suivez : 1") || !strings.Contains(mine, fmt.Sprintf("#%d", lina.ID)) || strings.Contains(mine, fmt.Sprintf("#%d", marc.ID)) {
		t.Errorf("/mes = %q", mine)
	}
	// A non-member sees nothing.
	n := len(h.sent.to(lyonChat))
	h.handle(t, groupText(lyonChat, 0, outsider, "Eve", "/file", 0))
	if len(h.sent.to(lyonChat)) != n {
		t.Error("/file answered a non-member")
	}

	// The cards follow: assigned, transferred, closed with the reason.
	h.clock.Set(wednesday10.Add(7 * 24 * time.Hour))
	h.handle(t, groupText(lyonChat, lina.TopicID, lyonRef, "Rémi", "/assign", 0))
	h.handle(t, pressOn(lyonChat, lina.TopicID, lyonRef, "Rémi", fmt.Sprintf("hc:A:%d:%d", lina.ID, lyonVol2), 830))
	if got := h.lastEditOf(t, lyonChat, lina.CardMessageID); !strings.Contains(got, "Pris en charge par Marc") {
		t.Errorf("card after assign: %q", got)
	}
	h.handle(t, groupText(lyonChat, marc.TopicID, lyonVol2, "Marc", "/transfer Dossier complet, à déposer", 0))
	for _, d := range []string{"hc:x:%d:paris", "hc:y:%d:capacity", "hc:X:%d"} {
		h.handle(t, pressOn(lyonChat, marc.TopicID, lyonVol2, "Marc", fmt.Sprintf(d, marc.ID), 831))
	}
	if got := h.lastEditOf(t, lyonChat, marc.CardMessageID); !strings.Contains(got, "transmis à Accueil Paris Est") || !strings.Contains(got, "Plus de place") || strings.Contains(got, "Marc") {
		t.Errorf("card after transfer: %q", got)
	}
	h.closeBy(t, lyonChat, lina, lyonVol2, "Marc")
	if got := h.lastEditOf(t, lyonChat, lina.CardMessageID); !strings.Contains(got, "Clos. Motif : Résolu") {
		t.Errorf("card after close: %q", got)
	}
	if got, _ := h.store.Case(ctx, lina.ID); got.CloseReason != "solved" {
		t.Errorf("close reason = %q", got.CloseReason)
	}
}

// TestOQTFDeadlineAndUnansweredAlert: an OQTF letter's intake asks the
// day it came; its card gives the safe limit the sources allow (48 hours
// for some OQTF: "as soon as possible, by <day + 2>"), its summary the
// day and the limit; a resident's message left unanswered alerts the
// owner, by mention, after AnswerWithin opening hours, during them.
func TestOQTFDeadlineAndUnansweredAlert(t *testing.T) {
	h := newHandoffFixture(t)
	ctx := context.Background()
	h.handle(t, command(residentAr, "ar", "volunteer"))
	h.handle(t, press(residentAr, "ar", "h:p:oqtf"))
	h.handle(t, typed(residentAr, "ar", "69"))
	h.handle(t, press(residentAr, "ar", "h:l:ar"))
	ar := h.cat.Printer("ar")
	if got := h.sent.last(t, residentAr).Text; !strings.Contains(got, "24/11/2026") || !strings.Contains(got, strings.Split(ar.T("help.ask.notified", "Example", "X"), "X")[0][:20]) {
		t.Fatalf("the notification date is not asked: %q", got)
	}
	h.handle(t, typed(residentAr, "ar", "30/06/2027")) // in the future: refused
	if got := h.sent.last(t, residentAr).Text; got != ar.T("help.notified.bad") {
		t.Errorf("a future notification date: %q", got)
	}
	h.handle(t, typed(residentAr, "ar", "24/11/2026"))
	// An OQTF: does it grant a voluntary departure period? Three answers,
	// in the resident's language.
	ask := h.sent.last(t, residentAr)
	if ask.Text != ar.T("help.ask.departure") {
		t.Fatalf("the voluntary departure period is not asked: %q", ask.Text)
	}
	var answers []string
	for _, row := range ask.Buttons {
		for _, b := range row {
			answers = append(answers, b.Data)
		}
	}
	if want := []string{"h:v:yes", "h:v:no", "h:v:unknown", "h:q"}; !slices.Equal(answers, want) {
		t.Errorf("buttons = %v; want %v", answers, want)
	}
	h.handle(t, press(residentAr, "ar", "h:v:no"))
	h.handle(t, press(residentAr, "ar", "h:k:done"))
	h.handle(t, press(residentAr, "ar", "h:s"))
	h.handle(t, press(residentAr, "ar", "h:y"))
	c := h.caseOf(t, residentAr)
	if c.Notified != "2026-11-24" || c.Departure != handoff.DepartureNo {
		t.Fatalf("notified = %q, departure = %q", c.Notified, c.Departure)
	}
	card := plain(h.cardOf(t, lyonChat).Text)
	if !strings.Contains(card, "au plus tard le 26/11/2026 par prudence") || strings.Contains(card, "OQTF") || strings.Contains(card, "24/11/2026") || strings.Contains(card, "départ volontaire") {
		t.Errorf("neutral card = %q; want the safe limit and nothing of the letter", card)
	}
	h.handle(t, groupPress(lyonChat, lyonRef, "Rémi", fmt.Sprintf("hc:t:%d", c.ID)))
	var summary string
	for _, r := range h.sent.to(lyonRefs) {
		if strings.Contains(r.Text, "Lettre reçue") {
			summary = plain(r.Text)
		}
	}
	for _, want := range []string{"Lettre reçue le 24/11/2026 (date donnée par la personne)", "Délai de départ volontaire : non accordé (selon la personne)",
		"48 heures pour certaines OQTF", "nos sources ne disent pas lequel", "au plus tard le 26/11/2026"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}

	// An ordinary case: the resident writes Wednesday at 10:00, nobody answers.
	o := h.takenCaseBy(t, residentAr+1, lyonVol, "Lina")
	h.handle(t, bot.Update{Kind: bot.KindText, UserID: residentAr + 1, LanguageCode: "ar", Text: "هل من جديد؟", MessageID: 600})
	e, ok, err := h.store.Get(ctx, fmt.Sprintf("c:%d", o.ID))
	if err != nil || !ok {
		t.Fatalf("no timer: %v %v", ok, err)
	}
	// 3 opening hours: 10:00–12:00, then 14:00–15:00.
	if want := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC); !e.Due.Equal(want) {
		t.Fatalf("alert due %v; want %v (3 opening hours later)", e.Due, want)
	}
	h.clock.Set(e.Due)
	d := reminder.NewDispatcher(h.store, h.bot, reminder.Config{Clock: h.clock, Workers: 1})
	if n, err := d.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("dispatcher: %d %v", n, err)
	}
	last := h.sent.last(t, lyonChat)
	if last.ThreadID != o.TopicID || !strings.Contains(last.Text, fmt.Sprintf(`<a href="tg://user?id=%d">Lina</a>`, lyonVol)) || !strings.Contains(plain(last.Text), "attend une réponse depuis 3 h 00") {
		t.Errorf("alert = %+v", last)
	}
	if lyon, _ := h.partners.Get("lyon"); !lyon.Hours.Open(h.clock.Now()) {
		t.Error("alerted outside opening hours")
	}
	// Answered: no second alert for that message.
	h.handle(t, groupText(lyonChat, o.TopicID, lyonVol, "Lina", "/r Je regarde.", 0))
	send, _ := h.buttonIn(t, lyonChat, "hc:s:")
	h.handle(t, pressOn(lyonChat, o.TopicID, lyonVol, "Lina", send, 950))
	// The next timer forgets the sent reply after the undo window; then
	// only the two-day nudge is left.
	h.clock.Advance(bot.UndoWindow + time.Second)
	if _, err := d.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if e, ok, _ := h.store.Get(ctx, fmt.Sprintf("c:%d", o.ID)); ok && e.Due.Before(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("after the answer the next timer is %v; want only the two-day nudge", e.Due)
	}
}

// TestReturningResidentCardLinksEarlierCase: a resident who comes back
// 1 h 40 after their case was closed gets a new card that names the
// earlier case, its date, how it ended and what was done.
func TestReturningResidentCardLinksEarlierCase(t *testing.T) {
	h := newHandoffFixture(t)
	c := h.takenCase(t, residentAr)
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "/summary API obtenue après appel au CCC", 0))
	h.closeBy(t, lyonChat, c, lyonVol, "Lina")
	h.clock.Advance(100 * time.Minute)
	h.intake(t, residentAr, "ar", "login", "69", "")
	h.handle(t, press(residentAr, "ar", "h:y"))
	card := plain(h.cardOf(t, lyonChat).Text)
	for _, want := range []string{fmt.Sprintf("Demande précédente : dossier #%d du 25/11/2026 (Entraide Rhône), clos le 25/11/2026 (motif : Résolu)", c.ID),
		"Ce qui avait été fait : API obtenue après appel au CCC"} {
		if !strings.Contains(card, want) {
			t.Errorf("new card lacks %q:\n%s", want, card)
		}
	}
}

// TestTemplatesReachTheResidentInDari: with no translation server, a
// volunteer who writes no Dari picks a template; the preview shows the
// Dari text and its French version; the resident gets it in Dari.
func TestTemplatesReachTheResidentInDari(t *testing.T) {
	h := newHandoffFixture(t)
	const dari = residentAr + 5
	h.intake(t, dari, "fa", "no_api", "69", "")
	h.handle(t, press(dari, "fa", "h:y"))
	c := h.caseOf(t, dari)
	if c.PartnerID != "paris" {
		t.Fatalf("routed to %s; want Paris, whose volunteers declare Persian", c.PartnerID)
	}
	h.handle(t, groupPress(parisChat, parisVol, "Paul", fmt.Sprintf("hc:t:%d", c.ID)))
	c = h.caseOf(t, dari)
	h.handle(t, groupText(parisChat, c.TopicID, parisVol, "Paul", "/modele", 0))
	_, list := h.buttonIn(t, parisChat, "hc:m:")
	if len(list.Buttons) != 7 || !strings.Contains(plain(list.Text), "en persan") {
		t.Fatalf("template list: %d buttons, %q", len(list.Buttons), list.Text)
	}
	h.handle(t, pressOn(parisChat, c.TopicID, parisVol, "Paul", fmt.Sprintf("hc:m:%d:recu", c.ID), 700))
	fa, fr := h.cat.Printer("fa"), h.cat.Printer("fr")
	send, preview := h.buttonIn(t, parisChat, "hc:s:")
	if preview.EditMessageID != 700 || !strings.Contains(preview.Text, fa.T("tpl.received")) || !strings.Contains(preview.Text, fr.T("tpl.received")) {
		t.Errorf("preview = %q; want the Dari text and its French version", preview.Text)
	}
	before := len(h.sent.to(dari))
	h.handle(t, pressOn(parisChat, c.TopicID, parisVol, "Paul", send, 700))
	got := h.sent.to(dari)
	if len(got) != before+1 || !strings.Contains(got[before].Text, fa.T("tpl.received")) || !strings.Contains(got[before].Text, "Paul") {
		t.Fatalf("the resident got %+v", got[before:])
	}
	// A template with a date: the day in Dari words.
	h.handle(t, groupText(parisChat, c.TopicID, parisVol, "Paul", "/modele jour 02/12/2026", 0))
	send, _ = h.buttonIn(t, parisChat, "hc:s:")
	h.handle(t, pressOn(parisChat, c.TopicID, parisVol, "Paul", send, 701))
	want := fa.T("tpl.answer_on", "Date", catalog.HTML(bot.LongDate(fa, permit.Date{Year: 2026, Month: 12, Day: 2})))
	if last := h.sent.last(t, dari).Text; !strings.Contains(last, want) {
		t.Errorf("dated template = %q; want %q", last, want)
	}
	// Without the date: told how to give it.
	h.handle(t, groupText(parisChat, c.TopicID, parisVol, "Paul", "/modele jour", 0))
	if last := plain(h.sent.last(t, parisChat).Text); !strings.Contains(last, "/modele jour JJ/MM/AAAA") {
		t.Errorf("template without its date: %q", last)
	}
}

// TestFrenchAsATeamWritesIt: partner names take the elision French needs
// (never "de Entraide"), the urgent card calls referents by their names,
// and volunteers' texts name French commands, not English ones.
func TestFrenchAsATeamWritesIt(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "fr", "refusal", "69", "")
	h.handle(t, press(residentAr, "fr", "h:y"))
	c := h.caseOf(t, residentAr)
	card := h.cardOf(t, lyonChat).Text
	if !strings.Contains(card, fmt.Sprintf(`<a href="tg://user?id=%d">Rémi</a>`, lyonRef)) || strings.Contains(card, "référent 1") {
		t.Errorf("urgent card = %q; want the referent called by name", card)
	}
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", fmt.Sprintf("hc:t:%d", c.ID)))
	h.handle(t, groupText(lyonChat, 0, 100000003, "Coralie", "/stats", 0))
	var all []string
	for _, chat := range []int64{lyonChat, residentAr} {
		for _, r := range h.sent.to(chat) {
			all = append(all, plain(r.Text))
		}
	}
	text := strings.Join(all, "\n")
	for _, bad := range []string{"de Entraide", "/summary", "/release", "/close", "id-partenaire"} {
		if strings.Contains(text, bad) {
			t.Errorf("texts hold %q", bad)
		}
	}
	// The card speaks of the person, not as them.
	card = plain(h.cardOf(t, lyonChat).Text)
	if strings.Contains(card, "Mon travail") || !strings.Contains(card, "Risque immédiat de perdre : son travail") {
		t.Errorf("card = %q; want the risk said of the person", card)
	}
	for _, want := range []string{"Entraide Rhône : les chiffres", "bénévole de l'association Entraide Rhône"} {
		if !strings.Contains(text, want) {
			t.Errorf("texts lack %q", want)
		}
	}
}

// TestCardLanguageWarningAndFeedbackShown: the card says when nobody at
// the partner declares the resident's language; the resident's rating
// after closing shows in the topic.
func TestCardLanguageWarningAndFeedbackShown(t *testing.T) {
	h := newHandoffFixture(t)
	const olena = residentAr + 7
	h.intake(t, olena, "uk", "stuck", "69", "")
	h.handle(t, press(olena, "uk", "h:y"))
	c := h.caseOf(t, olena)
	chat := map[string]int64{"lyon": lyonChat, "paris": parisChat}[c.PartnerID]
	if card := plain(h.cardOf(t, chat).Text); !strings.Contains(card, "Personne ici ne déclare parler ukrainien") {
		t.Errorf("card = %q; want the language warning", card)
	}
	vol, name := map[int64]int64{lyonChat: lyonVol, parisChat: parisVol}[chat], "Vol"
	h.handle(t, groupPress(chat, vol, name, fmt.Sprintf("hc:t:%d", c.ID)))
	c = h.caseOf(t, olena)
	h.closeBy(t, chat, c, vol, name)
	h.handle(t, press(olena, "uk", fmt.Sprintf("h:f:%d:u", c.ID)))
	if last := h.sent.last(t, chat); last.ThreadID != c.TopicID || last.Text != h.cat.Printer("fr").T("case.feedback.useful") {
		t.Errorf("feedback in the topic: %+v", last)
	}
}

// TestSearchByCaseNumber: /dossier N finds a case of this partner (open
// or closed, with why), not another partner's.
func TestSearchByCaseNumber(t *testing.T) {
	h := newHandoffFixture(t)
	c := h.takenCase(t, residentAr)
	h.handle(t, groupText(lyonChat, 0, lyonVol2, "Marc", fmt.Sprintf("/dossier %d", c.ID), 0))
	if got := plain(h.sent.last(t, lyonChat).Text); !strings.Contains(got, "suivi par Lina") {
		t.Errorf("/dossier of an open case = %q", got)
	}
	h.closeBy(t, lyonChat, c, lyonVol, "Lina")
	h.handle(t, groupText(lyonChat, 0, lyonVol2, "Marc", fmt.Sprintf("/dossier #%d", c.ID), 0))
	if got := plain(h.sent.last(t, lyonChat).Text); !strings.Contains(got, "clos le 25/11/2026 (motif : Résolu)") {
		t.Errorf("/dossier of a closed case = %q", got)
	}
	h.handle(t, groupText(parisChat, 0, parisVol, "Paul", fmt.Sprintf("/dossier %d", c.ID), 0))
	if got := plain(h.sent.last(t, parisChat).Text); !strings.Contains(got, "Aucun dossier") || !strings.Contains(got, "90 jours") {
		t.Errorf("/dossier of another partner's case = %q", got)
	}
}

// TestSentReplyForgottenAfterUndoWindow: the case keeps a sent reply only
// for the undo window: its timer then forgets it and takes the undo
// button off the topic's note; a later press says it is too late.
func TestSentReplyForgottenAfterUndoWindow(t *testing.T) {
	h := newHandoffFixture(t)
	ctx := context.Background()
	c := h.takenCase(t, residentAr)
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "/r Bonjour", 0))
	send, _ := h.buttonIn(t, lyonChat, "hc:s:")
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", send, 910))
	undo, _ := h.buttonIn(t, lyonChat, "hc:u:")
	e, ok, err := h.store.Get(ctx, fmt.Sprintf("c:%d", c.ID))
	if err != nil || !ok || !e.Due.Equal(wednesday10.Add(bot.UndoWindow)) {
		t.Fatalf("timer %v %v %v; want the end of the undo window", e.Due, ok, err)
	}
	h.clock.Set(e.Due.Add(time.Second))
	d := reminder.NewDispatcher(h.store, h.bot, reminder.Config{Clock: h.clock, Workers: 1})
	if _, err := d.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.store.Case(ctx, c.ID); len(got.Sent) != 0 || len(got.Drafts) != 0 {
		t.Fatalf("kept after the window: sent %+v drafts %+v", got.Sent, got.Drafts)
	}
	if last := h.sent.last(t, lyonChat); last.EditMessageID != 910 || len(last.Buttons) != 0 || !strings.Contains(last.Text, "Bonjour") {
		t.Errorf("note after the window = %+v; want it without the undo button", last)
	}
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", undo, 910))
	if last := plain(h.sent.last(t, lyonChat).Text); !strings.Contains(last, "Trop tard") {
		t.Errorf("a late press: %q", last)
	}
	if len(h.groups.msgDel[residentAr]) != 0 {
		t.Error("deleted after the window")
	}
}

// TestVolunteerSendsAFileWithR: /r in reply to one's own photo in the
// topic previews it, then sends it as it is under the signature; Undo
// deletes both on the resident's side.
func TestVolunteerSendsAFileWithR(t *testing.T) {
	h := newHandoffFixture(t)
	ctx := context.Background()
	c := h.takenCase(t, residentAr)
	h.handle(t, bot.Update{Kind: bot.KindPhoto, ChatID: lyonChat, ChatType: bot.ChatSupergroup, UserID: lyonVol, FirstName: "Lina",
		ThreadID: c.TopicID, IsTopicMessage: true, MessageID: 321, ReplyToMessageID: c.TopicID, FileID: "ph"})
	before := len(h.sent.to(residentAr))
	if before == 0 {
		t.Fatal("setup")
	}
	h.handle(t, bot.Update{Kind: bot.KindCommand, ChatID: lyonChat, ChatType: bot.ChatSupergroup, UserID: lyonVol, FirstName: "Lina",
		Command: "r", Text: "/r", ThreadID: c.TopicID, IsTopicMessage: true, MessageID: 322, ReplyToMessageID: 321, ReplyToUserID: lyonVol, ReplyToFirstName: "Lina"})
	if n := len(h.sent.to(residentAr)); n != before {
		t.Fatal("the photo went before Send")
	}
	send, preview := h.buttonIn(t, lyonChat, "hc:s:")
	if !strings.Contains(preview.Text, h.cat.Printer("fr").T("case.preview_copy")) {
		t.Errorf("preview = %q", preview.Text)
	}
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", send, 930))
	got := h.sent.to(residentAr)[before:]
	if len(got) != 2 || !strings.Contains(got[0].Text, "Lina") || got[1].CopyFromChatID != lyonChat || got[1].CopyMessageID != 321 {
		t.Fatalf("to the resident: %+v; want the signature, then the copy of message 321", got)
	}
	cs, _ := h.store.Case(ctx, c.ID)
	undo, _ := h.buttonIn(t, lyonChat, "hc:u:")
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", undo, 930))
	if del := h.groups.msgDel[residentAr]; len(del) != 2 || del[0] != cs.Sent[0].Copy || del[1] != cs.Sent[0].Msg {
		t.Errorf("deleted %v; want the copy and the signature", del)
	}
	// /r in reply to someone else's message is not a way to forward it.
	h.handle(t, bot.Update{Kind: bot.KindCommand, ChatID: lyonChat, ChatType: bot.ChatSupergroup, UserID: lyonVol, FirstName: "Lina",
		Command: "r", Text: "/r", ThreadID: c.TopicID, IsTopicMessage: true, MessageID: 323, ReplyToMessageID: 555, ReplyToUserID: lyonVol2})
	if last := h.sent.last(t, lyonChat).Text; last != h.cat.Printer("fr").T("case.r_usage") {
		t.Errorf("/r replying to a colleague's message: %q", last)
	}
}

// TestDailyDigestAtOpening: each partner's digest is scheduled at its next
// first opening of a day; Lyon's lists the case waiting; a partner with
// nothing to say posts nothing; the next digest is the next opening day.
func TestDailyDigestAtOpening(t *testing.T) {
	h := newHandoffFixture(t)
	ctx := context.Background()
	h.intake(t, residentAr, "ar", "no_api", "69", "")
	h.handle(t, press(residentAr, "ar", "h:y"))
	c := h.caseOf(t, residentAr)
	if err := h.bot.StartSweeps(ctx); err != nil {
		t.Fatal(err)
	}
	e, ok, err := h.store.Get(ctx, "d:lyon")
	thursday9 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC) // Thursday 09:00 in Paris
	if err != nil || !ok || !e.Due.Equal(thursday9) {
		t.Fatalf("Lyon's digest: %v %v %v; want %v", e.Due, ok, err, thursday9)
	}
	parisBefore := len(h.sent.to(parisChat))
	h.clock.Set(thursday9)
	d := reminder.NewDispatcher(h.store, h.bot, reminder.Config{Clock: h.clock, Workers: 1})
	if _, err := d.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	var digest string
	for _, r := range h.sent.to(lyonChat) {
		if strings.Contains(r.Text, "le point du jour") {
			digest = plain(r.Text)
		}
	}
	if !strings.Contains(digest, "En attente : 1") || !strings.Contains(digest, fmt.Sprintf("#%d", c.ID)) {
		t.Errorf("Lyon's digest = %q", digest)
	}
	if len(h.sent.to(parisChat)) != parisBefore {
		t.Error("a digest with nothing in it was posted")
	}
	if e, ok, _ := h.store.Get(ctx, "d:lyon"); !ok || !e.Due.Equal(thursday9.Add(24*time.Hour)) {
		t.Errorf("next digest %v; want Friday 09:00", e.Due)
	}
}

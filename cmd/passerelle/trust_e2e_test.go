package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
)

// Acceptance tests of the trust issue on the hand-off side, end to end
// through the fake Bot API: sensitive cases stay with referents, nothing
// a case left in any group survives /forget or retention, relay copies
// leave the update path, strict membership, media confirmation and the
// framing of copies.

// wednesday10 is an opening hour of every partner: Wednesday 25 November
// 2026, 10:00 in Paris.
var wednesday10 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// intakeWith runs the intake in Arabic up to the consent screen, with desc
// as the description ("" to skip it), and consents.
func (w *handoffWorld) intakeWith(t *testing.T, u telegramtest.User, problem, desc string) handoff.Case {
	t.Helper()
	w.do(t, w.srv.SendText(u, "/volunteer"))
	w.press(t, u, u.ID, w.t("ar", "help.problem."+problem))
	w.do(t, w.srv.SendText(u, "69"))
	w.press(t, u, u.ID, "العربية")
	if handoff.Problem(problem).Urgent() {
		w.do(t, w.srv.SendText(u, "24/11/2026")) // the day the letter came
		if problem == string(handoff.ProblemOQTF) {
			w.press(t, u, u.ID, w.t("ar", "help.departure.unknown"))
		}
	} else {
		w.do(t, w.srv.SendText(u, "30/06/2027")) // the card's end of validity
	}
	w.press(t, u, u.ID, "◻️ "+w.t("ar", "help.risk.work"))
	w.press(t, u, u.ID, w.t("ar", "help.risk.done"))
	if desc == "" {
		w.press(t, u, u.ID, w.t("ar", "help.skip"))
	} else {
		w.do(t, w.srv.SendText(u, desc))
	}
	w.press(t, u, u.ID, w.t("ar", "help.consent.yes"))
	return w.caseOf(t, u)
}

// topicOf returns the case's topic and its group, as stored.
func (w *handoffWorld) topicOf(t *testing.T, id int64) (int64, int) {
	t.Helper()
	c, err := w.st.Case(context.Background(), id)
	if err != nil || c.TopicID == 0 {
		t.Fatalf("case %d has no topic: %+v %v", id, c, err)
	}
	return c.TopicChat, c.TopicID
}

// leaks returns every live message and topic of chat whose text holds one
// of secrets.
func (w *handoffWorld) leaks(chat int64, secrets ...string) []string {
	var out []string
	for _, m := range w.srv.Messages(chat) {
		if m.Deleted {
			continue
		}
		for _, s := range secrets {
			if strings.Contains(m.PlainText, s) || strings.Contains(m.Text, s) {
				out = append(out, fmt.Sprintf("message %d: %q", m.MessageID, m.PlainText))
			}
		}
	}
	for _, tp := range w.srv.Topics(chat) {
		for _, s := range secrets {
			if !tp.Deleted && strings.Contains(tp.Name, s) {
				out = append(out, fmt.Sprintf("topic %d: %q", tp.ThreadID, tp.Name))
			}
		}
	}
	return out
}

// TestSensitiveCaseOnlyReferents: the card of an OQTF case in the
// volunteers' group is neutral; its topic opens in the referents' group
// once a referent takes it; a member who is not a referent sees no
// category and no text anywhere in the volunteers' group, and their Take,
// reply, /r, /summary and /close change nothing and reach nobody, even
// from inside the referents' group; a referent can do all of it.
func TestSensitiveCaseOnlyReferents(t *testing.T) {
	t.Parallel()
	w := newHandoffWorld(t, wednesday10)
	// Marc, a volunteer, was added to the referents' group by mistake.
	w.srv.SetMember(e2eLyonRefs, marc, "member")
	const desc = "zorglub, ils m'ont donné 30 jours"
	c := w.intakeWith(t, amina, "oqtf", desc)
	category := w.t("fr", "help.problem.oqtf")
	secrets := []string{category, desc, "zorglub", "Rhône", "30/06/2027", "24/11/2026"}

	card := w.last(t, e2eLyon)
	if !strings.Contains(card.PlainText, fmt.Sprintf("#%d", c.ID)) || !strings.Contains(card.PlainText, catalog.PlainText(w.t("fr", "case.referents_only"))) {
		t.Fatalf("card = %q; want its number and that it is for referents", card.PlainText)
	}
	if got := w.leaks(e2eLyon, secrets...); len(got) > 0 {
		t.Fatalf("the card of a sensitive case shows its category or text: %v", got)
	}

	take := w.t("fr", "case.take")
	w.press(t, lina, e2eLyon, take)
	if got, _ := w.st.Case(context.Background(), c.ID); got.Status != handoff.StatusWaiting {
		t.Fatalf("a volunteer who is not a referent took the case: %+v", got)
	}
	if len(w.srv.Topics(e2eLyonRefs))+len(w.srv.Topics(e2eLyon)) != 0 {
		t.Fatal("a topic opened before a referent took the case")
	}
	w.press(t, remi, e2eLyon, take)
	room, thread := w.topicOf(t, c.ID)
	if room != e2eLyonRefs || len(w.srv.Topics(e2eLyon)) != 0 {
		t.Fatalf("topic in %d (topics in the volunteers' group: %v); want the referents' group", room, w.srv.Topics(e2eLyon))
	}

	w.do(t, w.srv.SendText(amina, "الموعد يوم 3 مارس"))
	copies := w.waitCopies(t, e2eLyonRefs, thread, c.ID, 1)
	secrets = append(secrets, "الموعد")

	// Not a referent, in the volunteers' group: a reply to the card, /r,
	// /summary and /close, in General.
	toResident := len(w.srv.Messages(amina.ID))
	w.do(t, w.srv.SendGroupReply(e2eLyon, 0, lina, card.MessageID, "Je m'en occupe."))
	for _, cmd := range []string{"/r Bonjour", "/summary Rien", "/close"} {
		w.do(t, w.srv.SendGroupText(e2eLyon, 0, lina, cmd))
	}
	// Not a referent, in the referents' group: the same in the topic.
	w.do(t, w.srv.SendGroupReply(e2eLyonRefs, thread, marc, copies[0].MessageID, "Bonjour, c'est Marc."))
	for _, cmd := range []string{"/r Bonjour", "/summary Rien fait", "/close"} {
		w.do(t, w.srv.SendGroupText(e2eLyonRefs, thread, marc, cmd))
	}
	if got := w.srv.Messages(amina.ID)[toResident:]; len(got) != 0 {
		t.Fatalf("a volunteer who is not a referent reached the resident: %+v", got)
	}
	got, _ := w.st.Case(context.Background(), c.ID)
	if got.Status != handoff.StatusTaken || got.TakenBy != remi.ID || got.Steps != "" {
		t.Fatalf("a volunteer who is not a referent changed the case: %+v", got)
	}
	refusal := catalog.PlainText(w.t("fr", "case.referents_only_action", "Case", c.ID))
	refused := 0
	for _, m := range w.srv.Messages(e2eLyonRefs) {
		if m.PlainText == refusal {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d refusals in the referents' topic; want 3 (/r, /summary, /close; a reply is an internal note)", refused)
	}
	if got := w.leaks(e2eLyon, secrets...); len(got) > 0 {
		t.Fatalf("the volunteers' group shows the case's category or text: %v", got)
	}

	// The referent can do all of it (a reply stays internal there too).
	w.do(t, w.srv.SendGroupReply(e2eLyonRefs, thread, remi, copies[0].MessageID, "Note : je m'en occupe."))
	w.do(t, w.srv.SendGroupText(e2eLyonRefs, thread, remi, "/r Venez mardi."))
	w.press(t, remi, e2eLyonRefs, w.t("fr", "case.send_button"))
	w.do(t, w.srv.SendGroupText(e2eLyonRefs, thread, remi, "/summary Recours à préparer"))
	sent := w.srv.Messages(amina.ID)[toResident:]
	if len(sent) != 1 || !strings.Contains(sent[0].PlainText, "Rémi") || !strings.Contains(sent[0].PlainText, "Venez mardi") {
		t.Fatalf("the referent's /r: %+v", sent)
	}
	w.closeIn(t, e2eLyonRefs, thread, remi)
	got, _ = w.st.Case(context.Background(), c.ID)
	if got.Status != handoff.StatusClosed || !strings.Contains(got.Steps, "Recours") {
		t.Fatalf("the referent could not summarise and close: %+v", got)
	}
	if got := w.leaks(e2eLyon, secrets...); len(got) > 0 {
		t.Fatalf("the volunteers' group shows the case's category or text: %v", got)
	}
	w.srv.RequireNoSpecErrors(t)
}

// closeIn has u close the case of a topic: /close, a reason, the confirmation.
func (w *handoffWorld) closeIn(t *testing.T, chat int64, thread int, u telegramtest.User) {
	t.Helper()
	w.do(t, w.srv.SendGroupText(chat, thread, u, "/close"))
	w.press(t, u, chat, w.t("fr", "case.close_reason.solved"))
	w.press(t, u, chat, w.t("fr", "case.close_button"))
}

// throughThreeGroups takes an ordinary case through Lyon (taken, a text
// and a photo copied), a transfer to Paris, an escalation from Paris to
// the national fallback (nobody took it within Paris's SLA), and a close
// there after another copy. It returns the case and the texts it spread.
func (w *handoffWorld) throughThreeGroups(t *testing.T) (handoff.Case, []string) {
	t.Helper()
	ctx := context.Background()
	const desc = "zorglub: mon API a expiré"
	c := w.intakeWith(t, amina, "no_api", desc)
	take := w.t("fr", "case.take")
	w.press(t, lina, e2eLyon, take)
	_, lyonTopic := w.topicOf(t, c.ID)
	w.do(t, w.srv.SendText(amina, "premier message"))
	w.do(t, w.srv.SendPhoto(amina, "photo du récépissé"))
	w.press(t, amina, amina.ID, w.t("ar", "help.media.yes"))
	w.waitCopies(t, e2eLyon, lyonTopic, c.ID, 2)
	w.do(t, w.srv.SendGroupText(e2eLyon, lyonTopic, lina, "/transfer Appel fait, à suivre"))
	w.press(t, lina, e2eLyon, "Accueil Paris Est")
	w.press(t, lina, e2eLyon, w.t("fr", "case.transfer_reason.capacity"))
	w.press(t, lina, e2eLyon, w.t("fr", "case.confirm_button"))
	if got, _ := w.st.Case(ctx, c.ID); got.PartnerID != "paris" {
		t.Fatalf("after /transfer: %+v", got)
	}
	// Nobody takes it at Paris: hour by hour until it escalates.
	for now := w.clk.Now(); ; now = now.Add(time.Hour) {
		w.clk.Set(now)
		if _, err := w.disp.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := w.st.Case(ctx, c.ID); got.PartnerID == "national" {
			break
		}
		if now.Sub(wednesday10) > 10*24*time.Hour {
			t.Fatal("the case never left Paris")
		}
	}
	// Wednesday 2 December, 10:00: the national partner is open.
	w.clk.Set(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	w.press(t, nadia, e2eNat, take)
	_, natTopic := w.topicOf(t, c.ID)
	w.do(t, w.srv.SendText(amina, "deuxième message"))
	w.waitCopies(t, e2eNat, natTopic, c.ID, 1)
	w.closeIn(t, e2eNat, natTopic, nadia)
	c, _ = w.st.Case(ctx, c.ID)
	if c.Status != handoff.StatusClosed || !slices.Equal(c.Tried, []string{"lyon", "paris"}) {
		t.Fatalf("case after the three groups: %+v", c)
	}
	return c, []string{desc, "zorglub", "premier message", "photo du récépissé", "deuxième message", w.t("fr", "help.problem.no_api")}
}

// groupsClean fails t if anything the case left is still in a group: a
// topic not deleted, a message of the bot (card, copy, note, summary) not
// deleted, or any live text naming its category or the resident's words.
func (w *handoffWorld) groupsClean(t *testing.T, c handoff.Case, secrets []string) {
	t.Helper()
	for _, chat := range []int64{e2eLyon, e2eLyonRefs, e2eParis, e2eNat, e2eNatRefs} {
		for _, tp := range w.srv.Topics(chat) {
			if !tp.Deleted {
				t.Errorf("group %d: topic %d %q is still there", chat, tp.ThreadID, tp.Name)
			}
		}
		for _, m := range w.srv.Messages(chat) {
			if !m.Deleted {
				t.Errorf("group %d: message %d %q is still there", chat, m.MessageID, m.PlainText)
			}
		}
		if got := w.leaks(chat, secrets...); len(got) > 0 {
			t.Errorf("group %d still shows: %v", chat, got)
		}
	}
}

// TestForgetAfterTransferEscalationClose: after a transfer, an escalation
// and a close, /forget leaves no card, topic, copy or note in any of the
// groups the case went through.
func TestForgetAfterTransferEscalationClose(t *testing.T) {
	t.Parallel()
	w := newHandoffWorld(t, wednesday10)
	c, secrets := w.throughThreeGroups(t)
	w.do(t, w.srv.SendText(amina, "/forget"))
	w.press(t, amina, amina.ID, w.t("ar", "forget.yes"))
	w.groupsClean(t, c, secrets)
	if cs, _ := w.st.CasesOf(context.Background(), amina.ID); len(cs) != 0 {
		t.Errorf("cases after /forget: %v", cs)
	}
	w.srv.RequireNoSpecErrors(t)
}

// TestRetentionAfterTransferEscalationClose: 31 days after closing, the
// same case has left nothing in any group; 91 days after, nothing in the
// store either (counts stay).
func TestRetentionAfterTransferEscalationClose(t *testing.T) {
	t.Parallel()
	w := newHandoffWorld(t, wednesday10)
	ctx := context.Background()
	c, secrets := w.throughThreeGroups(t)
	w.clk.Set(c.Closed.Add(31 * 24 * time.Hour))
	if _, err := w.disp.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	w.groupsClean(t, c, secrets)
	if got, err := w.st.Case(ctx, c.ID); err != nil || !got.Purged {
		t.Fatalf("at day 31: %+v, %v; want the case kept, its artefacts gone", got, err)
	}
	w.clk.Set(c.Closed.Add(91 * 24 * time.Hour))
	if _, err := w.disp.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.Case(ctx, c.ID); err == nil {
		t.Error("at day 91 the case is still stored")
	}
	if as, _ := w.st.Artefacts(ctx, c.ID); len(as) != 0 {
		t.Errorf("at day 91 artefacts are still recorded: %v", as)
	}
	if counts, _ := w.st.Counts(ctx); len(counts) == 0 {
		t.Error("the anonymous counts went with the case")
	}
	w.srv.RequireNoSpecErrors(t)
}

// TestRelayBurstPacedInOrderOnce: 60 messages of a resident into one
// group's topic, one every 2 seconds (as the resident flood limit
// allows): every update is handled, and the resident answered, while the
// group's limit holds the copies back (the update path never waits for
// it); then the copies arrive complete, in order, once, and within
// Telegram's 20 messages a minute (the fake Bot API enforces it: no 429).
func TestRelayBurstPacedInOrderOnce(t *testing.T) {
	t.Parallel()
	// Friday 27 November 2026, 16:00: Lyon is open; the burst comes on
	// Saturday, when it is closed, so the resident gets an automatic answer.
	friday := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	w := newHandoffWorldWith(t, friday, worldOptions{limits: true})
	stop := advanceWhileWaiting(w.tclk)
	c := w.intakeWith(t, amina, "no_api", "")
	w.press(t, lina, e2eLyon, w.t("fr", "case.take"))
	_, thread := w.topicOf(t, c.ID)
	stop()

	// Saturday 10:00; the transport's clock two minutes on, so that the
	// group's minute and the resident's chat are free.
	w.clk.Set(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	w.tclk.Advance(2 * time.Minute)
	burstStart := w.tclk.Now()
	// The transport allows a short burst to one private chat, which the
	// fake refuses: the intake may have drawn a 429 or two. Count from here.
	limited := w.srv.RateLimited()
	before := len(w.srv.Messages(amina.ID))
	const n = 60
	for i := 1; i <= n; i++ {
		w.do(t, w.srv.SendText(amina, fmt.Sprintf("message %02d", i)))
		w.clk.Advance(2 * time.Second)
	}
	if got := len(w.copiesIn(e2eLyon, thread, c.ID)); got > telegramtest.FloodGroupPerMinute {
		t.Fatalf("%d copies with the transport's clock stopped; the group takes %d a minute", got, telegramtest.FloodGroupPerMinute)
	}
	answers := w.srv.Messages(amina.ID)[before:]
	if len(answers) != 1 || !strings.Contains(answers[0].PlainText, "Entraide Rhône") {
		t.Fatalf("the resident was not answered at once: %+v", answers)
	}

	stop = advanceWhileWaiting(w.tclk)
	w.waitCopies(t, e2eLyon, thread, c.ID, n)
	w.waitOutboxDrained(t)
	stop()
	copies := w.copiesIn(e2eLyon, thread, c.ID)
	if len(copies) != n {
		t.Fatalf("%d copies; want %d, once each", len(copies), n)
	}
	for i, m := range copies {
		if want := fmt.Sprintf("message %02d", i+1); !strings.HasSuffix(m.PlainText, want) {
			t.Fatalf("copy %d = %q; want %q, in order", i+1, m.PlainText, want)
		}
	}
	if got := w.srv.RateLimited() - limited; got != 0 {
		t.Errorf("the fake Bot API answered %d sends of the burst with 429; want none", got)
	}
	for _, method := range []string{"sendMessage", "copyMessage", "editMessageText", "editMessageReplyMarkup"} {
		for _, c := range w.srv.Calls(method) {
			if c.Status == 429 && strings.HasPrefix(c.Params["chat_id"], "-") {
				t.Errorf("a group got a 429 (%s to %s): its 20 a minute were not kept", method, c.Params["chat_id"])
			}
		}
	}
	// 60 messages at 20 a minute: the last went at least two minutes after
	// the first.
	if d := w.tclk.Now().Sub(burstStart); d < 2*time.Minute {
		t.Errorf("60 copies in %v of the transport's time; the group's limit needs at least 2 minutes", d)
	}
	w.srv.RequireNoSpecErrors(t)
}

// waitOutboxDrained waits until the relay outbox holds nothing: no copy
// is left to send (so none can come twice later).
func (w *handoffWorld) waitOutboxDrained(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		chats, err := w.st.OutboxChats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(chats) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox still has copies for %v after %v", chats, wait)
		}
		time.Sleep(time.Millisecond) // polls the store, which has no change signal
	}
}

// advanceWhileWaiting moves clk forward in small steps whenever something
// waits on it, until stop is called.
func advanceWhileWaiting(clk *clock.Fake) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for clk.BlockUntil(ctx, 1) {
			clk.Advance(100 * time.Millisecond)
		}
	}()
	return func() { cancel(); <-done }
}

// TestRegressionExMemberRestricted: Telegram keeps the "restricted" status
// of a user who left (is_member false). Such a user is not a member: their
// Take changes nothing, and leaving while holding a case releases it at
// once; so does a ban.
func TestRegressionExMemberRestricted(t *testing.T) {
	t.Parallel()
	w := newHandoffWorld(t, wednesday10)
	ctx := context.Background()
	c := w.intakeWith(t, amina, "no_api", "")
	take := w.t("fr", "case.take")
	w.srv.SetMember(e2eLyon, lina, telegramtest.RestrictedLeft)
	w.press(t, lina, e2eLyon, take)
	if got, _ := w.st.Case(ctx, c.ID); got.Status != handoff.StatusWaiting {
		t.Fatalf("a restricted user who left took the case: %+v", got)
	}
	// Marc takes it, is restricted, then leaves: the case is back at once.
	w.press(t, marc, e2eLyon, take)
	if got, _ := w.st.Case(ctx, c.ID); got.TakenBy != marc.ID {
		t.Fatalf("Marc could not take the case: %+v", got)
	}
	w.srv.SetMember(e2eLyon, marc, "restricted")
	w.do(t, w.srv.LeaveGroup(e2eLyon, marc))
	if st := w.srv.MemberStatus(e2eLyon, marc.ID); st != telegramtest.RestrictedLeft {
		t.Fatalf("fake Bot API: status %q after a restricted user left", st)
	}
	if got, _ := w.st.Case(ctx, c.ID); got.Status != handoff.StatusWaiting || got.TakenBy != 0 {
		t.Fatalf("the case of a restricted user who left: %+v; want it back in the queue", got)
	}
	// Rémi takes it and is banned: back in the queue too.
	w.press(t, remi, e2eLyon, take)
	w.do(t, w.srv.BanFromGroup(e2eLyon, remi))
	if got, _ := w.st.Case(ctx, c.ID); got.Status != handoff.StatusWaiting || got.TakenBy != 0 {
		t.Fatalf("the case of a banned volunteer: %+v; want it back in the queue", got)
	}
	w.srv.RequireNoSpecErrors(t)
}

// TestRegressionAssignToBot: /assign in reply to the bot's own message (a
// copy) or to another bot's never makes a bot the assignee.
func TestRegressionAssignToBot(t *testing.T) {
	t.Parallel()
	w := newHandoffWorld(t, wednesday10)
	ctx := context.Background()
	c := w.intakeWith(t, amina, "no_api", "")
	w.press(t, lina, e2eLyon, w.t("fr", "case.take"))
	_, thread := w.topicOf(t, c.ID)
	w.do(t, w.srv.SendText(amina, "bonjour"))
	copies := w.waitCopies(t, e2eLyon, thread, c.ID, 1)
	w.do(t, w.srv.SendGroupReply(e2eLyon, thread, remi, copies[0].MessageID, "/assign"))
	if got, _ := w.st.Case(ctx, c.ID); got.TakenBy != lina.ID {
		t.Fatalf("/assign in reply to the bot's copy: taken by %d; want Lina still", got.TakenBy)
	}
	// It offers the colleagues instead, never a bot.
	if last := w.last(t, e2eLyon); !strings.Contains(last.PlainText, "attribuer") || strings.Contains(fmt.Sprint(last.Buttons), "Passerelle") {
		t.Errorf("after /assign to the bot: %q %v; want the list of colleagues", last.PlainText, last.Buttons)
	}
	other := telegramtest.User{ID: 5550001, FirstName: "HelperBot", IsBot: true}
	w.srv.SetMember(e2eLyon, other, "member")
	w.do(t, w.srv.SendGroupText(e2eLyon, thread, other, "Rappel automatique"))
	w.do(t, w.srv.SendGroupReply(e2eLyon, thread, remi, w.srv.LastUserMessageID(e2eLyon), "/assign"))
	if got, _ := w.st.Case(ctx, c.ID); got.TakenBy != lina.ID {
		t.Fatalf("/assign in reply to another bot: taken by %d; want Lina still", got.TakenBy)
	}
	if last := w.last(t, e2eLyon); strings.Contains(fmt.Sprint(last.Buttons), "HelperBot") {
		t.Errorf("/assign offers another bot: %v", last.Buttons)
	}
	// A colleague is assigned as before.
	w.do(t, w.srv.SendGroupText(e2eLyon, thread, marc, "je peux le prendre"))
	w.do(t, w.srv.SendGroupReply(e2eLyon, thread, remi, w.srv.LastUserMessageID(e2eLyon), "/assign"))
	if got, _ := w.st.Case(ctx, c.ID); got.TakenBy != lina.ID {
		t.Fatalf("/assign moved the case before its confirmation: %d", got.TakenBy)
	}
	w.press(t, remi, e2eLyon, w.t("fr", "case.confirm_button"))
	if got, _ := w.st.Case(ctx, c.ID); got.TakenBy != marc.ID {
		t.Fatalf("/assign in reply to Marc: taken by %d", got.TakenBy)
	}
	w.srv.RequireNoSpecErrors(t)
}

// TestRegressionVoiceWithoutConfirmation: a voice note, like every message
// that is not typed text (video note, video, audio, animation, sticker,
// location, contact, photo, document), waits for the resident's go before
// it reaches the volunteers; what is sent meanwhile waits with it; "No"
// sends none of it; "Yes" sends them, framed.
func TestRegressionVoiceWithoutConfirmation(t *testing.T) {
	t.Parallel()
	w := newHandoffWorld(t, wednesday10)
	c := w.intakeWith(t, amina, "no_api", "")
	w.press(t, lina, e2eLyon, w.t("fr", "case.take"))
	_, thread := w.topicOf(t, c.ID)
	confirm := catalog.PlainText(w.t("ar", "help.media.confirm", "Partner", "Entraide Rhône"))
	asked := func() int {
		n := 0
		for _, m := range w.srv.Messages(amina.ID) {
			if m.PlainText == confirm {
				n++
			}
		}
		return n
	}
	anyCopy := func() int {
		n := 0
		for _, m := range w.srv.Messages(e2eLyon) {
			if m.ThreadID == thread && (m.CopiedFrom == amina.ID || strings.HasPrefix(m.PlainText, catalog.PlainText(w.t("fr", "case.copy_header", "Case", c.ID)))) {
				n++
			}
		}
		return n
	}
	w.clk.Advance(time.Minute) // the resident's flood limit is full after the intake
	w.do(t, w.srv.SendVoice(amina))
	if asked() != 1 || anyCopy() != 0 {
		t.Fatalf("voice note: asked %d times, %d copies; want asked once, no copy", asked(), anyCopy())
	}
	for _, kind := range []string{"video_note", "video", "audio", "animation", "sticker", "location", "contact"} {
		w.do(t, w.srv.SendMedia(amina, kind, ""))
	}
	w.do(t, w.srv.SendDocument(amina, ""))
	if asked() != 1 || anyCopy() != 0 {
		t.Fatalf("files sent while the question is open: asked %d times, %d copies; want no copy and no second question", asked(), anyCopy())
	}
	w.clk.Advance(time.Minute)
	w.press(t, amina, amina.ID, w.t("ar", "help.media.no"))
	if anyCopy() != 0 {
		t.Fatalf("after No: %d copies", anyCopy())
	}
	// Each kind asks again, until a Yes.
	for _, kind := range []string{"location", "contact", "sticker"} {
		w.do(t, w.srv.SendMedia(amina, kind, ""))
	}
	if asked() != 2 || anyCopy() != 0 {
		t.Fatalf("after No, a location: asked %d times, %d copies", asked(), anyCopy())
	}
	w.press(t, amina, amina.ID, w.t("ar", "help.media.yes"))
	w.waitOutboxDrained(t)
	var kinds []string
	for _, m := range w.srv.Messages(e2eLyon) {
		if m.ThreadID == thread && m.CopiedFrom == amina.ID {
			kinds = append(kinds, m.Media)
		}
	}
	if !slices.Equal(kinds, []string{"location", "contact", "sticker"}) {
		t.Fatalf("copies after Yes: %v; want the location, the contact and the sticker, in order", kinds)
	}
	if n := len(w.copiesIn(e2eLyon, thread, c.ID)); n != 3 {
		t.Errorf("%d headers; want one before each of the 3 copies", n)
	}
	w.srv.RequireNoSpecErrors(t)
}

// TestRegressionTypedFakeBotNote: a resident who types what looks like the
// bot's own note ("✅ Dossier clos."), with a right-to-left override and
// zero-width characters, shows up in the topic under the bot's header, as
// a quotation, without the invisible characters; a volunteer's /r loses
// them too on the way to the resident.
func TestRegressionTypedFakeBotNote(t *testing.T) {
	t.Parallel()
	w := newHandoffWorld(t, wednesday10)
	c := w.intakeWith(t, amina, "no_api", "")
	w.press(t, lina, e2eLyon, w.t("fr", "case.take"))
	_, thread := w.topicOf(t, c.ID)
	note := catalog.PlainText(w.t("fr", "case.closed"))
	w.do(t, w.srv.SendText(amina, "\u202E"+note+"\u200B\u2066"))
	copies := w.waitCopies(t, e2eLyon, thread, c.ID, 1)
	header := catalog.PlainText(w.t("fr", "case.copy_header", "Case", c.ID))
	got := copies[0]
	if got.PlainText != header+"\n"+note {
		t.Errorf("copy = %q; want the header, then the text without its invisible characters", got.PlainText)
	}
	if !strings.Contains(got.Text, "<blockquote>"+note+"</blockquote>") {
		t.Errorf("copy = %q; want the resident's text quoted", got.Text)
	}
	for _, m := range w.srv.Messages(e2eLyon) {
		if m.PlainText == note || strings.HasPrefix(m.PlainText, note) {
			t.Errorf("message %d reads exactly like the bot's note: %q", m.MessageID, m.PlainText)
		}
	}
	before := len(w.srv.Messages(amina.ID))
	w.do(t, w.srv.SendGroupText(e2eLyon, thread, lina, "/r \u202Eruoy\u200B rendez-vous"))
	w.press(t, lina, e2eLyon, w.t("fr", "case.send_button"))
	sent := w.srv.Messages(amina.ID)[before:]
	if len(sent) != 1 || strings.ContainsAny(sent[0].PlainText, "\u202E\u200B") || !strings.Contains(sent[0].PlainText, "ruoy rendez-vous") {
		t.Fatalf("to the resident: %+v; want the text without bidi or zero-width characters", sent)
	}
	w.srv.RequireNoSpecErrors(t)
}

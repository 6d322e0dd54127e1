package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/locales"
)

const (
	e2eLyon     = -1001000000001
	e2eLyonRefs = -1001000000101 // Lyon's referents' group
	e2eParis    = -1001000000002
	e2eNat      = -1001000000004
	e2eNatRefs  = -1001000000104
)

const e2ePartners = `
fallback: national
partners:
  - id: lyon
    name: Entraide Rhône
    chat_id: -1001000000001
    referents_chat_id: -1001000000101
    departements: [69]
    languages: [fr, ar]
    problems: all
    hours: &office
      monday: 09:00-12:00, 14:00-17:00
      tuesday: 09:00-12:00, 14:00-17:00
      wednesday: 09:00-12:00, 14:00-17:00
      thursday: 09:00-12:00, 14:00-17:00
      friday: 09:00-12:00, 14:00-17:00
    sla_hours: 16
    capacity: 10
    referents: [200000001]
    coordinators: [200000003]
  - id: paris
    name: Accueil Paris Est
    chat_id: -1001000000002
    departements: [75, 69]
    languages: [fr, en]
    problems: all
    hours: *office
    capacity: 10
    referents: [200000011]
  - id: national
    name: Permanence nationale
    chat_id: -1001000000004
    referents_chat_id: -1001000000104
    departements: all
    languages: [fr]
    problems: all
    hours: *office
    capacity: 10
    referents: [200000031]
`

// handoffWorld is the bot wired as runBot wires it with a partners file,
// on a fake clock, against the fake Bot API.
type handoffWorld struct {
	srv  *telegramtest.Server
	clk  *clock.Fake
	tclk *clock.Fake // the transport's clock, with worldOptions.limits (else nil)
	disp *reminder.Dispatcher
	cat  *catalog.Catalog
	st   *bolt.Store
	bot  *bot.Bot
}

// worldOptions changes how newHandoffWorldWith builds the world.
type worldOptions struct {
	notForum []int64 // groups that are not forums
	// limits: the Telegram transport applies Telegram's default limits on
	// a fake clock of its own (tclk), and the fake Bot API enforces its
	// flood limits on the same clock.
	limits bool
	// env: variables read as run reads them (loadConfig), for the parts
	// of the bot configuration they set (PASSERELLE_TRANSLATE_URL).
	env map[string]string
}

func newHandoffWorld(t *testing.T, now time.Time, notForum ...int64) *handoffWorld {
	return newHandoffWorldWith(t, now, worldOptions{notForum: notForum})
}

func newHandoffWorldWith(t *testing.T, now time.Time, o worldOptions) *handoffWorld {
	t.Helper()
	w := &handoffWorld{clk: clock.NewFake(now)}
	if o.limits {
		w.tclk = clock.NewFake(now)
		w.srv = telegramtest.NewServer(t, telegramtest.WithFloodLimits(0), telegramtest.WithNow(w.tclk.Now))
	} else {
		w.srv = telegramtest.NewServer(t)
	}
	rights := telegramtest.ChatAdminRights{CanManageChat: true, CanDeleteMessages: true, CanPinMessages: true, CanManageTopics: true}
	for _, g := range []struct {
		id    int64
		title string
	}{{e2eLyon, "Entraide Rhône – bénévoles"}, {e2eLyonRefs, "Entraide Rhône – référents"}, {e2eParis, "Paris Est – bénévoles"},
		{e2eNat, "National"}, {e2eNatRefs, "National – référents"}} {
		w.srv.AddGroup(g.id, g.title, !slices.Contains(o.notForum, g.id), rights)
	}
	for _, m := range []struct {
		chat int64
		u    telegramtest.User
	}{{e2eLyon, lina}, {e2eLyon, marc}, {e2eLyon, remi}, {e2eLyon, coord}, {e2eLyonRefs, remi}, {e2eParis, paul},
		{e2eNat, nadia}, {e2eNatRefs, nadia}} {
		w.srv.SetMember(m.chat, m.u, "member")
	}
	path := filepath.Join(t.TempDir(), "partners.yaml")
	if err := os.WriteFile(path, []byte(e2ePartners), 0o600); err != nil {
		t.Fatal(err)
	}
	partners, err := loadPartners(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := bolt.Open(filepath.Join(t.TempDir(), "handoff.db"), bolt.WithKeys(testKeys), bolt.WithClock(w.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	w.st = st
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	cat.SetMissing(func(lang, id string, err error) { t.Errorf("catalog fallback: %s %s", lang, id) })
	w.cat = cat
	g, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	tc := telegram.Config{Token: w.srv.Token(), APIURL: w.srv.APIURL(), Logger: logger, ChatInterval: -1, GroupPerMinute: -1, PollTimeout: time.Second}
	if o.limits {
		tc.Clock, tc.ChatInterval, tc.GroupPerMinute = w.tclk, 0, 0 // Telegram's defaults, on the transport's clock
	}
	client, err := telegram.New(ctx, tc)
	if err != nil {
		t.Fatal(err)
	}
	docs, sched, err := reminderParts(st)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := caseStore(st)
	if err != nil {
		t.Fatal(err)
	}
	outbox, err := outboxOf(st)
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	bc := bot.Config{Store: st, Catalog: cat, Sender: client.Sender(), Logger: logger, Clock: w.clk, Location: paris, Guide: g,
		Documents: docs, Reminders: sched, Partners: partners, Cases: cases, Groups: client, Outbox: outbox, BotUsername: client.Username()}
	if o.env != nil {
		cfg, err := loadConfig(func(k string) string { return o.env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Translator != nil {
			bc.Translator = cfg.Translator
		}
	}
	b, err := bot.New(bc)
	if err != nil {
		t.Fatal(err)
	}
	w.bot = b
	checkGroups(ctx, partners, client, b, logger)
	syncGroupCommands(ctx, partners, client, b, logger)
	relayDone := make(chan struct{})
	go func() { defer close(relayDone); _ = b.RunRelay(ctx) }()
	w.disp = reminder.NewDispatcher(sched, b, reminder.Config{Clock: w.clk, Location: paris, Logger: logger})
	updates := bot.NewDispatcher(b, bot.DispatcherConfig{Logger: logger, Clock: clock.Real{}})
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); _ = client.Poll(ctx, updates) }()
	t.Cleanup(func() {
		cancel()
		<-pollDone
		_ = updates.Close(context.Background())
		<-relayDone
		st.Close()
	})
	w.srv.WaitPolling(t, wait)
	return w
}

var (
	amina = telegramtest.User{ID: 7400001, FirstName: "Amina", Username: "amina_k69", LanguageCode: "ar"}
	lina  = telegramtest.User{ID: 200000005, FirstName: "Lina"}
	marc  = telegramtest.User{ID: 200000006, FirstName: "Marc"}
	remi  = telegramtest.User{ID: 200000001, FirstName: "Rémi"}
	coord = telegramtest.User{ID: 200000003, FirstName: "Coord"}
	paul  = telegramtest.User{ID: 200000015, FirstName: "Paul"}
	nadia = telegramtest.User{ID: 200000031, FirstName: "Nadia"} // national's referent
	eve   = telegramtest.User{ID: 200000099, FirstName: "Eve"}
)

func (w *handoffWorld) do(t *testing.T, id int64) {
	t.Helper()
	w.srv.WaitDelivered(t, id, wait)
}

func (w *handoffWorld) press(t *testing.T, u telegramtest.User, chat int64, label string) {
	t.Helper()
	id, err := w.srv.PressButton(u, chat, label)
	if err != nil {
		t.Fatal(err)
	}
	w.do(t, id)
}

func (w *handoffWorld) t(lang, id string, args ...any) string {
	return w.cat.Printer(lang).T(id, args...)
}

func (w *handoffWorld) last(t *testing.T, chat int64) telegramtest.Message {
	t.Helper()
	msgs := w.srv.Messages(chat)
	if len(msgs) == 0 {
		t.Fatalf("nothing sent to %d", chat)
	}
	return msgs[len(msgs)-1]
}

// copiesIn returns the messages of thread in chat that carry copies of
// case id's resident messages: each starts with the bot's header.
func (w *handoffWorld) copiesIn(chat int64, thread int, id int64) []telegramtest.Message {
	header := catalog.PlainText(w.t("fr", "case.copy_header", "Case", id))
	var out []telegramtest.Message
	for _, m := range w.srv.Messages(chat) {
		if m.ThreadID == thread && !m.Deleted && strings.HasPrefix(m.PlainText, header) {
			out = append(out, m)
		}
	}
	return out
}

// waitCopies waits until thread holds n copies of case id's messages.
func (w *handoffWorld) waitCopies(t *testing.T, chat int64, thread int, id int64, n int) []telegramtest.Message {
	t.Helper()
	deadline := time.After(wait)
	for {
		changed := w.srv.Changed()
		if got := w.copiesIn(chat, thread, id); len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("topic %d of chat %d: %d copies after %v; want %d", thread, chat, len(w.copiesIn(chat, thread, id)), wait, n)
		}
	}
}

// intake asks for help as an Arabic-speaking resident of the Rhône.
func (w *handoffWorld) intake(t *testing.T, u telegramtest.User, problem string) {
	t.Helper()
	w.do(t, w.srv.SendText(u, "/volunteer"))
	w.press(t, u, u.ID, w.t("ar", "help.problem."+problem))
	w.do(t, w.srv.SendText(u, "69"))
	w.press(t, u, u.ID, "العربية")
	if handoff.Problem(problem).Urgent() {
		w.do(t, w.srv.SendText(u, "24/11/2026")) // the day the letter came
	} else {
		w.do(t, w.srv.SendText(u, "30/06/2027")) // the card's end of validity
	}
	w.press(t, u, u.ID, "◻️ "+w.t("ar", "help.risk.work"))
	w.press(t, u, u.ID, w.t("ar", "help.risk.done"))
	w.press(t, u, u.ID, w.t("ar", "help.skip"))
}

func (w *handoffWorld) caseOf(t *testing.T, u telegramtest.User) handoff.Case {
	t.Helper()
	cs, err := w.st.CasesOf(context.Background(), u.ID)
	if err != nil || len(cs) == 0 {
		t.Fatalf("cases of %d: %v %v", u.ID, cs, err)
	}
	return cs[len(cs)-1]
}

// TestHandoffEndToEnd follows one request through Telegram: intake and
// consent in Arabic, routing to Lyon, the card, forged and concurrent takes,
// the topic and its pinned summary, the relay both ways with every media
// kind, stats and export, the absence of the resident's identity in partner
// groups, and /forget deleting the topic.
func TestHandoffEndToEnd(t *testing.T) {
	t.Parallel()
	// Wednesday 25 November 2026, 10:00 in Paris: the partners are open.
	w := newHandoffWorld(t, time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))

	w.intake(t, amina, "no_api")
	consent := w.last(t, amina.ID)
	if !strings.Contains(consent.Text, "Entraide Rhône") || strings.Contains(consent.Text, "Accueil Paris Est") {
		t.Fatalf("Arabic from 69 should go to Lyon:\n%s", consent.Text)
	}
	w.press(t, amina, amina.ID, w.t("ar", "help.consent.yes"))
	if kb := w.srv.ReplyKeyboard(amina.ID); len(kb) == 0 || kb[0][0] != w.t("ar", "help.leave") {
		t.Errorf("no persistent leave button: %v", kb)
	}
	card := w.last(t, e2eLyon)
	if !strings.Contains(card.Text, "Dossier #") || len(w.srv.Messages(e2eParis)) != 0 {
		t.Fatalf("card not in Lyon's group only: %q", card.Text)
	}
	c := w.caseOf(t, amina)
	take := w.t("fr", "case.take")

	// A message before the claim is kept for the topic.
	w.do(t, w.srv.SendText(amina, "مرحبا، لم أحصل على API"))

	// An outsider's press changes nothing; two members at once: one wins.
	w.srv.SetMember(e2eLyon, eve, "left")
	w.press(t, eve, e2eLyon, take)
	if got, _ := w.st.Case(context.Background(), c.ID); got.Status != handoff.StatusWaiting {
		t.Fatalf("a non-member took the case: %+v", got)
	}
	id1, err1 := w.srv.PressButton(lina, e2eLyon, take)
	id2, err2 := w.srv.PressButton(marc, e2eLyon, take)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	w.do(t, id1)
	w.do(t, id2)
	got, _ := w.st.Case(context.Background(), c.ID)
	if got.Status != handoff.StatusTaken || (got.TakenBy != lina.ID && got.TakenBy != marc.ID) {
		t.Fatalf("after two takes: %+v", got)
	}
	taker, lost := lina, id2
	if got.TakenBy == marc.ID {
		taker, lost = marc, id1
	}
	// The volunteer who lost the race is told who took it, by a notice on
	// the button (not a message in the group).
	if a, ok := w.srv.AnswerOf(lost); !ok || a.Text != "Déjà pris par "+taker.FirstName || a.ShowAlert {
		t.Errorf("the loser's button was answered %+v (answered %v); want the notice \"Déjà pris par %s\"", a, ok, taker.FirstName)
	}
	topics := w.srv.Topics(e2eLyon)
	if len(topics) != 1 || !strings.Contains(topics[0].Name, fmt.Sprint(c.ID)) {
		t.Fatalf("topics = %+v; want one for the case", topics)
	}
	thread := topics[0].ThreadID
	if len(w.srv.Pinned(e2eLyon)) != 1 {
		t.Errorf("summary not pinned: %v", w.srv.Pinned(e2eLyon))
	}

	// The resident's text, photo, document and voice arrive in the topic.
	w.do(t, w.srv.SendText(amina, "عندي موعد؟"))
	w.do(t, w.srv.SendPhoto(amina, ""))
	w.press(t, amina, amina.ID, w.t("ar", "help.media.yes"))
	w.do(t, w.srv.SendDocument(amina, ""))
	w.do(t, w.srv.SendVoice(amina))
	copies := w.waitCopies(t, e2eLyon, thread, c.ID, 5)
	media := map[string]int{}
	for _, m := range copies {
		media[m.Media]++
	}
	if len(copies) != 5 || media["photo"] != 1 || media["document"] != 1 || media["voice"] != 1 {
		t.Fatalf("copies in the topic: %d, media %v; want 2 texts, a photo, a document and a voice note", len(copies), media)
	}

	// A reply to a relayed message and a plain message in the topic stay
	// internal; /r shows a preview and reaches the resident, signed, once
	// its author presses Send.
	before := len(w.srv.Messages(amina.ID))
	w.do(t, w.srv.SendGroupReply(e2eLyon, thread, taker, copies[1].MessageID, "Note interne : je regarde votre dossier."))
	w.do(t, w.srv.SendGroupText(e2eLyon, thread, marc, "Note interne : c'est un B4."))
	w.do(t, w.srv.SendGroupText(e2eLyon, thread, taker, "/r Pouvez-vous venir mardi ?"))
	if n := len(w.srv.Messages(amina.ID)) - before; n != 0 {
		t.Fatalf("resident got %d messages before Send", n)
	}
	w.press(t, taker, e2eLyon, w.t("fr", "case.send_button"))
	toResident := w.srv.Messages(amina.ID)[before:]
	if len(toResident) != 1 {
		t.Fatalf("resident got %d messages; want 1 (the /r after Send): %+v", len(toResident), toResident)
	}
	for _, m := range toResident {
		if !strings.Contains(m.Text, taker.FirstName) || !strings.Contains(m.Text, "Entraide Rhône") || strings.Contains(m.Text, "interne") || !strings.Contains(m.Text, "mardi") {
			t.Errorf("message to resident = %q", m.Text)
		}
	}
	// Withdrawn within the window: deleted on the resident's side.
	w.press(t, taker, e2eLyon, w.t("fr", "case.undo_button", "Minutes", 5))
	if left := w.srv.Messages(amina.ID)[before:]; len(left) != 1 || !left[0].Deleted {
		t.Errorf("after Undo the resident still has %+v", left)
	}

	// Stats and the anonymous export for the coordinator.
	w.do(t, w.srv.SendGroupText(e2eLyon, 0, coord, "/stats"))
	stats := w.last(t, e2eLyon).Text
	if !strings.Contains(stats, w.t("fr", "stats.taken", "N", 1)) || !strings.Contains(stats, w.t("fr", "stats.waiting", "N", 0)) {
		t.Errorf("/stats = %q", stats)
	}
	w.do(t, w.srv.SendGroupText(e2eLyon, 0, coord, "/export"))
	export := w.last(t, e2eLyon).Text
	if !strings.Contains(export, "mois,département,problème,demandes") || !strings.Contains(export, "2026-11,69,no_api,&lt;5") {
		t.Errorf("/export = %q; want the count of 1 suppressed", export)
	}

	// Nothing sent to partner groups names the resident.
	for _, chat := range []int64{e2eLyon, e2eParis, e2eNat} {
		for _, m := range w.srv.Messages(chat) {
			for _, leak := range []string{amina.FirstName, amina.Username, fmt.Sprint(amina.ID)} {
				if strings.Contains(m.Text, leak) {
					t.Errorf("group %d got %q: %q", chat, leak, m.Text)
				}
			}
		}
		for _, tp := range w.srv.Topics(chat) {
			if strings.Contains(tp.Name, amina.FirstName) || strings.Contains(tp.Name, amina.Username) {
				t.Errorf("topic name %q names the resident", tp.Name)
			}
		}
	}

	// /forget deletes the topic and the case.
	w.do(t, w.srv.SendText(amina, "/forget"))
	w.press(t, amina, amina.ID, w.t("ar", "forget.yes"))
	if calls := w.srv.Calls("deleteForumTopic"); len(calls) != 1 {
		t.Errorf("deleteForumTopic calls = %d; want 1", len(calls))
	}
	if cs, _ := w.st.CasesOf(context.Background(), amina.ID); len(cs) != 0 {
		t.Errorf("cases after /forget: %v", cs)
	}
	w.srv.RequireNoSpecErrors(t)
}

// TestHandoffSLAAndOpeningHours: outside opening hours the resident gets
// the automatic answer; unclaimed past the SLA counted in opening hours
// across a weekend, the case goes to the next partner once and the
// resident is told.
func TestHandoffSLAAndOpeningHours(t *testing.T) {
	t.Parallel()
	// Friday 27 November 2026, 16:00 in Paris.
	w := newHandoffWorld(t, time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC))
	w.intake(t, amina, "stuck")
	w.press(t, amina, amina.ID, w.t("ar", "help.consent.yes"))

	// Saturday: closed.
	w.clk.Set(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	w.do(t, w.srv.SendText(amina, "هل من أحد؟"))
	auto := w.last(t, amina.ID).Text
	if !strings.Contains(auto, "Entraide Rhône") || !strings.Contains(auto, "\u20669:00\u2069") {
		t.Errorf("no automatic answer outside opening hours: %q", auto)
	}

	// Hour by hour to Thursday: 16 opening hours end on Wednesday
	// 2 December at 12:00.
	ctx := context.Background()
	for now := w.clk.Now(); now.Before(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)); now = now.Add(time.Hour) {
		w.clk.Set(now)
		if _, err := w.disp.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c := w.caseOf(t, amina)
	if c.PartnerID != "paris" || len(c.Tried) != 1 {
		t.Fatalf("after the SLA: partner %s, tried %v; want paris, once", c.PartnerID, c.Tried)
	}
	cards := 0
	for _, m := range w.srv.Messages(e2eParis) {
		if strings.Contains(m.Text, "Dossier #") {
			cards++
		}
	}
	if cards != 1 {
		t.Errorf("%d cards at Paris; want 1", cards)
	}
	told := false
	for _, m := range w.srv.Messages(amina.ID) {
		told = told || strings.Contains(m.Text, "Accueil Paris Est")
	}
	if !told {
		t.Error("resident not told about the forward")
	}
	w.srv.RequireNoSpecErrors(t)
}

// TestHandoffRoutingEndToEnd: a referral link, a coordinator's /pause and a
// misconfigured group each change where an Arabic speaker from 69 goes.
func TestHandoffRoutingEndToEnd(t *testing.T) {
	t.Parallel()
	wednesday := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	consentNames := func(t *testing.T, w *handoffWorld, u telegramtest.User) string {
		t.Helper()
		w.intake(t, u, "login")
		return w.last(t, u.ID).Text
	}
	t.Run("referral to Paris", func(t *testing.T) {
		w := newHandoffWorld(t, wednesday)
		u := telegramtest.User{ID: 7400101, LanguageCode: "ar"}
		w.do(t, w.srv.SendText(u, "/start p-paris"))
		if got := consentNames(t, w, u); !strings.Contains(got, "Accueil Paris Est") {
			t.Errorf("with a Paris referral: %q", got)
		}
	})
	t.Run("Lyon paused by its coordinator", func(t *testing.T) {
		w := newHandoffWorld(t, wednesday)
		w.do(t, w.srv.SendGroupText(e2eLyon, 0, coord, "/pause"))
		u := telegramtest.User{ID: 7400102, LanguageCode: "ar"}
		if got := consentNames(t, w, u); !strings.Contains(got, "Accueil Paris Est") {
			t.Errorf("with Lyon paused: %q", got)
		}
	})
	t.Run("Lyon's group is not a forum", func(t *testing.T) {
		w := newHandoffWorld(t, wednesday, e2eLyon)
		u := telegramtest.User{ID: 7400103, LanguageCode: "ar"}
		if got := consentNames(t, w, u); !strings.Contains(got, "Accueil Paris Est") {
			t.Errorf("with Lyon misconfigured: %q", got)
		}
	})
}

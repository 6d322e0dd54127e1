package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// Partner groups and people of the hand-off tests.
const (
	lyonChat   = -1001000000001
	lyonRefs   = -1001000000101 // Lyon's referents' group
	parisChat  = -1001000000002
	natChat    = -1001000000004
	natRefs    = -1001000000104
	lyonRef    = 100000001 // referent of Lyon
	lyonVol    = 100000005 // volunteer of Lyon
	lyonVol2   = 100000006
	outsider   = 100000099 // not in any group
	parisVol   = 100000015
	residentAr = 7300001
)

const testPartners = `
fallback: national
partners:
  - id: lyon
    name: Entraide Rhône
    chat_id: -1001000000001
    referents_chat_id: -1001000000101
    departements: [69, 01]
    languages: [fr, ar, en]
    problems: all
    hours: &office
      monday: 09:00-12:00, 14:00-17:00
      tuesday: 09:00-12:00, 14:00-17:00
      wednesday: 09:00-12:00, 14:00-17:00
      thursday: 09:00-12:00, 14:00-17:00
      friday: 09:00-12:00, 14:00-17:00
    sla_hours: 16
    urgent_sla_hours: 2
    capacity: 3
    referents: [100000001]
    coordinators: [100000003]
    contact:
      address: 1 rue de l'Exemple, 69000 Lyon
      hours: "mardi et jeudi 14h-17h"
      phone: 04 99 00 00 01
    emergency:
      - name: Ligne urgence Rhône
        phone: 01 99 00 00 02
  - id: paris
    name: Accueil Paris Est
    chat_id: -1001000000002
    departements: [75, 93, 69]
    languages: [fr, en, fa, ps]
    problems: all
    hours: *office
    capacity: 40
    referents: [100000011]
  - id: national
    name: Permanence nationale
    chat_id: -1001000000004
    referents_chat_id: -1001000000104
    departements: all
    languages: [fr, en]
    problems: all
    hours: *office
    capacity: 100
    referents: [100000031]
`

// fakeGroups is the transport's group side: topics, pins, deletions and
// who is a member of which group.
type fakeGroups struct {
	mu      sync.Mutex
	next    int
	topics  map[int64][]string // chat → topic names, by creation
	deleted map[int64][]int
	msgDel  map[int64][]int // chat → deleted message ids
	pinned  map[int64][]int
	members map[int64]map[int64]string
	bots    map[int64]bool
	names   map[int64]string
}

func newFakeGroups() *fakeGroups {
	return &fakeGroups{next: 100, topics: map[int64][]string{}, deleted: map[int64][]int{}, msgDel: map[int64][]int{}, pinned: map[int64][]int{},
		members: map[int64]map[int64]string{
			lyonChat:  {lyonRef: "member", lyonVol: "member", lyonVol2: "member", 100000003: "member"},
			lyonRefs:  {lyonRef: "member"},
			parisChat: {parisVol: "member", 100000011: "member"},
			natChat:   {100000031: "member"},
			natRefs:   {100000031: "member"},
		}, bots: map[int64]bool{},
		names: map[int64]string{lyonRef: "Rémi", lyonVol: "Lina", lyonVol2: "Marc", 100000003: "Coralie", parisVol: "Paul", 100000011: "Sophie", 100000031: "Nadia"}}
}

func (g *fakeGroups) DeleteMessage(ctx context.Context, chatID int64, messageID int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.msgDel[chatID] = append(g.msgDel[chatID], messageID)
	return nil
}

func (g *fakeGroups) CreateForumTopic(ctx context.Context, chatID int64, name string) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	g.topics[chatID] = append(g.topics[chatID], name)
	return g.next, nil
}

func (g *fakeGroups) DeleteForumTopic(ctx context.Context, chatID int64, threadID int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deleted[chatID] = append(g.deleted[chatID], threadID)
	return nil
}

func (g *fakeGroups) PinMessage(ctx context.Context, chatID int64, messageID int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pinned[chatID] = append(g.pinned[chatID], messageID)
	return nil
}

func (g *fakeGroups) Member(ctx context.Context, chatID, userID int64) (bot.Membership, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.members[chatID][userID]
	if !ok {
		st = "left"
	}
	// "restricted-left" stands for Telegram's restricted user who left:
	// status restricted, is_member false.
	if st == "restricted-left" {
		return bot.Membership{Status: "restricted", IsBot: g.bots[userID], FirstName: g.names[userID]}, nil
	}
	return bot.Membership{Status: st, IsMember: st == "restricted", IsBot: g.bots[userID], FirstName: g.names[userID]}, nil
}

type handoffFixture struct {
	*fixture
	groups   *fakeGroups
	partners *handoff.Partners
}

// wednesday10 is an opening hour: Wednesday 25 November 2026, 10:00 in Paris.
var wednesday10 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func newHandoffFixture(t *testing.T) *handoffFixture {
	t.Helper()
	return handoffFixtureOf(t, newFixture(t))
}

func handoffFixtureOf(t *testing.T, f *fixture) *handoffFixture {
	t.Helper()
	ps, err := handoff.LoadPartners(strings.NewReader(testPartners))
	if err != nil {
		t.Fatal(err)
	}
	h := &handoffFixture{fixture: f, groups: newFakeGroups(), partners: ps}
	b, err := bot.New(bot.Config{Store: f.store, Catalog: f.cat, Sender: f.sent, Clock: f.clock,
		Documents: f.store, Reminders: f.store, Partners: ps, Cases: f.store, Groups: h.groups, Outbox: f.store, BotUsername: "passerelle_test_bot"})
	if err != nil {
		t.Fatal(err)
	}
	f.bot = b
	f.clock.Set(wednesday10)
	return h
}

// handle handles u, then sends what it put in the relay outbox (a worker
// does that in the running bot).
func (h *handoffFixture) handle(t *testing.T, u bot.Update) {
	t.Helper()
	h.fixture.handle(t, u)
	if err := h.bot.FlushRelay(context.Background()); err != nil {
		t.Fatalf("FlushRelay: %v", err)
	}
}

func groupPress(chat, user int64, name, data string) bot.Update {
	return bot.Update{Kind: bot.KindCallback, ChatID: chat, ChatType: bot.ChatSupergroup, UserID: user, FirstName: name, Data: data, CallbackID: "cb"}
}

func groupText(chat int64, thread int, user int64, name, text string, replyTo int) bot.Update {
	u := bot.Update{Kind: bot.KindText, ChatID: chat, ChatType: bot.ChatSupergroup, UserID: user, FirstName: name, Text: text,
		ThreadID: thread, IsTopicMessage: thread != 0, ReplyToMessageID: replyTo}
	if strings.HasPrefix(text, "/") {
		u.Kind = bot.KindCommand
		cmd, args, _ := strings.Cut(text[1:], " ")
		u.Command, u.Args = cmd, args
	}
	if replyTo == 0 && thread != 0 {
		u.ReplyToMessageID = thread // Telegram: a topic message replies to the topic's first message
	}
	return u
}

// intake walks a resident through the request up to the consent screen.
func (h *handoffFixture) intake(t *testing.T, user int64, lang, problem, dep, desc string) bot.Reply {
	t.Helper()
	h.handle(t, command(user, lang, "volunteer"))
	h.handle(t, press(user, lang, "h:p:"+problem))
	h.handle(t, typed(user, lang, dep))
	if lang != "fr" {
		h.handle(t, press(user, lang, "h:l:"+lang))
	}
	if handoff.Problem(problem).Urgent() {
		h.handle(t, typed(user, lang, "24/11/2026")) // the day the letter came
		if problem == string(handoff.ProblemOQTF) {
			h.handle(t, press(user, lang, "h:v:"+handoff.DepartureUnknown))
		}
	} else {
		h.handle(t, typed(user, lang, "30/06/2027")) // the card's end of validity
	}
	h.handle(t, press(user, lang, "h:k:work"))
	h.handle(t, press(user, lang, "h:k:done"))
	if desc == "" {
		h.handle(t, press(user, lang, "h:s"))
	} else {
		h.handle(t, typed(user, lang, desc))
	}
	return h.sent.last(t, user)
}

// cardOf returns the last case card posted in chat.
func (h *handoffFixture) cardOf(t *testing.T, chat int64) bot.Reply {
	t.Helper()
	for _, r := range slicesReverse(h.sent.to(chat)) {
		for d := range buttons(r) {
			if strings.HasPrefix(d, "hc:t:") {
				return r
			}
		}
	}
	t.Fatalf("no case card in chat %d", chat)
	return bot.Reply{}
}

func slicesReverse(rs []bot.Reply) []bot.Reply {
	out := make([]bot.Reply, len(rs))
	for i, r := range rs {
		out[len(rs)-1-i] = r
	}
	return out
}

func takeData(t *testing.T, card bot.Reply) string {
	t.Helper()
	for d := range buttons(card) {
		if strings.HasPrefix(d, "hc:t:") {
			return d
		}
	}
	t.Fatal("card without Take")
	return ""
}

func (h *handoffFixture) caseOf(t *testing.T, user int64) handoff.Case {
	t.Helper()
	cs, err := h.store.CasesOf(context.Background(), user)
	if err != nil || len(cs) == 0 {
		t.Fatalf("cases of %d: %v %v", user, cs, err)
	}
	return cs[len(cs)-1]
}

func TestRoutingByDepartementLanguageAndReferral(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(h *handoffFixture)
		wantPartner string
		wantChat    int64
	}{
		{"Arabic from 69 goes to Lyon, not Paris", nil, "Entraide Rhône", lyonChat},
		{"a referral to Paris, which covers 69", func(h *handoffFixture) {
			h.handle(t, bot.Update{Kind: bot.KindCommand, UserID: residentAr, LanguageCode: "ar", Command: "start", Args: "p-paris", Text: "/start p-paris"})
		}, "Accueil Paris Est", parisChat},
		{"Lyon paused", func(h *handoffFixture) {
			if err := h.store.SetPaused(context.Background(), "lyon", true); err != nil {
				t.Fatal(err)
			}
		}, "Accueil Paris Est", parisChat},
		{"Lyon full", func(h *handoffFixture) {
			for i := range 3 {
				c := handoff.Case{ID: int64(900 + i), ResidentID: int64(1 + i), PartnerID: "lyon", Status: handoff.StatusWaiting, Problem: handoff.ProblemLogin, Created: wednesday10}
				if _, err := h.store.CreateCase(context.Background(), c); err != nil {
					t.Fatal(err)
				}
			}
		}, "Accueil Paris Est", parisChat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandoffFixture(t)
			if tt.setup != nil {
				tt.setup(h)
			}
			consent := h.intake(t, residentAr, "ar", "no_api", "69", "")
			if !strings.Contains(consent.Text, tt.wantPartner) {
				t.Fatalf("consent screen does not name %s:\n%s", tt.wantPartner, consent.Text)
			}
			h.handle(t, press(residentAr, "ar", "h:y"))
			card := h.cardOf(t, tt.wantChat)
			if !strings.Contains(card.Text, "69") || !strings.Contains(card.Text, "Dossier #") {
				t.Errorf("card = %q", card.Text)
			}
		})
	}
}

func TestConsentRefusedKeepsNothing(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "ar", "stuck", "69", "zorglub my file is stuck")
	h.handle(t, press(residentAr, "ar", "h:n"))
	if got := h.sent.last(t, residentAr).Text; !strings.Contains(got, "Défenseur des droits") {
		t.Errorf("refusing consent must lead to public help; got %q", got)
	}
	var found []string
	if err := h.store.Scan(func(k, v []byte) error {
		if s := string(k) + string(v); strings.Contains(s, "zorglub") || strings.Contains(s, `"stuck"`) {
			found = append(found, string(k))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("after refused consent the store holds the problem: %v", found)
	}
	if len(h.sent.to(lyonChat)) != 0 {
		t.Error("something was sent to the partner")
	}
}

func TestTakeIsAtomicAndChecked(t *testing.T) {
	h := newHandoffFixture(t)
	for round := range 20 {
		user := int64(residentAr + round)
		h.clock.Advance(time.Minute)
		h.intake(t, user, "fr", "login", "69", "")
		h.handle(t, press(user, "fr", "h:y"))
		c := h.caseOf(t, user)
		data := fmt.Sprintf("hc:t:%d", c.ID)
		var wg sync.WaitGroup
		for _, vol := range []int64{lyonVol, lyonVol2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := h.bot.Handle(context.Background(), groupPress(lyonChat, vol, "Vol", data)); err != nil {
					t.Errorf("Handle: %v", err)
				}
			}()
		}
		wg.Wait()
		got, _ := h.store.Case(context.Background(), c.ID)
		if got.Status != handoff.StatusTaken || (got.TakenBy != lyonVol && got.TakenBy != lyonVol2) {
			t.Fatalf("round %d: case = %+v", round, got)
		}
		if n := len(h.groups.topics[lyonChat]); n != round+1 {
			t.Fatalf("round %d: %d topics; want one per case", round, n)
		}
		// The resident now has an open case: close it for the next round.
		h.handle(t, command(user, "fr", "endhelp"))
	}
}

func TestForgedAndUnauthorisedTakesChangeNothing(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "ar", "oqtf", "69", "")
	h.handle(t, press(residentAr, "ar", "h:y"))
	c := h.caseOf(t, residentAr)
	data := fmt.Sprintf("hc:t:%d", c.ID)
	h.handle(t, groupPress(lyonChat, outsider, "Eve", data))   // not a member
	h.handle(t, groupPress(parisChat, parisVol, "Paul", data)) // another partner's group
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", data))   // member, but OQTF is for referents
	if got, _ := h.store.Case(context.Background(), c.ID); got.Status != handoff.StatusWaiting {
		t.Fatalf("an unauthorised take changed the case: %+v", got)
	}
	h.handle(t, groupPress(lyonChat, lyonRef, "Rémi", data))
	if got, _ := h.store.Case(context.Background(), c.ID); got.Status != handoff.StatusTaken || got.TakenBy != lyonRef {
		t.Fatalf("the referent could not take the OQTF case: %+v", got)
	}

	// An ordinary case: a non-member's forged press in the group changes
	// nothing; a member's does.
	const other = residentAr + 1
	h.intake(t, other, "ar", "login", "69", "") // Lyon speaks Arabic, Paris does not
	h.handle(t, press(other, "ar", "h:y"))
	c2 := h.caseOf(t, other)
	data2 := fmt.Sprintf("hc:t:%d", c2.ID)
	h.handle(t, groupPress(lyonChat, outsider, "Eve", data2))
	if got, _ := h.store.Case(context.Background(), c2.ID); got.Status != handoff.StatusWaiting {
		t.Fatalf("a non-member took the case: %+v", got)
	}
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", data2))
	if got, _ := h.store.Case(context.Background(), c2.ID); got.TakenBy != lyonVol {
		t.Fatalf("a member could not take the case: %+v", got)
	}
}

func TestRelayBothWays(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "ar", "no_api", "69", "")
	h.handle(t, press(residentAr, "ar", "h:y"))
	// Before the claim: kept, copied into the topic when it opens.
	h.handle(t, bot.Update{Kind: bot.KindText, UserID: residentAr, LanguageCode: "ar", Text: "سلام", MessageID: 501})
	c := h.caseOf(t, residentAr)
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", fmt.Sprintf("hc:t:%d", c.ID)))
	c = h.caseOf(t, residentAr)
	if c.TopicID == 0 || len(h.groups.pinned[lyonChat]) != 1 {
		t.Fatalf("no topic or no pinned summary: %+v", c)
	}
	// Every copy starts with the bot's header; a text comes quoted.
	header := h.cat.Printer("fr").T("case.copy_header", "Case", c.ID)
	copies := func() []bot.Reply {
		var out []bot.Reply
		for _, r := range h.sent.to(lyonChat) {
			if r.ThreadID == c.TopicID && strings.HasPrefix(r.Text, header) {
				out = append(out, r)
			}
		}
		return out
	}
	if got := copies(); len(got) != 1 || got[0].Text != header+"\n<blockquote>سلام</blockquote>" {
		t.Fatalf("pending message not copied into the topic: %+v", got)
	}
	if got := h.sent.last(t, residentAr).Text; !strings.Contains(got, "Entraide Rhône") {
		t.Errorf("resident not told the case was taken: %q", got)
	}
	// After the claim: straight into the topic; photos after a warning.
	h.handle(t, bot.Update{Kind: bot.KindText, UserID: residentAr, LanguageCode: "ar", Text: "مرحبا", MessageID: 502})
	h.handle(t, bot.Update{Kind: bot.KindPhoto, UserID: residentAr, LanguageCode: "ar", FileID: "ph", MessageID: 503})
	if got := h.sent.last(t, residentAr); buttons(got)["h:m:y"] == "" {
		t.Fatalf("no warning before relaying a photo: %q", got.Text)
	}
	if n := len(copies()); n != 2 {
		t.Fatalf("the photo was copied before the resident's go (%d copies)", n)
	}
	h.handle(t, press(residentAr, "ar", "h:m:y"))
	h.handle(t, bot.Update{Kind: bot.KindDocument, UserID: residentAr, LanguageCode: "ar", FileID: "doc", MessageID: 504})
	h.handle(t, bot.Update{Kind: bot.KindVoice, UserID: residentAr, LanguageCode: "ar", FileID: "voice", MessageID: 505})
	got5 := copies()
	if len(got5) != 5 {
		t.Fatalf("copies in the topic = %d; want 5 (text, text, photo, document, voice)", len(got5))
	}
	for i, msg := range []int{503, 504, 505} {
		if r := got5[2+i]; r.CopyFromChatID != residentAr || r.CopyMessageID != msg || !r.ReplaceCaption {
			t.Errorf("copy of file %d = %+v; want a copy with the header as caption", msg, r)
		}
	}
	// A reply to a relayed message stays internal, like any message in the topic.
	rel := h.relayedID(t, c, 502)
	before := len(h.sent.to(residentAr))
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "Bonjour, je regarde votre dossier.", rel))
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol2, "Marc", "Je pense que c'est un B4.", 0))
	if n := len(h.sent.to(residentAr)); n != before {
		t.Fatal("an internal message reached the resident")
	}
	// /r then Send: it reaches the resident, signed.
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "/r Pouvez-vous passer mardi ?", 0))
	send, _ := h.buttonIn(t, lyonChat, "hc:s:")
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", send, 900))
	if last := h.sent.last(t, residentAr).Text; !strings.Contains(last, "mardi") || !strings.Contains(last, "Lina") || !strings.Contains(last, "Entraide Rhône") {
		t.Errorf("/r not relayed signed: %q", last)
	}
}

// relayedID finds the id the recorder gave to the copy of resident message
// msg in the topic, as Telegram would return it.
func (h *handoffFixture) relayedID(t *testing.T, c handoff.Case, msg int) int {
	t.Helper()
	for id := 1; id < 10000; id++ {
		r, err := h.store.Relay(context.Background(), lyonChat, id)
		if err == nil && r.ResidentMessageID == msg && r.CaseID == c.ID {
			return id
		}
	}
	t.Fatalf("no relay mapping for message %d", msg)
	return 0
}

func TestNoResidentIdentityInPartnerGroups(t *testing.T) {
	h := newHandoffFixture(t)
	u := bot.Update{Kind: bot.KindCommand, UserID: residentAr, LanguageCode: "ar", FirstName: "Amina", Command: "volunteer", Text: "/volunteer"}
	h.handle(t, u)
	h.intake(t, residentAr, "ar", "no_api", "69", "")
	h.handle(t, press(residentAr, "ar", "h:y"))
	c := h.caseOf(t, residentAr)
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", fmt.Sprintf("hc:t:%d", c.ID)))
	for _, chat := range []int64{lyonChat, parisChat, natChat} {
		for _, r := range h.sent.to(chat) {
			if strings.Contains(r.Text, "Amina") || strings.Contains(r.Text, fmt.Sprint(residentAr)) {
				t.Errorf("partner group %d got the resident's identity: %q", chat, r.Text)
			}
		}
		for _, name := range h.groups.topics[chat] {
			if strings.Contains(name, "Amina") {
				t.Errorf("topic name %q names the resident", name)
			}
		}
	}
}

func TestSLAEscalatesOnceAcrossWeekend(t *testing.T) {
	h := newHandoffFixture(t)
	// Friday 27 November 2026, 16:00 in Paris: 1 opening hour left that day.
	h.clock.Set(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC))
	h.intake(t, residentAr, "ar", "no_api", "69", "")
	h.handle(t, press(residentAr, "ar", "h:y"))
	c := h.caseOf(t, residentAr)
	e, ok, err := h.store.Get(context.Background(), "c:"+fmt.Sprint(c.ID))
	if err != nil || !ok {
		t.Fatalf("no SLA timer: %v %v", ok, err)
	}
	// 16 opening hours of Mon–Fri 9–12, 14–17 from Friday 16:00: 1 h on
	// Friday, 6 h Monday, 6 h Tuesday, 3 h Wednesday → Wednesday 2 December, 12:00.
	want := time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)
	// Half of it (8 opening hours) → Tuesday 1 December, 10:00: the group
	// is reminded under the card, once.
	half := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if !e.Due.Equal(half) {
		t.Fatalf("first timer %v; want the half of the SLA, %v (counted in opening hours across the weekend)", e.Due, half)
	}
	h.clock.Set(half.Add(time.Minute))
	if next, err := h.bot.Notify(context.Background(), reminder.Claim{ID: e.ID, Due: e.Due}); err != nil || !next.Equal(want) {
		t.Fatalf("after the half-SLA reminder the next timer is %v (%v); want the deadline %v", next, err, want)
	}
	if last := h.sent.last(t, lyonChat); !strings.Contains(last.Text, "la moitié du délai") || last.ReplyToMessageID != c.CardMessageID {
		t.Errorf("half-SLA reminder = %+v; want it under the card", last)
	}
	// Monday 10:00: not yet.
	h.clock.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	if next, err := h.bot.Notify(context.Background(), reminder.Claim{ID: e.ID, Due: e.Due}); err != nil || !next.Equal(want) {
		t.Fatalf("early timer: %v %v", next, err)
	}
	if got, _ := h.store.Case(context.Background(), c.ID); got.PartnerID != "lyon" {
		t.Fatal("escalated before the deadline")
	}
	h.clock.Set(want.Add(time.Minute))
	for range 2 { // delivered twice: acts once
		if _, err := h.bot.Notify(context.Background(), reminder.Claim{ID: e.ID, Due: e.Due}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := h.store.Case(context.Background(), c.ID)
	if got.PartnerID != "paris" || len(got.Tried) != 1 {
		t.Fatalf("after the SLA: partner %s tried %v; want paris once", got.PartnerID, got.Tried)
	}
	cards := 0
	for _, r := range h.sent.to(parisChat) {
		if takeData(t, r) != "" {
			cards++
		}
	}
	if cards != 1 {
		t.Errorf("%d cards at Paris; want exactly 1", cards)
	}
	if last := h.sent.last(t, residentAr).Text; !strings.Contains(last, "Accueil Paris Est") {
		t.Errorf("resident not told about the forward: %q", last)
	}
}

func TestOutOfHoursAutomaticAnswer(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "fr", "login", "69", "")
	h.handle(t, press(residentAr, "fr", "h:y"))
	// Saturday 28 November 2026, 11:00.
	h.clock.Set(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	h.handle(t, bot.Update{Kind: bot.KindText, UserID: residentAr, LanguageCode: "fr", Text: "allô ?", MessageID: 700})
	got := h.sent.last(t, residentAr).Text
	if !strings.Contains(got, "fermée") || !strings.Contains(got, "lundi 30 novembre 2026") || !strings.Contains(got, "à 9\u00a0h.") {
		t.Errorf("out-of-hours answer = %q", got)
	}
	n := len(h.sent.to(residentAr))
	h.handle(t, bot.Update{Kind: bot.KindText, UserID: residentAr, LanguageCode: "fr", Text: "encore", MessageID: 701})
	if len(h.sent.to(residentAr)) != n {
		t.Error("the automatic answer was repeated in the same closed period")
	}
}

func TestCloseFeedbackForgetAndStats(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "fr", "login", "69", "")
	h.handle(t, press(residentAr, "fr", "h:y"))
	c := h.caseOf(t, residentAr)
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", fmt.Sprintf("hc:t:%d", c.ID)))
	c = h.caseOf(t, residentAr)
	h.closeBy(t, lyonChat, c, lyonVol2, "Marc") // not the taker
	if got, _ := h.store.Case(context.Background(), c.ID); got.Status != handoff.StatusTaken {
		t.Fatal("another volunteer closed the case")
	}
	h.closeBy(t, lyonChat, c, lyonVol, "Lina")
	if got, _ := h.store.Case(context.Background(), c.ID); got.Status != handoff.StatusClosed {
		t.Fatal("not closed")
	}
	all := h.sent.to(residentAr)
	closing, fb := all[len(all)-2], all[len(all)-1]
	if !closing.RemoveKeyboard || fb.EditMessageID == 0 || buttons(fb)[fmt.Sprintf("h:f:%d:u", c.ID)] == "" {
		t.Fatalf("closing message %+v then %+v; want the keyboard removed, then feedback buttons added", closing, fb)
	}
	h.handle(t, press(residentAr, "fr", fmt.Sprintf("h:f:%d:u", c.ID)))
	if got, _ := h.store.Case(context.Background(), c.ID); got.Rating != "useful" {
		t.Errorf("rating = %q", got.Rating)
	}
	// Stats for the coordinator; refused to a plain volunteer.
	h.handle(t, groupText(lyonChat, 0, lyonVol, "Lina", "/stats", 0))
	if last := h.sent.last(t, lyonChat).Text; strings.Contains(last, "Fermés") || !strings.Contains(last, "coordina") {
		t.Errorf("/stats to a volunteer = %q", last)
	}
	h.handle(t, groupText(lyonChat, 0, 100000003, "Coord", "/stats", 0))
	stats := h.sent.last(t, lyonChat).Text
	for _, want := range []string{"Entraide Rhône", ": 0", ": 1"} {
		if !strings.Contains(stats, want) {
			t.Errorf("/stats lacks %q:\n%s", want, stats)
		}
	}
	// /mydata shows the case; /forget deletes it and its topic.
	h.handle(t, command(residentAr, "fr", "mydata"))
	if got := h.sent.last(t, residentAr).Text; !strings.Contains(got, fmt.Sprintf("#%d", c.ID)) {
		t.Errorf("/mydata lacks the case: %q", got)
	}
	h.handle(t, command(residentAr, "fr", "forget"))
	h.handle(t, press(residentAr, "fr", "forget:yes"))
	if cs, _ := h.store.CasesOf(context.Background(), residentAr); len(cs) != 0 {
		t.Errorf("cases after /forget: %v", cs)
	}
	if len(h.groups.deleted[lyonChat]) != 1 || h.groups.deleted[lyonChat][0] != c.TopicID {
		t.Errorf("topic not deleted on /forget: %v", h.groups.deleted)
	}
}

func TestExportSuppressesSmallCounts(t *testing.T) {
	csv := bot.ExportCSV([]handoff.Count{
		{Month: "2026-11", Departement: "69", Problem: handoff.ProblemNoAPI, N: 7},
		{Month: "2026-11", Departement: "75", Problem: handoff.ProblemLogin, N: 2},
		{Month: "2026-10", Departement: "", Problem: handoff.ProblemOther, N: 5},
	})
	want := "mois,département,problème,demandes\n2026-10,inconnu,other,5\n2026-11,69,no_api,7\n2026-11,75,login,<5\n"
	if csv != want {
		t.Errorf("CSV =\n%s\nwant\n%s", csv, want)
	}
}

// TestExportPerPartner: /export in a partner's group gives the counts of
// the requests first sent to that partner only, with French headers,
// small counts suppressed.
func TestExportPerPartner(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "ar", "no_api", "69", "") // Arabic from 69: Lyon
	h.handle(t, press(residentAr, "ar", "h:y"))
	h.intake(t, residentAr+1, "fa", "no_api", "75", "") // Persian from 75: Paris
	h.handle(t, press(residentAr+1, "fa", "h:y"))
	if a, p := h.caseOf(t, residentAr), h.caseOf(t, residentAr+1); a.PartnerID != "lyon" || p.PartnerID != "paris" {
		t.Fatalf("partners %q and %q; want lyon and paris", a.PartnerID, p.PartnerID)
	}
	for i := range 5 {
		c := handoff.Case{ID: int64(900 + i), ResidentID: int64(1 + i), PartnerID: "lyon", Status: handoff.StatusClosed,
			Problem: handoff.ProblemLogin, Departement: "69", Created: wednesday10}
		if _, err := h.store.CreateCase(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	export := func(chat, coord int64) string {
		h.handle(t, groupText(chat, 0, coord, "Coord", "/export", 0))
		return h.sent.last(t, chat).Text
	}
	lyon := export(lyonChat, 100000003)
	for _, want := range []string{"mois,département,problème,demandes\n", "2026-11,69,login,5\n", "2026-11,69,no_api,&lt;5\n"} {
		if !strings.Contains(lyon, want) {
			t.Errorf("Lyon's /export lacks %q:\n%s", want, lyon)
		}
	}
	if strings.Contains(lyon, ",75,") {
		t.Errorf("Lyon's /export has Paris's count:\n%s", lyon)
	}
	paris := export(parisChat, 100000011) // a referent
	if !strings.Contains(paris, "2026-11,75,no_api,&lt;5\n") || strings.Contains(paris, ",69,") {
		t.Errorf("Paris's /export =\n%s\nwant its own count only", paris)
	}
}

func TestVolunteerLeavingReleasesCases(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "ar", "no_api", "69", "")
	h.handle(t, press(residentAr, "ar", "h:y"))
	c := h.caseOf(t, residentAr)
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", fmt.Sprintf("hc:t:%d", c.ID)))
	h.groups.mu.Lock()
	h.groups.members[lyonChat][lyonVol] = "left"
	h.groups.mu.Unlock()
	h.handle(t, bot.Update{Kind: bot.KindGroupMember, ChatID: lyonChat, ChatType: bot.ChatSupergroup, UserID: lyonVol, MemberStatus: "left"})
	got, _ := h.store.Case(context.Background(), c.ID)
	if got.Status != handoff.StatusWaiting || got.TakenBy != 0 {
		t.Fatalf("case of a volunteer who left: %+v", got)
	}
	card := h.sent.to(lyonChat)
	if last := card[len(card)-1].Text; !strings.Contains(last, "Lina") || !strings.Contains(last, fmt.Sprint(c.ID)) {
		t.Errorf("group not told: %q", last)
	}
	// Someone else can take it now.
	h.handle(t, groupPress(lyonChat, lyonVol2, "Marc", fmt.Sprintf("hc:t:%d", c.ID)))
	if got, _ := h.store.Case(context.Background(), c.ID); got.TakenBy != lyonVol2 {
		t.Errorf("not takeable again: %+v", got)
	}
}

// TestPashtoFromTheFirstMessage: a resident whose Telegram reports ps gets
// Pashto at once, with dates and case numbers isolated exactly once; one
// whose Telegram reports zh-Hant gets the picker, not a guess.
func TestPashtoFromTheFirstMessage(t *testing.T) {
	h := newHandoffFixture(t)
	const user = 7500001
	h.handle(t, command(user, "ps", "start"))
	first := h.sent.to(user)
	if len(first) != 2 || first[0].Text != h.cat.Printer("ps").T("language.unreviewed") {
		t.Fatalf("first contact: want the not-yet-reviewed notice in Pashto, then the welcome; got %+v", first)
	}
	welcome := first[1].Text
	if want := h.cat.Printer("ps").T("welcome.title"); !strings.Contains(welcome, want) {
		t.Fatalf("first message is not Pashto: %q", welcome)
	}
	h.handle(t, command(user, "ps", "start"))
	if n := len(h.sent.to(user)); n != 3 {
		t.Errorf("the notice was repeated at the second /start (%d messages)", n)
	}
	h.registerUpToDate(t, user, "ps")
	h.handle(t, typed(user, "ps", "30/06/2027"))
	confirm := h.sent.last(t, user).Text
	if strings.Count(confirm, "\u206830/06/2027\u2069") != 1 || strings.Contains(confirm, "\u2068\u2068") {
		t.Errorf("date not isolated exactly once: %q", confirm)
	}
	h.handle(t, press(user, "ps", "r:ok"))
	h.handle(t, command(user, "ps", "volunteer"))
	h.handle(t, press(user, "ps", "h:p:login"))
	h.handle(t, typed(user, "ps", "69"))
	h.handle(t, press(user, "ps", "h:l:ps"))
	h.handle(t, press(user, "ps", "h:d:-"))
	h.handle(t, press(user, "ps", "h:s"))
	h.handle(t, press(user, "ps", "h:k:done"))
	h.handle(t, press(user, "ps", "h:s"))
	h.handle(t, press(user, "ps", "h:y"))
	sent := h.sent.to(user)
	var found bool
	for _, r := range sent[len(sent)-3:] {
		// The "#" moves into the case number's isolate: one unit.
		if strings.Contains(r.Text, "\u2068#1\u2069") {
			found = true
		}
		if strings.Contains(r.Text, "\u2068\u2068") {
			t.Errorf("isolated twice: %q", r.Text)
		}
	}
	if !found {
		t.Errorf("case number not isolated: %q", sent[len(sent)-1].Text)
	}

	h.handle(t, command(7500002, "zh-Hant", "start"))
	if got := h.sent.last(t, 7500002); buttons(got)["lang:zh-Hans"] == "" {
		t.Errorf("zh-Hant: want the picker, got %q", got.Text)
	}
}

// takenCase runs an intake to consent and has lyonVol take the case.
func (h *handoffFixture) takenCase(t *testing.T, user int64) handoff.Case {
	t.Helper()
	h.intake(t, user, "ar", "no_api", "69", "")
	h.handle(t, press(user, "ar", "h:y"))
	c := h.caseOf(t, user)
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", fmt.Sprintf("hc:t:%d", c.ID)))
	return h.caseOf(t, user)
}

func TestTopicCommands(t *testing.T) {
	h := newHandoffFixture(t)
	c := h.takenCase(t, residentAr)
	ctx := context.Background()

	// /summary edits the pinned summary.
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "/summary Appel CCC fait le 25/11; rdv préfecture à demander", 0))
	var edited bool
	for _, r := range h.sent.to(lyonChat) {
		if r.EditMessageID == c.SummaryMessageID && strings.Contains(r.Text, "rdv préfecture") {
			edited = true
		}
	}
	if got, _ := h.store.Case(ctx, c.ID); !edited || !strings.Contains(got.Steps, "Appel CCC") {
		t.Errorf("/summary: edited %v, steps %q", edited, got.Steps)
	}

	// /assign by a plain volunteer is refused; by a referent, replying to a
	// colleague's message, it moves the case.
	h.handle(t, bot.Update{Kind: bot.KindCommand, ChatID: lyonChat, ChatType: bot.ChatSupergroup, UserID: lyonVol2, FirstName: "Marc",
		Command: "assign", Text: "/assign", ThreadID: c.TopicID, ReplyToMessageID: 9999, ReplyToUserID: lyonVol, ReplyToFirstName: "Lina"})
	if got, _ := h.store.Case(ctx, c.ID); got.TakenBy != lyonVol {
		t.Fatalf("a non-referent assigned the case: %+v", got)
	}
	h.handle(t, bot.Update{Kind: bot.KindCommand, ChatID: lyonChat, ChatType: bot.ChatSupergroup, UserID: lyonRef, FirstName: "Rémi",
		Command: "assign", Text: "/assign", ThreadID: c.TopicID, ReplyToMessageID: 9999, ReplyToUserID: lyonVol2, ReplyToFirstName: "Marc"})
	if got, _ := h.store.Case(ctx, c.ID); got.TakenBy != lyonVol {
		t.Fatalf("/assign without confirmation moved the case: %+v", got)
	}
	h.handle(t, pressOn(lyonChat, c.TopicID, lyonRef, "Rémi", fmt.Sprintf("hc:A:%d:%d", c.ID, lyonVol2), 800))
	if got, _ := h.store.Case(ctx, c.ID); got.TakenBy != lyonVol2 || got.TakenAlias != "Marc" {
		t.Fatalf("after /assign: %+v", got)
	}

	// /release puts it back in the queue with its Take button.
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol2, "Marc", "/release", 0))
	if got, _ := h.store.Case(ctx, c.ID); got.Status != handoff.StatusWaiting || got.TakenBy != 0 {
		t.Fatalf("after /release: %+v", got)
	}
	card := h.cardOf(t, lyonChat)
	if card.EditMessageID != c.CardMessageID {
		t.Errorf("the card was not restored with Take: %+v", card)
	}

	// /transfer to an unknown partner is refused; to Paris, the case moves,
	// a card appears there and the resident is told.
	h.handle(t, groupPress(lyonChat, lyonVol, "Lina", fmt.Sprintf("hc:t:%d", c.ID)))
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "/transfer Appel CCC fait", 0))
	for _, d := range []string{"hc:x:%d:nowhere", "hc:y:%d:other", "hc:X:%d"} {
		h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", fmt.Sprintf(d, c.ID), 801))
	}
	if got, _ := h.store.Case(ctx, c.ID); got.PartnerID != "lyon" {
		t.Fatal("transferred to an unknown partner")
	}
	for _, d := range []string{"hc:x:%d:paris", "hc:y:%d:language", "hc:X:%d"} {
		h.handle(t, pressOn(lyonChat, c.TopicID, lyonVol, "Lina", fmt.Sprintf(d, c.ID), 801))
	}
	got, _ := h.store.Case(ctx, c.ID)
	if got.PartnerID != "paris" || got.Status != handoff.StatusWaiting || len(got.Tried) != 1 {
		t.Fatalf("after /transfer: %+v", got)
	}
	h.cardOf(t, parisChat)
	if last := h.sent.last(t, residentAr).Text; !strings.Contains(last, "Accueil Paris Est") {
		t.Errorf("resident not told of the transfer: %q", last)
	}
	// Lyon's volunteers can no longer write to the resident through the old topic.
	n := len(h.sent.to(residentAr))
	h.handle(t, groupText(lyonChat, c.TopicID, lyonVol, "Lina", "/r encore là ?", 0))
	if len(h.sent.to(residentAr)) != n {
		t.Error("the old partner's topic still reaches the resident")
	}
	if last := h.sent.last(t, lyonChat).Text; last != h.cat.Printer("fr").T("case.not_sent_closed") {
		t.Errorf("the old partner's volunteer is not told the case left: %q", last)
	}
}

func TestPauseAndResume(t *testing.T) {
	h := newHandoffFixture(t)
	h.handle(t, groupText(lyonChat, 0, lyonVol, "Lina", "/pause", 0))
	if p, _ := h.store.Paused(context.Background(), "lyon"); p {
		t.Fatal("a plain volunteer paused intake")
	}
	h.handle(t, groupText(lyonChat, 0, 100000003, "Coord", "/pause", 0))
	if p, _ := h.store.Paused(context.Background(), "lyon"); !p {
		t.Fatal("the coordinator could not pause")
	}
	consent := h.intake(t, residentAr, "ar", "login", "69", "")
	if !strings.Contains(consent.Text, "Accueil Paris Est") {
		t.Errorf("paused Lyon still routed to: %q", consent.Text)
	}
	h.handle(t, press(residentAr, "ar", "h:n"))
	h.handle(t, groupText(lyonChat, 0, 100000003, "Coord", "/resume", 0))
	h.handle(t, groupText(lyonChat, 0, 100000003, "Coord", "/link", 0))
	if last := h.sent.last(t, lyonChat).Text; !strings.Contains(last, "https://t.me/passerelle_test_bot?start=p-lyon") {
		t.Errorf("/link = %q", last)
	}
	consent = h.intake(t, residentAr, "ar", "login", "69", "")
	if !strings.Contains(consent.Text, "Entraide Rhône") {
		t.Errorf("after /resume: %q", consent.Text)
	}
}

func TestNudgeAndRetentionTimers(t *testing.T) {
	h := newHandoffFixture(t)
	c := h.takenCase(t, residentAr) // taken Wednesday 25 November, 10:00
	ctx := context.Background()
	timer := func() {
		t.Helper()
		e, ok, err := h.store.Get(ctx, fmt.Sprintf("c:%d", c.ID))
		if err != nil || !ok {
			t.Fatalf("no case timer: %v %v", ok, err)
		}
		h.clock.Set(e.Due.Add(time.Minute))
		d := reminder.NewDispatcher(h.store, h.bot, reminder.Config{Clock: h.clock, Workers: 1})
		if sent, err := d.RunOnce(ctx); err != nil || sent != 1 {
			t.Fatalf("dispatcher pass: %d, %v", sent, err)
		}
	}
	// Silent for two opening days: one nudge in the topic, at the end of Friday.
	timer()
	if got, _ := h.store.Case(ctx, c.ID); !got.Nudged {
		t.Fatal("no nudge after two silent opening days")
	}
	if last := h.sent.last(t, lyonChat); last.ThreadID != c.TopicID || !strings.Contains(last.Text, "Lina") {
		t.Errorf("nudge = %+v", last)
	}
	if wd := h.clock.Now().In(paris(t)).Weekday(); wd != time.Friday {
		t.Errorf("nudge on %v; want Friday (two opening days after Wednesday)", wd)
	}
	if _, ok, _ := h.store.Get(ctx, fmt.Sprintf("c:%d", c.ID)); ok {
		t.Error("a second nudge is scheduled")
	}
	// Closed: the topic goes after 30 days, the case after 90; counts stay.
	h.closeBy(t, lyonChat, c, lyonVol, "Lina")
	closed := h.clock.Now()
	timer()
	if h.clock.Now().Sub(closed) < 30*24*time.Hour || len(h.groups.deleted[lyonChat]) != 1 {
		t.Fatalf("topic deletion at %v after close; deleted %v", h.clock.Now().Sub(closed), h.groups.deleted)
	}
	if got, err := h.store.Case(ctx, c.ID); err != nil || got.TopicID != 0 {
		t.Fatalf("after topic retention: %+v %v", got, err)
	}
	timer()
	if h.clock.Now().Sub(closed) < 90*24*time.Hour {
		t.Errorf("case deleted only %v after close", h.clock.Now().Sub(closed))
	}
	if _, err := h.store.Case(ctx, c.ID); err == nil {
		t.Fatal("case kept after the mapping retention")
	}
	if counts, _ := h.store.Counts(ctx); len(counts) == 0 {
		t.Error("counts went with the case")
	}
}

func TestUrgentLetterShowsEmergencyContactsFirst(t *testing.T) {
	h := newHandoffFixture(t)
	h.handle(t, command(residentAr, "fr", "volunteer"))
	h.handle(t, press(residentAr, "fr", "h:p:oqtf"))
	if got := h.sent.last(t, residentAr).Text; !strings.Contains(got, "département") {
		t.Fatalf("after the problem: %q", got)
	}
	h.handle(t, typed(residentAr, "fr", "69"))
	all := h.sent.to(residentAr)
	if got := all[len(all)-2].Text; !strings.Contains(got, "01 99 00 00 02") || !strings.Contains(got, "Ligne urgence Rhône") {
		t.Errorf("emergency contacts not shown as soon as the département is known: %q", got)
	}
}

func TestPartnerContactShown(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "fr", "login", "69", "")
	h.handle(t, press(residentAr, "fr", "h:y"))
	sent := h.sent.last(t, residentAr).Text
	for _, want := range []string{"1 rue de l&#39;Exemple, 69000 Lyon", "04 99 00 00 01", "mardi et jeudi"} {
		if !strings.Contains(sent, want) {
			t.Errorf("the partner's public contact lacks %q:\n%s", want, sent)
		}
	}
}

func TestNoPartnerAvailableIsHonest(t *testing.T) {
	h := newHandoffFixture(t)
	for _, id := range []string{"lyon", "paris", "national"} {
		if err := h.store.SetPaused(context.Background(), id, true); err != nil {
			t.Fatal(err)
		}
	}
	got := h.intake(t, residentAr, "fr", "login", "69", "")
	for _, want := range []string{"Défenseur des droits", "Points-justice", "04 99 00 00 01"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("no partner available: the answer lacks %q:\n%s", want, got.Text)
		}
	}
	if cs, _ := h.store.CasesOf(context.Background(), residentAr); len(cs) != 0 {
		t.Errorf("a case was stored with no partner: %v", cs)
	}
}

func TestWelcomeDoesNotPromiseWhatExists(t *testing.T) {
	h := newHandoffFixture(t)
	h.handle(t, command(residentAr, "en", "start"))
	if got := h.sent.last(t, residentAr); strings.Contains(got.Text, "Coming soon") || buttons(got)["h"] == "" {
		t.Errorf("with partners the welcome still says volunteers are coming, or lacks the button: %q %v", got.Text, buttons(got))
	}
}

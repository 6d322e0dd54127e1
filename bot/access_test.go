package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/locales"
)

// TestOneRuleForEveryGroupAction plays each group action on an ordinary
// and on a sensitive case as each kind of person, and checks what the one
// authorisation rule lets through: nothing changes and nothing reaches the
// resident unless it allows it.
func TestOneRuleForEveryGroupAction(t *testing.T) {
	// One catalog for the 60 cases: loading it is most of a fixture's time.
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var missing []string
	cat.SetMissing(func(lang, id string, err error) {
		mu.Lock()
		defer mu.Unlock()
		missing = append(missing, lang+" "+id)
	})
	t.Cleanup(func() {
		if len(missing) > 0 {
			t.Errorf("catalog fallbacks: %v", missing)
		}
	})
	type who struct {
		name string
		id   int64
	}
	var (
		referent = who{"referent", lyonRef}
		holder   = who{"holder", lyonVol}
		member   = who{"member", lyonVol2}
		outside  = who{"outsider", outsider}
		left     = who{"restricted who left", 100000007}
	)
	// Each action, what allowing it leaves in the case, and who may do it
	// on an ordinary case and on a sensitive one.
	actions := []struct {
		name      string
		cmd       string
		done      func(handoff.Case, int) bool // sent: messages the resident got
		ordinary  []who
		sensitive []who
		presses   []string // buttons then pressed by the same person (%d: the case)
	}{
		// A reply to a copied message is an internal note, whoever writes it.
		{"reply", "", func(c handoff.Case, sent int) bool { return sent > 0 }, nil, nil, nil},
		// /r, then its preview's Send button, pressed by the same person.
		{"/r", "/r Bonjour", func(c handoff.Case, sent int) bool { return sent > 0 }, []who{referent, holder}, []who{referent, holder}, nil},
		{"/summary", "/summary Appel fait", func(c handoff.Case, _ int) bool { return c.Steps != "" }, []who{referent, holder, member}, []who{referent, holder}, nil},
		{"/close", "/close", func(c handoff.Case, _ int) bool { return c.Status == handoff.StatusClosed }, []who{referent, holder}, []who{referent, holder},
			[]string{"hc:c:%d:solved", "hc:C:%d:solved"}},
		{"/release", "/release", func(c handoff.Case, _ int) bool { return c.Status == handoff.StatusWaiting }, []who{referent, holder}, []who{referent, holder}, nil},
		{"/transfer", "/transfer Note de passation", func(c handoff.Case, _ int) bool { return c.PartnerID == "national" }, []who{referent, holder}, []who{referent, holder},
			[]string{"hc:x:%d:national", "hc:y:%d:other", "hc:X:%d"}},
	}
	for _, sensitive := range []bool{false, true} {
		for _, a := range actions {
			for _, p := range []who{referent, holder, member, outside, left} {
				allowed := a.ordinary
				if sensitive {
					allowed = a.sensitive
				}
				want := false
				for _, w := range allowed {
					want = want || w == p
				}
				t.Run(fmt.Sprintf("sensitive=%v/%s/%s", sensitive, a.name, p.name), func(t *testing.T) {
					t.Parallel()
					h := handoffFixtureOf(t, newFixtureWith(t, cat))
					room := int64(lyonChat)
					h.groups.members[lyonChat][100000007] = "restricted-left"
					h.groups.members[lyonRefs][100000007] = "restricted-left"
					if sensitive {
						room = lyonRefs
						// The holder is the colleague a referent assigned it to;
						// the member was added to the referents' group anyway.
						h.groups.members[lyonRefs][lyonVol] = "member"
						h.groups.members[lyonRefs][lyonVol2] = "member"
						h.groups.members[lyonRefs][outsider] = "left"
					}
					problem := handoff.ProblemNoAPI
					if sensitive {
						problem = handoff.ProblemOQTF
					}
					c := h.waitingCase(t, residentAr, problem)
					h.handle(t, groupPress(lyonChat, lyonRef, "Rémi", fmt.Sprintf("hc:t:%d", c.ID)))
					c = h.caseOf(t, residentAr)
					if c.TopicID == 0 || (sensitive && c.TopicChat != lyonRefs) {
						t.Fatalf("topic of the case: %+v", c)
					}
					// Rémi assigns it to Lina: she holds it.
					h.handle(t, bot.Update{Kind: bot.KindCommand, ChatID: room, ChatType: bot.ChatSupergroup, UserID: lyonRef, FirstName: "Rémi",
						Command: "assign", Text: "/assign", ThreadID: c.TopicID, ReplyToMessageID: 9999, ReplyToUserID: lyonVol, ReplyToFirstName: "Lina"})
					h.handle(t, pressOn(room, c.TopicID, lyonRef, "Rémi", fmt.Sprintf("hc:A:%d:%d", c.ID, lyonVol), 800))
					h.handle(t, bot.Update{Kind: bot.KindText, UserID: residentAr, LanguageCode: "ar", Text: "سلام", MessageID: 501})
					c = h.caseOf(t, residentAr)
					if c.TakenBy != lyonVol {
						t.Fatalf("after /assign: %+v", c)
					}
					before := len(h.sent.to(residentAr))
					var u bot.Update
					if a.cmd == "" {
						u = groupText(room, c.TopicID, p.id, "X", "Bonjour", h.relayedIDIn(t, room, c, 501))
					} else {
						u = groupText(room, c.TopicID, p.id, "X", a.cmd, 0)
					}
					h.handle(t, u)
					if a.cmd == "/r Bonjour" {
						if d, ok := h.lastButton(room, "hc:s:"); ok {
							h.handle(t, pressOn(room, c.TopicID, p.id, "X", d, 900))
						}
					}
					for _, d := range a.presses {
						h.handle(t, pressOn(room, c.TopicID, p.id, "X", fmt.Sprintf(d, c.ID), 901))
					}
					after, _ := h.store.Case(context.Background(), c.ID)
					if got := a.done(after, len(h.sent.to(residentAr))-before); got != want {
						t.Errorf("%s by the %s: done = %v; want %v (case %+v)", a.name, p.name, got, want, after)
					}
					if !want && len(h.sent.to(residentAr)) != before {
						t.Errorf("%s by the %s reached the resident", a.name, p.name)
					}
				})
			}
		}
	}
}

// waitingCase stores a case of resident waiting at Lyon, as the intake
// would leave it (without its card), and opens it in the resident's profile.
func (h *handoffFixture) waitingCase(t *testing.T, resident int64, problem handoff.Problem) handoff.Case {
	t.Helper()
	ctx := context.Background()
	id, err := h.store.NextCaseID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := handoff.Case{Schema: 1, ID: id, ResidentID: resident, ResidentChat: resident, Lang: "ar", Departement: "69", Problem: problem,
		Urgent: problem.Urgent(), Sensitive: problem.Sensitive(), PartnerID: "lyon", Status: handoff.StatusWaiting, Created: wednesday10, Routed: wednesday10}
	if c.Version, err = h.store.CreateCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := h.store.PutProfile(ctx, bot.Profile{Schema: 1, UserID: resident, ChatID: resident, Lang: "ar", Created: wednesday10, LastSeen: wednesday10, OpenCase: id}); err != nil {
		t.Fatal(err)
	}
	return c
}

// relayedIDIn finds the id of the copy of resident message msg in chat.
func (h *handoffFixture) relayedIDIn(t *testing.T, chat int64, c handoff.Case, msg int) int {
	t.Helper()
	for id := 1; id < 10000; id++ {
		r, err := h.store.Relay(context.Background(), chat, id)
		if err == nil && r.ResidentMessageID == msg && r.CaseID == c.ID {
			return id
		}
	}
	t.Fatalf("no relay mapping for message %d in %d", msg, chat)
	return 0
}

// TestSensitiveCardAndStatsAreNeutral: every member of the volunteers'
// group sees a sensitive case's card and /stats: neither names its
// problem nor shows what the resident wrote.
func TestSensitiveCardAndStatsAreNeutral(t *testing.T) {
	h := newHandoffFixture(t)
	h.intake(t, residentAr, "fr", "oqtf", "69", "zorglub ils m'ont donné 30 jours")
	h.handle(t, press(residentAr, "fr", "h:y"))
	c := h.caseOf(t, residentAr)
	h.handle(t, groupText(lyonChat, 0, 100000003, "Coord", "/stats", 0))
	h.handle(t, groupText(lyonChat, 0, 100000003, "Coord", "/export", 0))
	s := h.cat.Printer("fr")
	for _, r := range h.sent.to(lyonChat) {
		for _, leak := range []string{s.T("help.problem.oqtf"), "zorglub", "oqtf", "69 Rhône", "30/06/2027"} {
			if strings.Contains(r.Text, leak) {
				t.Errorf("the volunteers' group got %q: %q", leak, r.Text)
			}
		}
	}
	card := h.cardOf(t, lyonChat)
	if !strings.Contains(card.Text, fmt.Sprintf("#%d", c.ID)) || !strings.Contains(card.Text, s.T("case.referents_only")) {
		t.Errorf("card = %q", card.Text)
	}
}

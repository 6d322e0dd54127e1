package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
)

const (
	admin    int64 = 9100001
	notAdmin int64 = 9100002
)

// fakeStatus is the process side of /status.
type fakeStatus struct{}

func (fakeStatus) Status(ctx context.Context) bot.Status {
	return bot.Status{Version: "v1.2.3", Uptime: 49 * time.Hour, Store: "bolt", Interactive: 2, Bulk: 7, Errors: map[string]int{"send_5xx": 3}}
}

// newOperatorFixture is the hand-off fixture with an operator and an admin.
func newOperatorFixture(t *testing.T) *handoffFixture {
	t.Helper()
	h := newHandoffFixture(t)
	b, err := bot.New(bot.Config{Store: h.store, Catalog: h.cat, Sender: h.sent, Clock: h.clock,
		Documents: h.store, Reminders: h.store, Partners: h.partners, Cases: h.store, Groups: h.groups,
		BotUsername: "passerelle_test_bot", Admins: []int64{admin}, Status: fakeStatus{},
		Operator: bot.Operator{Name: "Asso Test", Contact: "contact@asso.example", DPO: "dpo@asso.example"}})
	if err != nil {
		t.Fatal(err)
	}
	h.bot = b
	return h
}

// TestOperatorCommandsForAdminsOnly: /status, /partners and /notice work
// for an admin in a private chat; anyone else (a resident, a volunteer,
// the admin in a group) gets the answer to an unknown command, and forged
// notice buttons do nothing.
func TestOperatorCommandsForAdminsOnly(t *testing.T) {
	h := newOperatorFixture(t)
	h.bot.MarkPartnerMisconfigured("paris", "the bot is not an administrator")
	if err := h.store.SetPaused(context.Background(), "national", true); err != nil {
		t.Fatal(err)
	}
	h.intake(t, residentAr, "fr", "no_api", "69", "")
	h.handle(t, press(residentAr, "fr", "h:y"))

	h.handle(t, command(admin, "en", "status"))
	st := h.sent.last(t, admin).Text
	for _, want := range []string{"Passerelle v1.2.3", "2d1h", "bolt", "2 replies, 7 reminders", "lyon: 1 waiting", "send_5xx: 3"} {
		if !strings.Contains(st, want) {
			t.Errorf("/status lacks %q:\n%s", want, st)
		}
	}
	h.handle(t, command(admin, "en", "partners"))
	ps := h.sent.last(t, admin).Text
	for _, want := range []string{"Entraide Rhône (lyon): ✅ available", "(paris): ⚠️ group misconfigured: the bot is not an administrator", "(national): ⏸ intake paused"} {
		if !strings.Contains(ps, want) {
			t.Errorf("/partners lacks %q:\n%s", want, ps)
		}
	}

	unknown := h.cat.Printer("en").T("input.unknown")
	for _, cmd := range []string{"status", "partners", "notice"} {
		h.handle(t, command(notAdmin, "en", cmd))
		if got := h.sent.last(t, notAdmin).Text; got != unknown {
			t.Errorf("/%s by a non-admin = %q; want the unknown-command answer", cmd, got)
		}
		// The admin in a partner group is not in a private chat.
		n := len(h.sent.to(lyonChat))
		h.handle(t, groupText(lyonChat, 0, admin, "Op", "/"+cmd, 0))
		for _, r := range h.sent.to(lyonChat)[n:] {
			if strings.Contains(r.Text, "Passerelle v1.2.3") || strings.Contains(r.Text, "✅ available") {
				t.Errorf("/%s in a group answered: %q", cmd, r.Text)
			}
		}
	}
	// A forged "send" button from a non-admin sends nothing.
	h.handle(t, press(notAdmin, "en", "op:s"))
	h.handle(t, press(notAdmin, "en", "op:n:maintenance"))
	for _, r := range h.sent.to(notAdmin) {
		if strings.Contains(r.Text, "Passerelle") && strings.Contains(r.Text, "maintenance") {
			t.Errorf("non-admin got a notice preview: %q", r.Text)
		}
	}
}

// TestNoticeToOptedInResidents: /notice shows the draft in French and in
// every language, then sends it, on the bulk lane and in each resident's
// language, only to residents who turned service news on; twice pressing
// Send sends once.
func TestNoticeToOptedInResidents(t *testing.T) {
	h := newOperatorFixture(t)
	const (
		subscribedAr = 9200001
		subscribedFr = 9200002
		quiet        = 9200003
		blocked      = 9200004
	)
	for _, u := range []struct {
		id   int64
		lang string
	}{{subscribedAr, "ar"}, {subscribedFr, "fr"}, {quiet, "en"}, {blocked, "es"}} {
		h.handle(t, command(u.id, u.lang, "start"))
		h.handle(t, command(u.id, u.lang, "privacy"))
		priv := h.sent.last(t, u.id)
		if !strings.Contains(priv.Text, "Asso Test") || !strings.Contains(priv.Text, "contact@asso.example") || !strings.Contains(priv.Text, "dpo@asso.example") {
			t.Errorf("%s /privacy does not name the operator:\n%s", u.lang, priv.Text)
		}
		if buttons(priv)["news:on"] != h.cat.Printer(u.lang).T("privacy.news.subscribe") {
			t.Fatalf("%s /privacy has no opt-in button: %v", u.lang, priv.Buttons)
		}
		if u.id != quiet {
			h.handle(t, press(u.id, u.lang, "news:on"))
		}
	}
	h.handle(t, bot.Update{Kind: bot.KindMember, ChatID: blocked, ChatType: bot.ChatPrivate, UserID: blocked, MemberStatus: "kicked"})

	h.handle(t, command(admin, "fr", "notice"))
	choose := h.sent.last(t, admin)
	if !strings.Contains(choose.Text, "2 résidents") {
		t.Errorf("/notice counts %q; want 2 residents", choose.Text)
	}
	h.handle(t, press(admin, "fr", buttonData(t, choose, "Site de l'ANEF en panne")))
	msgs := h.sent.to(admin)
	var preview string
	for _, r := range msgs {
		preview += r.Text + "\n"
	}
	if i, j := strings.Index(preview, "[fr]"), strings.Index(preview, "[en]"); i < 0 || j < i {
		t.Errorf("preview does not start with French:\n%s", preview)
	}
	for _, l := range h.cat.Languages() {
		want := h.cat.Printer(l.Tag).T("notice.anef_outage")
		if !strings.Contains(preview, want) {
			t.Errorf("preview lacks the %s text", l.Tag)
		}
	}
	confirm := h.sent.last(t, admin)
	send := buttonData(t, confirm, "📢 Envoyer à 2 résidents")
	before := map[int64]int{}
	for _, id := range []int64{subscribedAr, subscribedFr, quiet, blocked} {
		before[id] = len(h.sent.to(id))
	}
	h.handle(t, press(admin, "fr", send))
	h.handle(t, press(admin, "fr", send)) // a second press: nothing more
	if err := h.bot.WaitNotices(context.Background()); err != nil {
		t.Fatal(err)
	}
	for id, lang := range map[int64]string{subscribedAr: "ar", subscribedFr: "fr"} {
		got := h.sent.to(id)[before[id]:]
		if len(got) != 1 {
			t.Fatalf("resident %d got %d notices; want 1", id, len(got))
		}
		if got[0].Lane != bot.LaneBulk || !strings.Contains(got[0].Text, h.cat.Printer(lang).T("notice.anef_outage")) {
			t.Errorf("resident %d got %+v; want the %s notice on the bulk lane", id, got[0], lang)
		}
	}
	for _, id := range []int64{quiet, blocked} {
		if n := len(h.sent.to(id)) - before[id]; n != 0 {
			t.Errorf("resident %d (no opt-in, or blocked) got %d messages", id, n)
		}
	}
	reports := 0
	for _, r := range h.sent.to(admin) {
		if strings.Contains(strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(r.Text), "Annonce envoyée : 2 remises, 0 non remises") {
			reports++
		}
	}
	if reports != 1 {
		t.Errorf("the operator got %d reports; want 1", reports)
	}
	// Turning news off from the notice's button.
	h.handle(t, press(subscribedFr, "fr", "news:off"))
	p, err := h.store.Profile(context.Background(), subscribedFr)
	if err != nil || p.News {
		t.Errorf("after news:off, profile News = %v (%v)", p.News, err)
	}
}

// TestOperatorNamedInEveryLocale: /start and /privacy name the operator in
// every locale.
func TestOperatorNamedInEveryLocale(t *testing.T) {
	h := newOperatorFixture(t)
	for i, l := range h.cat.Languages() {
		user := int64(9300000 + i)
		h.handle(t, command(user, l.Tag, "start"))
		found := false
		for _, r := range h.sent.to(user) {
			found = found || strings.Contains(r.Text, "Asso Test") && strings.Contains(r.Text, "contact@asso.example")
		}
		if !found {
			t.Errorf("%s /start does not name the operator", l.Tag)
		}
		h.handle(t, command(user, l.Tag, "privacy"))
		if got := h.sent.last(t, user).Text; !strings.Contains(got, "Asso Test") || !strings.Contains(got, "dpo@asso.example") {
			t.Errorf("%s /privacy does not name the operator and DPO:\n%s", l.Tag, got)
		}
	}
}

// buttonData returns the data of the button labelled label.
func buttonData(t *testing.T, r bot.Reply, label string) string {
	t.Helper()
	for data, l := range buttons(r) {
		if l == label {
			return data
		}
	}
	t.Fatalf("no button %q in %v", label, r.Buttons)
	return ""
}

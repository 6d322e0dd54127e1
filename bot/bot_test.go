package bot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/catalog/catalogtest"
	"github.com/passerelle-bot/passerelle/internal/clock"
	"github.com/passerelle-bot/passerelle/internal/seal"
	"github.com/passerelle-bot/passerelle/internal/store/bolt"
	"github.com/passerelle-bot/passerelle/internal/store/redis"
	"github.com/passerelle-bot/passerelle/locales"
)

// start is a fixed moment for tests: 25 November 2026, 10:00 in Paris.
var start = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// recorder is a bot.Sender that keeps what was sent, per chat, and can
// answer with an error for chosen chats.
type recorder struct {
	mu      sync.Mutex
	sent    map[int64][]bot.Reply
	failFor map[int64]error
	nextID  int
}

func newRecorder() *recorder {
	return &recorder{sent: map[int64][]bot.Reply{}, failFor: map[int64]error{}}
}

func (r *recorder) Send(ctx context.Context, rep bot.Reply) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.failFor[rep.ChatID]; err != nil {
		return 0, err
	}
	r.nextID++
	r.sent[rep.ChatID] = append(r.sent[rep.ChatID], rep)
	return r.nextID, nil
}

func (r *recorder) to(chat int64) []bot.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Reply(nil), r.sent[chat]...)
}

func (r *recorder) last(t *testing.T, chat int64) bot.Reply {
	t.Helper()
	all := r.to(chat)
	if len(all) == 0 {
		t.Fatalf("nothing sent to chat %d", chat)
	}
	return all[len(all)-1]
}

type fixture struct {
	bot   *bot.Bot
	store *bolt.Store
	sent  *recorder
	clock *clock.Fake
	cat   *catalog.Catalog
	path  string
	next  int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, sharedCatalog(t))
}

func sharedCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	return catalogtest.Shipped(t)
}

// newFixtureWith is newFixture with a catalog loaded already (loading
// one takes most of a fixture's time).
func newFixtureWith(t *testing.T, cat *catalog.Catalog) *fixture {
	t.Helper()
	f := &fixture{sent: newRecorder(), clock: clock.NewFake(start), path: t.TempDir() + "/test.db", cat: cat}
	f.open(t)
	return f
}

// testKeys is the master key of the stores the tests open.
var testKeys = seal.Ephemeral()

func (f *fixture) open(t *testing.T) {
	t.Helper()
	st, err := bolt.Open(f.path, bolt.WithKeys(testKeys), bolt.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := bot.New(bot.Config{Store: st, Catalog: f.cat, Sender: f.sent, Clock: f.clock, Documents: st, Reminders: st})
	if err != nil {
		t.Fatal(err)
	}
	f.bot, f.store = b, st
}

// reopen simulates a restart on the same store file.
func (f *fixture) reopen(t *testing.T) {
	t.Helper()
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
}

func (f *fixture) handle(t *testing.T, u bot.Update) {
	t.Helper()
	f.next++
	if u.ID == 0 {
		u.ID = f.next
	}
	if u.ChatID == 0 {
		u.ChatID, u.ChatType = u.UserID, bot.ChatPrivate
	}
	if err := f.bot.Handle(context.Background(), u); err != nil {
		t.Fatalf("Handle(%+v) = %v", u, err)
	}
}

func command(user int64, lang, cmd string) bot.Update {
	return bot.Update{Kind: bot.KindCommand, UserID: user, LanguageCode: lang, Command: cmd, Text: "/" + cmd}
}

func press(user int64, lang, data string) bot.Update {
	return bot.Update{Kind: bot.KindCallback, UserID: user, LanguageCode: lang, Data: data, CallbackID: "cb"}
}

func buttons(r bot.Reply) map[string]string {
	out := map[string]string{}
	for _, row := range r.Buttons {
		for _, b := range row {
			out[b.Data] = b.Label
		}
	}
	return out
}

func TestStartInResidentLanguage(t *testing.T) {
	tests := []struct {
		code       string
		wantText   string
		wantPicker bool
	}{
		{"fr", "Bienvenue", false},
		{"fr-FR", "Bienvenue", false},
		{"ar", "مرحب", false},
		{"en", "Welcome to Passerelle", false},
		{"xx", "", true},
		{"", "", true},
		{"de", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			f := newFixture(t)
			f.handle(t, command(42, tt.code, "start"))
			got := f.sent.last(t, 42)
			if tt.wantPicker {
				if _, ok := buttons(got)["lang:fr"]; !ok {
					t.Fatalf("want the language picker first, got %q", got.Text)
				}
				return
			}
			if !strings.Contains(got.Text, tt.wantText) {
				t.Errorf("welcome = %q; want it to contain %q", got.Text, tt.wantText)
			}
			if _, ok := buttons(got)["menu:mydata"]; !ok {
				t.Errorf("welcome has no menu: %v", buttons(got))
			}
		})
	}
}

func TestPickerThenWelcomeAndChoicePersists(t *testing.T) {
	f := newFixture(t)
	f.handle(t, command(7, "xx", "start"))
	picker := f.sent.last(t, 7)
	if got := buttons(picker)["lang:ar"]; got != "العربية" {
		t.Fatalf("picker shows Arabic as %q; want its native name", got)
	}
	for _, want := range []string{"Choose your language", "Choisissez"} {
		if !strings.Contains(picker.Text, want) {
			t.Errorf("picker text lacks %q: %q", want, picker.Text)
		}
	}
	f.handle(t, press(7, "xx", "lang:fr"))
	all := f.sent.to(7)
	if len(all) < 3 || !strings.Contains(all[len(all)-1].Text, "Bienvenue") {
		t.Fatalf("after choosing French from /start, want the French welcome; got %q", all[len(all)-1].Text)
	}
	f.reopen(t)
	f.handle(t, command(7, "xx", "menu"))
	if got := f.sent.last(t, 7).Text; !strings.Contains(got, "Menu principal") {
		t.Errorf("after restart /menu = %q; want French", got)
	}
}

func TestLanguageSwitch(t *testing.T) {
	f := newFixture(t)
	f.handle(t, command(9, "ar", "language"))
	f.handle(t, press(9, "ar", "lang:en"))
	if got := f.sent.last(t, 9).Text; !strings.Contains(got, "Language: English") {
		t.Errorf("switch confirmation = %q", got)
	}
	f.handle(t, command(9, "ar", "help"))
	if got := f.sent.last(t, 9).Text; !strings.Contains(got, "<b>Help</b>") {
		t.Errorf("help after switch = %q; want English", got)
	}
	// A forged language code is not stored.
	f.handle(t, press(9, "ar", "lang:zz"))
	f.handle(t, command(9, "ar", "help"))
	if got := f.sent.last(t, 9).Text; !strings.Contains(got, "<b>Help</b>") {
		t.Errorf("forged language changed the language: %q", got)
	}
}

func TestMyDataShowsWhatIsStored(t *testing.T) {
	f := newFixture(t)
	f.handle(t, command(5550001, "fr", "start"))
	f.handle(t, press(5550001, "fr", "lang:fr"))
	f.handle(t, command(5550001, "fr", "mydata"))
	got := f.sent.last(t, 5550001).Text
	for _, want := range []string{"5550001", "Français", "25/11/2026"} {
		if !strings.Contains(got, want) {
			t.Errorf("/mydata lacks %q:\n%s", want, got)
		}
	}
}

func TestForgetDeletesEverything(t *testing.T) {
	f := newFixture(t)
	const user = 7700001234
	f.handle(t, command(user, "fr", "start"))
	f.handle(t, press(user, "fr", "lang:fr"))
	f.handle(t, command(user, "fr", "forget"))
	// Someone else's data stays.
	f.handle(t, command(8800004321, "en", "start"))
	f.handle(t, press(user, "fr", "forget:yes"))
	if got := f.sent.last(t, user).Text; !strings.Contains(got, "supprim") {
		t.Errorf("forget answer = %q", got)
	}
	var found []string
	if err := f.store.Scan(func(k, v []byte) error {
		if strings.Contains(string(k)+string(v), fmt.Sprint(user)) {
			found = append(found, string(k))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("after /forget the store still mentions the resident: %v", found)
	}
	if _, err := f.store.Profile(context.Background(), 8800004321); err != nil {
		t.Errorf("other resident's profile: %v", err)
	}
}

func TestForgetNeedsConfirmation(t *testing.T) {
	f := newFixture(t)
	f.handle(t, command(11, "en", "start"))
	f.handle(t, press(11, "en", "forget:yes")) // forged: no question was asked
	if _, err := f.store.Profile(context.Background(), 11); err != nil {
		t.Fatalf("profile deleted without confirmation: %v", err)
	}
	if got := f.sent.last(t, 11).Text; !strings.Contains(got, "no longer works") {
		t.Errorf("forged confirmation answer = %q", got)
	}
	f.handle(t, command(11, "en", "forget"))
	f.handle(t, press(11, "en", "forget:no"))
	if _, err := f.store.Profile(context.Background(), 11); err != nil {
		t.Fatalf("profile deleted after No: %v", err)
	}
}

func TestPanicGetsApologyAndBotGoesOn(t *testing.T) {
	f := newFixture(t)
	f.bot.Mux().Command("boom", bot.HandlerFunc(func(ctx context.Context, r *bot.Request) error {
		panic("kaboom")
	}))
	f.handle(t, command(21, "ar", "boom"))
	if got := f.sent.last(t, 21).Text; !strings.Contains(got, f.cat.Printer("ar").T("error.apology")) {
		t.Errorf("after panic got %q; want the Arabic apology", got)
	}
	f.handle(t, command(21, "ar", "help"))
	if got := f.sent.last(t, 21).Text; !strings.Contains(got, f.cat.Printer("ar").T("help.body")) {
		t.Errorf("next update after panic = %q", got)
	}
}

func TestErrorGetsApology(t *testing.T) {
	f := newFixture(t)
	f.bot.Mux().Command("fail", bot.HandlerFunc(func(ctx context.Context, r *bot.Request) error {
		return errors.New("something broke")
	}))
	f.handle(t, command(22, "fr", "fail"))
	if got := f.sent.last(t, 22).Text; got != f.cat.Printer("fr").T("error.apology") {
		t.Errorf("after error got %q", got)
	}
}

func TestDuplicateUpdateHandledOnce(t *testing.T) {
	f := newFixture(t)
	u := command(31, "en", "help")
	u.ID = 5000
	f.handle(t, u)
	f.handle(t, u)
	f.reopen(t)
	f.handle(t, u)
	if n := len(f.sent.to(31)); n != 1 {
		t.Errorf("update delivered three times answered %d times; want 1", n)
	}
	f.clock.Advance(49 * time.Hour) // marks are kept at least 24 h, then forgotten
	f.handle(t, u)
	if n := len(f.sent.to(31)); n != 2 {
		t.Errorf("after the dedup window the id is new again; answers = %d", n)
	}
}

func TestFloodLimit(t *testing.T) {
	f := newFixture(t)
	for range 40 {
		f.handle(t, command(41, "en", "help"))
	}
	all := f.sent.to(41)
	flood := f.cat.Printer("en").T("input.flood")
	warned := 0
	for _, r := range all {
		if r.Text == flood {
			warned++
		}
	}
	if warned != 1 || len(all) != 21 {
		t.Errorf("40 fast messages: %d answers, %d flood warnings; want 20 answers and 1 warning", len(all), warned)
	}
	f.clock.Advance(time.Minute)
	f.handle(t, command(41, "en", "help"))
	if got := f.sent.last(t, 41).Text; got == flood {
		t.Error("still limited after a minute")
	}
}

func TestBlockedResident(t *testing.T) {
	f := newFixture(t)
	f.handle(t, command(51, "en", "start"))
	f.sent.failFor[51] = fmt.Errorf("telegram: 403: %w", bot.ErrBlocked)
	f.handle(t, command(51, "en", "help"))
	p, err := f.store.Profile(context.Background(), 51)
	if err != nil || !p.Blocked {
		t.Fatalf("after 403 profile = %+v, %v; want Blocked", p, err)
	}
	delete(f.sent.failFor, 51)
	f.handle(t, bot.Update{Kind: bot.KindMember, UserID: 51, MemberStatus: "member"})
	if p, _ := f.store.Profile(context.Background(), 51); p.Blocked {
		t.Error("unblocked resident still marked blocked")
	}
	f.handle(t, bot.Update{Kind: bot.KindMember, UserID: 51, MemberStatus: "kicked"})
	if p, _ := f.store.Profile(context.Background(), 51); !p.Blocked {
		t.Error("my_chat_member kicked did not mark blocked")
	}
}

func TestUnsupportedAndUnknownInput(t *testing.T) {
	f := newFixture(t)
	f.handle(t, bot.Update{Kind: bot.KindPhoto, UserID: 61, LanguageCode: "fr", FileID: "x"})
	if got := f.sent.last(t, 61).Text; got != f.cat.Printer("fr").T("input.unsupported") {
		t.Errorf("photo answer = %q", got)
	}
	f.handle(t, bot.Update{Kind: bot.KindText, UserID: 61, LanguageCode: "fr", Text: "bonjour"})
	if got := f.sent.last(t, 61).Text; got != f.cat.Printer("fr").T("input.unknown") {
		t.Errorf("text answer = %q", got)
	}
	f.handle(t, command(61, "fr", "nosuchcommand"))
	if got := f.sent.last(t, 61).Text; got != f.cat.Printer("fr").T("input.unknown") {
		t.Errorf("unknown command answer = %q", got)
	}
	for _, data := range []string{"zzz:1", "menu:nope", "", strings.Repeat("a", 65), "lang:../../x"} {
		f.handle(t, press(61, "fr", data))
		if got := f.sent.last(t, 61).Text; got != f.cat.Printer("fr").T("input.stale") {
			t.Errorf("button %q answer = %q", data, got)
		}
	}
}

func TestGroupsIgnoredForNow(t *testing.T) {
	f := newFixture(t)
	f.handle(t, bot.Update{Kind: bot.KindCommand, ChatID: -100123, ChatType: bot.ChatSupergroup, UserID: 71, Command: "start"})
	if n := len(f.sent.to(-100123)); n != 0 {
		t.Errorf("group got %d replies", n)
	}
}

func TestCommandMenus(t *testing.T) {
	f := newFixture(t)
	menus := f.bot.CommandMenus()
	for _, lang := range []string{"", "en", "fr", "ar"} {
		if len(menus[lang]) != 8 { // reminders, but no guide, in this fixture
			t.Errorf("menu %q has %d commands", lang, len(menus[lang]))
		}
	}
	if menus["fr"][0].Description == menus["en"][0].Description {
		t.Error("French command menu is in English")
	}
}

func TestParseCallback(t *testing.T) {
	tests := []struct {
		in   string
		want bot.Callback
		ok   bool
	}{
		{"menu", bot.Callback{Prefix: "menu"}, true},
		{"lang:fr", bot.Callback{Prefix: "lang", Arg: "fr"}, true},
		{"lang:pt-BR", bot.Callback{Prefix: "lang", Arg: "pt-BR"}, true},
		{"doc:12:edit", bot.Callback{Prefix: "doc", Arg: "12:edit"}, true},
		{"", bot.Callback{}, false},
		{"Menu", bot.Callback{}, false},
		{"lang:f r", bot.Callback{}, false},
		{"lang:<b>", bot.Callback{}, false},
		{strings.Repeat("a", 65), bot.Callback{}, false},
		{"9lives", bot.Callback{}, false},
	}
	for _, tt := range tests {
		got, err := bot.ParseCallback(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseCallback(%q) = %+v, %v; want %+v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, bot.ErrBadCallback) {
			t.Errorf("ParseCallback(%q) error %v is not ErrBadCallback", tt.in, err)
		}
	}
}

func FuzzParseCallback(f *testing.F) {
	for _, s := range []string{"menu", "lang:fr", "forget:yes", "a:b:c", "\x00", "lang:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cb, err := bot.ParseCallback(s)
		if err != nil {
			return
		}
		if len(s) > 64 {
			t.Fatalf("accepted %d bytes", len(s))
		}
		back, err := bot.ParseCallback(cb.String())
		if err != nil || back != cb {
			t.Fatalf("round trip of %q: %+v, %v", s, back, err)
		}
	})
}

// TestForgetDeletesEverythingRedis runs the /forget privacy scan on Redis,
// single node and cluster, when they are configured.
func TestForgetDeletesEverythingRedis(t *testing.T) {
	for _, v := range []string{"PASSERELLE_TEST_REDIS_URL", "PASSERELLE_TEST_REDIS_CLUSTER"} {
		t.Run(v, func(t *testing.T) {
			url := os.Getenv(v)
			if url == "" {
				if os.Getenv("PASSERELLE_TEST_REQUIRE_REDIS") == "1" {
					t.Fatalf("PASSERELLE_TEST_REQUIRE_REDIS=1 but %s is not set", v)
				}
				t.Skipf("set %s to run this test on Redis", v)
			}
			ctx := context.Background()
			clk := clock.NewFake(start)
			st, err := redis.Open(ctx, url, redis.WithPrefix(fmt.Sprintf("pasbot-%d-%d", os.Getpid(), time.Now().UnixNano())), redis.WithKeys(testKeys), redis.WithClock(clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			scan := func() []string {
				var keys []string
				if err := st.Scan(ctx, func(k, v string) error { keys = append(keys, k+" "+v); return nil }); err != nil {
					t.Fatal(err)
				}
				return keys
			}
			t.Cleanup(func() {
				for _, kv := range scan() {
					k, _, _ := strings.Cut(kv, " ")
					st.Client().Del(ctx, k)
				}
				st.Close()
			})
			cat, err := catalog.Load(locales.FS)
			if err != nil {
				t.Fatal(err)
			}
			sent := newRecorder()
			b, err := bot.New(bot.Config{Store: st, Catalog: cat, Sender: sent, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			const user = 7700005678
			for i, u := range []bot.Update{
				command(user, "ar", "start"), press(user, "ar", "lang:fr"), command(user, "fr", "forget"),
				command(8800008765, "en", "start"), press(user, "fr", "forget:yes"),
			} {
				u.ID = int64(100 + i)
				u.ChatID, u.ChatType = u.UserID, bot.ChatPrivate
				if err := b.Handle(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			all := scan()
			if len(all) == 0 {
				t.Fatal("scan found nothing at all; the other resident's data should be there")
			}
			for _, kv := range all {
				if strings.Contains(kv, fmt.Sprint(user)) {
					t.Errorf("after /forget Redis still mentions the resident: %s", kv)
				}
			}
		})
	}
}

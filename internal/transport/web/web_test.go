package web_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/transport/web"
)

// workedExampleDays are the reminder days of the worked example (an ANEF
// titre ending 2027-06-30, registered 2026-12-12), as the Telegram
// reminders send them (cmd/passerelle TestReminderYear).
var workedExampleDays = []string{
	"2027-01-31", "2027-03-02", "2027-04-01", "2027-04-26",
	"2027-05-01", "2027-05-02", "2027-06-23", "2027-06-30",
}

// register follows the worked example on the page, in English.
func register(t *testing.T, b *browser) {
	t.Helper()
	b.say("/reminders")
	b.press("➕ Add a document")
	b.press("1. Carte de séjour temporaire")
	b.press("Étudiant (student)")
	b.press("No")
	b.press("👤 Mine")
	b.say("30/06/2027")
	b.press("✅ Yes, save")
	if !strings.Contains(b.text(), "Saved") {
		t.Fatalf("document not saved:\n%s", b.text())
	}
}

func TestFirstVisitSetsAnAnonymousSecureSession(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/chat/", nil)
	req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var c *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-passerelle" {
			c = ck
		}
	}
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" || len(c.Value) != 22 {
		t.Fatalf("session cookie = %+v; want __Host- prefixed, HttpOnly, Secure, SameSite=Strict, a 22-character token", c)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows unsafe sources: %q", csp)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("X-Frame-Options = %q", resp.Header.Get("X-Frame-Options"))
	}

	b := w.browser(t, "fr-FR,fr;q=0.9")
	b.open("/chat/")
	if !strings.Contains(b.page, `<html lang="fr" dir="ltr">`) {
		t.Errorf("page does not declare French, left to right:\n%.300s", b.page)
	}
	if !strings.Contains(b.text(), w.t("fr", "welcome.title")) {
		t.Errorf("no French welcome:\n%s", b.text())
	}
	if strings.Contains(b.page, "style=") || strings.Contains(b.page, "<script>") || regexp.MustCompile(`\son[a-z]+=`).MatchString(b.page) {
		t.Error("page has inline style or script: the CSP would block it")
	}
}

func TestArabicPageIsRightToLeft(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "")
	b.open("/chat/?lang=ar")
	if !strings.Contains(b.page, `<html lang="ar" dir="rtl">`) {
		t.Fatalf("Arabic page not right to left:\n%.300s", b.page)
	}
	if !strings.Contains(b.text(), w.t("ar", "welcome.title")) {
		t.Errorf("no Arabic welcome:\n%s", b.text())
	}
	// The choice of language sticks; a Persian browser later still gets
	// the language the resident chose.
	b.press(w.t("ar", "menu.language"))
	b.press("فارسی / دری")
	b.lang = "en"
	b.open("/chat/")
	if !strings.Contains(b.page, `<html lang="fa" dir="rtl">`) {
		t.Errorf("after choosing Persian:\n%.300s", b.page)
	}
}

func TestGuideReachesAResult(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "fr")
	b.open("/chat/")
	b.say("/guide")
	b.pressN(8) // Autre situation (a titre)
	b.pressN(3) // renouveler
	b.pressN(4) // mention
	b.say("25/02/2027")
	if !strings.Contains(b.text(), "Carte talent") || !strings.Contains(b.text(), "25/02/2027") {
		t.Fatalf("no guide result:\n%s", b.text())
	}
	if !strings.Contains(b.text(), "25/02/2027") {
		t.Errorf("the typed date is not shown")
	}
}

func TestCalendarOfTheWorkedExample(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "en")
	b.open("/chat/")
	register(t, b)
	b.say("/reminders")
	b.press("📅 Add to my calendar")
	m := regexp.MustCompile(`href="(/chat/file/\d+)" download`).FindStringSubmatch(b.page)
	if m == nil {
		t.Fatalf("no download link:\n%s", b.messages())
	}
	data := b.open(m[1])
	if got := b.headers.Get("Content-Type"); !strings.HasPrefix(got, "text/calendar") {
		t.Errorf("calendar served as %q", got)
	}
	if got := b.headers.Get("Content-Disposition"); got != `attachment; filename="passerelle.ics"` {
		t.Errorf("Content-Disposition = %q", got)
	}
	days, titles := parseCalendar(t, []byte(data))
	if !slices.Equal(days, workedExampleDays) {
		t.Errorf("calendar days:\n got %v\nwant %v", days, workedExampleDays)
	}
	for _, title := range titles {
		if title != w.t("en", "cal.event.title") {
			t.Errorf("event title %q is not the neutral title", title)
		}
	}
}

// parseCalendar parses an .ics file with golang-ical and returns its
// events' days and titles; every event must have a display alarm.
func parseCalendar(t *testing.T, data []byte) (days, titles []string) {
	t.Helper()
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line != "" && !strings.HasSuffix(line, "\r\n") {
			t.Fatalf("line not ended by CRLF: %q", line)
		}
		if len(strings.TrimSuffix(line, "\r\n")) > 75 {
			t.Fatalf("line longer than 75 octets: %q", line)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	for _, e := range cal.Events() {
		start, err := e.GetAllDayStartAt()
		if err != nil {
			t.Fatalf("event %s: %v", e.Id(), err)
		}
		days = append(days, start.Format("2006-01-02"))
		titles = append(titles, e.GetProperty(ics.ComponentPropertySummary).Value)
		alarms := e.Alarms()
		if len(alarms) != 1 || alarms[0].GetProperty(ics.ComponentPropertyAction).Value != "DISPLAY" || alarms[0].GetProperty(ics.ComponentPropertyTrigger).Value != "PT10H" {
			t.Errorf("event %s: alarms %v; want one display alarm at 10:00", e.Id(), alarms)
		}
		if d := e.GetProperty(ics.ComponentPropertyDescription); d == nil || d.Value == "" {
			t.Errorf("event %s has no description", e.Id())
		}
	}
	return days, titles
}

func TestPageWeightUnder30KB(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	css := len(w.browser(t, "").open("/chat/static/style.css"))
	js := len(w.browser(t, "").open("/chat/static/live.js"))
	const limit = 30 << 10
	max, maxAt := 0, ""
	for _, l := range w.cat.Languages() {
		b := w.browser(t, "")
		check := func(step string) {
			t.Helper()
			if n := len(b.page) + css + js; n > max {
				max, maxAt = n, l.Tag+" "+step
			}
			if n := len(b.page) + css + js; n >= limit {
				t.Errorf("%s %s: %d bytes with style and script; want under %d", l.Tag, step, n, limit)
			}
		}
		b.open("/chat/?lang=" + l.Tag)
		check("welcome")
		b.say("/guide")
		check("guide")
		for i, n := range []int{8, 3, 4} {
			b.pressN(n)
			check("question " + strconv.Itoa(i+1))
		}
		b.say("25/02/2027")
		check("result")
		b.say("/reminders")
		check("reminders")
		b.pressN(1)
		check("kinds")
		b.pressN(1)
		check("mention")
		b.pressN(1)
		check("multi")
		b.pressN(2)
		check("holder")
		b.pressN(1)
		check("date")
		b.pressN(1) // choose with buttons
		check("years")
		b.pressN(2)
		check("months")
		b.pressN(6)
		check("days")
		b.pressN(30)
		check("confirm")
		b.pressN(1)
		check("saved")
		b.say("/volunteer")
		check("help")
		b.say("/privacy")
		check("privacy")
	}
	t.Logf("heaviest step: %s, %d bytes (page + style %d + script %d)", maxAt, max, css, js)
}

func TestFormsNeedTheirCSRFToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "en")
	b.open("/chat/")
	before := b.page
	b.post("/chat/", url.Values{"b": {"menu:help"}, "csrf": {"forged"}})
	if !strings.Contains(b.page, w.t("en", "web.expired")) || strings.Contains(b.text(), "/mydata – see what we keep") {
		t.Errorf("a form with a wrong token was acted on:\n%s", b.text())
	}
	_ = before
	// A form posted from another site is refused outright.
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/chat/", strings.NewReader(url.Values{"b": {"menu:forget"}, "csrf": {b.csrf()}, "n": {nonce()}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "__Host-passerelle="+b.cookie)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site form: %d; want 403", resp.StatusCode)
	}
	// Every form of a page carries the token.
	b.open("/chat/")
	forms := strings.Count(b.page, "<form ")
	if n := strings.Count(b.page, `name="csrf"`); n != forms || forms < 4 {
		t.Errorf("%d forms, %d CSRF tokens", forms, n)
	}
}

func TestFormSentTwiceIsHandledOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "en")
	b.open("/chat/")
	form := url.Values{"b": {"r:n"}, "csrf": {b.csrf()}, "n": {nonce()}}
	b.post("/chat/", url.Values{"b": {"r"}})
	b.post("/chat/", cloneValues(form))
	first := b.text()
	b.post("/chat/", cloneValues(form))
	if b.text() != first {
		t.Errorf("the same form sent twice changed the page:\n%s\n---\n%s", first, b.text())
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func TestDeleteMyDataFromTheFooter(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "en")
	b.open("/chat/")
	register(t, b)
	id := residentID(t, w, b)
	b.post("/chat/resume", url.Values{}) // an outstanding resume code
	if !strings.Contains(b.page, `class="code"`) {
		t.Fatalf("no resume code shown:\n%s", b.page)
	}
	// The footer's button, on every page.
	if !strings.Contains(b.page, `<button name="b" value="menu:forget" class="danger">`+w.t("en", "menu.forget")+`</button>`) {
		t.Fatalf("no Delete my data in the footer")
	}
	b.post("/chat/", url.Values{"b": {"menu:forget"}})
	b.press(w.t("en", "forget.yes"))
	if !strings.Contains(b.text(), w.t("en", "forget.done")) {
		t.Errorf("after deleting: %s", b.text())
	}
	if b.cookie != "" {
		t.Error("the session cookie survived Delete my data")
	}
	// Nothing about the resident is left in the store: no profile, no
	// document, no page, no resume code.
	idStr := strconv.FormatInt(id, 10)
	var left []string
	err := w.st.Scan(func(k, v []byte) error {
		if bytes.Contains(k, []byte(idStr)) || bytes.Contains(v, []byte(idStr)) || bytes.Contains(v, []byte("Carte")) || bytes.Contains(v, []byte(`"t":`)) {
			left = append(left, string(k))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("left in the store after Delete my data: %v", left)
	}
}

// residentID reads the resident's id from My data.
func residentID(t *testing.T, w *world, b *browser) int64 {
	t.Helper()
	b.say("/mydata")
	m := regexp.MustCompile(`\d{19}`).FindString(b.text())
	id, err := strconv.ParseInt(m, 10, 64)
	if err != nil || !bot.IsWebID(id) {
		t.Fatalf("resident id %q is not in the web space:\n%s", m, b.text())
	}
	return id
}

func TestResumeOnAnotherDevice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	phone := w.browser(t, "en")
	phone.open("/chat/")
	register(t, phone)
	phone.post("/chat/resume", url.Values{})
	code := regexp.MustCompile(`class="code" dir="ltr">([A-Z0-9-]{14})<`).FindStringSubmatch(phone.page)
	if code == nil {
		t.Fatalf("no code shown:\n%s", phone.page)
	}
	laptop := w.browser(t, "en")
	laptop.open("/chat/")
	if laptop.cookie == phone.cookie {
		t.Fatal("two browsers share a session")
	}
	laptop.post("/chat/code", url.Values{"code": {strings.ToLower(strings.ReplaceAll(code[1], "-", " "))}})
	if laptop.cookie != phone.cookie || !strings.Contains(laptop.page, w.t("en", "web.resume.done")) {
		t.Fatalf("the code did not open the conversation:\n%s", laptop.page)
	}
	laptop.say("/reminders")
	if !strings.Contains(laptop.text(), "Carte de séjour temporaire") {
		t.Errorf("the other device does not see the document:\n%s", laptop.text())
	}
	// Once only.
	third := w.browser(t, "en")
	third.open("/chat/")
	third.post("/chat/code", url.Values{"code": {code[1]}})
	if third.cookie == phone.cookie || !strings.Contains(third.page, w.t("en", "web.resume.bad")) {
		t.Errorf("a used code worked again")
	}
	// A code expires.
	phone.post("/chat/resume", url.Values{})
	code = regexp.MustCompile(`class="code" dir="ltr">([A-Z0-9-]{14})<`).FindStringSubmatch(phone.page)
	w.clk.Advance(31 * time.Minute)
	third.post("/chat/code", url.Values{"code": {code[1]}})
	if third.cookie == phone.cookie {
		t.Errorf("a code older than 30 minutes worked")
	}
}

func TestTypedTextsAreNeverLogged(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "en")
	b.open("/chat/")
	const secret = "my-secret-text-Zq81"
	b.say(secret)
	b.say("/reminders")
	b.press("➕ Add a document")
	b.press("1. Carte de séjour temporaire")
	b.press("Étudiant (student)")
	b.press("No")
	b.press("🧒 My child's")
	b.say("Yasmine " + secret)
	if strings.Contains(w.logs.String(), secret) {
		t.Errorf("a typed text reached the logs:\n%s", w.logs.String())
	}
	if strings.Contains(w.logs.String(), b.cookie) {
		t.Errorf("the session token reached the logs")
	}
}

func TestMessagesArrivingLaterAppearLiveAndOnReturn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "en")
	b.open("/chat/")
	id := residentID(t, w, b)

	// On return: a message sent while no page is open waits for the next
	// visit, and stays through the resident's next action until seen.
	if _, err := w.page.Send(context.Background(), bot.Reply{ChatID: id, Text: "Second reply"}); err != nil {
		t.Fatal(err)
	}
	b.post("/chat/", url.Values{"b": {"menu:help"}})
	if !strings.Contains(b.text(), "Second reply") || !strings.Contains(b.text(), "/mydata – see what we keep") {
		t.Errorf("an unseen message was lost by the next action:\n%s", b.text())
	}
	b.post("/chat/", url.Values{"b": {"menu"}})
	if strings.Contains(b.text(), "Second reply") {
		t.Errorf("a seen message stays forever:\n%s", b.text())
	}

	// Live: an open page receives the message as a Server-Sent Event.
	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/chat/events", nil)
	req.Header.Set("Cookie", "__Host-passerelle="+b.cookie)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %s", resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	if line, _ := rd.ReadString('\n'); !strings.HasPrefix(line, ": stream") {
		t.Fatalf("stream starts with %q", line)
	}
	if _, err := w.page.Send(context.Background(), bot.Reply{ChatID: id, Text: "Lina (Entraide) &lt;wrote&gt;:\nHello <b>there</b>"}); err != nil {
		t.Fatal(err)
	}
	var event strings.Builder
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		if line == "\n" && strings.Contains(event.String(), "event:") {
			break
		}
		event.WriteString(line)
	}
	if !strings.Contains(event.String(), "event: msg") || !strings.Contains(event.String(), "Hello <b>there</b>") || !strings.Contains(event.String(), "&lt;wrote&gt;") {
		t.Errorf("event = %q", event.String())
	}
}

func TestEmbeddedInAnIframeWithoutCookies(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *web.Config) { c.FrameAncestors = []string{"https://association.example"} })
	get := func() (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/chat/?lang=en", nil)
		req.Header.Set("Sec-Fetch-Dest", "iframe")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
		return resp, b.String()
	}
	resp, _ := get()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://association.example") || resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("embedding not allowed: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	// The iframe of another site gets no SameSite=Strict cookie back: the
	// forms carry the session themselves.
	b := w.browser(t, "en")
	b.page = ""
	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/chat/", nil)
	req.Header.Set("Sec-Fetch-Dest", "iframe")
	r2, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page strings.Builder
	_, _ = bufio.NewReader(r2.Body).WriteTo(&page)
	r2.Body.Close()
	sid := regexp.MustCompile(`name="sid" value="([^"]+)"`).FindStringSubmatch(page.String())
	if sid == nil {
		t.Fatalf("no session in the iframe's forms:\n%s", page.String())
	}
	b.page = page.String()
	form := url.Values{"sid": {sid[1]}, "b": {"menu:help"}}
	b.post("/chat/", form) // no cookie: b.cookie is empty
	if b.status != http.StatusOK || !strings.Contains(b.text(), "/mydata – see what we keep") {
		t.Errorf("iframe form without cookie: %d\n%s", b.status, b.text())
	}
}

func TestWebIDsNeverMeetTelegramIDs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	seen := map[int64]bool{}
	for range 50 {
		b := w.browser(t, "en")
		b.open("/chat/")
		id := residentID(t, w, b)
		if id < bot.WebIDMin || seen[id] {
			t.Fatalf("web resident id %d: below 2^62 or repeated", id)
		}
		seen[id] = true
		if id < 1<<53 {
			t.Fatalf("web id %d in Telegram's range", id)
		}
	}
	if !w.page.Owns(bot.WebIDMin) || w.page.Owns(1<<52) || w.page.Owns(-1001234567890) {
		t.Error("Owns does not follow the id spaces")
	}
}

// TestTypedTextIsShownAndKeptForTheCase: a text that gets no answer (a
// message relayed to volunteers) still shows on the page, and while a case
// is open it is kept for a copy into the topic later.
func TestTypedTextIsShownAndKeptForTheCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t, "en")
	b.open("/chat/")
	id := residentID(t, w, b)
	ctx := context.Background()
	p, err := w.st.Profile(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	p.OpenCase = 42 // as if a case were open: the text is kept
	if err := w.st.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	b.say("a message for the volunteer")
	if !strings.Contains(b.text(), "a message for the volunteer") {
		t.Errorf("the typed text is not on the page:\n%s", b.text())
	}
	m := regexp.MustCompile(`<div class="msg you" id="m(\d+)">`).FindStringSubmatch(b.page)
	if m == nil {
		t.Fatalf("no message of the resident on the page")
	}
	msgID, _ := strconv.Atoi(m[1])
	got, err := w.page.MessageText(ctx, id, msgID)
	if err != nil || got != "a message for the volunteer" {
		t.Errorf("kept text = %q, %v", got, err)
	}
}

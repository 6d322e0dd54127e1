package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/transport/telegram/telegramtest"
	"github.com/passerelle-bot/passerelle/locales"
)

// webClient is a resident's browser for the page served by run(): it
// keeps the session cookie (Secure, so Go's jar would not send it over
// plain http) and the last page.
type webClient struct {
	t      *testing.T
	base   string
	cookie string
	other  map[string]string
	page   string
	n      int
}

var (
	webCSRF   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	webButton = regexp.MustCompile(`<button name="b" value="([^"]*)"[^>]*>([^<]*)</button>`)
	webTags   = regexp.MustCompile(`<[^>]*>`)
)

func (c *webClient) do(method, path string, form url.Values) {
	c.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: wait}
	for range 5 {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, c.base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if c.cookie != "" {
			req.AddCookie(&http.Cookie{Name: "__Host-passerelle", Value: c.cookie})
		}
		for k, v := range c.other {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		resp, err := client.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, ck := range resp.Cookies() {
			if ck.Name == "__Host-passerelle" {
				c.cookie = ck.Value
			} else {
				if c.other == nil {
					c.other = map[string]string{}
				}
				c.other[ck.Name] = ck.Value
			}
		}
		if resp.StatusCode == http.StatusSeeOther {
			method, path, form = http.MethodGet, resp.Header.Get("Location"), nil
			continue
		}
		if resp.StatusCode != http.StatusOK {
			c.t.Fatalf("%s %s: %s\n%s", method, path, resp.Status, data)
		}
		c.page = string(data)
		return
	}
	c.t.Fatal("too many redirects")
}

func (c *webClient) post(form url.Values) {
	c.t.Helper()
	m := webCSRF.FindStringSubmatch(c.page)
	if m == nil {
		c.t.Fatalf("no form on the page:\n%s", c.page)
	}
	c.n++
	form.Set("csrf", m[1])
	form.Set("n", fmt.Sprintf("e2e-%d-%d", time.Now().UnixNano(), c.n))
	c.do(http.MethodPost, "/chat/", form)
}

func (c *webClient) say(text string) { c.t.Helper(); c.post(url.Values{"text": {text}}) }

func (c *webClient) press(label string) {
	c.t.Helper()
	for _, m := range webButton.FindAllStringSubmatch(c.page, -1) {
		if html.UnescapeString(m[2]) == label {
			c.post(url.Values{"b": {html.UnescapeString(m[1])}})
			return
		}
	}
	c.t.Fatalf("no button %q on the page:\n%s", label, c.text())
}

func plainText(s string) string { return html.UnescapeString(webTags.ReplaceAllString(s, "")) }

func (c *webClient) text() string {
	return html.UnescapeString(webTags.ReplaceAllString(c.page, " "))
}

const webPartners = `
partners:
  - id: lyon
    name: Entraide Rhône
    chat_id: -1001000000001
    departements: all
    languages: [fr, ar]
    problems: all
    hours: &always
      monday: 00:00-24:00
      tuesday: 00:00-24:00
      wednesday: 00:00-24:00
      thursday: 00:00-24:00
      friday: 00:00-24:00
      saturday: 00:00-24:00
      sunday: 00:00-24:00
    capacity: 10
    referents: [200000001]
`

// TestWebResidentHandoffEndToEnd: run() with PASSERELLE_WEB=on serves the
// page under /chat/ beside the Telegram bot. A web resident opens a case;
// it reaches the partner's Telegram group; their message is copied into
// the case's topic as text; the volunteer's reply appears on the page,
// live (Server-Sent Events) and on the next visit.
func TestWebResidentHandoffEndToEnd(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t)
	rights := telegramtest.ChatAdminRights{CanManageChat: true, CanDeleteMessages: true, CanPinMessages: true, CanManageTopics: true}
	srv.AddGroup(e2eLyon, "Entraide Rhône – bénévoles", true, rights)
	srv.SetMember(e2eLyon, lina, "member")
	partners := filepath.Join(t.TempDir(), "partners.yaml")
	if err := os.WriteFile(partners, []byte(webPartners), 0o600); err != nil {
		t.Fatal(err)
	}
	env := baseEnv(t, srv, "bolt:"+filepath.Join(t.TempDir(), "web.db"))
	env["PASSERELLE_WEB"] = "on"
	env["PASSERELLE_PARTNERS"] = partners
	startBot(t, env)
	srv.WaitPolling(t, wait)
	cat, err := catalog.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	fr := cat.Printer("fr")
	tr := func(id string) string { return html.UnescapeString(webTags.ReplaceAllString(fr.T(id), "")) }

	c := &webClient{t: t, base: "http://" + env["PASSERELLE_LISTEN"]}
	// A partner's link: /chat/?p=<partner> records the partner as the
	// Telegram referral link does, and says so.
	c.do(http.MethodGet, "/chat/?lang=fr&p=lyon", nil)
	if !strings.Contains(c.page, `lang="fr"`) || !strings.Contains(c.text(), tr("welcome.title")) {
		t.Fatalf("no French welcome on /chat/:\n%s", c.text())
	}
	if want := plainText(fr.T("help.referred", "Partner", "Entraide Rhône")); !strings.Contains(c.text(), want) {
		t.Errorf("the referral is not recorded (%q):\n%s", want, c.text())
	}
	c.say("/volunteer")
	c.press(tr("help.problem.no_api"))
	c.say("69")
	c.say("30/06/2027")
	c.press("◻️ " + tr("help.risk.work"))
	c.press(tr("help.risk.done"))
	c.press(tr("help.skip"))
	c.press(tr("help.consent.yes"))
	card := srv.WaitMessages(t, e2eLyon, 1, wait)[0]
	if !strings.Contains(card.Text, "Dossier #") {
		t.Fatalf("no case card in the partner's group: %q", card.Text)
	}
	id, err := srv.PressButton(lina, e2eLyon, cat.Printer("fr").T("case.take"))
	if err != nil {
		t.Fatal(err)
	}
	srv.WaitDelivered(t, id, wait)
	topics := srv.Topics(e2eLyon)
	if len(topics) != 1 {
		t.Fatalf("topics: %+v", topics)
	}
	thread := topics[0].ThreadID

	// The resident writes from the page: the text reaches the topic.
	const question = "Bonjour, ma carte expire & je n'ai pas d'API <urgent>"
	c.say(question)
	if !strings.Contains(c.text(), question) {
		t.Errorf("the resident's message is not on the page:\n%s", c.text())
	}
	var copied telegramtest.Message
	deadline := time.Now().Add(wait)
	for copied.MessageID == 0 && time.Now().Before(deadline) {
		for _, m := range srv.Messages(e2eLyon) {
			if m.ThreadID == thread && strings.Contains(m.PlainText, question) {
				copied = m
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if copied.MessageID == 0 {
		t.Fatalf("the web resident's message did not reach the topic: %+v", srv.Messages(e2eLyon))
	}

	// The page is open: it listens for live messages.
	req, _ := http.NewRequest(http.MethodGet, c.base+"/chat/events", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-passerelle", Value: c.cookie})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	if line, _ := events.ReadString('\n'); !strings.HasPrefix(line, ": stream") {
		t.Fatalf("events: %q", line)
	}

	// The volunteer answers with /r and sends the preview: signed, it
	// reaches the page live.
	srv.WaitDelivered(t, srv.SendGroupText(e2eLyon, thread, lina, "/r Venez mardi à 10 h."), wait)
	press, err := srv.PressButton(lina, e2eLyon, cat.Printer("fr").T("case.send_button"))
	if err != nil {
		t.Fatal(err)
	}
	srv.WaitDelivered(t, press, wait)
	var event strings.Builder
	for !strings.Contains(event.String(), "Venez mardi") {
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatalf("no live reply: %v (%q)", err, event.String())
		}
		event.WriteString(line)
	}
	if !strings.Contains(event.String(), "Lina") || !strings.Contains(event.String(), "Entraide Rhône") {
		t.Errorf("live reply not signed: %q", event.String())
	}
	cancel()

	// And on the next visit.
	c.do(http.MethodGet, "/chat/", nil)
	if !strings.Contains(c.text(), "Venez mardi à 10 h.") {
		t.Errorf("the reply is not on the page:\n%s", c.text())
	}
	srv.RequireNoSpecErrors(t)
}

// TestWebAlone: `passerelle web` serves the page with no token; with
// --partners but no token it says why it cannot.
func TestWebAlone(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		keyEnv := func(k string) string {
			if k == "PASSERELLE_DATA_KEY" {
				return testDataKey
			}
			return ""
		}
		done <- run(ctx, []string{"web", "--listen", addr, "--store", "bolt:" + filepath.Join(t.TempDir(), "w.db")}, keyEnv, strings.NewReader(""), io.Discard, &logs)
	}()
	c := &webClient{t: t, base: "http://" + addr}
	deadline := time.Now().Add(wait)
	for {
		if conn, err := http.Get(c.base + "/healthz"); err == nil {
			conn.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("passerelle web did not start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.do(http.MethodGet, "/?lang=ar&p=nobody", nil)
	if !strings.Contains(c.page, `<html lang="ar" dir="rtl">`) {
		t.Errorf("root does not lead to the Arabic page:\n%.300s", c.page)
	}
	c.say("/reminders")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("passerelle web: %v\n%s", err, logs.String())
	}

	var out bytes.Buffer
	err := run(context.Background(), []string{"web", "--listen", freeAddr(t), "--partners", "../../partners.example.yaml"}, noEnv, strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "TELEGRAM_BOT_TOKEN") {
		t.Errorf("web --partners without a token: %v; want an error naming TELEGRAM_BOT_TOKEN", err)
	}
}

// TestCalendarMatchesTelegramReminders: in Telegram, "📅 Add to my
// calendar" sends an .ics document (sendDocument); for the worked example
// (an ANEF titre ending 2027-06-30, registered 2026-12-12) it parses with
// golang-ical and holds exactly the days the reminders are then sent on.
func TestCalendarMatchesTelegramReminders(t *testing.T) {
	t.Parallel()
	w := newYearWorld(t, time.Date(2026, 12, 12, 15, 0, 0, 0, time.UTC))
	u := telegramtest.User{ID: 9201, LanguageCode: "en"}
	w.register(t, u)
	w.do(t, w.srv.SendText(u, "/reminders"))
	w.press(t, u, "📅 Add to my calendar")
	msgs := w.srv.Messages(u.ID)
	doc := msgs[len(msgs)-1]
	if doc.Media != "document" || doc.FileName != "passerelle.ics" || len(doc.FileData) == 0 {
		t.Fatalf("last message = %+v; want the .ics document", doc)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(doc.FileData))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, doc.FileData)
	}
	var days []string
	for _, e := range cal.Events() {
		d, err := e.GetAllDayStartAt()
		if err != nil {
			t.Fatal(err)
		}
		days = append(days, d.Format("2006-01-02"))
		if s := e.GetProperty(ics.ComponentPropertySummary).Value; s != "Passerelle: a date to check" {
			t.Errorf("event title %q is not neutral", s)
		}
		if len(e.Alarms()) != 1 {
			t.Errorf("event %s has %d alarms", e.Id(), len(e.Alarms()))
		}
	}
	w.mark(u.ID)
	w.run(t, time.Date(2027, 7, 1, 12, 0, 0, 0, w.paris), []int64{u.ID}, nil, nil)
	var sent []string
	for _, d := range w.days(u.ID) {
		sent = append(sent, d[:10])
	}
	if !slices.Equal(days, sent) || len(days) != 8 {
		t.Errorf("calendar days %v; reminders sent on %v", days, sent)
	}
	w.srv.RequireNoSpecErrors(t)
}

func TestWebConfiguration(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string // "" for valid
	}{
		{map[string]string{"PASSERELLE_WEB": "on", "PASSERELLE_WEB_FRAME_ANCESTORS": "https://association.example 'self'"}, ""},
		{map[string]string{"PASSERELLE_WEB": "maybe"}, "PASSERELLE_WEB"},
		{map[string]string{"PASSERELLE_WEB_FRAME_ANCESTORS": "https://a.example; script-src *"}, "PASSERELLE_WEB_FRAME_ANCESTORS"},
		{map[string]string{"PASSERELLE_WEB_FRAME_ANCESTORS": "*"}, "PASSERELLE_WEB_FRAME_ANCESTORS"},
	} {
		cfg, err := loadConfig(func(k string) string { return tt.env[k] })
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v", tt.env, err)
		case tt.want == "" && (!cfg.Web || len(cfg.FrameAncestors) != 2):
			t.Errorf("%v: %+v", tt.env, cfg)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%v: error %v; want one naming %s", tt.env, err, tt.want)
		}
	}
}

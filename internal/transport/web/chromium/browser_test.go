package chromium_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

func TestArabicIsRightToLeft(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tb := w.tab(t, true)
	tb.open("/chat/?lang=ar")
	if dir, lang := tb.attr("html", "dir"), tb.attr("html", "lang"); dir != "rtl" || lang != "ar" {
		t.Fatalf("html dir=%q lang=%q; want rtl, ar", dir, lang)
	}
	if got := tb.text(); !strings.Contains(got, w.t("ar", "welcome.title")) {
		t.Errorf("no Arabic welcome:\n%s", got)
	}
	tb.audit("the Arabic welcome")
	tb.shot("ar-welcome")
	tb.press(w.t("ar", "guide.title"))
	tb.audit("the Arabic guide")
	tb.shot("ar-guide")
	tb.press(w.t("ar", "menu.back"))
	tb.press(w.t("ar", "menu.reminders"))
	tb.shot("ar-reminders")
}

func TestGuideToAResult(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tb := w.tab(t, true)
	tb.open("/chat/?lang=fr")
	tb.audit("the French welcome")
	tb.shot("fr-welcome")
	tb.say("/guide")
	tb.audit("the first question")
	tb.pressN(8)
	tb.pressN(3)
	tb.shot("fr-guide")
	tb.pressN(4)
	tb.say("25/02/2027")
	got := tb.text()
	if !strings.Contains(got, "Carte talent") || !strings.Contains(got, "25/02/2027") {
		t.Fatalf("no guide result:\n%s", got)
	}
	tb.audit("a guide result")
	tb.shot("fr-result")
	tb.checkTapTargets("a guide result")
	tb.checkZoom200("a guide result")
	if !tb.requested("/chat/events") {
		t.Error("the live-updates script did not open its stream")
	}
}

func TestWithoutJavaScript(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tb := w.tab(t, false)
	tb.open("/chat/?lang=en")
	tb.say("/guide")
	tb.pressN(8)
	tb.pressN(3)
	tb.pressN(4)
	tb.say("25/02/2027")
	if got := tb.text(); !strings.Contains(got, "Talent card") || !strings.Contains(got, "25/02/2027") {
		t.Fatalf("no guide result without JavaScript:\n%s", got)
	}
	register(t, tb)
	if tb.requested("/chat/events") || tb.requested("/chat/static/live.js") && tb.requested("/chat/events") {
		t.Error("a script ran although JavaScript is off")
	}
}

// register follows the worked example: a carte de séjour temporaire
// ending 30/06/2027, the date picked with the buttons.
func register(t *testing.T, tb *tab) {
	t.Helper()
	tb.say("/reminders")
	tb.press("➕ Add a document")
	tb.press("1. Carte de séjour temporaire")
	tb.press("Étudiant (student)")
	tb.press("No")
	tb.press("👤 Mine")
	tb.press("📅 Choose with buttons")
	tb.press("2027")
	tb.press("June")
	tb.press("30")
	tb.press("✅ Yes, save")
	if got := tb.text(); !strings.Contains(got, "Saved") || !strings.Contains(got, "30/06/2027") {
		t.Fatalf("document not saved:\n%s", got)
	}
}

func TestRegisterAndDownloadTheCalendar(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tb := w.tab(t, true)
	dir := t.TempDir()
	id := chromedp.FromContext(tb.ctx).BrowserContextID
	if _, err := chromedp.CallBrowser(tb.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: id, DownloadPath: dir,
	}); err != nil {
		t.Fatal(err)
	}
	tb.open("/chat/?lang=en")
	register(t, tb)
	tb.say("/reminders")
	tb.press("📅 Add to my calendar")
	tb.audit("the calendar download")
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.Search("//a[@download]"), chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "passerelle.ics")
	var data []byte
	for deadline := time.Now().Add(20 * time.Second); ; {
		b, err := os.ReadFile(path)
		if err == nil && len(b) > 0 {
			data = b
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("no calendar downloaded (%v)", entries)
		}
		time.Sleep(50 * time.Millisecond) // Chromium writes the file on its own
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var days []string
	for _, e := range cal.Events() {
		d, err := e.GetAllDayStartAt()
		if err != nil {
			t.Fatal(err)
		}
		days = append(days, d.Format("2006-01-02"))
	}
	want := []string{"2027-01-31", "2027-03-02", "2027-04-01", "2027-04-26", "2027-05-01", "2027-05-02", "2027-06-23", "2027-06-30"}
	if !slices.Equal(days, want) {
		t.Errorf("downloaded calendar: %v; want %v", days, want)
	}
}

func TestVolunteerReplyArrivesLive(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tb := w.tab(t, true)
	tb.open("/chat/?lang=fr")
	tb.say("/volunteer")
	tb.press(w.t("fr", "help.problem.no_api"))
	tb.say("69")
	tb.say("30/06/2027")
	tb.press("◻️ " + w.t("fr", "help.risk.work"))
	tb.press(w.t("fr", "help.risk.done"))
	tb.press(w.t("fr", "help.skip"))
	tb.audit("the consent page")
	tb.press(w.t("fr", "help.consent.yes"))
	w.tg.WaitMessages(t, lyon, 1, 10*time.Second)
	id, err := w.tg.PressButton(lina, lyon, w.cat.Printer("fr").T("case.take"))
	if err != nil {
		t.Fatal(err)
	}
	w.tg.WaitDelivered(t, id, 10*time.Second)
	thread := w.tg.Topics(lyon)[0].ThreadID
	tb.say("Bonjour, je n'ai pas reçu d'API.")
	if got := tb.text(); !strings.Contains(got, "je n'ai pas reçu d'API") {
		t.Errorf("the resident's message is not on the page:\n%s", got)
	}
	var copied int
	for deadline := time.Now().Add(10 * time.Second); copied == 0; {
		for _, m := range w.tg.Messages(lyon) {
			if m.ThreadID == thread && strings.Contains(m.PlainText, "je n'ai pas reçu d'API") {
				copied = m.MessageID
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message did not reach the topic: %+v", w.tg.Messages(lyon))
		}
		time.Sleep(20 * time.Millisecond) // the relay goes through the fake Bot API
	}
	// Mark this page: a reload would lose the mark.
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool]("window.__stay = true")); err != nil {
		t.Fatal(err)
	}
	_ = copied // a reply to the copy stays internal: the volunteer answers with /r, then Send
	w.tg.WaitDelivered(t, w.tg.SendGroupText(lyon, thread, lina, "/r Venez mardi à 10 h, nous regarderons ensemble."), 10*time.Second)
	send, err := w.tg.PressButton(lina, lyon, w.cat.Printer("fr").T("case.send_button"))
	if err != nil {
		t.Fatal(err)
	}
	w.tg.WaitDelivered(t, send, 10*time.Second)
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](`document.getElementById("msgs").innerText.includes("Venez mardi à 10 h") && window.__stay === true`, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("the reply did not arrive live: %v\n%s", err, tb.text())
	}
	if got := tb.text(); !strings.Contains(got, "Lina") || !strings.Contains(got, "Entraide Rhône") {
		t.Errorf("the live reply is not signed:\n%s", got)
	}
	tb.audit("a live reply")
	if err := chromedp.Do(tb.ctx, chromedp.ScrollIntoView(chromedp.CSS("#msgs > div:last-child"))); err != nil {
		t.Fatal(err)
	}
	tb.shot("fr-volunteer-reply")
}

func TestDeleteMyData(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tb := w.tab(t, true)
	tb.open("/chat/?lang=en")
	register(t, tb)
	tb.clickAndLoad("//footer//button[@value='menu:forget']")
	tb.press(w.t("en", "forget.yes"))
	if got := tb.text(); !strings.Contains(got, w.t("en", "forget.done")) {
		t.Fatalf("after Delete my data:\n%s", got)
	}
	for _, c := range tb.cookies() {
		if c.Name == "__Host-passerelle" {
			t.Errorf("the session cookie is still there")
		}
	}
	tb.open("/chat/")
	tb.say("/reminders")
	if got := tb.text(); strings.Contains(got, "Carte de séjour temporaire") {
		t.Errorf("the document survived:\n%s", got)
	}
}

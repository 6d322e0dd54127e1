package chromium_test

import (
	"context"
	"encoding/json"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// tab is one resident's browser: its own browser context (cookies,
// downloads), a phone-sized viewport, and a log of every request, which
// must all go to the page's own origin.
type tab struct {
	t    *testing.T
	w    *world
	ctx  context.Context
	mu   sync.Mutex
	reqs []string
}

func (w *world) tab(t *testing.T, js bool) *tab {
	t.Helper()
	needBrowser(t)
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	tb := &tab{t: t, w: w, ctx: ctx}
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			tb.mu.Lock()
			tb.reqs = append(tb.reqs, e.Request.URL)
			tb.mu.Unlock()
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 760, chromedp.EmulatePortrait)); err != nil {
		t.Fatal(err)
	}
	if !js {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(tb.checkOrigins)
	return tb
}

// checkOrigins fails the test if the page made any request to another
// origin (Chromium's network log).
func (tb *tab) checkOrigins() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.reqs) == 0 {
		tb.t.Error("no request seen in the network log")
	}
	for _, r := range tb.reqs {
		u, err := url.Parse(r)
		if err != nil || u.Scheme+"://"+u.Host != tb.w.base {
			tb.t.Errorf("request to another origin: %s", r)
		}
	}
}

func (tb *tab) requested(path string) bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, r := range tb.reqs {
		if strings.HasPrefix(r, tb.w.base+path) {
			return true
		}
	}
	return false
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(tb.w.base+path)); err != nil {
		tb.t.Fatalf("open %s: %v", path, err)
	}
}

// xpathLiteral quotes s for XPath.
func xpathLiteral(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	parts := strings.Split(s, "'")
	return "concat('" + strings.Join(parts, `', "'", '`) + "')"
}

// clickAndLoad clicks the element sel and waits for the page it loads.
func (tb *tab) clickAndLoad(sel string) {
	tb.t.Helper()
	_, err := chromedp.Run(tb.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible)))
	if err != nil {
		tb.t.Fatalf("click %s: %v\npage:\n%s", sel, err, tb.text())
	}
}

// press presses the button labelled label in the conversation.
func (tb *tab) press(label string) {
	tb.t.Helper()
	tb.clickAndLoad("//div[@id='msgs']//button[normalize-space(.)=" + xpathLiteral(label) + "]")
}

// pressN presses the n-th button (from 1) of the conversation.
func (tb *tab) pressN(n int) {
	tb.t.Helper()
	tb.clickAndLoad("(//div[@id='msgs']//button)[" + strconv.Itoa(n) + "]")
}

// say types text in the message field and sends it.
func (tb *tab) say(text string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.SendKeys(chromedp.CSS("#text"), text, chromedp.NodeVisible)); err != nil {
		tb.t.Fatal(err)
	}
	tb.clickAndLoad("//form[contains(@class,'compose')]//button[contains(@class,'primary')]")
}

func (tb *tab) text() string {
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		return "(no text: " + err.Error() + ")"
	}
	return s
}

func (tb *tab) attr(sel, name string) string {
	tb.t.Helper()
	r, err := chromedp.Run(tb.ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		tb.t.Fatal(err)
	}
	return r.Value
}

// audit runs axe-core on the page and fails on serious or critical
// violations.
func (tb *tab) audit(what string) {
	tb.t.Helper()
	if axeSource == "" {
		if requireEnv {
			tb.t.Fatalf("%v (PASSERELLE_TEST_REQUIRE_BROWSER=1)", axeErr)
		}
		tb.t.Logf("accessibility audit skipped: %v", axeErr)
		return
	}
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[json.RawMessage](axeSource+";true")); err != nil {
		tb.t.Fatalf("inject axe-core: %v", err)
	}
	const run = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.impact + " " + v.id + ": " + v.help + " [" + v.nodes.map(n => n.target.join(" ")).join(", ") + "]"))`
	found, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("axe: %v", err)
	}
	for _, v := range found {
		tb.t.Errorf("axe-core on %s: %s", what, v)
	}
}

// checkTapTargets: every button, field and disclosure is at least 44 by
// 44 CSS pixels (WCAG 2.5.5), so a finger hits it on a cheap phone.
func (tb *tab) checkTapTargets(what string) {
	tb.t.Helper()
	const js = `[...document.querySelectorAll("button, a.btn, input[type=text], summary")]
		.filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.height < 44 || r.width < 44); })
		.map(e => e.tagName + " " + (e.textContent || e.id).trim().slice(0, 30))`
	small, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		tb.t.Fatal(err)
	}
	for _, s := range small {
		tb.t.Errorf("%s: tap target smaller than 44 px: %s", what, s)
	}
}

// checkZoom200: at 200 % zoom (a 390 px phone shows 195 CSS pixels) the
// page still fits its width: nothing to scroll sideways.
func (tb *tab) checkZoom200(what string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(195, 380, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		tb.t.Fatal(err)
	}
	defer chromedp.Do(tb.ctx, chromedp.EmulateViewport(390, 760, chromedp.EmulatePortrait))
	over, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")]
		.filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
		.map(e => e.tagName + " " + (e.textContent || "").trim().slice(0, 30))`))
	if err != nil {
		tb.t.Fatal(err)
	}
	width, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
	if err != nil {
		tb.t.Fatal(err)
	}
	if width[0] > width[1] || len(over) > 0 {
		tb.t.Errorf("%s at 200%% zoom: page %d px wide in %d px; overflowing: %v", what, width[0], width[1], over)
	}
}

// shot saves a screenshot of the viewport for docs/screenshots.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	if screenshots == "" {
		return
	}
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatal(err)
	}
	shotMu.Lock()
	defer shotMu.Unlock()
	if err := os.MkdirAll(screenshots, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshots, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

func (tb *tab) cookies() []*network.Cookie {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.w.base + "/chat/"}})
	if err != nil {
		tb.t.Fatal(err)
	}
	return res.Cookies
}

var _ = cdp.Empty{}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func plainText(s string) string { return html.UnescapeString(tagRE.ReplaceAllString(s, "")) }

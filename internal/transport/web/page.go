package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/passerelle-bot/passerelle/internal/catalog"
)

//go:embed page.html static
var files embed.FS

// static files, with a version (hash of the content) for caching.
var (
	styleCSS, liveJS []byte
	staticVersion    string
)

func init() {
	styleCSS, _ = files.ReadFile("static/style.css")
	liveJS, _ = files.ReadFile("static/live.js")
	h := sha256.Sum256(append(append([]byte{}, styleCSS...), liveJS...))
	staticVersion = hex.EncodeToString(h[:6])
}

func parseTemplates() (*template.Template, error) {
	return template.New("page.html").Funcs(template.FuncMap{"nonce": randomNonce}).ParseFS(files, "page.html")
}

// pageOpts says what a page shows beyond the steps.
type pageOpts struct {
	note     string // a notice id: expired, error, code_ok, code_bad, too_long
	code     string // a resume code to show
	embedded bool
	// gone: the resident has no data left (or the store failed): no
	// footer forms, no live updates.
	gone    bool
	printer *catalog.Printer
}

// view is what page.html renders.
type view struct {
	Lang, Dir string
	Base      string
	Static    string
	Version   string
	CSRF, SID string
	Events    string
	Note      string
	Code      string
	Msgs      []viewMsg
	Keyboard  [][]string
	Gone      bool
	L         labels
	resident  resident
}

type labels struct {
	Input, Send, You, Nav, Menu, Language, Forget, Resume, HaveCode, CodeLabel, Download, CodeIntro string
}

type viewMsg struct {
	ID      int
	You     bool
	Text    string
	HTML    template.HTML
	Rows    [][]viewButton
	FileURL string
	P       *view
}

type viewButton struct{ Label, Data, URL string }

func (t *Transport) labels(p *catalog.Printer) labels {
	return labels{
		Input: plain(p.T("web.input")), Send: plain(p.T("web.send")), You: plain(p.T("web.you")),
		Nav: plain(p.T("web.nav")), Menu: plain(p.T("menu.back")), Language: plain(p.T("menu.language")),
		Forget: plain(p.T("menu.forget")), Resume: plain(p.T("web.resume.button")),
		HaveCode: plain(p.T("web.resume.have")), CodeLabel: plain(p.T("web.resume.label")),
		Download: plain(p.T("web.download")),
	}
}

// render shows the resident's stored page and marks its messages seen.
func (t *Transport) render(w http.ResponseWriter, r *http.Request, res resident, o pageOpts) {
	ctx := r.Context()
	rec, err := t.load(ctx, res.id)
	if err != nil {
		t.fail(w, r, res, err)
		return
	}
	v := t.view(r, res, rec.Msgs, o)
	v.Keyboard = rec.Keyboard
	t.write(w, v)
	unseen := false
	for _, m := range rec.Msgs {
		unseen = unseen || m.Unseen
	}
	if unseen {
		_ = t.mutate(ctx, res.id, func(rec *record) bool {
			for i := range rec.Msgs {
				rec.Msgs[i].Unseen = false
			}
			return true
		})
	}
}

// renderSteps shows msgs without storing anything (after Delete my data,
// or on a failure).
func (t *Transport) renderSteps(w http.ResponseWriter, r *http.Request, res resident, msgs []message, o pageOpts) {
	t.write(w, t.view(r, res, msgs, o))
}

func (t *Transport) view(r *http.Request, res resident, msgs []message, o pageOpts) *view {
	p := o.printer
	if p == nil {
		p = t.printer(r.Context(), res.id, acceptLang(r))
	}
	v := &view{
		Lang: p.Lang(), Dir: "ltr", Base: t.cfg.Prefix, Static: t.cfg.Prefix + "static/", Version: staticVersion,
		CSRF: res.csrf(), Gone: o.gone, L: t.labels(p), resident: res,
	}
	if p.RTL() {
		v.Dir = "rtl"
	}
	if o.embedded {
		v.SID = res.token
	} else if !o.gone {
		v.Events = t.cfg.Prefix + "events"
	}
	switch o.note {
	case "expired":
		v.Note = plain(p.T("web.expired"))
	case "error":
		v.Note = plain(p.T("error.apology"))
	case "code_ok":
		v.Note = plain(p.T("web.resume.done"))
	case "code_bad":
		v.Note = plain(p.T("web.resume.bad"))
	case "too_long":
		v.Note = plain(p.T("web.too_long"))
	}
	if o.code != "" {
		v.Code = o.code
		v.L.CodeIntro = plain(p.T("web.resume.code"))
	}
	for _, m := range msgs {
		v.Msgs = append(v.Msgs, t.viewMsg(v, m))
	}
	return v
}

func (t *Transport) viewMsg(v *view, m message) viewMsg {
	vm := viewMsg{ID: m.ID, You: m.You, P: v}
	if m.You {
		vm.Text = m.Text
	} else {
		vm.HTML = toHTML(m.Text)
	}
	for _, row := range m.Buttons {
		var out []viewButton
		for _, b := range row {
			switch {
			case b.URL != "":
				if u := safeURL(b.URL); u != "" {
					out = append(out, viewButton{Label: b.Label, URL: u})
				}
			case b.Data != "":
				out = append(out, viewButton{Label: b.Label, Data: b.Data})
			}
		}
		if len(out) > 0 {
			vm.Rows = append(vm.Rows, out)
		}
	}
	if m.File != nil {
		vm.FileURL = t.cfg.Prefix + "file/" + strconv.Itoa(m.ID)
	}
	return vm
}

func (t *Transport) write(w http.ResponseWriter, v *view) {
	var b bytes.Buffer
	if err := t.pages.ExecuteTemplate(&b, "page.html", v); err != nil {
		t.cfg.Logger.Error("web_render_failed", "chat_id", v.resident.id, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	t.headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// fragment renders one message for a live update.
func (t *Transport) fragment(v *view, m message) (string, error) {
	var b bytes.Buffer
	if err := t.pages.ExecuteTemplate(&b, "msg", t.viewMsg(v, m)); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

func (t *Transport) getStatic(w http.ResponseWriter, r *http.Request) {
	var body []byte
	switch r.PathValue("name") {
	case "style.css":
		body = styleCSS
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case "live.js":
		body = liveJS
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(body)
}

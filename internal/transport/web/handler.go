package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/passerelle-bot/passerelle/bot"
)

// maxText bounds a typed message, as Telegram does.
const maxText = 4096

func (t *Transport) routes() {
	p := t.cfg.Prefix
	m := http.NewServeMux()
	m.HandleFunc("GET "+p+"{$}", t.getPage)
	m.HandleFunc("POST "+p+"{$}", t.postAction)
	m.HandleFunc("POST "+p+"resume", t.postResume)
	m.HandleFunc("POST "+p+"code", t.postCode)
	m.HandleFunc("GET "+p+"file/{id}", t.getFile)
	m.HandleFunc("POST "+p+"file/{id}", t.getFile)
	m.HandleFunc("GET "+p+"events", t.getEvents)
	m.HandleFunc("GET "+p+"static/{name}", t.getStatic)
	t.mux = m
}

// headers sets the security headers of every page.
func (t *Transport) headers(w http.ResponseWriter) {
	h := w.Header()
	fa := "'none'"
	if len(t.cfg.FrameAncestors) > 0 {
		fa = strings.Join(t.cfg.FrameAncestors, " ")
	} else {
		h.Set("X-Frame-Options", "DENY")
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors "+fa)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// embedded reports whether the page is shown in an iframe of another
// site, where browsers do not send a SameSite=Strict cookie: then each form
// carries the resident's token itself and answers come without redirects.
func embedded(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Dest") == "iframe" || r.PostFormValue("sid") != ""
}

// who returns the resident of a request: the cookie, else (a form in an
// iframe) the form's sid.
func who(r *http.Request) (resident, bool) {
	if res, ok := fromCookie(r); ok {
		return res, true
	}
	if r.Method == http.MethodPost {
		if sid := r.PostFormValue("sid"); validToken(sid) {
			return residentOf(sid), true
		}
	}
	return resident{}, false
}

// langCookie keeps the language a link asked for (/chat/?lang=ar), so
// that it holds before the resident chooses one.
const langCookie = "__Host-passerelle-lang"

// acceptLang returns the resident's language code as a Telegram client
// would report it: the link's (?lang=), else the one a link set before,
// else the browser's first preference.
func acceptLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l != "" && len(l) <= 16 {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value != "" && len(c.Value) <= 16 {
		return c.Value
	}
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	first, _, _ = strings.Cut(first, ";")
	first = strings.TrimSpace(first)
	if len(first) > 16 {
		return ""
	}
	return first
}

func (t *Transport) getPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	res, ok := fromCookie(r)
	isNew := !ok
	if isNew {
		res = newResident()
		t.setCookie(w, res)
	}
	q := r.URL.Query()
	if l := q.Get("lang"); l != "" {
		if tag, ok := t.cfg.Catalog.Match(l); ok {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: tag, Path: "/", MaxAge: int(cookieMaxAge / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
		}
	}
	var start *bot.Update
	if p := q.Get("p"); p != "" && len(p) <= 40 {
		// A partner's link: recorded as the Telegram deep link would.
		start = &bot.Update{Kind: bot.KindCommand, Command: "start", Args: "p-" + p, Text: "/start p-" + p}
	} else if q.Get("lang") != "" && isNew {
		start = &bot.Update{Kind: bot.KindCommand, Command: "start", Text: "/start"}
	}
	if start == nil {
		rec, err := t.load(ctx, res.id)
		if err != nil {
			t.fail(w, r, res, err)
			return
		}
		if len(rec.Msgs) == 0 {
			cmd := "menu"
			if _, err := t.cfg.Store.Profile(ctx, res.id); errors.Is(err, bot.ErrNotFound) {
				cmd = "start"
			}
			start = &bot.Update{Kind: bot.KindCommand, Command: cmd, Text: "/" + cmd}
		}
	}
	if start != nil {
		if _, err := t.act(ctx, r, res, *start, ""); err != nil {
			t.fail(w, r, res, err)
			return
		}
		if q.Get("p") != "" || q.Get("lang") != "" {
			// A clean address, so that a reload does not act again.
			http.Redirect(w, r, t.cfg.Prefix, http.StatusSeeOther)
			return
		}
	}
	t.render(w, r, res, pageOpts{note: q.Get("n"), embedded: embedded(r)})
}

func (t *Transport) postAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	res, ok := t.checkPost(w, r)
	if !ok {
		return
	}
	nonce := r.PostFormValue("n")
	if len(nonce) < 8 || len(nonce) > 64 {
		t.redirect(w, r, res, "expired")
		return
	}
	u := bot.Update{ID: res.updateID(nonce)}
	typed := ""
	switch data, k, txt := r.PostFormValue("b"), r.PostFormValue("k"), strings.TrimSpace(r.PostFormValue("text")); {
	case data != "":
		if len(data) > 64 {
			t.redirect(w, r, res, "")
			return
		}
		u.Kind, u.Data, u.CallbackID = bot.KindCallback, data, "web"
	case k != "" || txt != "":
		if k != "" {
			txt = k
		}
		if !utf8.ValidString(txt) || utf8.RuneCountInString(txt) > maxText {
			t.redirect(w, r, res, "too_long")
			return
		}
		typed = txt
		u.Kind, u.Text = bot.KindText, txt
		if strings.HasPrefix(txt, "/") {
			cmd, args, _ := strings.Cut(txt[1:], " ")
			cmd, _, _ = strings.Cut(cmd, "@")
			u.Kind, u.Command, u.Args = bot.KindCommand, strings.ToLower(cmd), strings.TrimSpace(args)
		}
	default:
		t.redirect(w, r, res, "")
		return
	}
	forgotten, err := t.act(ctx, r, res, u, typed)
	if err != nil {
		t.fail(w, r, res, err)
		return
	}
	if forgotten != nil {
		// Everything about the resident is gone, the page included: show
		// the last answer once, and forget the cookie too.
		clearCookie(w)
		t.renderSteps(w, r, res, forgotten, pageOpts{embedded: embedded(r), gone: true})
		return
	}
	t.redirect(w, r, res, "")
}

// checkPost checks a form's origin and CSRF token and returns its
// resident; it answers the request itself when they fail.
func (t *Transport) checkPost(w http.ResponseWriter, r *http.Request) (resident, bool) {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		http.Error(w, "cross-site form", http.StatusForbidden)
		return resident{}, false
	}
	res, ok := who(r)
	if !ok {
		// No session (cookies off, or it expired): start again.
		http.Redirect(w, r, t.cfg.Prefix, http.StatusSeeOther)
		return resident{}, false
	}
	if !res.checkCSRF(r.PostFormValue("csrf")) {
		t.cfg.Logger.Info("web_csrf_rejected", "chat_id", res.id)
		t.redirect(w, r, res, "expired")
		return resident{}, false
	}
	return res, true
}

// redirect ends a POST: see the page (Post/Redirect/Get), or in an
// iframe, the page itself.
func (t *Transport) redirect(w http.ResponseWriter, r *http.Request, res resident, note string) {
	if embedded(r) {
		t.render(w, r, res, pageOpts{note: note, embedded: true})
		return
	}
	to := t.cfg.Prefix
	if note != "" {
		to += "?n=" + url.QueryEscape(note)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (t *Transport) fail(w http.ResponseWriter, r *http.Request, res resident, err error) {
	t.cfg.Logger.Error("web_failed", "chat_id", res.id, "err", err)
	t.headers(w)
	w.WriteHeader(http.StatusServiceUnavailable)
	p := t.printer(r.Context(), res.id, acceptLang(r))
	t.renderSteps(w, r, res, nil, pageOpts{note: "error", embedded: embedded(r), gone: true, printer: p})
}

// act runs one update of the resident through the core, collecting what
// it sends into the page's new step. When the update deleted the
// resident's data, it returns that step's messages instead of storing
// them.
func (t *Transport) act(ctx context.Context, r *http.Request, res resident, u bot.Update, typed string) (forgotten []message, err error) {
	t.coreMu.RLock()
	core := t.core
	t.coreMu.RUnlock()
	if core == nil {
		return nil, errors.New("web: no core set")
	}
	defer t.lock(res.id)()

	u.ChatID, u.UserID, u.ChatType = res.id, res.id, bot.ChatPrivate
	u.LanguageCode = acceptLang(r)
	st := &step{}
	before, err := t.load(ctx, res.id)
	if err != nil {
		return nil, err
	}
	if typed != "" {
		st.you = &message{ID: newMsgID(before.Msgs), You: true, Text: typed}
		u.MessageID = st.you.ID
	}
	if u.ID != 0 {
		// A form sent twice (a double tap, a reload): the page stays as
		// it is. The core would drop the update too.
		seen, err := t.cfg.Store.SeenUpdate(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if seen {
			return nil, nil
		}
	}
	t.mu.Lock()
	t.running[res.id] = st
	t.mu.Unlock()
	herr := core.Handle(ctx, u)
	t.mu.Lock()
	delete(t.running, res.id)
	t.mu.Unlock()
	if herr != nil {
		return nil, herr
	}
	prof, perr := t.cfg.Store.Profile(ctx, res.id)
	switch {
	case errors.Is(perr, bot.ErrNotFound):
		// The core deleted the resident (Delete my data): remove what the
		// page keeps beyond the store's Forget, the resume code.
		if before.Resume != 0 {
			if err := t.cfg.Store.Forget(ctx, before.Resume); err != nil {
				return nil, err
			}
		}
		t.cfg.Logger.Info("web_forgotten", "chat_id", res.id)
		return append(youOf(st), st.msgs...), nil
	case perr != nil:
		return nil, perr
	}
	if st.you == nil && len(st.msgs) == 0 && st.kb == nil {
		return nil, nil // nothing to show: the page stays as it is
	}
	keep := st.you != nil && prof.OpenCase != 0
	now := t.cfg.Clock.Now()
	return nil, t.mutate(ctx, res.id, func(rec *record) bool {
		var next []message
		for _, m := range rec.Msgs {
			if m.Async && m.Unseen {
				next = append(next, m) // not seen yet: carried into the new step
			}
		}
		rec.Msgs = append(append(next, youOf(st)...), st.msgs...)
		if st.kb != nil {
			rec.Keyboard = *st.kb
		}
		if keep {
			rec.Own = append(rec.Own, own{ID: st.you.ID, Text: st.you.Text, At: now})
		}
		return true
	})
}

func youOf(st *step) []message {
	if st.you == nil {
		return nil
	}
	return []message{*st.you}
}

// postResume shows a code that opens this conversation on another device.
func (t *Transport) postResume(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	res, ok := t.checkPost(w, r)
	if !ok {
		return
	}
	code := newCode()
	norm, _ := normalizeCode(code)
	key := codeKey(norm)
	now := t.cfg.Clock.Now()
	s := bot.Session{Key: bot.SessionKey{UserID: key, ChatID: pageChat}, Flow: "resume", Data: map[string]string{"t": res.token}, Expires: now.Add(resumeTTL)}
	if _, err := t.cfg.Store.SaveSession(ctx, s); err != nil {
		t.fail(w, r, res, err)
		return
	}
	var old int64
	err := t.mutate(ctx, res.id, func(rec *record) bool {
		old, rec.Resume = rec.Resume, key
		return true
	})
	if err == nil && old != 0 && old != key {
		err = t.cfg.Store.Forget(ctx, old) // one code at a time
	}
	if err != nil {
		t.fail(w, r, res, err)
		return
	}
	t.cfg.Logger.Info("web_resume_code", "chat_id", res.id)
	t.render(w, r, res, pageOpts{code: code, embedded: embedded(r)})
}

// postCode opens, on this device, the conversation a code was made for.
func (t *Transport) postCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	res, ok := t.checkPost(w, r)
	if !ok {
		return
	}
	norm, ok := normalizeCode(r.PostFormValue("code"))
	if !ok {
		t.redirect(w, r, res, "code_bad")
		return
	}
	key := codeKey(norm)
	s, err := t.cfg.Store.Session(ctx, bot.SessionKey{UserID: key, ChatID: pageChat})
	if errors.Is(err, bot.ErrNotFound) || err == nil && !validToken(s.Data["t"]) {
		t.cfg.Logger.Info("web_resume_refused", "chat_id", res.id)
		t.redirect(w, r, res, "code_bad")
		return
	}
	if err != nil {
		t.fail(w, r, res, err)
		return
	}
	// Used once: the code's record goes, then this device takes the token.
	if err := t.cfg.Store.Forget(ctx, key); err != nil {
		t.fail(w, r, res, err)
		return
	}
	other := residentOf(s.Data["t"])
	_ = t.mutate(ctx, other.id, func(rec *record) bool {
		if rec.Resume != key {
			return false
		}
		rec.Resume = 0
		return true
	})
	t.setCookie(w, other)
	t.cfg.Logger.Info("web_resumed", "chat_id", other.id)
	t.redirect(w, r, other, "code_ok")
}

// getFile serves a file of the current page (the calendar) for download.
func (t *Transport) getFile(w http.ResponseWriter, r *http.Request) {
	var res resident
	var ok bool
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if res, ok = t.checkPost(w, r); !ok {
			return
		}
	} else if res, ok = fromCookie(r); !ok {
		http.NotFound(w, r)
		return
	}
	msgID, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	rec, err := t.load(r.Context(), res.id)
	if err != nil {
		t.fail(w, r, res, err)
		return
	}
	for _, m := range rec.Msgs {
		if m.ID == msgID && m.File != nil {
			t.headers(w)
			w.Header().Set("Content-Type", m.File.Type)
			w.Header().Set("Content-Disposition", `attachment; filename="`+safeName(m.File.Name)+`"`)
			w.Header().Set("Content-Length", strconv.Itoa(len(m.File.Data)))
			_, _ = w.Write(m.File.Data)
			return
		}
	}
	http.NotFound(w, r)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

package bot

import (
	"context"
	"html"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// Reply templates: short messages volunteers send every day, in the
// catalog (tpl.*) in every locale, so that they reach the resident in
// their language whoever answers. /modele lists them as buttons; one
// that needs a value (a date, a place) is written /modele <code> <value>.
// A template goes through the same preview, Send and Undo as /r.

// template is one reply template: its catalog id and what it needs.
type template struct {
	code string // in buttons and /modele (stable)
	id   string // catalog id
	need string // "", "date" or "place"
}

// Templates lists the reply templates in the order volunteers see them.
var templates = []template{
	{"recu", "tpl.received", ""},
	{"jour", "tpl.answer_on", "date"},
	{"photo", "tpl.photo_first_page", ""},
	{"api", "tpl.have_api", ""},
	{"prefecture", "tpl.prefecture_desk", "date"},
	{"appel", "tpl.permission_call", ""},
	{"avocat", "tpl.lawyer_today", "place"},
}

// TemplateIDs returns the catalog ids of the reply templates.
func TemplateIDs() []string {
	var out []string
	for _, t := range templates {
		out = append(out, t.id)
	}
	return out
}

func templateByCode(code string) (template, bool) {
	i := slices.IndexFunc(templates, func(t template) bool { return t.code == code })
	if i < 0 {
		return template{}, false
	}
	return templates[i], true
}

// renderTemplate renders template t in p's language with value (a date
// YYYY-MM-DD, written in p's words, or a place as typed).
func renderTemplate(p *catalog.Printer, t template, value string) string {
	switch t.need {
	case "date":
		d, err := permit.ParseDate(value)
		if err != nil {
			return ""
		}
		return p.T(t.id, "Date", HTML(longDate(p, d)))
	case "place":
		return p.T(t.id, "Place", value)
	}
	return p.T(t.id)
}

// templateStart answers /modele: without a code, the list of templates;
// with a code (and its value), the preview.
func (b *Bot) templateStart(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case) error {
	u := r.Update
	s := b.staff()
	reply := func(text string, rows [][]Button) error {
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: text, Buttons: rows})
	}
	code, value, _ := strings.Cut(strings.TrimSpace(u.Args), " ")
	if code == "" {
		rp := b.residentPrinter(ctx, c)
		var rows [][]Button
		for _, t := range templates {
			rows = append(rows, []Button{{Label: templateLabel(s, t), Data: caseData("m", c, t.code)}})
		}
		return reply(s.T("case.templates_choose", "Language", languageName(rp.Lang())), rows)
	}
	t, ok := templateByCode(strings.ToLower(code))
	if !ok {
		return reply(s.T("case.templates_unknown"), nil)
	}
	return b.templateDraft(ctx, r, partner, c, t, strings.TrimSpace(value), false)
}

// templateLabel is a template's button: the start of its French text.
func templateLabel(s *catalog.Printer, t template) string {
	text := catalog.StripMarks(catalog.PlainText(s.T(t.id, "Date", "…", "Place", "…")))
	if utf8.RuneCountInString(text) > 38 {
		text = string([]rune(text)[:37]) + "…"
	}
	return text
}

// templateDraft checks the value a template needs and posts its preview
// (edit: in the message of the pressed button).
func (b *Bot) templateDraft(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case, t template, value string, edit bool) error {
	u := r.Update
	s := b.staff()
	switch t.need {
	case "date":
		d, err := permit.ParseDate(value)
		if err != nil {
			return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, Text: s.T("case.template_needs_date", "Code", t.code)})
		}
		value = d.String()
	case "place":
		value = strings.TrimSpace(cleanLabel(value))
		if value == "" {
			return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, Text: s.T("case.template_needs_place", "Code", t.code)})
		}
	default:
		value = ""
	}
	return b.newDraft(ctx, r, partner, c, handoff.Draft{Template: t.code, Value: value}, edit)
}

// draftBody is what the resident receives for draft d, after the
// signature, in rp's language (HTML).
func (b *Bot) draftBody(rp *catalog.Printer, d handoff.Draft) string {
	if d.CopyOf != 0 {
		return b.staff().T("case.preview_copy")
	}
	if d.Template != "" {
		if t, ok := templateByCode(d.Template); ok {
			return renderTemplate(rp, t, d.Value)
		}
	}
	if d.Translated != "" && rp.Lang() != StaffLanguage {
		return html.EscapeString(d.Translated) + "\n\n" + rp.T("relay.machine_translated")
	}
	return ownDirection(rp, html.EscapeString(d.Text))
}

// templateButton handles hc:m:<case>:<code>: the preview of a template
// that needs nothing, or how to give the value it needs.
func (b *Bot) templateButton(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case, code string) error {
	t, ok := templateByCode(code)
	if !ok {
		return nil
	}
	return b.templateDraft(ctx, r, partner, c, t, "", t.need == "")
}

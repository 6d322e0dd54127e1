package bot

import (
	"context"
	"html"
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// The guide conversation keeps its place in the session only: the answers
// given so far (Data["g"]) and, while a date is asked, the outcome waiting
// for it (Data["o"]). Nothing of it reaches the resident's profile.
const (
	flowGuide     = "guide"
	stepQuestion  = "q"
	stepDate      = "date"
	stepOutcome   = "outcome"
	guideStateKey = "g"
	guideOutKey   = "o"
)

// maxMessage keeps a message under Telegram's 4096 UTF-16 units.
const maxMessage = 4000

func (b *Bot) guideRoutes(m *Mux) {
	if b.guide == nil {
		return
	}
	// A suggestion button is labelled like the answer that leads to its
	// entry point: short, plain, already translated.
	b.entryLabels = map[string]string{}
	for _, q := range b.guide.Tree.Questions {
		for _, a := range q.Answers {
			if _, ok := b.entryLabels[a.Next]; !ok && a.ID != "dontknow" {
				b.entryLabels[a.Next] = a.Label
			}
		}
	}
	m.Command("guide", HandlerFunc(b.guideStart))
	m.Callback("g", HandlerFunc(b.guideButton))
}

func (b *Bot) guideStart(ctx context.Context, r *Request) error {
	r.SetFlow(flowGuide, stepQuestion)
	r.setData(guideStateKey, "")
	if err := r.Reply(ctx, r.P.T("guide.intro")); err != nil {
		return err
	}
	return b.guideShow(ctx, r, "", b.guide.Start())
}

// guideButton handles every guide button: g (start), g:a:<answer>,
// g:b (back), g:r (start over), g:s (skip the date), g:h (human help),
// g:o:<outcome> and g:q:<question> (suggestions from free text).
func (b *Bot) guideButton(ctx context.Context, r *Request) error {
	kind, arg, _ := strings.Cut(r.Callback.Arg, ":")
	state := r.Session.Data[guideStateKey]
	inGuide := r.Session.Flow == flowGuide
	switch kind {
	case "", "r":
		return b.guideStart(ctx, r)
	case "h":
		return b.guideHelp(ctx, r)
	case "a":
		if !inGuide || r.Session.Step != stepQuestion {
			return b.stale(ctx, r)
		}
		next, cur, err := b.guide.Answer(state, arg)
		if err != nil {
			return b.stale(ctx, r)
		}
		return b.guideShow(ctx, r, next, cur)
	case "b":
		if !inGuide {
			return b.stale(ctx, r)
		}
		prev := b.guide.Back(state)
		cur, err := b.guide.Walk(prev)
		if err != nil {
			return b.guideStart(ctx, r)
		}
		return b.guideShow(ctx, r, prev, cur)
	case "s":
		if !inGuide || r.Session.Step != stepDate {
			return b.stale(ctx, r)
		}
		return b.guideOutcome(ctx, r, r.Session.Data[guideOutKey], nil)
	case "o":
		o, ok := b.guide.Outcome(arg)
		if !ok {
			return b.stale(ctx, r)
		}
		if o.Urgent {
			// Reached from free text, not through the letter question: the
			// urgent information still comes first.
			if err := r.Reply(ctx, r.P.T("guide.urgent.letter")); err != nil {
				return err
			}
		}
		r.SetFlow(flowGuide, stepQuestion)
		r.setData(guideStateKey, "")
		return b.guideShow(ctx, r, "", arg)
	case "q":
		st, err := b.guide.StateFor(arg)
		if err != nil {
			return b.stale(ctx, r)
		}
		r.SetFlow(flowGuide, stepQuestion)
		return b.guideShow(ctx, r, st, arg)
	}
	return b.stale(ctx, r)
}

// guideShow shows what the walk reached: a question, or an outcome (after
// asking for a date when the outcome's deadline depends on one).
func (b *Bot) guideShow(ctx context.Context, r *Request, state, id string) error {
	r.setData(guideStateKey, state)
	if o, ok := b.guide.Outcome(id); ok {
		if ask := dateQuestion(o.Timing); ask != "" {
			r.SetFlow(flowGuide, stepDate)
			r.setData(guideOutKey, o.ID)
			return r.Reply(ctx, r.P.T(ask), []Button{{Label: r.P.T("guide.dates.skip"), Data: "g:s"}}, b.guideNav(r, state))
		}
		return b.guideOutcome(ctx, r, o.ID, nil)
	}
	q, ok := b.guide.Question(id)
	if !ok {
		return b.guideStart(ctx, r)
	}
	r.SetFlow(flowGuide, stepQuestion)
	p := r.P
	if q.Urgent != "" {
		if err := r.Reply(ctx, p.T(q.Urgent), []Button{{Label: p.T("guide.help_button"), Data: "g:h"}}); err != nil {
			return err
		}
	}
	rows := make([][]Button, 0, len(q.Answers)+1)
	for _, a := range q.Answers {
		if a.Off {
			continue
		}
		rows = append(rows, []Button{{Label: p.T(a.Label), Data: "g:a:" + a.ID}})
	}
	rows = append(rows, b.guideNav(r, state))
	return r.Reply(ctx, p.T(q.Text), rows...)
}

// guideNav is the row of Back (when there is somewhere to go back to),
// Start over and Main menu.
func (b *Bot) guideNav(r *Request, state string) []Button {
	var row []Button
	if state != "" {
		row = append(row, Button{Label: r.P.T("guide.back"), Data: "g:b"})
	}
	return append(row, Button{Label: r.P.T("guide.restart"), Data: "g:r"}, Button{Label: r.P.T("menu.back"), Data: "menu"})
}

// dateQuestion says which date an outcome's timing needs, as a catalog id.
func dateQuestion(t guide.Timing) string {
	switch t {
	case guide.TimingANEFWindow, guide.TimingPrefectureWindow:
		return "guide.dates.ask_expiry"
	case guide.TimingVLSTS, guide.TimingFirstRequest:
		return "guide.dates.ask_arrival"
	}
	return ""
}

// guideDate takes the date typed while the guide asks for one.
func (b *Bot) guideDate(ctx context.Context, r *Request) error {
	d, err := permit.ParseDate(r.Update.Text) // reads Eastern Arabic and Persian digits too
	if err != nil {
		return r.Reply(ctx, r.P.T("guide.dates.bad"), []Button{{Label: r.P.T("guide.dates.skip"), Data: "g:s"}}, b.guideNav(r, r.Session.Data[guideStateKey]))
	}
	return b.guideOutcome(ctx, r, r.Session.Data[guideOutKey], &d)
}

// guideOutcome shows an outcome: what to do, where, when (with the dates
// when one was given), what to prepare and keep, warnings, next steps,
// sources and review status.
func (b *Bot) guideOutcome(ctx context.Context, r *Request, id string, date *permit.Date) error {
	o, ok := b.guide.Outcome(id)
	if !ok {
		return b.guideStart(ctx, r)
	}
	p := r.P
	var main []string
	main = append(main, "<b>"+p.T(o.Title)+"</b>")
	if !b.reviewed(r.Lang) && r.Lang != "fr" && b.cat.Has("fr") {
		// Not yet checked by a native speaker: the French name, which is
		// what the resident will meet on the ANEF and at the préfecture.
		main = append(main, p.T("guide.french_title", "Title", HTML(p.Isolate(b.cat.Printer("fr").T(o.Title)))))
	}
	if o.ANEFLabel != "" {
		main = append(main, p.T("guide.anef_label", "Label", o.ANEFLabel))
	}
	main = append(main, p.T("guide.channel."+string(o.Channel)))
	if o.When != "" || date != nil {
		sec := "<b>" + p.T("guide.when.title") + "</b>"
		if o.When != "" {
			sec += "\n" + p.T(o.When)
		}
		if date != nil {
			sec += "\n" + b.guideDates(r, o, *date)
		}
		main = append(main, sec)
	}
	if o.Prepare != "" {
		main = append(main, "<b>"+p.T("guide.prepare.title")+"</b>\n"+p.T(o.Prepare))
	}
	if len(o.Keep) > 0 {
		main = append(main, "<b>"+p.T("guide.keep.title")+"</b>\n"+b.lines(p, o.Keep))
	}
	if len(o.Warnings) > 0 {
		main = append(main, "<b>"+p.T("guide.warn.title")+"</b>\n"+b.lines(p, o.Warnings))
	}
	if o.Next != "" {
		main = append(main, "<b>"+p.T("guide.next.title")+"</b>\n"+p.T(o.Next))
	}
	sources := []string{p.T("guide.review.to_verify"), "<b>" + p.T("guide.sources") + "</b>"}
	for _, tag := range o.Sources {
		if s, ok := b.guide.Source(tag); ok {
			sources = append(sources, "• ["+catalog.Escape(s.Tag)+"] "+catalog.Escape(s.Title)+" ("+catalog.Escape(s.Date)+")\n"+catalog.Escape(s.URL))
		}
	}
	state := r.Session.Data[guideStateKey]
	buttons := [][]Button{
		{{Label: p.T("guide.help_button"), Data: "g:h"}},
		b.guideNav(r, state),
	}
	if o.Document != "" && b.remindersOn() && !o.Sensitive {
		buttons = append([][]Button{{{Label: p.T("guide.remind_button"), Data: "r:g:" + o.ID}}}, buttons...)
		if date != nil {
			r.setData(guideDateKey, date.String())
		}
	}
	r.SetFlow(flowGuide, stepOutcome)
	delete(r.Session.Data, guideOutKey)
	if o.Sensitive {
		// Never keep the path that led to a sensitive outcome.
		r.ClearFlow()
		buttons[1] = []Button{{Label: p.T("guide.restart"), Data: "g:r"}, {Label: p.T("menu.back"), Data: "menu"}}
	}
	text := strings.Join(main, "\n\n") + "\n\n" + strings.Join(sources, "\n")
	if utf16Len(text) <= maxMessage {
		return r.Reply(ctx, text, buttons...)
	}
	if err := r.Reply(ctx, strings.Join(main, "\n\n")); err != nil {
		return err
	}
	return r.Reply(ctx, strings.Join(sources, "\n"), buttons...)
}

func (b *Bot) lines(p *catalog.Printer, ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "• " + p.T(id)
	}
	return strings.Join(out, "\n")
}

// guideDates computes the filing dates from the date the resident gave.
func (b *Bot) guideDates(r *Request, o guide.Outcome, d permit.Date) string {
	p := r.P
	today := permit.DateOf(b.clock.Now(), b.cfg.Location)
	switch o.Timing {
	case guide.TimingANEFWindow, guide.TimingPrefectureWindow:
		ch := permit.ANEF
		if o.Timing == guide.TimingPrefectureWindow {
			ch = permit.Prefecture
		}
		w := permit.RenewalWindow(d, ch)
		line := p.T("guide.dates.window", "Opens", frDate(w.Opens), "Closes", frDate(w.Closes))
		switch permit.WindowState(today, w, d) {
		case permit.TooEarly:
			line += "\n" + p.T("guide.dates.state.too_early")
		case permit.Open:
			line += "\n" + p.T("guide.dates.state.open")
		case permit.Late:
			line += "\n" + p.T("guide.dates.state.late")
		case permit.Expired:
			line += "\n" + p.T("guide.dates.state.expired")
		}
		return line
	case guide.TimingVLSTS:
		return p.T("guide.dates.deadline", "Date", frDate(permit.VLSTSDeadline(d)))
	case guide.TimingFirstRequest:
		return p.T("guide.dates.deadline", "Date", frDate(permit.FirstRequestDeadline(d)))
	}
	return ""
}

func frDate(d permit.Date) string { return d.Format(dateLayout) }

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// guideHelp is where "talk to a volunteer" leads until the hand-off to
// partner associations exists: public help that anyone can reach.
func (b *Bot) guideHelp(ctx context.Context, r *Request) error {
	if b.handoffOn() {
		return b.helpStart(ctx, r)
	}
	return r.Reply(ctx, r.P.T("guide.help.public"), []Button{{Label: r.P.T("guide.restart"), Data: "g:r"}, {Label: r.P.T("menu.back"), Data: "menu"}})
}

// guideSuggest answers free text with the most likely entry points of the
// guide as buttons: never a dead end.
func (b *Bot) guideSuggest(ctx context.Context, r *Request) error {
	p := r.P
	var rows [][]Button
	seen := map[string]bool{}
	for _, id := range b.guide.Suggest(r.Lang, r.Update.Text, 3) {
		label := b.entryLabel(p, id)
		switch {
		case label == "" || seen[label]:
			continue
		case b.guide.IsOutcome(id):
			rows = append(rows, []Button{{Label: label, Data: "g:o:" + id}})
		default:
			rows = append(rows, []Button{{Label: label, Data: "g:q:" + id}})
		}
		seen[label] = true
	}
	rows = append(rows, []Button{{Label: p.T("guide.title"), Data: "g"}, {Label: p.T("menu.back"), Data: "menu"}})
	return r.Reply(ctx, p.T("guide.suggest"), rows...)
}

// entryLabel is the button label of a guide entry point: the label of the
// answer leading to it, else its title or question as plain text, cut to
// what a phone shows.
func (b *Bot) entryLabel(p *catalog.Printer, id string) string {
	if l, ok := b.entryLabels[id]; ok {
		return p.T(l)
	}
	var text string
	if o, ok := b.guide.Outcome(id); ok {
		text = p.T(o.Title)
	} else if q, ok := b.guide.Question(id); ok {
		text = p.T(q.Text)
	}
	text = html.UnescapeString(tagRE.ReplaceAllString(text, ""))
	if r := []rune(text); len(r) > 40 {
		text = string(r[:39]) + "…"
	}
	return text
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

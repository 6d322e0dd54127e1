package bot

import (
	"context"
	"html"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/guide"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// The guide conversation keeps its place in the session only: the answers
// given so far (Data["g"]), while a date is asked the outcome waiting for it
// (Data["o"]), and the date typed with which question asked it (Data["gd"],
// Data["gk"]), for "remind me" and for the follow-up outcomes of a question
// asked under an outcome. Nothing of it reaches the resident's profile.
const (
	flowGuide       = "guide"
	stepQuestion    = "q"
	stepDate        = "date"
	stepOutcome     = "outcome"
	guideStateKey   = "g"
	guideOutKey     = "o"
	guideDateAskKey = "gk" // the catalog id of the question that asked Data["gd"]
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
	b.guideForgetDate(r)
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
		b.guideForgetDate(r) // going back is how a wrong date is corrected
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
		b.guideForgetDate(r)
		state := ""
		if o.Then != "" {
			// Its follow-up question must find the walk at the outcome.
			if st, err := b.guide.StateFor(arg); err == nil {
				state = st
			}
		}
		r.setData(guideStateKey, state)
		return b.guideShow(ctx, r, state, arg)
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
// asking for a date when the outcome's deadline depends on one; an outcome
// reached by answering the question asked under another one reuses the
// date already typed, when it is the same kind of date).
func (b *Bot) guideShow(ctx context.Context, r *Request, state, id string) error {
	r.setData(guideStateKey, state)
	if o, ok := b.guide.Outcome(id); ok {
		if ask := dateQuestion(o.Timing); ask != "" {
			if d, ok := b.guideTypedDate(r, ask); ok && b.guideFollowsUp(state) {
				return b.guideOutcome(ctx, r, o.ID, &d)
			}
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
	case guide.TimingANEFWindow, guide.TimingPrefectureWindow, guide.TimingBothWindows:
		return "guide.dates.ask_expiry"
	case guide.TimingAPS:
		return "guide.dates.ask_aps"
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
	if o, ok := b.guide.Outcome(r.Session.Data[guideOutKey]); ok {
		r.setData(guideDateKey, d.String())
		r.setData(guideDateAskKey, dateQuestion(o.Timing))
	}
	return b.guideOutcome(ctx, r, r.Session.Data[guideOutKey], &d)
}

// guideTypedDate returns the date typed earlier in this walk, if it
// answered the question ask.
func (b *Bot) guideTypedDate(r *Request, ask string) (permit.Date, bool) {
	if r.Session.Data[guideDateAskKey] != ask {
		return permit.Date{}, false
	}
	d, err := permit.ParseDate(r.Session.Data[guideDateKey])
	return d, err == nil
}

// guideFollowsUp reports whether the last answer of state was given to a
// question asked under an outcome (Outcome.Then).
func (b *Bot) guideFollowsUp(state string) bool {
	if state == "" {
		return false
	}
	prev, err := b.guide.Walk(b.guide.Back(state))
	if err != nil {
		return false
	}
	o, ok := b.guide.Outcome(prev)
	return ok && o.Then != ""
}

// guideForgetDate drops the date typed in the guide.
func (b *Bot) guideForgetDate(r *Request) {
	if _, ok := r.Session.Data[guideDateKey]; ok {
		delete(r.Session.Data, guideDateKey)
		delete(r.Session.Data, guideDateAskKey)
		r.sessionDirty = true
	}
}

// guideOutcome shows an outcome: what to do, where, when (with the dates
// when one was given, and what it means when a date has passed), what to
// prepare and keep, warnings (the protection warning first in the
// protected branches, then the dated rules in the version in force on the
// filing day), next steps, the review status and the sources (legal basis
// first, in the resident's language with the official title in French).
// An outcome with a follow-up question ends with it and its answers.
func (b *Bot) guideOutcome(ctx context.Context, r *Request, id string, date *permit.Date) error {
	o, ok := b.guide.Outcome(id)
	if !ok {
		return b.guideStart(ctx, r)
	}
	p := r.P
	state := r.Session.Data[guideStateKey]
	today := b.today()
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
			if dates := b.guideDates(r, o, *date); dates != "" {
				sec += "\n" + dates
			}
		}
		main = append(main, sec)
	}
	if o.Prepare != "" {
		main = append(main, "<b>"+p.T("guide.prepare.title")+"</b>\n"+p.T(o.Prepare))
	}
	if len(o.Keep) > 0 {
		main = append(main, "<b>"+p.T("guide.keep.title")+"</b>\n"+b.lines(p, o.Keep))
	}
	if warnings := b.guideWarnings(o, state, guide.FilingDate(o.Timing, date, today)); len(warnings) > 0 {
		main = append(main, "<b>"+p.T("guide.warn.title")+"</b>\n"+b.lines(p, warnings))
	}
	if o.Next != "" {
		main = append(main, "<b>"+p.T("guide.next.title")+"</b>\n"+p.T(o.Next))
	}
	review := p.T("guide.review.to_verify")
	if fr := b.cat.Printer("fr"); b.guide.Reviewed(o, func(id string) string { return fr.T(id) }) {
		review = p.T("guide.review.reviewed", "By", o.Review.By, "Date", reviewDate(o.Review.On))
	}
	sources := append([]string{review, "<b>" + p.T("guide.sources") + "</b>"}, b.sourceLines(p, b.guide.Sources(o))...)
	var buttons [][]Button
	var then []string
	if q, ok := b.guide.Asking(o.ID); ok && !o.Sensitive {
		// One question decides what comes next: ask it under the outcome.
		then = append(then, "<b>"+p.T(q.Text)+"</b>")
		for _, a := range q.Answers {
			if !a.Off {
				buttons = append(buttons, []Button{{Label: p.T(a.Label), Data: "g:a:" + a.ID}})
			}
		}
	}
	if o.Document != "" && b.remindersOn() && !o.Sensitive {
		buttons = append(buttons, []Button{{Label: p.T("guide.remind_button"), Data: "r:g:" + o.ID}})
	}
	buttons = append(buttons, []Button{{Label: p.T("guide.help_button"), Data: "g:h"}}, b.guideNav(r, state))
	if len(then) > 0 {
		r.SetFlow(flowGuide, stepQuestion)
	} else {
		r.SetFlow(flowGuide, stepOutcome)
	}
	delete(r.Session.Data, guideOutKey)
	if o.Sensitive {
		// Never keep the path that led to a sensitive outcome.
		r.ClearFlow()
		buttons[len(buttons)-1] = []Button{{Label: p.T("guide.restart"), Data: "g:r"}, {Label: p.T("menu.back"), Data: "menu"}}
	}
	parts := []string{strings.Join(main, "\n\n"), strings.Join(sources, "\n")}
	if len(then) > 0 {
		parts = append(parts, strings.Join(then, "\n"))
	}
	if text := strings.Join(parts, "\n\n"); utf16Len(text) <= maxMessage {
		return r.Reply(ctx, text, buttons...)
	}
	for _, part := range parts[:len(parts)-1] {
		if err := r.Reply(ctx, part); err != nil {
			return err
		}
	}
	return r.Reply(ctx, parts[len(parts)-1], buttons...)
}

// guideWarnings lists the warnings of o as catalog ids: the protection
// warning first when the walk went through a protected question, then the
// outcome's own, then what its dated rules say on day.
func (b *Bot) guideWarnings(o guide.Outcome, state string, day permit.Date) []string {
	var out []string
	if pw := b.guide.Tree.ProtectedWarning; pw != "" && b.guide.Protected(state) && !slices.Contains(o.Warnings, pw) {
		out = append(out, pw)
	}
	out = append(out, o.Warnings...)
	return append(out, b.guide.RuleTexts(o, day)...)
}

// sourceLines shows sources for residents, the legal basis first: what
// kind of source it is and what it says, in the resident's language (once
// for sources of the same kind saying the same thing); the official title
// of each, in French, as it is; its date; its link, or for a citation-only
// source the Légifrance page of its code (never an invented link), or a
// line saying to search for it.
func (b *Bot) sourceLines(p *catalog.Printer, tags []string) []string {
	var list []guide.Source
	for _, tag := range tags {
		if s, ok := b.guide.Source(tag); ok {
			list = append(list, s)
		}
	}
	slices.SortStableFunc(list, func(x, y guide.Source) int { return sourceRank(x.Kind) - sourceRank(y.Kind) })
	type group struct {
		head  string
		items []string
	}
	var groups []*group
	byHead := map[string]*group{}
	for _, s := range list {
		head := "• <b>" + p.T("guide.source."+string(s.Kind)) + "</b> " + p.T(s.Gloss)
		item := "<i>" + p.Isolate(catalog.Escape(s.Title)) + "</i>"
		if d := sourceDate(s.Date); d != "" {
			item += " · " + p.Isolate(d)
		}
		switch {
		case s.URL == "":
			item += "\n" + p.T("guide.source.no_link")
		case s.Status == guide.LinkCitationOnly:
			item += "\n" + p.T("guide.source.code_page") + "\n" + catalog.Escape(s.URL)
		default:
			item += "\n" + catalog.Escape(s.URL)
		}
		g, ok := byHead[head]
		if !ok {
			g = &group{head: head}
			byHead[head] = g
			groups = append(groups, g)
		}
		g.items = append(g.items, item)
	}
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, g.head+"\n"+strings.Join(g.items, "\n"))
	}
	return out
}

// sourceRank orders sources: the legal basis first, then official pages,
// then associations' guides.
func sourceRank(k guide.SourceKind) int {
	switch k {
	case guide.KindLaw, guide.KindCaseLaw:
		return 0
	case guide.KindAdministration:
		return 1
	}
	return 2
}

// sourceDate writes a source's date the way documents do: DD/MM/YYYY,
// MM/YYYY or YYYY; "" when it shows none.
func sourceDate(s string) string {
	if !sourceDateRE.MatchString(s) {
		return "" // "n.d."
	}
	parts := strings.Split(s, "-")
	slices.Reverse(parts)
	return strings.Join(parts, "/")
}

var sourceDateRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)

// reviewDate writes the YYYY-MM-DD date of a review as DD/MM/YYYY.
func reviewDate(s string) string {
	if d := sourceDate(s); d != "" {
		return d
	}
	return s
}

func (b *Bot) lines(p *catalog.Printer, ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "• " + p.T(id)
	}
	return strings.Join(out, "\n")
}

// guideDates computes the filing dates from the date the resident gave,
// and says plainly when a date has passed and what that means.
func (b *Bot) guideDates(r *Request, o guide.Outcome, d permit.Date) string {
	p := r.P
	today := b.today()
	switch o.Timing {
	case guide.TimingANEFWindow, guide.TimingPrefectureWindow:
		ch := permit.ANEF
		if o.Timing == guide.TimingPrefectureWindow {
			ch = permit.Prefecture
		}
		w := permit.RenewalWindow(d, ch)
		line := p.T("guide.dates.window", "Opens", frDate(w.Opens), "Closes", frDate(w.Closes))
		return line + "\n" + b.windowState(p, today, w, d)
	case guide.TimingBothWindows:
		if today.After(d) {
			return p.T("guide.dates.state.expired", "Expiry", frDate(d))
		}
		var lines []string
		for _, c := range []struct {
			ch permit.Channel
			id string
		}{{permit.ANEF, "guide.dates.both.anef"}, {permit.Prefecture, "guide.dates.both.prefecture"}} {
			w := permit.RenewalWindow(d, c.ch)
			short := "guide.dates.short.open"
			switch permit.WindowState(today, w, d) {
			case permit.TooEarly:
				short = "guide.dates.short.too_early"
			case permit.Late:
				short = "guide.dates.short.late"
			}
			lines = append(lines, p.T(c.id, "Opens", frDate(w.Opens), "Closes", frDate(w.Closes))+" "+p.T(short))
		}
		return strings.Join(append(lines, p.T("guide.dates.both.days")), "\n")
	case guide.TimingAPS:
		earliest, latest := d.AddDays(-permit.APSEarliestDays), d.AddDays(-permit.APSLatestDays)
		line := p.T("guide.dates.aps", "Earliest", frDate(earliest), "Latest", frDate(latest), "AtLeast", frDate(d.AddDays(-permit.APSAtLeastDays)))
		switch {
		case today.After(latest):
			return line + "\n" + p.T("guide.dates.passed.aps", "Expiry", frDate(d))
		case today.Before(earliest):
			return line + "\n" + p.T("guide.dates.state.too_early")
		}
		return line + "\n" + p.T("guide.dates.state.open")
	case guide.TimingVLSTS:
		deadline := permit.VLSTSDeadline(d)
		line := p.T("guide.dates.deadline", "Date", frDate(deadline))
		if today.After(deadline) {
			line += "\n" + p.T("guide.dates.passed.vlsts")
		}
		return line
	case guide.TimingFirstRequest:
		deadline := permit.FirstRequestDeadline(d)
		line := p.T("guide.dates.deadline", "Date", frDate(deadline))
		if today.After(deadline) {
			line += "\n" + p.T("guide.dates.passed.first_request")
		}
		return line
	}
	return ""
}

// windowState says where today falls in a renewal window, and what it
// means when the window has closed or the card has expired.
func (b *Bot) windowState(p *catalog.Printer, today permit.Date, w permit.Window, expiry permit.Date) string {
	switch permit.WindowState(today, w, expiry) {
	case permit.TooEarly:
		return p.T("guide.dates.state.too_early")
	case permit.Open:
		return p.T("guide.dates.state.open")
	case permit.Late:
		return p.T("guide.dates.state.late", "Closes", frDate(w.Closes), "Expiry", frDate(expiry))
	}
	return p.T("guide.dates.state.expired", "Expiry", frDate(expiry))
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

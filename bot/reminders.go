package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/digits"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// The reminders conversation keeps the document being registered or edited
// in the session until the resident confirms it; only then is it stored.
const (
	flowRem = "rem"

	stepRemKind      = "kind"
	stepRemMention   = "mention"
	stepRemMulti     = "multi"
	stepRemHolder    = "holder"
	stepRemLabel     = "label"
	stepRemDate      = "date"
	stepRemValidated = "validated"
	stepRemConfirm   = "confirm"
	stepRemAPIAsk    = "api"
	stepRemDelete    = "delete"

	// Session data keys.
	remKind      = "k"
	remMention   = "m"
	remMulti     = "x"  // y, n or u (does not know)
	remHolder    = "h"  // a Holder
	remLabel     = "l"  // holder label
	remLabelSkip = "ls" // "1" when the label was skipped
	remExpiry    = "e"  // YYYY-MM-DD
	remValidated = "vv" // VLS-TS validated: y or n
	remArrival   = "ar"
	remDoc       = "doc" // id of the document being edited
	remTarget    = "dt"  // which date is asked: e, ar, f (filed) or a (API)
	remPickYear  = "py"
	remPickMonth = "pm"
	guideDateKey = "gd" // date typed in the guide (which one: guideDateAskKey), for "remind me"
)

// Date targets.
const (
	targetExpiry  = "e"
	targetArrival = "ar"
	targetFiled   = "f"
	targetAPI     = "a"
)

// registrationKinds are offered in this order.
var registrationKinds = []permit.Kind{
	permit.KindCST, permit.KindCSP, permit.KindCSP4, permit.KindCarteResident,
	permit.KindRLDUE, permit.KindCRA1, permit.KindCRA10, permit.KindVLSTS,
	permit.KindAPI, permit.KindRecepisse, permit.KindAPS, permit.KindPassport,
	permit.KindDomiciliation,
}

// needsMention: where the next titre is filed depends on its mention.
func needsMention(k permit.Kind) bool {
	switch k {
	case permit.KindCST, permit.KindCSP, permit.KindCSP4, permit.KindVLSTS, permit.KindCRA1:
		return true
	}
	return false
}

// needsMulti: the next card may be a first multi-year card or a first
// carte de résident, which need an exam before filing since 2026.
func needsMulti(k permit.Kind) bool {
	switch k {
	case permit.KindCST, permit.KindCSP, permit.KindCSP4, permit.KindVLSTS, permit.KindCRA1:
		return true
	}
	return false
}

func (b *Bot) reminderRoutes(m *Mux) {
	if !b.remindersOn() {
		return
	}
	m.Command("reminders", HandlerFunc(b.remList))
	m.Callback("r", HandlerFunc(b.remButton))
}

// remButton handles every reminders button. See the cases for the codes.
func (b *Bot) remButton(ctx context.Context, r *Request) error {
	code, arg, _ := strings.Cut(r.Callback.Arg, ":")
	inFlow := r.Session.Flow == flowRem
	step := r.Session.Step
	switch code {
	case "": // the list
		return b.remList(ctx, r)
	case "n": // add a document
		return b.remNew(ctx, r, nil)
	case "cal": // add my deadlines to my calendar
		return b.remCalendar(ctx, r)
	case "g": // "remind me" under a guide outcome
		return b.remFromGuide(ctx, r, arg)
	case "k":
		if !inFlow || step != stepRemKind || !slices.Contains(registrationKinds, permit.Kind(arg)) {
			return b.stale(ctx, r)
		}
		r.setData(remKind, arg)
		return b.remNext(ctx, r)
	case "m":
		if !inFlow || step != stepRemMention || !permit.Mention(arg).Valid() {
			return b.stale(ctx, r)
		}
		r.setData(remMention, arg)
		return b.remNext(ctx, r)
	case "x":
		if !inFlow || step != stepRemMulti || (arg != "y" && arg != "n" && arg != "u") {
			return b.stale(ctx, r)
		}
		r.setData(remMulti, arg)
		return b.remNext(ctx, r)
	case "h":
		if !inFlow || step != stepRemHolder || (arg != string(HolderMe) && arg != string(HolderChild) && arg != string(HolderHelped)) {
			return b.stale(ctx, r)
		}
		r.setData(remHolder, arg)
		return b.remNext(ctx, r)
	case "ls":
		if !inFlow || step != stepRemLabel {
			return b.stale(ctx, r)
		}
		r.setData(remLabelSkip, "1")
		return b.remNext(ctx, r)
	case "vv":
		if !inFlow || step != stepRemValidated || (arg != "y" && arg != "n") {
			return b.stale(ctx, r)
		}
		r.setData(remValidated, arg)
		return b.remNext(ctx, r)
	case "p", "py", "pm", "pd":
		if !inFlow || step != stepRemDate {
			return b.stale(ctx, r)
		}
		return b.remPicker(ctx, r, code, arg)
	case "t": // a date button: today (0) or yesterday (1)
		if !inFlow || step != stepRemDate || (arg != "0" && arg != "1") {
			return b.stale(ctx, r)
		}
		n, _ := strconv.Atoi(arg)
		return b.remDateGiven(ctx, r, b.today().AddDays(-n))
	case "ok":
		if !inFlow || step != stepRemConfirm {
			return b.stale(ctx, r)
		}
		return b.remConfirm(ctx, r)
	case "cd": // change the date before confirming
		if !inFlow || step != stepRemConfirm {
			return b.stale(ctx, r)
		}
		delete(r.Session.Data, remExpiry)
		r.sessionDirty = true
		return b.remNext(ctx, r)
	case "na": // no API yet, after "I have filed"
		if !inFlow || step != stepRemAPIAsk {
			return b.stale(ctx, r)
		}
		return b.remFiledDone(ctx, r, nil)
	case "ya": // yes, an API: ask its end date
		if !inFlow || step != stepRemAPIAsk {
			return b.stale(ctx, r)
		}
		return b.remAskDate(ctx, r, targetAPI)
	case "q": // cancel
		r.ClearFlow()
		return b.remList(ctx, r)
	}
	// Codes acting on a stored document.
	doc, err := b.docs.Document(ctx, r.Update.UserID, arg)
	if errors.Is(err, ErrNotFound) || arg == "" {
		return b.stale(ctx, r)
	}
	if err != nil {
		return fmt.Errorf("load document: %w", err)
	}
	switch code {
	case "o":
		return b.remShow(ctx, r, doc, "")
	case "f":
		if !filable(doc.Kind) {
			return b.stale(ctx, r)
		}
		b.remEdit(r, doc)
		return b.remAskDate(ctx, r, targetFiled)
	case "ap":
		b.remEdit(r, doc)
		return b.remAskDate(ctx, r, targetAPI)
	case "e":
		b.remEdit(r, doc)
		delete(r.Session.Data, remExpiry)
		return b.remNext(ctx, r)
	case "ny":
		return r.Reply(ctx, b.notYetText(r.P, doc), b.remDocRow(r.P, doc))
	case "sk":
		if b.handoffOn() {
			return b.helpStart(ctx, r)
		}
		return r.Reply(ctx, r.P.T("rem.stuck")+"\n\n"+r.P.T("guide.help.public"), b.remDocRow(r.P, doc))
	case "s", "rs":
		doc.Stopped = code == "s"
		if code == "rs" {
			doc.Since = b.today()
		}
		if _, err := b.saveDocument(ctx, doc); err != nil {
			return err
		}
		note := "rem.stopped"
		if !doc.Stopped {
			note = "rem.resumed"
		}
		return b.remShow(ctx, r, doc, r.P.T(note))
	case "d":
		r.SetFlow(flowRem, stepRemDelete)
		r.setData(remDoc, doc.ID)
		return r.Reply(ctx, r.P.T("rem.delete.confirm", "Title", HTML(b.docTitle(r.P, doc))), []Button{
			{Label: r.P.T("rem.delete.yes"), Data: "r:dy:" + doc.ID},
			{Label: r.P.T("rem.delete.no"), Data: "r:o:" + doc.ID},
		})
	case "dy":
		if !inFlow || step != stepRemDelete || r.Session.Data[remDoc] != doc.ID {
			return b.stale(ctx, r)
		}
		if err := b.deleteDocument(ctx, r.Update.UserID, doc.ID); err != nil {
			return err
		}
		r.ClearFlow()
		if err := r.Reply(ctx, r.P.T("rem.deleted")); err != nil {
			return err
		}
		return b.remList(ctx, r)
	}
	return b.stale(ctx, r)
}

// remList shows the resident's documents with their next reminder.
func (b *Bot) remList(ctx context.Context, r *Request) error {
	if r.Session.Flow == flowRem {
		r.ClearFlow()
	}
	p := r.P
	docs, err := b.docs.Documents(ctx, r.Update.UserID)
	if err != nil {
		return fmt.Errorf("load documents: %w", err)
	}
	addRow := []Button{{Label: p.T("rem.btn.add"), Data: "r:n"}, {Label: p.T("menu.back"), Data: "menu"}}
	if len(docs) == 0 {
		return r.Reply(ctx, "<b>"+p.T("rem.list.title")+"</b>\n\n"+p.T("rem.list.empty"), addRow)
	}
	lines := []string{"<b>" + p.T("rem.list.title") + "</b>"}
	var rows [][]Button
	now := b.clock.Now()
	for i, d := range docs {
		n := strconv.Itoa(i + 1)
		lines = append(lines, "", n+". "+b.docTitle(p, d), "   "+p.T("rem.expires", "Date", frDate(d.Expiry)))
		if next := b.nextDue(d, now, false); d.Stopped {
			lines = append(lines, "   "+p.T("rem.list.stopped"))
		} else if !next.IsZero() {
			lines = append(lines, "   "+p.T("rem.next", "Date", frDate(permit.DateOf(next, b.cfg.Location))))
		} else {
			lines = append(lines, "   "+p.T("rem.list.none_left"))
		}
		rows = append(rows, []Button{{Label: n + ". " + b.docButton(p, d), Data: "r:o:" + d.ID}})
	}
	if len(docs) >= MaxDocuments {
		addRow = addRow[1:]
	}
	rows = append(rows, addRow, []Button{{Label: p.T("cal.button"), Data: "r:cal"}})
	return r.Reply(ctx, strings.Join(lines, "\n"), rows...)
}

// docButton is a short label for a document button.
func (b *Bot) docButton(p *catalog.Printer, d Document) string {
	s := p.T("rem.short." + string(d.Kind))
	if d.Label != "" {
		s += " · " + d.Label
	}
	if r := []rune(s); len(r) > 36 {
		s = string(r[:35]) + "…"
	}
	return s
}

// remShow shows one document with what can be done with it.
func (b *Bot) remShow(ctx context.Context, r *Request, d Document, note string) error {
	p := r.P
	var lines []string
	if note != "" {
		lines = append(lines, note, "")
	}
	lines = append(lines, "<b>"+b.docTitle(p, d)+"</b>")
	lines = append(lines, b.docFacts(p, d)...)
	switch next := b.nextDue(d, b.clock.Now(), false); {
	case d.Stopped:
		lines = append(lines, p.T("rem.list.stopped"))
	case !next.IsZero():
		lines = append(lines, p.T("rem.next", "Date", HTML(longDate(p, permit.DateOf(next, b.cfg.Location)))))
	default:
		lines = append(lines, p.T("rem.list.none_left"))
	}
	id := d.ID
	var rows [][]Button
	switch {
	case filable(d.Kind) && d.Filed == nil:
		rows = append(rows, []Button{{Label: p.T("rem.btn.filed"), Data: "r:f:" + id}})
	case filable(d.Kind):
		rows = append(rows, []Button{{Label: p.T("rem.btn.got_api"), Data: "r:ap:" + id}})
	}
	rows = append(rows, []Button{{Label: p.T("rem.btn.change_date"), Data: "r:e:" + id}})
	if d.Stopped {
		rows = append(rows, []Button{{Label: p.T("rem.btn.resume"), Data: "r:rs:" + id}})
	} else {
		rows = append(rows, []Button{{Label: p.T("rem.btn.stop"), Data: "r:s:" + id}})
	}
	rows = append(rows,
		[]Button{{Label: p.T("rem.btn.delete"), Data: "r:d:" + id}},
		[]Button{{Label: p.T("rem.btn.list"), Data: "r"}, {Label: p.T("menu.back"), Data: "menu"}})
	return r.Reply(ctx, strings.Join(lines, "\n"), rows...)
}

// docFacts lists what is stored about d, one line each.
func (b *Bot) docFacts(p *catalog.Printer, d Document) []string {
	lines := []string{p.T("rem.fact.expiry", "Date", HTML(longDate(p, d.Expiry)))}
	if needsMention(d.Kind) {
		lines = append(lines, p.T("rem.fact.mention", "Mention", HTML(p.T("rem.mention."+mentionOrUnknown(d.Mention)))))
	}
	if d.Arrival != nil {
		lines = append(lines, p.T("rem.fact.arrival", "Date", frDate(*d.Arrival)))
	}
	if d.Filed != nil {
		lines = append(lines, p.T("rem.fact.filed", "Date", frDate(*d.Filed)))
	}
	if d.APIExpiry != nil {
		lines = append(lines, p.T("rem.fact.api", "Date", frDate(*d.APIExpiry)))
	}
	return lines
}

func mentionOrUnknown(m permit.Mention) string {
	if m == "" || !m.Valid() {
		return string(permit.MentionUnknown)
	}
	return string(m)
}

// remDocRow leads back to a document and to the list.
func (b *Bot) remDocRow(p *catalog.Printer, d Document) []Button {
	return []Button{{Label: p.T("rem.btn.open"), Data: "r:o:" + d.ID}, {Label: p.T("rem.btn.list"), Data: "r"}}
}

// notYetText answers "Not yet" with the next deadline.
func (b *Bot) notYetText(p *catalog.Printer, d Document) string {
	ch := permit.NextChannel(d.Kind, d.Mention)
	today := b.today()
	if d.Kind.Valid() && ch != permit.Prefecture && d.Kind != permit.KindRLDUE && d.Kind != permit.KindRecepisse && d.Kind != permit.KindAPS {
		w := permit.RenewalWindow(d.Expiry, ch)
		if !today.After(w.Closes) {
			return p.T("rem.notyet.anef", "Closes", frDate(w.Closes))
		}
	}
	if !today.After(d.Expiry) {
		return p.T("rem.notyet.before", "Expiry", frDate(d.Expiry))
	}
	return p.T("rem.notyet.late") + "\n\n" + p.T("guide.help.public")
}

// remNew starts a registration, with what is already known.
func (b *Bot) remNew(ctx context.Context, r *Request, known map[string]string) error {
	docs, err := b.docs.Documents(ctx, r.Update.UserID)
	if err != nil {
		return fmt.Errorf("load documents: %w", err)
	}
	if len(docs) >= MaxDocuments {
		return r.Reply(ctx, r.P.N("rem.full", MaxDocuments), []Button{{Label: r.P.T("rem.btn.list"), Data: "r"}})
	}
	r.ClearFlow()
	r.SetFlow(flowRem, stepRemKind)
	for k, v := range known {
		r.setData(k, v)
	}
	if len(known) == 0 {
		if err := r.Reply(ctx, r.P.T("rem.intro")); err != nil {
			return err
		}
	}
	return b.remNext(ctx, r)
}

// remFromGuide opens the registration pre-filled with what the guide
// knows, so that it asks nothing already answered: the document kind; the
// mention of the next titre and whether it is a first multi-year card, when
// the path told them; the end date typed in the guide (a card's or an APS's
// expiry); for a VLS-TS to validate, that it is not validated yet and the
// arrival date typed. An outcome without a document (for example "no API",
// where the resident has none) offers no reminder at all.
func (b *Bot) remFromGuide(ctx context.Context, r *Request, outcome string) error {
	if b.guide == nil {
		return b.stale(ctx, r)
	}
	o, ok := b.guide.Outcome(outcome)
	k := permit.Kind(o.Document)
	if !ok || !slices.Contains(registrationKinds, k) || o.Sensitive {
		return b.stale(ctx, r)
	}
	known := map[string]string{remKind: string(k)}
	if m := permit.Mention(o.Mention); needsMention(k) && m.Valid() {
		known[remMention] = string(m)
	}
	if needsMulti(k) {
		switch o.FirstMulti {
		case "yes":
			known[remMulti] = "y"
		case "no":
			known[remMulti] = "n"
		}
	}
	if r.Session.Flow == flowGuide {
		today := b.today()
		switch ask := dateQuestion(o.Timing); ask {
		case "guide.dates.ask_expiry", "guide.dates.ask_aps":
			if d, ok := b.guideTypedDate(r, ask); ok && !d.Before(today.AddMonths(-12)) && !d.After(today.AddMonths(12*11)) {
				known[remExpiry] = d.String()
			}
		case "guide.dates.ask_arrival":
			if k != permit.KindVLSTS {
				break
			}
			// "Validate my visa": not validated yet.
			known[remValidated] = "n"
			if d, ok := b.guideTypedDate(r, ask); ok && !d.After(today) && !d.Before(today.AddMonths(-12)) {
				known[remArrival] = d.String()
			}
		}
	}
	if err := r.Reply(ctx, r.P.T("rem.from_guide", "Kind", HTML(r.P.T("rem.kind."+string(k))))); err != nil {
		return err
	}
	return b.remNew(ctx, r, known)
}

// remEdit loads a stored document into the session for editing.
func (b *Bot) remEdit(r *Request, d Document) {
	r.ClearFlow()
	r.SetFlow(flowRem, stepRemConfirm)
	r.setData(remDoc, d.ID)
	r.setData(remKind, string(d.Kind))
	r.setData(remMention, mentionOrUnknown(d.Mention))
	r.setData(remMulti, "n")
	if d.FirstMultiYear {
		r.setData(remMulti, "y")
	}
	r.setData(remHolder, string(d.Holder))
	r.setData(remLabel, d.Label)
	r.setData(remLabelSkip, "1")
	r.setData(remExpiry, d.Expiry.String())
	r.setData(remValidated, "y")
	if d.Arrival != nil {
		r.setData(remValidated, "n")
		r.setData(remArrival, d.Arrival.String())
	}
}

// remNext asks for the first thing the registration still lacks, or for
// confirmation when nothing is missing.
func (b *Bot) remNext(ctx context.Context, r *Request) error {
	d := r.Session.Data
	k := permit.Kind(d[remKind])
	p := r.P
	switch {
	case !slices.Contains(registrationKinds, k):
		return b.remAskKind(ctx, r)
	case needsMention(k) && d[remMention] == "":
		r.SetFlow(flowRem, stepRemMention)
		rows := make([][]Button, 0, 8)
		ms := permit.Mentions()
		for i := 0; i < len(ms); i += 2 {
			row := []Button{{Label: p.T("rem.mention." + string(ms[i])), Data: "r:m:" + string(ms[i])}}
			if i+1 < len(ms) {
				row = append(row, Button{Label: p.T("rem.mention." + string(ms[i+1])), Data: "r:m:" + string(ms[i+1])})
			}
			rows = append(rows, row)
		}
		return r.Reply(ctx, p.T("rem.ask.mention"), append(rows, b.remCancelRow(p))...)
	case needsMulti(k) && d[remMulti] == "":
		r.SetFlow(flowRem, stepRemMulti)
		return r.Reply(ctx, p.T("rem.ask.multi"),
			[]Button{{Label: p.T("rem.yes"), Data: "r:x:y"}, {Label: p.T("rem.no"), Data: "r:x:n"}},
			[]Button{{Label: p.T("rem.dontknow"), Data: "r:x:u"}},
			b.remCancelRow(p))
	case d[remHolder] == "":
		r.SetFlow(flowRem, stepRemHolder)
		return r.Reply(ctx, p.T("rem.ask.holder"),
			[]Button{{Label: p.T("rem.holder.me"), Data: "r:h:me"}},
			[]Button{{Label: p.T("rem.holder.child"), Data: "r:h:child"}},
			[]Button{{Label: p.T("rem.holder.other"), Data: "r:h:other"}},
			b.remCancelRow(p))
	case d[remHolder] != string(HolderMe) && d[remLabel] == "" && d[remLabelSkip] == "":
		r.SetFlow(flowRem, stepRemLabel)
		return r.Reply(ctx, p.N("rem.ask.label", MaxLabel),
			[]Button{{Label: p.T("rem.label.skip"), Data: "r:ls"}},
			b.remCancelRow(p))
	case d[remExpiry] == "":
		return b.remAskDate(ctx, r, targetExpiry)
	case k == permit.KindVLSTS && d[remValidated] == "":
		r.SetFlow(flowRem, stepRemValidated)
		return r.Reply(ctx, p.T("rem.ask.validated"),
			[]Button{{Label: p.T("rem.yes"), Data: "r:vv:y"}, {Label: p.T("rem.no"), Data: "r:vv:n"}},
			b.remCancelRow(p))
	case k == permit.KindVLSTS && d[remValidated] == "n" && d[remArrival] == "":
		return b.remAskDate(ctx, r, targetArrival)
	}
	return b.remAskConfirm(ctx, r)
}

func (b *Bot) remCancelRow(p *catalog.Printer) []Button {
	return []Button{{Label: p.T("rem.btn.cancel"), Data: "r:q"}}
}

// remAskKind shows the kinds, each described in one line.
func (b *Bot) remAskKind(ctx context.Context, r *Request) error {
	r.SetFlow(flowRem, stepRemKind)
	p := r.P
	lines := []string{p.T("rem.ask.kind"), ""}
	rows := make([][]Button, 0, len(registrationKinds)+1)
	for i, k := range registrationKinds {
		n := strconv.Itoa(i + 1)
		lines = append(lines, n+". <b>"+p.T("rem.kind."+string(k))+"</b>: "+p.T("rem.desc."+string(k)))
		rows = append(rows, []Button{{Label: n + ". " + p.T("rem.short."+string(k)), Data: "r:k:" + string(k)}})
	}
	return r.Reply(ctx, strings.Join(lines, "\n"), append(rows, b.remCancelRow(p))...)
}

// remAskDate asks for a date, typed or picked with buttons.
func (b *Bot) remAskDate(ctx context.Context, r *Request, target string) error {
	r.SetFlow(flowRem, stepRemDate)
	r.setData(remTarget, target)
	delete(r.Session.Data, remPickYear)
	delete(r.Session.Data, remPickMonth)
	p := r.P
	rows := [][]Button{{{Label: p.T("rem.date.pick"), Data: "r:p"}}}
	if target == targetFiled {
		rows = append([][]Button{{{Label: p.T("rem.date.today"), Data: "r:t:0"}, {Label: p.T("rem.date.yesterday"), Data: "r:t:1"}}}, rows...)
	}
	rows = append(rows, b.remCancelRow(p))
	return r.Reply(ctx, p.T("rem.ask.date."+target), rows...)
}

// yearRange is the years offered by the picker for a target.
func (b *Bot) yearRange(target string) (from, to int) {
	y := b.today().Year
	switch target {
	case targetExpiry:
		return y - 1, y + 10
	case targetAPI:
		return y - 1, y + 1
	}
	return y - 1, y
}

// remPicker walks year, month, day with buttons only.
func (b *Bot) remPicker(ctx context.Context, r *Request, code, arg string) error {
	p := r.P
	target := r.Session.Data[remTarget]
	from, to := b.yearRange(target)
	n, err := strconv.Atoi(arg)
	switch code {
	case "p":
		var rows [][]Button
		for y := from; y <= to; y++ {
			if (y-from)%4 == 0 {
				rows = append(rows, nil)
			}
			rows[len(rows)-1] = append(rows[len(rows)-1], Button{Label: strconv.Itoa(y), Data: "r:py:" + strconv.Itoa(y)})
		}
		return r.Reply(ctx, p.T("rem.pick.year"), append(rows, b.remCancelRow(p))...)
	case "py":
		if err != nil || n < from || n > to {
			return b.stale(ctx, r)
		}
		r.setData(remPickYear, arg)
		var rows [][]Button
		for m := 1; m <= 12; m++ {
			if (m-1)%3 == 0 {
				rows = append(rows, nil)
			}
			rows[len(rows)-1] = append(rows[len(rows)-1], Button{Label: p.T("date.month." + strconv.Itoa(m)), Data: "r:pm:" + strconv.Itoa(m)})
		}
		return r.Reply(ctx, p.T("rem.pick.month", "Year", arg), append(rows, b.remCancelRow(p))...)
	case "pm":
		y, yerr := strconv.Atoi(r.Session.Data[remPickYear])
		if err != nil || yerr != nil || n < 1 || n > 12 {
			return b.stale(ctx, r)
		}
		r.setData(remPickMonth, arg)
		days := time.Date(y, time.Month(n)+1, 0, 0, 0, 0, 0, time.UTC).Day()
		var rows [][]Button
		for d := 1; d <= days; d++ {
			if (d-1)%7 == 0 {
				rows = append(rows, nil)
			}
			rows[len(rows)-1] = append(rows[len(rows)-1], Button{Label: strconv.Itoa(d), Data: "r:pd:" + strconv.Itoa(d)})
		}
		return r.Reply(ctx, p.T("rem.pick.day", "Month", HTML(p.T("date.month."+arg)), "Year", strconv.Itoa(y)), append(rows, b.remCancelRow(p))...)
	case "pd":
		y, yerr := strconv.Atoi(r.Session.Data[remPickYear])
		m, merr := strconv.Atoi(r.Session.Data[remPickMonth])
		if err != nil || yerr != nil || merr != nil {
			return b.stale(ctx, r)
		}
		d, derr := permit.NewDate(y, time.Month(m), n)
		if derr != nil {
			return b.stale(ctx, r)
		}
		return b.remDateGiven(ctx, r, d)
	}
	return b.stale(ctx, r)
}

// dateShape matches text that looks like a date (three groups of digits),
// to tell an impossible date from unreadable text.
var dateShape = regexp.MustCompile(`^\s*\d{1,4}\s*[./\-]\s*\d{1,2}\s*[./\-]\s*\d{1,4}\s*$`)

// remDateTyped reads a typed date for the date being asked.
func (b *Bot) remDateTyped(ctx context.Context, r *Request) error {
	d, err := permit.ParseDate(r.Update.Text)
	if err != nil {
		id := "rem.date.unreadable"
		if dateShape.MatchString(asciiDigits(r.Update.Text)) {
			id = "rem.date.impossible"
		}
		return r.Reply(ctx, r.P.T(id), []Button{{Label: r.P.T("rem.date.pick"), Data: "r:p"}}, b.remCancelRow(r.P))
	}
	return b.remDateGiven(ctx, r, d)
}

func asciiDigits(s string) string {
	return strings.Map(func(c rune) rune {
		if d, ok := digits.ASCII(c); ok {
			return d
		}
		if unicode.Is(unicode.Bidi_Control, c) {
			return -1
		}
		return c
	}, s)
}

// remDateGiven checks a date against what is plausible for its target,
// then records it.
func (b *Bot) remDateGiven(ctx context.Context, r *Request, d permit.Date) error {
	today := b.today()
	target := r.Session.Data[remTarget]
	p := r.P
	retry := []Button{{Label: p.T("rem.date.pick"), Data: "r:p"}}
	switch target {
	case targetExpiry:
		switch {
		case d.Before(today.AddMonths(-12)):
			return r.Reply(ctx, p.T("rem.date.too_old", "Date", frDate(d)), retry, b.remCancelRow(p))
		case d.After(today.AddMonths(12 * 11)):
			return r.Reply(ctx, p.T("rem.date.too_far", "Date", frDate(d)), retry, b.remCancelRow(p))
		}
		r.setData(remExpiry, d.String())
		return b.remNext(ctx, r)
	case targetArrival:
		switch {
		case d.After(today):
			return r.Reply(ctx, p.T("rem.date.future", "Date", frDate(d)), retry, b.remCancelRow(p))
		case d.Before(today.AddMonths(-12)):
			return r.Reply(ctx, p.T("rem.date.too_old", "Date", frDate(d)), retry, b.remCancelRow(p))
		}
		r.setData(remArrival, d.String())
		return b.remNext(ctx, r)
	case targetFiled:
		switch {
		case d.After(today):
			return r.Reply(ctx, p.T("rem.date.future", "Date", frDate(d)), retry, b.remCancelRow(p))
		case d.Before(today.AddMonths(-24)):
			return r.Reply(ctx, p.T("rem.date.too_old", "Date", frDate(d)), retry, b.remCancelRow(p))
		}
		r.setData(targetFiled, d.String())
		r.SetFlow(flowRem, stepRemAPIAsk)
		return r.Reply(ctx, p.T("rem.ask.api"),
			[]Button{{Label: p.T("rem.api.yes"), Data: "r:ya"}},
			[]Button{{Label: p.T("rem.api.no"), Data: "r:na"}},
			b.remCancelRow(p))
	case targetAPI:
		switch {
		case d.Before(today.AddMonths(-12)):
			return r.Reply(ctx, p.T("rem.date.too_old", "Date", frDate(d)), retry, b.remCancelRow(p))
		case d.After(today.AddMonths(12)):
			return r.Reply(ctx, p.T("rem.date.too_far", "Date", frDate(d)), retry, b.remCancelRow(p))
		}
		return b.remFiledDone(ctx, r, &d)
	}
	return b.stale(ctx, r)
}

// remAskConfirm echoes the document back, unambiguously, before saving.
func (b *Bot) remAskConfirm(ctx context.Context, r *Request) error {
	doc, err := b.remDraft(r)
	if err != nil {
		r.ClearFlow()
		return b.stale(ctx, r)
	}
	r.SetFlow(flowRem, stepRemConfirm)
	p := r.P
	lines := []string{p.T("rem.confirm.title"), "", "<b>" + b.docTitle(p, doc) + "</b>"}
	lines = append(lines, b.docFacts(p, doc)...)
	if needsMulti(doc.Kind) {
		lines = append(lines, p.T("rem.fact.multi."+r.Session.Data[remMulti]))
	}
	return r.Reply(ctx, strings.Join(lines, "\n"),
		[]Button{{Label: p.T("rem.btn.confirm"), Data: "r:ok"}},
		[]Button{{Label: p.T("rem.btn.change_date"), Data: "r:cd"}},
		b.remCancelRow(p))
}

// remDraft builds the document described by the session, on top of the
// stored one when editing.
func (b *Bot) remDraft(r *Request) (Document, error) {
	d := r.Session.Data
	exp, err := permit.ParseDate(d[remExpiry])
	if err != nil {
		return Document{}, err
	}
	doc := Document{
		UserID: r.Update.UserID, ChatID: r.Update.ChatID,
		Kind: permit.Kind(d[remKind]), Holder: Holder(d[remHolder]),
		Label: d[remLabel], Expiry: exp,
		FirstMultiYear: d[remMulti] == "y" || d[remMulti] == "u",
	}
	if needsMention(doc.Kind) {
		doc.Mention = permit.Mention(d[remMention])
	}
	if doc.Kind == permit.KindVLSTS && d[remValidated] == "n" {
		a, err := permit.ParseDate(d[remArrival])
		if err != nil {
			return Document{}, err
		}
		doc.Arrival = &a
	}
	return doc, nil
}

// remConfirm stores the confirmed document and schedules it.
func (b *Bot) remConfirm(ctx context.Context, r *Request) error {
	doc, err := b.remDraft(r)
	if err != nil {
		r.ClearFlow()
		return b.stale(ctx, r)
	}
	now := b.clock.Now()
	if id := r.Session.Data[remDoc]; id != "" {
		old, err := b.docs.Document(ctx, r.Update.UserID, id)
		if errors.Is(err, ErrNotFound) {
			r.ClearFlow()
			return b.stale(ctx, r)
		}
		if err != nil {
			return fmt.Errorf("load document: %w", err)
		}
		doc.ID, doc.Created, doc.Filed, doc.APIExpiry, doc.Stopped = old.ID, old.Created, old.Filed, old.APIExpiry, old.Stopped
	} else {
		docs, err := b.docs.Documents(ctx, r.Update.UserID)
		if err != nil {
			return fmt.Errorf("load documents: %w", err)
		}
		if len(docs) >= MaxDocuments {
			r.ClearFlow()
			return r.Reply(ctx, r.P.N("rem.full", MaxDocuments), []Button{{Label: r.P.T("rem.btn.list"), Data: "r"}})
		}
		doc.ID, doc.Created = newDocID(docs), now
	}
	doc.Since = b.today()
	next, err := b.saveDocument(ctx, doc)
	if err != nil {
		return err
	}
	b.log.Info("document_saved", "user_id", doc.UserID, "doc", doc.ID, "kind", string(doc.Kind))
	r.ClearFlow()
	note := "rem.saved"
	if next.IsZero() && !doc.Stopped {
		// Already ended: never promise reminders that will not come.
		note = "rem.saved_ended"
	}
	return b.remSaved(ctx, r, doc, note)
}

// remSaved tells what is due today, if anything, then shows the document.
func (b *Bot) remSaved(ctx context.Context, r *Request, doc Document, note string) error {
	today := b.today()
	var now []permit.Milestone
	for _, m := range permit.Schedule(doc.Permit(), doc.Since) {
		if m.Date.Equal(today) {
			now = append(now, m)
		}
	}
	if len(now) > 0 && !doc.Stopped {
		text, _ := b.reminderMessage(r.P, doc, now)
		// The neutral first line is for notifications only.
		text = strings.TrimPrefix(text, r.P.T("rem.msg.neutral")+"\n\n")
		if err := r.Reply(ctx, text); err != nil {
			return err
		}
	}
	return b.remShow(ctx, r, doc, r.P.T(note))
}

// remFiledDone records "I have filed" (and the API's end date, if any).
func (b *Bot) remFiledDone(ctx context.Context, r *Request, api *permit.Date) error {
	id := r.Session.Data[remDoc]
	filed, err := permit.ParseDate(r.Session.Data[targetFiled])
	if id == "" {
		return b.stale(ctx, r)
	}
	doc, derr := b.docs.Document(ctx, r.Update.UserID, id)
	if errors.Is(derr, ErrNotFound) {
		r.ClearFlow()
		return b.stale(ctx, r)
	}
	if derr != nil {
		return fmt.Errorf("load document: %w", derr)
	}
	if err == nil {
		doc.Filed = &filed
	}
	if api != nil {
		doc.APIExpiry = api
	}
	if doc.Filed == nil && filable(doc.Kind) {
		// An API date given without a filing date: filed at the latest today.
		t := b.today()
		doc.Filed = &t
	}
	doc.Since = b.today()
	if _, err := b.saveDocument(ctx, doc); err != nil {
		return err
	}
	b.log.Info("document_filed", "user_id", doc.UserID, "doc", doc.ID, "api", api != nil)
	r.ClearFlow()
	return b.remSaved(ctx, r, doc, "rem.filed_saved")
}

// newDocID returns a short id not used by docs: one more than the largest.
func newDocID(docs []Document) string {
	max := 0
	for _, d := range docs {
		if n, err := strconv.Atoi(d.ID); err == nil && n > max {
			max = n
		}
	}
	return strconv.Itoa(max + 1)
}

// remLabelTyped takes the short label of the holder.
func (b *Bot) remLabelTyped(ctx context.Context, r *Request) error {
	label := cleanLabel(r.Update.Text)
	switch {
	case label == "":
		return r.Reply(ctx, r.P.N("rem.ask.label", MaxLabel), []Button{{Label: r.P.T("rem.label.skip"), Data: "r:ls"}}, b.remCancelRow(r.P))
	case len([]rune(label)) > MaxLabel:
		return r.Reply(ctx, r.P.N("rem.label.long", MaxLabel), []Button{{Label: r.P.T("rem.label.skip"), Data: "r:ls"}}, b.remCancelRow(r.P))
	case looksLikeNumber(label):
		return r.Reply(ctx, r.P.T("rem.label.number"), []Button{{Label: r.P.T("rem.label.skip"), Data: "r:ls"}}, b.remCancelRow(r.P))
	}
	r.setData(remLabel, label)
	return b.remNext(ctx, r)
}

// cleanLabel keeps one line of printable text.
// Invisible characters go too (see cleanText).
func cleanLabel(s string) string {
	s = strings.Map(func(c rune) rune {
		switch {
		case unicode.IsControl(c), unicode.Is(unicode.Bidi_Control, c):
			return ' '
		}
		return c
	}, s)
	return strings.Join(strings.Fields(cleanText(s)), " ")
}

// looksLikeNumber flags a label with a long run of digits: an identity
// document or foreigner number must never be stored.
func looksLikeNumber(s string) bool {
	run := 0
	for _, c := range asciiDigits(s) {
		if c >= '0' && c <= '9' {
			run++
			if run >= 5 {
				return true
			}
		} else if c != ' ' {
			run = 0
		}
	}
	return false
}

// remText handles typed text during the reminders flow.
func (b *Bot) remText(ctx context.Context, r *Request) (bool, error) {
	if r.Session.Flow != flowRem {
		return false, nil
	}
	switch r.Session.Step {
	case stepRemDate:
		return true, b.remDateTyped(ctx, r)
	case stepRemLabel:
		return true, b.remLabelTyped(ctx, r)
	}
	return false, nil
}

func (b *Bot) today() permit.Date { return permit.DateOf(b.clock.Now(), b.cfg.Location) }

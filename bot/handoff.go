package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// The intake conversation keeps the answers in the session only, until the
// resident consents; refusing consent clears them and nothing about the
// problem is stored.
const (
	flowHelp = "help"

	stepHelpProblem = "problem"
	stepHelpDep     = "dep"
	stepHelpLang    = "lang"
	stepHelpDoc     = "doc"
	stepHelpDate    = "date"
	stepHelpNotif   = "notif"
	stepHelpDepart  = "depart"
	stepHelpRisk    = "risk"
	stepHelpDesc    = "desc"
	stepHelpConsent = "consent"

	helpProblem = "p"
	helpDep     = "dep"
	helpLang    = "lang"
	helpDoc     = "doc" // tracked document id, or "-" for none
	helpExpiry  = "exp"
	helpNotif   = "notif"  // day an urgent letter was notified, or "-"
	helpDepart  = "depart" // OQTF: voluntary departure period (handoff.Departure*)
	helpRisks   = "risk"   // comma-separated Risk values, or "-" for none
	helpDesc    = "desc"
	helpDescSet = "descset"
	helpPartner = "partner" // chosen by routing, shown at consent
	helpMedia   = "media"   // files waiting for the resident's go ("id.form,…")
)

// MaxDescription bounds the optional description, in characters.
const MaxDescription = 500

// handoffOn reports whether partners are configured.
func (b *Bot) handoffOn() bool { return b.partners != nil && b.cases != nil }

func (b *Bot) handoffRoutes(m *Mux) {
	if !b.handoffOn() {
		// Without partners, /volunteer (and a stale "h" button) shows the
		// public help, not "I did not understand".
		m.Command("volunteer", HandlerFunc(b.helpEntry))
		m.Callback("h", HandlerFunc(b.helpEntry))
		return
	}
	m.Command("volunteer", HandlerFunc(b.helpStart))
	m.Command("endhelp", HandlerFunc(b.helpEnd))
	m.Callback("h", HandlerFunc(b.helpButton))
}

// helpEntry is where every "talk to a volunteer" button leads: the intake
// when partners are configured, public help otherwise.
func (b *Bot) helpEntry(ctx context.Context, r *Request) error {
	if b.handoffOn() {
		return b.helpStart(ctx, r)
	}
	return r.Reply(ctx, r.P.T("guide.help.public"), []Button{{Label: r.P.T("menu.back"), Data: "menu"}})
}

// helpStart begins the intake, or shows the open case.
func (b *Bot) helpStart(ctx context.Context, r *Request) error {
	if c, ok, err := b.openCase(ctx, r); err != nil {
		return err
	} else if ok {
		p := b.partner(c.PartnerID)
		return r.Reply(ctx, r.P.T("help.already_open", "Case", c.ID, "Partner", partnerName(p)), b.leaveRow(r.P))
	}
	r.ClearFlow()
	r.SetFlow(flowHelp, stepHelpProblem)
	p := r.P
	rows := make([][]Button, 0, 18)
	for _, pr := range handoff.Problems() {
		rows = append(rows, []Button{{Label: p.T("help.problem." + string(pr)), Data: "h:p:" + string(pr)}})
	}
	rows = append(rows, []Button{{Label: p.T("help.cancel"), Data: "h:q"}})
	return r.Reply(ctx, p.T("help.intro")+"\n\n"+p.T("help.ask.problem"), rows...)
}

// helpButton handles the resident's intake and case buttons.
func (b *Bot) helpButton(ctx context.Context, r *Request) error {
	code, arg, _ := strings.Cut(r.Callback.Arg, ":")
	in := r.Session.Flow == flowHelp
	step := r.Session.Step
	switch code {
	case "":
		return b.helpStart(ctx, r)
	case "q":
		r.ClearFlow()
		return r.Reply(ctx, r.P.T("help.cancelled")+"\n\n"+r.P.T("guide.help.public"), []Button{{Label: r.P.T("menu.back"), Data: "menu"}})
	case "p":
		pr := handoff.Problem(arg)
		if !in || step != stepHelpProblem || !pr.Valid() {
			return b.stale(ctx, r)
		}
		r.setData(helpProblem, arg)
		if pr.Urgent() {
			if err := r.Reply(ctx, r.P.T("guide.urgent.letter")); err != nil {
				return err
			}
		}
		if pr == handoff.ProblemSensitive {
			if err := r.Reply(ctx, r.P.T("help.sensitive")); err != nil {
				return err
			}
		}
		return b.helpNext(ctx, r)
	case "l":
		if !in || step != stepHelpLang || (arg != r.Lang && arg != "fr" && arg != "en") {
			return b.stale(ctx, r)
		}
		r.setData(helpLang, arg)
		return b.helpNext(ctx, r)
	case "d":
		if !in || step != stepHelpDoc {
			return b.stale(ctx, r)
		}
		if arg != "-" {
			if _, err := b.docs.Document(ctx, r.Update.UserID, arg); err != nil {
				return b.stale(ctx, r)
			}
		}
		r.setData(helpDoc, arg)
		return b.helpNext(ctx, r)
	case "v":
		if !in || step != stepHelpDepart || !handoff.ValidDeparture(arg) {
			return b.stale(ctx, r)
		}
		r.setData(helpDepart, arg)
		return b.helpNext(ctx, r)
	case "k":
		if !in || step != stepHelpRisk {
			return b.stale(ctx, r)
		}
		return b.helpToggleRisk(ctx, r, arg)
	case "s": // skip the current optional step
		if !in {
			return b.stale(ctx, r)
		}
		switch step {
		case stepHelpDep:
			r.setData(helpDep, "-")
			if err := b.urgentContacts(ctx, r); err != nil {
				return err
			}
		case stepHelpDate:
			r.setData(helpExpiry, "-")
		case stepHelpNotif:
			r.setData(helpNotif, "-")
		case stepHelpDesc:
			r.setData(helpDescSet, "1")
		default:
			return b.stale(ctx, r)
		}
		return b.helpNext(ctx, r)
	case "y":
		if !in || step != stepHelpConsent {
			return b.stale(ctx, r)
		}
		return b.helpConsent(ctx, r)
	case "n":
		if !in || step != stepHelpConsent {
			return b.stale(ctx, r)
		}
		r.ClearFlow()
		return r.Reply(ctx, r.P.T("help.no_consent")+"\n\n"+r.P.T("guide.help.public"), []Button{{Label: r.P.T("menu.back"), Data: "menu"}})
	case "e":
		return b.helpEnd(ctx, r)
	case "m": // send the waiting files to the volunteers (or not)
		return b.helpMediaAnswer(ctx, r, arg == "y")
	case "f":
		return b.helpFeedback(ctx, r, arg)
	}
	return b.stale(ctx, r)
}

// helpNext asks the first question the intake still lacks, then shows
// exactly what would be shared and asks for consent.
func (b *Bot) helpNext(ctx context.Context, r *Request) error {
	d := r.Session.Data
	p := r.P
	switch {
	case d[helpProblem] == "":
		return b.helpStart(ctx, r)
	case d[helpDep] == "":
		r.SetFlow(flowHelp, stepHelpDep)
		return r.Reply(ctx, p.T("help.ask.dep"), []Button{{Label: p.T("help.dep.skip"), Data: "h:s"}}, b.helpCancelRow(p))
	case d[helpLang] == "":
		if r.Lang == "fr" {
			r.setData(helpLang, "fr")
			return b.helpNext(ctx, r)
		}
		r.SetFlow(flowHelp, stepHelpLang)
		own, _ := b.cat.Language(r.Lang)
		row := []Button{{Label: own.Native, Data: "h:l:" + r.Lang}}
		for _, l := range []string{"fr", "en"} {
			if l != r.Lang {
				lang, _ := b.cat.Language(l)
				row = append(row, Button{Label: lang.Native, Data: "h:l:" + l})
			}
		}
		return r.Reply(ctx, p.T("help.ask.lang"), row, b.helpCancelRow(p))
	case d[helpDoc] == "" && b.remindersOn():
		docs, err := b.docs.Documents(ctx, r.Update.UserID)
		if err != nil {
			return fmt.Errorf("load documents: %w", err)
		}
		if len(docs) == 0 {
			r.setData(helpDoc, "-")
			return b.helpNext(ctx, r)
		}
		r.SetFlow(flowHelp, stepHelpDoc)
		var rows [][]Button
		for _, doc := range docs {
			rows = append(rows, []Button{{Label: b.docButton(p, doc), Data: "h:d:" + doc.ID}})
		}
		rows = append(rows, []Button{{Label: p.T("help.doc.none"), Data: "h:d:-"}}, b.helpCancelRow(p))
		return r.Reply(ctx, p.T("help.ask.doc"), rows...)
	case handoff.Problem(d[helpProblem]).Urgent() && d[helpNotif] == "":
		// Appeal deadlines run from the day the letter reached them.
		r.SetFlow(flowHelp, stepHelpNotif)
		return r.Reply(ctx, p.T("help.ask.notified", "Example", HTML(frDate(permit.DateOf(b.clock.Now(), b.cfg.Location).AddDays(-1)))),
			[]Button{{Label: p.T("help.skip"), Data: "h:s"}}, b.helpCancelRow(p))
	case handoff.Problem(d[helpProblem]) == handoff.ProblemOQTF && d[helpDepart] == "":
		// Which OQTF it is changes what the team must do, and how fast.
		r.SetFlow(flowHelp, stepHelpDepart)
		return r.Reply(ctx, p.T("help.ask.departure"),
			[]Button{{Label: p.T("help.departure.yes"), Data: "h:v:" + handoff.DepartureYes}},
			[]Button{{Label: p.T("help.departure.no"), Data: "h:v:" + handoff.DepartureNo}},
			[]Button{{Label: p.T("help.departure.unknown"), Data: "h:v:" + handoff.DepartureUnknown}},
			b.helpCancelRow(p))
	case !handoff.Problem(d[helpProblem]).Urgent() && (d[helpDoc] == "-" || d[helpDoc] == "") && d[helpExpiry] == "":
		r.SetFlow(flowHelp, stepHelpDate)
		return r.Reply(ctx, p.T("help.ask.date"), []Button{{Label: p.T("help.skip"), Data: "h:s"}}, b.helpCancelRow(p))
	case d[helpRisks] == "" || r.Session.Step == stepHelpRisk && d[helpRisks] != "done":
		return b.helpAskRisk(ctx, r)
	case d[helpDescSet] == "":
		r.SetFlow(flowHelp, stepHelpDesc)
		return r.Reply(ctx, p.N("help.ask.desc", MaxDescription), []Button{{Label: p.T("help.skip"), Data: "h:s"}}, b.helpCancelRow(p))
	}
	return b.helpAskConsent(ctx, r)
}

func (b *Bot) helpCancelRow(p *catalog.Printer) []Button {
	return []Button{{Label: p.T("help.cancel"), Data: "h:q"}}
}

var risks = []handoff.Risk{handoff.RiskWork, handoff.RiskHousing, handoff.RiskBenefits}

// helpAskRisk shows the risks as toggles.
func (b *Bot) helpAskRisk(ctx context.Context, r *Request) error {
	r.SetFlow(flowHelp, stepHelpRisk)
	p := r.P
	chosen := splitRisks(r.Session.Data[helpRisks])
	var rows [][]Button
	for _, k := range risks {
		mark := "◻️ "
		if slices.Contains(chosen, k) {
			mark = "✅ "
		}
		rows = append(rows, []Button{{Label: mark + p.T("help.risk."+string(k)), Data: "h:k:" + string(k)}})
	}
	rows = append(rows, []Button{{Label: p.T("help.risk.done"), Data: "h:k:done"}}, b.helpCancelRow(p))
	return r.Reply(ctx, p.T("help.ask.risk"), rows...)
}

func splitRisks(s string) []handoff.Risk {
	var out []handoff.Risk
	for _, f := range strings.Split(s, ",") {
		if k := handoff.Risk(f); slices.Contains(risks, k) {
			out = append(out, k)
		}
	}
	return out
}

func (b *Bot) helpToggleRisk(ctx context.Context, r *Request, arg string) error {
	chosen := splitRisks(r.Session.Data[helpRisks])
	if arg == "done" {
		var parts []string
		for _, k := range chosen {
			parts = append(parts, string(k))
		}
		if len(parts) == 0 {
			parts = []string{"-"}
		}
		r.setData(helpRisks, strings.Join(parts, ","))
		r.SetFlow(flowHelp, stepHelpDesc)
		return b.helpNext(ctx, r)
	}
	k := handoff.Risk(arg)
	if !slices.Contains(risks, k) {
		return b.stale(ctx, r)
	}
	if i := slices.Index(chosen, k); i >= 0 {
		chosen = slices.Delete(chosen, i, i+1)
	} else {
		chosen = append(chosen, k)
	}
	var parts []string
	for _, c := range chosen {
		parts = append(parts, string(c))
	}
	r.setData(helpRisks, strings.Join(parts, ","))
	return b.helpAskRisk(ctx, r)
}

// helpText takes typed text during the intake.
func (b *Bot) helpText(ctx context.Context, r *Request) (bool, error) {
	if r.Session.Flow != flowHelp {
		return false, nil
	}
	p := r.P
	switch r.Session.Step {
	case stepHelpDep:
		dep, ok := handoff.LookupDepartement(r.Update.Text)
		if !ok {
			return true, r.Reply(ctx, p.T("help.dep.unknown"), []Button{{Label: p.T("help.dep.skip"), Data: "h:s"}}, b.helpCancelRow(p))
		}
		r.setData(helpDep, dep.Code)
		if err := b.urgentContacts(ctx, r); err != nil {
			return true, err
		}
		return true, b.helpNext(ctx, r)
	case stepHelpDate:
		d, err := permit.ParseDate(r.Update.Text)
		if err != nil {
			return true, r.Reply(ctx, p.T("rem.date.unreadable"), []Button{{Label: p.T("help.skip"), Data: "h:s"}}, b.helpCancelRow(p))
		}
		r.setData(helpExpiry, d.String())
		return true, b.helpNext(ctx, r)
	case stepHelpNotif:
		d, err := permit.ParseDate(r.Update.Text)
		if err != nil {
			return true, r.Reply(ctx, p.T("rem.date.unreadable"), []Button{{Label: p.T("help.skip"), Data: "h:s"}}, b.helpCancelRow(p))
		}
		today := permit.DateOf(b.clock.Now(), b.cfg.Location)
		if d.After(today) || d.Before(today.AddDays(-366)) {
			return true, r.Reply(ctx, p.T("help.notified.bad"), []Button{{Label: p.T("help.skip"), Data: "h:s"}}, b.helpCancelRow(p))
		}
		r.setData(helpNotif, d.String())
		return true, b.helpNext(ctx, r)
	case stepHelpDesc:
		text := strings.TrimSpace(cleanLabel(r.Update.Text))
		if n := utf8.RuneCountInString(text); n > MaxDescription {
			return true, r.Reply(ctx, p.N("help.desc.long", MaxDescription), []Button{{Label: p.T("help.skip"), Data: "h:s"}}, b.helpCancelRow(p))
		}
		if looksLikeNumber(text) {
			return true, r.Reply(ctx, p.T("help.desc.number"), []Button{{Label: p.T("help.skip"), Data: "h:s"}}, b.helpCancelRow(p))
		}
		r.setData(helpDesc, text)
		r.setData(helpDescSet, "1")
		return true, b.helpNext(ctx, r)
	}
	return false, nil
}

// helpDraft builds the case the intake describes (not stored yet).
func (b *Bot) helpDraft(ctx context.Context, r *Request) (handoff.Case, error) {
	d := r.Session.Data
	pr := handoff.Problem(d[helpProblem])
	c := handoff.Case{
		Schema:       1,
		ResidentID:   r.Update.UserID,
		ResidentChat: r.Update.ChatID,
		Lang:         d[helpLang],
		Problem:      pr,
		Risks:        splitRisks(d[helpRisks]),
		Description:  d[helpDesc],
		Urgent:       pr.Urgent(),
		Sensitive:    pr.Sensitive(),
	}
	if dep := d[helpDep]; dep != "-" {
		c.Departement = dep
	}
	if id := d[helpDoc]; id != "" && id != "-" && b.remindersOn() {
		doc, err := b.docs.Document(ctx, r.Update.UserID, id)
		if err == nil {
			c.DocKind = string(doc.Kind)
			c.Expiry = doc.Expiry.String()
			if doc.Filed != nil {
				c.Filed = doc.Filed.String()
			}
			if doc.APIExpiry != nil {
				c.APIExpiry = doc.APIExpiry.String()
			}
		}
	}
	if e := d[helpExpiry]; e != "" && e != "-" {
		c.Expiry = e
	}
	if n := d[helpNotif]; n != "" && n != "-" && pr.Urgent() {
		c.Notified = n
	}
	if v := d[helpDepart]; pr == handoff.ProblemOQTF && handoff.ValidDeparture(v) {
		c.Departure = v
	}
	return c, nil
}

// route returns the partners that could take c, best first.
func (b *Bot) route(ctx context.Context, c handoff.Case, preferred string, skip []string) ([]*handoff.Partner, error) {
	var stateErr error
	state := func(id string) handoff.PartnerState {
		st := handoff.PartnerState{Unavailable: b.unavailable(id, c.Problem)}
		open, err := b.cases.OpenCases(ctx, id)
		if err != nil {
			stateErr = err
		}
		st.Open = len(open)
		if paused, err := b.cases.Paused(ctx, id); err != nil {
			stateErr = err
		} else {
			st.Paused = paused
		}
		return st
	}
	all := handoff.Route(handoff.RouteRequest{Departement: c.Departement, Lang: c.Lang, Problem: c.Problem, Preferred: preferred, Exclude: skip}, b.partners, state)
	if stateErr != nil {
		return nil, fmt.Errorf("partner state: %w", stateErr)
	}
	return all, nil
}

// helpAskConsent shows exactly what would be shared, with whom, in which
// languages and when it will likely be read, then asks for consent.
func (b *Bot) helpAskConsent(ctx context.Context, r *Request) error {
	p := r.P
	c, err := b.helpDraft(ctx, r)
	if err != nil {
		return err
	}
	cands, err := b.route(ctx, c, r.Profile.Partner, nil)
	if err != nil {
		return err
	}
	if len(cands) == 0 {
		r.ClearFlow()
		text := p.T("help.no_partner") + "\n\n" + p.T("guide.help.public")
		if pc := b.publicContacts(p, c.Departement); pc != "" {
			text += "\n\n" + pc
		}
		return r.Reply(ctx, text, []Button{{Label: p.T("menu.back"), Data: "menu"}})
	}
	partner := cands[0]
	r.SetFlow(flowHelp, stepHelpConsent)
	r.setData(helpPartner, partner.ID)
	var langs []string
	for _, l := range partner.Languages {
		if lang, ok := b.cat.Language(l); ok {
			langs = append(langs, lang.Native)
		} else {
			langs = append(langs, l)
		}
	}
	now := b.clock.Now()
	lines := []string{
		"<b>" + p.T("help.consent.title") + "</b>",
		"",
		p.T("help.consent.what"),
		b.caseSummary(p, c, 0),
		"",
		p.T("help.consent.who", "Partner", partner.Name),
		p.T("help.consent.langs", "Languages", strings.Join(langs, ", ")),
		b.whenRead(p, partner, now),
		p.T("help.consent.forward"),
		p.T("help.consent.never"),
	}
	if c.Urgent {
		if e := b.emergency(p, partner); e != "" {
			lines = append(lines, "", e)
		}
	}
	return r.Reply(ctx, strings.Join(lines, "\n"),
		[]Button{{Label: p.T("help.consent.yes"), Data: "h:y"}},
		[]Button{{Label: p.T("help.consent.no"), Data: "h:n"}})
}

// urgentContacts shows, for an urgent letter, the emergency contacts of
// the partner that would take the case (or of the fallback) as soon as the
// département is known: before the rest of the intake and whatever happens
// next.
func (b *Bot) urgentContacts(ctx context.Context, r *Request) error {
	if !handoff.Problem(r.Session.Data[helpProblem]).Urgent() {
		return nil
	}
	c, err := b.helpDraft(ctx, r)
	if err != nil {
		return err
	}
	c.Lang = r.Lang
	cands, err := b.route(ctx, c, r.Profile.Partner, nil)
	if err != nil {
		return err
	}
	var partner *handoff.Partner
	for _, p := range cands {
		if len(p.Emergency) > 0 {
			partner = p
			break
		}
	}
	if partner == nil {
		if fb, ok := b.partners.Fallback(); ok && len(fb.Emergency) > 0 {
			partner = fb
		}
	}
	if e := b.emergency(r.P, partner); e != "" {
		return r.Reply(ctx, e)
	}
	return nil
}

// whenRead says when the partner's volunteers will likely read a message
// sent now.
func (b *Bot) whenRead(p *catalog.Printer, partner *handoff.Partner, now time.Time) string {
	if partner.Hours.Open(now) {
		return p.T("help.when.open")
	}
	next := partner.Hours.NextOpening(now)
	if next.IsZero() {
		return p.T("help.when.unknown")
	}
	return p.T("help.when.next", "Date", HTML(b.longMoment(p, next)))
}

// longMoment writes a day and time unambiguously: "Monday 30 November 2026
// (30/11/2026), 09:00".
func (b *Bot) longMoment(p *catalog.Printer, t time.Time) string {
	t = t.In(b.cfg.Location)
	return p.T("date.moment", "Date", HTML(longDate(p, permit.DateOf(t, b.cfg.Location))), "Time", HTML(clockTime(p, t)))
}

// clockTime writes the time of day of t as the resident's language does
// ("9:30"; French "9 h 30", "9 h"). Hour and minute are digits, passed
// as they are so that the time is isolated as one unit in right-to-left
// text.
func clockTime(p *catalog.Printer, t time.Time) string {
	return p.T("date.time", "Hour", HTML(strconv.Itoa(t.Hour())), "Minute", HTML(fmt.Sprintf("%02d", t.Minute())))
}

// emergency lists the partner's emergency contacts for urgent cases.
func (b *Bot) emergency(p *catalog.Printer, partner *handoff.Partner) string {
	if partner == nil || len(partner.Emergency) == 0 {
		return ""
	}
	lines := []string{"<b>" + p.T("help.emergency") + "</b>"}
	for _, e := range partner.Emergency {
		line := "• " + p.T("text.label_value", "Label", e.Name, "Value", e.Phone)
		if e.Note != "" {
			line += " (" + catalog.Escape(e.Note) + ")"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// contact is a partner's public contact (permanence address, hours, phone,
// web site), one line, or "" when the partners file gives none.
func contact(p *catalog.Printer, partner *handoff.Partner) string {
	if partner == nil {
		return ""
	}
	c := partner.Contact
	var parts []string
	for _, f := range []struct{ icon, v string }{{"📍 ", c.Address}, {"🕐 ", c.Hours}, {"☎️ ", c.Phone}, {"🌐 ", c.URL}} {
		if f.v != "" {
			parts = append(parts, f.icon+p.Isolate(catalog.Escape(f.v)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "<b>" + catalog.Escape(partner.Name) + "</b>\n" + strings.Join(parts, "\n")
}

// publicContacts lists the public contacts of the partners that cover a
// département (all partners with a contact when it is unknown).
func (b *Bot) publicContacts(p *catalog.Printer, dep string) string {
	var out []string
	for _, partner := range b.partners.All() {
		if !partner.Active || dep != "" && !partner.Covers(dep) {
			continue
		}
		if c := contact(p, partner); c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, "\n\n")
}

// caseSummary is what volunteers see of a case, in p's language: a
// pseudonym and the intake's answers, never a name or username.
func (b *Bot) caseSummary(p *catalog.Printer, c handoff.Case, id int64) string {
	var lines []string
	if id > 0 {
		lines = append(lines, "<b>"+p.T("case.title", "Case", id)+"</b>")
	}
	dep := p.T("case.dep_unknown")
	if d, ok := handoff.LookupDepartement(c.Departement); ok && c.Departement != "" {
		dep = d.Code + " " + d.Name
	}
	lang := c.Lang
	if l, ok := b.cat.Language(c.Lang); ok {
		lang = l.Native
	}
	if p.Lang() == StaffLanguage && id > 0 {
		lang = languageName(c.Lang) // the team reads French names
	}
	problem := p.T("help.problem." + string(c.Problem))
	if id > 0 {
		problem = staffProblem(p, c.Problem)
	}
	lines = append(lines,
		p.T("case.problem", "Problem", HTML(problem)),
		p.T("case.dep", "Departement", dep),
		p.T("case.lang", "Language", lang),
	)
	if c.DocKind != "" {
		lines = append(lines, p.T("case.doc", "Kind", HTML(p.T("rem.kind."+c.DocKind))))
	}
	for _, f := range []struct{ id, v string }{{"case.expiry", c.Expiry}, {"case.filed", c.Filed}, {"case.api", c.APIExpiry}} {
		if d, err := permit.ParseDate(f.v); err == nil && f.v != "" {
			lines = append(lines, p.T(f.id, "Date", frDate(d)))
		}
	}
	if len(c.Risks) > 0 {
		var rs []string
		for _, k := range c.Risks {
			if id > 0 {
				rs = append(rs, p.T("case.risk."+string(k))) // said of the person
			} else {
				rs = append(rs, p.T("help.risk."+string(k)))
			}
		}
		lines = append(lines, p.T("case.risks", "Risks", strings.Join(rs, ", ")))
	}
	if c.Urgent {
		lines = append(lines, p.T("case.urgent"))
	}
	if id > 0 {
		lines = append(lines, b.deadlineLines(p, c)...)
		lines = append(lines, b.earlierLines(p, c)...)
	}
	if c.Description != "" {
		lines = append(lines, p.T("case.desc", "Text", c.Description))
	}
	return strings.Join(lines, "\n")
}

// helpConsent stores the case and sends it to the partner's volunteers.
func (b *Bot) helpConsent(ctx context.Context, r *Request) error {
	c, err := b.helpDraft(ctx, r)
	if err != nil {
		return err
	}
	partner := b.partner(r.Session.Data[helpPartner])
	if partner == nil {
		r.ClearFlow()
		return b.stale(ctx, r)
	}
	id, err := b.cases.NextCaseID(ctx)
	if err != nil {
		return fmt.Errorf("case id: %w", err)
	}
	now := b.clock.Now()
	c.ID, c.PartnerID, c.Status, c.Created, c.Routed = id, partner.ID, handoff.StatusWaiting, now, now
	if c.Earlier, err = b.earlier(ctx, c.ResidentID); err != nil {
		return err
	}
	ver, err := b.cases.CreateCase(ctx, c)
	if err != nil {
		return fmt.Errorf("create case: %w", err)
	}
	c.Version = ver
	r.ClearFlow()
	r.Profile.OpenCase = id
	r.profileDirty = true
	b.audit(ctx, c.ID, r.Update.UserID, "created", partner.ID)
	if err := b.postCard(ctx, &c, partner); err != nil {
		return err
	}
	if err := b.scheduleCase(ctx, c); err != nil {
		return err
	}
	b.log.Info("case_created", "case", c.ID, "partner", partner.ID, "urgent", c.Urgent)
	p := r.P
	lines := []string{p.T("help.sent", "Case", c.ID, "Partner", partner.Name), b.whenRead(p, partner, now), "", p.T("help.relay.how"), p.T("help.media.warning", "Partner", partner.Name)}
	if pc := contact(p, partner); pc != "" {
		lines = append(lines, "", pc)
	}
	if c.Urgent {
		if e := b.emergency(p, partner); e != "" {
			lines = append(lines, "", e)
		}
	}
	return b.residentReply(ctx, r.Update.ChatID, p, strings.Join(lines, "\n"))
}

// residentReply sends to a resident with the persistent "leave" keyboard
// of an open case.
func (b *Bot) residentReply(ctx context.Context, chat int64, p *catalog.Printer, text string) error {
	return b.send(ctx, laidOut(p, Reply{ChatID: chat, Text: text, Keyboard: [][]string{{p.T("help.leave")}}}))
}

func (b *Bot) leaveRow(p *catalog.Printer) []Button {
	return []Button{{Label: p.T("help.leave"), Data: "h:e"}}
}

// openCase returns the resident's open case, if any.
func (b *Bot) openCase(ctx context.Context, r *Request) (handoff.Case, bool, error) {
	if !b.handoffOn() || r.Profile.OpenCase == 0 {
		return handoff.Case{}, false, nil
	}
	c, err := b.cases.Case(ctx, r.Profile.OpenCase)
	if errors.Is(err, handoff.ErrNotFound) {
		r.Profile.OpenCase = 0
		r.profileDirty = true
		return handoff.Case{}, false, nil
	}
	if err != nil {
		return handoff.Case{}, false, fmt.Errorf("load case: %w", err)
	}
	if !c.Open() || c.ResidentID != r.Update.UserID {
		r.Profile.OpenCase = 0
		r.profileDirty = true
		return handoff.Case{}, false, nil
	}
	return c, true, nil
}

// helpEnd closes the resident's case from their side.
func (b *Bot) helpEnd(ctx context.Context, r *Request) error {
	c, ok, err := b.openCase(ctx, r)
	if err != nil {
		return err
	}
	if !ok {
		return b.send(ctx, Reply{ChatID: r.Update.ChatID, Text: r.P.T("help.none_open"), RemoveKeyboard: true})
	}
	if err := b.closeCase(ctx, c, r.Update.UserID, "closed_by_resident", ""); err != nil {
		return err
	}
	r.Profile.OpenCase = 0
	r.profileDirty = true
	return nil
}

func (b *Bot) partner(id string) *handoff.Partner {
	if b.partners == nil {
		return nil
	}
	p, _ := b.partners.Get(id)
	return p
}

func partnerName(p *handoff.Partner) string {
	if p == nil {
		return "?"
	}
	return p.Name
}

// audit records an event; a failure is logged, never shown.
func (b *Bot) audit(ctx context.Context, caseID, actor int64, action, detail string) {
	if err := b.cases.AddEvent(ctx, caseID, handoff.Event{At: b.clock.Now(), Actor: actor, Action: action, Detail: detail}); err != nil {
		b.log.Error("audit_failed", "case", caseID, "action", action, "err", err)
	}
}

//lint:ignore U1000 the case reference as volunteers write it ("#123"), unused for now
func caseRef(id int64) string { return "#" + strconv.FormatInt(id, 10) }

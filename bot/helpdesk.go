package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// Assigning, transferring and closing a case go by buttons, each
// confirmed: /assign offers the colleagues who are members of the case's
// group (never a bot), /transfer the partners that take the case with
// what they cover, /close the closing reasons. Every press goes through
// authorize again.

// commandAliases are the French names of the volunteers' commands.
var commandAliases = map[string]string{
	"fermer": "close", "attribuer": "assign", "transferer": "transfer", "liberer": "release", "repondre": "r", "etapes": "summary",
	"queue": "file", "mine": "mes", "template": "modele", "modeles": "modele", "case": "dossier",
}

// caseData is the callback data of a case button: hc:<code>:<case>[:<arg>].
func caseData(code string, c handoff.Case, arg string) string {
	d := "hc:" + code + ":" + strconv.FormatInt(c.ID, 10)
	if arg != "" {
		d += ":" + arg
	}
	return d
}

// cancelButton drops what a case button started.
func (b *Bot) cancelButton(c handoff.Case) Button {
	return Button{Label: b.staff().T("case.cancel_button"), Data: caseData("n", c, "")}
}

// colleague is someone a case may be assigned to.
type colleague struct {
	id   int64
	name string
}

// colleagues are the people a case may be assigned to: the partner's
// referents and coordinators and the volunteers who took, were assigned
// or answered one of its open cases, who are members of the group where
// the case's topic lives now (never a bot), but not who holds it.
func (b *Bot) colleagues(ctx context.Context, partner *handoff.Partner, c handoff.Case) ([]colleague, error) {
	aliases := map[int64]string{}
	ids := slices.Concat(partner.Referents, partner.Coordinators)
	open, err := b.cases.OpenCases(ctx, partner.ID)
	if err != nil {
		return nil, fmt.Errorf("open cases: %w", err)
	}
	for _, oc := range open {
		if oc.TakenBy != 0 {
			ids = append(ids, oc.TakenBy)
			aliases[oc.TakenBy] = oc.TakenAlias
		}
		evs, err := b.cases.Events(ctx, oc.ID)
		if err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		for _, e := range evs {
			if e.Actor != 0 && (e.Action == "taken" || e.Action == "sent" || e.Action == "released") {
				ids = append(ids, e.Actor)
			}
		}
	}
	room := partner.Room(c.Sensitive)
	var out []colleague
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] || id == c.TakenBy || len(out) >= 24 {
			continue
		}
		seen[id] = true
		m, in, err := b.member(ctx, room, id)
		if err != nil {
			return nil, err
		}
		if !in {
			continue
		}
		name := cleanLabel(m.FirstName)
		if name == "" {
			name = aliases[id]
		}
		if name == "" {
			continue
		}
		out = append(out, colleague{id, volunteerAlias(name)})
	}
	return out, nil
}

// assignStart answers /assign: in reply to a colleague's message, the
// confirmation for them; else the list of colleagues.
func (b *Bot) assignStart(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case) error {
	u := r.Update
	s := b.staff()
	if target, _, ok := assignTarget(u); ok {
		return b.assignConfirm(ctx, r, partner, c, target, false)
	}
	list, err := b.colleagues(ctx, partner, c)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: s.T("case.assign_usage")})
	}
	var rows [][]Button
	for i := 0; i < len(list); i += 3 {
		var row []Button
		for _, m := range list[i:min(i+3, len(list))] {
			row = append(row, Button{Label: m.name, Data: caseData("a", c, strconv.FormatInt(m.id, 10))})
		}
		rows = append(rows, row)
	}
	rows = append(rows, []Button{b.cancelButton(c)})
	return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: s.T("case.assign_choose", "Case", c.ID), Buttons: rows})
}

// assignConfirm asks to confirm the assignment to user id (edit: in the
// message of the pressed button).
func (b *Bot) assignConfirm(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case, id int64, edit bool) error {
	u := r.Update
	s := b.staff()
	m, in, err := b.member(ctx, partner.Room(c.Sensitive), id)
	if err != nil {
		return err
	}
	name := volunteerAlias(m.FirstName)
	if m.FirstName == "" {
		name = volunteerAlias(u.ReplyToFirstName)
	}
	if !in {
		b.log.Info("assign_refused", "case", c.ID, "user_id", id, "bot", m.IsBot)
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: s.T("case.assign_usage")})
	}
	rep := Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, Text: s.T("case.assign_confirm", "Case", c.ID, "Alias", name),
		Buttons: [][]Button{{{Label: s.T("case.confirm_button"), Data: caseData("A", c, strconv.FormatInt(id, 10))}, b.cancelButton(c)}}}
	if edit {
		rep.EditMessageID = u.MessageID
	} else {
		rep.ReplyToMessageID = u.MessageID
	}
	return b.send(ctx, rep)
}

// transferStart answers /transfer <note>: it keeps the note and lists the
// partners that take the case, with what they cover.
func (b *Bot) transferStart(ctx context.Context, r *Request, partner *handoff.Partner, c handoff.Case) error {
	u := r.Update
	s := b.staff()
	reply := func(text string, rows [][]Button) error {
		return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: text, Buttons: rows})
	}
	note := strings.TrimSpace(cleanText(u.Args))
	if note == "" {
		return reply(s.T("case.transfer_note_needed"), nil)
	}
	cands := b.transferTargets(partner, c)
	if len(cands) == 0 {
		return reply(s.T("case.transfer_none"), nil)
	}
	now := b.clock.Now()
	if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
		c.Handover = &handoff.Handover{From: partner.ID, Note: note, By: u.UserID, At: now}
		return true
	}); err != nil {
		return err
	}
	lines := []string{s.T("case.transfer_choose", "Case", c.ID)}
	var rows [][]Button
	for _, p := range cands {
		lines = append(lines, "• "+b.coverage(p, c))
		rows = append(rows, []Button{{Label: p.Name, Data: caseData("x", c, p.ID)}})
	}
	rows = append(rows, []Button{b.cancelButton(c)})
	return reply(strings.Join(lines, "\n"), rows)
}

// transferTargets are the partners a case may be transferred to.
func (b *Bot) transferTargets(from *handoff.Partner, c handoff.Case) []*handoff.Partner {
	var out []*handoff.Partner
	for _, p := range b.partners.All() {
		if p.ID == from.ID || !p.Active || !p.Takes(c.Problem) || b.unavailable(p.ID, c.Problem) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// coverage says what partner p covers, and where it does not fit case c.
func (b *Bot) coverage(p *handoff.Partner, c handoff.Case) string {
	s := b.staff()
	deps := strings.Join(p.Departements, ", ")
	if p.AllDepartements {
		deps = s.T("case.all_departements")
	}
	var langs []string
	for _, l := range p.Languages {
		langs = append(langs, languageName(l))
	}
	line := s.T("case.coverage", "Partner", p.Name, "Departements", deps, "Languages", strings.Join(langs, ", "))
	if c.Departement != "" && !p.Covers(c.Departement) {
		line += " " + s.T("case.outside_area", "Departement", c.Departement)
	}
	if !p.Speaks(c.Lang) {
		line += " " + s.T("case.no_language", "Language", languageName(c.Lang))
	}
	return line
}

// caseButton handles the buttons of assign, transfer and close (hc:<code>:<case>[:<arg>]).
func (b *Bot) caseButton(ctx context.Context, r *Request, partner *handoff.Partner, code, rest string) error {
	u := r.Update
	s := b.staff()
	idText, arg, _ := strings.Cut(rest, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return nil
	}
	c, err := b.cases.Case(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load case: %w", err)
	}
	act := map[string]action{"a": actAssign, "A": actAssign, "x": actTransfer, "y": actTransfer, "X": actTransfer, "c": actClose, "C": actClose, "n": actSummary, "m": actReply}[code]
	ok, refusal, err := b.authorize(ctx, partner, u.ChatID, &c, u.UserID, act)
	if err != nil || !ok {
		return b.refuse(ctx, r, c.ID, refusal, err)
	}
	edit := func(text string, rows [][]Button) error {
		return b.send(ctx, Reply{ChatID: u.ChatID, EditMessageID: u.MessageID, Text: text, Buttons: rows})
	}
	if !c.Open() || c.TopicID == 0 || b.topicChat(c) != u.ChatID {
		return edit(s.T("case.not_sent_closed"), nil)
	}
	switch code {
	case "m":
		if c.TopicID != u.ThreadID {
			return nil
		}
		return b.templateButton(ctx, r, partner, c, arg)
	case "n":
		if c.Handover != nil {
			if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool { c.Handover = nil; return true }); err != nil && !errors.Is(err, errGiveUp) {
				return err
			}
		}
		return edit(s.T("case.cancelled"), nil)
	case "a", "A":
		uid, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			return nil
		}
		if code == "a" {
			return b.assignConfirm(ctx, r, partner, c, uid, true)
		}
		m, _, err := b.member(ctx, partner.Room(c.Sensitive), uid)
		if err != nil {
			return err
		}
		done, err := b.assign(ctx, r, c, partner, uid, m.FirstName)
		if err != nil || !done {
			return err
		}
		return edit(s.T("case.assigned", "Alias", volunteerAlias(m.FirstName)), nil)
	case "x", "y", "X":
		return b.transferStep(ctx, r, partner, c, code, arg, edit)
	case "c":
		if !slices.Contains(handoff.CloseReasons, arg) {
			return nil
		}
		return edit(s.T("case.close_confirm", "Case", c.ID, "Reason", s.T("case.close_reason."+arg)),
			[][]Button{{{Label: s.T("case.close_button"), Data: caseData("C", c, arg)}, b.cancelButton(c)}})
	case "C":
		if !slices.Contains(handoff.CloseReasons, arg) {
			return nil
		}
		if err := edit(s.T("case.closed_why", "Reason", s.T("case.close_reason."+arg)), nil); err != nil {
			return err
		}
		return b.closeCase(ctx, c, u.UserID, "closed", arg)
	}
	return nil
}

// transferStep goes on with a transfer: the partner (x), the reason (y),
// then the confirmation (X).
func (b *Bot) transferStep(ctx context.Context, r *Request, from *handoff.Partner, c handoff.Case, code, arg string, edit func(string, [][]Button) error) error {
	s := b.staff()
	if c.Handover == nil {
		return edit(s.T("case.cancelled"), nil)
	}
	switch code {
	case "x":
		to := b.partner(arg)
		if to == nil || !slices.Contains(b.transferTargets(from, c), to) {
			return nil
		}
		if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
			if c.Handover == nil {
				return false
			}
			h := *c.Handover
			h.To = to.ID
			c.Handover = &h
			return true
		}); err != nil {
			return ignoreGiveUp(err)
		}
		var rows [][]Button
		for _, why := range handoff.TransferReasons {
			rows = append(rows, []Button{{Label: s.T("case.transfer_reason." + why), Data: caseData("y", c, why)}})
		}
		rows = append(rows, []Button{b.cancelButton(c)})
		return edit(s.T("case.transfer_why", "Case", c.ID, "Partner", to.Name), rows)
	case "y":
		if !slices.Contains(handoff.TransferReasons, arg) || c.Handover.To == "" {
			return nil
		}
		to := b.partner(c.Handover.To)
		if to == nil {
			return nil
		}
		if err := b.updateCase(ctx, &c, func(c *handoff.Case) bool {
			if c.Handover == nil {
				return false
			}
			h := *c.Handover
			h.Reason = arg
			c.Handover = &h
			return true
		}); err != nil {
			return ignoreGiveUp(err)
		}
		lines := []string{
			s.T("case.transfer_confirm", "Case", c.ID, "Partner", to.Name),
			s.T("case.handover_reason", "Reason", s.T("case.transfer_reason."+arg)),
			s.T("case.handover_note", "Note", c.Handover.Note),
		}
		if c.Departement != "" && !to.Covers(c.Departement) {
			lines = append(lines, s.T("case.transfer_outside", "Partner", to.Name, "Departement", c.Departement))
		}
		return edit(strings.Join(lines, "\n"), [][]Button{{{Label: s.T("case.confirm_button"), Data: caseData("X", c, "")}, b.cancelButton(c)}})
	case "X":
		h := *c.Handover
		to := b.partner(h.To)
		if to == nil || h.Reason == "" || !slices.Contains(b.transferTargets(from, c), to) {
			return edit(s.T("case.cancelled"), nil)
		}
		if err := edit(s.T("case.forwarded_to", "Partner", to.Name), nil); err != nil {
			return err
		}
		h.At = b.clock.Now()
		return b.forward(ctx, c, from, to, r.Update.UserID, "transferred", func(c *handoff.Case) {
			c.Handover = nil
			c.Handovers = append(slices.Clone(c.Handovers), h)
		})
	}
	return nil
}

func ignoreGiveUp(err error) error {
	if errors.Is(err, errGiveUp) {
		return nil
	}
	return err
}

// closeStart answers /close with the closing reasons.
func (b *Bot) closeStart(ctx context.Context, r *Request, c handoff.Case) error {
	u := r.Update
	s := b.staff()
	var rows [][]Button
	for _, why := range handoff.CloseReasons {
		rows = append(rows, []Button{{Label: s.T("case.close_reason." + why), Data: caseData("c", c, why)}})
	}
	rows = append(rows, []Button{b.cancelButton(c)})
	return b.send(ctx, Reply{ChatID: u.ChatID, ThreadID: u.ThreadID, ReplyToMessageID: u.MessageID, Text: s.T("case.close_choose", "Case", c.ID), Buttons: rows})
}

// handoverLines are what a transfer carried, for the receiving card and
// summary: from which partner and why, the note, and the steps done.
func (b *Bot) handoverLines(c handoff.Case) []string {
	s := b.staff()
	if len(c.Handovers) == 0 {
		if len(c.Tried) == 0 {
			return nil
		}
		return []string{s.T("case.forwarded_by", "Partner", partnerName(b.partner(c.Tried[len(c.Tried)-1])))}
	}
	h := c.Handovers[len(c.Handovers)-1]
	lines := []string{
		s.T("case.handover_from", "Partner", partnerName(b.partner(h.From))),
		s.T("case.handover_reason", "Reason", s.T("case.transfer_reason."+h.Reason)),
		s.T("case.handover_note", "Note", h.Note),
	}
	if c.Steps != "" {
		lines = append(lines, s.T("case.steps", "Steps", c.Steps))
	}
	return lines
}

// groupMenu lists the commands partner groups' "/" menu offers, in the
// order volunteers use them: what they need in a topic, the queue, then
// the coordinators' commands. Residents' commands are not in it.
var groupMenu = []string{"r", "modele", "etapes", "fermer", "liberer", "transferer", "attribuer", "file", "mes", "dossier", "stats", "export", "pause", "resume", "link"}

// GroupCommands is the command menu of partner groups, in French (the
// groups' language).
func (b *Bot) GroupCommands() []CommandInfo {
	s := b.staff()
	out := make([]CommandInfo, 0, len(groupMenu))
	for _, name := range groupMenu {
		out = append(out, CommandInfo{Name: name, Description: s.T("menu.group." + name)})
	}
	return out
}

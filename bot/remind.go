package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/permit"
	"github.com/passerelle-bot/passerelle/internal/reminder"
)

// DefaultReminderHour is the local hour reminders are sent at.
const DefaultReminderHour = 10

// remindersOn reports whether tracked documents and reminders are enabled.
func (b *Bot) remindersOn() bool { return b.docs != nil && b.rem != nil }

// nextDue returns when doc's next reminder should be sent after now, or the
// zero time when nothing is left. With skipToday, milestones dated today
// are left out: the reply that saved the document already told them.
func (b *Bot) nextDue(doc Document, now time.Time, skipToday bool) time.Time {
	return NextDue(doc, now, b.cfg.ReminderHour, b.cfg.Location, skipToday)
}

// NextDue returns when doc's next reminder should be sent after now, at
// hour in loc, or the zero time when nothing is left or doc is stopped.
// With skipToday, milestones dated today (in loc) are left out.
func NextDue(doc Document, now time.Time, hour int, loc *time.Location, skipToday bool) time.Time {
	if doc.Stopped {
		return time.Time{}
	}
	today := permit.DateOf(now, loc)
	for _, m := range permit.Schedule(doc.Permit(), doc.Since) {
		if skipToday && !m.Date.After(today) {
			continue
		}
		if t := m.At(hour, loc); t.After(now) {
			return t
		}
	}
	return time.Time{}
}

// saveDocument stores doc and puts its reminder entry in the schedule. The
// entry is written first: an entry whose document is missing is dropped by
// Notify, while a document without its entry would never remind.
func (b *Bot) saveDocument(ctx context.Context, doc Document) (next time.Time, err error) {
	doc.Schema = SchemaVersion
	id := ReminderID(doc.UserID, doc.ID)
	next = b.nextDue(doc, b.clock.Now(), true)
	if !next.IsZero() {
		if err := b.rem.Schedule(ctx, id, next); err != nil {
			return time.Time{}, fmt.Errorf("schedule reminder: %w", err)
		}
	}
	if err := b.docs.PutDocument(ctx, doc); err != nil {
		return time.Time{}, fmt.Errorf("save document: %w", err)
	}
	if next.IsZero() {
		if err := b.rem.Cancel(ctx, id); err != nil {
			return time.Time{}, fmt.Errorf("cancel reminder: %w", err)
		}
	}
	return next, nil
}

// deleteDocument removes doc's reminder entry, then doc: a failure in
// between leaves a document that a retry (or Forget) still finds.
func (b *Bot) deleteDocument(ctx context.Context, userID int64, docID string) error {
	if err := b.rem.Cancel(ctx, ReminderID(userID, docID)); err != nil {
		return fmt.Errorf("cancel reminder: %w", err)
	}
	if err := b.docs.DeleteDocument(ctx, userID, docID); err != nil {
		return fmt.Errorf("delete document: %w", err)
	}
	return nil
}

// resumeReminders puts back in the schedule the reminders of a resident who
// unblocked the bot (Notify dropped them while the bot was blocked).
func (b *Bot) resumeReminders(ctx context.Context, userID int64) error {
	if !b.remindersOn() {
		return nil
	}
	docs, err := b.docs.Documents(ctx, userID)
	if err != nil {
		return fmt.Errorf("load documents: %w", err)
	}
	now := b.clock.Now()
	for _, d := range docs {
		if next := b.nextDue(d, now, false); !next.IsZero() {
			if err := b.rem.Schedule(ctx, ReminderID(userID, d.ID), next); err != nil {
				return fmt.Errorf("schedule reminder: %w", err)
			}
		}
	}
	b.log.Info("reminders_resumed", "user_id", userID, "documents", len(docs))
	return nil
}

// Notify sends the reminder of a claimed schedule entry on the bulk lane
// and returns when the next one is due (zero: the entry is removed). It
// implements reminder.Notifier.
//
// The milestones due between the claim's time and now are collapsed into
// the latest day's, so a dispatcher that was stopped for a while sends one
// current reminder rather than a backlog. A missing or stopped document, or
// a resident who blocked the bot, ends the entry: unblocking resumes it.
func (b *Bot) Notify(ctx context.Context, c reminder.Claim) (time.Time, error) {
	if c.ID == sweepID {
		return b.sweepInactive(ctx)
	}
	if rest, ok := strings.CutPrefix(c.ID, "d:"); ok {
		return b.digest(ctx, rest)
	}
	if rest, ok := strings.CutPrefix(c.ID, "c:"); ok {
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || !b.handoffOn() {
			b.log.Warn("reminder_bad_id", "id", c.ID)
			return time.Time{}, nil
		}
		return b.caseTimer(ctx, id)
	}
	userID, docID, ok := ParseReminderID(c.ID)
	if !ok {
		b.log.Warn("reminder_bad_id", "id", c.ID)
		return time.Time{}, nil
	}
	doc, err := b.docs.Document(ctx, userID, docID)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("load document: %w", err)
	}
	if doc.Stopped {
		return time.Time{}, nil
	}
	prof, err := b.store.Profile(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("load profile: %w", err)
	}
	if prof.Blocked {
		b.log.Info("reminders_paused", "user_id", userID, "doc", docID)
		return time.Time{}, nil
	}
	now := b.clock.Now()
	due := dueMilestones(permit.Schedule(doc.Permit(), doc.Since), c.Due, now, b.cfg.ReminderHour, b.cfg.Location)
	if len(due) > 0 {
		lang := prof.Lang
		if !b.cat.Has(lang) {
			lang = catalog.Reference
		}
		p := b.cat.Printer(lang)
		text, rows := b.reminderMessage(p, doc, due)
		_, err := b.sender.Send(ctx, laidOut(p, Reply{ChatID: doc.ChatID, Text: text, Buttons: rows, Lane: LaneBulk}))
		switch {
		case errors.Is(err, ErrBlocked):
			b.log.Info("reminders_paused", "user_id", userID, "doc", docID)
			if err := b.markBlocked(ctx, userID, true); err != nil {
				return time.Time{}, err
			}
			return time.Time{}, nil
		case err != nil:
			return time.Time{}, fmt.Errorf("send reminder: %w", err)
		}
		b.log.Info("reminder_sent", "user_id", userID, "doc", docID, "milestone", string(due[0].Kind))
	}
	return b.nextDue(doc, now, false), nil
}

// dueMilestones returns the milestones of ms sent between from and now
// (inclusive) that fall on the latest such day.
func dueMilestones(ms []permit.Milestone, from, now time.Time, hour int, loc *time.Location) []permit.Milestone {
	var out []permit.Milestone
	for _, m := range ms {
		t := m.At(hour, loc)
		if t.Before(from) || t.After(now) {
			continue
		}
		if len(out) > 0 && m.Date.After(out[0].Date) {
			out = out[:0]
		}
		out = append(out, m)
	}
	return out
}

// reminderMessage renders milestones of one day for doc. The first line is
// neutral: a notification preview on a shared phone must not reveal
// anything about residence status.
func (b *Bot) reminderMessage(p *catalog.Printer, doc Document, ms []permit.Milestone) (string, [][]Button) {
	parts := []string{p.T("rem.msg.neutral"), "<b>" + b.docTitle(p, doc) + "</b>"}
	help := false
	tags := map[string]bool{}
	var sources []string
	for _, m := range ms {
		parts = append(parts, b.milestoneText(p, doc, m))
		switch m.Kind {
		case permit.MilestoneEscalate, permit.MilestoneExpired, permit.MilestoneImplicitRejection,
			permit.MilestoneAPIExpiry, permit.MilestoneVLSTSDeadline:
			help = true
		case permit.MilestoneExpiry:
			help = doc.Filed == nil || doc.APIExpiry == nil
		}
		for _, s := range m.Sources {
			if !tags[s] {
				tags[s] = true
				sources = append(sources, s)
			}
		}
	}
	if help {
		parts = append(parts, p.T("guide.help.public"))
	}
	if line := b.sourceLine(p, sources); line != "" {
		parts = append(parts, line)
	}
	rows := b.reminderButtons(p, doc)
	if help && b.handoffOn() {
		rows = append([][]Button{{{Label: p.T("guide.help_button"), Data: "h"}}}, rows...)
	}
	return strings.Join(parts, "\n\n"), rows
}

// reminderButtons are the actions under a reminder.
func (b *Bot) reminderButtons(p *catalog.Printer, doc Document) [][]Button {
	id := doc.ID
	var first []Button
	switch {
	case filable(doc.Kind) && doc.Filed == nil:
		first = []Button{{Label: p.T("rem.btn.filed"), Data: "r:f:" + id}, {Label: p.T("rem.btn.notyet"), Data: "r:ny:" + id}}
	case filable(doc.Kind):
		first = []Button{{Label: p.T("rem.btn.got_api"), Data: "r:ap:" + id}}
	default:
		first = []Button{{Label: p.T("rem.btn.new_date"), Data: "r:e:" + id}}
	}
	return [][]Button{
		first,
		{{Label: p.T("rem.btn.stuck"), Data: "r:sk:" + id}, {Label: p.T("rem.btn.stop"), Data: "r:s:" + id}},
	}
}

// filable reports whether a request is filed to replace a document of kind
// k, so that "I have filed" makes sense.
func filable(k permit.Kind) bool {
	switch k {
	case permit.KindAPI, permit.KindPassport, permit.KindDomiciliation:
		return false
	}
	return true
}

// milestoneText explains one milestone: what is due and by when.
func (b *Bot) milestoneText(p *catalog.Printer, doc Document, m permit.Milestone) string {
	exp := doc.Expiry
	ch := permit.NextChannel(doc.Kind, doc.Mention)
	w := permit.RenewalWindow(exp, ch)
	args := []any{
		"Kind", HTML(p.T("rem.kind." + string(doc.Kind))),
		"Expiry", frDate(exp),
		"Opens", frDate(w.Opens),
		"Closes", frDate(w.Closes),
		"Date", frDate(m.Date),
	}
	if doc.Filed != nil {
		args = append(args, "Filed", frDate(*doc.Filed))
	}
	if doc.APIExpiry != nil {
		args = append(args, "APIExpiry", frDate(*doc.APIExpiry))
	}
	if doc.Arrival != nil {
		args = append(args, "Deadline", frDate(permit.VLSTSDeadline(*doc.Arrival)))
	}
	return p.T(milestoneMessage(doc, ch, m.Kind), args...)
}

// HTML marks text that is already escaped Telegram HTML.
type HTML = catalog.HTML

// milestoneMessage picks the catalog id for milestone kind k of doc.
func milestoneMessage(doc Document, ch permit.Channel, k permit.MilestoneKind) string {
	temp := doc.Kind == permit.KindRecepisse || doc.Kind == permit.KindAPS
	switch k {
	case permit.MilestonePrepareExam:
		if doc.Mention == permit.MentionProtection || doc.Mention == permit.MentionApatride {
			// OFPRA-protected people need no civic exam for these cards
			// (official-sources.md row 29).
			return "rem.ms.prepare_exam_protected"
		}
	case permit.MilestonePrepare:
		if doc.Kind == permit.KindRLDUE {
			return "rem.ms.prepare_rld"
		}
	case permit.MilestoneWindowOpens:
		if ch == permit.Prefecture {
			return "rem.ms.window_opens_prefecture"
		}
	case permit.MilestoneReminder:
		switch {
		case doc.Kind == permit.KindPassport || doc.Kind == permit.KindDomiciliation:
			return "rem.ms.reminder_doc"
		case doc.Kind == permit.KindAPS:
			return "rem.ms.reminder_aps"
		case temp:
			return "rem.ms.reminder_temp"
		case doc.Kind == permit.KindRLDUE:
			return "rem.ms.reminder_rld"
		}
		return "rem.ms.reminder_prefecture"
	case permit.MilestoneExpiry:
		switch {
		case temp:
			return "rem.ms.expiry_temp"
		case doc.Filed != nil:
			return "rem.ms.expiry_filed"
		}
	}
	return "rem.ms." + string(k)
}

// sourceLine cites the sources of a reminder by their official title (in
// French, as the guide shows them) and date.
func (b *Bot) sourceLine(p *catalog.Printer, tags []string) string {
	if b.guide == nil || len(tags) == 0 {
		return ""
	}
	var out []string
	for _, tag := range tags {
		if s, ok := b.guide.Source(tag); ok {
			line := p.Isolate(catalog.Escape(s.Title))
			if d := sourceDate(s.Date); d != "" {
				line += " (" + p.Isolate(d) + ")"
			}
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "<i>" + p.T("rem.msg.sources") + " " + strings.Join(out, "; ") + "</i>"
}

// docTitle names a document and whose it is: "Carte de séjour temporaire –
// my son".
func (b *Bot) docTitle(p *catalog.Printer, doc Document) string {
	kind := p.T("rem.kind." + string(doc.Kind))
	switch {
	case doc.Holder == HolderMe || doc.Holder == "":
		return p.T("rem.title.me", "Kind", HTML(kind))
	case doc.Label != "":
		return p.T("rem.title.label", "Kind", HTML(kind), "Label", doc.Label)
	case doc.Holder == HolderChild:
		return p.T("rem.title.child", "Kind", HTML(kind))
	}
	return p.T("rem.title.other", "Kind", HTML(kind))
}

// longDate writes d unambiguously in the resident's language: weekday, day,
// month name and year, then the DD/MM/YYYY form printed on documents.
func longDate(p *catalog.Printer, d permit.Date) string {
	wd := int(d.At(12, time.UTC).Weekday())
	return p.T("date.long",
		"Weekday", HTML(p.T("date.weekday."+strconv.Itoa(wd))),
		"Day", strconv.Itoa(d.Day),
		"Month", HTML(p.T("date.month_of."+strconv.Itoa(int(d.Month)))),
		"Year", strconv.Itoa(d.Year),
		"Short", frDate(d))
}

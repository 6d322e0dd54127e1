package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/ical"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// CalendarFile is the name of the .ics file "Add to my calendar" sends.
const CalendarFile = "passerelle.ics"

// remCalendar sends the resident's deadlines as an iCalendar file: one
// all-day event per milestone still ahead (today included) of every
// followed document, each with an alarm at the reminder hour. The titles
// are neutral (a shared phone shows them); the descriptions say what the
// reminder would say, in the resident's language.
func (b *Bot) remCalendar(ctx context.Context, r *Request) error {
	p := r.P
	docs, err := b.docs.Documents(ctx, r.Update.UserID)
	if err != nil {
		return fmt.Errorf("load documents: %w", err)
	}
	cal := b.Calendar(p, docs)
	back := []Button{{Label: p.T("rem.btn.list"), Data: "r"}, {Label: p.T("menu.back"), Data: "menu"}}
	if len(cal.Events) == 0 {
		return r.Reply(ctx, p.T("cal.empty"), back)
	}
	b.log.Info("calendar_sent", "user_id", r.Update.UserID, "events", len(cal.Events))
	return b.send(ctx, Reply{
		ChatID: r.Update.ChatID, Text: p.T("cal.caption"), Buttons: [][]Button{back},
		File: &File{Name: CalendarFile, Type: "text/calendar; charset=utf-8", Data: cal.Bytes()},
	})
}

// Calendar builds the calendar of docs in p's language. Stopped documents
// have no events, as they have no reminders.
func (b *Bot) Calendar(p *catalog.Printer, docs []Document) ical.Calendar {
	now := b.clock.Now()
	today := permit.DateOf(now, b.cfg.Location)
	cal := ical.Calendar{ProdID: "-//Passerelle//Passerelle//" + strings.ToUpper(p.Lang()), Name: "Passerelle", Stamp: now}
	title := plainText(p.T("cal.event.title"))
	for _, d := range docs {
		if d.Stopped {
			continue
		}
		for _, m := range permit.Schedule(d.Permit(), d.Since) {
			if m.Date.Before(today) {
				continue
			}
			desc := plainText(b.docTitle(p, d)) + "\n\n" + plainText(b.milestoneText(p, d, m))
			cal.Events = append(cal.Events, ical.Event{
				UID:         eventUID(d, m),
				Date:        time.Date(m.Date.Year, m.Date.Month, m.Date.Day, 0, 0, 0, 0, time.UTC),
				Summary:     title,
				Description: desc,
				Alarm:       time.Duration(b.cfg.ReminderHour) * time.Hour,
			})
		}
	}
	return cal
}

// eventUID is stable for a milestone of a document, so that importing the
// file again updates the events instead of doubling them, and says nothing
// readable about the resident.
func eventUID(d Document, m permit.Milestone) string {
	h := sha256.Sum256([]byte(strconv.FormatInt(d.UserID, 10) + "/" + d.ID + "/" + string(m.Kind) + "/" + m.Date.String()))
	return hex.EncodeToString(h[:12]) + "@passerelle"
}

// plainText turns Telegram HTML into plain text.
func plainText(s string) string {
	return html.UnescapeString(tagRE.ReplaceAllString(s, ""))
}

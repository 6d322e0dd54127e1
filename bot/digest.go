package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// The daily digest: at each partner's first opening of the day, its group
// gets the cases waiting, the overdue ones and the deadlines of the day,
// if there is any. One schedule entry per partner ("d:<partner>").

func digestID(partnerID string) string { return "d:" + partnerID }

// firstOpeningAfter is the start of the first opening interval of a day,
// strictly after now, on a day the partner is open (closures skipped).
func firstOpeningAfter(h *handoff.Hours, now time.Time) time.Time {
	loc := h.Location()
	day := now.In(loc)
	for i := 0; i < 400; i++ {
		d := time.Date(day.Year(), day.Month(), day.Day()+i, 0, 0, 0, 0, loc)
		ivs := h.Day(d.Weekday())
		for _, iv := range ivs {
			start := d.Add(time.Duration(iv.Start) * time.Minute)
			if start.After(now) && h.Open(start) {
				return start
			}
			break // only the day's first interval counts
		}
	}
	return time.Time{}
}

// scheduleDigests makes sure every partner's digest is scheduled.
func (b *Bot) scheduleDigests(ctx context.Context) error {
	if b.rem == nil || !b.handoffOn() {
		return nil
	}
	now := b.clock.Now()
	for _, p := range b.partners.All() {
		if _, ok, err := b.rem.Get(ctx, digestID(p.ID)); err != nil || ok {
			if err != nil {
				return fmt.Errorf("digest schedule: %w", err)
			}
			continue
		}
		if next := firstOpeningAfter(p.Hours, now); !next.IsZero() {
			if err := b.rem.Schedule(ctx, digestID(p.ID), next); err != nil {
				return fmt.Errorf("digest schedule: %w", err)
			}
		}
	}
	return nil
}

// digest posts the partner's digest in its General thread (nothing when
// nothing waits, is late or falls due today) and returns the next one.
func (b *Bot) digest(ctx context.Context, partnerID string) (time.Time, error) {
	partner := b.partner(partnerID)
	if partner == nil || !b.handoffOn() {
		return time.Time{}, nil
	}
	now := b.clock.Now()
	next := firstOpeningAfter(partner.Hours, now)
	open, err := b.cases.OpenCases(ctx, partner.ID)
	if err != nil {
		return time.Time{}, fmt.Errorf("open cases: %w", err)
	}
	s := b.staff()
	today := permit.DateOf(now, b.cfg.Location)
	var waiting, late, due []string
	for _, c := range open {
		line := b.queueLine(c, partner, partner.ChatID, now)
		if c.Status == handoff.StatusWaiting {
			waiting = append(waiting, line)
		}
		if overdue(c, partner, now) {
			late = append(late, line)
		}
		if limit, ok := safeLimit(c); ok && !limit.After(today) {
			due = append(due, line)
		}
	}
	if len(waiting)+len(late)+len(due) == 0 {
		return next, nil
	}
	lines := []string{"<b>" + s.T("case.digest_title", "Partner", partner.Name) + "</b>"}
	for _, part := range []struct {
		id    string
		lines []string
	}{{"case.queue_waiting_n", waiting}, {"case.queue_overdue_n", late}, {"case.digest_due_n", due}} {
		if len(part.lines) > 0 {
			lines = append(lines, "", s.N(part.id, len(part.lines)))
			lines = append(lines, part.lines...)
		}
	}
	if err := b.send(ctx, Reply{ChatID: partner.ChatID, Text: strings.Join(lines, "\n"), Lane: LaneBulk}); err != nil {
		return time.Time{}, err
	}
	return next, nil
}

package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/passerelle-bot/passerelle/internal/catalog"
	"github.com/passerelle-bot/passerelle/internal/permit"
)

// Storage limitation: a resident who follows no document, has no open
// case and sent no message for Config.InactiveMonths is told once, 30
// days ahead, in their language, then forgotten as /forget does. A sweep
// of every profile runs once a day as an entry of the reminder schedule
// (so one instance runs it, under a lease, outside quiet hours); each run
// acts on at most sweepBatch residents and comes back a minute later when
// more are due.

// DefaultInactiveMonths is how long a resident with nothing followed stays
// stored without writing.
const DefaultInactiveMonths = 24

// inactiveNotice is how long before the deletion the resident is told.
const inactiveNotice = 30 * 24 * time.Hour

// sweepID is the schedule entry of the daily sweep. It starts with no
// digit, so it is no resident's (ReminderID) and no case's.
const sweepID = "sweep:inactive"

// sweepBatch bounds the residents one run of the sweep tells or forgets.
const sweepBatch = 100

// StartSweeps puts the daily sweep in the reminder schedule, unless it is
// there already (another instance, an earlier start), and each partner's
// daily digest (digest.go). Without reminders there is no schedule, and
// no sweep.
func (b *Bot) StartSweeps(ctx context.Context) error {
	if b.rem == nil {
		return nil
	}
	if err := b.scheduleDigests(ctx); err != nil {
		return err
	}
	if _, ok, err := b.rem.Get(ctx, sweepID); err != nil || ok {
		return err
	}
	return b.rem.Schedule(ctx, sweepID, b.clock.Now())
}

// inactiveDates returns when an inactive resident is told and forgotten:
// InactiveMonths after their last message (or their first contact), and
// not sooner than inactiveNotice after they were told.
func (b *Bot) inactiveDates(p Profile) (warn, erase time.Time) {
	since := p.LastSeen
	if since.IsZero() {
		since = p.Created
	}
	erase = since.AddDate(0, b.cfg.InactiveMonths, 0)
	if b.warnedSinceSeen(p) {
		erase = later(erase, p.Warned.Add(inactiveNotice))
	}
	return erase.Add(-inactiveNotice), erase
}

func (b *Bot) warnedSinceSeen(p Profile) bool {
	return !p.Warned.IsZero() && p.Warned.After(p.LastSeen)
}

func later(a, c time.Time) time.Time {
	if a.After(c) {
		return a
	}
	return c
}

// sweepInactive runs the sweep and returns when it runs next.
func (b *Bot) sweepInactive(ctx context.Context) (time.Time, error) {
	now := b.clock.Now()
	done := 0
	err := b.store.Profiles(ctx, func(p Profile) error {
		if done >= sweepBatch {
			return errSweepFull
		}
		acted, err := b.sweepOne(ctx, p, now)
		if acted {
			done++
		}
		return err
	})
	switch {
	case errors.Is(err, errSweepFull):
		return now.Add(time.Minute), nil
	case err != nil:
		return time.Time{}, fmt.Errorf("inactive sweep: %w", err)
	}
	// Tomorrow at the reminders' hour.
	next := permit.DateOf(now, b.cfg.Location).AddDays(1).At(b.cfg.ReminderHour, b.cfg.Location)
	return next, nil
}

var errSweepFull = errors.New("bot: sweep batch full")

// sweepOne tells or forgets one resident when it is time; acted reports
// whether it did either.
func (b *Bot) sweepOne(ctx context.Context, p Profile, now time.Time) (acted bool, err error) {
	warn, erase := b.inactiveDates(p)
	if now.Before(warn) || p.OpenCase != 0 {
		return false, nil
	}
	if b.remindersOn() {
		docs, err := b.docs.Documents(ctx, p.UserID)
		if err != nil {
			return false, fmt.Errorf("documents of %d: %w", p.UserID, err)
		}
		if len(docs) > 0 {
			return false, nil
		}
	}
	if !b.warnedSinceSeen(p) {
		return true, b.warnInactive(ctx, p, now, erase)
	}
	if now.Before(erase) {
		return false, nil
	}
	if err := b.forgetResident(ctx, p.UserID); err != nil {
		return true, err
	}
	b.log.Info("resident_forgotten_inactive", "user_id", p.UserID)
	return true, nil
}

// warnInactive tells the resident, in their language, the day everything
// about them will be deleted, and records that they were told (also when
// they cannot be reached: they blocked the bot).
func (b *Bot) warnInactive(ctx context.Context, p Profile, now, erase time.Time) error {
	lang := p.Lang
	if !b.cat.Has(lang) {
		lang = catalog.Reference
	}
	pr := b.cat.Printer(lang)
	if !p.Blocked {
		// The deletion comes at least inactiveNotice after this message.
		erase = later(erase, now.Add(inactiveNotice))
		text := pr.T("privacy.inactive_warning", "Date", HTML(longDate(pr, permit.DateOf(erase, b.cfg.Location))))
		_, err := b.sender.Send(ctx, Reply{ChatID: p.ChatID, Text: text, Lane: LaneBulk})
		switch {
		case errors.Is(err, ErrBlocked):
			p.Blocked = true
		case err != nil:
			return fmt.Errorf("warn %d: %w", p.UserID, err)
		}
	}
	p.Warned = now
	if err := b.store.PutProfile(ctx, p); err != nil {
		return fmt.Errorf("warn %d: save profile: %w", p.UserID, err)
	}
	b.log.Info("resident_warned_inactive", "user_id", p.UserID)
	return nil
}

// forgetResident deletes everything about a resident: their cases and
// what they left in partner groups, then, in the store, their data key
// first and everything else.
func (b *Bot) forgetResident(ctx context.Context, userID int64) error {
	if err := b.forgetCases(ctx, userID); err != nil {
		return fmt.Errorf("forget cases: %w", err)
	}
	if err := b.store.Forget(ctx, userID); err != nil {
		return fmt.Errorf("forget: %w", err)
	}
	return nil
}

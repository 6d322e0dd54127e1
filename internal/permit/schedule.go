package permit

import (
	"slices"
	"time"
)

// MilestoneKind says what a [Milestone] reminds of; the bot picks its message
// from it. The values are short, stable strings for storage.
type MilestoneKind string

// The milestone kinds. "D-n" is the expiry date minus n calendar days.
const (
	// MilestonePrepareExam: the next card is a first multi-year card or a
	// first carte de résident; since 1 Jan 2026 it needs French level A2
	// (CSP) or B1 (carte de résident) and a civic exam passed BEFORE filing
	// [S68][S80][S82][S83].
	MilestonePrepareExam MilestoneKind = "prepare_exam"
	// MilestonePrepare: gather the documents (passport, proof of address,
	// photos…) before the window opens.
	MilestonePrepare MilestoneKind = "prepare"
	// MilestoneWindowOpens: the first day to file (R.431-5 1°) [S85][S86].
	MilestoneWindowOpens MilestoneKind = "window_opens"
	// MilestoneReminderD90: the D-90 reminder.
	MilestoneReminderD90 MilestoneKind = "reminder_d90"
	// MilestoneReminder: any other plain reminder (préfecture cadence,
	// RLD-UE, passport, domiciliation, récépissé, APS).
	MilestoneReminder MilestoneKind = "reminder"
	// MilestoneLastCall: D-65, the last call before the ANEF window closes.
	MilestoneLastCall MilestoneKind = "last_call"
	// MilestoneWindowCloses: D-60, the last day of the ANEF window.
	MilestoneWindowCloses MilestoneKind = "window_closes"
	// MilestoneLate: the window has closed. Filing is still possible but on
	// ANEF there is no automatic right to an API [S89][S87] and the
	// [LateFeeEUR] fee may be due [S90]. Say it cautiously.
	MilestoneLate MilestoneKind = "late"
	// MilestoneCheck: D-7 for someone who has not said they filed: ask
	// whether they did, and if so whether an API arrived.
	MilestoneCheck MilestoneKind = "check"
	// MilestoneCheckAPI: D-7 after filing, no API known: check the ANEF
	// account for an API (for a préfecture request, the récépissé) [S92].
	MilestoneCheckAPI MilestoneKind = "check_api"
	// MilestoneExpiry: the last day printed on the document.
	MilestoneExpiry MilestoneKind = "expiry"
	// MilestoneExpired: the document had already expired when it was
	// registered (told at once, on the registration date).
	MilestoneExpired MilestoneKind = "expired"
	// MilestoneEscalate: a request was filed but nothing proves regular stay
	// (no API on the expiry date): hand over to an association (anef.md
	// §5) [S92].
	MilestoneEscalate MilestoneKind = "escalate"
	// MilestoneGraceEnds: the last day of L.433-3's 3-month cover, for the
	// cards it surely covers (see [GraceApplies]) [S103][S87].
	MilestoneGraceEnds MilestoneKind = "grace_ends"
	// MilestoneAPIRenew: an API (or the document held) expires soon; ask
	// for the next one [S92].
	MilestoneAPIRenew MilestoneKind = "api_renew"
	// MilestoneAPIExpiry: the API expires today [S92].
	MilestoneAPIExpiry MilestoneKind = "api_expiry"
	// MilestoneImplicitRejection: 4 months after filing, silence becomes an
	// implicit rejection, even with APIs or récépissés [S105][S111]. An
	// escalation trigger (anef.md §3.5).
	MilestoneImplicitRejection MilestoneKind = "implicit_rejection"
	// MilestoneVLSTSValidate: validate the VLS-TS online (on arrival, +60
	// and +80 days) [S27][S29][S31].
	MilestoneVLSTSValidate MilestoneKind = "vlsts_validate"
	// MilestoneVLSTSDeadline: the last day to validate the VLS-TS
	// ([VLSTSDeadline]) [S27][S29][S31].
	MilestoneVLSTSDeadline MilestoneKind = "vlsts_deadline"
)

// Milestone is one reminder: what, on which day, and the tags of the
// sources it comes from (internal/guide/sources.yaml, for example
// "ceseda-r431-5").
type Milestone struct {
	Kind    MilestoneKind
	Date    Date
	Sources []string
}

// At returns the moment the milestone should be sent: hour:00 in loc on its
// date (see [Date.At]), so it follows loc's daylight-saving rules.
func (m Milestone) At(hour int, loc *time.Location) time.Time {
	return m.Date.At(hour, loc)
}

// Document is a document the bot follows for a resident.
type Document struct {
	Kind Kind
	// Mention is the mention of the next titre, used by [NextChannel].
	Mention Mention
	// Expiry is the last day printed on the document; the zero Date means
	// unknown (then no expiry-based milestone is scheduled).
	Expiry Date
	// Filed is the filing date when the resident said "I have filed".
	Filed *Date
	// APIExpiry is the expiry printed on the API (or récépissé) received
	// for the filed request, if any.
	APIExpiry *Date
	// Arrival is the arrival date in France of a VLS-TS holder who has not
	// validated it yet.
	Arrival *Date
	// FirstMultiYear: the next card is a first multi-year card or a first
	// carte de résident.
	FirstMultiYear bool
}

// Schedule returns the milestones of d in date order (milestones on the same
// day keep the order below), leaving out those before registered, the day
// the resident registered the document (or the day the schedule is rebuilt).
// D-n is d.Expiry.AddDays(-n). The anef.md §3.7 schedule is a suggestion
// derived from the rules, not an official rule.
//
// Titres (CST, CSP, CSP4, carte de résident, RLD-UE, CRA, VLS-TS), by
// [NextChannel]:
//
//   - ANEF or Unknown: D-150 prepare, D-120 window_opens, D-90 reminder_d90,
//     D-65 last_call, D-60 window_closes, D-59 late, D-7 check, D0 expiry
//     [S85][S86][S89][S87]. Unknown uses this earliest window.
//   - Prefecture: D-75 prepare, window_opens on expiry minus 2 months (as
//     [RenewalWindow]), then a reminder every 14 days while before expiry,
//     D0 expiry [S85][S86].
//   - RLD-UE: R.431-5's window does not apply [S85] and the brief gives no
//     other, so there is no late milestone; cautiously, D-150 prepare, D-90
//     reminder_d90, D-60, D-30 reminders, D-7 check, D0 expiry.
//   - FirstMultiYear adds prepare_exam at D-240 [S68][S80][S82][S83] when
//     the request can be filed while [Exam2026] is in force (some day from
//     the window's opening to the expiry is on or after 1 January 2026). It
//     is emitted for CRA holders too, though one préfecture says the 2026
//     requirements do not apply to Algerians [S68]: word the message
//     accordingly.
//
// When Filed is set, the pre-filing milestones (prepare_exam to check)
// dated on or after the filing day are dropped, and these are added:
// check_api at D-7 if no APIExpiry is known and D-7 is after the filing day;
// on the expiry day with no APIExpiry, expiry then escalate; grace_ends on
// expiry + 3 months when [GraceApplies] is surely true; api_renew at
// APIExpiry-14 and APIExpiry-3 and api_expiry on APIExpiry;
// implicit_rejection on [ImplicitRejection](Filed) (for every kind but the
// passport and the domiciliation attestation).
//
// A VLS-TS with Arrival set also gets vlsts_validate on arrival, arrival+60
// and arrival+80 days, and vlsts_deadline on [VLSTSDeadline] [S27][S29][S31].
//
// Other kinds: API: api_renew at expiry-14 and expiry-3, api_expiry on
// expiry [S92]. Récépissé: reminders at expiry-21 and expiry-7, then expiry
// [S99]. APS: reminders at D-21, D-15 and D-7, then expiry: préfectures ask
// to renew between 3 weeks and 3 days before expiry (Haute-Loire, the
// ministry's advice) or at least 15 days before (Calvados), so the first
// reminder follows the earliest local rule [S73][S74][S75]. Passport and
// domiciliation attestation: reminders at D-90 and D-30 [S108].
//
// Dates already past are dropped, but a state that is already late or
// expired on the registration day yields a milestone on that day, first, so
// the resident is told at once:
//
//   - titre, not filed, window closed but not expired: late (ANEF, Unknown,
//     and a préfecture titre on its expiry day);
//   - not filed, after expiry: expired (all kinds but the API, for which it
//     is escalate, since no API is left);
//   - titre filed, after expiry, with no APIExpiry or one already past:
//     escalate;
//   - filed, implicit rejection already reached: implicit_rejection;
//   - VLS-TS validation deadline already past: vlsts_deadline;
//   - passport or domiciliation within 30 days of expiry: reminder.
//
// Two milestones of the same kind on the same day are merged.
func Schedule(d Document, registered Date) []Milestone {
	var pre, post, catchUp []Milestone
	add := func(to *[]Milestone, k MilestoneKind, day Date, sources ...string) {
		*to = append(*to, Milestone{Kind: k, Date: day, Sources: slices.Clone(sources)})
	}
	hasExpiry := d.Expiry != Date{}
	exp := d.Expiry
	dm := func(n int) Date { return exp.AddDays(-n) }
	filed := d.Filed != nil
	apiValidOn := func(day Date) bool { return d.APIExpiry != nil && !d.APIExpiry.Before(day) }

	switch {
	case d.Kind.isTitre():
		if !hasExpiry {
			break
		}
		ch := NextChannel(d.Kind, d.Mention)
		if d.FirstMultiYear && Exam2026.Overlaps(RenewalWindow(exp, ch).Opens, exp) {
			add(&pre, MilestonePrepareExam, dm(240), "loi-2024-42", "decret-2025-647")
		}
		switch {
		case d.Kind == KindRLDUE:
			add(&pre, MilestonePrepare, dm(150), "ceseda-r431-5", "arrete-2024-07-01")
			add(&pre, MilestoneReminderD90, dm(90), "ceseda-r431-5", "arrete-2024-07-01")
			add(&pre, MilestoneReminder, dm(60), "ceseda-r431-5", "arrete-2024-07-01")
			add(&pre, MilestoneReminder, dm(30), "ceseda-r431-5", "arrete-2024-07-01")
			add(&pre, MilestoneCheck, dm(7), "ceseda-r431-5", "arrete-2024-07-01")
		case ch == Prefecture:
			w := RenewalWindow(exp, ch)
			add(&pre, MilestonePrepare, dm(75), "ceseda-r431-5")
			add(&pre, MilestoneWindowOpens, w.Opens, "ceseda-r431-5")
			for day := w.Opens.AddDays(14); !day.After(w.Closes); day = day.AddDays(14) {
				add(&pre, MilestoneReminder, day, "ceseda-r431-5")
			}
		default:
			add(&pre, MilestonePrepare, dm(150), "ceseda-r431-5")
			add(&pre, MilestoneWindowOpens, dm(120), "ceseda-r431-5")
			add(&pre, MilestoneReminderD90, dm(90), "ceseda-r431-5")
			add(&pre, MilestoneLastCall, dm(65), "ceseda-r431-5")
			add(&pre, MilestoneWindowCloses, dm(60), "ceseda-r431-5")
			add(&pre, MilestoneLate, dm(59), "ceseda-r431-5", "ceseda-r431-15-1", "ceseda-l436-5")
			add(&pre, MilestoneCheck, dm(7), "ceseda-r431-5", "ceseda-r431-15-1")
		}
		if filed {
			f := *d.Filed
			if d.APIExpiry == nil && dm(7).After(f) {
				add(&post, MilestoneCheckAPI, dm(7), "ceseda-r431-15-1")
			}
		}
		add(&post, MilestoneExpiry, exp, "ceseda-r431-5")
		if filed {
			if d.APIExpiry == nil {
				add(&post, MilestoneEscalate, exp, "ceseda-r431-15-1")
			}
			if applies, sure := GraceApplies(d.Kind); applies && sure {
				add(&post, MilestoneGraceEnds, exp.AddMonths(3), "ceseda-l433-3")
			}
			if d.APIExpiry != nil {
				a := *d.APIExpiry
				add(&post, MilestoneAPIRenew, a.AddDays(-14), "ceseda-r431-15-1")
				add(&post, MilestoneAPIRenew, a.AddDays(-3), "ceseda-r431-15-1")
				add(&post, MilestoneAPIExpiry, a, "ceseda-r431-15-1")
			}
		}
		switch {
		case !filed && registered.After(exp):
			add(&catchUp, MilestoneExpired, registered, "ceseda-r431-5", "ceseda-r431-15-1")
		case !filed && d.Kind != KindRLDUE &&
			WindowState(registered, RenewalWindow(exp, ch), exp) == Late:
			add(&catchUp, MilestoneLate, registered, "ceseda-r431-5", "ceseda-r431-15-1", "ceseda-l436-5")
		case filed && registered.After(exp) && !apiValidOn(registered):
			add(&catchUp, MilestoneEscalate, registered, "ceseda-r431-15-1")
		}

	case d.Kind == KindAPI && hasExpiry:
		add(&post, MilestoneAPIRenew, dm(14), "ceseda-r431-15-1")
		add(&post, MilestoneAPIRenew, dm(3), "ceseda-r431-15-1")
		add(&post, MilestoneAPIExpiry, exp, "ceseda-r431-15-1")
		if registered.After(exp) {
			add(&catchUp, MilestoneEscalate, registered, "ceseda-r431-15-1")
		}

	case (d.Kind == KindRecepisse || d.Kind == KindAPS) && hasExpiry:
		src := []string{"ceseda-r431-12"}
		if d.Kind == KindAPS {
			src = []string{"ceseda-l581", "pref-calvados-tp", "pref-haute-loire-aps"}
		}
		add(&post, MilestoneReminder, dm(21), src...)
		if d.Kind == KindAPS {
			// The earliest local rule: Calvados asks for at least 15 days
			// before expiry, other préfectures for 3 weeks to 3 days.
			add(&post, MilestoneReminder, dm(APSAtLeastDays), src...)
		}
		add(&post, MilestoneReminder, dm(7), src...)
		add(&post, MilestoneExpiry, exp, src...)
		if registered.After(exp) {
			add(&catchUp, MilestoneExpired, registered, src...)
		}

	case (d.Kind == KindPassport || d.Kind == KindDomiciliation) && hasExpiry:
		add(&post, MilestoneReminder, dm(90), "ce-2024-494718")
		add(&post, MilestoneReminder, dm(30), "ce-2024-494718")
		switch {
		case registered.After(exp):
			add(&catchUp, MilestoneExpired, registered, "ce-2024-494718")
		case registered.After(dm(30)):
			add(&catchUp, MilestoneReminder, registered, "ce-2024-494718")
		}
	}

	if d.Kind == KindVLSTS && d.Arrival != nil {
		a := *d.Arrival
		add(&post, MilestoneVLSTSValidate, a, "ceseda-r431-17", "sp-f39")
		add(&post, MilestoneVLSTSValidate, a.AddDays(60), "ceseda-r431-17", "sp-f39")
		add(&post, MilestoneVLSTSValidate, a.AddDays(80), "ceseda-r431-17", "sp-f39")
		deadline := VLSTSDeadline(a)
		add(&post, MilestoneVLSTSDeadline, deadline, "ceseda-r431-17", "sp-f39")
		if registered.After(deadline) {
			add(&catchUp, MilestoneVLSTSDeadline, registered, "ceseda-r431-17", "sp-f39")
		}
	}

	if filed && d.Kind.Valid() && d.Kind != KindPassport && d.Kind != KindDomiciliation {
		ir := ImplicitRejection(*d.Filed)
		add(&post, MilestoneImplicitRejection, ir, "ceseda-r432-1", "ce-2025-499904")
		if registered.After(ir) {
			add(&catchUp, MilestoneImplicitRejection, registered, "ceseda-r432-1", "ce-2025-499904")
		}
	}

	if filed {
		f := *d.Filed
		pre = slices.DeleteFunc(pre, func(m Milestone) bool { return !m.Date.Before(f) })
	}
	ms := append(pre, post...)
	ms = slices.DeleteFunc(ms, func(m Milestone) bool { return m.Date.Before(registered) })
	ms = append(catchUp, ms...)
	slices.SortStableFunc(ms, func(a, b Milestone) int { return a.Date.Compare(b.Date) })
	type key struct {
		k MilestoneKind
		d Date
	}
	seen := make(map[key]bool, len(ms))
	return slices.DeleteFunc(ms, func(m Milestone) bool {
		k := key{m.Kind, m.Date}
		dup := seen[k]
		seen[k] = true
		return dup
	})
}

// Next returns the first milestone of ms, taken in order, dated on or after
// today, and false if there is none. ms is expected in date order, as
// [Schedule] returns it.
func Next(ms []Milestone, today Date) (Milestone, bool) {
	for _, m := range ms {
		if !m.Date.Before(today) {
			return m, true
		}
	}
	return Milestone{}, false
}

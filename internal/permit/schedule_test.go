package permit_test

import (
	"slices"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/permit"
)

// brief renders milestones as "kind YYYY-MM-DD" for exact comparisons.
func brief(ms []permit.Milestone) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Kind) + " " + m.Date.String()
	}
	return out
}

func datePtr(tb testing.TB, s string) *permit.Date {
	tb.Helper()
	d := mustDate(tb, s)
	return &d
}

// The worked example of the reminders issue: an ANEF titre expiring
// 2027-06-30, registered on 2026-12-12, each milestone sent at 10:00 Paris
// time. R.431-5 1° [S85][S86]; schedule of anef.md §3.7.
func TestScheduleWorkedExample(t *testing.T) {
	loc := paris(t)
	doc := permit.Document{Kind: permit.KindCST, Mention: permit.MentionEtudiant, Expiry: mustDate(t, "2027-06-30")}
	want := []struct {
		kind permit.MilestoneKind
		date string
		utc  string // 10:00 Paris in UTC: CET is UTC+1, CEST (from 28 March 2027) UTC+2
	}{
		{permit.MilestonePrepare, "2027-01-31", "2027-01-31T09:00:00Z"},      // D-150
		{permit.MilestoneWindowOpens, "2027-03-02", "2027-03-02T09:00:00Z"},  // D-120
		{permit.MilestoneReminderD90, "2027-04-01", "2027-04-01T08:00:00Z"},  // D-90, after the DST change
		{permit.MilestoneLastCall, "2027-04-26", "2027-04-26T08:00:00Z"},     // D-65
		{permit.MilestoneWindowCloses, "2027-05-01", "2027-05-01T08:00:00Z"}, // D-60
		{permit.MilestoneLate, "2027-05-02", "2027-05-02T08:00:00Z"},         // D-59
		{permit.MilestoneCheck, "2027-06-23", "2027-06-23T08:00:00Z"},        // D-7
		{permit.MilestoneExpiry, "2027-06-30", "2027-06-30T08:00:00Z"},       // D0
	}
	got := permit.Schedule(doc, mustDate(t, "2026-12-12"))
	if len(got) != len(want) {
		t.Fatalf("Schedule = %q; want %d milestones", brief(got), len(want))
	}
	for i, w := range want {
		m := got[i]
		if m.Kind != w.kind || m.Date != mustDate(t, w.date) {
			t.Errorf("milestone %d = %s %s; want %s %s", i, m.Kind, m.Date, w.kind, w.date)
		}
		at := m.At(10, loc)
		if wantAt, _ := time.Parse(time.RFC3339, w.utc); !at.Equal(wantAt) {
			t.Errorf("milestone %d (%s).At(10, Paris) = %s; want %s", i, w.date, at.UTC().Format(time.RFC3339), w.utc)
		}
		if at.Location() != loc || at.Hour() != 10 || at.Minute() != 0 {
			t.Errorf("milestone %d (%s).At(10, Paris) = %s; want 10:00 in Europe/Paris", i, w.date, at)
		}
		if len(m.Sources) == 0 {
			t.Errorf("milestone %d (%s) has no sources", i, m.Kind)
		}
	}
	// The Unknown channel ("I don't know") gives the same, earliest window.
	doc.Mention = permit.MentionUnknown
	if u := permit.Schedule(doc, mustDate(t, "2026-12-12")); !slices.Equal(brief(u), brief(got)) {
		t.Errorf("unknown mention: Schedule = %q; want %q", brief(u), brief(got))
	}
}

func TestMilestoneAt(t *testing.T) {
	loc := paris(t)
	tests := []struct {
		name, date string
		hour       int
		want       string
	}{
		{"winter time", "2027-03-02", 10, "2027-03-02T09:00:00Z"},
		{"spring-forward day 2027", "2027-03-28", 10, "2027-03-28T08:00:00Z"},
		{"summer time", "2027-04-01", 10, "2027-04-01T08:00:00Z"},
		{"fall-back day 2027", "2027-10-31", 10, "2027-10-31T09:00:00Z"},
		{"leap day", "2028-02-29", 9, "2028-02-29T08:00:00Z"},
		{"evening in summer", "2027-06-30", 20, "2027-06-30T18:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := permit.Milestone{Kind: permit.MilestoneExpiry, Date: mustDate(t, tt.date)}
			want, _ := time.Parse(time.RFC3339, tt.want)
			if got := m.At(tt.hour, loc); !got.Equal(want) {
				t.Errorf("At(%d, Paris) on %s = %s; want %s", tt.hour, tt.date, got.UTC().Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	anef := func(expiry string) permit.Document {
		return permit.Document{Kind: permit.KindCST, Mention: permit.MentionEtudiant, Expiry: mustDate(t, expiry)}
	}
	pref := func(expiry string) permit.Document {
		return permit.Document{Kind: permit.KindCST, Mention: permit.MentionSalarie, Expiry: mustDate(t, expiry)}
	}
	with := func(d permit.Document, f func(*permit.Document)) permit.Document { f(&d); return d }

	tests := []struct {
		name       string
		source     string
		doc        permit.Document
		registered string
		want       []string
	}{
		// ANEF window, R.431-5 1° [S85][S86], §3.7.
		{
			"worked example registered late (after D-59): late at once, cautiously", "R.431-5 1° [S85][S89][S87]",
			anef("2027-06-30"), "2027-05-10",
			[]string{"late 2027-05-10", "check 2027-06-23", "expiry 2027-06-30"},
		},
		{
			"registered exactly on D-59: one late milestone", "R.431-5 1° [S85]",
			anef("2027-06-30"), "2027-05-02",
			[]string{"late 2027-05-02", "check 2027-06-23", "expiry 2027-06-30"},
		},
		{
			"registered on D-60: still on time", "R.431-5 1° [S85]",
			anef("2027-06-30"), "2027-05-01",
			[]string{"window_closes 2027-05-01", "late 2027-05-02", "check 2027-06-23", "expiry 2027-06-30"},
		},
		{
			"registered mid-window: past milestones dropped", "R.431-5 1° [S85]",
			anef("2027-06-30"), "2027-03-22",
			[]string{"reminder_d90 2027-04-01", "last_call 2027-04-26", "window_closes 2027-05-01", "late 2027-05-02", "check 2027-06-23", "expiry 2027-06-30"},
		},
		{
			"registered on expiry day: late, then expiry", "R.431-5 1° [S85]",
			anef("2027-06-30"), "2027-06-30",
			[]string{"late 2027-06-30", "expiry 2027-06-30"},
		},
		{
			"registered after expiry, not filed: expired at once", "[S85][S115]",
			anef("2027-06-30"), "2027-07-05",
			[]string{"expired 2027-07-05"},
		},
		{
			"leap-year expiry 2028-02-29 (window across the year end)", "R.431-5 1° [S85][S86]",
			anef("2028-02-29"), "2027-09-01",
			[]string{"prepare 2027-10-02", "window_opens 2027-11-01", "reminder_d90 2027-12-01", "last_call 2027-12-26", "window_closes 2027-12-31", "late 2028-01-01", "check 2028-02-22", "expiry 2028-02-29"},
		},
		{
			"ANEF window opens on a leap day", "R.431-5 1° [S85][S86]",
			anef("2028-06-28"), "2028-01-01",
			[]string{"prepare 2028-01-30", "window_opens 2028-02-29", "reminder_d90 2028-03-30", "last_call 2028-04-24", "window_closes 2028-04-29", "late 2028-04-30", "check 2028-06-21", "expiry 2028-06-28"},
		},
		{
			"month end: expiry 1 March, window closes 31 December", "R.431-5 1° [S85][S86]",
			anef("2027-03-01"), "2026-01-01",
			[]string{"prepare 2026-10-02", "window_opens 2026-11-01", "reminder_d90 2026-12-01", "last_call 2026-12-26", "window_closes 2026-12-31", "late 2027-01-01", "check 2027-02-22", "expiry 2027-03-01"},
		},
		{
			"carte de résident renewal on ANEF since July 2024", "[S21][S22][S85]",
			permit.Document{Kind: permit.KindCarteResident, Expiry: mustDate(t, "2027-06-30")}, "2027-04-02",
			[]string{"last_call 2027-04-26", "window_closes 2027-05-01", "late 2027-05-02", "check 2027-06-23", "expiry 2027-06-30"},
		},

		// Préfecture: 2 months before expiry, then every 2 weeks [S85][S86], §3.7.
		{
			"préfecture cadence (salarié [S23])", "R.431-5 1° [S85][S86]",
			pref("2027-06-30"), "2027-01-01",
			[]string{"prepare 2027-04-16", "window_opens 2027-04-30", "reminder 2027-05-14", "reminder 2027-05-28", "reminder 2027-06-11", "reminder 2027-06-25", "expiry 2027-06-30"},
		},
		{
			"préfecture window opens on a leap day", "R.431-5 1° [S85][S86]",
			pref("2028-04-30"), "2028-01-01",
			[]string{"prepare 2028-02-15", "window_opens 2028-02-29", "reminder 2028-03-14", "reminder 2028-03-28", "reminder 2028-04-11", "reminder 2028-04-25", "expiry 2028-04-30"},
		},
		{
			"préfecture window opening clamped to 28 February", "R.431-5 1° [S85][S86]",
			pref("2027-04-30"), "2027-02-20",
			[]string{"window_opens 2027-02-28", "reminder 2027-03-14", "reminder 2027-03-28", "reminder 2027-04-11", "reminder 2027-04-25", "expiry 2027-04-30"},
		},
		{
			"préfecture registered mid-window: no late, no catch-up", "R.431-5 1° [S85]",
			pref("2027-06-30"), "2027-05-20",
			[]string{"reminder 2027-05-28", "reminder 2027-06-11", "reminder 2027-06-25", "expiry 2027-06-30"},
		},
		{
			"préfecture registered on expiry day: late (filing 'before expiry')", "R.431-5 1° [S85]",
			pref("2027-06-30"), "2027-06-30",
			[]string{"late 2027-06-30", "expiry 2027-06-30"},
		},
		{
			"APS (Ukrainian TP) renewed at the préfecture: 3 weeks, 15 days, 1 week, expiry", "[S73][S74][S75]",
			permit.Document{Kind: permit.KindAPS, Mention: permit.MentionProtection, Expiry: mustDate(t, "2028-03-14")}, "2028-01-01",
			[]string{"reminder 2028-02-22", "reminder 2028-02-28", "reminder 2028-03-07", "expiry 2028-03-14"},
		},
		{
			"APS already expired", "[S73][S74][S75]",
			permit.Document{Kind: permit.KindAPS, Expiry: mustDate(t, "2028-03-14")}, "2028-03-15",
			[]string{"expired 2028-03-15"},
		},
		{
			"récépissé: 3 weeks, 1 week, expiry", "[S99]",
			permit.Document{Kind: permit.KindRecepisse, Expiry: mustDate(t, "2027-03-01")}, "2027-02-10",
			[]string{"reminder 2027-02-22", "expiry 2027-03-01"},
		},

		// RLD-UE: no 120–60 window [S85]; renewal on ANEF [S21].
		{
			"RLD-UE: cautious reminders, no window", "R.431-5 last paragraph [S85][S21]",
			permit.Document{Kind: permit.KindRLDUE, Expiry: mustDate(t, "2027-06-30")}, "2026-12-12",
			[]string{"prepare 2027-01-31", "reminder_d90 2027-04-01", "reminder 2027-05-01", "reminder 2027-05-31", "check 2027-06-23", "expiry 2027-06-30"},
		},
		{
			"RLD-UE registered after D-59: never late", "[S85]",
			permit.Document{Kind: permit.KindRLDUE, Expiry: mustDate(t, "2027-06-30")}, "2027-05-10",
			[]string{"reminder 2027-05-31", "check 2027-06-23", "expiry 2027-06-30"},
		},

		// After filing: §3.7; API [S92]; implicit rejection [S105][S111]; L.433-3 [S103].
		{
			"filed, no API: window milestones after filing dropped, check_api, escalate on expiry", "[S92][S105]",
			with(anef("2027-06-30"), func(d *permit.Document) { d.Filed = datePtr(t, "2027-03-10") }), "2026-12-12",
			[]string{"prepare 2027-01-31", "window_opens 2027-03-02", "check_api 2027-06-23", "expiry 2027-06-30", "escalate 2027-06-30", "implicit_rejection 2027-07-10"},
		},
		{
			"filed on the window's opening day: the window_opens milestone goes", "[S85][S92]",
			with(anef("2027-06-30"), func(d *permit.Document) { d.Filed = datePtr(t, "2027-03-02") }), "2027-03-02",
			[]string{"check_api 2027-06-23", "expiry 2027-06-30", "escalate 2027-06-30", "implicit_rejection 2027-07-02"},
		},
		{
			"4-year CSP filed with an API: API reminders, grace end, implicit rejection", "[S92][S103][S105][S111]",
			permit.Document{Kind: permit.KindCSP4, Mention: permit.MentionProtection, Expiry: mustDate(t, "2027-06-30"), Filed: datePtr(t, "2027-03-10"), APIExpiry: datePtr(t, "2027-09-30")}, "2027-03-15",
			[]string{"expiry 2027-06-30", "implicit_rejection 2027-07-10", "api_renew 2027-09-16", "api_renew 2027-09-27", "grace_ends 2027-09-30", "api_expiry 2027-09-30"},
		},
		{
			"filed, registered after expiry with no API: escalate at once", "[S92][S105]",
			with(anef("2027-06-30"), func(d *permit.Document) { d.Filed = datePtr(t, "2027-04-20") }), "2027-07-03",
			[]string{"escalate 2027-07-03", "implicit_rejection 2027-08-20"},
		},
		{
			"filed, registered after expiry with a valid API: no escalation", "[S92][S105]",
			with(anef("2027-06-30"), func(d *permit.Document) {
				d.Filed = datePtr(t, "2027-04-20")
				d.APIExpiry = datePtr(t, "2027-09-30")
			}), "2027-07-03",
			[]string{"implicit_rejection 2027-08-20", "api_renew 2027-09-16", "api_renew 2027-09-27", "api_expiry 2027-09-30"},
		},
		{
			"filed, implicit rejection already reached: told at once", "R.432-2 [S105][S111]",
			with(anef("2027-06-30"), func(d *permit.Document) {
				d.Filed = datePtr(t, "2027-04-20")
				d.APIExpiry = datePtr(t, "2027-09-30")
			}), "2027-08-25",
			[]string{"implicit_rejection 2027-08-25", "api_renew 2027-09-16", "api_renew 2027-09-27", "api_expiry 2027-09-30"},
		},
		{
			"filed after D-7: no check_api", "[S92]",
			with(anef("2027-06-30"), func(d *permit.Document) { d.Filed = datePtr(t, "2027-06-25") }), "2027-06-25",
			[]string{"expiry 2027-06-30", "escalate 2027-06-30", "implicit_rejection 2027-10-25"},
		},
		{
			"implicit rejection clamped to a month end (filed 31 October)", "R.432-2 [S105]",
			with(anef("2028-03-31"), func(d *permit.Document) { d.Filed = datePtr(t, "2027-10-31") }), "2027-10-31",
			[]string{"implicit_rejection 2028-02-29", "check_api 2028-03-24", "expiry 2028-03-31", "escalate 2028-03-31"},
		},
		{
			"API document: 14 and 3 days before, expiry", "R.431-15-1 [S92]",
			permit.Document{Kind: permit.KindAPI, Expiry: mustDate(t, "2027-03-31")}, "2027-01-01",
			[]string{"api_renew 2027-03-17", "api_renew 2027-03-28", "api_expiry 2027-03-31"},
		},
		{
			"API already expired: escalate at once", "[S92]",
			permit.Document{Kind: permit.KindAPI, Expiry: mustDate(t, "2027-03-31")}, "2027-04-02",
			[]string{"escalate 2027-04-02"},
		},

		// VLS-TS validation within 3 months [S27][S29][S31].
		{
			"VLS-TS: on arrival, +60, +80, deadline clamped to leap day", "[S27][S29][S31]",
			permit.Document{Kind: permit.KindVLSTS, Arrival: datePtr(t, "2027-11-30")}, "2027-11-30",
			[]string{"vlsts_validate 2027-11-30", "vlsts_validate 2028-01-29", "vlsts_validate 2028-02-18", "vlsts_deadline 2028-02-29"},
		},
		{
			"VLS-TS registered after +60", "[S27][S29][S31]",
			permit.Document{Kind: permit.KindVLSTS, Arrival: datePtr(t, "2027-11-30")}, "2028-02-01",
			[]string{"vlsts_validate 2028-02-18", "vlsts_deadline 2028-02-29"},
		},
		{
			"VLS-TS deadline already past: told at once", "[S27][S29][S31]",
			permit.Document{Kind: permit.KindVLSTS, Arrival: datePtr(t, "2027-11-30")}, "2028-03-05",
			[]string{"vlsts_deadline 2028-03-05"},
		},
		{
			"VLS-TS with arrival and expiry: validation then renewal on ANEF", "[S27][S85][S3]",
			permit.Document{Kind: permit.KindVLSTS, Mention: permit.MentionEtudiant, Arrival: datePtr(t, "2026-09-01"), Expiry: mustDate(t, "2027-06-30")}, "2026-09-01",
			[]string{"vlsts_validate 2026-09-01", "vlsts_validate 2026-10-31", "vlsts_validate 2026-11-20", "vlsts_deadline 2026-12-01", "prepare 2027-01-31", "window_opens 2027-03-02", "reminder_d90 2027-04-01", "last_call 2027-04-26", "window_closes 2027-05-01", "late 2027-05-02", "check 2027-06-23", "expiry 2027-06-30"},
		},

		// First multi-year card or carte de résident from 2026 [S68][S80][S82][S83].
		{
			"first multi-year card: prepare_exam at D-240", "[S68][S80][S82][S83]",
			with(anef("2027-06-30"), func(d *permit.Document) { d.FirstMultiYear = true; d.Mention = permit.MentionVPF }), "2026-10-01",
			[]string{"prepare_exam 2026-11-02", "prepare 2027-01-31", "window_opens 2027-03-02", "reminder_d90 2027-04-01", "last_call 2027-04-26", "window_closes 2027-05-01", "late 2027-05-02", "check 2027-06-23", "expiry 2027-06-30"},
		},
		{
			"first multi-year card at the préfecture, D-240 on a leap day", "[S68][S80][S82][S83][S23]",
			with(pref("2028-10-26"), func(d *permit.Document) { d.FirstMultiYear = true }), "2028-02-29",
			[]string{"prepare_exam 2028-02-29", "prepare 2028-08-12", "window_opens 2028-08-26", "reminder 2028-09-09", "reminder 2028-09-23", "reminder 2028-10-07", "reminder 2028-10-21", "expiry 2028-10-26"},
		},
		{
			"first multi-year card, already past D-240: dropped", "[S68]",
			with(anef("2027-06-30"), func(d *permit.Document) { d.FirstMultiYear = true }), "2027-04-10",
			[]string{"last_call 2027-04-26", "window_closes 2027-05-01", "late 2027-05-02", "check 2027-06-23", "expiry 2027-06-30"},
		},

		// Documents a renewal needs valid: R.431-10 / complete file [S108].
		{
			"passport: D-90 and D-30", "[S108]",
			permit.Document{Kind: permit.KindPassport, Expiry: mustDate(t, "2027-12-31")}, "2027-01-01",
			[]string{"reminder 2027-10-02", "reminder 2027-12-01"},
		},
		{
			"domiciliation: D-90 on a leap day", "[S108]",
			permit.Document{Kind: permit.KindDomiciliation, Expiry: mustDate(t, "2028-05-29")}, "2028-01-01",
			[]string{"reminder 2028-02-29", "reminder 2028-04-29"},
		},
		{
			"passport within 30 days of expiry: reminder at once", "[S108]",
			permit.Document{Kind: permit.KindPassport, Expiry: mustDate(t, "2027-12-31")}, "2027-12-15",
			[]string{"reminder 2027-12-15"},
		},
		{
			"passport already expired", "[S108]",
			permit.Document{Kind: permit.KindPassport, Expiry: mustDate(t, "2027-12-31"), Filed: datePtr(t, "2027-06-01")}, "2028-01-02",
			[]string{"expired 2028-01-02"},
		},

		// Nothing to schedule.
		{"titre with unknown expiry", "", permit.Document{Kind: permit.KindCST}, "2027-01-01", []string{}},
		{"invalid kind", "", permit.Document{Kind: "bogus", Expiry: mustDate(t, "2027-06-30"), Filed: datePtr(t, "2027-03-10")}, "2027-01-01", []string{}},
		{"récépissé already expired", "[S92]",
			permit.Document{Kind: permit.KindRecepisse, Expiry: mustDate(t, "2027-03-01")}, "2027-03-02", []string{"expired 2027-03-02"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := brief(permit.Schedule(tt.doc, mustDate(t, tt.registered)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Schedule(registered %s) =\n  %q\nwant\n  %q\n(%s)", tt.registered, got, tt.want, tt.source)
			}
		})
	}
}

func TestScheduleSourcesAndOrder(t *testing.T) {
	docs := []permit.Document{
		{Kind: permit.KindCSP4, Mention: permit.MentionProtection, Expiry: mustDate(t, "2027-06-30"), Filed: datePtr(t, "2027-03-10"), APIExpiry: datePtr(t, "2027-09-30")},
		{Kind: permit.KindVLSTS, Mention: permit.MentionEtudiant, Arrival: datePtr(t, "2026-09-01"), Expiry: mustDate(t, "2027-06-30"), FirstMultiYear: true},
		{Kind: permit.KindCST, Mention: permit.MentionSalarie, Expiry: mustDate(t, "2027-06-30")},
		{Kind: permit.KindRLDUE, Expiry: mustDate(t, "2027-06-30")},
	}
	for _, d := range docs {
		ms := permit.Schedule(d, mustDate(t, "2026-01-01"))
		if len(ms) == 0 {
			t.Fatalf("Schedule(%+v) is empty", d)
		}
		for i, m := range ms {
			if len(m.Sources) == 0 {
				t.Errorf("%s: milestone %s %s has no sources", d.Kind, m.Kind, m.Date)
			}
			if i > 0 && m.Date.Before(ms[i-1].Date) {
				t.Errorf("%s: milestones out of order: %s before %s", d.Kind, ms[i-1].Date, m.Date)
			}
		}
		ms[0].Sources[0] = "changed"
		if again := permit.Schedule(d, mustDate(t, "2026-01-01")); again[0].Sources[0] == "changed" {
			t.Errorf("%s: Schedule shares Sources slices between calls", d.Kind)
		}
	}
}

func TestNext(t *testing.T) {
	ms := permit.Schedule(permit.Document{Kind: permit.KindCST, Mention: permit.MentionEtudiant, Expiry: mustDate(t, "2027-06-30")}, mustDate(t, "2026-12-12"))
	tests := []struct {
		today string
		want  string // "" for none
	}{
		{"2026-12-12", "prepare 2027-01-31"},
		{"2027-01-31", "prepare 2027-01-31"},
		{"2027-02-01", "window_opens 2027-03-02"},
		{"2027-03-02", "window_opens 2027-03-02"},
		{"2027-05-02", "late 2027-05-02"},
		{"2027-05-03", "check 2027-06-23"},
		{"2027-06-30", "expiry 2027-06-30"},
		{"2027-07-01", ""},
	}
	for _, tt := range tests {
		m, ok := permit.Next(ms, mustDate(t, tt.today))
		got := ""
		if ok {
			got = brief([]permit.Milestone{m})[0]
		}
		if got != tt.want {
			t.Errorf("Next(worked example, %s) = %q, %v; want %q", tt.today, got, ok, tt.want)
		}
	}
	if m, ok := permit.Next(nil, mustDate(t, "2027-01-01")); ok {
		t.Errorf("Next(nil) = %v, true; want false", m)
	}
}

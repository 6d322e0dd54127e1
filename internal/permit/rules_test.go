package permit_test

import (
	"slices"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/permit"
)

// TestPeriodBoundaries crosses each boundary of the dated rules: the day
// before a rule starts, its first day, its last day and the day after.
func TestPeriodBoundaries(t *testing.T) {
	tests := []struct {
		name   string
		p      permit.Period
		day    string
		want   permit.Phase
		inside bool
	}{
		{"2026 exam rules: the day before", permit.Exam2026, "2025-12-31", permit.BeforePeriod, false},
		{"2026 exam rules: the first day", permit.Exam2026, "2026-01-01", permit.InPeriod, true},
		{"2026 exam rules: long after (no end)", permit.Exam2026, "2040-06-30", permit.InPeriod, true},
		{"temporary protection: the day before it started", permit.TemporaryProtection, "2022-03-03", permit.BeforePeriod, false},
		{"temporary protection: its first day", permit.TemporaryProtection, "2022-03-04", permit.InPeriod, true},
		{"temporary protection: its last known day", permit.TemporaryProtection, "2027-03-04", permit.InPeriod, true},
		{"temporary protection: the day after", permit.TemporaryProtection, "2027-03-05", permit.AfterPeriod, false},
		{"open period", permit.Period{}, "2027-03-05", permit.InPeriod, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDate(t, tt.day)
			if got := tt.p.PhaseOn(d); got != tt.want {
				t.Errorf("PhaseOn(%s) = %v; want %v", tt.day, got, tt.want)
			}
			if got := tt.p.InForce(d); got != tt.inside {
				t.Errorf("InForce(%s) = %v; want %v", tt.day, got, tt.inside)
			}
		})
	}
}

func TestPeriodOverlaps(t *testing.T) {
	p := permit.Period{From: mustDate(t, "2026-01-01"), Until: mustDate(t, "2026-12-31")}
	tests := []struct {
		from, to string
		want     bool
	}{
		{"2025-09-01", "2025-12-31", false},
		{"2025-09-01", "2026-01-01", true},
		{"2026-12-31", "2027-02-01", true},
		{"2027-01-01", "2027-02-01", false},
	}
	for _, tt := range tests {
		if got := p.Overlaps(mustDate(t, tt.from), mustDate(t, tt.to)); got != tt.want {
			t.Errorf("Overlaps(%s, %s) = %v; want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

// TestScheduleExamRuleBoundary: the "prepare the exam" reminder comes only
// when the request can be filed while the 2026 rules are in force. An ANEF
// card whose filing window ends on 31 December 2025 (expiry 1 March 2026)
// could still be filed under the old rules until its expiry, the earliest
// cautious reading: the reminder comes as soon as any day from the window's
// opening to the expiry is in 2026.
func TestScheduleExamRuleBoundary(t *testing.T) {
	has := func(ms []permit.Milestone) bool {
		return slices.ContainsFunc(ms, func(m permit.Milestone) bool { return m.Kind == permit.MilestonePrepareExam })
	}
	reg := mustDate(t, "2025-01-01")
	// Expiry 31 December 2025: every filing day is in 2025.
	before := permit.Document{Kind: permit.KindCST, Mention: permit.MentionEtudiant, Expiry: mustDate(t, "2025-12-31"), FirstMultiYear: true}
	if has(permit.Schedule(before, reg)) {
		t.Errorf("card expiring 2025-12-31: prepare_exam scheduled, but every filing day is before the 2026 rules")
	}
	// Expiry 1 January 2026: the expiry day itself is under the new rules.
	after := before
	after.Expiry = mustDate(t, "2026-01-01")
	if !has(permit.Schedule(after, reg)) {
		t.Errorf("card expiring 2026-01-01: no prepare_exam, but a request filed on 2026-01-01 needs the exam")
	}
}

// TestReviewItem17_APSRemindersFollowEarliestLocalRule: préfectures ask to
// renew an APS between 3 weeks and 3 days before it ends, or at least 15
// days before (Calvados); a single D-7 reminder would come too late.
func TestReviewItem17_APSRemindersFollowEarliestLocalRule(t *testing.T) {
	exp := mustDate(t, "2027-01-31")
	ms := permit.Schedule(permit.Document{Kind: permit.KindAPS, Expiry: exp}, mustDate(t, "2026-11-25"))
	var days []int
	for _, m := range ms {
		if m.Kind == permit.MilestoneReminder {
			days = append(days, m.Date.DaysUntil(exp))
		}
	}
	want := []int{permit.APSEarliestDays, permit.APSAtLeastDays, 7}
	if !slices.Equal(days, want) {
		t.Errorf("APS reminders at D-%v; want D-%v", days, want)
	}
}

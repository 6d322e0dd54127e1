package permit

import "strconv"

// Period is when a dated rule is in force: from From to Until, both days
// included. A zero From means "since always", a zero Until "until further
// notice". Rules that start or end on a known day (the 2026 language and
// civic-exam requirements, temporary protection until 4 March 2027) are data
// with these dates, so that the guide and the calendar pick the version in
// force on the day that matters (usually the filing day) and a test can cross
// each boundary.
type Period struct {
	From, Until Date
}

// Phase says where a day falls relative to a [Period].
type Phase int

// The phases. The zero Phase is not valid.
const (
	// BeforePeriod: the day is before From.
	BeforePeriod Phase = iota + 1
	// InPeriod: the day is within the period, both ends included.
	InPeriod
	// AfterPeriod: the day is after Until.
	AfterPeriod
)

// PhaseOn says where day falls relative to p.
func (p Period) PhaseOn(day Date) Phase {
	switch {
	case p.From != (Date{}) && day.Before(p.From):
		return BeforePeriod
	case p.Until != (Date{}) && day.After(p.Until):
		return AfterPeriod
	}
	return InPeriod
}

// InForce reports whether p is in force on day.
func (p Period) InForce(day Date) bool { return p.PhaseOn(day) == InPeriod }

// Overlaps reports whether p is in force on at least one day of [from, to].
func (p Period) Overlaps(from, to Date) bool {
	if p.From != (Date{}) && to.Before(p.From) {
		return false
	}
	if p.Until != (Date{}) && from.After(p.Until) {
		return false
	}
	return true
}

// Exam2026 is when requests need a French level and a civic exam passed
// before filing: a first multi-year card (A2 and the exam), a first carte de
// résident (B1 and the exam) and naturalisation (B2 and the exam, mention
// "naturalisation"), for requests filed from 1 January 2026 (loi n° 2024-42
// of 26 January 2024, art. 20; décrets n° 2025-647 and 2025-648 of 15 July
// 2025; arrêté of 10 October 2025). Renewals of the same card are not
// concerned (official-sources.md rows 28 and 29). The guide's tree.yaml
// carries the same date (rules exam_2026_*); a test keeps them equal.
var Exam2026 = Period{From: Date{Year: 2026, Month: 1, Day: 1}}

// TemporaryProtection is the period of the EU temporary protection of people
// displaced from Ukraine as known from the sources: Council implementing
// decision (EU) 2022/382 of 4 March 2022, extended to 4 March 2027 by the
// Council agreement of 13 June 2025 (official-sources.md row 33; the formal
// act was not seen). Whether it is extended again is not known.
var TemporaryProtection = Period{
	From:  Date{Year: 2022, Month: 3, Day: 4},
	Until: Date{Year: 2027, Month: 3, Day: 4},
}

// APS renewal: the local rules found ask to renew an autorisation provisoire
// de séjour of temporary protection between APSEarliestDays and APSLatestDays
// days before its expiry (Haute-Loire, and the ministry's advice relayed by a
// lawyer), or at least APSAtLeastDays days before (Calvados)
// (official-sources.md row 33; anef.md §2.3). The earliest of these rules
// decides the first reminder.
const (
	APSEarliestDays = 21
	APSAtLeastDays  = 15
	APSLatestDays   = 3
)

// String returns the constant's name: "BeforePeriod", "InPeriod" or
// "AfterPeriod".
func (p Phase) String() string {
	switch p {
	case BeforePeriod:
		return "BeforePeriod"
	case InPeriod:
		return "InPeriod"
	case AfterPeriod:
		return "AfterPeriod"
	}
	return "Phase(" + strconv.Itoa(int(p)) + ")"
}

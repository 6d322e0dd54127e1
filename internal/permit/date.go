// Package permit is the legal calendar of French residence permits: when a
// renewal may be filed, when it becomes late, and the other deadlines of
// CESEDA that the bot reminds people about. It is pure: it never reads the
// clock, so callers pass "today" as a [Date].
//
// Source tags such as [S85] in comments refer to section 10 of the project's
// ANEF domain brief (shared/domain/anef.md); rules are taken from its section
// 3, corrected by shared/domain/official-sources.md. The tags in
// [Milestone.Sources] and [Window.Sources] are those of the guide's
// sources.yaml (the official legal basis, for example "ceseda-r431-5").
package permit

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadDate is wrapped by every error that reports an impossible or
// unreadable date ([NewDate], [ParseDate]). Check it with [errors.Is].
var ErrBadDate = errors.New("permit: bad date")

// minYear and maxYear bound the years [NewDate] and [ParseDate] accept, so
// that [Date.String] is always four digits and parses back.
const (
	minYear = 1
	maxYear = 9999
)

// Date is a civil date with no time zone, the way dates are printed on a
// titre de séjour. Compare Dates with [Date.Compare] or [Date.Equal]; == also
// works because the fields are plain values.
//
// The zero Date is not a valid date; build Dates with [NewDate], [DateOf] or
// [ParseDate]. Methods given an invalid Date normalise it the way [time.Date]
// does instead of panicking.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date y-m-d, or an error wrapping [ErrBadDate] if that
// day does not exist (2027-02-30, month 13) or the year is outside
// 1..9999.
func NewDate(y int, m time.Month, d int) (Date, error) {
	if y < minYear || y > maxYear {
		return Date{}, fmt.Errorf("%w: year out of range %d-%d", ErrBadDate, minYear, maxYear)
	}
	if m < time.January || m > time.December {
		return Date{}, fmt.Errorf("%w: month out of range 1-12", ErrBadDate)
	}
	if d < 1 || d > daysIn(y, m) {
		return Date{}, fmt.Errorf("%w: day out of range for the month", ErrBadDate)
	}
	return Date{Year: y, Month: m, Day: d}, nil
}

// DateOf returns the civil date of t as seen in loc (for the bot, usually
// Europe/Paris): 2027-06-30T22:30:00Z is 2027-07-01 in Paris. A nil loc
// means t's own location.
func DateOf(t time.Time, loc *time.Location) Date {
	if loc != nil {
		t = t.In(loc)
	}
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// AddDays returns the date n calendar days after d (before d if n < 0).
// D-n in this package means expiry.AddDays(-n).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC), nil)
}

// AddMonths returns the same day n months after d (before d if n < 0),
// clamped to the last day of the target month: 2027-03-31 minus one month is
// 2027-02-28, 2028-03-31 minus one month is 2028-02-29, 2027-10-31 plus four
// months is 2028-02-29. This is the usual French way of counting a delay in
// months (same day number, or the last day of a shorter month; compare Code
// de procédure civile art. 641) and, unlike [time.Time.AddDate], it never
// spills into the following month.
func (d Date) AddMonths(n int) Date {
	total := d.Year*12 + int(d.Month-time.January) + n
	y := floorDiv(total, 12)
	m := time.Month(total-y*12) + time.January
	day := d.Day
	if last := daysIn(y, m); day > last {
		day = last
	}
	return Date{Year: y, Month: m, Day: day}
}

// Compare returns -1 if d is before other, 0 if they are the same day and +1
// if d is after other, like [time.Time.Compare].
func (d Date) Compare(other Date) int {
	switch {
	case d.Year != other.Year:
		return sign(d.Year - other.Year)
	case d.Month != other.Month:
		return sign(int(d.Month) - int(other.Month))
	default:
		return sign(d.Day - other.Day)
	}
}

// Before reports whether d is strictly before other.
func (d Date) Before(other Date) bool { return d.Compare(other) < 0 }

// After reports whether d is strictly after other.
func (d Date) After(other Date) bool { return d.Compare(other) > 0 }

// Equal reports whether d and other are the same day.
func (d Date) Equal(other Date) bool { return d.Compare(other) == 0 }

// DaysUntil returns the number of calendar days from d to other: positive
// when other is later, negative when it is already past, 0 on the same day.
// today.DaysUntil(expiry) == 60 means today is D-60.
func (d Date) DaysUntil(other Date) int {
	const secondsPerDay = 24 * 60 * 60
	return int((other.utc().Unix() - d.utc().Unix()) / secondsPerDay)
}

// String returns d as YYYY-MM-DD, which [ParseDate] reads back.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Format formats d with a [time] layout, as midnight UTC on that day; layouts
// should therefore only use date elements ("02/01/2006", "2 January 2006").
// Month and weekday names come out in English; translate them elsewhere.
func (d Date) Format(layout string) string {
	return d.utc().Format(layout)
}

// At returns the instant at hour:00 local time in loc on day d, for example
// the moment a reminder should fire. It follows loc's daylight-saving rules:
// in Europe/Paris, 2027-03-28 at 10 is 08:00 UTC and 2027-10-31 at 10 is
// 09:00 UTC. Hours outside 0..23 roll over as in [time.Date]; an hour that
// does not exist locally (the spring-forward gap) is resolved as [time.Date]
// resolves it. A nil loc means UTC.
func (d Date) At(hour int, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year, d.Month, d.Day, hour, 0, 0, 0, loc)
}

// utc is midnight UTC on d; UTC has no daylight saving, so day arithmetic on
// it is exact.
func (d Date) utc() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// MarshalText writes d as YYYY-MM-DD, so that stored records stay short and
// readable.
func (d Date) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText reads what [Date.MarshalText] wrote (YYYY-MM-DD only; not the
// free forms [ParseDate] accepts from people).
func (d *Date) UnmarshalText(b []byte) error {
	t, err := time.Parse("2006-01-02", string(b))
	if err != nil {
		return fmt.Errorf("%w: want YYYY-MM-DD", ErrBadDate)
	}
	*d = Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
	return nil
}

package handoff

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// horizonDays bounds every search for an opening: NextOpening looks this
// many days ahead, AddOpen and OpenDaysAfter give up after this many days
// in a row without one. A year-long closure plus a margin.
const horizonDays = 400

// maxScanDays bounds AddOpen and OpenDaysAfter even when the partner keeps
// opening: about a century.
const maxScanDays = 36600

// Interval is one opening interval of a day, in wall-clock minutes after
// midnight, open from Start (included) to End (excluded). 0 ≤ Start < End ≤
// 1440; End 1440 is 24:00, the next midnight.
type Interval struct {
	Start, End int
}

// String formats iv as "09:00-12:30", the form the partners file uses.
func (iv Interval) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", iv.Start/60, iv.Start%60, iv.End/60, iv.End%60)
}

// Closure is a run of days when a partner is closed whatever its weekly
// schedule says (holidays, summer break): From and To are civil dates
// YYYY-MM-DD in the partner's time zone, both included. Note is for the
// coordinators who read the file.
type Closure struct {
	From, To string
	Note     string
}

// Hours is a partner's opening hours: a weekly schedule of wall-clock
// intervals in a time zone, minus closures. Intervals are wall-clock times,
// so on the day clocks go forward 01:00-04:00 lasts two real hours, and on
// the day they go back it lasts four; every duration Hours computes is real
// elapsed time while open.
//
// An Hours is immutable and safe for concurrent use. A nil or zero Hours is
// never open.
type Hours struct {
	loc      *time.Location
	week     [7][]Interval // by time.Weekday
	closures []Closure
	closed   [][2]int // closures as day keys, From and To
}

// NewHours returns the schedule week (indexed by time.Weekday: Sunday is
// 0) in loc (nil: UTC), minus closures. Each day's intervals may come in any
// order but must not overlap; a closure's To may be empty for a single day.
// A schedule with no interval at all is valid and never open (the partners
// file rejects it).
func NewHours(loc *time.Location, week [7][]Interval, closures []Closure) (*Hours, error) {
	if loc == nil {
		loc = time.UTC
	}
	h := &Hours{loc: loc}
	var errs []error
	for wd, ivs := range week {
		ivs, err := checkIntervals(slices.Clone(ivs))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", strings.ToLower(time.Weekday(wd).String()), err))
		}
		h.week[wd] = ivs
	}
	for _, c := range closures {
		from, to, err := closureDays(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if c.To == "" {
			c.To = c.From
		}
		h.closures = append(h.closures, c)
		h.closed = append(h.closed, [2]int{from, to})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return h, nil
}

// checkIntervals sorts ivs and checks their range and that they do not
// overlap (touching is fine: 09:00-12:00 and 12:00-14:00).
func checkIntervals(ivs []Interval) ([]Interval, error) {
	for _, iv := range ivs {
		if iv.Start < 0 || iv.End > 24*60 || iv.Start >= iv.End {
			return nil, fmt.Errorf("interval %s: the start must come before the end, within 00:00-24:00", iv)
		}
	}
	slices.SortFunc(ivs, func(a, b Interval) int { return cmp.Compare(a.Start, b.Start) })
	for i := 1; i < len(ivs); i++ {
		if ivs[i].Start < ivs[i-1].End {
			return nil, fmt.Errorf("intervals %s and %s overlap", ivs[i-1], ivs[i])
		}
	}
	return ivs, nil
}

// closureDays checks c and returns its first and last days as day keys.
func closureDays(c Closure) (from, to int, err error) {
	f, err := time.Parse(time.DateOnly, c.From)
	if err != nil {
		return 0, 0, fmt.Errorf("closure %q is not a date like 2027-12-24", c.From)
	}
	t := f
	if c.To != "" {
		if t, err = time.Parse(time.DateOnly, c.To); err != nil {
			return 0, 0, fmt.Errorf("closure to %q is not a date like 2027-12-24", c.To)
		}
	}
	if t.Before(f) {
		return 0, 0, fmt.Errorf("closure from %s to %s: the end comes before the start", c.From, c.To)
	}
	return dayOf(f, time.UTC).key(), dayOf(t, time.UTC).key(), nil
}

// Location returns the time zone of the schedule.
func (h *Hours) Location() *time.Location {
	if h == nil || h.loc == nil {
		return time.UTC
	}
	return h.loc
}

// Day returns the weekly intervals of weekday wd, in order (a new slice).
func (h *Hours) Day(wd time.Weekday) []Interval {
	if h == nil || wd < time.Sunday || wd > time.Saturday {
		return nil
	}
	return slices.Clone(h.week[wd])
}

// Closures returns the closures, To filled in (a new slice).
func (h *Hours) Closures() []Closure {
	if h == nil {
		return nil
	}
	return slices.Clone(h.closures)
}

// empty reports whether the weekly schedule has no interval at all.
func (h *Hours) empty() bool {
	if h == nil {
		return true
	}
	for _, ivs := range h.week {
		if len(ivs) > 0 {
			return false
		}
	}
	return true
}

// Open reports whether the partner is open at t.
func (h *Hours) Open(t time.Time) bool {
	d := dayOf(t, h.Location()).prev()
	for range 2 {
		for _, sp := range h.spans(d) {
			if !t.Before(sp.start) && t.Before(sp.end) {
				return true
			}
		}
		d = d.next()
	}
	return false
}

// NextOpening returns t if the partner is open at t, else the start of its
// next opening interval. It looks 400 days ahead and returns the zero Time
// when there is no opening in that horizon.
func (h *Hours) NextOpening(t time.Time) time.Time {
	d := dayOf(t, h.Location()).prev()
	for range horizonDays + 2 {
		for _, sp := range h.spans(d) {
			if sp.end.After(t) {
				return later(sp.start, t)
			}
		}
		d = d.next()
	}
	return time.Time{}
}

// AddOpen returns the moment when d of open time has elapsed after t: the
// end of an SLA "counted in opening hours". It returns t when d ≤ 0, and an
// interval's end when d is used up exactly there (Friday 17:00, not Monday
// 09:00). It returns the zero Time when 400 days in a row pass without an
// opening before d is reached (or after about a century).
func (h *Hours) AddOpen(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	day := dayOf(t, h.Location()).prev()
	idle := 0
	for range maxScanDays {
		found := false
		for _, sp := range h.spans(day) {
			if !sp.end.After(t) {
				continue
			}
			found = true
			start := later(sp.start, t)
			avail := sp.end.Sub(start)
			if avail >= d {
				return start.Add(d)
			}
			d -= avail
		}
		if found {
			idle = 0
		} else if idle++; idle > horizonDays {
			break
		}
		day = day.next()
	}
	return time.Time{}
}

// OpenBetween returns how much open time lies between a and b (0 when b is
// not after a).
func (h *Hours) OpenBetween(a, b time.Time) time.Duration {
	if !b.After(a) || h.empty() {
		return 0
	}
	var total time.Duration
	last := dayOf(b, h.Location()).key()
	for d := dayOf(a, h.Location()).prev(); d.key() <= last; d = d.next() {
		for _, sp := range h.spans(d) {
			s, e := later(sp.start, a), earlier(sp.end, b)
			if e.After(s) {
				total += e.Sub(s)
			}
		}
	}
	return total
}

// OpenDaysAfter returns the end of the n-th opening day after t: an
// opening day is a civil day (in the schedule's zone) with at least one
// opening interval, not closed; it counts when every one of its intervals
// starts at or after t, so a day on which t falls during opening hours does
// not count, and a day on which t falls before the first interval does. The
// result is the end of that day's last interval. OpenDaysAfter returns t
// when n ≤ 0, and the zero Time when 400 days in a row pass without an
// opening day.
func (h *Hours) OpenDaysAfter(t time.Time, n int) time.Time {
	if n <= 0 {
		return t
	}
	day := dayOf(t, h.Location())
	idle, count := 0, 0
	for range maxScanDays {
		sps := h.spans(day)
		if len(sps) > 0 {
			idle = 0
			if !sps[0].start.Before(t) {
				if count++; count == n {
					return sps[len(sps)-1].end
				}
			}
		} else if idle++; idle > horizonDays {
			break
		}
		day = day.next()
	}
	return time.Time{}
}

// span is one opening interval on a given day, as instants.
type span struct{ start, end time.Time }

// spans returns the opening intervals of day d as instants, in order; none
// when d is closed.
func (h *Hours) spans(d day) []span {
	if h == nil {
		return nil
	}
	ivs := h.week[d.weekday()]
	if len(ivs) == 0 {
		return nil
	}
	k := d.key()
	for _, c := range h.closed {
		if k >= c[0] && k <= c[1] {
			return nil
		}
	}
	loc := h.Location()
	out := make([]span, 0, len(ivs))
	for _, iv := range ivs {
		// Minutes past midnight are normalised on the wall clock, so 540
		// is 09:00 even on a day with a DST change.
		s := time.Date(d.y, d.m, d.d, 0, iv.Start, 0, 0, loc)
		e := time.Date(d.y, d.m, d.d, 0, iv.End, 0, 0, loc)
		if e.After(s) { // an interval inside a skipped DST hour may vanish
			out = append(out, span{s, e})
		}
	}
	return out
}

// day is a civil date.
type day struct {
	y int
	m time.Month
	d int
}

func dayOf(t time.Time, loc *time.Location) day {
	y, m, d := t.In(loc).Date()
	return day{y, m, d}
}

func (d day) utc() time.Time        { return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC) }
func (d day) next() day             { return dayOf(d.utc().AddDate(0, 0, 1), time.UTC) }
func (d day) prev() day             { return dayOf(d.utc().AddDate(0, 0, -1), time.UTC) }
func (d day) weekday() time.Weekday { return d.utc().Weekday() }
func (d day) key() int              { return d.y*10000 + int(d.m)*100 + d.d }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// parseDay reads the intervals of one day from the texts of the partners
// file: "09:00-12:00, 14:00-17:00", "9h-12h30 14h-17h", "closed" or empty.
// Several texts (a YAML list) add up.
func parseDay(texts ...string) ([]Interval, error) {
	var ivs []Interval
	for _, text := range texts {
		more, err := parseIntervals(text)
		if err != nil {
			return nil, err
		}
		ivs = append(ivs, more...)
	}
	return checkIntervals(ivs)
}

// parseIntervals reads one text of intervals, unsorted.
func parseIntervals(s string) ([]Interval, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "closed", "fermé", "ferme":
		return nil, nil
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case '–', '—', '‐', '‑', '−':
			return '-'
		}
		return r
	}, s)
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
	var parts []string // "09:00 - 12:00" was three fields
	for _, f := range fields {
		if n := len(parts); n > 0 && (strings.HasSuffix(parts[n-1], "-") || strings.HasPrefix(f, "-")) {
			parts[n-1] += f
			continue
		}
		parts = append(parts, f)
	}
	var ivs []Interval
	for _, p := range parts {
		from, to, ok := strings.Cut(p, "-")
		if !ok || strings.Contains(to, "-") {
			return nil, fmt.Errorf("%q: want intervals like 09:00-12:00, 14:00-17:00 (or closed)", p)
		}
		start, err := parseClock(from, false)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", p, err)
		}
		end, err := parseClock(to, true)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", p, err)
		}
		if start >= end {
			return nil, fmt.Errorf("%q: the start must come before the end (split a night across two days)", p)
		}
		ivs = append(ivs, Interval{start, end})
	}
	return ivs, nil
}

// parseClock reads "9", "09", "9:30", "09:30", "9h", "9h30" as minutes
// after midnight. 24:00 is accepted only as an end.
func parseClock(s string, end bool) (int, error) {
	bad := fmt.Errorf("%q is not a time like 09:30", s)
	hh, mm, found := strings.Cut(s, ":")
	if !found {
		hh, mm, _ = strings.Cut(s, "h")
	}
	if len(hh) < 1 || len(hh) > 2 || !allDigits(hh) || found && len(mm) != 2 || mm != "" && (len(mm) != 2 || !allDigits(mm)) {
		return 0, bad
	}
	h := int(hh[0] - '0')
	if len(hh) == 2 {
		h = h*10 + int(hh[1]-'0')
	}
	m := 0
	if mm != "" {
		m = int(mm[0]-'0')*10 + int(mm[1]-'0')
	}
	switch {
	case m > 59, h > 24, h == 24 && (m != 0 || !end):
		return 0, fmt.Errorf("%q is not a time of day (00:00 to 24:00)", s)
	}
	return h*60 + m, nil
}

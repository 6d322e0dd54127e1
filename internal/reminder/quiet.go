package reminder

import "time"

// Hours are daily quiet hours, from From:00 up to (not including) To:00
// local time, with From and To in 0..23. They may wrap midnight (21→9 is
// quiet from 21:00 to 09:00 the next morning). From == To means no quiet
// hours.
type Hours struct{ From, To int }

// Quiet reports whether t falls inside the quiet hours in loc.
func (h Hours) Quiet(t time.Time, loc *time.Location) bool {
	if h.From == h.To {
		return false
	}
	hour := t.In(loc).Hour()
	if h.From < h.To {
		return hour >= h.From && hour < h.To
	}
	return hour >= h.From || hour < h.To
}

// NextAllowed returns t when it is not quiet, otherwise the next To:00 in
// loc. Wall-clock arithmetic goes through time.Date in loc, so days that
// are 23 or 25 hours long (DST changes) are handled.
func (h Hours) NextAllowed(t time.Time, loc *time.Location) time.Time {
	if !h.Quiet(t, loc) {
		return t
	}
	lt := t.In(loc)
	y, m, d := lt.Date()
	for i := 0; i < 3; i++ {
		end := time.Date(y, m, d+i, h.To, 0, 0, 0, loc)
		if end.After(t) && !h.Quiet(end, loc) {
			return end
		}
	}
	// Unreachable for From, To in 0..23; fall back to a day later.
	return t.Add(24 * time.Hour)
}

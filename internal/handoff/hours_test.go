package handoff_test

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris even on machines without a zoneinfo database

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

func paris(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// at returns the wall-clock time "2027-03-26 17:00" in loc.
func at(tb testing.TB, loc *time.Location, s string) time.Time {
	tb.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// hm is an interval from "HH:MM" pairs given as minutes.
func hm(h1, m1, h2, m2 int) handoff.Interval {
	return handoff.Interval{Start: h1*60 + m1, End: h2*60 + m2}
}

func newHours(tb testing.TB, loc *time.Location, week [7][]handoff.Interval, closures ...handoff.Closure) *handoff.Hours {
	tb.Helper()
	h, err := handoff.NewHours(loc, week, closures)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// office is Monday to Friday, 09:00-12:00 and 14:00-17:00.
func office(tb testing.TB, closures ...handoff.Closure) *handoff.Hours {
	tb.Helper()
	day := []handoff.Interval{hm(14, 0, 17, 0), hm(9, 0, 12, 0)} // out of order on purpose
	var week [7][]handoff.Interval
	for wd := time.Monday; wd <= time.Friday; wd++ {
		week[wd] = day
	}
	return newHours(tb, paris(tb), week, closures...)
}

// always is open all day, every day.
func always(tb testing.TB) *handoff.Hours {
	tb.Helper()
	var week [7][]handoff.Interval
	for wd := range week {
		week[wd] = []handoff.Interval{hm(0, 0, 24, 0)}
	}
	return newHours(tb, paris(tb), week)
}

// nights is open on Fridays 20:00-24:00, Saturdays 00:00-02:00 and
// Sundays 01:00-04:00 (across the DST change).
func nights(tb testing.TB) *handoff.Hours {
	tb.Helper()
	var week [7][]handoff.Interval
	week[time.Friday] = []handoff.Interval{hm(20, 0, 24, 0)}
	week[time.Saturday] = []handoff.Interval{hm(0, 0, 2, 0)}
	week[time.Sunday] = []handoff.Interval{hm(1, 0, 4, 0)}
	return newHours(tb, paris(tb), week)
}

// The calendar the tests rely on.
func TestCalendar2027(t *testing.T) {
	loc := paris(t)
	for s, wd := range map[string]time.Weekday{
		"2027-03-26 12:00": time.Friday, "2027-03-28 12:00": time.Sunday, "2027-03-31 12:00": time.Wednesday,
		"2027-10-29 12:00": time.Friday, "2027-10-31 12:00": time.Sunday, "2027-04-09 12:00": time.Friday,
	} {
		if got := at(t, loc, s).Weekday(); got != wd {
			t.Errorf("%s is a %v; the tests assume %v", s, got, wd)
		}
	}
	// The last Sundays of March and October 2027 change the offset.
	for _, c := range []struct {
		before, after string
		off1, off2    int
	}{{"2027-03-28 01:59", "2027-03-28 03:00", 3600, 7200}, {"2027-10-31 01:00", "2027-10-31 04:00", 7200, 3600}} {
		_, o1 := at(t, loc, c.before).Zone()
		_, o2 := at(t, loc, c.after).Zone()
		if o1 != c.off1 || o2 != c.off2 {
			t.Errorf("offsets around %s: %d, %d; want %d, %d", c.before, o1, o2, c.off1, c.off2)
		}
	}
}

func TestNewHours(t *testing.T) {
	var ok [7][]handoff.Interval
	ok[time.Monday] = []handoff.Interval{hm(9, 0, 12, 0), hm(12, 0, 14, 0)} // touching is fine
	tests := []struct {
		name     string
		week     func() [7][]handoff.Interval
		closures []handoff.Closure
		wantErr  bool
	}{
		{"fine", func() [7][]handoff.Interval { return ok }, []handoff.Closure{{From: "2027-12-24", To: "2028-01-02"}, {From: "2027-11-01"}}, false},
		{"empty week", func() [7][]handoff.Interval { return [7][]handoff.Interval{} }, nil, false},
		{"overlap", func() [7][]handoff.Interval {
			w := ok
			w[time.Tuesday] = []handoff.Interval{hm(9, 0, 12, 0), hm(11, 0, 13, 0)}
			return w
		}, nil, true},
		{"backwards", func() [7][]handoff.Interval {
			w := ok
			w[time.Tuesday] = []handoff.Interval{hm(12, 0, 9, 0)}
			return w
		}, nil, true},
		{"empty interval", func() [7][]handoff.Interval {
			w := ok
			w[time.Tuesday] = []handoff.Interval{hm(9, 0, 9, 0)}
			return w
		}, nil, true},
		{"past midnight", func() [7][]handoff.Interval {
			w := ok
			w[time.Tuesday] = []handoff.Interval{hm(22, 0, 24, 30)}
			return w
		}, nil, true},
		{"negative", func() [7][]handoff.Interval {
			w := ok
			w[time.Tuesday] = []handoff.Interval{{Start: -60, End: 60}}
			return w
		}, nil, true},
		{"closure backwards", func() [7][]handoff.Interval { return ok }, []handoff.Closure{{From: "2027-12-24", To: "2027-12-23"}}, true},
		{"closure bad date", func() [7][]handoff.Interval { return ok }, []handoff.Closure{{From: "2027-02-30"}}, true},
		{"closure not ISO", func() [7][]handoff.Interval { return ok }, []handoff.Closure{{From: "24/12/2027"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := handoff.NewHours(paris(t), tt.week(), tt.closures)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewHours: err = %v; want error %v", err, tt.wantErr)
			}
			if err == nil && h == nil {
				t.Fatal("NewHours returned nil Hours and no error")
			}
		})
	}
}

func TestHoursAccessors(t *testing.T) {
	h := office(t, handoff.Closure{From: "2027-11-01", Note: "Toussaint"})
	if got := h.Day(time.Monday); len(got) != 2 || got[0] != hm(9, 0, 12, 0) || got[1] != hm(14, 0, 17, 0) {
		t.Errorf("Day(Monday) = %v; want [09:00-12:00 14:00-17:00] in order", got)
	}
	if got := h.Day(time.Sunday); len(got) != 0 {
		t.Errorf("Day(Sunday) = %v; want none", got)
	}
	if got := h.Closures(); len(got) != 1 || got[0] != (handoff.Closure{From: "2027-11-01", To: "2027-11-01", Note: "Toussaint"}) {
		t.Errorf("Closures() = %v; want To filled in", got)
	}
	if h.Location().String() != "Europe/Paris" {
		t.Errorf("Location() = %v", h.Location())
	}
	if got := hm(9, 5, 24, 0).String(); got != "09:05-24:00" {
		t.Errorf("Interval.String() = %q", got)
	}
}

func TestOpen(t *testing.T) {
	loc := paris(t)
	winter := handoff.Closure{From: "2027-04-09", To: "2027-04-12"} // Friday to Monday, over a weekend
	h := office(t, winter)
	n := nights(t)
	tests := []struct {
		name string
		h    *handoff.Hours
		at   string
		want bool
	}{
		{"Friday morning", h, "2027-03-26 09:00", true},
		{"opening minute", h, "2027-03-26 09:00", true},
		{"last minute", h, "2027-03-26 11:59", true},
		{"lunch", h, "2027-03-26 12:00", false},
		{"afternoon", h, "2027-03-26 16:30", true},
		{"closing", h, "2027-03-26 17:00", false},
		{"early", h, "2027-03-26 08:59", false},
		{"Saturday", h, "2027-03-27 10:00", false},
		{"Sunday of DST", h, "2027-03-28 10:00", false},
		{"Monday after DST", h, "2027-03-29 09:30", true},
		{"closure Friday", h, "2027-04-09 10:00", false},
		{"closure Monday", h, "2027-04-12 10:00", false},
		{"after the closure", h, "2027-04-13 09:00", true},
		{"before midnight", n, "2027-03-26 23:59", true},
		{"midnight", n, "2027-03-27 00:00", true},
		{"after 02:00", n, "2027-03-27 02:00", false},
		{"skipped hour, after", n, "2027-03-28 03:30", true},
		{"skipped hour, end", n, "2027-03-28 04:00", false},
		{"October repeated hour", n, "2027-10-31 02:30", true},
		{"Sunday before 01:00", n, "2027-10-31 00:30", false},
	}
	for _, tt := range tests {
		if got := tt.h.Open(at(t, loc, tt.at)); got != tt.want {
			t.Errorf("%s: Open(%s) = %v; want %v", tt.name, tt.at, got, tt.want)
		}
	}
	// The same instant in another zone gives the same answer.
	if !h.Open(at(t, loc, "2027-03-26 10:00").UTC()) {
		t.Error("Open of a UTC time: false; want true")
	}
}

func TestNextOpening(t *testing.T) {
	loc := paris(t)
	h := office(t, handoff.Closure{From: "2027-04-09", To: "2027-04-12"})
	n := nights(t)
	tests := []struct {
		name string
		h    *handoff.Hours
		from string
		want string
	}{
		{"open: itself", h, "2027-03-26 10:15", "2027-03-26 10:15"},
		{"lunch", h, "2027-03-26 12:00", "2027-03-26 14:00"},
		{"Friday evening → Monday, across DST", h, "2027-03-26 17:00", "2027-03-29 09:00"},
		{"Saturday", h, "2027-03-27 11:00", "2027-03-29 09:00"},
		{"before opening", h, "2027-03-29 07:00", "2027-03-29 09:00"},
		{"closure over a weekend", h, "2027-04-08 18:00", "2027-04-13 09:00"},
		{"inside the closure", h, "2027-04-10 10:00", "2027-04-13 09:00"},
		{"night: after 02:00 Saturday → Sunday 01:00", n, "2027-03-27 03:00", "2027-03-28 01:00"},
		{"night: Sunday 05:00 → Friday 20:00", n, "2027-03-28 05:00", "2027-04-02 20:00"},
	}
	for _, tt := range tests {
		got := tt.h.NextOpening(at(t, loc, tt.from))
		if want := at(t, loc, tt.want); !got.Equal(want) {
			t.Errorf("%s: NextOpening(%s) = %v; want %v", tt.name, tt.from, got.In(loc), want)
		}
	}
}

// An interval starting after the clocks change keeps its wall-clock time.
func TestDSTDayLateInterval(t *testing.T) {
	loc := paris(t)
	var week [7][]handoff.Interval
	week[time.Sunday] = []handoff.Interval{hm(10, 0, 12, 0)}
	h := newHours(t, loc, week)
	for _, day := range []string{"2027-03-28", "2027-10-31"} {
		if got, want := h.NextOpening(at(t, loc, day+" 08:00")), at(t, loc, day+" 10:00"); !got.Equal(want) {
			t.Errorf("NextOpening(%s 08:00) = %v; want %v", day, got.In(loc), want)
		}
		if h.Open(at(t, loc, day+" 09:30")) || !h.Open(at(t, loc, day+" 11:59")) || h.Open(at(t, loc, day+" 12:00")) {
			t.Errorf("%s: open at the wrong times", day)
		}
		if got := h.OpenBetween(at(t, loc, day+" 00:00"), at(t, loc, day+" 23:00")); got != 2*time.Hour {
			t.Errorf("%s: OpenBetween over the day = %v; want 2h", day, got)
		}
	}
}

func TestNeverOpen(t *testing.T) {
	loc := paris(t)
	now := at(t, loc, "2027-03-26 10:00")
	var week [7][]handoff.Interval
	week[time.Monday] = []handoff.Interval{hm(9, 0, 17, 0)}
	for name, h := range map[string]*handoff.Hours{
		"nil":                    nil,
		"zero":                   {},
		"empty week":             newHours(t, loc, [7][]handoff.Interval{}),
		"closed for three years": newHours(t, loc, week, handoff.Closure{From: "2027-01-01", To: "2029-12-31"}),
	} {
		if h.Open(now) {
			t.Errorf("%s: Open = true", name)
		}
		if got := h.NextOpening(now); !got.IsZero() {
			t.Errorf("%s: NextOpening = %v; want zero", name, got)
		}
		if got := h.AddOpen(now, time.Hour); !got.IsZero() {
			t.Errorf("%s: AddOpen = %v; want zero", name, got)
		}
		if got := h.OpenBetween(now, now.AddDate(1, 0, 0)); got != 0 {
			t.Errorf("%s: OpenBetween = %v; want 0", name, got)
		}
		if got := h.OpenDaysAfter(now, 1); !got.IsZero() {
			t.Errorf("%s: OpenDaysAfter = %v; want zero", name, got)
		}
	}
	// Within 400 days of the end of the closure, it opens again.
	h := newHours(t, loc, week, handoff.Closure{From: "2027-01-01", To: "2029-12-31"})
	if got, want := h.NextOpening(at(t, loc, "2029-06-01 10:00")), at(t, loc, "2030-01-07 09:00"); !got.Equal(want) {
		t.Errorf("NextOpening before the end of a long closure = %v; want %v", got, want)
	}
	if got, want := h.AddOpen(at(t, loc, "2029-06-01 10:00"), 9*time.Hour), at(t, loc, "2030-01-14 10:00"); !got.Equal(want) {
		t.Errorf("AddOpen before the end of a long closure = %v; want %v", got, want)
	}
}

func TestAddOpen(t *testing.T) {
	loc := paris(t)
	h := office(t)
	hc := office(t, handoff.Closure{From: "2027-04-09", To: "2027-04-12"}, handoff.Closure{From: "2027-11-01"})
	tests := []struct {
		name string
		h    *handoff.Hours
		from string
		d    time.Duration
		want string
	}{
		// The SLA of the issue: 16 opening hours from Friday 17:00 with
		// Mon–Fri 09–12 and 14–17 (6 h a day). Friday 17:00 is closing
		// time. Monday 29: 3 h + 3 h = 6 h; Tuesday 30: 12 h; Wednesday 31:
		// 09–12 makes 15 h, and the 16th hour ends at 15:00. The weekend
		// holds the change to summer time, which must not move the answer
		// off 15:00 wall-clock time.
		{"16 h from Friday 17:00 (DST weekend)", h, "2027-03-26 17:00", 16 * time.Hour, "2027-03-31 15:00"},
		// The same in October: Monday 1 November, Tuesday, then Wednesday
		// 09–12 and 14–15.
		{"16 h from Friday 17:00 (October DST)", h, "2027-10-29 17:00", 16 * time.Hour, "2027-11-03 15:00"},
		// With 1 November closed (Toussaint) it moves a day: Tuesday 6 h,
		// Wednesday 12 h, Thursday 09–12 and 14–15.
		{"16 h with a holiday Monday", hc, "2027-10-29 17:00", 16 * time.Hour, "2027-11-04 15:00"},
		{"inside an interval", h, "2027-03-29 10:00", time.Hour, "2027-03-29 11:00"},
		{"ends exactly at closing", h, "2027-03-29 16:00", time.Hour, "2027-03-29 17:00"},
		{"ends exactly at lunch", h, "2027-03-29 09:00", 3 * time.Hour, "2027-03-29 12:00"},
		{"over lunch", h, "2027-03-29 11:30", time.Hour, "2027-03-29 14:30"},
		{"from lunch", h, "2027-03-29 12:30", 30 * time.Minute, "2027-03-29 14:30"},
		{"from the evening", h, "2027-03-29 20:00", 90 * time.Minute, "2027-03-30 10:30"},
		{"a whole week", h, "2027-03-29 09:00", 30 * time.Hour, "2027-04-02 17:00"},
		{"closure over a weekend", hc, "2027-04-08 16:00", 2 * time.Hour, "2027-04-13 10:00"},
		{"zero", h, "2027-03-27 10:00", 0, "2027-03-27 10:00"},
		{"negative", h, "2027-03-27 10:00", -time.Hour, "2027-03-27 10:00"},
		{"24/7 across the spring change", always(t), "2027-03-27 12:00", 24 * time.Hour, "2027-03-28 13:00"},
		{"24/7 across the autumn change", always(t), "2027-10-30 12:00", 24 * time.Hour, "2027-10-31 11:00"},
		{"night through midnight", nights(t), "2027-03-26 23:00", 2 * time.Hour, "2027-03-27 01:00"},
		// Sunday 28 March 01:00-04:00 lasts two real hours: 02:00 CET is
		// 03:00 CEST.
		{"night through the skipped hour", nights(t), "2027-03-28 01:00", 90 * time.Minute, "2027-03-28 03:30"},
		{"night: skipped hour used up", nights(t), "2027-03-28 01:00", 150 * time.Minute, "2027-04-02 20:30"},
	}
	for _, tt := range tests {
		got := tt.h.AddOpen(at(t, loc, tt.from), tt.d)
		if want := at(t, loc, tt.want); !got.Equal(want) {
			t.Errorf("%s: AddOpen(%s, %v) = %v; want %v", tt.name, tt.from, tt.d, got.In(loc), want)
		}
	}
	// The October night lasts four hours: 01:00 CEST to 04:00 CET.
	oct := at(t, loc, "2027-10-31 01:00")
	if got, want := nights(t).AddOpen(oct, 4*time.Hour), at(t, loc, "2027-10-31 04:00"); !got.Equal(want) {
		t.Errorf("AddOpen over the repeated hour = %v; want %v", got.In(loc), want)
	}
}

func TestOpenBetween(t *testing.T) {
	loc := paris(t)
	h := office(t, handoff.Closure{From: "2027-04-09", To: "2027-04-12"})
	tests := []struct {
		name string
		h    *handoff.Hours
		a, b string
		want time.Duration
	}{
		{"one day", h, "2027-03-29 00:00", "2027-03-30 00:00", 6 * time.Hour},
		{"part of an interval", h, "2027-03-29 10:30", "2027-03-29 11:00", 30 * time.Minute},
		{"over lunch", h, "2027-03-29 11:00", "2027-03-29 15:00", 2 * time.Hour},
		{"a weekend", h, "2027-03-26 17:00", "2027-03-29 09:00", 0},
		{"Friday to Wednesday 15:00", h, "2027-03-26 17:00", "2027-03-31 15:00", 16 * time.Hour},
		{"closure over a weekend", h, "2027-04-08 00:00", "2027-04-14 00:00", 12 * time.Hour},
		{"reversed", h, "2027-03-30 00:00", "2027-03-29 00:00", 0},
		{"equal", h, "2027-03-29 10:00", "2027-03-29 10:00", 0},
		{"24/7 spring weekend", always(t), "2027-03-27 00:00", "2027-03-29 00:00", 47 * time.Hour},
		{"24/7 autumn weekend", always(t), "2027-10-30 00:00", "2027-11-01 00:00", 49 * time.Hour},
		{"nights, spring Sunday", nights(t), "2027-03-28 00:00", "2027-03-29 00:00", 2 * time.Hour},
		{"nights, autumn Sunday", nights(t), "2027-10-31 00:00", "2027-11-01 00:00", 4 * time.Hour},
		{"nights, Friday to Saturday", nights(t), "2027-03-26 22:00", "2027-03-27 03:00", 4 * time.Hour},
	}
	for _, tt := range tests {
		if got := tt.h.OpenBetween(at(t, loc, tt.a), at(t, loc, tt.b)); got != tt.want {
			t.Errorf("%s: OpenBetween(%s, %s) = %v; want %v", tt.name, tt.a, tt.b, got, tt.want)
		}
	}
}

func TestOpenDaysAfter(t *testing.T) {
	loc := paris(t)
	h := office(t, handoff.Closure{From: "2027-04-09", To: "2027-04-12"})
	tests := []struct {
		name string
		from string
		n    int
		want string
	}{
		{"during Monday's hours", "2027-03-29 10:00", 2, "2027-03-31 17:00"},
		{"Monday lunch", "2027-03-29 12:30", 2, "2027-03-31 17:00"},
		{"Monday evening", "2027-03-29 18:00", 2, "2027-03-31 17:00"},
		{"Monday before opening", "2027-03-29 08:00", 2, "2027-03-30 17:00"},
		{"Monday at opening", "2027-03-29 09:00", 2, "2027-03-30 17:00"},
		{"Friday afternoon, over the weekend", "2027-03-26 15:00", 2, "2027-03-30 17:00"},
		{"Saturday", "2027-03-27 10:00", 2, "2027-03-30 17:00"},
		{"one day", "2027-03-29 10:00", 1, "2027-03-30 17:00"},
		{"closure over a weekend", "2027-04-07 10:00", 2, "2027-04-13 17:00"},
		{"n = 0", "2027-03-29 10:00", 0, "2027-03-29 10:00"},
	}
	for _, tt := range tests {
		got := h.OpenDaysAfter(at(t, loc, tt.from), tt.n)
		if want := at(t, loc, tt.want); !got.Equal(want) {
			t.Errorf("%s: OpenDaysAfter(%s, %d) = %v; want %v", tt.name, tt.from, tt.n, got.In(loc), want)
		}
	}
}

// TestHoursConsistent checks the methods against each other at random
// moments of 2027 (both DST changes included).
func TestHoursConsistent(t *testing.T) {
	loc := paris(t)
	r := rand.New(rand.NewPCG(1, 2))
	base := at(t, loc, "2027-01-01 00:00")
	for name, h := range map[string]*handoff.Hours{
		"office": office(t, handoff.Closure{From: "2027-04-09", To: "2027-04-12"}, handoff.Closure{From: "2027-12-20", To: "2028-01-03"}),
		"nights": nights(t),
		"always": always(t),
	} {
		for range 500 {
			from := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
			from = from.Truncate(time.Minute)
			d := time.Duration(r.Int64N(int64(40*time.Hour))).Truncate(time.Minute) + time.Minute
			end := h.AddOpen(from, d)
			if end.IsZero() || end.Before(from) {
				t.Fatalf("%s: AddOpen(%v, %v) = %v", name, from, d, end)
			}
			if got := h.OpenBetween(from, end); got != d {
				t.Fatalf("%s: OpenBetween(%v, AddOpen(…, %v) = %v) = %v", name, from, d, end, got)
			}
			if !h.Open(end.Add(-time.Nanosecond)) {
				t.Fatalf("%s: closed just before AddOpen(%v, %v) = %v", name, from, d, end)
			}
			next := h.NextOpening(from)
			if next.Before(from) || !h.Open(next) || h.OpenBetween(from, next) != 0 {
				t.Fatalf("%s: NextOpening(%v) = %v", name, from, next)
			}
			if h.Open(from) != next.Equal(from) {
				t.Fatalf("%s: Open(%v) = %v but NextOpening = %v", name, from, h.Open(from), next)
			}
		}
	}
}

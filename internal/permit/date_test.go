package permit_test

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris even on machines without a zoneinfo database

	"github.com/passerelle-bot/passerelle/internal/permit"
)

// mustDate turns a YYYY-MM-DD literal into a Date without going through
// permit.ParseDate, so that date tests do not depend on the parser.
func mustDate(tb testing.TB, s string) permit.Date {
	tb.Helper()
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		tb.Fatalf("bad test date %q: %v", s, err)
	}
	return permit.DateOf(t, time.UTC)
}

func paris(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		tb.Fatalf("load Europe/Paris: %v", err)
	}
	return loc
}

func TestNewDate(t *testing.T) {
	tests := []struct {
		name    string
		y       int
		m       time.Month
		d       int
		wantErr bool
	}{
		{"ordinary", 2027, time.June, 30, false},
		{"leap day in leap year", 2028, time.February, 29, false},
		{"leap day in century leap year", 2000, time.February, 29, false},
		{"leap day in non-leap year", 2027, time.February, 29, true},
		{"leap day in century non-leap year", 2100, time.February, 29, true},
		{"30 February", 2027, time.February, 30, true},
		{"31 April", 2027, time.April, 31, true},
		{"31 December", 2027, time.December, 31, false},
		{"day 0", 2027, time.January, 0, true},
		{"negative day", 2027, time.January, -1, true},
		{"month 0", 2027, 0, 1, true},
		{"month 13", 2027, 13, 1, true},
		{"year 0", 0, time.January, 1, true},
		{"year 1", 1, time.January, 1, false},
		{"year 9999", 9999, time.December, 31, false},
		{"year 10000", 10000, time.January, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := permit.NewDate(tt.y, tt.m, tt.d)
			if tt.wantErr {
				if !errors.Is(err, permit.ErrBadDate) {
					t.Fatalf("NewDate(%d, %d, %d) = %v, %v; want error wrapping ErrBadDate", tt.y, tt.m, tt.d, got, err)
				}
				return
			}
			want := permit.Date{Year: tt.y, Month: tt.m, Day: tt.d}
			if err != nil || got != want {
				t.Fatalf("NewDate(%d, %d, %d) = %v, %v; want %v, nil", tt.y, tt.m, tt.d, got, err, want)
			}
		})
	}
}

func TestDateOf(t *testing.T) {
	par := paris(t)
	tests := []struct {
		name string
		t    time.Time
		loc  *time.Location
		want string
	}{
		{"summer evening UTC is next day in Paris", time.Date(2027, 6, 30, 22, 30, 0, 0, time.UTC), par, "2027-07-01"},
		{"winter 23:30 UTC is next day in Paris", time.Date(2027, 12, 31, 23, 30, 0, 0, time.UTC), par, "2028-01-01"},
		{"winter 22:59 UTC is same day in Paris", time.Date(2027, 12, 31, 22, 59, 0, 0, time.UTC), par, "2027-12-31"},
		{"night of the spring change", time.Date(2027, 3, 27, 23, 30, 0, 0, time.UTC), par, "2027-03-28"},
		{"UTC stays UTC", time.Date(2028, 2, 29, 23, 59, 0, 0, time.UTC), time.UTC, "2028-02-29"},
		{"nil loc keeps t's location", time.Date(2028, 2, 29, 0, 30, 0, 0, par), nil, "2028-02-29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permit.DateOf(tt.t, tt.loc); got != mustDate(t, tt.want) {
				t.Errorf("DateOf(%v, %v) = %v; want %s", tt.t, tt.loc, got, tt.want)
			}
		})
	}
}

func TestAddDays(t *testing.T) {
	tests := []struct {
		name string
		d    string
		n    int
		want string
	}{
		{"zero", "2027-06-30", 0, "2027-06-30"},
		{"D-120 worked example", "2027-06-30", -120, "2027-03-02"},
		{"D-60 worked example", "2027-06-30", -60, "2027-05-01"},
		{"D-59 worked example", "2027-06-30", -59, "2027-05-02"},
		{"into leap day", "2028-02-28", 1, "2028-02-29"},
		{"out of leap day", "2028-02-29", 1, "2028-03-01"},
		{"no leap day in 2027", "2027-02-28", 1, "2027-03-01"},
		{"back over leap day", "2028-03-01", -1, "2028-02-29"},
		{"year boundary forward", "2027-12-31", 1, "2028-01-01"},
		{"year boundary backward", "2028-01-01", -1, "2027-12-31"},
		{"whole leap year", "2028-01-01", 366, "2029-01-01"},
		{"D-120 across a year", "2027-01-15", -120, "2026-09-17"},
		{"D-60 lands on leap day", "2028-04-29", -60, "2028-02-29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustDate(t, tt.d).AddDays(tt.n); got != mustDate(t, tt.want) {
				t.Errorf("%s.AddDays(%d) = %v; want %s", tt.d, tt.n, got, tt.want)
			}
		})
	}
}

func TestAddMonths(t *testing.T) {
	tests := []struct {
		name string
		d    string
		n    int
		want string
	}{
		{"zero", "2027-03-31", 0, "2027-03-31"},
		{"clamp to 28 February", "2027-03-31", -1, "2027-02-28"},
		{"clamp to leap day", "2028-03-31", -1, "2028-02-29"},
		{"clamp to 30 April", "2027-03-31", 1, "2027-04-30"},
		{"31 January plus one", "2027-01-31", 1, "2027-02-28"},
		{"31 January plus one in leap year", "2028-01-31", 1, "2028-02-29"},
		{"no clamp needed", "2027-01-15", 1, "2027-02-15"},
		{"year boundary forward", "2027-11-30", 3, "2028-02-29"},
		{"year boundary backward", "2027-01-15", -2, "2026-11-15"},
		{"exactly twelve", "2028-02-29", 12, "2029-02-28"},
		{"leap to leap", "2028-02-29", 48, "2032-02-29"},
		{"minus thirteen", "2027-01-31", -13, "2025-12-31"},
		{"minus twenty-four from leap day", "2028-02-29", -24, "2026-02-28"},
		{"eighteen years", "2009-06-15", 18 * 12, "2027-06-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustDate(t, tt.d).AddMonths(tt.n); got != mustDate(t, tt.want) {
				t.Errorf("%s.AddMonths(%d) = %v; want %s", tt.d, tt.n, got, tt.want)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2027-06-30", "2027-06-30", 0},
		{"2027-06-29", "2027-06-30", -1},
		{"2027-07-01", "2027-06-30", 1},
		{"2027-05-31", "2027-06-01", -1},
		{"2027-12-31", "2028-01-01", -1},
		{"2028-01-01", "2027-12-31", 1},
		{"2028-02-29", "2028-03-01", -1},
		{"2026-12-31", "2027-01-01", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			a, b := mustDate(t, tt.a), mustDate(t, tt.b)
			if got := a.Compare(b); got != tt.want {
				t.Errorf("%s.Compare(%s) = %d; want %d", tt.a, tt.b, got, tt.want)
			}
			if got, want := a.Before(b), tt.want < 0; got != want {
				t.Errorf("%s.Before(%s) = %t; want %t", tt.a, tt.b, got, want)
			}
			if got, want := a.After(b), tt.want > 0; got != want {
				t.Errorf("%s.After(%s) = %t; want %t", tt.a, tt.b, got, want)
			}
			if got, want := a.Equal(b), tt.want == 0; got != want {
				t.Errorf("%s.Equal(%s) = %t; want %t", tt.a, tt.b, got, want)
			}
		})
	}
}

func TestDaysUntil(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		want     int
	}{
		{"same day", "2027-06-30", "2027-06-30", 0},
		{"tomorrow", "2027-06-30", "2027-07-01", 1},
		{"yesterday", "2027-06-30", "2027-06-29", -1},
		{"worked example D-120", "2027-03-02", "2027-06-30", 120},
		{"worked example D-60", "2027-05-01", "2027-06-30", 60},
		{"persona 10: 70 days", "2027-01-10", "2027-03-21", 70},
		{"across leap day", "2028-02-28", "2028-03-01", 2},
		{"no leap day", "2027-02-28", "2027-03-01", 1},
		{"across DST change (civil days, not hours)", "2027-03-27", "2027-03-29", 2},
		{"leap year length", "2028-01-01", "2029-01-01", 366},
		{"two years past", "2029-06-30", "2027-06-30", -731},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustDate(t, tt.from).DaysUntil(mustDate(t, tt.to)); got != tt.want {
				t.Errorf("%s.DaysUntil(%s) = %d; want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestStringAndFormat(t *testing.T) {
	tests := []struct {
		d      permit.Date
		want   string
		layout string
		wantF  string
	}{
		{permit.Date{Year: 2027, Month: time.June, Day: 30}, "2027-06-30", "02/01/2006", "30/06/2027"},
		{permit.Date{Year: 2028, Month: time.February, Day: 29}, "2028-02-29", "2 January 2006", "29 February 2028"},
		{permit.Date{Year: 2027, Month: time.January, Day: 5}, "2027-01-05", "Monday 2/1/06", "Tuesday 5/1/27"},
		{permit.Date{Year: 999, Month: time.December, Day: 31}, "0999-12-31", time.DateOnly, "0999-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.d.String(); got != tt.want {
				t.Errorf("String() = %q; want %q", got, tt.want)
			}
			if got := tt.d.Format(tt.layout); got != tt.wantF {
				t.Errorf("Format(%q) = %q; want %q", tt.layout, got, tt.wantF)
			}
		})
	}
}

func TestAt(t *testing.T) {
	par := paris(t)
	tests := []struct {
		name    string
		d       string
		hour    int
		loc     *time.Location
		wantUTC time.Time
	}{
		{"day before spring change (CET)", "2027-03-27", 10, par, time.Date(2027, 3, 27, 9, 0, 0, 0, time.UTC)},
		{"spring change day (CEST)", "2027-03-28", 10, par, time.Date(2027, 3, 28, 8, 0, 0, 0, time.UTC)},
		{"summer", "2027-06-30", 10, par, time.Date(2027, 6, 30, 8, 0, 0, 0, time.UTC)},
		{"day before autumn change (CEST)", "2027-10-30", 10, par, time.Date(2027, 10, 30, 8, 0, 0, 0, time.UTC)},
		{"autumn change day (CET)", "2027-10-31", 10, par, time.Date(2027, 10, 31, 9, 0, 0, 0, time.UTC)},
		{"midnight in winter is previous day UTC", "2028-01-01", 0, par, time.Date(2027, 12, 31, 23, 0, 0, 0, time.UTC)},
		{"nil loc is UTC", "2028-02-29", 10, nil, time.Date(2028, 2, 29, 10, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDate(t, tt.d)
			got := d.At(tt.hour, tt.loc)
			if !got.Equal(tt.wantUTC) {
				t.Errorf("%s.At(%d, %v) = %v; want %v", tt.d, tt.hour, tt.loc, got.UTC(), tt.wantUTC)
			}
			loc := tt.loc
			if loc == nil {
				loc = time.UTC
			}
			if back := permit.DateOf(got, loc); back != d {
				t.Errorf("DateOf(%s.At(%d)) = %v; want %v", tt.d, tt.hour, back, d)
			}
			if h := got.In(loc).Hour(); h != tt.hour {
				t.Errorf("%s.At(%d) local hour = %d; want %d", tt.d, tt.hour, h, tt.hour)
			}
		})
	}
}

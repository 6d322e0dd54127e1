package handoff

import (
	"slices"
	"strings"
	"testing"
)

func TestParseDay(t *testing.T) {
	iv := func(h1, m1, h2, m2 int) Interval { return Interval{h1*60 + m1, h2*60 + m2} }
	tests := []struct {
		in      []string
		want    []Interval
		wantErr string // substring of the error; "" for none
	}{
		{[]string{"09:00-12:00, 14:00-17:00"}, []Interval{iv(9, 0, 12, 0), iv(14, 0, 17, 0)}, ""},
		{[]string{"09:00-12:00,14:00-17:00"}, []Interval{iv(9, 0, 12, 0), iv(14, 0, 17, 0)}, ""},
		{[]string{"09:00-12:00 14:00-17:00"}, []Interval{iv(9, 0, 12, 0), iv(14, 0, 17, 0)}, ""},
		{[]string{"09:00 - 12:00 ; 14:00 – 17:00"}, []Interval{iv(9, 0, 12, 0), iv(14, 0, 17, 0)}, ""},
		{[]string{"14:00-17:00, 9:00-12:00"}, []Interval{iv(9, 0, 12, 0), iv(14, 0, 17, 0)}, ""},
		{[]string{"9h-12h30", "14h-17h"}, []Interval{iv(9, 0, 12, 30), iv(14, 0, 17, 0)}, ""},
		{[]string{"9H15-12H"}, []Interval{iv(9, 15, 12, 0)}, ""},
		{[]string{"00:00-24:00"}, []Interval{iv(0, 0, 24, 0)}, ""},
		{[]string{"09:00-12:00", "12:00-13:00"}, []Interval{iv(9, 0, 12, 0), iv(12, 0, 13, 0)}, ""},
		{[]string{""}, nil, ""},
		{[]string{"closed"}, nil, ""},
		{[]string{"Fermé"}, nil, ""},
		{nil, nil, ""},
		{[]string{"09:00-12:00", "11:00-13:00"}, nil, "overlap"},
		{[]string{"12:00-09:00"}, nil, "before the end"},
		{[]string{"22:00-02:00"}, nil, "split a night"},
		{[]string{"10:00-10:00"}, nil, "before the end"},
		{[]string{"24:00-24:00"}, nil, "not a time of day"},
		{[]string{"09:00-25:00"}, nil, "not a time of day"},
		{[]string{"09:60-10:00"}, nil, "not a time of day"},
		{[]string{"24:30-24:45"}, nil, "not a time of day"},
		{[]string{"09:00"}, nil, "want intervals"},
		{[]string{"09:00-12:00-14:00"}, nil, "want intervals"},
		{[]string{"9:0-12:00"}, nil, "not a time like"},
		{[]string{"009:00-12:00"}, nil, "not a time like"},
		{[]string{"nine-twelve"}, nil, "not a time like"},
		{[]string{"09:00-12:00 14:00"}, nil, "want intervals"},
		{[]string{"-"}, nil, "not a time like"},
	}
	for _, tt := range tests {
		got, err := parseDay(tt.in...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseDay(%q) error = %v; want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("parseDay(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseDay(f *testing.F) {
	for _, s := range []string{"09:00-12:00, 14:00-17:00", "9h-12h30 14h-17h", "closed", "00:00-24:00",
		"09:00 - 12:00", "24:00-24:00", "-", "--", ",,", "9h", "h-h", "١٠:٠٠-١٢:٠٠"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ivs, err := parseDay(s)
		if err != nil {
			return
		}
		for i, iv := range ivs {
			if iv.Start < 0 || iv.End > 24*60 || iv.Start >= iv.End || i > 0 && iv.Start < ivs[i-1].End {
				t.Fatalf("parseDay(%q) = %v: bad or unordered interval %v", s, ivs, iv)
			}
		}
		// What String writes reads back the same.
		var parts []string
		for _, iv := range ivs {
			parts = append(parts, iv.String())
		}
		again, err := parseDay(strings.Join(parts, ", "))
		if err != nil || !slices.Equal(again, ivs) {
			t.Fatalf("parseDay(%q) = %v, but its text %q reads as %v, %v", s, ivs, parts, again, err)
		}
	})
}

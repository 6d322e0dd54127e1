package reminder

import (
	"testing"
	"time"
	_ "time/tzdata"
)

func TestHours(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, paris)
	}
	night := Hours{From: 21, To: 9}
	tests := []struct {
		name  string
		h     Hours
		t     time.Time
		quiet bool
		next  time.Time
	}{
		{"day", night, at(2027, 6, 1, 12, 0), false, at(2027, 6, 1, 12, 0)},
		{"20:59 not quiet", night, at(2027, 6, 1, 20, 59), false, at(2027, 6, 1, 20, 59)},
		{"21:00 quiet", night, at(2027, 6, 1, 21, 0), true, at(2027, 6, 2, 9, 0)},
		{"before midnight", night, at(2027, 6, 1, 23, 59), true, at(2027, 6, 2, 9, 0)},
		{"after midnight", night, at(2027, 6, 2, 0, 0), true, at(2027, 6, 2, 9, 0)},
		{"08:59 quiet", night, at(2027, 6, 2, 8, 59), true, at(2027, 6, 2, 9, 0)},
		{"09:00 not quiet", night, at(2027, 6, 2, 9, 0), false, at(2027, 6, 2, 9, 0)},
		{"no quiet hours", Hours{From: 9, To: 9}, at(2027, 6, 1, 3, 0), false, at(2027, 6, 1, 3, 0)},
		{"zero value", Hours{}, at(2027, 6, 1, 0, 0), false, at(2027, 6, 1, 0, 0)},
		{"same-day window", Hours{From: 12, To: 14}, at(2027, 6, 1, 13, 30), true, at(2027, 6, 1, 14, 0)},
		{"same-day window before", Hours{From: 12, To: 14}, at(2027, 6, 1, 11, 59), false, at(2027, 6, 1, 11, 59)},
		{"same-day window end", Hours{From: 12, To: 14}, at(2027, 6, 1, 14, 0), false, at(2027, 6, 1, 14, 0)},
		// 2027-03-28: 02:00 CET jumps to 03:00 CEST (night of 23 hours).
		{"spring eve", night, at(2027, 3, 27, 22, 0), true, at(2027, 3, 28, 9, 0)},
		{"spring after jump", night, at(2027, 3, 28, 3, 30), true, at(2027, 3, 28, 9, 0)},
		{"spring day", night, at(2027, 3, 28, 9, 0), false, at(2027, 3, 28, 9, 0)},
		{"spring, ends in the gap", Hours{From: 21, To: 2}, at(2027, 3, 28, 1, 30), true, at(2027, 3, 28, 3, 0)},
		// 2027-10-31: 03:00 CEST falls back to 02:00 CET (night of 25 hours).
		{"autumn eve", night, at(2027, 10, 30, 21, 0), true, at(2027, 10, 31, 9, 0)},
		{"autumn repeated hour", night, time.Date(2027, 10, 31, 1, 30, 0, 0, time.UTC), true, at(2027, 10, 31, 9, 0)},
		{"autumn evening", night, at(2027, 10, 31, 21, 0), true, at(2027, 11, 1, 9, 0)},
		{"autumn day", night, at(2027, 10, 31, 8, 59), true, at(2027, 10, 31, 9, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Quiet(tt.t, paris); got != tt.quiet {
				t.Errorf("Quiet(%v) = %v; want %v", tt.t, got, tt.quiet)
			}
			got := tt.h.NextAllowed(tt.t, paris)
			if !got.Equal(tt.next) {
				t.Errorf("NextAllowed(%v) = %v; want %v", tt.t, got, tt.next)
			}
			if tt.h.Quiet(got, paris) {
				t.Errorf("NextAllowed(%v) = %v is quiet", tt.t, got)
			}
		})
	}
	// The DST nights really are 23 and 25 hours long.
	if d := night.NextAllowed(at(2027, 3, 27, 21, 0), paris).Sub(at(2027, 3, 27, 21, 0)); d != 11*time.Hour {
		t.Errorf("spring night = %v; want 11h", d)
	}
	if d := night.NextAllowed(at(2027, 10, 30, 21, 0), paris).Sub(at(2027, 10, 30, 21, 0)); d != 13*time.Hour {
		t.Errorf("autumn night = %v; want 13h", d)
	}
}

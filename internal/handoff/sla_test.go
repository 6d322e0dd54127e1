package handoff_test

import (
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

func TestDeadline(t *testing.T) {
	loc := paris(t)
	p := &handoff.Partner{ID: "lyon", Hours: office(t, handoff.Closure{From: "2027-11-01"}), SLA: 16 * time.Hour, UrgentSLA: 2 * time.Hour}
	tests := []struct {
		name   string
		routed string
		urgent bool
		want   string
	}{
		// Mon–Fri 09–12 and 14–17: see TestAddOpen for the count.
		{"16 h from Friday 17:00, over the DST weekend", "2027-03-26 17:00", false, "2027-03-31 15:00"},
		{"urgent: 2 h from Friday 17:00", "2027-03-26 17:00", true, "2027-03-29 11:00"},
		{"urgent, Monday 11:00 → over lunch", "2027-03-29 11:00", true, "2027-03-29 15:00"},
		{"16 h over a holiday Monday", "2027-10-29 17:00", false, "2027-11-04 15:00"},
		// Monday 10–12 and 14–17: 5 h; Tuesday: 11 h; Wednesday 09–12: 14 h,
		// then 14:00–16:00.
		{"routed during opening hours", "2027-03-29 10:00", false, "2027-03-31 16:00"},
	}
	for _, tt := range tests {
		c := handoff.Case{Routed: at(t, loc, tt.routed), Urgent: tt.urgent}
		got := handoff.Deadline(c, p)
		if want := at(t, loc, tt.want); !got.Equal(want) {
			t.Errorf("%s: Deadline = %v; want %v", tt.name, got.In(loc), want)
		}
	}
	never := &handoff.Partner{ID: "never", Hours: newHours(t, loc, [7][]handoff.Interval{}), SLA: time.Hour, UrgentSLA: time.Hour}
	if got := handoff.Deadline(handoff.Case{Routed: at(t, loc, "2027-03-29 10:00")}, never); !got.IsZero() {
		t.Errorf("Deadline with a partner never open = %v; want zero", got)
	}
}

func TestNudgeAt(t *testing.T) {
	loc := paris(t)
	p := &handoff.Partner{ID: "lyon", Hours: office(t, handoff.Closure{From: "2027-04-09", To: "2027-04-12"})}
	tests := []struct {
		name            string
		taken, activity string // activity "" for none
		want            string
	}{
		{"taken Monday 10:00, silent", "2027-03-29 10:00", "", "2027-03-31 17:00"},
		{"taken Monday 08:00, before opening", "2027-03-29 08:00", "", "2027-03-30 17:00"},
		{"taken Monday 18:00", "2027-03-29 18:00", "", "2027-03-31 17:00"},
		{"a message on Tuesday moves it", "2027-03-29 10:00", "2027-03-30 15:00", "2027-04-01 17:00"},
		{"an older activity does not", "2027-03-30 15:00", "2027-03-29 10:00", "2027-04-01 17:00"},
		{"Friday afternoon → next Tuesday", "2027-03-26 15:00", "", "2027-03-30 17:00"},
		{"closure over a weekend", "2027-04-07 10:00", "2027-04-07 16:00", "2027-04-13 17:00"},
	}
	for _, tt := range tests {
		c := handoff.Case{Status: handoff.StatusTaken, Taken: at(t, loc, tt.taken)}
		if tt.activity != "" {
			c.Activity = at(t, loc, tt.activity)
		}
		got := handoff.NudgeAt(c, p)
		if want := at(t, loc, tt.want); !got.Equal(want) {
			t.Errorf("%s: NudgeAt = %v; want %v", tt.name, got.In(loc), want)
		}
	}
}

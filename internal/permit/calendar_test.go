package permit_test

import (
	"slices"
	"testing"

	"github.com/passerelle-bot/passerelle/internal/permit"
)

func TestRenewalWindow(t *testing.T) {
	tests := []struct {
		name         string
		source       string
		expiry       string
		ch           permit.Channel
		opens, close string
	}{
		{"worked example: ANEF titre expiring 2027-06-30", "R.431-5 1° [S85][S86]", "2027-06-30", permit.ANEF, "2027-03-02", "2027-05-01"},
		{"ANEF window across a year boundary", "R.431-5 1° [S85][S86]", "2027-01-15", permit.ANEF, "2026-09-17", "2026-11-16"},
		{"ANEF closes on a leap day, opens in the previous year", "R.431-5 1° [S85][S86]", "2028-04-29", permit.ANEF, "2027-12-31", "2028-02-29"},
		{"ANEF opens on a leap day", "R.431-5 1° [S85][S86]", "2028-06-28", permit.ANEF, "2028-02-29", "2028-04-29"},
		{"ANEF closes on 31 December", "R.431-5 1° [S85][S86]", "2027-03-01", permit.ANEF, "2026-11-01", "2026-12-31"},
		{"Unknown uses the ANEF window", "R.431-5 1° [S85][S86]", "2027-06-30", permit.Unknown, "2027-03-02", "2027-05-01"},
		{"out-of-range channel uses the ANEF window", "R.431-5 1° [S85][S86]", "2027-06-30", permit.Channel(42), "2027-03-02", "2027-05-01"},
		{"préfecture: 2 months before expiry", "R.431-5 1° [S85][S86]", "2027-06-30", permit.Prefecture, "2027-04-30", "2027-06-29"},
		{"préfecture opening clamped to 28 February", "R.431-5 1° [S85][S86]", "2027-04-30", permit.Prefecture, "2027-02-28", "2027-04-29"},
		{"préfecture opening clamped to leap day", "R.431-5 1° [S85][S86]", "2028-04-30", permit.Prefecture, "2028-02-29", "2028-04-29"},
		{"préfecture closes on a leap day", "R.431-5 1° [S85][S86]", "2028-03-01", permit.Prefecture, "2028-01-01", "2028-02-29"},
		{"préfecture window across a year boundary", "R.431-5 1° [S85][S86]", "2027-01-15", permit.Prefecture, "2026-11-15", "2027-01-14"},
		{"préfecture expiry on 1 January", "R.431-5 1° [S85][S86]", "2028-01-01", permit.Prefecture, "2027-11-01", "2027-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := permit.RenewalWindow(mustDate(t, tt.expiry), tt.ch)
			if w.Opens != mustDate(t, tt.opens) || w.Closes != mustDate(t, tt.close) {
				t.Errorf("RenewalWindow(%s, %v) = %v..%v; want %s..%s (%s)", tt.expiry, tt.ch, w.Opens, w.Closes, tt.opens, tt.close, tt.source)
			}
			if want := []string{"ceseda-r431-5"}; !slices.Equal(w.Sources, want) {
				t.Errorf("RenewalWindow(%s, %v).Sources = %q; want %q", tt.expiry, tt.ch, w.Sources, want)
			}
		})
	}
}

func TestRenewalWindowSourcesNotShared(t *testing.T) {
	expiry := mustDate(t, "2027-06-30")
	w1 := permit.RenewalWindow(expiry, permit.ANEF)
	w1.Sources[0] = "changed"
	if w2 := permit.RenewalWindow(expiry, permit.ANEF); w2.Sources[0] != "ceseda-r431-5" {
		t.Errorf("RenewalWindow shares its Sources slice between calls: got %q", w2.Sources)
	}
}

func TestWindowState(t *testing.T) {
	tests := []struct {
		name   string
		source string
		today  string
		expiry string
		ch     permit.Channel
		want   permit.State
	}{
		// Worked example: ANEF titre expiring 2027-06-30 [S85][S86].
		{"worked example D-121", "[S85]", "2027-03-01", "2027-06-30", permit.ANEF, permit.TooEarly},
		{"worked example D-120 opens", "[S85]", "2027-03-02", "2027-06-30", permit.ANEF, permit.Open},
		{"worked example mid-window", "[S85]", "2027-04-01", "2027-06-30", permit.ANEF, permit.Open},
		{"worked example D-60 still open", "[S85]", "2027-05-01", "2027-06-30", permit.ANEF, permit.Open},
		{"worked example D-59 late", "[S85]", "2027-05-02", "2027-06-30", permit.ANEF, permit.Late},
		{"worked example expiry day is late, not expired", "[S85]", "2027-06-30", "2027-06-30", permit.ANEF, permit.Late},
		{"worked example day after expiry", "[S85]", "2027-07-01", "2027-06-30", permit.ANEF, permit.Expired},
		{"worked example long past", "[S85]", "2030-01-01", "2027-06-30", permit.ANEF, permit.Expired},
		{"date long before", "[S85]", "2020-01-01", "2027-06-30", permit.ANEF, permit.TooEarly},
		{"unknown channel uses ANEF window: D-59 late", "[S85]", "2027-05-02", "2027-06-30", permit.Unknown, permit.Late},

		// Préfecture titre expiring 2027-06-30: window 2027-04-30..2027-06-29 [S85][S86].
		{"préfecture day before opening", "[S85]", "2027-04-29", "2027-06-30", permit.Prefecture, permit.TooEarly},
		{"préfecture opening day", "[S85]", "2027-04-30", "2027-06-30", permit.Prefecture, permit.Open},
		{"préfecture D-1 open", "[S85]", "2027-06-29", "2027-06-30", permit.Prefecture, permit.Open},
		{"préfecture expiry day late", "[S85]", "2027-06-30", "2027-06-30", permit.Prefecture, permit.Late},
		{"préfecture day after expiry", "[S85]", "2027-07-01", "2027-06-30", permit.Prefecture, permit.Expired},

		// Leap year and year boundary.
		{"ANEF leap-day D-60 open", "[S85]", "2028-02-29", "2028-04-29", permit.ANEF, permit.Open},
		{"ANEF day after leap-day D-60 late", "[S85]", "2028-03-01", "2028-04-29", permit.ANEF, permit.Late},
		{"ANEF D-120 on 31 December", "[S85]", "2027-12-31", "2028-04-29", permit.ANEF, permit.Open},
		{"ANEF D-121 on 30 December", "[S85]", "2027-12-30", "2028-04-29", permit.ANEF, permit.TooEarly},
		{"préfecture expiring 1 January, 31 December open", "[S85]", "2027-12-31", "2028-01-01", permit.Prefecture, permit.Open},
		{"préfecture expiring 31 December, 1 January expired", "[S85]", "2028-01-01", "2027-12-31", permit.Prefecture, permit.Expired},

		// Personas from scenarios.md.
		// Persona 1: master's student, card expires in 5 months, change to
		// salarié at the préfecture: too early under either rule [S85][S23].
		{"persona 1: préfecture, expiry in 5 months", "[S85][S23]", "2027-01-15", "2027-06-15", permit.Prefecture, permit.TooEarly},
		{"persona 1: ANEF student renewal, expiry in 5 months", "[S85][S91]", "2027-01-15", "2027-06-15", permit.ANEF, permit.TooEarly},
		// Persona 4: talent card on ANEF expiring in 3 months (91 days): open.
		{"persona 4: ANEF, expiry in 3 months", "[S85]", "2027-03-31", "2027-06-30", permit.ANEF, permit.Open},
		// Persona 4 on the expiry day (filed on time, no answer): late for a
		// new filing, not expired.
		{"persona 4: ANEF, expiry day", "[S85][S92]", "2027-06-30", "2027-06-30", permit.ANEF, permit.Late},
		// Persona 6: stateless person, card expiring (3 weeks chosen here),
		// préfecture.
		{"persona 6: préfecture, expiry in 3 weeks", "[S62][S85]", "2027-06-09", "2027-06-30", permit.Prefecture, permit.Open},
		// Persona 7: British retiree, WA card expiring in 7 weeks (49 days),
		// préfecture: the 2-month window is open.
		{"persona 7: préfecture, expiry in 7 weeks", "[S70][S85]", "2027-07-28", "2027-09-15", permit.Prefecture, permit.Open},
		// Persona 9: VLS-TS "conjoint de Français" expiring in 4 months
		// (122 days): ANEF window not open yet, opens in 2 days.
		{"persona 9: ANEF, expiry in 4 months", "[S17][S85]", "2027-03-01", "2027-07-01", permit.ANEF, permit.TooEarly},
		{"persona 9: ANEF, two days later", "[S17][S85]", "2027-03-03", "2027-07-01", permit.ANEF, permit.Open},
		// Persona 10: CST salarié expiring in 70 days, préfecture: window not
		// open yet [S23][S85].
		{"persona 10: préfecture, expiry in 70 days", "[S23][S85]", "2027-01-10", "2027-03-21", permit.Prefecture, permit.TooEarly},
		// Persona 10 if the channel were unknown: the cautious ANEF window
		// (D-120..D-60) already counts D-70 as open, although a préfecture
		// filing would be early; hence the bot should ask for the channel.
		{"persona 10: unknown channel, expiry in 70 days", "[S85]", "2027-01-10", "2027-03-21", permit.Unknown, permit.Open},
		// Persona 14: card valid for 2 more years.
		{"persona 14: expiry in 2 years", "[S35]", "2027-06-30", "2029-06-30", permit.ANEF, permit.TooEarly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			today, expiry := mustDate(t, tt.today), mustDate(t, tt.expiry)
			w := permit.RenewalWindow(expiry, tt.ch)
			if got := permit.WindowState(today, w, expiry); got != tt.want {
				t.Errorf("WindowState(%s, RenewalWindow(%s, %v) = %v..%v) = %v; want %v (%s)",
					tt.today, tt.expiry, tt.ch, w.Opens, w.Closes, got, tt.want, tt.source)
			}
		})
	}
}

// TestPersona10 checks the numbers the bot would quote to persona 10 of
// scenarios.md: a CST "salarié" expiring in 70 days, renewed at the
// préfecture [S23][S85].
func TestPersona10(t *testing.T) {
	today := mustDate(t, "2027-01-10")
	expiry := today.AddDays(70)
	if want := mustDate(t, "2027-03-21"); expiry != want {
		t.Fatalf("today+70 = %v; want %v", expiry, want)
	}
	w := permit.RenewalWindow(expiry, permit.Prefecture)
	if want := mustDate(t, "2027-01-21"); w.Opens != want {
		t.Errorf("Opens = %v; want %v", w.Opens, want)
	}
	if got := today.DaysUntil(w.Opens); got != 11 {
		t.Errorf("days until the window opens = %d; want 11", got)
	}
	if got := permit.WindowState(today, w, expiry); got != permit.TooEarly {
		t.Errorf("WindowState = %v; want TooEarly", got)
	}
}

func TestVLSTSDeadline(t *testing.T) {
	tests := []struct {
		name    string
		source  string
		arrival string
		want    string
	}{
		{"ordinary", "[S27][S29][S31]", "2027-01-15", "2027-04-15"},
		{"clamped to 30 June", "[S27][S29][S31]", "2027-03-31", "2027-06-30"},
		{"clamped to leap day across a year", "[S27][S29][S31]", "2027-11-30", "2028-02-29"},
		{"clamped to 28 February across a year", "[S27][S29][S31]", "2026-11-30", "2027-02-28"},
		{"from a leap day", "[S27][S29][S31]", "2028-02-29", "2028-05-29"},
		{"year boundary", "[S27][S29][S31]", "2027-10-15", "2028-01-15"},
		{"arrival long past", "[S27][S29][S31]", "2019-08-01", "2019-11-01"},
		// Persona 2: Chinese student arrived 10 days ago (today 2027-09-11).
		{"persona 2: arrived 2027-09-01", "[S29][S27]", "2027-09-01", "2027-12-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permit.VLSTSDeadline(mustDate(t, tt.arrival)); got != mustDate(t, tt.want) {
				t.Errorf("VLSTSDeadline(%s) = %v; want %s (%s)", tt.arrival, got, tt.want, tt.source)
			}
		})
	}
}

// TestPersona2 checks the deadline the bot would quote to persona 2 of
// scenarios.md: a student who arrived with a VLS-TS 10 days ago [S29][S27].
func TestPersona2(t *testing.T) {
	today := mustDate(t, "2027-09-11")
	arrival := today.AddDays(-10)
	if want := mustDate(t, "2027-09-01"); arrival != want {
		t.Fatalf("today-10 = %v; want %v", arrival, want)
	}
	deadline := permit.VLSTSDeadline(arrival)
	if want := mustDate(t, "2027-12-01"); deadline != want {
		t.Errorf("VLSTSDeadline(%v) = %v; want %v", arrival, deadline, want)
	}
	if got := today.DaysUntil(deadline); got != 81 {
		t.Errorf("days left to validate = %d; want 81", got)
	}
}

func TestFirstRequestDeadline(t *testing.T) {
	tests := []struct {
		name   string
		source string
		entry  string
		want   string
	}{
		{"ordinary", "R.431-4 [S86]", "2027-03-15", "2027-05-15"},
		{"28 February to 28 April", "R.431-4 [S86]", "2027-02-28", "2027-04-28"},
		{"31 December to leap day", "R.431-4 [S86]", "2027-12-31", "2028-02-29"},
		{"31 December to 28 February", "R.431-4 [S86]", "2026-12-31", "2027-02-28"},
		{"year boundary", "R.431-4 [S86]", "2027-11-15", "2028-01-15"},
		{"31 August to 31 October", "R.431-4 [S86]", "2027-08-31", "2027-10-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permit.FirstRequestDeadline(mustDate(t, tt.entry)); got != mustDate(t, tt.want) {
				t.Errorf("FirstRequestDeadline(%s) = %v; want %s (%s)", tt.entry, got, tt.want, tt.source)
			}
		})
	}
}

func TestTurning18Deadline(t *testing.T) {
	tests := []struct {
		name   string
		source string
		birth  string
		want   string
	}{
		{"ordinary", "R.431-5 3° [S85]", "2009-06-15", "2027-08-15"},
		{"born 29 February: birthday 28 February, then 2 months", "R.431-5 3° [S85]", "2008-02-29", "2026-04-28"},
		{"born 31 December: clamped to 28 February", "R.431-5 3° [S85]", "2008-12-31", "2027-02-28"},
		{"born 30 December: clamped to leap day", "R.431-5 3° [S85]", "2009-12-30", "2028-02-29"},
		{"born 31 October: year end", "R.431-5 3° [S85]", "2008-10-31", "2026-12-31"},
		{"born 15 November: across a year", "R.431-5 3° [S85]", "2009-11-15", "2028-01-15"},
		{"already past", "R.431-5 3° [S85]", "1990-05-20", "2008-07-20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permit.Turning18Deadline(mustDate(t, tt.birth)); got != mustDate(t, tt.want) {
				t.Errorf("Turning18Deadline(%s) = %v; want %s (%s)", tt.birth, got, tt.want, tt.source)
			}
		})
	}
}

func TestTurning19Deadline(t *testing.T) {
	tests := []struct {
		name   string
		source string
		birth  string
		want   string
	}{
		{"ordinary", "R.431-5 2° [S85]", "2009-06-15", "2028-06-14"},
		{"born 29 February: birthday 28 February, day before", "R.431-5 2° [S85]", "2008-02-29", "2027-02-27"},
		{"born 1 March: day before is a leap day", "R.431-5 2° [S85]", "2009-03-01", "2028-02-29"},
		{"born 1 March: day before is 28 February", "R.431-5 2° [S85]", "2008-03-01", "2027-02-28"},
		{"born 1 January: year boundary", "R.431-5 2° [S85]", "2009-01-01", "2027-12-31"},
		{"born 31 December", "R.431-5 2° [S85]", "2008-12-31", "2027-12-30"},
		{"already past", "R.431-5 2° [S85]", "1990-05-20", "2009-05-19"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permit.Turning19Deadline(mustDate(t, tt.birth)); got != mustDate(t, tt.want) {
				t.Errorf("Turning19Deadline(%s) = %v; want %s (%s)", tt.birth, got, tt.want, tt.source)
			}
		})
	}
}

func TestImplicitRejection(t *testing.T) {
	tests := []struct {
		name   string
		source string
		filed  string
		want   string
	}{
		{"ordinary", "R.432-2 [S105]", "2027-01-31", "2027-05-31"},
		{"clamped to 28 February across a year", "R.432-2 [S105]", "2026-10-31", "2027-02-28"},
		{"clamped to leap day across a year", "R.432-2 [S105]", "2027-10-31", "2028-02-29"},
		{"from a leap day", "R.432-2 [S105]", "2028-02-29", "2028-06-29"},
		{"year boundary", "R.432-2 [S105]", "2027-09-15", "2028-01-15"},
		{"filed long ago", "R.432-2 [S105]", "2021-05-01", "2021-09-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permit.ImplicitRejection(mustDate(t, tt.filed)); got != mustDate(t, tt.want) {
				t.Errorf("ImplicitRejection(%s) = %v; want %s (%s)", tt.filed, got, tt.want, tt.source)
			}
		})
	}
}

func TestAPIMaxExpiry(t *testing.T) {
	tests := []struct {
		name   string
		source string
		issued string
		want   string
	}{
		{"ordinary", "R.431-15-1 [S92]", "2027-06-30", "2027-09-30"},
		{"clamped to 30 June", "R.431-15-1 [S92]", "2027-03-31", "2027-06-30"},
		{"clamped to leap day", "R.431-15-1 [S92]", "2027-11-30", "2028-02-29"},
		{"clamped to 28 February", "R.431-15-1 [S92]", "2028-11-30", "2029-02-28"},
		{"year boundary", "R.431-15-1 [S92]", "2027-12-01", "2028-03-01"},
		// Persona 4: API issued on the expiry day of the talent card.
		{"persona 4: API issued at expiry", "[S92][S96]", "2027-06-30", "2027-09-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permit.APIMaxExpiry(mustDate(t, tt.issued)); got != mustDate(t, tt.want) {
				t.Errorf("APIMaxExpiry(%s) = %v; want %s (%s)", tt.issued, got, tt.want, tt.source)
			}
		})
	}
}

func TestLateFeeEUR(t *testing.T) {
	// [S90]: droit de visa de régularisation, in force 1 May 2021.
	if permit.LateFeeEUR != 180 {
		t.Errorf("LateFeeEUR = %d; want 180", permit.LateFeeEUR)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{permit.Unknown.String(), "Unknown"},
		{permit.ANEF.String(), "ANEF"},
		{permit.Prefecture.String(), "Prefecture"},
		{permit.Channel(7).String(), "Channel(7)"},
		{permit.TooEarly.String(), "TooEarly"},
		{permit.Open.String(), "Open"},
		{permit.Late.String(), "Late"},
		{permit.Expired.String(), "Expired"},
		{permit.State(0).String(), "State(0)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q; want %q", tt.got, tt.want)
		}
	}
}

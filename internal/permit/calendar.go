package permit

import "strconv"

// LateFeeEUR is the droit de visa de régularisation, in euros, charged when a
// renewal is requested after the deadline, unless the person shows force
// majeure or holds a valid visa [S90][S4][S91]. The amount is set by the
// finance laws and changes with them: check it before quoting it to users.
const LateFeeEUR = 180

// Channel says where the NEXT titre is filed, which decides the renewal
// window (CESEDA R.431-5 1°). It is about the titre being requested, not the
// one held: a student card holder asking for a salarié card files at the
// préfecture.
type Channel int

// The filing channels. The zero value is Unknown.
const (
	// Unknown means the bot does not know where the next titre is filed.
	// [RenewalWindow] then uses the ANEF window, which opens and closes
	// earliest, so a person following it is never late under either rule.
	Unknown Channel = iota
	// ANEF means the next titre is on the list of titres requested through
	// the online service (R.431-2) [S85][S86][S4].
	ANEF
	// Prefecture means the next titre is requested at the préfecture or
	// sous-préfecture, by post or on a local platform (R.431-3) [S85][S86].
	Prefecture
)

// String returns the constant's name: "Unknown", "ANEF" or "Prefecture".
func (c Channel) String() string {
	switch c {
	case Unknown:
		return "Unknown"
	case ANEF:
		return "ANEF"
	case Prefecture:
		return "Prefecture"
	}
	return "Channel(" + strconv.Itoa(int(c)) + ")"
}

// Window is the period in which a renewal request is on time. Both ends are
// inclusive: Opens is the first day to file, Closes the last day to file in
// time. Sources lists the tags of the sources the window comes from
// (internal/guide/sources.yaml, for example "ceseda-r431-5").
type Window struct {
	Opens, Closes Date
	Sources       []string
}

// RenewalWindow returns the window for renewing a titre that expires on
// expiry (the last day printed on the card), given where the next titre is
// filed (CESEDA R.431-5 1°, version in force since 1 May 2021) [S85][S86]:
//
//   - ANEF: from the 120th to the 60th day before expiry, both included:
//     Opens = D-120, Closes = D-60. A titre expiring 2027-06-30 opens on
//     2027-03-02 and closes on 2027-05-01; from 2027-05-02 (D-59) the request
//     is late.
//   - Prefecture: "during the 2 months before expiry": Opens =
//     expiry.AddMonths(-2), Closes = D-1. Filing on the expiry day itself is
//     treated as late, the cautious reading of "before expiry".
//   - Unknown (and any other value): the ANEF window. It is the cautious
//     default: it closes 59 days before the préfecture window, so it never
//     tells someone they are on time when they are late. Its start is too
//     early for a préfecture filing, though, so the bot should ask where the
//     next titre is filed as soon as it can.
//
// Not modelled: holders of a résident de longue durée-UE card, to whom the
// 120–60-day rule does not apply [S85]; the young people and loss-of-
// nationality cases of R.431-5 2° to 4° (see [Turning18Deadline] and
// [Turning19Deadline]).
func RenewalWindow(expiry Date, ch Channel) Window {
	if ch == Prefecture {
		return Window{
			Opens:   expiry.AddMonths(-2),
			Closes:  expiry.AddDays(-1),
			Sources: []string{"ceseda-r431-5"},
		}
	}
	return Window{
		Opens:   expiry.AddDays(-120),
		Closes:  expiry.AddDays(-60),
		Sources: []string{"ceseda-r431-5"},
	}
}

// State is where today falls relative to a renewal [Window]. The zero State
// is not a valid state, so an unset value is visible.
type State int

// The states, in calendar order.
const (
	// TooEarly: today is before the window opens.
	TooEarly State = iota + 1
	// Open: today is within the window, both ends included.
	Open
	// Late: the window has closed but the titre is still valid (today is on
	// or before expiry). Filing is still possible, but on ANEF there is no
	// automatic right to an API [S89][S87].
	Late
	// Expired: today is after the expiry date. A titre is valid through the
	// date printed on it, so on the expiry day itself the state is Late, not
	// Expired.
	Expired
)

// String returns the constant's name: "TooEarly", "Open", "Late" or
// "Expired".
func (s State) String() string {
	switch s {
	case TooEarly:
		return "TooEarly"
	case Open:
		return "Open"
	case Late:
		return "Late"
	case Expired:
		return "Expired"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// WindowState says where today falls for a titre expiring on expiry whose
// renewal window is w (normally RenewalWindow(expiry, ch)). Expiry is checked
// first, so a Window that would run past expiry still yields Expired after
// it.
func WindowState(today Date, w Window, expiry Date) State {
	switch {
	case today.After(expiry):
		return Expired
	case today.Before(w.Opens):
		return TooEarly
	case !today.After(w.Closes):
		return Open
	default:
		return Late
	}
}

// VLSTSDeadline returns the last day to validate a VLS-TS (long-stay visa
// serving as a titre de séjour) online: three months after arrival in France,
// the same day number, clamped to the month end [S27][S29][S31]. Arrival
// 2027-11-30 gives 2028-02-29.
func VLSTSDeadline(arrival Date) Date {
	return arrival.AddMonths(3)
}

// FirstRequestDeadline returns the last day for a first titre request by
// someone not covered by R.431-5: two months after entering France (CESEDA
// R.431-4) [S86].
func FirstRequestDeadline(entry Date) Date {
	return entry.AddMonths(2)
}

// Turning18Deadline returns the last day for a young person turning 18 to
// request a titre under CESEDA R.431-5 3°: two months after the 18th
// birthday [S85].
//
// For someone born on 29 February, the birthday in a non-leap year is taken
// as 28 February (the earlier, cautious choice), and the two months run from
// there: born 2008-02-29 gives 2026-02-28 + 2 months = 2026-04-28.
func Turning18Deadline(birth Date) Date {
	return birthday(birth, 18).AddMonths(2)
}

// Turning19Deadline returns the last day for a young person covered by
// CESEDA R.431-5 2° to request a titre: the day before the 19th birthday
// [S85]. A 29 February birthday falls on 28 February in a non-leap year (see
// [Turning18Deadline]): born 2008-02-29 gives 2027-02-27.
func Turning19Deadline(birth Date) Date {
	return birthday(birth, 19).AddDays(-1)
}

// ImplicitRejection returns the day on which the préfecture's silence on a
// request filed on filed becomes an implicit rejection: four months later
// (CESEDA R.432-1 and R.432-2) [S105]. Some categories have shorter delays
// (30, 60 or 90 days) [S106][S107]; they are not modelled here. Renewing a
// récépissé or an API does not stop this date from arriving [S111].
func ImplicitRejection(filed Date) Date {
	return filed.AddMonths(4)
}

// APIMaxExpiry returns the latest expiry of an attestation de prolongation
// de l'instruction issued on issued: it lasts three months at most and is
// renewed until the préfet decides (CESEDA R.431-15-1) [S92]. The real expiry
// is the one printed on the API, which may be earlier.
func APIMaxExpiry(issued Date) Date {
	return issued.AddMonths(3)
}

// birthday returns the age-th birthday of someone born on birth; 29 February
// becomes 28 February in non-leap years.
func birthday(birth Date, age int) Date {
	return birth.AddMonths(12 * age)
}

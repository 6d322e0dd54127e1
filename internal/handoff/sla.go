package handoff

import "time"

// NudgeOpenDays is how many opening days a taken case may stay silent
// before the bot nudges the volunteers in its topic.
const NudgeOpenDays = 2

// Deadline returns when c, routed to p at c.Routed and still unclaimed,
// goes to the next partner: c.Routed plus p's SLA (the urgent SLA when
// c.Urgent) counted in p's opening hours. A case routed on Friday evening
// to a partner open on weekdays is due during the next week, not on
// Saturday. The zero Time means p will not be open in the 400 days to come:
// escalate at once.
func Deadline(c Case, p *Partner) time.Time {
	return p.Hours.AddOpen(c.Routed, p.SLAFor(c.Urgent))
}

// NudgeAt returns when a taken case that has stayed silent since the later
// of c.Taken and c.Activity deserves one nudge: at the end of the second
// opening day of p that passed wholly in silence.
//
// An opening day is a day (in p's time zone) with at least one opening
// interval that is not a closure; it passes wholly in silence when all its
// intervals start after the last message. So with Monday–Friday hours, a
// message on Monday at 10:00 (during the day) or at 18:00 gives a nudge at
// the close of Wednesday; a message on Monday at 08:00 (before opening),
// at the close of Tuesday; a message on Friday afternoon, at the close of
// the next Tuesday. The zero Time means p will not be open in the 400 days
// to come.
func NudgeAt(c Case, p *Partner) time.Time {
	last := later(c.Taken, c.Activity)
	return p.Hours.OpenDaysAfter(last, NudgeOpenDays)
}

// HalfDeadline returns when c, routed to p and still unclaimed, has waited
// half its SLA in p's opening hours: the group is reminded then.
func HalfDeadline(c Case, p *Partner) time.Time {
	return p.Hours.AddOpen(c.Routed, p.SLAFor(c.Urgent)/2)
}

package handoff

import (
	"slices"
	"time"
)

// PartnerState is what routing needs to know about a partner beyond the
// partners file: its load and whether it can take cases now.
type PartnerState struct {
	Open        int  // open cases (waiting or taken)
	Paused      bool // a coordinator paused intake
	Unavailable bool // its group is misconfigured (not a forum, bot not admin…)
}

// Available reports whether p can receive a new case in state st: active,
// not paused, not unavailable, and with fewer open cases than its capacity.
func (p *Partner) Available(st PartnerState) bool {
	return p.Active && !st.Paused && !st.Unavailable && st.Open < p.Capacity
}

// RouteRequest describes a case to route.
type RouteRequest struct {
	Departement string  // code ("69", "2A", "974"); "" when the resident did not say
	Lang        string  // the resident's language tag
	Problem     Problem // must be one of the constants
	// Preferred is the id of the partner of a referral link, "" if none.
	Preferred string
	// Exclude lists partners that must not get the case (those it was
	// already sent to).
	Exclude []string
	// At and MaxWait, when At is not zero, skip partners that will not be
	// open within MaxWait after At (a long closure); with MaxWait 0, only
	// partners with no opening at all in the 400 days after At are skipped.
	At      time.Time
	MaxWait time.Duration
}

// Route returns the partners that may take a case, best first:
//
//  1. the preferred partner of a referral link, if it covers the
//     département and takes the problem, even if its volunteers do not speak
//     the resident's language (the resident chose it);
//  2. the other partners covering the département: those whose volunteers
//     speak the resident's language first, then those that list the problem
//     explicitly before those that take all problems, then fewest open
//     cases, then the file's order. Partners that do not speak the language
//     stay candidates, after those that do: French is the volunteers'
//     working language and the case card is structured;
//  3. the fallback partner, always last (even if it covers the
//     département), whatever the département and language.
//
// A case with no département ("") goes only to partners covering all
// départements, then to the fallback.
//
// Every candidate takes the case's problem (a partner whose problems leave
// it out is never a candidate) and is available (see Partner.Available,
// with the state the state function reports; nil means every partner is
// empty and running), and is not excluded. Route returns nil when no
// partner fits: the bot then shows public help only.
func Route(req RouteRequest, ps *Partners, state func(partnerID string) PartnerState) []*Partner {
	if ps == nil {
		return nil
	}
	states := make(map[string]PartnerState, len(ps.list))
	stateOf := func(p *Partner) PartnerState {
		st, ok := states[p.ID]
		if !ok {
			if state != nil {
				st = state(p.ID)
			}
			states[p.ID] = st
		}
		return st
	}
	fits := func(p *Partner) bool {
		if slices.Contains(req.Exclude, p.ID) || !p.Takes(req.Problem) || !p.Available(stateOf(p)) {
			return false
		}
		if !req.At.IsZero() {
			next := p.Hours.NextOpening(req.At)
			if next.IsZero() || req.MaxWait > 0 && next.Sub(req.At) > req.MaxWait {
				return false
			}
		}
		return true
	}

	var out []*Partner
	if pref, ok := ps.Get(req.Preferred); ok && pref.Covers(req.Departement) && fits(pref) {
		out = append(out, pref)
	}
	var local []*Partner
	for _, p := range ps.list {
		if p == ps.fallback || slices.Contains(out, p) || !p.Covers(req.Departement) || !fits(p) {
			continue
		}
		local = append(local, p)
	}
	slices.SortStableFunc(local, func(a, b *Partner) int {
		if c := compareTrue(a.Speaks(req.Lang), b.Speaks(req.Lang)); c != 0 {
			return c
		}
		if c := compareTrue(a.Specialised(req.Problem), b.Specialised(req.Problem)); c != 0 {
			return c
		}
		return stateOf(a).Open - stateOf(b).Open
	})
	out = append(out, local...)
	if fb := ps.fallback; fb != nil && !slices.Contains(out, fb) && fits(fb) {
		out = append(out, fb)
	}
	return out
}

// compareTrue orders true before false.
func compareTrue(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// Escalation returns the request that routes c again when its partner did
// not take it in time: same département, language and problem, excluding
// the partner that has it and every partner it was sent to before. The
// referral is not used again (the first routing honoured it). Set At and
// MaxWait on the result to skip partners closed for long.
func Escalation(c Case) RouteRequest {
	exclude := slices.Clone(c.Tried)
	if c.PartnerID != "" {
		exclude = append(exclude, c.PartnerID)
	}
	return RouteRequest{
		Departement: c.Departement,
		Lang:        c.Lang,
		Problem:     c.Problem,
		Exclude:     exclude,
	}
}

// Next returns the partner an unclaimed case goes to next: the first
// candidate of Route(Escalation(c), ps, state). ok is false when there is
// none; the case then stays where it is and the resident is told.
func Next(c Case, ps *Partners, state func(partnerID string) PartnerState) (p *Partner, ok bool) {
	if cands := Route(Escalation(c), ps, state); len(cands) > 0 {
		return cands[0], true
	}
	return nil, false
}

package handoff_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-bot/passerelle/internal/handoff"
)

// routing is a partners file shaped like the acceptance test.
const routing = `
fallback: national
partners:
  - id: lyon
    name: Entraide Rhône (fictional)
    chat_id: -1001000000001
    departements: [69, 01]
    languages: [fr, ar, en]
    problems: all
    hours: &office
      monday: 09:00-12:00, 14:00-17:00
      tuesday: 09:00-12:00, 14:00-17:00
      wednesday: 09:00-12:00, 14:00-17:00
      thursday: 09:00-12:00, 14:00-17:00
      friday: 09:00-12:00, 14:00-17:00
      closures: [{from: 2027-12-24, to: 2028-01-02}]
    capacity: 25
    referents: [1]
  - id: paris
    name: Accueil Paris Est (fictional)
    chat_id: -1001000000002
    departements: [75, 93, 94, 69]
    languages: [fr, en, fa, ps]
    problems: all
    hours: {monday: 10:00-18:00, saturday: 10:00-12:00}
    capacity: 40
    referents: [2]
  - id: gironde
    name: Collectif Gironde (fictional)
    chat_id: -1001000000003
    departements: [33]
    languages: [fr, es]
    problems: [login, upload, no_api]
    hours: *office
    capacity: 10
    referents: [3]
  - id: national
    name: Permanence nationale (fictional)
    chat_id: -1001000000004
    referents_chat_id: -1001000000104
    departements: all
    languages: [fr, en, ar]
    problems: all
    hours: *office
    capacity: 100
    referents: [4]
`

// extra adds partners to the routing file.
const extra = `
  - id: lyon-api
    name: API Lyon (fictional)
    chat_id: -1001000000005
    departements: [69]
    languages: [ar]
    problems: [no_api]
    hours: {tuesday: 14:00-16:00}
    capacity: 5
    referents: [5]
  - id: asleep
    name: Asleep (fictional)
    chat_id: -1001000000006
    active: false
    departements: [69]
    languages: [ar]
    problems: all
    hours: {tuesday: 14:00-16:00}
    capacity: 5
    referents: [6]
  - id: everywhere
    name: Everywhere (fictional)
    chat_id: -1001000000007
    departements: all
    languages: [uk]
    problems: all
    hours: {tuesday: 14:00-16:00}
    capacity: 5
    referents: [7]
`

func ids2(ps []*handoff.Partner) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

type states map[string]handoff.PartnerState

func (s states) get(id string) handoff.PartnerState { return s[id] }

func TestRoute(t *testing.T) {
	base := load(t, routing)
	more := load(t, routing+extra)
	withoutNational, _, _ := strings.Cut(routing, "  - id: national")
	noFallback := load(t, strings.Replace(withoutNational, "fallback: national\n", "", 1))
	paris := paris(t)

	tests := []struct {
		name  string
		ps    *handoff.Partners
		req   handoff.RouteRequest
		state states
		want  []string
	}{
		// The acceptance cases.
		{"Arabic from 69 → Lyon, not Paris", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI},
			nil, []string{"lyon", "paris", "national"}},
		{"referral to Paris, which covers 69 → Paris", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI, Preferred: "paris"},
			nil, []string{"paris", "lyon", "national"}},
		{"Lyon full → next partner", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI},
			states{"lyon": {Open: 25}}, []string{"paris", "national"}},
		{"Lyon almost full → still Lyon", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI},
			states{"lyon": {Open: 24}, "paris": {}}, []string{"lyon", "paris", "national"}},
		{"Lyon paused → next partner", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI},
			states{"lyon": {Paused: true}}, []string{"paris", "national"}},
		{"Lyon unavailable → next partner", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI},
			states{"lyon": {Unavailable: true}}, []string{"paris", "national"}},
		{"nothing covers → fallback", base,
			handoff.RouteRequest{Departement: "13", Lang: "ar", Problem: handoff.ProblemNoAPI},
			nil, []string{"national"}},
		{"no fallback → empty", noFallback,
			handoff.RouteRequest{Departement: "13", Lang: "ar", Problem: handoff.ProblemNoAPI},
			nil, []string{}},

		// Preferred partner.
		{"referral outside its départements → ignored", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI, Preferred: "gironde"},
			nil, []string{"lyon", "paris", "national"}},
		{"referral to a full partner → ignored", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI, Preferred: "paris"},
			states{"paris": {Open: 40}}, []string{"lyon", "national"}},
		{"referral to a partner not taking the problem → ignored", base,
			handoff.RouteRequest{Departement: "33", Lang: "es", Problem: handoff.ProblemOQTF, Preferred: "gironde"},
			nil, []string{"national"}},
		{"referral to an unknown partner → ignored", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI, Preferred: "ghost"},
			nil, []string{"lyon", "paris", "national"}},
		{"referral to the fallback → first", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI, Preferred: "national"},
			nil, []string{"national", "lyon", "paris"}},

		// Language, problem, load.
		{"Persian from 69 → Paris first", base,
			handoff.RouteRequest{Departement: "69", Lang: "fa", Problem: handoff.ProblemStuck},
			nil, []string{"paris", "lyon", "national"}},
		{"language no one speaks → load decides", base,
			handoff.RouteRequest{Departement: "69", Lang: "ti", Problem: handoff.ProblemStuck},
			states{"lyon": {Open: 7}, "paris": {Open: 3}}, []string{"paris", "lyon", "national"}},
		{"both speak it → fewest open cases", base,
			handoff.RouteRequest{Departement: "69", Lang: "fr", Problem: handoff.ProblemStuck},
			states{"lyon": {Open: 7}, "paris": {Open: 3}}, []string{"paris", "lyon", "national"}},
		{"both speak it, same load → file order", base,
			handoff.RouteRequest{Departement: "69", Lang: "en", Problem: handoff.ProblemStuck},
			states{"lyon": {Open: 3}, "paris": {Open: 3}}, []string{"lyon", "paris", "national"}},
		{"language tags match on the language", base,
			handoff.RouteRequest{Departement: "69", Lang: "fa-AF", Problem: handoff.ProblemStuck},
			nil, []string{"paris", "lyon", "national"}},
		{"partner taking only some problems: taken", base,
			handoff.RouteRequest{Departement: "33", Lang: "es", Problem: handoff.ProblemLogin},
			nil, []string{"gironde", "national"}},
		{"sensitive problem: only partners with a referents' group", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemSensitive},
			nil, []string{"national"}},
		{"partner taking only some problems: not taken", base,
			handoff.RouteRequest{Departement: "33", Lang: "es", Problem: handoff.ProblemOQTF},
			nil, []string{"national"}},
		{"specialist before generalists of the same language", more,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI},
			states{"lyon-api": {Open: 4}}, []string{"lyon-api", "lyon", "paris", "everywhere", "national"}},
		{"specialist not taking the problem", more,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemLogin},
			nil, []string{"lyon", "paris", "everywhere", "national"}},
		{"a partner covering all → in the département group", more,
			handoff.RouteRequest{Departement: "13", Lang: "uk", Problem: handoff.ProblemLogin},
			nil, []string{"everywhere", "national"}},
		{"no département → partners covering all", more,
			handoff.RouteRequest{Lang: "uk", Problem: handoff.ProblemLogin},
			nil, []string{"everywhere", "national"}},
		{"fallback last even when it speaks the language and is empty", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI},
			states{"lyon": {Open: 20}, "paris": {Open: 30}}, []string{"lyon", "paris", "national"}},
		{"fallback full", base,
			handoff.RouteRequest{Departement: "13", Lang: "ar", Problem: handoff.ProblemNoAPI},
			states{"national": {Open: 100}}, []string{}},
		{"fallback paused", base,
			handoff.RouteRequest{Departement: "13", Lang: "ar", Problem: handoff.ProblemNoAPI},
			states{"national": {Paused: true}}, []string{}},
		{"not a problem", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: "visa"},
			nil, []string{}},
		{"everyone busy", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI},
			states{"lyon": {Paused: true}, "paris": {Unavailable: true}, "national": {Open: 200}}, []string{}},

		// Exclusions and opening hours.
		{"excluded partners", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI, Exclude: []string{"lyon", "national"}},
			nil, []string{"paris"}},
		{"excluded preferred", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI, Preferred: "paris", Exclude: []string{"paris"}},
			nil, []string{"lyon", "national"}},
		{"closed for the winter, MaxWait 3 days → skipped", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI,
				At: at(t, paris, "2027-12-27 10:00"), MaxWait: 72 * time.Hour},
			nil, []string{"paris"}},
		{"closed for the winter, MaxWait 10 days → kept", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI,
				At: at(t, paris, "2027-12-27 10:00"), MaxWait: 240 * time.Hour},
			nil, []string{"lyon", "paris", "national"}},
		{"At with no MaxWait keeps partners that will open", base,
			handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI,
				At: at(t, paris, "2027-12-27 10:00")},
			nil, []string{"lyon", "paris", "national"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var state func(string) handoff.PartnerState
			if tt.state != nil {
				state = tt.state.get
			}
			got := ids2(handoff.Route(tt.req, tt.ps, state))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Route = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestRouteInactive(t *testing.T) {
	ps := load(t, routing+extra)
	got := ids2(handoff.Route(handoff.RouteRequest{Departement: "69", Lang: "ar", Problem: handoff.ProblemStuck, Preferred: "asleep"}, ps, nil))
	if slices.Contains(got, "asleep") {
		t.Errorf("Route = %v; an inactive partner is a candidate", got)
	}
	if got := handoff.Route(handoff.RouteRequest{Departement: "69", Problem: handoff.ProblemStuck}, nil, nil); got != nil {
		t.Errorf("Route with no partners = %v", got)
	}
}

func TestRouteAsksStateOnce(t *testing.T) {
	ps := load(t, routing)
	calls := map[string]int{}
	handoff.Route(handoff.RouteRequest{Departement: "69", Lang: "fr", Problem: handoff.ProblemStuck, Preferred: "paris"}, ps,
		func(id string) handoff.PartnerState {
			calls[id]++
			return handoff.PartnerState{Open: len(id)}
		})
	for id, n := range calls {
		if n != 1 {
			t.Errorf("state(%q) called %d times; want once", id, n)
		}
	}
}

func TestEscalation(t *testing.T) {
	ps := load(t, routing)
	c := handoff.Case{Departement: "69", Lang: "ar", Problem: handoff.ProblemNoAPI, PartnerID: "lyon", Status: handoff.StatusWaiting}
	tests := []struct {
		name  string
		tried []string
		state states
		want  string // "" for none
	}{
		{"Lyon did not take it → Paris", nil, nil, "paris"},
		{"Paris tried before → fallback", []string{"paris"}, nil, "national"},
		{"Paris full → fallback", nil, states{"paris": {Open: 40}}, "national"},
		{"everyone tried → none", []string{"paris", "national"}, nil, ""},
	}
	for _, tt := range tests {
		c.Tried = tt.tried
		var state func(string) handoff.PartnerState
		if tt.state != nil {
			state = tt.state.get
		}
		p, ok := handoff.Next(c, ps, state)
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s: Next = %s; want none", tt.name, p.ID)
		case tt.want != "" && (!ok || p.ID != tt.want):
			t.Errorf("%s: Next = %v, %v; want %s", tt.name, p, ok, tt.want)
		}
	}
	req := handoff.Escalation(handoff.Case{Departement: "33", Lang: "es", Problem: handoff.ProblemLogin, PartnerID: "gironde", Tried: []string{"a", "b"}})
	if req.Departement != "33" || req.Lang != "es" || req.Problem != handoff.ProblemLogin || !slices.Equal(req.Exclude, []string{"a", "b", "gironde"}) || req.Preferred != "" {
		t.Errorf("Escalation = %+v", req)
	}
	tried := make([]string, 1, 2) // room to append in place
	tried[0] = "a"
	handoff.Escalation(handoff.Case{PartnerID: "x", Tried: tried})
	if tried[:2][1] != "" {
		t.Error("Escalation wrote into the case's Tried array")
	}
}

package guide

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Fingerprint identifies what a reviewer read of an outcome: its route
// (channel, timing, ANEF label, follow-up question), its texts as text(id)
// gives them (the French catalog, the language reviewers work in), its
// dated rules and its sources (citation, link, date). Any change to one of
// them changes the fingerprint, so an outcome changed after its review goes
// back to to_verify by itself ([Guide.Reviewed]). It is 12 hex digits.
func (g *Guide) Fingerprint(o Outcome, text func(id string) string) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	msg := func(k, id string) {
		if id != "" {
			line(k, id+"|"+plainText(text(id)))
		}
	}
	line("channel", string(o.Channel))
	line("timing", string(o.Timing))
	line("anef_label", o.ANEFLabel)
	line("then", o.Then)
	msg("title", o.Title)
	msg("when", o.When)
	msg("prepare", o.Prepare)
	for _, id := range o.Keep {
		msg("keep", id)
	}
	for _, id := range o.Warnings {
		msg("warning", id)
	}
	for _, id := range o.Rules {
		r, _ := g.Rule(id)
		line("rule", r.ID+"|"+r.From+"|"+r.Until)
		msg("rule.text", r.Text)
		msg("rule.before", r.Before)
		msg("rule.after", r.After)
	}
	msg("next", o.Next)
	for _, tag := range g.Sources(o) {
		s, _ := g.Source(tag)
		line("source", strings.Join([]string{s.Tag, string(s.Kind), s.Title, s.URL, string(s.Status), s.Date}, "|"))
		msg("source.gloss", s.Gloss)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:6])
}

// Reviewed reports whether o counts as reviewed: its record says reviewed
// and its fingerprint still matches what text gives now. An outcome changed
// after its review is to_verify again.
func (g *Guide) Reviewed(o Outcome, text func(id string) string) bool {
	return o.Review.Status == ReviewReviewed && o.Review.Fingerprint == g.Fingerprint(o, text)
}

// ReviewState is the review status of o as residents and reviewers see it:
// ReviewReviewed, ReviewToVerify, or "changed" (reviewed, then changed: it
// counts as to_verify).
func (g *Guide) ReviewState(o Outcome, text func(id string) string) string {
	switch {
	case g.Reviewed(o, text):
		return ReviewReviewed
	case o.Review.Status == ReviewReviewed:
		return ReviewChanged
	}
	return ReviewToVerify
}

// ReviewChanged is the state of an outcome reviewed, then changed: it
// counts as to_verify until someone reviews it again.
const ReviewChanged = "changed_since_review"

// plainText drops what the printer adds for layout and typography (no-break
// and narrow no-break spaces, direction marks and isolates), so that a
// fingerprint changes with the words, not with rendering rules.
func plainText(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\u00a0', '\u202f':
			return ' '
		case '\u200e', '\u200f', '\u061c', '\u2066', '\u2067', '\u2068', '\u2069':
			return -1
		}
		return r
	}, s)
}

// Package guide is the procedure finder: a decision tree, kept as data in
// tree.yaml, that leads a resident from a few answers to the démarche to
// do, where, when, with what, and what to keep. Texts are catalog message
// ids, so content volunteers edit the tree and the catalogs, not Go.
package guide

import "go.yaml.in/yaml/v3"

// Channel is where a démarche is done.
type Channel string

// Channels.
const (
	ChannelANEF       Channel = "anef"                  // the ANEF online service
	ChannelPrefecture Channel = "prefecture"            // préfecture or sous-préfecture (appointment, post, desk)
	ChannelDS         Channel = "demarches_simplifiees" // a préfecture form on Démarches simplifiées
	ChannelEmployer   Channel = "employer"              // the employer files (work authorisation)
	ChannelOther      Channel = "other"                 // not a residence-permit procedure (asylum, child welfare, court, OFII…)
	ChannelHuman      Channel = "human"                 // a person must look at it: volunteer, lawyer, permanence
)

// Timing names the rule that says when to file; package permit computes
// the dates.
type Timing string

// Timings.
const (
	TimingANEFWindow       Timing = "anef_window"       // 120th to 60th day before expiry (R.431-5 1°)
	TimingPrefectureWindow Timing = "prefecture_window" // the 2 months before expiry (R.431-5)
	TimingVLSTS            Timing = "vlsts_validation"  // within 3 months of arrival
	TimingFirstRequest     Timing = "first_request"     // within 2 months of entry (R.431-4)
	TimingTurning18        Timing = "turning_18"        // at the latest 2 months after the 18th birthday (R.431-5 3°)
	TimingTurning19        Timing = "turning_19"        // at the latest the day before the 19th birthday (R.431-5 2°)
	TimingBothWindows      Timing = "both_windows"      // channel not known: the ANEF and the préfecture windows side by side
	TimingAPS              Timing = "aps_renewal"       // APS of temporary protection: 3 weeks to 3 days, or at least 15 days, before expiry
	TimingASAP             Timing = "asap"              // now: a deadline may already run
	TimingNone             Timing = ""                  // no deadline found in the sources
)

// Tree is the whole decision tree.
type Tree struct {
	Version int    `yaml:"version"`
	Start   string `yaml:"start"` // id of the first question
	Help    string `yaml:"help"`  // id of the outcome a switched-off branch leads to
	// ProtectedWarning is a catalog message id shown first among the
	// warnings of every outcome reached through a question marked
	// Protected (refugees, subsidiary protection, stateless people): never
	// turn to the authorities of the country of origin.
	ProtectedWarning string     `yaml:"protected_warning,omitempty"`
	Rules            []Rule     `yaml:"rules,omitempty"` // rules with a start or an end date
	Questions        []Question `yaml:"questions"`       // in any order
	Outcomes         []Outcome  `yaml:"outcomes"`
}

// Question asks one thing, with buttons.
type Question struct {
	ID   string `yaml:"id"`   // stable; never reuse an id for a different question
	Text string `yaml:"text"` // catalog message id of the question
	// Urgent, when set, is a catalog message id shown before the question:
	// the "I received a letter" track says first that deadlines run.
	Urgent  string   `yaml:"urgent,omitempty"`
	Answers []Answer `yaml:"answers"`
	// Protected marks the branches of people under international protection
	// and stateless people: every outcome reached through this question
	// shows Tree.ProtectedWarning first.
	Protected bool `yaml:"protected,omitempty"`
	Off       bool `yaml:"off,omitempty"` // switched off: leads to Tree.Help
}

// Answer is one button of a question.
type Answer struct {
	ID    string `yaml:"id"`    // stable, short ([a-z0-9_], ≤ 20 bytes): it goes into callback data
	Label string `yaml:"label"` // catalog message id of the button label (≤ 40 characters)
	Next  string `yaml:"next"`  // id of a question or an outcome
	Off   bool   `yaml:"off,omitempty"`
}

// Outcome is where a path ends: what to do.
type Outcome struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"` // catalog id: the démarche's name in the resident's language
	// ANEFLabel is the French label the resident will see on the ANEF site,
	// shown verbatim in every language; empty when not on the ANEF or not
	// known from the sources.
	ANEFLabel string   `yaml:"anef_label,omitempty"`
	Channel   Channel  `yaml:"channel"`
	Timing    Timing   `yaml:"timing,omitempty"`
	When      string   `yaml:"when,omitempty"`       // catalog id: the timing rule in words
	Prepare   string   `yaml:"prepare,omitempty"`    // catalog id: what to prepare
	Keep      []string `yaml:"keep,omitempty"`       // catalog ids: what to keep (attestation de dépôt, API, ADF…)
	Warnings  []string `yaml:"warnings,omitempty"`   // catalog ids
	Rules     []string `yaml:"rules,omitempty"`      // ids of Tree.Rules: shown with the warnings, in the version in force on the filing day
	Next      string   `yaml:"next_steps,omitempty"` // catalog id: what to do next, if any
	// Then is a question asked under the outcome, when one answer decides
	// between two routes (the unknown mention: ANEF or préfecture). Its
	// answers continue the walk.
	Then string `yaml:"then,omitempty"`
	// Sources are tags of sources.yaml: the official legal basis first (a
	// law or a court decision), then at most two explanatory sources (an
	// administration page or an association's guide).
	Sources []string `yaml:"sources"`
	// NoOfficialSource, when set, says why the outcome has no law or court
	// decision as its first source. The validator rejects an outcome
	// without an official basis unless this reason is given.
	NoOfficialSource string `yaml:"no_official_source,omitempty"`
	// Review is who checked the outcome, and when. An outcome changed after
	// its review (its fingerprint no longer matches) counts as to_verify.
	Review    Review `yaml:"review"`
	Urgent    bool   `yaml:"urgent,omitempty"`    // deadlines may run from a notification
	Sensitive bool   `yaml:"sensitive,omitempty"` // illness, violence, trafficking: name it, ask nothing, keep nothing, offer specialised help
	// Document is the permit kind for "remind me"; Mention the permit
	// mention of the next titre when the path tells it; FirstMulti "yes"
	// or "no" when the path tells whether the next card is a first
	// multi-year card or a first carte de résident. The registration then
	// does not ask them again.
	Document   string `yaml:"document,omitempty"`
	Mention    string `yaml:"mention,omitempty"`
	FirstMulti string `yaml:"first_multi,omitempty"`
	Off        bool   `yaml:"off,omitempty"`
}

// Review statuses.
const (
	// ReviewToVerify: nobody has checked the outcome against the law and the
	// live ANEF site yet, or it changed since.
	ReviewToVerify = "to_verify"
	// ReviewReviewed: a lawyer or an association checked the outcome (By,
	// On) as it was when its Fingerprint was taken.
	ReviewReviewed = "reviewed"
)

// Review is the review record of an outcome. In tree.yaml it is either the
// word to_verify, or a mapping {status: reviewed, by: …, on: YYYY-MM-DD,
// fingerprint: …} where fingerprint is [Guide.Fingerprint] of the outcome as
// reviewed (`passerelle guide export` prints it).
type Review struct {
	Status      string `yaml:"status"`
	By          string `yaml:"by,omitempty"`
	On          string `yaml:"on,omitempty"` // YYYY-MM-DD
	Fingerprint string `yaml:"fingerprint,omitempty"`
}

// UnmarshalYAML reads the short form "to_verify" as well as the mapping.
func (r *Review) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*r = Review{Status: n.Value}
		return nil
	}
	type plain Review
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*r = Review(p)
	return nil
}

// MarshalYAML writes the short form when only the status is set.
func (r Review) MarshalYAML() (any, error) {
	if r.By == "" && r.On == "" && r.Fingerprint == "" {
		return r.Status, nil
	}
	type plain Review
	return plain(r), nil
}

// Rule is a rule with a start date, an end date or both: the 2026 language
// and civic-exam requirements, temporary protection until 4 March 2027. The
// guide shows Text when the rule is in force on the resident's filing day,
// Before before From and After after Until (either may be empty: nothing is
// shown then).
type Rule struct {
	ID      string   `yaml:"id"`
	From    string   `yaml:"from,omitempty"`  // YYYY-MM-DD, first day in force
	Until   string   `yaml:"until,omitempty"` // YYYY-MM-DD, last day in force
	Text    string   `yaml:"text"`            // catalog id while in force
	Before  string   `yaml:"before,omitempty"`
	After   string   `yaml:"after,omitempty"`
	Sources []string `yaml:"sources"` // tags; the legal basis of the rule
}

// SourceKind is what a source is. Only the first two are a legal basis.
type SourceKind string

// Source kinds.
const (
	KindLaw            SourceKind = "law"            // a legal text: code article, décret, arrêté, EU act, agreement
	KindCaseLaw        SourceKind = "case_law"       // a court decision or opinion
	KindAdministration SourceKind = "administration" // an official page: service-public, ministry, préfecture, Parliament
	KindAssociation    SourceKind = "association"    // an association's guide
	KindOther          SourceKind = "other"          // forum, news, blog: never shown to residents
)

// Official reports whether a source of kind k is a legal basis.
func (k SourceKind) Official() bool { return k == KindLaw || k == KindCaseLaw }

// LinkStatus is how sure the link of a source is (official-sources.md).
type LinkStatus string

// Link statuses, from official-sources.md.
const (
	// LinkVerified: the exact URL was seen.
	LinkVerified LinkStatus = "verified"
	// LinkIDSeen: the Légifrance identifier was seen; the URL is the
	// standard form built from it.
	LinkIDSeen LinkStatus = "id-seen"
	// LinkFicheSeen: the service-public fiche number was seen; the URL is
	// the standard fiche address.
	LinkFicheSeen LinkStatus = "fiche-seen"
	// LinkCitationOnly: no official URL was seen. The source shows its
	// citation, and the Légifrance page of its code when there is one
	// (URL), never an invented link.
	LinkCitationOnly LinkStatus = "citation-only"
)

// Source is one source of the guide: the official legal basis (a law, a
// court decision) or an explanatory page. Title is the official name, in
// French, shown as is in every language; Gloss is a catalog message id, a
// short explanation translated for the resident.
type Source struct {
	Tag    string     `yaml:"tag"`
	Kind   SourceKind `yaml:"kind"`
	Title  string     `yaml:"title"` // the citation or the page's own title, in French
	Gloss  string     `yaml:"gloss"` // catalog id: what it says, in a few words
	URL    string     `yaml:"url,omitempty"`
	Status LinkStatus `yaml:"status"`
	// Date is the source's own date: YYYY-MM-DD, YYYY-MM or YYYY, or "n.d."
	// when it shows none.
	Date string `yaml:"date"`
	// Note says where the source comes from (its row in official-sources.md)
	// and what it replaced; for reviewers, never shown to residents.
	Note string `yaml:"note,omitempty"`
}

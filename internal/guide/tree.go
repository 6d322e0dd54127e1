// Package guide is the procedure finder: a decision tree, kept as data in
// tree.yaml, that leads a resident from a few answers to the démarche to
// do, where, when, with what, and what to keep. Texts are catalog message
// ids, so content volunteers edit the tree and the catalogs, not Go.
package guide

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
	TimingASAP             Timing = "asap"              // now: a deadline may already run
	TimingNone             Timing = ""                  // no deadline found in the sources
)

// Tree is the whole decision tree.
type Tree struct {
	Version   int        `yaml:"version"`
	Start     string     `yaml:"start"`     // id of the first question
	Help      string     `yaml:"help"`      // id of the outcome a switched-off branch leads to
	Questions []Question `yaml:"questions"` // in any order
	Outcomes  []Outcome  `yaml:"outcomes"`
}

// Question asks one thing, with buttons.
type Question struct {
	ID   string `yaml:"id"`   // stable; never reuse an id for a different question
	Text string `yaml:"text"` // catalog message id of the question
	// Urgent, when set, is a catalog message id shown before the question:
	// the "I received a letter" track says first that deadlines run.
	Urgent  string   `yaml:"urgent,omitempty"`
	Answers []Answer `yaml:"answers"`
	Off     bool     `yaml:"off,omitempty"` // switched off: leads to Tree.Help
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
	Next      string   `yaml:"next_steps,omitempty"` // catalog id: what to do next, if any
	Sources   []string `yaml:"sources"`              // tags of anef.md §10, e.g. S85; at least one
	// Review is the review status; "to_verify" until someone checks the
	// live ANEF site. Never a made-up "checked on" date.
	Review    string `yaml:"review"`
	Urgent    bool   `yaml:"urgent,omitempty"`    // deadlines may run from a notification
	Sensitive bool   `yaml:"sensitive,omitempty"` // illness, violence, trafficking: name it, ask nothing, keep nothing, offer specialised help
	Document  string `yaml:"document,omitempty"`  // document kind for "set a reminder" (permit kinds, wired by the reminders feature)
	Off       bool   `yaml:"off,omitempty"`
}

// Source is one entry of anef.md §10.
type Source struct {
	Tag   string `yaml:"tag"`   // S85
	Title string `yaml:"title"` // short, as in anef.md
	URL   string `yaml:"url"`
	Date  string `yaml:"date"` // the source's own date as it shows it, or "n.d."
}

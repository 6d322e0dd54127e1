// Package handoff routes stuck cases to volunteers of partner associations:
// the partners file, the French départements, opening hours and SLAs
// counted in them, routing, and the case record with its store contract.
// It is pure: it never reads the clock (callers pass times) and imports only
// the standard library and a YAML parser for the partners file.
package handoff

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"
)

// Errors returned by Store implementations.
var (
	ErrNotFound = errors.New("handoff: not found")
	ErrConflict = errors.New("handoff: version conflict")
	ErrExists   = errors.New("handoff: already exists")
)

// Problem is the kind of blockage, from the taxonomy of anef.md §4.5, plus
// urgent letters and "other". Values are stored and used in callback data:
// never change one once stored.
type Problem string

// The problems. Letters first: their deadlines can be very short.
const (
	ProblemOQTF         Problem = "oqtf"          // obligation de quitter le territoire (urgent, sensitive)
	ProblemRefusal      Problem = "refusal"       // refusal of a titre (urgent)
	ProblemSummons      Problem = "summons"       // convocation to the préfecture or police (urgent)
	ProblemMissingDocs  Problem = "missing_docs"  // request for missing documents (urgent: ~30 days)
	ProblemLogin        Problem = "login"         // B1 account, login, password loop
	ProblemWrongProc    Problem = "wrong_proc"    // B2 démarche missing from the menu, or wrong one chosen
	ProblemUpload       Problem = "upload"        // B3 upload errors
	ProblemNoAPI        Problem = "no_api"        // B4 no API issued or not renewed
	ProblemStuck        Problem = "stuck"         // B5 "en cours d'instruction" for months
	ProblemHandover     Problem = "handover"      // B6 previous card's hand-over not recorded
	ProblemCannotModify Problem = "cannot_modify" // B7 cannot modify or complete the file
	ProblemClosed       Problem = "closed"        // B8 file closed without a reason
	ProblemNoContact    Problem = "no_contact"    // B9 CCC unreachable, no appointment
	ProblemWrongData    Problem = "wrong_data"    // B10 wrong data on the card
	ProblemWorkPermit   Problem = "work_permit"   // B11 work authorisation platform
	ProblemSensitive    Problem = "sensitive"     // illness, violence, minors: referents only; no details asked
	ProblemOther        Problem = "other"
)

var problems = []Problem{
	ProblemOQTF, ProblemRefusal, ProblemSummons, ProblemMissingDocs,
	ProblemLogin, ProblemWrongProc, ProblemUpload, ProblemNoAPI, ProblemStuck,
	ProblemHandover, ProblemCannotModify, ProblemClosed, ProblemNoContact,
	ProblemWrongData, ProblemWorkPermit, ProblemSensitive, ProblemOther,
}

// Problems returns every Problem in display order (a new slice).
func Problems() []Problem { return slices.Clone(problems) }

// Valid reports whether p is one of the constants.
func (p Problem) Valid() bool { return slices.Contains(problems, p) }

// Urgent reports whether deadlines may run from a letter the person got.
func (p Problem) Urgent() bool {
	switch p {
	case ProblemOQTF, ProblemRefusal, ProblemSummons, ProblemMissingDocs:
		return true
	}
	return false
}

// Sensitive reports whether only a partner's referents may take the case.
func (p Problem) Sensitive() bool {
	return p == ProblemOQTF || p == ProblemSensitive
}

// Status is where a case stands.
type Status string

// The statuses.
const (
	StatusWaiting Status = "waiting" // sent to a partner, not taken yet
	StatusTaken   Status = "taken"   // a volunteer took it
	StatusClosed  Status = "closed"
)

// Risk is what the resident may lose right now.
type Risk string

// The risks.
const (
	RiskWork     Risk = "work"
	RiskHousing  Risk = "housing"
	RiskBenefits Risk = "benefits"
)

// Case is one request for help. It carries no name, username or phone
// number: volunteers see a pseudonym ("Case #123").
type Case struct {
	Schema int   `json:"v"`
	ID     int64 `json:"id"` // from Store.NextCaseID; shown as "Case #ID"

	ResidentID   int64   `json:"rid"`
	ResidentChat int64   `json:"rchat"`
	Lang         string  `json:"lang"`
	Departement  string  `json:"dep"` // code, e.g. "69", "2A", "974"
	Problem      Problem `json:"problem"`
	DocKind      string  `json:"doc,omitempty"` // permit kind, if known
	// Key dates as YYYY-MM-DD, empty when unknown.
	Expiry    string `json:"exp,omitempty"`
	Filed     string `json:"filed,omitempty"`
	APIExpiry string `json:"api,omitempty"`
	// Notified is the day the resident says an urgent letter reached them
	// (YYYY-MM-DD): appeal deadlines run from it.
	Notified string `json:"notified,omitempty"`
	// Departure, for an OQTF, is whether the resident says it grants a
	// voluntary departure period: DepartureYes, DepartureNo,
	// DepartureUnknown, or "" when not asked.
	Departure string `json:"departure,omitempty"`
	Risks     []Risk `json:"risks,omitempty"`
	// Description is the resident's optional short text (they were told
	// not to write passwords, ID numbers or health details).
	Description string `json:"desc,omitempty"`
	Urgent      bool   `json:"urgent,omitempty"`
	Sensitive   bool   `json:"sensitive,omitempty"`

	PartnerID string   `json:"partner"`
	Tried     []string `json:"tried,omitempty"` // partners it was sent to before, in order
	Status    Status   `json:"status"`

	// Volunteer side.
	CardMessageID int `json:"card,omitempty"` // the case card in the partner's group
	// TopicChat is the group of TopicID: the partner's volunteers' group,
	// or its referents' group for a sensitive case (0 in records written
	// before it existed: the volunteers' group).
	TopicChat        int64  `json:"tchat,omitempty"`
	TopicID          int    `json:"topic,omitempty"`   // forum topic (message_thread_id)
	SummaryMessageID int    `json:"summary,omitempty"` // pinned summary in the topic
	TakenBy          int64  `json:"taken_by,omitempty"`
	TakenAlias       string `json:"alias,omitempty"` // first name the volunteer signs with
	Steps            string `json:"steps,omitempty"` // summary: steps done, next action (volunteers' words)
	// Pending holds the resident's message ids sent before the case had a
	// topic; they are copied in when the topic opens.
	Pending []int `json:"pending,omitempty"`
	// Inbox holds the resident's messages on their way to the topic (how
	// each is framed and its cleaned text or caption), from the moment they
	// arrive until their copy is made: the relay outbox keeps ids only.
	Inbox []Incoming `json:"inbox,omitempty"`
	// Drafts are replies volunteers wrote with /r, previewed in the topic
	// and waiting for their author's go (dropped after a day); Sent are the
	// replies the resident received lately, which may still be withdrawn
	// (kept only for the undo window). DraftSeq numbers both.
	Drafts   []Draft `json:"drafts,omitempty"`
	Sent     []Sent  `json:"sent,omitempty"`
	DraftSeq int     `json:"dseq,omitempty"`
	// Handover is a transfer being prepared in the topic (partner, reason
	// and note not confirmed yet); Handovers are the confirmed ones, oldest
	// first: the receiving partner's card and summary show the last one.
	Handover  *Handover  `json:"handover,omitempty"`
	Handovers []Handover `json:"handovers,omitempty"`
	// Earlier are the resident's earlier cases still kept (within the
	// retention period) when this one was created, newest first: the card
	// links them.
	Earlier []Earlier `json:"earlier,omitempty"`
	// CloseReason is why volunteers closed the case (a CloseReasons value).
	CloseReason string `json:"close_reason,omitempty"`
	// Purged is set once retention deleted every artefact of the closed
	// case from the partner groups; only its mappings are left until they
	// go too.
	Purged bool `json:"purged,omitempty"`

	Created  time.Time `json:"created"`
	Routed   time.Time `json:"routed"` // sent to the current partner
	Taken    time.Time `json:"taken,omitzero"`
	Activity time.Time `json:"activity,omitzero"` // last relayed message either way
	Closed   time.Time `json:"closed,omitzero"`
	// LastIn is the resident's last message, LastOut the last reply they
	// received from a volunteer: the resident waits for an answer while
	// LastOut is before LastIn.
	LastIn  time.Time `json:"last_in,omitzero"`
	LastOut time.Time `json:"last_out,omitzero"`
	// Alerted is the LastIn whose wait the owner was alerted of.
	Alerted time.Time `json:"alerted,omitzero"`
	Nudged  bool      `json:"nudged,omitempty"`
	// HalfAlerted: the group was told the case waited half its SLA (at
	// the current partner).
	HalfAlerted bool   `json:"half,omitempty"`
	Rating      string `json:"rating,omitempty"` // useful, not_useful

	// Version is the stored version this case was read at (0: new).
	Version int64 `json:"ver"`
}

// Draft is a reply previewed in a case topic, not sent yet: a volunteer's
// text, or a reply template (its code and the value it needs) that goes
// out in the resident's language.
type Draft struct {
	N        int    `json:"n"`
	By       int64  `json:"by"`
	Alias    string `json:"alias"`
	Text     string `json:"t,omitempty"`
	Template string `json:"tpl,omitempty"`
	// CopyOf is the volunteer's own message in the topic (a file, a
	// photo…) that goes to the resident as it is, under the signature.
	CopyOf int    `json:"copy,omitempty"`
	Value  string `json:"val,omitempty"`
	// Translated is Text machine-translated into the resident's language
	// (empty without a translation server, or when it failed).
	Translated string    `json:"tr,omitempty"`
	At         time.Time `json:"at"`
}

// Handover is what a transfer carries to the receiving partner: from
// whom, why (a TransferReasons value) and the volunteers' note.
type Handover struct {
	From   string    `json:"from"`
	To     string    `json:"to,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Note   string    `json:"note"`
	By     int64     `json:"by"`
	At     time.Time `json:"at"`
}

// TransferReasons and CloseReasons are the reasons volunteers choose from
// (stored; never change one).
var (
	TransferReasons = []string{"language", "area", "expertise", "capacity", "other"}
	CloseReasons    = []string{"solved", "referred", "no_news", "not_needed", "other"}
)

// Earlier is what a new card says of an earlier case of the same resident.
type Earlier struct {
	ID        int64     `json:"id"`
	Partner   string    `json:"partner"`
	Created   time.Time `json:"created"`
	Closed    time.Time `json:"closed,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	Steps     string    `json:"steps,omitempty"`
	Sensitive bool      `json:"sensitive,omitempty"`
}

// Sent is a reply the resident received: Msg is its id in their chat, At
// when it was sent. It is kept only for the undo window.
type Sent struct {
	Draft
	Msg  int `json:"msg"`
	Copy int `json:"copy_msg,omitempty"` // the copy of a file, after the signature Msg
	Note int `json:"note,omitempty"`     // the topic's note of it, with the undo button
}

// Open reports whether the case still waits or is being handled.
func (c Case) Open() bool { return c.Status == StatusWaiting || c.Status == StatusTaken }

// Form says how a resident's message is framed in a partner group, so
// that nobody can take it for the bot's own words: every copy starts with
// a header naming the case and saying it comes from the resident.
type Form string

// The forms.
const (
	// FormText: a text, sent again as the header and the text quoted.
	FormText Form = "t"
	// FormCaption: a photo, document, video, audio, voice note or
	// animation, copied with the header and the quoted caption as its new
	// caption.
	FormCaption Form = "c"
	// FormHeader: anything else (video note, sticker, location, contact…),
	// copied as it is after a header message.
	FormHeader Form = "h"
)

// Incoming is one message of the resident on its way to the volunteers.
// Its text is the cleaned text or caption; it is kept only until the copy
// is made.
type Incoming struct {
	Msg  int    `json:"m"`
	Form Form   `json:"f"`
	Text string `json:"t,omitempty"`
	// Translated is Text machine-translated into French from language
	// From, when the operator configured a translation server.
	Translated string `json:"tr,omitempty"`
	From       string `json:"tl,omitempty"`
}

// ArtefactKind says what a message or topic left in a group for a case is.
type ArtefactKind string

// The kinds of artefact.
const (
	ArtefactCard    ArtefactKind = "card"    // the case card (General thread)
	ArtefactTopic   ArtefactKind = "topic"   // a forum topic, with everything in it
	ArtefactSummary ArtefactKind = "summary" // the pinned summary of a topic
	ArtefactCopy    ArtefactKind = "copy"    // a copy of a resident's message, or its header
	ArtefactNote    ArtefactKind = "note"    // a bot note about the case outside its topic
)

// Artefact is something the bot left in a chat for a case: a message
// (Message > 0) or a whole forum topic (Message 0, Thread > 0). Every
// artefact is recorded with AddArtefact, in every group the case touched,
// so that closing, retention and /forget find them all.
type Artefact struct {
	Chat    int64        `json:"chat"`
	Thread  int          `json:"thread,omitempty"`
	Message int          `json:"msg,omitempty"`
	Kind    ArtefactKind `json:"kind"`
}

// Event is one line of a case's audit log: who did what, when. It never
// holds message text.
type Event struct {
	At     time.Time `json:"at"`
	Actor  int64     `json:"actor"` // Telegram user id; 0 for the bot itself
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"` // partner id, alias…: no personal data
}

// Count is one cell of the anonymous statistics: cases per département,
// problem and month. Counts survive the deletion of cases.
type Count struct {
	Month       string  `json:"month"` // YYYY-MM
	Departement string  `json:"dep"`
	Problem     Problem `json:"problem"`
	// Partner is the id of the partner the case was first sent to; ""
	// for counts made before counts were kept per partner.
	Partner string `json:"partner,omitempty"`
	N       int    `json:"n"`
}

// Relay links a message copied into a partner's topic to the case and to
// the resident's original message, so that a volunteer's reply to it
// reaches the right person.
type Relay struct {
	CaseID            int64 `json:"case"`
	ResidentMessageID int   `json:"rmsg"`
}

// Store keeps cases and what the relay needs. Implementations live in
// internal/store/* and pass the handoff part of storetest. Safe for
// concurrent use by several processes sharing one backend.
type Store interface {
	// NextCaseID returns a new case number, never returned before.
	NextCaseID(ctx context.Context) (int64, error)
	// CreateCase stores a new case (Version 0); ErrExists if its ID is
	// taken. It also increments the anonymous count of its month,
	// département and problem. Returns the stored version.
	CreateCase(ctx context.Context, c Case) (int64, error)
	// Case returns a case, or ErrNotFound.
	Case(ctx context.Context, id int64) (Case, error)
	// UpdateCase replaces c if the stored version equals c.Version and
	// returns the new version; otherwise ErrConflict. This compare-and-set
	// makes claims and timers take effect once.
	UpdateCase(ctx context.Context, c Case) (int64, error)
	// DeleteCase removes a case, its topic and relay mappings, its
	// artefacts record and its audit log; counts stay. Absent is not an
	// error.
	DeleteCase(ctx context.Context, id int64) error
	// CasesOf returns the resident's cases, oldest first.
	CasesOf(ctx context.Context, residentID int64) ([]Case, error)
	// OpenCases returns the partner's cases that are waiting or taken.
	OpenCases(ctx context.Context, partnerID string) ([]Case, error)
	// Cases returns every stored case (for statistics and retention).
	Cases(ctx context.Context) ([]Case, error)

	// SetTopic maps a forum topic of a group to a case; CaseByTopic reads it
	// (ErrNotFound when unmapped).
	SetTopic(ctx context.Context, chatID int64, topicID int, caseID int64) error
	CaseByTopic(ctx context.Context, chatID int64, topicID int) (int64, error)

	// PutRelay records that message msgID of chat chatID is a copy made for
	// r; Relay reads it (ErrNotFound when unknown).
	PutRelay(ctx context.Context, chatID int64, msgID int, r Relay) error
	Relay(ctx context.Context, chatID int64, msgID int) (Relay, error)

	// AddArtefact records a in the case's artefacts (a set: adding it again
	// changes nothing); Artefacts returns them, ordered by chat, thread and
	// message; RemoveArtefacts forgets those given (once deleted from
	// Telegram). DeleteCase removes the record with the case.
	AddArtefact(ctx context.Context, caseID int64, a Artefact) error
	Artefacts(ctx context.Context, caseID int64) ([]Artefact, error)
	RemoveArtefacts(ctx context.Context, caseID int64, as []Artefact) error

	// AddEvent appends to a case's audit log; Events returns it in order.
	AddEvent(ctx context.Context, caseID int64, e Event) error
	Events(ctx context.Context, caseID int64) ([]Event, error)

	// Counts returns every anonymous count.
	Counts(ctx context.Context) ([]Count, error)

	// SetPaused records whether a partner's coordinators paused intake;
	// Paused reads it (false when never set).
	SetPaused(ctx context.Context, partnerID string, paused bool) error
	Paused(ctx context.Context, partnerID string) (bool, error)
}

// CompareArtefacts orders artefacts by chat, thread, message and kind.
func CompareArtefacts(a, b Artefact) int {
	return cmp.Or(cmp.Compare(a.Chat, b.Chat), cmp.Compare(a.Thread, b.Thread),
		cmp.Compare(a.Message, b.Message), cmp.Compare(a.Kind, b.Kind))
}

// Exporter is an optional extension of Store for `passerelle migrate`:
// what a case leaves besides its record, and the store-wide state that
// outlives cases. Both stores implement it (storetest checks).
type Exporter interface {
	// Links returns the forum topics and relayed copies mapped to a case
	// (by SetTopic and PutRelay, and not deleted since).
	Links(ctx context.Context, caseID int64) ([]Link, error)
	// PausedPartners returns the ids of the partners that paused intake.
	PausedPartners(ctx context.Context) ([]string, error)
	// AddCount adds c.N to the anonymous count of c's month, département
	// and problem.
	AddCount(ctx context.Context, c Count) error
	// EnsureCaseID makes NextCaseID return only ids above id.
	EnsureCaseID(ctx context.Context, id int64) error
}

// Link is one mapping of a case: a forum topic (Topic != 0) or a message
// copied into a group (Message != 0, with its Relay).
type Link struct {
	ChatID  int64
	Topic   int
	Message int
	Relay   Relay
}

// Answers to "does the OQTF grant a voluntary departure period?".
const (
	DepartureYes     = "yes"
	DepartureNo      = "no"
	DepartureUnknown = "unknown"
)

// ValidDeparture reports whether v is one of the Departure answers.
func ValidDeparture(v string) bool {
	return v == DepartureYes || v == DepartureNo || v == DepartureUnknown
}

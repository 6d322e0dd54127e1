package bot

import (
	"context"
	"errors"
	"time"
)

// SchemaVersion is written into every record the core stores, so that a
// later release can migrate old records.
const SchemaVersion = 1

// Errors returned by Store implementations.
var (
	ErrNotFound = errors.New("bot: not found")
	ErrConflict = errors.New("bot: version conflict")
	// ErrUnavailable marks an error after which the store may well
	// succeed later: it could not be reached (connection refused or
	// reset, a timeout, a server restarting or loading its data). The core
	// then keeps the update and handles it again once the store is back,
	// instead of apologising; the Redis store marks its errors so.
	ErrUnavailable = errors.New("bot: store unavailable")
)

// Profile is what Passerelle keeps about a resident (see DESIGN.md, Privacy).
type Profile struct {
	Schema   int       `json:"v"`
	UserID   int64     `json:"user_id"`
	ChatID   int64     `json:"chat_id"`
	Lang     string    `json:"lang,omitempty"` // chosen by the resident; empty until chosen
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	Blocked  bool      `json:"blocked,omitempty"` // the resident blocked the bot: send nothing
	// Partner is the partner association that referred the resident
	// (referral link), preferred by routing.
	Partner string `json:"partner,omitempty"`
	// OpenCase is the resident's open hand-off case, 0 for none: while it
	// is open, what they write goes to the volunteers.
	OpenCase int64 `json:"case,omitempty"`
	// Warned is when the resident was told that their data would be
	// deleted for inactivity (zero: never). It counts only while it is
	// after LastSeen: writing again starts a new period.
	Warned time.Time `json:"warned,omitzero"`
	// News: the resident asked for service news (/privacy; off by
	// default): outages, rule changes, maintenance (the operator's /notice).
	News bool `json:"news,omitempty"`
}

// SessionKey identifies a conversation: one user in one chat.
type SessionKey struct {
	ChatID int64
	UserID int64
}

// Session is the short-lived state of a conversation flow. It expires; it
// never holds anything that must outlive the flow.
type Session struct {
	Schema  int               `json:"v"`
	Key     SessionKey        `json:"-"`
	Flow    string            `json:"flow,omitempty"`
	Step    string            `json:"step,omitempty"`
	Data    map[string]string `json:"data,omitempty"`
	Expires time.Time         `json:"expires"`
	// Version is the stored version this session was read at (0: new).
	// SaveSession succeeds only if the stored version still equals it.
	Version int64 `json:"version"`
}

// Store is the persistence the core needs. Implementations live in
// internal/store/*; all of them pass internal/store/storetest. Methods are
// safe for concurrent use.
type Store interface {
	// Profile returns the resident's profile, or ErrNotFound.
	Profile(ctx context.Context, userID int64) (Profile, error)
	// PutProfile creates or replaces a profile.
	PutProfile(ctx context.Context, p Profile) error

	// Session returns the session, or ErrNotFound (also when expired).
	Session(ctx context.Context, k SessionKey) (Session, error)
	// SaveSession stores s if the stored version equals s.Version (absent
	// counts as 0) and returns the new version; otherwise ErrConflict.
	SaveSession(ctx context.Context, s Session) (int64, error)
	// DeleteSession removes a session; absent is not an error.
	DeleteSession(ctx context.Context, k SessionKey) error

	// ClaimUpdate claims update id for one handler, atomically across
	// every process sharing the store: ClaimGranted with a token when
	// nobody holds it, ClaimHandled when it was marked handled (a
	// duplicate), ClaimBusy when another handler's claim has not ended.
	// A claim ends after lease (by the store's clock), or earlier by
	// ReleaseUpdate, or by MarkUpdate, which turns it into the long mark.
	ClaimUpdate(ctx context.Context, id int64, lease time.Duration) (UpdateClaim, error)
	// ReleaseUpdate ends the claim whose token is given, so that the
	// update can be claimed again at once (its handling failed and it
	// will be delivered again). A claim that is no longer the holder's is
	// left alone; absent is not an error.
	ReleaseUpdate(ctx context.Context, id int64, token string) error
	// SeenUpdate reports whether update id was marked handled.
	SeenUpdate(ctx context.Context, id int64) (bool, error)
	// MarkUpdate records update id as handled until the given time (at
	// least 24 h ahead: Telegram keeps pending updates that long),
	// replacing any claim.
	MarkUpdate(ctx context.Context, id int64, until time.Time) error

	// SaveState writes what handling an update changed, and marks it
	// handled, in one round trip (one transaction): the profile and the
	// session when set, then the mark when UpdateID is not 0. A session
	// whose version is not the stored one is not written and SaveState
	// returns ErrConflict; the profile and the mark are written all the
	// same. It returns the session's new version (0 without a session).
	SaveState(ctx context.Context, w StateWrite) (int64, error)

	// Profiles calls fn for every stored profile, in no given order, outside
	// any transaction (fn may write to the store), until fn returns an
	// error, which Profiles returns. Profiles whose data key is gone are
	// skipped. For sweeps (storage limitation) and migrations.
	Profiles(ctx context.Context, fn func(Profile) error) error

	// Forget deletes everything stored about the resident: profile, every
	// session of that user, documents and their reminder entries, and, in
	// a store that also keeps hand-off cases, the resident's cases. It
	// destroys the resident's data key first, so that whatever it
	// sealed is unreadable from then on, even where a copy of it survives
	// (freed pages, append-only files, backups). Absent is not an error.
	Forget(ctx context.Context, userID int64) error

	Close() error
}

// ClaimStatus is the outcome of ClaimUpdate.
type ClaimStatus int

// The outcomes of a claim.
const (
	ClaimGranted ClaimStatus = iota + 1 // the caller holds the update
	ClaimHandled                        // already handled: a duplicate
	ClaimBusy                           // another handler holds it
)

// UpdateClaim is a claim on an update id.
type UpdateClaim struct {
	Status ClaimStatus
	Token  string // with ClaimGranted: what ReleaseUpdate needs
}

// StateWrite is what SaveState writes.
type StateWrite struct {
	Profile *Profile // nil: unchanged
	Session *Session // nil: unchanged
	// UpdateID, when not 0, is marked handled until Handled.
	UpdateID int64
	Handled  time.Time
}

// StateLoader is an optional extension of Store for backends with a cost
// per call (a network round trip on Redis, a transaction on bbolt): it
// claims the update and reads what the core needs before handling it in
// one round trip or one read-only transaction. The core uses it when the
// Store has it.
type StateLoader interface {
	// LoadState claims update id as ClaimUpdate does (no claim when id is
	// 0), and returns the profile and the session as Profile and Session
	// would (absent ones leave HasProfile or HasSession false). Errors are
	// transport errors.
	LoadState(ctx context.Context, updateID int64, lease time.Duration, userID int64, k SessionKey) (LoadedState, error)
}

// Lister is an optional extension of Store, DocumentStore included, that
// lists what it keeps: `passerelle migrate` copies and compares stores
// with it, and the operator's /notice finds the residents who asked for
// service news. Both stores implement it (storetest checks).
type Lister interface {
	// EachProfile calls fn for every stored profile, in no set order. An
	// error from fn stops the walk and is returned. fn may call the store.
	EachProfile(ctx context.Context, fn func(Profile) error) error
	// EachDocument calls fn for every tracked document, like EachProfile.
	EachDocument(ctx context.Context, fn func(Document) error) error
}

// LoadedState is what StateLoader reads.
type LoadedState struct {
	Claim      UpdateClaim
	Profile    Profile
	HasProfile bool
	Session    Session
	HasSession bool
}

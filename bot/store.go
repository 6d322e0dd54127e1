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

	// SeenUpdate reports whether update id was marked handled.
	SeenUpdate(ctx context.Context, id int64) (bool, error)
	// MarkUpdate records update id as handled until the given time (at
	// least 24 h ahead: Telegram keeps pending updates that long).
	MarkUpdate(ctx context.Context, id int64, until time.Time) error

	// Forget deletes everything stored about the resident: profile and
	// every session of that user. Absent is not an error.
	Forget(ctx context.Context, userID int64) error

	Close() error
}

// StateLoader is an optional extension of Store for backends with a
// network round trip per call: it reads in one round trip what the core
// needs before handling an update. The core uses it when the Store has it.
type StateLoader interface {
	// LoadState reports whether update id was marked handled, and returns
	// the profile and the session as Profile and Session would (absent ones
	// leave HasProfile or HasSession false). Errors are transport errors.
	LoadState(ctx context.Context, updateID, userID int64, k SessionKey) (LoadedState, error)
}

// LoadedState is what StateLoader reads.
type LoadedState struct {
	Seen       bool
	Profile    Profile
	HasProfile bool
	Session    Session
	HasSession bool
}

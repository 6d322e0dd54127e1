// Package reminder keeps each tracked document's place in the reminder
// schedule and dispatches reminders when they fall due.
package reminder

import (
	"context"
	"errors"
	"time"
)

// Errors returned by Store implementations.
var (
	// ErrLeaseLost: the claim's lease expired and the entry was claimed
	// again (or cancelled); the stale holder must not ack it.
	ErrLeaseLost = errors.New("reminder: lease lost")
)

// Entry is one tracked document's place in the schedule: one entry per
// document, scored by its next milestone, so stale milestones collapse by
// design.
type Entry struct {
	ID     string    // deterministic, e.g. "<userID>:<docID>"
	Due    time.Time // the next milestone's sending moment
	Leased bool      // claimed by a dispatcher whose lease still holds
}

// Claim is an entry handed to one dispatcher until its lease expires.
type Claim struct {
	ID       string
	Due      time.Time
	Token    string // proves the lease; needed to ack
	Attempts int    // claims of this entry since it was last acked or scheduled
}

// Store is the durable schedule. Implementations live in internal/store/*
// and pass the reminder part of internal/store/storetest. Safe for
// concurrent use by several processes sharing one backend.
type Store interface {
	// Schedule creates entry id due at due, or moves it there. Scheduling
	// the same id and time again changes nothing. Scheduling a leased entry
	// replaces its lease: the holder's ack then fails with ErrLeaseLost.
	Schedule(ctx context.Context, id string, due time.Time) error
	// Cancel removes id, leased or not. Absent is not an error.
	Cancel(ctx context.Context, id string) error
	// Claim leases up to limit entries due at or before now, earliest
	// first, and entries whose lease expired. now decides what is due (the
	// caller's clock); lease expiry is judged by the store's own clock
	// (Redis TIME inside the scripts, the process clock for bolt), so that
	// several dispatchers agree.
	Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Claim, error)
	// Ack ends a claim: with a non-zero next the entry is re-scored to
	// next, otherwise removed. Only the current holder's token succeeds;
	// otherwise ErrLeaseLost.
	Ack(ctx context.Context, id, token string, next time.Time) error
	// Renew extends the leases of held claims to lease from now (by the
	// store's clock, as Claim), keeping their tokens, due times and
	// attempts, so that a dispatcher still sending a batch keeps it while
	// a short lease lets the claims of a dispatcher that died come back
	// soon. It returns the ids whose token is no longer current (claimed
	// again, rescheduled, cancelled or acked): their holder has lost them
	// and should not send them. A lease that expired but was not claimed
	// again can still be renewed, as it can be acked.
	Renew(ctx context.Context, held []Claim, lease time.Duration) (lost []string, err error)
	// Get returns entry id, or ok false when absent.
	Get(ctx context.Context, id string) (e Entry, ok bool, err error)
}

// Lister is an optional extension of Store, for `passerelle migrate` and
// the operator's metrics. Both stores implement it (storetest checks).
type Lister interface {
	// Entries calls fn for every entry, leased or not, in no set order.
	// An error from fn stops the walk and is returned.
	Entries(ctx context.Context, fn func(Entry) error) error
	// Backlog counts the entries due at or before now that no dispatcher
	// holds, and returns the earliest due time among them (zero when
	// there is none).
	Backlog(ctx context.Context, now time.Time) (due int, oldest time.Time, err error)
}

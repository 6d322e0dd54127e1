package bot

import "time"

// Observer is told what the core does, for the operator's metrics. Its
// methods must be fast and safe for concurrent use; they receive no ids
// and no text.
type Observer interface {
	// UpdateReceived: an update of this kind entered Handle.
	UpdateReceived(kind Kind)
	// UpdateHandled: it left Handle with this outcome after d. Outcomes:
	// OutcomeOK, OutcomeDuplicate, OutcomeFlooded, OutcomeIgnored,
	// OutcomeError, OutcomePanic, OutcomeRetry; OutcomeShed for an update
	// the Dispatcher dropped without handling it (never in Handle).
	UpdateHandled(kind Kind, outcome string, d time.Duration)
}

// Outcomes of an update, as told to the Observer.
const (
	OutcomeOK        = "ok"
	OutcomeDuplicate = "duplicate" // already handled (same update id)
	OutcomeFlooded   = "flooded"   // dropped: the user sends too fast
	OutcomeIgnored   = "ignored"   // nothing to do (an edit, a chat the bot does not serve)
	OutcomeError     = "error"     // a flow failed; the resident got an apology
	OutcomePanic     = "panic"     // a flow panicked; the resident got an apology
	OutcomeRetry     = "retry"     // not handled (the store was unreachable): to deliver again
	OutcomeShed      = "shed"      // dropped unread: its chat's queue was full; the sender was asked to send again
)

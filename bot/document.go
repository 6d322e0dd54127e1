package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/passerelle-bot/passerelle/internal/permit"
)

// Holder says whose document a tracked document is. The values are stored.
type Holder string

// The holders a resident can choose.
const (
	HolderMe     Holder = "me"
	HolderChild  Holder = "child"
	HolderHelped Holder = "other" // a person the resident helps
)

// Document is a document a resident asked Passerelle to follow: only what
// the legal calendar needs (DESIGN.md, Privacy). JSON keys are short because
// Redis keeps one record per tracked document.
type Document struct {
	Schema  int            `json:"v"`
	UserID  int64          `json:"u"`
	ChatID  int64          `json:"c"`
	ID      string         `json:"id"` // short, unique for the resident
	Kind    permit.Kind    `json:"k"`
	Mention permit.Mention `json:"m,omitempty"`
	Holder  Holder         `json:"h"`
	// Label names the holder when it is not the resident ("my son"); at
	// most MaxLabel characters, never an identity-document number.
	Label          string       `json:"l,omitempty"`
	Expiry         permit.Date  `json:"e"`
	Filed          *permit.Date `json:"f,omitempty"`
	APIExpiry      *permit.Date `json:"a,omitempty"`
	Arrival        *permit.Date `json:"ar,omitempty"`
	FirstMultiYear bool         `json:"x,omitempty"`
	// Since is the day the schedule was last rebuilt (registration, an
	// edit, "I have filed"): milestones before it were already told.
	Since permit.Date `json:"s"`
	// Stopped: the resident asked for no more reminders about it.
	Stopped bool      `json:"st,omitempty"`
	Created time.Time `json:"t"`
}

// MaxDocuments bounds the documents one resident can track.
const MaxDocuments = 10

// MaxLabel bounds a holder label, in characters.
const MaxLabel = 30

// Permit returns what the legal calendar needs of d.
func (d Document) Permit() permit.Document {
	return permit.Document{
		Kind: d.Kind, Mention: d.Mention, Expiry: d.Expiry, Filed: d.Filed,
		APIExpiry: d.APIExpiry, Arrival: d.Arrival, FirstMultiYear: d.FirstMultiYear,
	}
}

// DocumentStore keeps the documents residents track. The Store's Forget
// deletes them too, with their reminder entries ([ReminderID]).
// Implementations live in internal/store/* and pass storetest.
type DocumentStore interface {
	// Documents returns the resident's documents ordered by ID.
	Documents(ctx context.Context, userID int64) ([]Document, error)
	// Document returns one document, or ErrNotFound.
	Document(ctx context.Context, userID int64, id string) (Document, error)
	// PutDocument creates or replaces d (keyed by UserID and ID).
	PutDocument(ctx context.Context, d Document) error
	// DeleteDocument removes one document; absent is not an error.
	DeleteDocument(ctx context.Context, userID int64, id string) error
}

// ReminderID is the reminder schedule entry of a tracked document:
// deterministic, so that scheduling is idempotent, and starting with the
// resident's id, so that Forget can find it.
func ReminderID(userID int64, docID string) string {
	return strconv.FormatInt(userID, 10) + ":" + docID
}

// ParseReminderID splits what ReminderID joined.
func ParseReminderID(id string) (userID int64, docID string, ok bool) {
	u, d, found := strings.Cut(id, ":")
	if !found || d == "" {
		return 0, "", false
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return n, d, true
}

// ValidateDocumentKey checks the key stores file a document under: a user
// id, and a non-empty id without ':' (which ReminderID reserves).
func ValidateDocumentKey(userID int64, id string) error {
	switch {
	case userID == 0:
		return errors.New("document: user id is 0")
	case id == "":
		return fmt.Errorf("document of user %d: empty id", userID)
	case strings.Contains(id, ":"):
		return fmt.Errorf("document %q of user %d: id contains ':', which ReminderID reserves", id, userID)
	}
	return nil
}

// Validate checks d's key and dates before it is stored: a zero or
// impossible date would be stored as text that does not read back.
func (d Document) Validate() error {
	if err := ValidateDocumentKey(d.UserID, d.ID); err != nil {
		return err
	}
	dates := []struct {
		name string
		d    *permit.Date
	}{
		{"expiry", &d.Expiry}, {"since", &d.Since},
		{"filed", d.Filed}, {"API expiry", d.APIExpiry}, {"arrival", d.Arrival},
	}
	for _, x := range dates {
		if x.d == nil {
			continue
		}
		if _, err := permit.NewDate(x.d.Year, x.d.Month, x.d.Day); err != nil {
			return fmt.Errorf("document %q of user %d: %s: %w", d.ID, d.UserID, x.name, err)
		}
	}
	return nil
}

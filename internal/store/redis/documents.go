package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/passerelle-bot/passerelle/bot"
	goredis "github.com/redis/go-redis/v9"
)

// Tracked documents (bot.DocumentStore) are fields of the resident hash
// (redis.go), next to the profile:
//
//	P:{P:uU}:r  d:<id>  the document's record (record.go), without its label
//	            l:<id>  its holder label, verbatim; only when set
//
// so they live in the resident's slot with no key per document, in a hash
// small enough to stay one compact listpack. A document's reminder entry
// is bot.ReminderID(U, id) in the schedule shards (reminders.go), which
// live in other slots: Forget sweeps them before it deletes the hash.

var _ bot.DocumentStore = (*Store)(nil)

// Field prefixes of documents in the resident hash.
const (
	docField   = "d:"
	labelField = "l:"
)

// checkDocKey validates the key of a document.
func checkDocKey(userID int64, id string) error {
	if err := bot.ValidateDocumentKey(userID, id); err != nil {
		return fmt.Errorf("redis store: %w", err)
	}
	return nil
}

// checkDocument validates d's key and dates.
func checkDocument(d bot.Document) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("redis store: %w", err)
	}
	return nil
}

// decodeDocument reads document id from its record and label; errors
// name the document.
func decodeDocument(userID int64, id, v, label string) (bot.Document, error) {
	d, err := decodeDocumentRecord(userID, id, v, label)
	if err != nil {
		return bot.Document{}, fmt.Errorf("redis store: document %q of user %d: %w", id, userID, err)
	}
	return d, nil
}

// Documents returns the resident's documents ordered by ID (byte order).
func (s *Store) Documents(ctx context.Context, userID int64) ([]bot.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if userID == 0 {
		return nil, errors.New("redis store: documents: user id is 0")
	}
	m, err := s.c.HGetAll(ctx, s.residentKey(userID)).Result()
	if err != nil {
		return nil, wrap("documents", err)
	}
	var docs []bot.Document
	for f, v := range m {
		id, ok := strings.CutPrefix(f, docField)
		if !ok {
			continue // the profile, a label
		}
		d, err := decodeDocument(userID, id, v, m[labelField+id])
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	slices.SortFunc(docs, func(a, b bot.Document) int { return cmp.Compare(a.ID, b.ID) })
	return docs, nil
}

// Document returns one document, or bot.ErrNotFound.
func (s *Store) Document(ctx context.Context, userID int64, id string) (bot.Document, error) {
	if err := ctx.Err(); err != nil {
		return bot.Document{}, err
	}
	if err := checkDocKey(userID, id); err != nil {
		return bot.Document{}, err
	}
	vals, err := s.c.HMGet(ctx, s.residentKey(userID), docField+id, labelField+id).Result()
	if err != nil {
		return bot.Document{}, wrap("document", err)
	}
	v, ok := vals[0].(string)
	if !ok {
		return bot.Document{}, bot.ErrNotFound
	}
	label, _ := vals[1].(string)
	return decodeDocument(userID, id, v, label)
}

// PutDocument creates or replaces d (keyed by UserID and ID), as a record
// of the current format (bot.SchemaVersion; see record.go). Its dates must
// be valid: Expiry and Since always, the others when set. Created is kept
// to the second.
func (s *Store) PutDocument(ctx context.Context, d bot.Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkDocument(d); err != nil {
		return err
	}
	key := s.residentKey(d.UserID)
	// One key: one MULTI on one node.
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		if d.Label == "" {
			p.HDel(ctx, key, labelField+d.ID)
			p.HSet(ctx, key, docField+d.ID, encodeDocument(d))
		} else {
			p.HSet(ctx, key, docField+d.ID, encodeDocument(d), labelField+d.ID, d.Label)
		}
		return nil
	})
	return wrap("put document", err)
}

// DeleteDocument removes one document; absent is not an error. It leaves
// the document's reminder entry alone: cancel that first (Forget still
// finds an entry left behind).
func (s *Store) DeleteDocument(ctx context.Context, userID int64, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkDocKey(userID, id); err != nil {
		return err
	}
	return wrap("delete document", s.c.HDel(ctx, s.residentKey(userID), docField+id, labelField+id).Err())
}

// documentIDs returns the ids of the resident's stored documents.
func (s *Store) documentIDs(ctx context.Context, userID int64) ([]string, error) {
	fields, err := s.c.HKeys(ctx, s.residentKey(userID)).Result()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range fields {
		if id, ok := strings.CutPrefix(f, docField); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

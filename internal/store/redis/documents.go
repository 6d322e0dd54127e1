package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/seal"
)

// Tracked documents (bot.DocumentStore) are fields of the resident hash
// (redis.go), next to the profile:
//
//	P:{P:uU}:r  d:<id>  the document's record (binrecord.go), without its
//	                    label, sealed
//	            l:<id>  its holder label, sealed; only when set
//
// A sealed value longer than 64 bytes (a long label, mostly) continues in
// a second field, D:<id> or L:<id> (tailField), so that the hash stays a
// listpack.

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

// decodeDocument reads document id from its record and label (as stored:
// sealed, or text of an earlier release) with the resident's wrapped key;
// errors name the document. A document sealed with a destroyed key is
// bot.ErrNotFound.
func (s *Store) decodeDocument(userID int64, id, wrapped, v, label string) (bot.Document, error) {
	d, err := s.openDocument(userID, id, wrapped, v, label)
	if errors.Is(err, errShredded) {
		return bot.Document{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.Document{}, fmt.Errorf("redis store: document %q of user %d: %w", id, userID, err)
	}
	return d, nil
}

func (s *Store) openDocument(userID int64, id, wrapped, v, label string) (bot.Document, error) {
	if label != "" {
		plain, err := s.openWith(userID, labelField+id, wrapped, label)
		if err != nil {
			return bot.Document{}, err
		}
		label = string(plain)
	}
	if !seal.IsSealedString(v) { // an earlier release's text record
		return decodeDocumentText(userID, id, v, label)
	}
	plain, err := s.openWith(userID, docField+id, wrapped, v)
	if err != nil {
		return bot.Document{}, err
	}
	return decodeDocumentBin(userID, id, plain, label)
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
			continue // the profile, a label, the key
		}
		d, err := s.decodeDocument(userID, id, m[keyField], v+m[tailField(f)], m[labelField+id]+m[tailField(labelField+id)])
		if errors.Is(err, bot.ErrNotFound) {
			continue
		}
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
	vals, err := s.c.HMGet(ctx, s.residentKey(userID), keyField, docField+id, tailField(docField+id), labelField+id, tailField(labelField+id)).Result()
	if err != nil {
		return bot.Document{}, wrap("document", err)
	}
	wrapped, _ := vals[0].(string)
	v, ok := vals[1].(string)
	if !ok {
		return bot.Document{}, bot.ErrNotFound
	}
	vtail, _ := vals[2].(string)
	label, _ := vals[3].(string)
	ltail, _ := vals[4].(string)
	return s.decodeDocument(userID, id, wrapped, v+vtail, label+ltail)
}

// PutDocument creates or replaces d (keyed by UserID and ID), sealed, as a
// record of the current format (bot.SchemaVersion; see binrecord.go). Its
// dates must be valid: Expiry and Since always, the others when set.
// Created is kept to the second.
func (s *Store) PutDocument(ctx context.Context, d bot.Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkDocument(d); err != nil {
		return err
	}
	w := residentWrite{set: func(dk *seal.DataKey) ([]sealedField, error) {
		set := []sealedField{{docField + d.ID, dk.Seal(nil, encodeDocumentBin(d), ad(docField+d.ID))}}
		if d.Label != "" {
			set = append(set, sealedField{labelField + d.ID, dk.Seal(nil, []byte(d.Label), ad(labelField+d.ID))})
		}
		return set, nil
	}}
	if d.Label == "" {
		w.del = []string{labelField + d.ID, tailField(labelField + d.ID)}
	}
	_, err := s.writeResident(ctx, d.UserID, w, nil)
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
	return wrap("delete document", s.c.HDel(ctx, s.residentKey(userID),
		docField+id, tailField(docField+id), labelField+id, tailField(labelField+id)).Err())
}

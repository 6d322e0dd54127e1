package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/passerelle-bot/passerelle/bot"
	bbolt "go.etcd.io/bbolt"
)

// Tracked documents (bot.DocumentStore) live in one bucket:
//
//	documents: <userID>/<docID> → bot.Document as JSON {"v":1,…}, sealed
//	           with the resident's data key, bound to "d:<docID>" (seal.go)
//
// Keyed by resident first, like sessions: a resident's documents are one
// prefix scan, in ID order (byte order of the IDs). Their reminder entries
// are in the schedule buckets under bot.ReminderID(userID, docID), which
// starts with "<userID>:", so Forget finds those with a prefix scan too.

var _ bot.DocumentStore = (*Store)(nil)

var bucketDocuments = []byte("documents")

// documentKey returns "<userID>/<docID>".
func documentKey(userID int64, id string) []byte {
	return append(userPrefix(userID), id...)
}

// reminderPrefix is "<userID>:": every reminder entry of the resident's
// documents starts with it (bot.ReminderID).
func reminderPrefix(userID int64) []byte { return append(userKey(userID), ':') }

// checkDocKey validates the key of a document.
func checkDocKey(userID int64, id string) error {
	if err := bot.ValidateDocumentKey(userID, id); err != nil {
		return fmt.Errorf("bolt store: %w", err)
	}
	return nil
}

// checkDocument validates d's key and dates.
func checkDocument(d bot.Document) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("bolt store: %w", err)
	}
	return nil
}

func documentAD(id string) string { return "d:" + id }

// decodeDocument reads the document at key k of userID; errShredded when
// the resident's data key is gone.
func (s *Store) decodeDocument(tx *bbolt.Tx, userID int64, k, v []byte) (bot.Document, error) {
	id := string(k[len(userPrefix(userID)):])
	plain, err := s.openFor(tx, userID, documentAD(id), v)
	if err != nil {
		return bot.Document{}, err
	}
	var d bot.Document
	if err := json.Unmarshal(plain, &d); err != nil {
		return bot.Document{}, fmt.Errorf("bolt store: document %q: %w", k, err)
	}
	return d, nil
}

// Documents returns the resident's documents ordered by ID.
func (s *Store) Documents(ctx context.Context, userID int64) ([]bot.Document, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if userID == 0 {
		return nil, errors.New("bolt store: documents: user id is 0")
	}
	prefix := userPrefix(userID)
	var docs []bot.Document
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDocuments).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			d, err := s.decodeDocument(tx, userID, k, v)
			if errors.Is(err, errShredded) {
				return nil // the resident's data key is gone: so are the documents
			}
			if err != nil {
				return err
			}
			docs = append(docs, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return docs, nil
}

// Document returns one document, or bot.ErrNotFound.
func (s *Store) Document(ctx context.Context, userID int64, id string) (bot.Document, error) {
	if err := checkCtx(ctx); err != nil {
		return bot.Document{}, err
	}
	if err := checkDocKey(userID, id); err != nil {
		return bot.Document{}, err
	}
	key := documentKey(userID, id)
	var d bot.Document
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketDocuments).Get(key)
		if v == nil {
			return bot.ErrNotFound
		}
		var err error
		d, err = s.decodeDocument(tx, userID, key, v)
		if errors.Is(err, errShredded) {
			return bot.ErrNotFound
		}
		return err
	})
	if err != nil {
		return bot.Document{}, err
	}
	return d, nil
}

// PutDocument creates or replaces d (keyed by UserID and ID), stamped with
// bot.SchemaVersion. Its dates must be valid: Expiry and Since always,
// the others when set.
func (s *Store) PutDocument(ctx context.Context, d bot.Document) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := checkDocument(d); err != nil {
		return err
	}
	d.Schema = bot.SchemaVersion
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("bolt store: encode document: %w", err)
	}
	key := documentKey(d.UserID, d.ID)
	return s.update(ctx, func(tx *bbolt.Tx) error {
		sealed, err := s.sealFor(tx, d.UserID, documentAD(d.ID), v)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketDocuments).Put(key, sealed); err != nil {
			return fmt.Errorf("bolt store: put document %q: %w", key, err)
		}
		return nil
	})
}

// DeleteDocument removes one document; absent is not an error. It leaves
// the document's reminder entry alone: cancel that first (then a crash in
// between leaves the document, which Forget still finds).
func (s *Store) DeleteDocument(ctx context.Context, userID int64, id string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := checkDocKey(userID, id); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDocuments).Delete(documentKey(userID, id))
	})
}

// forgetDocuments deletes the resident's documents and every reminder
// entry whose id starts with "<userID>:", which covers the entries of
// those documents (bot.ReminderID) and any left by a document deleted
// before its entry was cancelled.
func forgetDocuments(tx *bbolt.Tx, userID int64) error {
	for _, k := range keysWithPrefix(tx.Bucket(bucketRemEntries), reminderPrefix(userID)) {
		if err := dropRem(tx, k); err != nil {
			return err
		}
	}
	b := tx.Bucket(bucketDocuments)
	for _, k := range keysWithPrefix(b, userPrefix(userID)) {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// keysWithPrefix returns copies of b's keys that start with prefix.
func keysWithPrefix(b *bbolt.Bucket, prefix []byte) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}

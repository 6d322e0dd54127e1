package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/permit"
	goredis "github.com/redis/go-redis/v9"
)

// Tracked documents (bot.DocumentStore): one hash per resident,
//
//	P:{P:uU}:docs  hash  doc id → bot.Document as JSON {"v":1,…}
//
// in the resident's slot, and no key per document (a hash this small is
// one compact listpack). A document's reminder entry is
// bot.ReminderID(U, id) in the schedule shards (reminders.go), which live
// in other slots: Forget cancels them one by one before it deletes the
// hash.

var _ bot.DocumentStore = (*Store)(nil)

func (s *Store) docsKey(userID int64) string { return s.userTag(userID) + ":docs" }

// checkDocKey validates the key of a document.
func checkDocKey(userID int64, id string) error {
	switch {
	case userID == 0:
		return errors.New("redis store: document: user id is 0")
	case id == "":
		return fmt.Errorf("redis store: document of user %d: empty id", userID)
	case strings.Contains(id, ":"):
		return fmt.Errorf("redis store: document %q of user %d: id contains ':', which bot.ReminderID reserves", id, userID)
	}
	return nil
}

// checkDocument validates d's key and dates: a zero date would be stored
// as text that does not read back.
func checkDocument(d bot.Document) error {
	if err := checkDocKey(d.UserID, d.ID); err != nil {
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
			return fmt.Errorf("redis store: document %q of user %d: %s: %w", d.ID, d.UserID, x.name, err)
		}
	}
	return nil
}

func decodeDocument(userID int64, id, v string) (bot.Document, error) {
	var d bot.Document
	if err := json.Unmarshal([]byte(v), &d); err != nil {
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
	m, err := s.c.HGetAll(ctx, s.docsKey(userID)).Result()
	if err != nil {
		return nil, wrap("documents", err)
	}
	var docs []bot.Document
	for id, v := range m {
		d, err := decodeDocument(userID, id, v)
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
	v, err := s.c.HGet(ctx, s.docsKey(userID), id).Result()
	if errors.Is(err, goredis.Nil) {
		return bot.Document{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.Document{}, wrap("document", err)
	}
	return decodeDocument(userID, id, v)
}

// PutDocument creates or replaces d (keyed by UserID and ID), stamped with
// bot.SchemaVersion. Its dates must be valid: Expiry and Since always,
// the others when set.
func (s *Store) PutDocument(ctx context.Context, d bot.Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkDocument(d); err != nil {
		return err
	}
	d.Schema = bot.SchemaVersion
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("redis store: encode document: %w", err)
	}
	return wrap("put document", s.c.HSet(ctx, s.docsKey(d.UserID), d.ID, v).Err())
}

// DeleteDocument removes one document; absent is not an error. It leaves
// the document's reminder entry alone: cancel that first (then a crash in
// between leaves the document, which Forget still finds).
func (s *Store) DeleteDocument(ctx context.Context, userID int64, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkDocKey(userID, id); err != nil {
		return err
	}
	return wrap("delete document", s.c.HDel(ctx, s.docsKey(userID), id).Err())
}

// cancelReminders cancels the reminder entry of each of the resident's
// stored documents.
func (s *Store) cancelReminders(ctx context.Context, userID int64) error {
	ids, err := s.c.HKeys(ctx, s.docsKey(userID)).Result()
	if err != nil {
		return wrap("forget: documents", err)
	}
	for _, id := range ids {
		if err := s.Cancel(ctx, bot.ReminderID(userID, id)); err != nil {
			return err
		}
	}
	return nil
}

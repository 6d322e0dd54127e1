package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/reminder"
	bbolt "go.etcd.io/bbolt"
)

// Listing (bot.Lister, reminder.Lister, handoff.Exporter) for migrate and
// the operator's metrics. The walks collect ids from the keys, which are
// in clear, then read each record through the ordinary methods, so they
// decode records exactly as the bot does, whatever the record encoding.
// They read pages of listPage keys per transaction, so that a walk never
// holds a transaction open while fn runs.

var (
	_ bot.Lister       = (*Store)(nil)
	_ reminder.Lister  = (*Store)(nil)
	_ handoff.Exporter = (*Store)(nil)
)

const listPage = 500

// keysAfter returns up to listPage keys of bucket after the key after
// (from the start when nil), transformed by keep (nil: skipped).
func (s *Store) keysAfter(bucket, after []byte, keep func(k []byte) []byte) (out [][]byte, last []byte, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, _ := c.First()
		if after != nil {
			k, _ = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		}
		for ; k != nil && len(out) < listPage; k, _ = c.Next() {
			last = bytes.Clone(k)
			if v := keep(k); v != nil {
				out = append(out, bytes.Clone(v))
			}
		}
		return nil
	})
	return out, last, err
}

// eachKey walks bucket page by page, calling fn with keep(key) for each
// key keep does not skip.
func (s *Store) eachKey(ctx context.Context, bucket []byte, keep func(k []byte) []byte, fn func(v []byte) error) error {
	var after []byte
	for {
		if err := checkCtx(ctx); err != nil {
			return err
		}
		page, last, err := s.keysAfter(bucket, after, keep)
		if err != nil {
			return fmt.Errorf("bolt store: list %s: %w", bucket, err)
		}
		for _, v := range page {
			if err := fn(v); err != nil {
				return err
			}
		}
		if last == nil {
			return nil
		}
		after = last
	}
}

func parseUser(k []byte) (int64, bool) {
	id, err := strconv.ParseInt(string(k), 10, 64)
	return id, err == nil
}

// EachProfile calls fn for every stored profile.
func (s *Store) EachProfile(ctx context.Context, fn func(bot.Profile) error) error {
	return s.eachKey(ctx, bucketProfiles, func(k []byte) []byte { return k }, func(k []byte) error {
		id, ok := parseUser(k)
		if !ok {
			return fmt.Errorf("bolt store: malformed profile key %q", k)
		}
		p, err := s.Profile(ctx, id)
		if errors.Is(err, bot.ErrNotFound) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		return fn(p)
	})
}

// EachDocument calls fn for every tracked document.
func (s *Store) EachDocument(ctx context.Context, fn func(bot.Document) error) error {
	var prev []byte
	return s.eachKey(ctx, bucketDocuments, func(k []byte) []byte {
		user, _, ok := bytes.Cut(k, []byte("/"))
		if !ok || bytes.Equal(user, prev) {
			return nil // one read per resident
		}
		prev = bytes.Clone(user)
		return user
	}, func(k []byte) error {
		id, ok := parseUser(k)
		if !ok {
			return fmt.Errorf("bolt store: malformed document key %q", k)
		}
		docs, err := s.Documents(ctx, id)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := fn(d); err != nil {
				return err
			}
		}
		return nil
	})
}

// Entries calls fn for every schedule entry.
func (s *Store) Entries(ctx context.Context, fn func(reminder.Entry) error) error {
	return s.eachKey(ctx, bucketRemEntries, func(k []byte) []byte { return k }, func(k []byte) error {
		e, ok, err := s.Get(ctx, string(k))
		if err != nil || !ok {
			return err
		}
		return fn(e)
	})
}

// Backlog counts the entries due at or before now and not leased.
func (s *Store) Backlog(ctx context.Context, now time.Time) (int, time.Time, error) {
	if err := checkCtx(ctx); err != nil {
		return 0, time.Time{}, err
	}
	var n int
	var oldest time.Time
	end := timeKey(now.UnixMilli()+1, nil)
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRemDue).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			if n == 0 {
				oldest = time.UnixMilli(timeOfKey(k)).UTC()
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("bolt store: backlog: %w", err)
	}
	return n, oldest, nil
}

// Links returns the topics and relayed copies mapped to a case.
func (s *Store) Links(ctx context.Context, caseID int64) ([]handoff.Link, error) {
	type raw struct {
		kind     byte
		chat, id int64
	}
	var links []raw
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCaseLinks)
		if b == nil {
			return nil
		}
		prefix := append(caseKey(caseID), '/')
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			// <caseKey>/t|r/<chat>/<id>
			parts := bytes.Split(k[len(prefix):], []byte("/"))
			if len(parts) != 3 || len(parts[0]) != 1 {
				return fmt.Errorf("bolt store: malformed link %q", k)
			}
			chat, err1 := strconv.ParseInt(string(parts[1]), 10, 64)
			id, err2 := strconv.ParseInt(string(parts[2]), 10, 64)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("bolt store: malformed link %q", k)
			}
			links = append(links, raw{parts[0][0], chat, id})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []handoff.Link
	for _, l := range links {
		switch l.kind {
		case 't':
			got, err := s.CaseByTopic(ctx, l.chat, int(l.id))
			if errors.Is(err, handoff.ErrNotFound) || err == nil && got != caseID {
				continue // the topic went to another case since
			}
			if err != nil {
				return nil, err
			}
			out = append(out, handoff.Link{ChatID: l.chat, Topic: int(l.id)})
		case 'r':
			r, err := s.Relay(ctx, l.chat, int(l.id))
			if errors.Is(err, handoff.ErrNotFound) || err == nil && r.CaseID != caseID {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, handoff.Link{ChatID: l.chat, Message: int(l.id), Relay: r})
		}
	}
	return out, nil
}

// PausedPartners returns the partners that paused intake.
func (s *Store) PausedPartners(ctx context.Context) ([]string, error) {
	var out []string
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPaused)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out, err
}

// AddCount adds c.N to one anonymous count.
func (s *Store) AddCount(ctx context.Context, c handoff.Count) error {
	return s.caseTx(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCaseCounts)
		k := countKey(c)
		n := 0
		if v := b.Get(k); v != nil {
			var err error
			if n, err = strconv.Atoi(string(v)); err != nil {
				return fmt.Errorf("bolt store: malformed count %q", k)
			}
		}
		return b.Put(k, strconv.AppendInt(nil, int64(n+c.N), 10))
	})
}

// EnsureCaseID makes NextCaseID return only ids above id.
func (s *Store) EnsureCaseID(ctx context.Context, id int64) error {
	return s.caseTx(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCases)
		if id > 0 && b.Sequence() < uint64(id) {
			return b.SetSequence(uint64(id))
		}
		return nil
	})
}

// Backup writes a consistent copy of the whole file to w while the store
// stays open and in use: bbolt's snapshot, one read transaction (writers
// go on meanwhile). The copy opens as a store of its own.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("bolt store: backup: %w", err)
	}
	return n, nil
}

// BackupKeys writes a consistent copy of the data-key file (<path>.keys)
// to w, under the file's lock so that no slot is half written. A backup
// of the store is the pair Backup and BackupKeys, taken one after the
// other: a resident created in between has a key but no data in the copy,
// which is harmless; a resident forgotten in between has data but no key,
// which is unreadable, as /forget intends.
func (s *Store) BackupKeys(w io.Writer) (int64, error) {
	s.kf.mu.Lock()
	defer s.kf.mu.Unlock()
	n, err := io.Copy(w, io.NewSectionReader(s.kf.f, 0, 1<<62))
	if err != nil {
		return n, fmt.Errorf("bolt store: backup keys: %w", err)
	}
	return n, nil
}

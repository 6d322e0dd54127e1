// Package bolt is the embedded bot.Store: one bbolt file, one process.
//
// Layout (bucket: key → value; ids are decimal text so that a scan of the
// file shows whose data it holds):
//
//	profiles:    <userID>                 → bot.Profile as JSON {"v":1,…}
//	sessions:    <userID>/<chatID>        → bot.Session as JSON {"v":1,…,"version":N}
//	session_exp: be64(expiresMs)<userID>/<chatID> → empty (expiry index, for Purge)
//	updates:     <updateID>               → until, Unix milliseconds as decimal text
//	update_exp:  be64(untilMs)<updateID>  → empty (expiry index, for Purge)
//	documents:   <userID>/<docID>         → bot.Document as JSON {"v":1,…}; see documents.go
//	rem_entries, rem_due, rem_lease: the reminder schedule (reminder.Store),
//	             keyed by the entry id as text; see reminders.go
//
// Sessions and documents are keyed by user first, so Forget finds every
// session and document of a resident with one prefix scan and needs no
// separate index. be64 is the
// big-endian encoding of the milliseconds with the sign bit flipped, so keys
// sort by time. Expired sessions and update marks are invisible at once and
// physically removed by Purge, which Open runs and MarkUpdate runs every
// purgeEvery calls.
//
// Times are compared at millisecond resolution, like the Redis backend: a
// session is expired when Expires (truncated to the millisecond) is not
// after now (truncated likewise).
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// LockTimeout is how long Open waits for the file lock held by another
// process (or another Store in this process) before giving up.
const LockTimeout = time.Second

// purgeEvery is how many MarkUpdate calls run between opportunistic purges.
const purgeEvery = 256

// purgeBatch bounds the expired entries one purge transaction removes, so
// that a purge never holds the write lock for long.
const purgeBatch = 1000

var (
	bucketProfiles   = []byte("profiles")
	bucketSessions   = []byte("sessions")
	bucketSessionExp = []byte("session_exp")
	bucketUpdates    = []byte("updates")
	bucketUpdateExp  = []byte("update_exp")

	// The documents and reminder buckets (bucketDocuments, bucketRem*) are
	// described in documents.go and reminders.go.
	allBuckets = [][]byte{bucketProfiles, bucketSessions, bucketSessionExp, bucketUpdates, bucketUpdateExp,
		bucketDocuments, bucketRemEntries, bucketRemDue, bucketRemLease}
)

// ErrLocked is returned (wrapped) by Open when another process or Store
// holds the file.
var ErrLocked = errors.New("database file is locked by another process or Store (is another passerelle running?)")

// Store is a bot.Store in one bbolt file. It is safe for concurrent use.
type Store struct {
	db    *bbolt.DB
	now   func() time.Time
	marks atomic.Uint64
}

var _ bot.Store = (*Store)(nil)

// Option configures Open.
type Option func(*config)

type config struct {
	now func() time.Time
}

// WithClock sets the time source used to judge session and update-mark
// expiry (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// Open opens (creating if needed, mode 0600) the bbolt file at path. If the
// file is locked, it fails after LockTimeout with an error wrapping
// ErrLocked. It purges expired data before returning.
func Open(path string, opts ...Option) (*Store, error) {
	cfg := config{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: LockTimeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("bolt store: open %s: %w; gave up after %s", path, ErrLocked, LockTimeout)
		}
		return nil, fmt.Errorf("bolt store: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt store: init %s: %w", path, err)
	}
	s := &Store{db: db, now: cfg.now}
	if _, err := s.Purge(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the file. Closing twice is harmless.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the file's path.
func (s *Store) Path() string { return s.db.Path() }

// ---- keys and encodings ----

func userKey(userID int64) []byte { return strconv.AppendInt(nil, userID, 10) }

// userPrefix is "<userID>/": every session key of that user starts with it.
func userPrefix(userID int64) []byte { return append(userKey(userID), '/') }

func sessionKey(k bot.SessionKey) []byte {
	return strconv.AppendInt(userPrefix(k.UserID), k.ChatID, 10)
}

func updateKey(id int64) []byte { return strconv.AppendInt(nil, id, 10) }

// timeKey returns be64(ms) followed by rest: sorted by time, negative
// times included.
func timeKey(ms int64, rest []byte) []byte {
	k := make([]byte, 8, 8+len(rest))
	binary.BigEndian.PutUint64(k, uint64(ms)^(1<<63))
	return append(k, rest...)
}

func timeOfKey(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[:8]) ^ (1 << 63)) }

// expired reports whether a deadline has passed, at millisecond resolution.
func expired(deadline, now time.Time) bool { return deadline.UnixMilli() <= now.UnixMilli() }

func checkCtx(ctx context.Context) error { return ctx.Err() }

// ---- profiles ----

// Profile returns the resident's profile, or bot.ErrNotFound.
func (s *Store) Profile(ctx context.Context, userID int64) (bot.Profile, error) {
	var p bot.Profile
	if err := checkCtx(ctx); err != nil {
		return p, err
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketProfiles).Get(userKey(userID))
		if v == nil {
			return bot.ErrNotFound
		}
		// json.Unmarshal copies what it keeps out of the mmapped value.
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("bolt store: profile %d: %w", userID, err)
		}
		return nil
	})
	if err != nil {
		return bot.Profile{}, err
	}
	return p, nil
}

// PutProfile creates or replaces a profile, stamped with bot.SchemaVersion.
func (s *Store) PutProfile(ctx context.Context, p bot.Profile) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	p.Schema = bot.SchemaVersion
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("bolt store: encode profile: %w", err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketProfiles).Put(userKey(p.UserID), v)
	})
}

// update runs fn in a read-write transaction, unless ctx ended while
// waiting for the write lock.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
}

// ---- sessions ----

// Session returns the session, or bot.ErrNotFound when absent or expired.
func (s *Store) Session(ctx context.Context, k bot.SessionKey) (bot.Session, error) {
	if err := checkCtx(ctx); err != nil {
		return bot.Session{}, err
	}
	var sess bot.Session
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get(sessionKey(k))
		if v == nil {
			return bot.ErrNotFound
		}
		return json.Unmarshal(v, &sess)
	})
	if err != nil {
		if errors.Is(err, bot.ErrNotFound) {
			return bot.Session{}, err
		}
		return bot.Session{}, fmt.Errorf("bolt store: session %d/%d: %w", k.UserID, k.ChatID, err)
	}
	if expired(sess.Expires, s.now()) {
		return bot.Session{}, bot.ErrNotFound
	}
	sess.Key = k
	return sess, nil
}

// SaveSession stores sess if the stored version equals sess.Version (an
// absent or expired session counts as 0) and returns the new version;
// otherwise bot.ErrConflict. Versions keep counting across expiry while
// the expired record is still stored, so a new session does not always
// start at 1.
func (s *Store) SaveSession(ctx context.Context, sess bot.Session) (int64, error) {
	if err := checkCtx(ctx); err != nil {
		return 0, err
	}
	if sess.Expires.IsZero() {
		return 0, errors.New("bolt store: SaveSession: session has no expiry")
	}
	key := sessionKey(sess.Key)
	var newVersion int64
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		exp := tx.Bucket(bucketSessionExp)
		var stored, live int64
		if v := b.Get(key); v != nil {
			var old bot.Session
			if err := json.Unmarshal(v, &old); err != nil {
				return fmt.Errorf("bolt store: session %d/%d: %w", sess.Key.UserID, sess.Key.ChatID, err)
			}
			stored = old.Version
			if !expired(old.Expires, s.now()) {
				live = stored
			}
			if err := exp.Delete(timeKey(old.Expires.UnixMilli(), key)); err != nil {
				return err
			}
		}
		if sess.Version != live {
			return bot.ErrConflict
		}
		newVersion = stored + 1
		rec := sess
		rec.Schema = bot.SchemaVersion
		rec.Version = newVersion
		v, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("bolt store: encode session: %w", err)
		}
		if err := b.Put(key, v); err != nil {
			return err
		}
		return exp.Put(timeKey(sess.Expires.UnixMilli(), key), nil)
	})
	if err != nil {
		return 0, err
	}
	return newVersion, nil
}

// DeleteSession removes a session; absent is not an error.
func (s *Store) DeleteSession(ctx context.Context, k bot.SessionKey) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	key := sessionKey(k)
	return s.update(ctx, func(tx *bbolt.Tx) error {
		return deleteSession(tx, key)
	})
}

// deleteSession removes the session at key and its expiry index entry.
func deleteSession(tx *bbolt.Tx, key []byte) error {
	b := tx.Bucket(bucketSessions)
	v := b.Get(key)
	if v == nil {
		return nil
	}
	var old struct {
		Expires time.Time `json:"expires"`
	}
	if err := json.Unmarshal(v, &old); err == nil {
		if err := tx.Bucket(bucketSessionExp).Delete(timeKey(old.Expires.UnixMilli(), key)); err != nil {
			return err
		}
	} else {
		// A corrupt record: drop every index entry pointing at it.
		if err := deleteIndexEntries(tx.Bucket(bucketSessionExp), func(rest []byte) bool { return bytes.Equal(rest, key) }); err != nil {
			return err
		}
	}
	return b.Delete(key)
}

// deleteIndexEntries removes the entries of an expiry index whose key,
// after the 8-byte time, satisfies match. It scans the whole index; it is
// only used for damaged records.
func deleteIndexEntries(b *bbolt.Bucket, match func(rest []byte) bool) error {
	var doomed [][]byte
	err := b.ForEach(func(k, _ []byte) error {
		if len(k) >= 8 && match(k[8:]) {
			doomed = append(doomed, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ---- updates ----

// SeenUpdate reports whether update id was marked handled and the mark has
// not expired.
func (s *Store) SeenUpdate(ctx context.Context, id int64) (bool, error) {
	if err := checkCtx(ctx); err != nil {
		return false, err
	}
	var until int64
	var found bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketUpdates).Get(updateKey(id))
		if v == nil {
			return nil
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return fmt.Errorf("bolt store: update %d: %w", id, err)
		}
		until, found = n, true
		return nil
	})
	if err != nil || !found {
		return false, err
	}
	return s.now().UnixMilli() < until, nil
}

// MarkUpdate records update id as handled until the given time, replacing
// an earlier mark. Every purgeEvery calls it also purges expired data in
// the same transaction.
func (s *Store) MarkUpdate(ctx context.Context, id int64, until time.Time) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	purge := s.marks.Add(1)%purgeEvery == 0
	key := updateKey(id)
	ms := until.UnixMilli()
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketUpdates)
		exp := tx.Bucket(bucketUpdateExp)
		if v := b.Get(key); v != nil {
			if old, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				if err := exp.Delete(timeKey(old, key)); err != nil {
					return err
				}
			}
		}
		if err := b.Put(key, strconv.AppendInt(nil, ms, 10)); err != nil {
			return err
		}
		if err := exp.Put(timeKey(ms, key), nil); err != nil {
			return err
		}
		if purge {
			_, _, err := s.purge(tx, s.now())
			return err
		}
		return nil
	})
}

// ---- forget ----

// Forget deletes the resident's profile, every session of that user (in
// every chat), the resident's documents and their reminder entries, in one
// transaction. Absent is not an error.
//
// bbolt reuses freed pages but does not zero them: bytes of deleted
// records may remain in the file until overwritten.
func (s *Store) Forget(ctx context.Context, userID int64) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketProfiles).Delete(userKey(userID)); err != nil {
			return err
		}
		for _, k := range keysWithPrefix(tx.Bucket(bucketSessions), userPrefix(userID)) {
			if err := deleteSession(tx, k); err != nil {
				return err
			}
		}
		return forgetDocuments(tx, userID)
	})
	if err != nil {
		return fmt.Errorf("bolt store: forget %d: %w", userID, err)
	}
	return nil
}

// ---- purge and scan ----

// Purge physically removes expired sessions and update marks (they are
// already invisible) and returns how many entries it removed. It works in
// bounded transactions, checking ctx between them.
func (s *Store) Purge(ctx context.Context) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int
		var more bool
		err := s.db.Update(func(tx *bbolt.Tx) error {
			var err error
			n, more, err = s.purge(tx, s.now())
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("bolt store: purge: %w", err)
		}
		if !more {
			return total, nil
		}
	}
}

// purge removes up to purgeBatch expired entries and reports whether more
// may remain.
func (s *Store) purge(tx *bbolt.Tx, now time.Time) (n int, more bool, err error) {
	nowMs := now.UnixMilli()
	limit := purgeBatch
	for _, p := range []struct{ index, data []byte }{
		{bucketSessionExp, bucketSessions},
		{bucketUpdateExp, bucketUpdates},
	} {
		idx, data := tx.Bucket(p.index), tx.Bucket(p.data)
		var doomed [][]byte
		c := idx.Cursor()
		for k, _ := c.First(); k != nil && len(doomed) < limit; k, _ = c.Next() {
			if len(k) < 8 || timeOfKey(k) > nowMs {
				break
			}
			doomed = append(doomed, bytes.Clone(k))
		}
		for _, k := range doomed {
			// The index entry is current only for the record it was written
			// with; every rewrite deletes the old entry first, so the record
			// under k[8:] expires at this time.
			if err := data.Delete(k[8:]); err != nil {
				return n, false, err
			}
			if err := idx.Delete(k); err != nil {
				return n, false, err
			}
			n++
		}
		limit -= len(doomed)
		if limit <= 0 {
			return n, true, nil
		}
	}
	return n, false, nil
}

// Scan calls fn for every key and value of every bucket, in one read
// transaction. The key passed to fn is "<bucket>/<key>"; key and value are
// copies, safe to keep. It is meant for tests and diagnostics (privacy
// checks), not for the hot path.
func (s *Store) Scan(fn func(key, value []byte) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			return scanBucket(name, b, fn)
		})
	})
}

func scanBucket(path []byte, b *bbolt.Bucket, fn func(key, value []byte) error) error {
	return b.ForEach(func(k, v []byte) error {
		full := append(append(bytes.Clone(path), '/'), k...)
		if v == nil { // a nested bucket
			if nb := b.Bucket(k); nb != nil {
				return scanBucket(full, nb, fn)
			}
		}
		return fn(full, bytes.Clone(v))
	})
}

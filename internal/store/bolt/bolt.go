// Package bolt is the embedded bot.Store: one bbolt file, one process.
//
// Layout (bucket: key → value; ids are decimal text so that a scan of the
// file shows whose data it holds):
//
//	profiles:    <userID>                 → bot.Profile as JSON {"v":1,…}, sealed
//	sessions:    <userID>/<chatID>        → session record (sessionRecord): version
//	                                        and expiry, then bot.Session as JSON, sealed
//	session_exp: be64(expiresMs)<userID>/<chatID> → empty (expiry index, for Purge)
//	updates:     <updateID>               → until, Unix milliseconds as decimal text
//	update_exp:  be64(untilMs)<updateID>  → empty (expiry index, for Purge)
//	documents:   <userID>/<docID>         → bot.Document as JSON {"v":1,…}, sealed; see documents.go
//	rem_entries, rem_due, rem_lease: the reminder schedule (reminder.Store),
//	             keyed by the entry id as text; see reminders.go
//
// Data keys and the master key's check are in a second file, <path>.keys
// (keyfile.go, seal.go): back up both files together.
//
// "Sealed" is seal.DataKey.Seal with the person's data key (seal.go).
//
// Update claims (ClaimUpdate) are kept in memory: bbolt's file lock lets
// one Store of one process use the file, so no other process can claim,
// and a claim must not outlive its process (a restart releases it). They
// are checked against the handled marks under one mutex, and a mark
// written in a transaction ends the claim after the commit. LoadState
// claims an update and reads its resident's profile and session in one
// read-only transaction.
//
// The hot path's writes (SaveState, MarkUpdate, PutProfile, SaveSession)
// are group-committed (group.go): concurrent updates share one
// transaction and its two fdatasyncs, and each returns only once its
// transaction is committed.
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	"github.com/passerelle-bot/passerelle/internal/seal"
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
	keys  *seal.Cache
	kf    *keyFile
	marks atomic.Uint64
	// commits counts the read-write transactions of update and group
	// (Commits).
	commits atomic.Uint64
	group   *groupWriter // group commit of the hot path's writes (group.go)

	claimMu sync.Mutex
	claims  map[int64]claim // update id → claim
}

// claim is a ClaimUpdate in memory.
type claim struct {
	token string
	until int64 // Unix ms, by the store's clock
}

var (
	_ bot.Store       = (*Store)(nil)
	_ bot.StateLoader = (*Store)(nil)
)

// Option configures Open.
type Option func(*config)

type config struct {
	now      func() time.Time
	keys     *seal.Keyring
	rotating bool // RotateKey: the key check may say a rotation runs
}

// WithKeys sets the master key that wraps every person's data key
// (required). Open refuses a file sealed with another master key.
func WithKeys(k *seal.Keyring) Option { return func(c *config) { c.keys = k } }

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
	return open(path, cfg)
}

func open(path string, cfg config) (*Store, error) {
	if cfg.keys == nil {
		return nil, errors.New("bolt store: no master key (WithKeys)")
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: LockTimeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("bolt store: open %s: %w; gave up after %s", path, ErrLocked, LockTimeout)
		}
		return nil, fmt.Errorf("bolt store: open %s: %w", path, err)
	}
	kf, err := openKeyFile(path + ".keys")
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db, now: cfg.now, keys: seal.NewCache(cfg.keys, 0), kf: kf, claims: map[int64]claim{}}
	if !cfg.rotating {
		if err := s.checkMasterKey(); err != nil {
			s.Close()
			return nil, fmt.Errorf("bolt store: %s: %w", path, err)
		}
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
		s.Close()
		return nil, fmt.Errorf("bolt store: init %s: %w", path, err)
	}
	if _, err := s.Purge(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	s.group = newGroupWriter(db, func() { s.commits.Add(1) })
	return s, nil
}

// Close closes the files. Closing twice is harmless.
func (s *Store) Close() error {
	if s.group != nil {
		s.group.close() // commits what is queued
	}
	err := s.db.Close()
	s.kf.Close()
	return err
}

// Ping reports whether the store can be read (for /readyz): it fails once
// the store is closed.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.View(func(*bbolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("bolt store: ping: %w", err)
	}
	return nil
}

// DB returns the bbolt database, for benchmarks and diagnostics: what is
// written through it bypasses sealing and the group commit.
func (s *Store) DB() *bbolt.DB { return s.db }

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

func checkCtx(ctx context.Context) error { return ctx.Err() }

// ---- profiles ----

// profileAD binds a sealed profile to what it is.
const profileAD = "p"

// Profile returns the resident's profile, or bot.ErrNotFound.
func (s *Store) Profile(ctx context.Context, userID int64) (bot.Profile, error) {
	if err := checkCtx(ctx); err != nil {
		return bot.Profile{}, err
	}
	var p bot.Profile
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		p, err = s.profileTx(tx, userID)
		return err
	})
	if err != nil {
		return bot.Profile{}, err
	}
	return p, nil
}

// profileTx reads a profile; a profile whose data key is gone is absent.
func (s *Store) profileTx(tx *bbolt.Tx, userID int64) (bot.Profile, error) {
	v := tx.Bucket(bucketProfiles).Get(userKey(userID))
	if v == nil {
		return bot.Profile{}, bot.ErrNotFound
	}
	plain, err := s.openFor(tx, userID, profileAD, v)
	if errors.Is(err, errShredded) {
		return bot.Profile{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.Profile{}, err
	}
	var p bot.Profile
	// json.Unmarshal copies what it keeps out of the mmapped value.
	if err := json.Unmarshal(plain, &p); err != nil {
		return bot.Profile{}, fmt.Errorf("bolt store: profile %d: %w", userID, err)
	}
	return p, nil
}

// profilesBatch is how many profiles one read transaction of Profiles
// reads.
const profilesBatch = 500

// Profiles calls fn for every profile, by user id in byte order, reading
// them in batches and calling fn outside any transaction.
func (s *Store) Profiles(ctx context.Context, fn func(bot.Profile) error) error {
	var after []byte
	for {
		if err := checkCtx(ctx); err != nil {
			return err
		}
		var batch []bot.Profile
		var more bool
		err := s.db.View(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketProfiles).Cursor()
			k, _ := c.First()
			if after != nil {
				if k, _ = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, _ = c.Next()
				}
			}
			for ; k != nil; k, _ = c.Next() {
				if len(batch) == profilesBatch {
					more = true
					return nil
				}
				after = append(after[:0], k...)
				id, err := strconv.ParseInt(string(k), 10, 64)
				if err != nil {
					return fmt.Errorf("bolt store: malformed profile key %q", k)
				}
				p, err := s.profileTx(tx, id)
				switch {
				case errors.Is(err, bot.ErrNotFound):
					continue // its data key is gone
				case err != nil:
					return err
				}
				batch = append(batch, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range batch {
			if err := fn(p); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// PutProfile creates or replaces a profile, stamped with bot.SchemaVersion.
func (s *Store) PutProfile(ctx context.Context, p bot.Profile) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	return s.commit(ctx, func(tx *bbolt.Tx) error { return s.putProfileTx(tx, p) })
}

func (s *Store) putProfileTx(tx *bbolt.Tx, p bot.Profile) error {
	p.Schema = bot.SchemaVersion
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("bolt store: encode profile: %w", err)
	}
	sealed, err := s.sealFor(tx, p.UserID, profileAD, v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketProfiles).Put(userKey(p.UserID), sealed)
}

// update runs fn in a read-write transaction, unless ctx ended while
// waiting for the write lock.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
	if err == nil {
		s.commits.Add(1)
	}
	return err
}

// commit runs fn in a read-write transaction that concurrent writes of
// the hot path share (group commit, group.go), and returns once it is
// committed. fn may run more than once (rolled back in between), so it
// keeps no state across runs.
func (s *Store) commit(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	return s.group.write(ctx, fn)
}

// Commits returns how many read-write transactions the store's writes
// committed since Open (each costs two fdatasyncs), for benchmarks and
// diagnostics.
func (s *Store) Commits() uint64 { return s.commits.Load() }

// ---- sessions ----

// A session record is its version and expiry in clear, for the
// compare-and-set and the expiry index, then the session sealed:
//
//	[0]     sessionFormat
//	[1:9]   version, big-endian
//	[9:17]  expiry, Unix ms, big-endian
//	[17:]   bot.Session as JSON, sealed (bound to "s:<chatID>")
//
// A record of an earlier release is the session's JSON, starting with '{'.
const (
	sessionFormat = 1
	sessionHeader = 17
)

// sessionMeta is what a session record shows in clear.
type sessionMeta struct {
	version int64
	expires int64 // Unix ms
}

func sessionAD(k bot.SessionKey) string { return "s:" + strconv.FormatInt(k.ChatID, 10) }

// readSessionMeta reads the clear part of a session record.
func readSessionMeta(v []byte) (sessionMeta, error) {
	if len(v) > 0 && v[0] == '{' { // an earlier release's JSON
		var old struct {
			Version int64     `json:"version"`
			Expires time.Time `json:"expires"`
		}
		if err := json.Unmarshal(v, &old); err != nil {
			return sessionMeta{}, err
		}
		return sessionMeta{version: old.Version, expires: old.Expires.UnixMilli()}, nil
	}
	if len(v) < sessionHeader || v[0] != sessionFormat {
		return sessionMeta{}, fmt.Errorf("bad session record (%d bytes)", len(v))
	}
	return sessionMeta{
		version: int64(binary.BigEndian.Uint64(v[1:9])),
		expires: int64(binary.BigEndian.Uint64(v[9:17])),
	}, nil
}

// Session returns the session, or bot.ErrNotFound when absent or expired.
func (s *Store) Session(ctx context.Context, k bot.SessionKey) (bot.Session, error) {
	if err := checkCtx(ctx); err != nil {
		return bot.Session{}, err
	}
	var sess bot.Session
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		sess, err = s.sessionTx(tx, k)
		return err
	})
	if err != nil {
		return bot.Session{}, err
	}
	return sess, nil
}

func (s *Store) sessionTx(tx *bbolt.Tx, k bot.SessionKey) (bot.Session, error) {
	v := tx.Bucket(bucketSessions).Get(sessionKey(k))
	if v == nil {
		return bot.Session{}, bot.ErrNotFound
	}
	meta, err := readSessionMeta(v)
	if err != nil {
		return bot.Session{}, fmt.Errorf("bolt store: session %d/%d: %w", k.UserID, k.ChatID, err)
	}
	if meta.expires <= s.now().UnixMilli() {
		return bot.Session{}, bot.ErrNotFound
	}
	body := v
	if v[0] != '{' {
		body = v[sessionHeader:]
	}
	plain, err := s.openFor(tx, k.UserID, sessionAD(k), body)
	if errors.Is(err, errShredded) {
		return bot.Session{}, bot.ErrNotFound
	}
	if err != nil {
		return bot.Session{}, err
	}
	var sess bot.Session
	if err := json.Unmarshal(plain, &sess); err != nil {
		return bot.Session{}, fmt.Errorf("bolt store: session %d/%d: %w", k.UserID, k.ChatID, err)
	}
	sess.Key = k
	sess.Version = meta.version
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
	var newVersion int64
	err := s.commit(ctx, func(tx *bbolt.Tx) error {
		var err error
		newVersion, err = s.saveSessionTx(tx, sess)
		return err
	})
	if err != nil {
		return 0, err
	}
	return newVersion, nil
}

func (s *Store) saveSessionTx(tx *bbolt.Tx, sess bot.Session) (int64, error) {
	key := sessionKey(sess.Key)
	b := tx.Bucket(bucketSessions)
	exp := tx.Bucket(bucketSessionExp)
	var stored, live int64
	var oldExp []byte
	if v := b.Get(key); v != nil {
		old, err := readSessionMeta(v)
		if err != nil {
			return 0, fmt.Errorf("bolt store: session %d/%d: %w", sess.Key.UserID, sess.Key.ChatID, err)
		}
		stored = old.version
		if old.expires > s.now().UnixMilli() {
			live = stored
		}
		oldExp = timeKey(old.expires, key)
	}
	if sess.Version != live {
		// Nothing written: SaveState commits its other writes all the same.
		return 0, bot.ErrConflict
	}
	if oldExp != nil {
		if err := exp.Delete(oldExp); err != nil {
			return 0, err
		}
	}
	newVersion := stored + 1
	rec := sess
	rec.Schema = bot.SchemaVersion
	rec.Version = newVersion
	v, err := json.Marshal(rec)
	if err != nil {
		return 0, fmt.Errorf("bolt store: encode session: %w", err)
	}
	expMs := sess.Expires.UnixMilli()
	head := make([]byte, sessionHeader, sessionHeader+len(v)+seal.Overhead)
	head[0] = sessionFormat
	binary.BigEndian.PutUint64(head[1:9], uint64(newVersion))
	binary.BigEndian.PutUint64(head[9:17], uint64(expMs))
	dk, err := s.dataKey(tx, sess.Key.UserID, true)
	if err != nil {
		return 0, err
	}
	if err := b.Put(key, dk.Seal(head, v, []byte(sessionAD(sess.Key)))); err != nil {
		return 0, err
	}
	return newVersion, exp.Put(timeKey(expMs, key), nil)
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
	if meta, err := readSessionMeta(v); err == nil {
		if err := tx.Bucket(bucketSessionExp).Delete(timeKey(meta.expires, key)); err != nil {
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
	var seen bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		seen, err = s.seenTx(tx, id)
		return err
	})
	return seen, err
}

func (s *Store) seenTx(tx *bbolt.Tx, id int64) (bool, error) {
	v := tx.Bucket(bucketUpdates).Get(updateKey(id))
	if v == nil {
		return false, nil
	}
	until, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return false, fmt.Errorf("bolt store: update %d: %w", id, err)
	}
	return s.now().UnixMilli() < until, nil
}

// ClaimUpdate claims update id (see the file comment: claims live in
// memory, checked against the marks under one mutex). Leases are judged by
// the store's clock.
func (s *Store) ClaimUpdate(ctx context.Context, id int64, lease time.Duration) (bot.UpdateClaim, error) {
	if err := checkCtx(ctx); err != nil {
		return bot.UpdateClaim{}, err
	}
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	nowMs := s.now().UnixMilli()
	if c, ok := s.claims[id]; ok && c.until > nowMs {
		return bot.UpdateClaim{Status: bot.ClaimBusy}, nil
	}
	seen, err := s.SeenUpdate(ctx, id)
	if err != nil {
		return bot.UpdateClaim{}, err
	}
	if seen {
		return bot.UpdateClaim{Status: bot.ClaimHandled}, nil
	}
	if len(s.claims) >= 1024 {
		for k, c := range s.claims {
			if c.until <= nowMs {
				delete(s.claims, k)
			}
		}
	}
	tok, err := newToken()
	if err != nil {
		return bot.UpdateClaim{}, err
	}
	s.claims[id] = claim{token: tok, until: nowMs + max(1, lease.Milliseconds())}
	return bot.UpdateClaim{Status: bot.ClaimGranted, Token: tok}, nil
}

// LoadState claims update id as ClaimUpdate does and reads the profile and
// the session, in one read-only transaction (bot.StateLoader). The claim
// is taken in memory first and given back when the transaction shows the
// update handled: a handler ends its claim only after its mark is
// committed, so a transaction begun after the claim was taken sees that
// mark.
func (s *Store) LoadState(ctx context.Context, updateID int64, lease time.Duration, userID int64, k bot.SessionKey) (bot.LoadedState, error) {
	if err := checkCtx(ctx); err != nil {
		return bot.LoadedState{}, err
	}
	var st bot.LoadedState
	var tok string
	if updateID != 0 {
		var err error
		tok, err = newToken()
		if err != nil {
			return bot.LoadedState{}, err
		}
		s.claimMu.Lock()
		nowMs := s.now().UnixMilli()
		if c, ok := s.claims[updateID]; ok && c.until > nowMs {
			s.claimMu.Unlock()
			st.Claim.Status = bot.ClaimBusy
			return st, nil
		}
		if len(s.claims) >= 1024 {
			for id, c := range s.claims {
				if c.until <= nowMs {
					delete(s.claims, id)
				}
			}
		}
		s.claims[updateID] = claim{token: tok, until: nowMs + max(1, lease.Milliseconds())}
		s.claimMu.Unlock()
		st.Claim = bot.UpdateClaim{Status: bot.ClaimGranted, Token: tok}
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		if updateID != 0 {
			seen, err := s.seenTx(tx, updateID)
			if err != nil {
				return err
			}
			if seen {
				st.Claim = bot.UpdateClaim{Status: bot.ClaimHandled}
			}
		}
		var err error
		st.Profile, err = s.profileTx(tx, userID)
		switch {
		case err == nil:
			st.HasProfile = true
		case !errors.Is(err, bot.ErrNotFound):
			return err
		}
		st.Session, err = s.sessionTx(tx, k)
		switch {
		case err == nil:
			st.HasSession = true
		case !errors.Is(err, bot.ErrNotFound):
			return err
		}
		return nil
	})
	if err != nil || st.Claim.Status == bot.ClaimHandled {
		if updateID != 0 {
			// Give the claim back: handled already, or not loaded.
			s.claimMu.Lock()
			if c, ok := s.claims[updateID]; ok && c.token == tok {
				delete(s.claims, updateID)
			}
			s.claimMu.Unlock()
		}
		if err != nil {
			return bot.LoadedState{}, err
		}
	}
	return st, nil
}

// ReleaseUpdate ends the claim whose token is given.
func (s *Store) ReleaseUpdate(ctx context.Context, id int64, token string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	if c, ok := s.claims[id]; ok && c.token == token {
		delete(s.claims, id)
	}
	return nil
}

// endClaim forgets any claim on id, once its mark is committed.
func (s *Store) endClaim(id int64) {
	s.claimMu.Lock()
	delete(s.claims, id)
	s.claimMu.Unlock()
}

// MarkUpdate records update id as handled until the given time, replacing
// an earlier mark and ending a claim. Every purgeEvery calls it also
// purges expired data in the same transaction.
func (s *Store) MarkUpdate(ctx context.Context, id int64, until time.Time) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	err := s.commit(ctx, func(tx *bbolt.Tx) error { return s.markTx(tx, id, until) })
	if err == nil {
		s.endClaim(id)
	}
	return err
}

func (s *Store) markTx(tx *bbolt.Tx, id int64, until time.Time) error {
	purge := s.marks.Add(1)%purgeEvery == 0
	key := updateKey(id)
	ms := until.UnixMilli()
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
}

// SaveState writes the profile, the session and the update's mark in one
// transaction (bot.Store).
func (s *Store) SaveState(ctx context.Context, w bot.StateWrite) (int64, error) {
	if err := checkCtx(ctx); err != nil {
		return 0, err
	}
	if w.Session != nil && w.Session.Expires.IsZero() {
		return 0, errors.New("bolt store: SaveState: session has no expiry")
	}
	var version int64
	var conflict error
	err := s.commit(ctx, func(tx *bbolt.Tx) error {
		conflict, version = nil, 0
		if w.Profile != nil {
			if err := s.putProfileTx(tx, *w.Profile); err != nil {
				return err
			}
		}
		if w.Session != nil {
			v, err := s.saveSessionTx(tx, *w.Session)
			switch {
			case errors.Is(err, bot.ErrConflict):
				conflict = err
			case err != nil:
				return err
			}
			version = v
		}
		if w.UpdateID != 0 {
			return s.markTx(tx, w.UpdateID, w.Handled)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if w.UpdateID != 0 {
		s.endClaim(w.UpdateID)
	}
	return version, conflict
}

// ---- forget ----

// Forget overwrites the resident's data key in the key file, then deletes,
// in one transaction, their profile, every session of that user (in every chat), their
// documents and reminder entries, and their cases with the cases'
// mappings and audit logs (counts stay). Absent is not an error.
//
// bbolt reuses freed pages but does not zero them: the sealed bytes of
// deleted records may remain in the file until overwritten, unreadable
// without the data key deleted with them.
func (s *Store) Forget(ctx context.Context, userID int64) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	// The key first: if what follows fails, nothing left can be opened.
	if err := s.shred(userID); err != nil {
		return fmt.Errorf("bolt store: forget %d: %w", userID, err)
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
		if err := forgetCases(tx, userID); err != nil {
			return err
		}
		return forgetDocuments(tx, userID)
	})
	if err != nil {
		return fmt.Errorf("bolt store: forget %d: %w", userID, err)
	}
	// A write that raced with Forget may have made a new key.
	if err := s.shred(userID); err != nil {
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
// transaction, then for every data key of the key file as "keys/<owner>".
// The key passed to fn is "<bucket>/<key>"; key and value are copies, safe
// to keep. It is meant for tests and diagnostics (privacy checks), not for
// the hot path.
func (s *Store) Scan(fn func(key, value []byte) error) error {
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			return scanBucket(name, b, fn)
		})
	})
	if err != nil {
		return err
	}
	for _, owner := range s.kf.Owners() {
		if w := s.kf.Get(owner); w != nil {
			if err := fn(strconv.AppendInt([]byte("keys/"), owner, 10), w); err != nil {
				return err
			}
		}
	}
	return nil
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

package bolt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/passerelle-bot/passerelle/internal/reminder"
	bbolt "go.etcd.io/bbolt"
)

// The reminder schedule (reminder.Store) lives in three buckets:
//
//	rem_entries: <id>                   → record (binary, see remRecord)
//	rem_due:     be64(dueMs)<id>        → empty; entries not leased, by due time
//	rem_lease:   be64(leaseUntilMs)<id> → empty; leased entries, by lease expiry
//
// An entry is in exactly one of rem_due and rem_lease: Claim moves it from
// rem_due to rem_lease, Ack (with a next time) and Schedule move it back,
// Ack without a next time and Cancel remove it. So Claim walks rem_lease
// from the start for expired leases (judged by the store's clock,
// WithClock) and then rem_due from the start up to the caller's now, and
// never skips leased entries.

var _ reminder.Store = (*Store)(nil)

var (
	bucketRemEntries = []byte("rem_entries")
	bucketRemDue     = []byte("rem_due")
	bucketRemLease   = []byte("rem_lease")
)

// remVersion is the first byte of every rem_entries record.
const remVersion = 1

// remRecord is one entry. Encoded as
//
//	[0]     version (remVersion)
//	[1:9]   due, Unix ms, big-endian
//	[9:17]  lease until, Unix ms, big-endian; 0 when not leased
//	[17:21] attempts, big-endian
//	[21:]   token (hex text; empty when not leased)
type remRecord struct {
	dueMs      int64
	leaseUntil int64 // 0: not leased
	attempts   uint32
	token      string
}

const remHeader = 21

func (r remRecord) encode() []byte {
	b := make([]byte, remHeader, remHeader+len(r.token))
	b[0] = remVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(r.dueMs))
	binary.BigEndian.PutUint64(b[9:17], uint64(r.leaseUntil))
	binary.BigEndian.PutUint32(b[17:21], r.attempts)
	return append(b, r.token...)
}

func decodeRem(id []byte, v []byte) (remRecord, error) {
	if len(v) < remHeader || v[0] != remVersion {
		return remRecord{}, fmt.Errorf("bolt store: reminder %q: bad record (%d bytes)", id, len(v))
	}
	return remRecord{
		dueMs:      int64(binary.BigEndian.Uint64(v[1:9])),
		leaseUntil: int64(binary.BigEndian.Uint64(v[9:17])),
		attempts:   binary.BigEndian.Uint32(v[17:21]),
		token:      string(v[remHeader:]), // copies out of the mmap
	}, nil
}

// index returns the bucket and key of r's index entry.
func (r remRecord) index(tx *bbolt.Tx, id []byte) (*bbolt.Bucket, []byte) {
	if r.leaseUntil != 0 {
		return tx.Bucket(bucketRemLease), timeKey(r.leaseUntil, id)
	}
	return tx.Bucket(bucketRemDue), timeKey(r.dueMs, id)
}

// putRem writes r and its index entry; the old index entry must be gone.
func putRem(tx *bbolt.Tx, id []byte, r remRecord) error {
	if err := tx.Bucket(bucketRemEntries).Put(id, r.encode()); err != nil {
		return err
	}
	b, k := r.index(tx, id)
	return b.Put(k, nil)
}

// getRem returns the record of id and removes nothing; ok is false when absent.
func getRem(tx *bbolt.Tx, id []byte) (remRecord, bool, error) {
	v := tx.Bucket(bucketRemEntries).Get(id)
	if v == nil {
		return remRecord{}, false, nil
	}
	r, err := decodeRem(id, v)
	return r, err == nil, err
}

// dropRem removes id's record (if any) and its index entry.
func dropRem(tx *bbolt.Tx, id []byte) error {
	v := tx.Bucket(bucketRemEntries).Get(id)
	if v == nil {
		return nil
	}
	if r, err := decodeRem(id, v); err == nil {
		b, k := r.index(tx, id)
		if err := b.Delete(k); err != nil {
			return err
		}
	} else {
		// A damaged record: drop every index entry pointing at it.
		match := func(rest []byte) bool { return bytes.Equal(rest, id) }
		for _, name := range [][]byte{bucketRemDue, bucketRemLease} {
			if err := deleteIndexEntries(tx.Bucket(name), match); err != nil {
				return err
			}
		}
	}
	return tx.Bucket(bucketRemEntries).Delete(id)
}

func remID(id string) ([]byte, error) {
	if id == "" {
		return nil, errors.New("bolt store: reminder: empty id")
	}
	if len(id) > bbolt.MaxKeySize-8 {
		return nil, fmt.Errorf("bolt store: reminder: id too long (%d bytes)", len(id))
	}
	return []byte(id), nil
}

func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("bolt store: reminder token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Schedule creates entry id due at due, or moves it there. An entry that is
// not leased and already due at due (to the millisecond) is left alone; a
// leased entry loses its lease and its attempt count.
func (s *Store) Schedule(ctx context.Context, id string, due time.Time) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	key, err := remID(id)
	if err != nil {
		return err
	}
	dueMs := due.UnixMilli()
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, ok, err := getRem(tx, key)
		if ok && old.leaseUntil == 0 && old.dueMs == dueMs {
			return nil
		}
		if ok || err != nil {
			if err := dropRem(tx, key); err != nil {
				return err
			}
		}
		return putRem(tx, key, remRecord{dueMs: dueMs})
	})
}

// Cancel removes id, leased or not. Absent is not an error.
func (s *Store) Cancel(ctx context.Context, id string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	key, err := remID(id)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error { return dropRem(tx, key) })
}

// Claim leases up to limit entries in one transaction: first entries whose
// lease has expired by the store's clock (oldest lease first), then entries
// due at or before now, earliest first. A limit of zero or less claims
// nothing. The lease is rounded up to the millisecond.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]reminder.Claim, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	if lease <= 0 {
		return nil, fmt.Errorf("bolt store: Claim: lease %s is not positive", lease)
	}
	leaseMs := (lease + time.Millisecond - 1).Milliseconds()
	nowMs := now.UnixMilli()
	var claims []reminder.Claim
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		claims = claims[:0] // the transaction may not be retried, but stay safe
		storeNow := s.now().UnixMilli()
		var ids [][]byte
		collect := func(b *bbolt.Bucket, until int64) {
			c := b.Cursor()
			for k, _ := c.First(); k != nil && len(ids) < limit; k, _ = c.Next() {
				if len(k) <= 8 || timeOfKey(k) > until {
					break
				}
				ids = append(ids, bytes.Clone(k[8:]))
			}
		}
		collect(tx.Bucket(bucketRemLease), storeNow)
		collect(tx.Bucket(bucketRemDue), nowMs)
		for _, id := range ids {
			r, ok, err := getRem(tx, id)
			if err != nil {
				// A damaged record would block the queue forever: drop it.
				if err := dropRem(tx, id); err != nil {
					return err
				}
				continue
			}
			if !ok {
				continue
			}
			b, k := r.index(tx, id)
			if err := b.Delete(k); err != nil {
				return err
			}
			tok, err := newToken()
			if err != nil {
				return err
			}
			r.leaseUntil = storeNow + leaseMs
			if r.leaseUntil == 0 { // 0 means "not leased"
				r.leaseUntil = 1
			}
			r.attempts++
			r.token = tok
			if err := putRem(tx, id, r); err != nil {
				return err
			}
			claims = append(claims, reminder.Claim{
				ID:       string(id),
				Due:      time.UnixMilli(r.dueMs).UTC(),
				Token:    tok,
				Attempts: int(r.attempts),
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return claims, nil
}

// Ack ends a claim. The token must be the entry's current one; a lease that
// has expired but was not claimed again still acks. With a non-zero next
// the entry is re-scored to next (not leased, attempts reset), otherwise
// removed.
func (s *Store) Ack(ctx context.Context, id, token string, next time.Time) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	key, err := remID(id)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		r, ok, err := getRem(tx, key)
		if err != nil {
			return err
		}
		if !ok || r.leaseUntil == 0 || token == "" || r.token != token {
			return reminder.ErrLeaseLost
		}
		if err := dropRem(tx, key); err != nil {
			return err
		}
		if next.IsZero() {
			return nil
		}
		return putRem(tx, key, remRecord{dueMs: next.UnixMilli()})
	})
}

// Renew extends the leases of held to lease from the store's clock, in
// one transaction, and returns the ids whose token is no longer current.
func (s *Store) Renew(ctx context.Context, held []reminder.Claim, lease time.Duration) ([]string, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if len(held) == 0 {
		return nil, nil
	}
	if lease <= 0 {
		return nil, fmt.Errorf("bolt store: Renew: lease %s is not positive", lease)
	}
	leaseMs := (lease + time.Millisecond - 1).Milliseconds()
	var lost []string
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		lost = lost[:0]
		until := max(s.now().UnixMilli()+leaseMs, 1) // 0 means "not leased"
		for _, c := range held {
			key, err := remID(c.ID)
			if err != nil {
				return err
			}
			r, ok, err := getRem(tx, key)
			if err != nil {
				return err
			}
			if !ok || r.leaseUntil == 0 || c.Token == "" || r.token != c.Token {
				lost = append(lost, c.ID)
				continue
			}
			b, k := r.index(tx, key)
			if err := b.Delete(k); err != nil {
				return err
			}
			r.leaseUntil = until
			if err := putRem(tx, key, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lost, nil
}

// Get returns entry id, or ok false when absent. Leased is judged by the
// store's clock.
func (s *Store) Get(ctx context.Context, id string) (reminder.Entry, bool, error) {
	if err := checkCtx(ctx); err != nil {
		return reminder.Entry{}, false, err
	}
	key, err := remID(id)
	if err != nil {
		return reminder.Entry{}, false, err
	}
	var r remRecord
	var ok bool
	err = s.db.View(func(tx *bbolt.Tx) error {
		r, ok, err = getRem(tx, key)
		return err
	})
	if err != nil || !ok {
		return reminder.Entry{}, false, err
	}
	return reminder.Entry{
		ID:     id,
		Due:    time.UnixMilli(r.dueMs).UTC(),
		Leased: r.leaseUntil != 0 && r.leaseUntil > s.now().UnixMilli(),
	}, true, nil
}

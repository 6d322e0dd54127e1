package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/seal"
	bbolt "go.etcd.io/bbolt"
)

// Hand-off cases (handoff.Store):
//
//	cases:          <caseKey>                  → case record (see caseHead); the bucket's sequence numbers cases
//	case_resident:  <residentID>/<caseKey>     → empty (CasesOf)
//	case_partner:   <partnerID>/<caseKey>      → empty (OpenCases)
//	case_topics:    <chatID>/<topicID>         → <caseKey>
//	case_relays:    <chatID>/<messageID>       → handoff.Relay as JSON
//	case_links:     <caseKey>/t|r/<chat>/<id>  → empty (what DeleteCase removes)
//	case_artefacts: <caseKey>/<chat>/<thread>/<msg>/<kind> → handoff.Artefact as JSON (ids only, in clear)
//	case_events:    <caseKey>/<seq>            → handoff.Event as JSON, sealed with the resident's key
//	case_counts:    <month>/<dep>/<problem>/<partner> → count as decimal text
//	                (older counts: <month>/<dep>/<problem>, no partner)
//	partner_paused: <partnerID>                → "1"
//
// caseKey is the case id as 20-digit zero-padded decimal text, so keys sort
// by id and a scan shows which case a key belongs to.
//
// A case record shows in clear what the indexes need (version, resident,
// partner), then the whole case sealed with the resident's data key
// (seal.go), bound to "c:<id>":
//
//	[0]        caseFormat
//	[1:9]      version, big-endian
//	[9:17]     resident id, big-endian
//	[17:19]    length n of the partner id, big-endian
//	[19:19+n]  partner id
//	[19+n:]    handoff.Case as JSON, sealed
//
// Audit events are sealed with the same key, bound to "e:<id>". A record
// of an earlier release is the case's JSON, starting with '{'. Mappings
// (topics, relays) hold ids only and stay in clear.

var _ handoff.Store = (*Store)(nil)

var (
	bucketCases        = []byte("cases")
	bucketCaseResident = []byte("case_resident")
	bucketCasePartner  = []byte("case_partner")
	bucketCaseTopics   = []byte("case_topics")
	bucketCaseRelays   = []byte("case_relays")
	bucketCaseLinks    = []byte("case_links")
	bucketCaseArts     = []byte("case_artefacts")
	bucketCaseEvents   = []byte("case_events")
	bucketCaseCounts   = []byte("case_counts")
	bucketPaused       = []byte("partner_paused")

	caseBuckets = [][]byte{bucketCases, bucketCaseResident, bucketCasePartner, bucketCaseTopics,
		bucketCaseRelays, bucketCaseLinks, bucketCaseArts, bucketCaseEvents, bucketCaseCounts, bucketPaused}
)

func caseKey(id int64) []byte { return fmt.Appendf(nil, "%020d", id) }

func pairKey(a int64, b int64) []byte {
	return strconv.AppendInt(append(strconv.AppendInt(nil, a, 10), '/'), b, 10)
}

func joinKey(parts ...[]byte) []byte { return bytes.Join(parts, []byte("/")) }

// caseTx runs fn in a read-write transaction with the case buckets created.
func (s *Store) caseTx(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		for _, name := range caseBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("bolt store: create bucket %s: %w", name, err)
			}
		}
		return fn(tx)
	})
}

// caseView runs fn in a read transaction; fn gets nil buckets when no case
// was ever written.
func (s *Store) caseView(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	return s.db.View(fn)
}

// NextCaseID returns a new case number.
func (s *Store) NextCaseID(ctx context.Context) (int64, error) {
	var id uint64
	err := s.caseTx(ctx, func(tx *bbolt.Tx) error {
		var err error
		id, err = tx.Bucket(bucketCases).NextSequence()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bolt store: next case id: %w", err)
	}
	return int64(id), nil
}

const caseFormat = 1

func caseAD(id int64) string  { return "c:" + strconv.FormatInt(id, 10) }
func eventAD(id int64) string { return "e:" + strconv.FormatInt(id, 10) }

// caseHead is what a case record shows in clear.
type caseHead struct {
	version  int64
	resident int64
	partner  string
	body     []byte // the sealed case (or an earlier release's JSON)
}

func readCaseHead(v []byte) (caseHead, error) {
	if len(v) > 0 && v[0] == '{' {
		var old handoff.Case
		if err := json.Unmarshal(v, &old); err != nil {
			return caseHead{}, fmt.Errorf("bolt store: case: %w", err)
		}
		return caseHead{version: old.Version, resident: old.ResidentID, partner: old.PartnerID, body: v}, nil
	}
	if len(v) < 19 || v[0] != caseFormat {
		return caseHead{}, fmt.Errorf("bolt store: case: bad record (%d bytes)", len(v))
	}
	n := int(binary.BigEndian.Uint16(v[17:19]))
	if len(v) < 19+n {
		return caseHead{}, fmt.Errorf("bolt store: case: bad record (%d bytes)", len(v))
	}
	return caseHead{
		version:  int64(binary.BigEndian.Uint64(v[1:9])),
		resident: int64(binary.BigEndian.Uint64(v[9:17])),
		partner:  string(v[19 : 19+n]),
		body:     v[19+n:],
	}, nil
}

// decodeCase opens a case record; errShredded when the resident's data key
// is gone.
func (s *Store) decodeCase(tx *bbolt.Tx, id int64, v []byte) (handoff.Case, error) {
	h, err := readCaseHead(v)
	if err != nil {
		return handoff.Case{}, err
	}
	plain, err := s.openFor(tx, h.resident, caseAD(id), h.body)
	if err != nil {
		return handoff.Case{}, err
	}
	var c handoff.Case
	if err := json.Unmarshal(plain, &c); err != nil {
		return c, fmt.Errorf("bolt store: case %d: %w", id, err)
	}
	c.Version = h.version
	return c, nil
}

func (s *Store) putCase(tx *bbolt.Tx, c handoff.Case) error {
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("bolt store: encode case: %w", err)
	}
	if len(c.PartnerID) > 1<<16-1 {
		return fmt.Errorf("bolt store: case %d: partner id too long", c.ID)
	}
	head := make([]byte, 19, 19+len(c.PartnerID)+len(v)+seal.Overhead)
	head[0] = caseFormat
	binary.BigEndian.PutUint64(head[1:9], uint64(c.Version))
	binary.BigEndian.PutUint64(head[9:17], uint64(c.ResidentID))
	binary.BigEndian.PutUint16(head[17:19], uint16(len(c.PartnerID)))
	head = append(head, c.PartnerID...)
	dk, err := s.dataKey(tx, c.ResidentID, true)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketCases).Put(caseKey(c.ID), dk.Seal(head, v, []byte(caseAD(c.ID))))
}

// CreateCase stores a new case and counts it.
func (s *Store) CreateCase(ctx context.Context, c handoff.Case) (int64, error) {
	if c.ID <= 0 {
		return 0, errors.New("bolt store: case id must be positive")
	}
	c.Version = 1
	err := s.caseTx(ctx, func(tx *bbolt.Tx) error {
		key := caseKey(c.ID)
		if tx.Bucket(bucketCases).Get(key) != nil {
			return handoff.ErrExists
		}
		if err := s.putCase(tx, c); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCaseResident).Put(joinKey(userKey(c.ResidentID), key), nil); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCasePartner).Put(joinKey([]byte(c.PartnerID), key), nil); err != nil {
			return err
		}
		counts := tx.Bucket(bucketCaseCounts)
		ck := countKey(handoff.Count{Month: c.Created.UTC().Format("2006-01"), Departement: c.Departement, Problem: c.Problem, Partner: c.PartnerID})
		n, _ := strconv.Atoi(string(counts.Get(ck)))
		return counts.Put(ck, strconv.AppendInt(nil, int64(n+1), 10))
	})
	if err != nil {
		return 0, err
	}
	return 1, nil
}

// Case returns a case, or handoff.ErrNotFound.
func (s *Store) Case(ctx context.Context, id int64) (handoff.Case, error) {
	var c handoff.Case
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCases)
		if b == nil {
			return handoff.ErrNotFound
		}
		v := b.Get(caseKey(id))
		if v == nil {
			return handoff.ErrNotFound
		}
		var err error
		c, err = s.decodeCase(tx, id, v)
		if errors.Is(err, errShredded) {
			return handoff.ErrNotFound
		}
		return err
	})
	return c, err
}

// UpdateCase replaces c if the stored version is c.Version.
func (s *Store) UpdateCase(ctx context.Context, c handoff.Case) (int64, error) {
	var ver int64
	err := s.caseTx(ctx, func(tx *bbolt.Tx) error {
		key := caseKey(c.ID)
		v := tx.Bucket(bucketCases).Get(key)
		if v == nil {
			return handoff.ErrNotFound
		}
		old, err := readCaseHead(v)
		if err != nil {
			return err
		}
		if old.version != c.Version {
			return handoff.ErrConflict
		}
		c.Version = old.version + 1
		ver = c.Version
		if old.partner != c.PartnerID {
			p := tx.Bucket(bucketCasePartner)
			if err := p.Delete(joinKey([]byte(old.partner), key)); err != nil {
				return err
			}
			if err := p.Put(joinKey([]byte(c.PartnerID), key), nil); err != nil {
				return err
			}
		}
		return s.putCase(tx, c)
	})
	return ver, err
}

// DeleteCase removes a case and everything linked to it; counts stay. It
// needs no data key: a case whose resident's key is gone is deleted too.
func (s *Store) DeleteCase(ctx context.Context, id int64) error {
	return s.caseTx(ctx, func(tx *bbolt.Tx) error { return deleteCaseTx(tx, caseKey(id)) })
}

func deleteCaseTx(tx *bbolt.Tx, key []byte) error {
	cases := tx.Bucket(bucketCases)
	if cases == nil {
		return nil // no case was ever written
	}
	if v := cases.Get(key); v != nil {
		h, err := readCaseHead(v)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketCaseResident).Delete(joinKey(userKey(h.resident), key)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCasePartner).Delete(joinKey([]byte(h.partner), key)); err != nil {
			return err
		}
		if err := cases.Delete(key); err != nil {
			return err
		}
	}
	links := tx.Bucket(bucketCaseLinks)
	prefix := append(slices.Clone(key), '/')
	for _, k := range keysWithPrefix(links, prefix) {
		rest := k[len(prefix):]
		target := rest[2:] // "t/<chat>/<id>" or "r/<chat>/<id>"
		switch rest[0] {
		case 't':
			if err := tx.Bucket(bucketCaseTopics).Delete(target); err != nil {
				return err
			}
		case 'r':
			if err := tx.Bucket(bucketCaseRelays).Delete(target); err != nil {
				return err
			}
		}
		if err := links.Delete(k); err != nil {
			return err
		}
	}
	for _, name := range [][]byte{bucketCaseEvents, bucketCaseArts} {
		b := tx.Bucket(name)
		if b == nil {
			continue // a file from before the bucket existed
		}
		for _, k := range keysWithPrefix(b, prefix) {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

func artefactKey(caseID int64, a handoff.Artefact) []byte {
	return fmt.Appendf(caseKey(caseID), "/%d/%d/%d/%s", a.Chat, a.Thread, a.Message, a.Kind)
}

// AddArtefact records something the bot left in a chat for a case.
func (s *Store) AddArtefact(ctx context.Context, caseID int64, a handoff.Artefact) error {
	v, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("bolt store: encode artefact: %w", err)
	}
	return s.caseTx(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCaseArts).Put(artefactKey(caseID, a), v)
	})
}

// Artefacts returns the case's artefacts by chat, thread and message.
func (s *Store) Artefacts(ctx context.Context, caseID int64) ([]handoff.Artefact, error) {
	var out []handoff.Artefact
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCaseArts)
		if b == nil {
			return nil
		}
		prefix := append(caseKey(caseID), '/')
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var a handoff.Artefact
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("bolt store: artefact: %w", err)
			}
			out = append(out, a)
		}
		return nil
	})
	slices.SortFunc(out, handoff.CompareArtefacts)
	return out, err
}

// RemoveArtefacts forgets artefacts of a case.
func (s *Store) RemoveArtefacts(ctx context.Context, caseID int64, as []handoff.Artefact) error {
	return s.caseTx(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCaseArts)
		for _, a := range as {
			if err := b.Delete(artefactKey(caseID, a)); err != nil {
				return err
			}
		}
		return nil
	})
}

// forgetCases deletes every case of the resident (Forget).
func forgetCases(tx *bbolt.Tx, residentID int64) error {
	idx := tx.Bucket(bucketCaseResident)
	if idx == nil {
		return nil
	}
	prefix := userPrefix(residentID)
	for _, k := range keysWithPrefix(idx, prefix) {
		if err := deleteCaseTx(tx, k[len(prefix):]); err != nil {
			return err
		}
		if err := idx.Delete(k); err != nil { // an entry without a case
			return err
		}
	}
	return nil
}

// casesByIndex reads the cases listed in index under prefix.
func (s *Store) casesByIndex(ctx context.Context, index, prefix []byte, keep func(handoff.Case) bool) ([]handoff.Case, error) {
	var out []handoff.Case
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		idx, cases := tx.Bucket(index), tx.Bucket(bucketCases)
		if idx == nil || cases == nil {
			return nil
		}
		c := idx.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			key := k[len(prefix):]
			v := cases.Get(key)
			if v == nil {
				continue
			}
			id, err := strconv.ParseInt(string(key), 10, 64)
			if err != nil {
				return fmt.Errorf("bolt store: malformed case key %q", key)
			}
			cs, err := s.decodeCase(tx, id, v)
			if errors.Is(err, errShredded) {
				continue // the resident's data key is gone: so is the case
			}
			if err != nil {
				return err
			}
			if keep == nil || keep(cs) {
				out = append(out, cs)
			}
		}
		return nil
	})
	return out, err
}

// CasesOf returns the resident's cases, oldest first.
func (s *Store) CasesOf(ctx context.Context, residentID int64) ([]handoff.Case, error) {
	out, err := s.casesByIndex(ctx, bucketCaseResident, userPrefix(residentID), nil)
	slices.SortStableFunc(out, func(a, b handoff.Case) int { return a.Created.Compare(b.Created) })
	return out, err
}

// OpenCases returns the partner's waiting and taken cases.
func (s *Store) OpenCases(ctx context.Context, partnerID string) ([]handoff.Case, error) {
	return s.casesByIndex(ctx, bucketCasePartner, append([]byte(partnerID), '/'), handoff.Case.Open)
}

// Cases returns every stored case.
func (s *Store) Cases(ctx context.Context) ([]handoff.Case, error) {
	var out []handoff.Case
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCases)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			id, err := strconv.ParseInt(string(k), 10, 64)
			if err != nil {
				return fmt.Errorf("bolt store: malformed case key %q", k)
			}
			c, err := s.decodeCase(tx, id, v)
			switch {
			case errors.Is(err, errShredded):
				return nil // the resident's data key is gone: so is the case
			case err != nil:
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// SetTopic maps a forum topic to a case.
func (s *Store) SetTopic(ctx context.Context, chatID int64, topicID int, caseID int64) error {
	return s.caseTx(ctx, func(tx *bbolt.Tx) error {
		k := pairKey(chatID, int64(topicID))
		if err := tx.Bucket(bucketCaseTopics).Put(k, caseKey(caseID)); err != nil {
			return err
		}
		return tx.Bucket(bucketCaseLinks).Put(joinKey(caseKey(caseID), []byte("t"), k), nil)
	})
}

// CaseByTopic returns the case of a forum topic.
func (s *Store) CaseByTopic(ctx context.Context, chatID int64, topicID int) (int64, error) {
	var id int64
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCaseTopics)
		if b == nil {
			return handoff.ErrNotFound
		}
		v := b.Get(pairKey(chatID, int64(topicID)))
		if v == nil {
			return handoff.ErrNotFound
		}
		var err error
		id, err = strconv.ParseInt(string(v), 10, 64)
		return err
	})
	return id, err
}

// PutRelay records a copied message.
func (s *Store) PutRelay(ctx context.Context, chatID int64, msgID int, r handoff.Relay) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bolt store: encode relay: %w", err)
	}
	return s.caseTx(ctx, func(tx *bbolt.Tx) error {
		k := pairKey(chatID, int64(msgID))
		if err := tx.Bucket(bucketCaseRelays).Put(k, v); err != nil {
			return err
		}
		return tx.Bucket(bucketCaseLinks).Put(joinKey(caseKey(r.CaseID), []byte("r"), k), nil)
	})
}

// Relay returns what a copied message relays.
func (s *Store) Relay(ctx context.Context, chatID int64, msgID int) (handoff.Relay, error) {
	var r handoff.Relay
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCaseRelays)
		if b == nil {
			return handoff.ErrNotFound
		}
		v := b.Get(pairKey(chatID, int64(msgID)))
		if v == nil {
			return handoff.ErrNotFound
		}
		return json.Unmarshal(v, &r)
	})
	return r, err
}

// AddEvent appends to a case's audit log, sealed with the resident's data
// key. An event of a case that is not stored is dropped: nobody could
// read it.
func (s *Store) AddEvent(ctx context.Context, caseID int64, e handoff.Event) error {
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("bolt store: encode event: %w", err)
	}
	return s.caseTx(ctx, func(tx *bbolt.Tx) error {
		rec := tx.Bucket(bucketCases).Get(caseKey(caseID))
		if rec == nil {
			return nil
		}
		h, err := readCaseHead(rec)
		if err != nil {
			return err
		}
		sealed, err := s.sealFor(tx, h.resident, eventAD(caseID), v)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketCaseEvents)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(joinKey(caseKey(caseID), fmt.Appendf(nil, "%020d", seq)), sealed)
	})
}

// Events returns a case's audit log in order (none once the resident's
// data key is gone).
func (s *Store) Events(ctx context.Context, caseID int64) ([]handoff.Event, error) {
	var out []handoff.Event
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		b, cases := tx.Bucket(bucketCaseEvents), tx.Bucket(bucketCases)
		if b == nil || cases == nil {
			return nil
		}
		rec := cases.Get(caseKey(caseID))
		if rec == nil {
			return nil
		}
		h, err := readCaseHead(rec)
		if err != nil {
			return err
		}
		prefix := append(caseKey(caseID), '/')
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			plain, err := s.openFor(tx, h.resident, eventAD(caseID), v)
			if errors.Is(err, errShredded) {
				return nil
			}
			if err != nil {
				return err
			}
			var e handoff.Event
			if err := json.Unmarshal(plain, &e); err != nil {
				return fmt.Errorf("bolt store: event: %w", err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Counts returns every anonymous count.
func (s *Store) Counts(ctx context.Context) ([]handoff.Count, error) {
	var out []handoff.Count
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCaseCounts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			// <month>/<dep>/<problem>[/<partner>]: counts made before
			// they were kept per partner have no partner.
			parts := bytes.Split(k, []byte("/"))
			n, err := strconv.Atoi(string(v))
			if len(parts) != 3 && len(parts) != 4 || err != nil {
				return fmt.Errorf("bolt store: malformed count %q", k)
			}
			c := handoff.Count{Month: string(parts[0]), Departement: string(parts[1]), Problem: handoff.Problem(parts[2]), N: n}
			if len(parts) == 4 {
				c.Partner = string(parts[3])
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// SetPaused records whether a partner paused intake.
func (s *Store) SetPaused(ctx context.Context, partnerID string, paused bool) error {
	return s.caseTx(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPaused)
		if paused {
			return b.Put([]byte(partnerID), []byte("1"))
		}
		return b.Delete([]byte(partnerID))
	})
}

// Paused reports whether a partner paused intake.
func (s *Store) Paused(ctx context.Context, partnerID string) (bool, error) {
	var p bool
	err := s.caseView(ctx, func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketPaused); b != nil {
			p = b.Get([]byte(partnerID)) != nil
		}
		return nil
	})
	return p, err
}

// countKey is the key of c's cell in case_counts (its N aside): month,
// département, problem and, when known, the partner first sent the case.
func countKey(c handoff.Count) []byte {
	k := joinKey([]byte(c.Month), []byte(c.Departement), []byte(c.Problem))
	if c.Partner != "" {
		k = joinKey(k, []byte(c.Partner))
	}
	return k
}

package redis

// Hand-off cases (handoff.Store), with prefix P, case id C, resident U,
// partner id Q and group chat G:
//
//	P:{P:cC}              hash    rec = the case as JSON (handoff.Case, its
//	                              "ver" equal to ver), sealed with the
//	                              resident's data key (seal.go); in clear:
//	                              ver = version, partner = its PartnerID,
//	                              rid = its ResidentID, parts = every
//	                              partner it was routed to (Tried and
//	                              PartnerID, space-separated)
//	P:{P:cC}:ev           list    the audit log: handoff.Event JSON, sealed
//	                              with the same key, oldest first
//	P:{P:cC}:links        set     "t|G|topicID" and "r|G|messageID": the
//	                              mappings DeleteCase removes
//	P:{P:cC}:art          set     "chat|thread|message|kind": the case's
//	                              artefacts in partner groups
//	P:{P:uU}:cases        set     ids of U's cases (CasesOf), in the
//	                              resident's slot: Forget deletes it too
//	P:{P:pQ}:cases        set     ids of cases routed to Q (OpenCases)
//	P:{P:gG}:topics       hash    forum topic id → case id
//	P:{P:gG}:relays       hash    copied message id → "caseID|residentMessageID"
//	P:{P:cases}:seq       string  the last case number (INCR)
//	P:{P:cases}:all       set     every case id (Cases)
//	P:{P:stats}:counts    hash    "YYYY-MM|département|problem|partner" → count
//	                              (older fields: no "|partner")
//	P:{P:stats}:paused    set     ids of partners that paused intake
//
// A case's record, audit log and links share one hash tag, so the
// compare-and-set of UpdateCase and the final step of DeleteCase are
// single scripts on one slot. Everything else is spread by resident,
// partner and group, so a cluster shares the load; the case sequence,
// the list of all ids and the statistics are one small slot each.
//
// Operations that span slots cannot be one transaction on a cluster (the
// same code runs on a single node). Their writes are ordered so that a
// crash or an error part-way leaves only leftovers that readers ignore
// and that hold neither the case's text nor a resident's data outside the
// resident's own slot:
//
//   - Indexes are written before the record and cleared after it is
//     deleted, so a stored case is always reachable from its resident's
//     index (for /forget), its partner's (OpenCases) and the list of all
//     cases (retention). The leftover of a crash is an index entry without
//     a case, or with a case that has since moved: CasesOf, OpenCases and
//     Cases read every case they list and skip missing ones, and CasesOf
//     and OpenCases re-check its ResidentID, PartnerID and status. A
//     resident index with such an entry is removed by Forget.
//   - CreateCase writes the indexes and the count, then the record (a
//     script that fails with ErrExists if the id is taken, after which the
//     count is taken back and a wrong resident index entry removed). So an
//     error from CreateCase means the case was not stored (unless the
//     reply to the last write was lost), and a crash before the record
//     counts one case too many.
//   - UpdateCase adds the case to its new partner's index, then sets the
//     record, then removes it from the old partner's index.
//   - SetTopic and PutRelay write the link, then the mapping, so every
//     mapping has a link. DeleteCase reads the links, removes the
//     mappings that still name the case (a topic given since to another
//     case stays), deletes the record, log and links in one script
//     (removing the mappings of links added meanwhile), then the index
//     entries. A crash before the record is deleted leaves the case
//     listed, and a retry finishes the work.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/passerelle-bot/passerelle/internal/handoff"
	"github.com/passerelle-bot/passerelle/internal/seal"
	goredis "github.com/redis/go-redis/v9"
)

var _ handoff.Store = (*Store)(nil)

// ---- keys ----

// hashTag returns "P:{P:<name>}", a key of its own slot.
func (s *Store) hashTag(name string) string { return s.prefix + ":{" + s.prefix + ":" + name + "}" }

func (s *Store) caseKey(id int64) string       { return s.hashTag("c" + strconv.FormatInt(id, 10)) }
func (s *Store) caseEventsKey(id int64) string { return s.caseKey(id) + ":ev" }
func (s *Store) caseLinksKey(id int64) string  { return s.caseKey(id) + ":links" }
func (s *Store) caseArtsKey(id int64) string   { return s.caseKey(id) + ":art" }

// residentCasesKey is in the resident's slot (userTag), with the
// resident's other keys.
func (s *Store) residentCasesKey(residentID int64) string {
	return s.userTag(residentID) + ":cases"
}
func (s *Store) partnerCasesKey(partnerID string) string {
	return s.hashTag("p"+partnerID) + ":cases"
}
func (s *Store) topicsKey(chatID int64) string {
	return s.hashTag("g"+strconv.FormatInt(chatID, 10)) + ":topics"
}
func (s *Store) relaysKey(chatID int64) string {
	return s.hashTag("g"+strconv.FormatInt(chatID, 10)) + ":relays"
}
func (s *Store) caseSeqKey() string  { return s.hashTag("cases") + ":seq" }
func (s *Store) allCasesKey() string { return s.hashTag("cases") + ":all" }
func (s *Store) countsKey() string   { return s.hashTag("stats") + ":counts" }
func (s *Store) pausedKey() string   { return s.hashTag("stats") + ":paused" }

// countField is the field of the counts hash that counts c: its month of
// creation (UTC), département, problem and the partner first sent it.
func countField(c handoff.Case) string {
	return cellField(handoff.Count{Month: c.Created.UTC().Format("2006-01"), Departement: c.Departement, Problem: c.Problem, Partner: c.PartnerID})
}

// cellField is the field of the counts hash of cell c (its N aside):
// "month|département|problem|partner", or without "|partner" when the
// partner is unknown (counts made before they were kept per partner).
func cellField(c handoff.Count) string {
	f := c.Month + "|" + c.Departement + "|" + string(c.Problem)
	if c.Partner != "" {
		f += "|" + c.Partner
	}
	return f
}

// Link kinds, the first field of a member of a case's links set.
const (
	linkTopic = "t"
	linkRelay = "r"
)

func linkMember(kind string, chatID int64, id int) string {
	return kind + "|" + strconv.FormatInt(chatID, 10) + "|" + strconv.Itoa(id)
}

// mapping returns the hash key and field a link stands for.
func (s *Store) mapping(link string) (key, field string, ok bool) {
	kind, rest, ok1 := strings.Cut(link, "|")
	chat, id, ok2 := strings.Cut(rest, "|")
	chatID, err := strconv.ParseInt(chat, 10, 64)
	if !ok1 || !ok2 || err != nil {
		return "", "", false
	}
	switch kind {
	case linkTopic:
		return s.topicsKey(chatID), id, true
	case linkRelay:
		return s.relaysKey(chatID), id, true
	}
	return "", "", false
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// ---- scripts ----

// caseCreateScript stores a new case record.
//
//	KEYS[1] case hash
//	ARGV[1] record (version 1), ARGV[2] partner id, ARGV[3] resident id,
//	ARGV[4] partners (parts)
//
// It returns 1, or {the stored resident id} when the id is taken.
var caseCreateScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return {redis.call('HGET', KEYS[1], 'rid') or ''} end
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'ver', 1, 'partner', ARGV[2], 'rid', ARGV[3], 'parts', ARGV[4])
return 1
`)

// caseUpdateScript is the compare-and-set of UpdateCase.
//
//	KEYS[1] case hash
//	ARGV[1] expected version, ARGV[2] record (at the next version),
//	ARGV[3] its partner id, ARGV[4] "1" when the caller already added the
//	case to that partner's index, ARGV[5] partners (parts)
//
// It returns {code, stored partner}: code is the new version, 0 on a
// version conflict, -1 when the case is absent, -2 when the partner
// changes and the caller must index the new one first (nothing written).
var caseUpdateScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'ver', 'partner')
if not cur[1] then return {-1, ''} end
local ver = tonumber(cur[1])
local old = cur[2] or ''
if ver ~= tonumber(ARGV[1]) then return {0, old} end
if old ~= ARGV[3] and ARGV[4] ~= '1' then return {-2, old} end
redis.call('HSET', KEYS[1], 'rec', ARGV[2], 'ver', ver + 1, 'partner', ARGV[3], 'parts', ARGV[5])
return {ver + 1, old}
`)

// caseDeleteScript deletes a case's record, audit log, links and
// artefacts, and returns the links it found.
//
//	KEYS case hash, audit log, links, artefacts
var caseDeleteScript = goredis.NewScript(`
local links = redis.call('SMEMBERS', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return links
`)

// unmapScript removes fields of one topics or relays hash that still
// point to a case: a topic whose value is the case id, a relay whose value
// starts with it and "|".
//
//	KEYS[1] hash
//	ARGV[1] case id, ARGV[2…] fields
var unmapScript = goredis.NewScript(`
local id = ARGV[1]
local n = 0
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and (v == id or string.sub(v, 1, #id + 1) == id .. '|') then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
`)

// ---- records ----

func caseField(id int64) string  { return "c:" + strconv.FormatInt(id, 10) }
func eventField(id int64) string { return "e:" + strconv.FormatInt(id, 10) }

// caseParts is the parts field of c: every partner it was routed to.
func caseParts(c handoff.Case) string {
	parts := slices.Clone(c.Tried)
	if !slices.Contains(parts, c.PartnerID) {
		parts = append(parts, c.PartnerID)
	}
	return strings.Join(parts, " ")
}

// encodeCase returns c's record, sealed with its resident's data key.
func (s *Store) encodeCase(ctx context.Context, c handoff.Case) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("redis store: encode case %d: %w", c.ID, err)
	}
	dk, err := s.ownerKey(ctx, c.ResidentID)
	if err != nil {
		return nil, err
	}
	return dk.Seal(nil, b, ad(caseField(c.ID))), nil
}

// decodeCase reads the record, version and resident fields of a case
// hash; errShredded when the resident's data key is gone.
func (s *Store) decodeCase(ctx context.Context, id int64, rec, ver, rid string) (handoff.Case, error) {
	v, err := strconv.ParseInt(ver, 10, 64)
	if err != nil {
		return handoff.Case{}, fmt.Errorf("redis store: case %d: %w", id, err)
	}
	var plain []byte
	if seal.IsSealedString(rec) {
		owner, err := strconv.ParseInt(rid, 10, 64)
		if err != nil {
			return handoff.Case{}, fmt.Errorf("redis store: case %d: resident %q: %w", id, rid, err)
		}
		if plain, err = s.openOwned(ctx, owner, caseField(id), rec); err != nil {
			return handoff.Case{}, err
		}
	} else {
		plain = []byte(rec) // an earlier release's JSON
	}
	var c handoff.Case
	if err := json.Unmarshal(plain, &c); err != nil {
		return handoff.Case{}, fmt.Errorf("redis store: case %d: %w", id, err)
	}
	c.Version = v
	return c, nil
}

// ---- cases ----

// NextCaseID returns a new case number (INCR of the sequence).
func (s *Store) NextCaseID(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	id, err := s.c.Incr(ctx, s.caseSeqKey()).Result()
	if err != nil {
		return 0, wrap("next case id", err)
	}
	return id, nil
}

// CreateCase stores a new case at version 1 and counts it; it returns
// handoff.ErrExists if the id is taken. It writes the indexes and the
// count first, then the record (see the file comment): an error means the
// case was not stored, unless the reply to that last write was lost.
func (s *Store) CreateCase(ctx context.Context, c handoff.Case) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if c.ID <= 0 {
		return 0, fmt.Errorf("redis store: create case: id %d must be positive", c.ID)
	}
	c.Version = 1
	rec, err := s.encodeCase(ctx, c)
	if err != nil {
		return 0, err
	}
	id := idString(c.ID)
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.SAdd(ctx, s.residentCasesKey(c.ResidentID), id)
		p.SAdd(ctx, s.partnerCasesKey(c.PartnerID), id)
		p.SAdd(ctx, s.allCasesKey(), id)
		p.HIncrBy(ctx, s.countsKey(), countField(c), 1)
		return nil
	})
	if err != nil {
		return 0, wrap("create case", err)
	}
	res, err := caseCreateScript.Run(ctx, s.c, []string{s.caseKey(c.ID)}, rec, c.PartnerID, c.ResidentID, caseParts(c)).Result()
	if err != nil {
		return 0, wrap("create case", err)
	}
	stored, taken := res.([]any)
	if !taken {
		return 1, nil
	}
	// The id was taken: take the count back, and the resident index entry
	// if the stored case is another resident's. (An entry in this
	// partner's index stays: OpenCases checks the case's partner.)
	var storedRID string
	if len(stored) > 0 {
		storedRID, _ = stored[0].(string)
	}
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.HIncrBy(ctx, s.countsKey(), countField(c), -1)
		if storedRID != idString(c.ResidentID) {
			p.SRem(ctx, s.residentCasesKey(c.ResidentID), id)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redis store: create case %d: %w (and undo: %w)", c.ID, handoff.ErrExists, wrap("undo", err))
	}
	return 0, fmt.Errorf("redis store: create case %d: %w", c.ID, handoff.ErrExists)
}

// Case returns a case, or handoff.ErrNotFound.
func (s *Store) Case(ctx context.Context, id int64) (handoff.Case, error) {
	if err := ctx.Err(); err != nil {
		return handoff.Case{}, err
	}
	vals, err := s.c.HMGet(ctx, s.caseKey(id), "rec", "ver", "rid").Result()
	if err != nil {
		return handoff.Case{}, wrap("case", err)
	}
	rec, _ := vals[0].(string)
	ver, _ := vals[1].(string)
	rid, _ := vals[2].(string)
	if rec == "" {
		return handoff.Case{}, handoff.ErrNotFound
	}
	c, err := s.decodeCase(ctx, id, rec, ver, rid)
	if errors.Is(err, errShredded) {
		return handoff.Case{}, handoff.ErrNotFound
	}
	return c, err
}

// UpdateCase replaces c if the stored version equals c.Version and
// returns the new version; otherwise handoff.ErrConflict, or
// handoff.ErrNotFound when the case is absent. The compare-and-set is one
// script on the case's key. When the partner changes, the case is added to
// the new partner's index before the record changes and removed from the
// old one's after (best effort: an entry left there is ignored by
// OpenCases and removed by DeleteCase, which clears c.Tried's indexes).
func (s *Store) UpdateCase(ctx context.Context, c handoff.Case) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	expected := c.Version
	c.Version = expected + 1
	rec, err := s.encodeCase(ctx, c)
	if err != nil {
		return 0, err
	}
	keys := []string{s.caseKey(c.ID)}
	indexed := "0"
	for {
		res, err := caseUpdateScript.Run(ctx, s.c, keys, expected, rec, c.PartnerID, indexed, caseParts(c)).Slice()
		if err != nil {
			return 0, wrap("update case", err)
		}
		code, _ := res[0].(int64)
		old, _ := res[1].(string)
		switch {
		case code == -1:
			return 0, fmt.Errorf("redis store: update case %d: %w", c.ID, handoff.ErrNotFound)
		case code == 0:
			return 0, fmt.Errorf("redis store: update case %d: %w", c.ID, handoff.ErrConflict)
		case code == -2 && indexed == "0":
			if err := s.c.SAdd(ctx, s.partnerCasesKey(c.PartnerID), idString(c.ID)).Err(); err != nil {
				return 0, wrap("update case", err)
			}
			indexed = "1"
			continue
		case code < 0:
			return 0, fmt.Errorf("redis store: update case %d: unexpected script result %d", c.ID, code)
		}
		if old != c.PartnerID {
			// Best effort (see the doc comment).
			_ = s.c.SRem(ctx, s.partnerCasesKey(old), idString(c.ID)).Err()
		}
		return code, nil
	}
}

// DeleteCase removes a case, its topic and relay mappings, its audit log
// and its index entries; the counts stay. Absent is not an error (the
// mappings and log of an absent case are still removed). The order of its
// steps is in the file comment: after an error the case is either still
// listed, and a retry finishes, or gone with index entries left that
// readers skip.
func (s *Store) DeleteCase(ctx context.Context, id int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var (
		headCmd  *goredis.SliceCmd
		linksCmd *goredis.StringSliceCmd
	)
	// Both keys are in the case's slot: one round trip.
	_, _ = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		headCmd = p.HMGet(ctx, s.caseKey(id), "rec", "rid", "parts", "partner")
		linksCmd = p.SMembers(ctx, s.caseLinksKey(id))
		return nil
	})
	head, err := headCmd.Result()
	if err != nil {
		return wrap("delete case", err)
	}
	// What the indexes need is in clear (no data key needed); a case of an
	// earlier release is JSON.
	rec, exists := head[0].(string)
	rid, _ := head[1].(string)
	parts, _ := head[2].(string)
	partner, _ := head[3].(string)
	partners := strings.Fields(parts)
	if exists && !seal.IsSealedString(rec) {
		var c handoff.Case
		if err := json.Unmarshal([]byte(rec), &c); err != nil {
			return fmt.Errorf("redis store: delete case %d: %w", id, err)
		}
		rid, partners = idString(c.ResidentID), append(slices.Clone(c.Tried), c.PartnerID)
	}
	if partner != "" && !slices.Contains(partners, partner) {
		partners = append(partners, partner)
	}
	links, err := linksCmd.Result()
	if err != nil {
		return wrap("delete case", err)
	}
	if err := s.unmap(ctx, id, links); err != nil {
		return err
	}
	keys := []string{s.caseKey(id), s.caseEventsKey(id), s.caseLinksKey(id), s.caseArtsKey(id)}
	last, err := caseDeleteScript.Run(ctx, s.c, keys).StringSlice()
	if err != nil {
		return wrap("delete case", err)
	}
	// Links added since the first read.
	var late []string
	for _, l := range last {
		if !slices.Contains(links, l) {
			late = append(late, l)
		}
	}
	if err := s.unmap(ctx, id, late); err != nil {
		return err
	}
	member := idString(id)
	_, err = s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.SRem(ctx, s.allCasesKey(), member)
		if exists {
			// An emptied set is removed by Redis: no key named after the
			// resident stays.
			if owner, err := strconv.ParseInt(rid, 10, 64); err == nil {
				p.SRem(ctx, s.residentCasesKey(owner), member)
			}
			// The partners it was routed to before, in case a move left
			// an entry behind (see UpdateCase).
			for _, partner := range partners {
				p.SRem(ctx, s.partnerCasesKey(partner), member)
			}
		}
		return nil
	})
	return wrap("delete case", err)
}

// unmap removes the topic and relay mappings of links that still point to
// case id, with one script per hash.
func (s *Store) unmap(ctx context.Context, id int64, links []string) error {
	fields := map[string][]any{}
	var order []string
	for _, l := range links {
		key, field, ok := s.mapping(l)
		if !ok {
			continue
		}
		if _, seen := fields[key]; !seen {
			order = append(order, key)
		}
		fields[key] = append(fields[key], field)
	}
	for _, key := range order {
		args := append([]any{idString(id)}, fields[key]...)
		if err := unmapScript.Run(ctx, s.c, []string{key}, args...).Err(); err != nil {
			return wrap("delete case mappings", err)
		}
	}
	return nil
}

// loadBatch is how many cases one pipelined round trip reads.
const loadBatch = 500

// casesByID reads the cases listed in an index (ids as decimal text),
// skipping missing ones and keeping those keep accepts, sorted by id.
func (s *Store) casesByID(ctx context.Context, op string, members []string, keep func(handoff.Case) bool) ([]handoff.Case, error) {
	ids := make([]int64, 0, len(members))
	for _, m := range members {
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redis store: %s: malformed case id %q", op, m)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []handoff.Case
	for chunk := range slices.Chunk(ids, loadBatch) {
		cmds := make([]*goredis.SliceCmd, len(chunk))
		_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, id := range chunk {
				cmds[i] = p.HMGet(ctx, s.caseKey(id), "rec", "ver", "rid")
			}
			return nil
		})
		if err != nil {
			return nil, wrap(op, err)
		}
		if err := s.knowKeys(ctx, cmds); err != nil {
			return nil, wrap(op, err)
		}
		for i, cmd := range cmds {
			vals := cmd.Val()
			rec, _ := vals[0].(string)
			ver, _ := vals[1].(string)
			rid, _ := vals[2].(string)
			if rec == "" {
				continue // an index entry without a case (see the file comment)
			}
			c, err := s.decodeCase(ctx, chunk[i], rec, ver, rid)
			if errors.Is(err, errShredded) {
				continue // the resident's data key is gone: so is the case
			}
			if err != nil {
				return nil, err
			}
			if keep == nil || keep(c) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// knowKeys reads, in one pipelined round trip, the data keys of the
// residents of cases (HMGET rec ver rid replies) the store has not seen
// yet, so that opening them takes no round trip each.
func (s *Store) knowKeys(ctx context.Context, cmds []*goredis.SliceCmd) error {
	var owners []int64
	for _, cmd := range cmds {
		rid, _ := cmd.Val()[2].(string)
		owner, err := strconv.ParseInt(rid, 10, 64)
		if err != nil || slices.Contains(owners, owner) {
			continue
		}
		if _, _, ok := s.keys.Known(owner); !ok {
			owners = append(owners, owner)
		}
	}
	if len(owners) == 0 {
		return nil
	}
	keys := make([]*goredis.StringCmd, len(owners))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, o := range owners {
			keys[i] = p.HGet(ctx, s.residentKey(o), keyField)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return err
	}
	for i, o := range owners {
		if w := keys[i].Val(); w != "" {
			if _, err := s.keys.Unwrap(o, []byte(w)); err != nil {
				return err
			}
		}
	}
	return nil
}

// CasesOf returns the resident's cases, oldest first (by Created, then
// id).
func (s *Store) CasesOf(ctx context.Context, residentID int64) ([]handoff.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	members, err := s.c.SMembers(ctx, s.residentCasesKey(residentID)).Result()
	if err != nil {
		return nil, wrap("cases of resident", err)
	}
	out, err := s.casesByID(ctx, "cases of resident", members, func(c handoff.Case) bool {
		return c.ResidentID == residentID
	})
	slices.SortStableFunc(out, func(a, b handoff.Case) int { return a.Created.Compare(b.Created) })
	return out, err
}

// OpenCases returns the partner's waiting and taken cases, by id.
func (s *Store) OpenCases(ctx context.Context, partnerID string) ([]handoff.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	members, err := s.c.SMembers(ctx, s.partnerCasesKey(partnerID)).Result()
	if err != nil {
		return nil, wrap("open cases", err)
	}
	return s.casesByID(ctx, "open cases", members, func(c handoff.Case) bool {
		return c.PartnerID == partnerID && c.Open()
	})
}

// Cases returns every stored case, by id.
func (s *Store) Cases(ctx context.Context) ([]handoff.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	members, err := s.c.SMembers(ctx, s.allCasesKey()).Result()
	if err != nil {
		return nil, wrap("cases", err)
	}
	return s.casesByID(ctx, "cases", members, nil)
}

// ---- topics and relays ----

// SetTopic maps a forum topic of a group to a case: the case's link
// first, then the mapping (see the file comment).
func (s *Store) SetTopic(ctx context.Context, chatID int64, topicID int, caseID int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.c.SAdd(ctx, s.caseLinksKey(caseID), linkMember(linkTopic, chatID, topicID)).Err(); err != nil {
		return wrap("set topic", err)
	}
	return wrap("set topic", s.c.HSet(ctx, s.topicsKey(chatID), strconv.Itoa(topicID), idString(caseID)).Err())
}

// CaseByTopic returns the case of a forum topic, or handoff.ErrNotFound.
func (s *Store) CaseByTopic(ctx context.Context, chatID int64, topicID int) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v, err := s.c.HGet(ctx, s.topicsKey(chatID), strconv.Itoa(topicID)).Result()
	if errors.Is(err, goredis.Nil) {
		return 0, handoff.ErrNotFound
	}
	if err != nil {
		return 0, wrap("case by topic", err)
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("redis store: topic %d/%d: %w", chatID, topicID, err)
	}
	return id, nil
}

// PutRelay records that message msgID of chat chatID is a copy made for
// r: the case's link first, then the mapping.
func (s *Store) PutRelay(ctx context.Context, chatID int64, msgID int, r handoff.Relay) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.c.SAdd(ctx, s.caseLinksKey(r.CaseID), linkMember(linkRelay, chatID, msgID)).Err(); err != nil {
		return wrap("put relay", err)
	}
	v := idString(r.CaseID) + "|" + strconv.Itoa(r.ResidentMessageID)
	return wrap("put relay", s.c.HSet(ctx, s.relaysKey(chatID), strconv.Itoa(msgID), v).Err())
}

// Relay returns what a copied message relays, or handoff.ErrNotFound.
func (s *Store) Relay(ctx context.Context, chatID int64, msgID int) (handoff.Relay, error) {
	if err := ctx.Err(); err != nil {
		return handoff.Relay{}, err
	}
	v, err := s.c.HGet(ctx, s.relaysKey(chatID), strconv.Itoa(msgID)).Result()
	if errors.Is(err, goredis.Nil) {
		return handoff.Relay{}, handoff.ErrNotFound
	}
	if err != nil {
		return handoff.Relay{}, wrap("relay", err)
	}
	caseID, rmsg, ok := strings.Cut(v, "|")
	id, err1 := strconv.ParseInt(caseID, 10, 64)
	m, err2 := strconv.Atoi(rmsg)
	if err := errors.Join(err1, err2); !ok || err != nil {
		return handoff.Relay{}, fmt.Errorf("redis store: relay %d/%d: malformed %q", chatID, msgID, v)
	}
	return handoff.Relay{CaseID: id, ResidentMessageID: m}, nil
}

// ---- artefacts ----

func artefactMember(a handoff.Artefact) string {
	return strconv.FormatInt(a.Chat, 10) + "|" + strconv.Itoa(a.Thread) + "|" + strconv.Itoa(a.Message) + "|" + string(a.Kind)
}

// AddArtefact records something the bot left in a chat for a case (SADD in
// the case's slot).
func (s *Store) AddArtefact(ctx context.Context, caseID int64, a handoff.Artefact) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap("add artefact", s.c.SAdd(ctx, s.caseArtsKey(caseID), artefactMember(a)).Err())
}

// Artefacts returns the case's artefacts by chat, thread and message.
func (s *Store) Artefacts(ctx context.Context, caseID int64) ([]handoff.Artefact, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	members, err := s.c.SMembers(ctx, s.caseArtsKey(caseID)).Result()
	if err != nil {
		return nil, wrap("artefacts", err)
	}
	out := make([]handoff.Artefact, 0, len(members))
	for _, m := range members {
		f := strings.SplitN(m, "|", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("redis store: artefact of case %d: malformed %q", caseID, m)
		}
		chat, err1 := strconv.ParseInt(f[0], 10, 64)
		thread, err2 := strconv.Atoi(f[1])
		msg, err3 := strconv.Atoi(f[2])
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("redis store: artefact of case %d: %w", caseID, err)
		}
		out = append(out, handoff.Artefact{Chat: chat, Thread: thread, Message: msg, Kind: handoff.ArtefactKind(f[3])})
	}
	slices.SortFunc(out, handoff.CompareArtefacts)
	return out, nil
}

// RemoveArtefacts forgets artefacts of a case (SREM).
func (s *Store) RemoveArtefacts(ctx context.Context, caseID int64, as []handoff.Artefact) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(as) == 0 {
		return nil
	}
	members := make([]any, len(as))
	for i, a := range as {
		members[i] = artefactMember(a)
	}
	return wrap("remove artefacts", s.c.SRem(ctx, s.caseArtsKey(caseID), members...).Err())
}

// ---- audit log ----

// caseOwner returns the resident of case id (0 when the case is absent).
func (s *Store) caseOwner(ctx context.Context, id int64) (int64, error) {
	rid, err := s.c.HGet(ctx, s.caseKey(id), "rid").Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(rid, 10, 64)
}

// AddEvent appends to a case's audit log (RPUSH), sealed with the
// resident's data key. An event of a case that is not stored is dropped:
// nobody could read it.
func (s *Store) AddEvent(ctx context.Context, caseID int64, e handoff.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("redis store: encode event: %w", err)
	}
	owner, err := s.caseOwner(ctx, caseID)
	if err != nil || owner == 0 {
		return wrap("add event", err)
	}
	dk, err := s.ownerKey(ctx, owner)
	if err != nil {
		return err
	}
	return wrap("add event", s.c.RPush(ctx, s.caseEventsKey(caseID), dk.Seal(nil, v, ad(eventField(caseID)))).Err())
}

// Events returns a case's audit log in order (none once the resident's
// data key is gone).
func (s *Store) Events(ctx context.Context, caseID int64) ([]handoff.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		itemsCmd *goredis.StringSliceCmd
		ridCmd   *goredis.StringCmd
	)
	// Both keys are in the case's slot: one round trip.
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		itemsCmd = p.LRange(ctx, s.caseEventsKey(caseID), 0, -1)
		ridCmd = p.HGet(ctx, s.caseKey(caseID), "rid")
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, wrap("events", err)
	}
	items := itemsCmd.Val()
	owner, _ := strconv.ParseInt(ridCmd.Val(), 10, 64)
	out := make([]handoff.Event, 0, len(items))
	for _, it := range items {
		plain, err := s.openOwned(ctx, owner, eventField(caseID), it)
		if errors.Is(err, errShredded) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var e handoff.Event
		if err := json.Unmarshal(plain, &e); err != nil {
			return nil, fmt.Errorf("redis store: event of case %d: %w", caseID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ---- statistics and pauses ----

// Counts returns every anonymous count, sorted by month, département and
// problem.
func (s *Store) Counts(ctx context.Context) ([]handoff.Count, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := s.c.HGetAll(ctx, s.countsKey()).Result()
	if err != nil {
		return nil, wrap("counts", err)
	}
	out := make([]handoff.Count, 0, len(m))
	for k, v := range m {
		// No part ever holds "|" (partner ids are [a-z0-9-]); older
		// fields have no partner.
		parts := strings.Split(k, "|")
		n, err := strconv.Atoi(v)
		if len(parts) != 3 && len(parts) != 4 || err != nil {
			return nil, fmt.Errorf("redis store: malformed count %q = %q", k, v)
		}
		if n <= 0 {
			continue // taken back by a CreateCase that found the id taken
		}
		c := handoff.Count{Month: parts[0], Departement: parts[1], Problem: handoff.Problem(parts[2]), N: n}
		if len(parts) == 4 {
			c.Partner = parts[3]
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b handoff.Count) int {
		return cmp.Or(strings.Compare(a.Month, b.Month), strings.Compare(a.Departement, b.Departement),
			strings.Compare(string(a.Problem), string(b.Problem)), strings.Compare(a.Partner, b.Partner))
	})
	return out, nil
}

// SetPaused records whether a partner's coordinators paused intake.
func (s *Store) SetPaused(ctx context.Context, partnerID string, paused bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if paused {
		return wrap("set paused", s.c.SAdd(ctx, s.pausedKey(), partnerID).Err())
	}
	return wrap("set paused", s.c.SRem(ctx, s.pausedKey(), partnerID).Err())
}

// Paused reports whether a partner paused intake (false when never set).
func (s *Store) Paused(ctx context.Context, partnerID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p, err := s.c.SIsMember(ctx, s.pausedKey(), partnerID).Result()
	if err != nil {
		return false, wrap("paused", err)
	}
	return p, nil
}

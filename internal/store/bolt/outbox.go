package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/passerelle-bot/passerelle/bot"
	bbolt "go.etcd.io/bbolt"
)

// The relay outbox (bot.Outbox), ids only:
//
//	outbox:       <chat>/<seq>                  → bot.OutboxItem as JSON; the bucket's sequence numbers items
//	outbox_keys:  <chat>/<thread>/<case>/<msg>  → until (Unix nanoseconds, 8 bytes big-endian): Enqueue's memory
//	outbox_lease: <chat>                        → <seq>/<until in Unix nanoseconds>
//
// seq is 20-digit zero-padded decimal text, so a chat's items sort in
// order. Times are judged by the store's clock (WithClock).

var _ bot.Outbox = (*Store)(nil)

var (
	bucketOutbox      = []byte("outbox")
	bucketOutboxKeys  = []byte("outbox_keys")
	bucketOutboxLease = []byte("outbox_lease")

	outboxBuckets = [][]byte{bucketOutbox, bucketOutboxKeys, bucketOutboxLease}
)

func chatPrefix(chat int64) []byte { return append(strconv.AppendInt(nil, chat, 10), '/') }

func outboxKey(chat, seq int64) []byte { return fmt.Appendf(chatPrefix(chat), "%020d", seq) }

func outboxDedupKey(it bot.OutboxItem) []byte {
	return fmt.Appendf(chatPrefix(it.Chat), "%d/%d/%d", it.Thread, it.Case, it.Message)
}

// outboxTx runs fn in a read-write transaction with the outbox buckets.
func (s *Store) outboxTx(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		for _, name := range outboxBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("bolt store: create bucket %s: %w", name, err)
			}
		}
		return fn(tx)
	})
}

// OutboxEnqueue appends it to its chat's queue unless the same message was
// enqueued within ttl.
func (s *Store) OutboxEnqueue(ctx context.Context, it bot.OutboxItem, ttl time.Duration) (bool, error) {
	added := false
	now := s.now()
	err := s.outboxTx(ctx, func(tx *bbolt.Tx) error {
		keys := tx.Bucket(bucketOutboxKeys)
		dk := outboxDedupKey(it)
		if v := keys.Get(dk); len(v) == 8 && now.UnixNano() < int64(binary.BigEndian.Uint64(v)) {
			return nil
		}
		q := tx.Bucket(bucketOutbox)
		seq, err := q.NextSequence()
		if err != nil {
			return err
		}
		it.Seq = int64(seq)
		v, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("bolt store: encode outbox item: %w", err)
		}
		if err := q.Put(outboxKey(it.Chat, it.Seq), v); err != nil {
			return err
		}
		if seq%64 == 0 { // now and then, forget what expired in this chat
			for _, k := range keysWithPrefix(keys, chatPrefix(it.Chat)) {
				if v := keys.Get(k); len(v) != 8 || now.UnixNano() >= int64(binary.BigEndian.Uint64(v)) {
					if err := keys.Delete(k); err != nil {
						return err
					}
				}
			}
		}
		added = true
		return keys.Put(dk, binary.BigEndian.AppendUint64(nil, uint64(now.Add(ttl).UnixNano())))
	})
	if err != nil {
		return false, fmt.Errorf("bolt store: enqueue: %w", err)
	}
	return added, nil
}

// head returns the first item of chat's queue.
func outboxHead(tx *bbolt.Tx, chat int64) (bot.OutboxItem, bool, error) {
	var it bot.OutboxItem
	q := tx.Bucket(bucketOutbox)
	if q == nil {
		return it, false, nil
	}
	prefix := chatPrefix(chat)
	k, v := q.Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return it, false, nil
	}
	if err := json.Unmarshal(v, &it); err != nil {
		return it, false, fmt.Errorf("bolt store: outbox item %s: %w", k, err)
	}
	return it, true, nil
}

// lease reads the lease of chat: the item it holds and until when.
func outboxLease(tx *bbolt.Tx, chat int64) (seq int64, until time.Time) {
	b := tx.Bucket(bucketOutboxLease)
	if b == nil {
		return 0, time.Time{}
	}
	v := b.Get(strconv.AppendInt(nil, chat, 10))
	a, c, ok := bytes.Cut(v, []byte("/"))
	n, err1 := strconv.ParseInt(string(a), 10, 64)
	u, err2 := strconv.ParseInt(string(c), 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, time.Time{}
	}
	return n, time.Unix(0, u)
}

func setLease(tx *bbolt.Tx, chat, seq int64, until time.Time) error {
	return tx.Bucket(bucketOutboxLease).Put(strconv.AppendInt(nil, chat, 10), fmt.Appendf(nil, "%d/%d", seq, until.UnixNano()))
}

// OutboxClaim leases the first item of chat's queue.
func (s *Store) OutboxClaim(ctx context.Context, chat int64, lease time.Duration) (bot.OutboxItem, bool, time.Duration, error) {
	var (
		it      bot.OutboxItem
		claimed bool
		wait    time.Duration
	)
	now := s.now()
	err := s.outboxTx(ctx, func(tx *bbolt.Tx) error {
		head, ok, err := outboxHead(tx, chat)
		if err != nil || !ok {
			return err
		}
		if seq, until := outboxLease(tx, chat); seq == head.Seq && now.Before(until) {
			wait = until.Sub(now)
			return nil
		}
		it, claimed = head, true
		return setLease(tx, chat, head.Seq, now.Add(lease))
	})
	if err != nil {
		return bot.OutboxItem{}, false, 0, fmt.Errorf("bolt store: claim: %w", err)
	}
	return it, claimed, wait, nil
}

// OutboxDone removes item seq from the front of chat's queue.
func (s *Store) OutboxDone(ctx context.Context, chat int64, seq int64) error {
	err := s.outboxTx(ctx, func(tx *bbolt.Tx) error {
		head, ok, err := outboxHead(tx, chat)
		if err != nil || !ok || head.Seq != seq {
			return err
		}
		if err := tx.Bucket(bucketOutbox).Delete(outboxKey(chat, seq)); err != nil {
			return err
		}
		return tx.Bucket(bucketOutboxLease).Delete(strconv.AppendInt(nil, chat, 10))
	})
	if err != nil {
		return fmt.Errorf("bolt store: done: %w", err)
	}
	return nil
}

// OutboxRetry leases item seq, first in chat's queue, for after.
func (s *Store) OutboxRetry(ctx context.Context, chat int64, seq int64, after time.Duration) error {
	now := s.now()
	err := s.outboxTx(ctx, func(tx *bbolt.Tx) error {
		head, ok, err := outboxHead(tx, chat)
		if err != nil || !ok || head.Seq != seq {
			return err
		}
		return setLease(tx, chat, seq, now.Add(after))
	})
	if err != nil {
		return fmt.Errorf("bolt store: retry: %w", err)
	}
	return nil
}

// OutboxChats lists the chats whose queue is not empty.
func (s *Store) OutboxChats(ctx context.Context) ([]int64, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var out []int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketOutbox)
		if q == nil {
			return nil
		}
		c := q.Cursor()
		for k, _ := c.First(); k != nil; {
			chat, _, ok := bytes.Cut(k, []byte("/"))
			id, err := strconv.ParseInt(string(chat), 10, 64)
			if !ok || err != nil {
				return fmt.Errorf("bolt store: malformed outbox key %q", k)
			}
			out = append(out, id)
			k, _ = c.Seek(append(chatPrefix(id)[:len(chat)], '/'+1)) // past this chat's items
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

var _ bot.OutboxLister = (*Store)(nil)

// OutboxItems lists chat's queue in order.
func (s *Store) OutboxItems(ctx context.Context, chat int64) ([]bot.OutboxItem, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var out []bot.OutboxItem
	err := s.db.View(func(tx *bbolt.Tx) error {
		q := tx.Bucket(bucketOutbox)
		if q == nil {
			return nil
		}
		prefix := chatPrefix(chat)
		c := q.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var it bot.OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("bolt store: outbox item %s: %w", k, err)
			}
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

package bot

import (
	"sync"
	"time"

	"github.com/passerelle-bot/passerelle/internal/clock"
)

type floodVerdict int

const (
	floodAllow floodVerdict = iota
	floodWarn               // over the limit: tell the user once
	floodDrop               // still over the limit: drop silently
)

// floodLimiter is a token bucket per user, kept in memory: a restart
// forgets it, which is harmless.
type floodLimiter struct {
	clock clock.Clock
	burst float64
	every time.Duration

	mu      sync.Mutex
	buckets map[int64]*bucket
	sweep   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
	warned bool
}

func newFloodLimiter(c clock.Clock, burst int, every time.Duration) *floodLimiter {
	return &floodLimiter{clock: c, burst: float64(burst), every: every, buckets: map[int64]*bucket{}}
}

func (f *floodLimiter) allow(user int64) floodVerdict {
	now := f.clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.sweep) > time.Minute {
		f.sweepLocked(now)
	}
	b, ok := f.buckets[user]
	if !ok {
		b = &bucket{tokens: f.burst, at: now}
		f.buckets[user] = b
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(f.burst, b.tokens+float64(elapsed)/float64(f.every))
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		b.warned = false
		return floodAllow
	}
	if !b.warned {
		b.warned = true
		return floodWarn
	}
	return floodDrop
}

// sweepLocked forgets users whose bucket is full again.
func (f *floodLimiter) sweepLocked(now time.Time) {
	f.sweep = now
	full := time.Duration(f.burst) * f.every
	for id, b := range f.buckets {
		if now.Sub(b.at) >= full {
			delete(f.buckets, id)
		}
	}
}

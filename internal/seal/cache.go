package seal

import "sync"

// Cache keeps unwrapped data keys in memory by owner, each with the
// wrapped bytes it came from, so that a store unwraps a key once and knows
// which wrapped key a write must find still stored. It is bounded: beyond
// its size, an arbitrary entry is forgotten. Safe for concurrent use.
type Cache struct {
	keys *Keyring
	max  int

	mu sync.Mutex
	m  map[int64]cached
}

type cached struct {
	wrapped string
	dk      *DataKey
}

// DefaultCacheSize is the number of data keys a Cache keeps by default
// (about 1 KB each).
const DefaultCacheSize = 4096

// NewCache returns a cache of at most size keys (DefaultCacheSize when
// size ≤ 0) that unwraps with keys.
func NewCache(keys *Keyring, size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Cache{keys: keys, max: size, m: make(map[int64]cached)}
}

// Keyring returns the keyring the cache unwraps with.
func (c *Cache) Keyring() *Keyring { return c.keys }

// Unwrap returns owner's data key from its wrapped form, from memory when
// the same wrapped key was seen last.
func (c *Cache) Unwrap(owner int64, wrapped []byte) (*DataKey, error) {
	c.mu.Lock()
	e, ok := c.m[owner]
	c.mu.Unlock()
	if ok && e.wrapped == string(wrapped) {
		return e.dk, nil
	}
	dk, err := c.keys.Unwrap(owner, wrapped)
	if err != nil {
		return nil, err
	}
	c.Put(owner, string(wrapped), dk)
	return dk, nil
}

// Known returns the last data key seen for owner and its wrapped form.
func (c *Cache) Known(owner int64) (wrapped string, dk *DataKey, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[owner]
	return e.wrapped, e.dk, ok
}

// Put records owner's data key and its wrapped form.
func (c *Cache) Put(owner int64, wrapped string, dk *DataKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[owner]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[owner] = cached{wrapped: wrapped, dk: dk}
}

// Drop forgets owner's key (after /forget, or when the store holds
// another).
func (c *Cache) Drop(owner int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, owner)
}

package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// credentialCache remembers, for a short while, the name and password
// pairs that passed argon2id, so that a browser or a script sending Basic
// on every request costs one verification per TTL rather than one per
// request (each takes the hash's memory and a slot of
// Config.MaxConcurrentHashes, shared with RTSP). Only successes are
// remembered: a wrong password always runs argon2id and counts in the
// limiter. A key is HMAC-SHA-256 of the pair under a random key of this
// Authority, so the cache holds no password and nothing that matches
// another process's cache. The configuration never changes within an
// Authority, so an entry stays right until it expires; new users or
// passwords come with a new Authority, whose cache starts empty.
type credentialCache struct {
	secret [32]byte
	ttl    time.Duration
	size   int

	mu sync.Mutex
	// guarded by mu:
	entries map[[sha256.Size]byte]cachedCredential
}

// cachedCredential is a verified pair's user and when it is forgotten.
type cachedCredential struct {
	user    *User
	expires time.Time
}

func newCredentialCache(size int, ttl time.Duration) *credentialCache {
	c := &credentialCache{ttl: ttl, size: size, entries: make(map[[sha256.Size]byte]cachedCredential)}
	_, _ = rand.Read(c.secret[:]) // crypto/rand.Read never fails (Go 1.24+)
	return c
}

// key returns the cache key of name and password. A user name holds no
// NUL, so the pair is unambiguous.
func (c *credentialCache) key(name, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.secret[:])
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

// get returns the user of a pair verified less than ttl before now, or nil.
func (c *credentialCache) get(k [sha256.Size]byte, now time.Time) *User {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return nil
	}
	if !now.Before(e.expires) {
		delete(c.entries, k)
		return nil
	}
	return e.user
}

// put remembers a verified pair until now+ttl. When the cache is full it
// drops the expired entries, then, if still full, any one entry.
func (c *credentialCache) put(k [sha256.Size]byte, u *User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.size {
		for ek, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, ek)
			}
		}
		for ek := range c.entries {
			if len(c.entries) < c.size {
				break
			}
			delete(c.entries, ek)
		}
	}
	c.entries[k] = cachedCredential{user: u, expires: now.Add(c.ttl)}
}

// len returns the number of entries, expired ones included.
func (c *credentialCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

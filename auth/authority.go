package auth

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"time"
)

// Authority answers who a user is and what a request may do. It is built
// once from a Config and never changes; a reload builds a new one. All
// methods are safe for concurrent use.
type Authority struct {
	c     *compiled
	slots chan struct{} // one token per running argon2id verification
	dummy Argon2Hash    // verified for unknown users, so timing tells nothing
	cache *credentialCache
}

// User is a configured user.
type User struct {
	name        string
	argon2      *Argon2Hash // nil: no password check
	md5, sha256 string      // HA1 hex; "" when not configured
	tokens      [][sha256.Size]byte
	rights
}

// Name returns the user's name.
func (u *User) Name() string { return u.name }

// DigestHA1 returns the user's HA1 in lower-case hex for algorithm
// (DigestMD5 or DigestSHA256, compared exactly) and whether it is
// configured. The value is a password equivalent: never log it.
func (u *User) DigestHA1(algorithm string) (string, bool) {
	var v string
	switch algorithm {
	case DigestMD5:
		v = u.md5
	case DigestSHA256:
		v = u.sha256
	}
	return v, v != ""
}

// New validates cfg (see Config.Validate) and builds an Authority.
func New(cfg Config) (*Authority, error) {
	cfg = cfg.withDefaults()
	c, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	dummy := Argon2Hash{Params: DefaultArgon2Params(), Salt: make([]byte, 16), Key: make([]byte, 32)}
	return &Authority{c: c, slots: make(chan struct{}, cfg.MaxConcurrentHashes), dummy: dummy,
		cache: newCredentialCache(cfg.CredentialCacheSize, cfg.CredentialCacheTTL)}, nil
}

// User returns the user called name.
func (a *Authority) User(name string) (*User, bool) {
	u, ok := a.c.users[name]
	return u, ok
}

// HasUsers reports whether any user is configured. Without users and
// without an anonymous entry, only loopback may do anything.
func (a *Authority) HasUsers() bool { return len(a.c.users) > 0 }

// Allowed reports whether a request from peer may do action on camera.
// user is the authenticated user, or nil for an anonymous request; a user
// also has the anonymous rights. camera is ignored for ActionAPI and
// ActionMetrics. Callers check this before any answer that reveals
// whether camera exists.
func (a *Authority) Allowed(user *User, peer netip.Addr, action Action, camera string) bool {
	if a.c.anonymous.allows(peer, action, camera) {
		return true
	}
	return user != nil && user.allows(peer, action, camera)
}

// AllowedEverywhere reports whether a request from peer may do action on
// every camera, as Allowed does for each one. The HTTP API asks it before
// it shows what belongs to no camera (an RTSP session on a path that names
// none): a user scoped to some cameras must not see it.
func (a *Authority) AllowedEverywhere(user *User, peer netip.Addr, action Action) bool {
	if a.c.anonymous.allowsEvery(peer, action) {
		return true
	}
	return user != nil && user.allowsEvery(peer, action)
}

// CheckPassword returns the user called name if password matches its
// argon2id hash. An unknown user, a user without argon2id hash and a wrong
// password all return ErrBadCredentials after the same work. It waits for
// one of Config.MaxConcurrentHashes slots, or returns ctx's error. A pair
// that passed less than Config.CredentialCacheTTL ago is answered from the
// credential cache, without argon2id or a slot.
func (a *Authority) CheckPassword(ctx context.Context, name, password string) (*User, error) {
	k := a.cache.key(name, password)
	if u := a.cache.get(k, time.Now()); u != nil {
		return u, nil
	}
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	defer func() { <-a.slots }()
	u, ok := a.c.users[name]
	h := &a.dummy
	if ok && u.argon2 != nil {
		h = u.argon2
	}
	if h.Verify(password) && h != &a.dummy {
		a.cache.put(k, u, time.Now())
		return u, nil
	}
	return nil, ErrBadCredentials
}

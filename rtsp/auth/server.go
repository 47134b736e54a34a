package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/rtsp/base"
)

// Defaults of ServerConfig.
const (
	DefaultRealm         = "camvault"
	DefaultNonceLifetime = time.Hour
)

// maxRealmLen bounds ServerConfig.Realm.
const maxRealmLen = 128

// Results of Server.Check other than success. Each is answered with
// 401 and the values of Server.Challenge, except ErrAuthHeader (400).
var (
	// ErrNoCredentials: the request has no Authorization header. It is
	// not a failed attempt.
	ErrNoCredentials = errors.New("no credentials")
	// ErrBadCredentials: unknown user, wrong password, another realm, a
	// uri that does not name the request's resource, an unsupported
	// algorithm or qop, or Basic over a connection without TLS. Count it
	// as a failed attempt (RTSP-AUTH-12).
	ErrBadCredentials = errors.New("bad credentials")
	// ErrStaleNonce: the Digest response is right but its nonce expired,
	// was issued to another address or by another server instance (a
	// restart). Check returns the user with it. Answer 401 with
	// Challenge(peer, tls, true) so the client retries at once, or accept
	// the request when it belongs to a session that user already holds:
	// clients keep one nonce for a whole session (RTSP-AUTH-09). It is not
	// a failed attempt.
	ErrStaleNonce = errors.New("stale nonce")
)

// ServerConfig configures a Server. The yaml tags are keys of camvault's
// auth section (package settings).
type ServerConfig struct {
	// Realm is the Digest and Basic realm; stored HA1 values are computed
	// for it, so changing it invalidates them (RTSP-AUTH-03). Printable
	// ASCII without '"' or '\', at most 128 bytes. Defaults to "camvault".
	Realm string `yaml:"realm"`
	// NonceLifetime is how long a nonce is accepted after it was issued;
	// an older one gives ErrStaleNonce. Defaults to 1h.
	NonceLifetime time.Duration `yaml:"nonce_lifetime"`
	// Secret is the HMAC key of nonces, at least 16 bytes. Nonces stay
	// valid across Server values with the same secret. Defaults to 32
	// random bytes, so a restart makes every nonce stale.
	Secret []byte `yaml:"-"`
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time `yaml:"-"`
}

// Credentials is what Server.Check needs to know about users.
// cmd/camvault adapts the user directory to it.
type Credentials interface {
	// DigestHA1 returns user's HA1 = H(user:realm:password) in lower-case
	// hex for algorithm (AlgorithmMD5 or AlgorithmSHA256) and the realm
	// of the Server, and whether the user has one.
	DigestHA1(user, algorithm string) (ha1 string, ok bool)
	// CheckPassword reports whether password is user's (Basic). It may
	// be slow (argon2id) and may wait on ctx.
	CheckPassword(ctx context.Context, user, password string) bool
}

// Server builds 401 challenges and checks Authorization headers for
// the server side (RTSP-AUTH-01..12). It is pure apart from its clock and
// holds no state per client: nonces are bound to the server by an HMAC
// and to the client's address. Safe for concurrent use.
type Server struct {
	realm    string
	lifetime time.Duration
	secret   []byte
	now      func() time.Time
}

// NewServer applies the defaults of cfg and validates it.
func NewServer(cfg ServerConfig) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{realm: cfg.Realm, lifetime: cfg.NonceLifetime, secret: cfg.Secret, now: cfg.Now}
	if s.secret == nil {
		s.secret = make([]byte, 32)
		if _, err := rand.Read(s.secret); err != nil {
			return nil, fmt.Errorf("nonce secret: %w", err)
		}
	}
	if len(s.secret) < minSecretLen {
		return nil, fmt.Errorf("nonce secret of %d bytes: want at least %d", len(s.secret), minSecretLen)
	}
	s.secret = append([]byte(nil), s.secret...)
	return s, nil
}

// DefaultServerConfig returns the default of every setting with a yaml tag.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{Realm: DefaultRealm, NonceLifetime: DefaultNonceLifetime}
}

func (c ServerConfig) withDefaults() ServerConfig {
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.NonceLifetime == 0 {
		c.NonceLifetime = DefaultNonceLifetime
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate checks the settings with a yaml tag, defaults applied: a realm
// that can travel in a quoted header parameter and a nonce lifetime from 1s
// to 7d. Failures are *settings.FieldError named by the yaml keys.
func (c *ServerConfig) Validate() error {
	var v settings.Check
	if len(c.Realm) > maxRealmLen || strings.ContainsAny(c.Realm, `"\`) || !isPrintableASCII(c.Realm) {
		v.Fail("realm", "realm %q: want printable ASCII without quote or backslash, at most %d bytes", c.Realm, maxRealmLen)
	}
	v.Duration("nonce_lifetime", c.NonceLifetime, time.Second, 7*24*time.Hour)
	return v.Err()
}

func isPrintableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Realm returns the realm of the challenges.
func (s *Server) Realm() string { return s.realm }

// Challenge returns the WWW-Authenticate values of a 401 for a client at
// peer: Digest SHA-256, then Digest MD5 (the last Digest challenge is the
// one ffmpeg and live555 answer, RTSP-AUTH-02), both with qop="auth" and
// a fresh nonce, then Basic only when tls is true (RTSP-AUTH-08). stale
// adds stale=TRUE after the nonce (RTSP-AUTH-01, -09).
func (s *Server) Challenge(peer netip.Addr, tls, stale bool) []string {
	nonce := s.nonce(peer, s.now())
	head := `Digest realm="` + s.realm + `", nonce="` + nonce + `"`
	if stale {
		head += ", stale=TRUE"
	}
	out := []string{
		head + `, algorithm=` + AlgorithmSHA256 + `, qop="auth"`,
		head + `, algorithm=` + AlgorithmMD5 + `, qop="auth"`,
	}
	if tls {
		out = append(out, `Basic realm="`+s.realm+`"`)
	}
	return out
}

// Check verifies the Authorization header of req, received from peer on a
// connection with or without TLS, and returns the user name. Errors:
// ErrNoCredentials, ErrBadCredentials, ErrStaleNonce (with the user) and
// ErrAuthHeader for a malformed, oversized or repeated header. Unknown
// users and wrong passwords take the same path and the same error
// (RTSP-AUTH-12). The nc of qop=auth is not checked for replays
// (RTSP-AUTH-10 is a SHOULD); the nonce is bound to peer instead.
func (s *Server) Check(ctx context.Context, req *base.Request, peer netip.Addr, tls bool, creds Credentials) (string, error) {
	values := req.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", ErrNoCredentials
	case 1:
	default:
		return "", ErrAuthHeader
	}
	a, err := ParseAuthorization(values[0])
	if err != nil {
		return "", ErrAuthHeader
	}
	if a.Scheme == SchemeBasic {
		if !tls || !creds.CheckPassword(ctx, a.Username, a.Password) {
			return "", ErrBadCredentials
		}
		return a.Username, nil
	}
	return s.checkDigest(&a, req, peer, creds)
}

// dummyHA1 is verified for unknown users, so that they cost the same.
const dummyHA1 = "00000000000000000000000000000000"

func (s *Server) checkDigest(a *Authorization, req *base.Request, peer netip.Addr, creds Credentials) (string, error) {
	alg, ok := serverAlgorithm(a.Algorithm)
	if !ok || a.Username == "" || a.Realm != s.realm || !validQOP(a) || !DigestURIMatches(a.URI, req.URL) {
		return "", ErrBadCredentials
	}
	ha1, known := creds.DigestHA1(a.Username, alg)
	if !known {
		ha1 = dummyHA1
	}
	if !VerifyDigestHA1(a, req.Method, ha1) || !known {
		return "", ErrBadCredentials
	}
	if !s.freshNonce(a.Nonce, peer, s.now()) {
		return a.Username, ErrStaleNonce
	}
	return a.Username, nil
}

// serverAlgorithm returns the canonical name of an algorithm the server
// offers: MD5 (also when absent, RFC 2069) or SHA-256.
func serverAlgorithm(alg string) (string, bool) {
	switch {
	case alg == "" || strings.EqualFold(alg, AlgorithmMD5):
		return AlgorithmMD5, true
	case strings.EqualFold(alg, AlgorithmSHA256):
		return AlgorithmSHA256, true
	}
	return "", false
}

// validQOP accepts no qop (RFC 2069, live555) and qop=auth with an
// 8-digit hex nc and a cnonce (RTSP-AUTH-05).
func validQOP(a *Authorization) bool {
	switch a.QOP {
	case "":
		return true
	case "auth":
		if len(a.NC) != 8 || a.CNonce == "" {
			return false
		}
		_, err := hex.DecodeString(a.NC)
		return err == nil
	}
	return false
}

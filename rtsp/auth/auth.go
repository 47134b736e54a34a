package auth

import (
	"crypto/md5" //nolint:gosec // Digest MD5 is what cameras speak (RFC 2617)
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"strconv"
	"strings"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/internal/lex"
)

// Authentication schemes (RTSP-AUTH, RFC 2617, RFC 7616).
const (
	SchemeBasic  = "Basic"
	SchemeDigest = "Digest"
)

// Digest algorithms supported by this package [7616 §3.3].
const (
	AlgorithmMD5     = "MD5"
	AlgorithmMD5Sess = "MD5-sess"
	AlgorithmSHA256  = "SHA-256"
)

// maxChallenges and maxAuthParams bound what one WWW-Authenticate or
// Authorization value may hold; the header line is already bounded by
// Limits.MaxHeaderLine.
const (
	maxChallenges = 16
	maxAuthParams = 32
)

// MaxAuthorizationBytes bounds one Authorization value (SEC-01). Real
// Digest values are about 300 bytes; a long rtsp:// uri fits in 4 KiB.
const MaxAuthorizationBytes = 4 << 10

// ErrAuthHeader is returned for a WWW-Authenticate or Authorization value
// that cannot be parsed.
var ErrAuthHeader = errors.New("malformed authentication header")

// Challenge is one challenge of a WWW-Authenticate header [2617 §1.2, §3.2.1].
type Challenge struct {
	// Scheme is SchemeBasic, SchemeDigest or another scheme as received.
	Scheme string
	// Realm, Nonce and Opaque are the parameters of the same name.
	Realm, Nonce, Opaque string
	// Algorithm is the algorithm parameter as received; empty means MD5.
	Algorithm string
	// QOP lists the offered qop values, lower-cased.
	QOP []string
	// Stale is true when the server said the previous nonce expired.
	Stale bool
}

// ParseWWWAuthenticate parses every WWW-Authenticate value of a response.
// A value may hold several comma-separated challenges. Parameter names
// are case-insensitive and values quoted or not (RTSP-AUTH-04).
func ParseWWWAuthenticate(values []string) ([]Challenge, error) {
	var out []Challenge
	for _, v := range values {
		items, err := splitAuthItems(v)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if it.scheme != "" {
				if len(out) == maxChallenges {
					return nil, ErrAuthHeader
				}
				out = append(out, Challenge{Scheme: canonicalScheme(it.scheme)})
			}
			if it.key == "" {
				continue
			}
			if len(out) == 0 {
				return nil, ErrAuthHeader
			}
			out[len(out)-1].setParam(it.key, it.value)
		}
	}
	if len(out) == 0 {
		return nil, ErrAuthHeader
	}
	return out, nil
}

func canonicalScheme(s string) string {
	switch {
	case strings.EqualFold(s, SchemeBasic):
		return SchemeBasic
	case strings.EqualFold(s, SchemeDigest):
		return SchemeDigest
	}
	return s
}

func (c *Challenge) setParam(k, v string) {
	switch strings.ToLower(k) {
	case "realm":
		c.Realm = v
	case "nonce":
		c.Nonce = v
	case "opaque":
		c.Opaque = v
	case "algorithm":
		c.Algorithm = v
	case "stale":
		c.Stale = strings.EqualFold(v, "true")
	case "qop":
		for q := range strings.SplitSeq(v, ",") {
			if q = strings.ToLower(strings.TrimSpace(q)); q != "" && len(c.QOP) < maxAuthParams {
				c.QOP = append(c.QOP, q)
			}
		}
	}
}

// strength ranks a challenge; 0 means unsupported. Digest beats Basic
// whatever the order, SHA-256 beats MD5 (RTSP-AUTH-02, RTSP-AUTH-13).
func (c *Challenge) strength() int {
	switch c.Scheme {
	case SchemeBasic:
		return 1
	case SchemeDigest:
		if c.Nonce == "" || (len(c.QOP) > 0 && !c.offersAuth()) {
			return 0
		}
		switch {
		case c.Algorithm == "" || strings.EqualFold(c.Algorithm, AlgorithmMD5):
			return 2
		case strings.EqualFold(c.Algorithm, AlgorithmMD5Sess):
			return 3
		case strings.EqualFold(c.Algorithm, AlgorithmSHA256):
			return 4
		}
	}
	return 0
}

func (c *Challenge) offersAuth() bool {
	for _, q := range c.QOP {
		if q == "auth" {
			return true
		}
	}
	return false
}

// PickChallenge returns the strongest supported challenge; among equals
// the last one wins, as ffmpeg and live555 do (RTSP-AUTH-02). ok is false
// when none is supported.
func PickChallenge(cs []Challenge) (best Challenge, ok bool) {
	bestRank := 0
	for _, c := range cs {
		if r := c.strength(); r > 0 && r >= bestRank {
			best, bestRank = c, r
		}
	}
	return best, bestRank > 0
}

// DigestResponse computes the response parameter of a Digest
// Authorization [2617 §3.2.2.1, 7616 §3.4.1]. algorithm is MD5 (or empty),
// MD5-sess or SHA-256; qop is "" or "auth" (nc and cnonce are used only
// with qop, and cnonce also with MD5-sess). Every value is taken as it
// appears in the header, uri included (RTSP-AUTH-05).
func DigestResponse(algorithm, username, realm, password, nonce, nc, cnonce, qop string, method base.Method, uri string) (string, error) {
	newHash, err := digestHash(algorithm)
	if err != nil {
		return "", err
	}
	return digestResponseHA1(newHash, algorithm, hexHash(newHash, username, realm, password), nonce, nc, cnonce, qop, method, uri)
}

// digestResponseHA1 is DigestResponse from HA1 = H(username:realm:password)
// in lower-case hex, so that a server can verify without the password.
func digestResponseHA1(newHash func() hash.Hash, algorithm, ha1, nonce, nc, cnonce, qop string, method base.Method, uri string) (string, error) {
	if strings.EqualFold(algorithm, AlgorithmMD5Sess) {
		ha1 = hexHash(newHash, ha1, nonce, cnonce)
	}
	ha2 := hexHash(newHash, string(method), uri)
	switch qop {
	case "":
		return hexHash(newHash, ha1, nonce, ha2), nil
	case "auth":
		return hexHash(newHash, ha1, nonce, nc, cnonce, qop, ha2), nil
	}
	return "", errors.New("digest: unsupported qop " + strconv.Quote(qop))
}

// hexHash returns the lower-case hex hash of parts joined by ':'.
func hexHash(newHash func() hash.Hash, parts ...string) string {
	h := newHash()
	h.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(h.Sum(nil))
}

func digestHash(algorithm string) (func() hash.Hash, error) {
	switch {
	case algorithm == "" || strings.EqualFold(algorithm, AlgorithmMD5) || strings.EqualFold(algorithm, AlgorithmMD5Sess):
		return md5.New, nil
	case strings.EqualFold(algorithm, AlgorithmSHA256):
		return sha256.New, nil
	}
	return nil, errors.New("digest: unsupported algorithm " + strconv.Quote(algorithm))
}

// Authorize returns the Authorization value answering c for method and uri.
// nc is the nonce count (1 for the first use of a nonce) and cnonce the
// client nonce; both are used only when c offers qop=auth or MD5-sess.
func (c *Challenge) Authorize(method base.Method, uri, username, password string, nc uint32, cnonce string) (string, error) {
	switch c.Scheme {
	case SchemeBasic:
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password)), nil
	case SchemeDigest:
	default:
		return "", errors.New("unsupported auth scheme")
	}
	qop, ncs := "", ""
	if c.offersAuth() {
		qop, ncs = "auth", strconv.FormatUint(uint64(nc)|1<<32, 16)[1:]
	}
	resp, err := DigestResponse(c.Algorithm, username, c.Realm, password, c.Nonce, ncs, cnonce, qop, method, uri)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(`Digest username=` + quoteAuth(username) + `, realm=` + quoteAuth(c.Realm) +
		`, nonce=` + quoteAuth(c.Nonce) + `, uri=` + quoteAuth(uri) + `, response="` + resp + `"`)
	if c.Algorithm != "" {
		b.WriteString(", algorithm=" + c.Algorithm)
	}
	if c.Opaque != "" {
		b.WriteString(", opaque=" + quoteAuth(c.Opaque))
	}
	if qop != "" {
		b.WriteString(", qop=auth, nc=" + ncs + ", cnonce=" + quoteAuth(cnonce))
	} else if strings.EqualFold(c.Algorithm, AlgorithmMD5Sess) {
		b.WriteString(", cnonce=" + quoteAuth(cnonce))
	}
	return b.String(), nil
}

func quoteAuth(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// Authorization is a parsed Authorization header (server side).
type Authorization struct {
	// Scheme is SchemeBasic, SchemeDigest or another scheme as received.
	Scheme string
	// Username and Password are set for Basic; Password is empty for Digest.
	Username, Password string
	// The Digest parameters, as received.
	Realm, Nonce, URI, Response, Algorithm, QOP, NC, CNonce, Opaque string
}

// ParseAuthorization parses an Authorization value: Basic credentials or
// Digest parameters in any order and case, quoted or not (RTSP-AUTH-04).
// A value longer than MaxAuthorizationBytes is ErrAuthHeader.
func ParseAuthorization(v string) (Authorization, error) {
	if len(v) > MaxAuthorizationBytes {
		return Authorization{}, ErrAuthHeader
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	a := Authorization{Scheme: canonicalScheme(scheme)}
	switch a.Scheme {
	case SchemeBasic:
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return a, ErrAuthHeader
		}
		var ok bool
		if a.Username, a.Password, ok = strings.Cut(string(raw), ":"); !ok {
			return a, ErrAuthHeader
		}
		return a, nil
	case SchemeDigest:
	default:
		return a, ErrAuthHeader
	}
	items, err := splitAuthItems("Digest " + rest)
	if err != nil {
		return a, err
	}
	for _, it := range items[1:] {
		if it.scheme != "" {
			return a, ErrAuthHeader
		}
		a.setParam(it.key, it.value)
	}
	if items[0].key != "" {
		a.setParam(items[0].key, items[0].value)
	}
	return a, nil
}

func (a *Authorization) setParam(k, v string) {
	switch strings.ToLower(k) {
	case "username":
		a.Username = v
	case "realm":
		a.Realm = v
	case "nonce":
		a.Nonce = v
	case "uri":
		a.URI = v
	case "response":
		a.Response = v
	case "algorithm":
		a.Algorithm = v
	case "qop":
		a.QOP = strings.ToLower(v)
	case "nc":
		a.NC = v
	case "cnonce":
		a.CNonce = v
	case "opaque":
		a.Opaque = v
	}
}

// VerifyDigest reports whether a Digest authorization a is correct for
// method and password, comparing in constant time (RTSP-AUTH-05). The
// caller checks realm, nonce freshness, nc replay and the uri scope
// (RTSP-AUTH-06, -09, -10); Server.Check does all of it from HA1.
func VerifyDigest(a *Authorization, method base.Method, password string) bool {
	newHash, err := digestHash(a.Algorithm)
	if err != nil {
		return false
	}
	return VerifyDigestHA1(a, method, hexHash(newHash, a.Username, a.Realm, password))
}

// VerifyDigestHA1 is VerifyDigest given HA1 = H(username:realm:password)
// in lower-case hex for a's algorithm, as a server stores it.
func VerifyDigestHA1(a *Authorization, method base.Method, ha1 string) bool {
	if a.Scheme != SchemeDigest || a.Response == "" {
		return false
	}
	newHash, err := digestHash(a.Algorithm)
	if err != nil {
		return false
	}
	want, err := digestResponseHA1(newHash, a.Algorithm, ha1, a.Nonce, a.NC, a.CNonce, a.QOP, method, a.URI)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(a.Response))) == 1
}

// authItem is one comma-separated element of an auth header: a scheme
// that starts a new challenge, a key=value parameter, or both.
type authItem struct {
	scheme, key, value string
}

// splitAuthItems splits v at commas outside quoted strings and classifies
// each element. Quoted values are unescaped.
func splitAuthItems(v string) ([]authItem, error) {
	var out []authItem
	for _, raw := range splitAuthCommas(v) {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		if len(out) == maxChallenges*maxAuthParams {
			return nil, ErrAuthHeader
		}
		var it authItem
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexAny(s, " \t")
		if eq < 0 || (sp >= 0 && sp < eq) {
			// A scheme, possibly followed by its first parameter.
			if sp < 0 {
				sp = len(s)
			}
			it.scheme, s = s[:sp], strings.TrimSpace(s[sp:])
			if !lex.IsToken(it.scheme) {
				return nil, ErrAuthHeader
			}
			eq = strings.IndexByte(s, '=')
			if s != "" && eq < 0 { // token68 (Basic credentials): ignored
				s = ""
			}
		}
		if s != "" {
			k, val, err := parseAuthParam(s, eq)
			if err != nil {
				return nil, err
			}
			it.key, it.value = k, val
		}
		out = append(out, it)
	}
	return out, nil
}

func parseAuthParam(s string, eq int) (string, string, error) {
	k := strings.TrimSpace(s[:eq])
	v := strings.TrimSpace(s[eq+1:])
	if !lex.IsToken(k) {
		return "", "", ErrAuthHeader
	}
	if len(v) > 0 && v[0] == '"' {
		if len(v) < 2 || v[len(v)-1] != '"' {
			return "", "", ErrAuthHeader
		}
		v = unescapeQuoted(v[1 : len(v)-1])
	}
	return k, v, nil
}

func unescapeQuoted(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitAuthCommas splits at commas outside quoted strings, honouring
// backslash escapes inside quotes.
func splitAuthCommas(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case quoted && s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

const (
	authRealm = rtsptest.Realm
	authURL   = "rtsp://nvr.example:8554/archive/cam1"
)

var (
	authPeer  = netip.MustParseAddr("192.0.2.7")
	authOther = netip.MustParseAddr("192.0.2.8")
	authT0    = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	authCreds = rtsptest.DefaultUsers
)

// newTestServerAuth returns a Server with a fixed secret whose clock
// reads *now.
func newTestServerAuth(t testing.TB, now *time.Time) *auth.Server {
	t.Helper()
	s, err := auth.NewServer(auth.ServerConfig{Realm: authRealm, NonceLifetime: time.Hour,
		Secret: []byte("0123456789abcdef0123456789abcdef"), Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nonceOf returns the nonce of the first challenge of s for peer.
func nonceOf(t testing.TB, s *auth.Server, peer netip.Addr) string {
	t.Helper()
	cs, err := auth.ParseWWWAuthenticate(s.Challenge(peer, false, false))
	if err != nil {
		t.Fatal(err)
	}
	return cs[0].Nonce
}

// digestValue writes an Authorization value in the forms real clients use.
func digestValue(t testing.TB, form, alg, user, password, nonce string, method base.Method, uri string) string {
	t.Helper()
	qop, nc, cnonce := "", "", ""
	if form == "ffmpeg" || form == "qop" {
		qop, nc, cnonce = "auth", "00000001", "0a4f113b"
	}
	resp, err := auth.DigestResponse(alg, user, authRealm, password, nonce, nc, cnonce, qop, method, uri)
	if err != nil {
		t.Fatal(err)
	}
	switch form {
	case "ffmpeg": // libavformat httpauth.c: no blanks, quoted algorithm and qop
		return `Digest username="` + user + `",realm="` + authRealm + `",nonce="` + nonce + `",uri="` + uri +
			`",response="` + resp + `",algorithm="` + alg + `",qop="auth",cnonce="0a4f113b",nc=00000001`
	case "qop":
		return `Digest username="` + user + `", realm="` + authRealm + `", nonce="` + nonce + `", uri="` + uri +
			`", response="` + resp + `", algorithm=` + alg + `, qop=auth, nc=00000001, cnonce="0a4f113b"`
	}
	// live555 and GStreamer: RFC 2069, no algorithm, no qop.
	v := `Digest username="` + user + `", realm="` + authRealm + `", nonce="` + nonce + `", uri="` + uri + `", response="` + resp + `"`
	if alg != "" {
		v += ", algorithm=" + alg
	}
	return v
}

func TestServerAuthChallenge(t *testing.T) {
	t.Parallel()
	now := authT0
	s := newTestServerAuth(t, &now)
	nonce := nonceOf(t, s, authPeer)
	if len(nonce) != 48 || strings.Trim(nonce, "0123456789abcdef") != "" {
		t.Fatalf("nonce %q: want 48 lower-case hex digits", nonce)
	}
	head := `Digest realm="NVR", nonce="` + nonce + `"`
	for _, tc := range []struct {
		name       string
		tls, stale bool
		want       []string
	}{
		{"plain", false, false, []string{head + `, algorithm=SHA-256, qop="auth"`, head + `, algorithm=MD5, qop="auth"`}},
		{"stale", false, true, []string{head + `, stale=TRUE, algorithm=SHA-256, qop="auth"`, head + `, stale=TRUE, algorithm=MD5, qop="auth"`}},
		{"tls offers basic last", true, false, []string{head + `, algorithm=SHA-256, qop="auth"`, head + `, algorithm=MD5, qop="auth"`, `Basic realm="NVR"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Challenge(authPeer, tc.tls, tc.stale)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			cs, err := auth.ParseWWWAuthenticate(got)
			if err != nil {
				t.Fatal(err)
			}
			// camvault's own pull client picks SHA-256; ffmpeg and live555
			// answer the last Digest challenge, MD5 (RTSP-AUTH-02).
			if c, ok := auth.PickChallenge(cs); !ok || c.Algorithm != auth.AlgorithmSHA256 || c.Stale != tc.stale {
				t.Fatalf("picked %+v", c)
			}
		})
	}
	if other := nonceOf(t, s, authOther); other[:16] != nonce[:16] || other == nonce {
		t.Errorf("nonce for another peer %q: want the same time and another MAC than %q", other, nonce)
	}
}

func TestNewServerAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  auth.ServerConfig
		ok   bool
	}{
		{"defaults", auth.ServerConfig{}, true},
		{"quote in realm", auth.ServerConfig{Realm: `a"b`}, false},
		{"control in realm", auth.ServerConfig{Realm: "a\r\nb"}, false},
		{"long realm", auth.ServerConfig{Realm: strings.Repeat("r", 129)}, false},
		{"short secret", auth.ServerConfig{Secret: []byte("short")}, false},
		{"short lifetime", auth.ServerConfig{NonceLifetime: time.Millisecond}, false},
	} {
		s, err := auth.NewServer(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err == nil && s.Realm() != auth.DefaultRealm {
			t.Errorf("%s: realm %q", tc.name, s.Realm())
		}
	}
}

// authCase is one Check: the Authorization value is built from the nonce
// the server issued to authPeer at authT0.
type authCase struct {
	name   string
	method base.Method
	url    string
	value  func(t testing.TB, nonce string) []string // nil: no header
	peer   netip.Addr                                // zero: authPeer
	tls    bool
	after  time.Duration // the check happens this long after the challenge
	user   string
	err    error
}

func one(form, alg, user, password, uri string) func(testing.TB, string) []string {
	return func(t testing.TB, nonce string) []string {
		return []string{digestValue(t, form, alg, user, password, nonce, base.MethodDescribe, uri)}
	}
}

func fixed(v ...string) func(testing.TB, string) []string {
	return func(testing.TB, string) []string { return v }
}

func basic(userpass string) func(testing.TB, string) []string {
	return fixed("Basic " + base64.StdEncoding.EncodeToString([]byte(userpass)))
}

var authCases = []authCase{
	{name: "ffmpeg md5 qop=auth", value: one("ffmpeg", "MD5", "viewer", "secret", authURL), user: "viewer"},
	{name: "sha-256 qop=auth", value: one("qop", "SHA-256", "viewer", "secret", authURL), user: "viewer"},
	{name: "live555/gstreamer rfc2069 md5", value: one("2069", "", "viewer", "secret", authURL), user: "viewer"},
	{name: "rfc2069 sha-256", value: one("2069", "SHA-256", "viewer", "secret", authURL), user: "viewer"},
	{name: "live555 base uri for a track SETUP", method: base.MethodDescribe, url: authURL + "/trackID=1",
		value: one("2069", "", "viewer", "secret", authURL), user: "viewer"},
	{name: "path-only uri", value: one("2069", "MD5", "viewer", "secret", "/archive/cam1"), user: "viewer"},
	{name: "other host name", value: one("qop", "MD5", "viewer", "secret", "rtsp://10.0.0.5/archive/cam1"), user: "viewer"},
	{name: "case-insensitive algorithm", value: one("2069", "md5", "viewer", "secret", authURL), user: "viewer"},
	{name: "no header", value: nil, err: auth.ErrNoCredentials},
	{name: "wrong password", value: one("ffmpeg", "MD5", "viewer", "Secret", authURL), err: auth.ErrBadCredentials},
	{name: "unknown user", value: one("ffmpeg", "MD5", "nobody", "secret", authURL), err: auth.ErrBadCredentials},
	{name: "no sha-256 HA1", value: one("qop", "SHA-256", "md5only", "x", authURL), err: auth.ErrBadCredentials},
	{name: "md5-only user with md5", value: one("qop", "MD5", "md5only", "x", authURL), user: "md5only"},
	{name: "uri of another camera", value: one("ffmpeg", "MD5", "viewer", "secret", "rtsp://nvr.example:8554/archive/cam2"), err: auth.ErrBadCredentials},
	{name: "uri of a sibling prefix", value: one("ffmpeg", "MD5", "viewer", "secret", "rtsp://nvr.example:8554/archive/cam"), err: auth.ErrBadCredentials},
	{name: "md5-sess not offered", value: one("qop", "MD5-sess", "viewer", "secret", authURL), err: auth.ErrBadCredentials},
	{name: "other realm", value: fixed(`Digest username="viewer", realm="cam", nonce="n", uri="` + authURL + `", response="4c3e5d9916819dc8ff6b4548c03ac4c4"`), err: auth.ErrBadCredentials},
	{name: "qop auth without nc", value: fixed(`Digest username="viewer", realm="NVR", nonce="n", uri="` + authURL + `", response="00", qop=auth, cnonce="c"`), err: auth.ErrBadCredentials},
	{name: "qop auth-int", value: fixed(`Digest username="viewer", realm="NVR", nonce="n", uri="` + authURL + `", response="00", qop=auth-int, nc=00000001, cnonce="c"`), err: auth.ErrBadCredentials},
	{name: "expired nonce, right response", after: time.Hour, value: one("ffmpeg", "MD5", "viewer", "secret", authURL), user: "viewer", err: auth.ErrStaleNonce},
	{name: "nonce of another peer", peer: authOther, value: one("ffmpeg", "MD5", "viewer", "secret", authURL), user: "viewer", err: auth.ErrStaleNonce},
	{name: "nonce of another server, right response", value: func(t testing.TB, _ string) []string {
		return one("2069", "", "viewer", "secret", authURL)(t, "5f2b8c0e9d1a4b7c")
	}, user: "viewer", err: auth.ErrStaleNonce},
	{name: "expired nonce, wrong response", after: time.Hour, value: one("ffmpeg", "MD5", "viewer", "nope", authURL), err: auth.ErrBadCredentials},
	{name: "nonce from the future", after: -time.Minute, value: one("2069", "", "viewer", "secret", authURL), user: "viewer", err: auth.ErrStaleNonce},
	{name: "basic over tls", tls: true, value: basic("viewer:secret"), user: "viewer"},
	{name: "basic over plain rtsp", value: basic("viewer:secret"), err: auth.ErrBadCredentials},
	{name: "basic wrong password", tls: true, value: basic("viewer:x"), err: auth.ErrBadCredentials},
	{name: "two headers", value: func(t testing.TB, n string) []string {
		return append(one("ffmpeg", "MD5", "viewer", "secret", authURL)(t, n), one("ffmpeg", "MD5", "viewer", "secret", authURL)(t, n)...)
	}, err: auth.ErrAuthHeader},
	{name: "malformed", value: fixed(`Digest username="viewer`), err: auth.ErrAuthHeader},
	{name: "unknown scheme", value: fixed(`Bearer abc`), err: auth.ErrAuthHeader},
	{name: "oversized", value: fixed(`Digest username="` + strings.Repeat("a", auth.MaxAuthorizationBytes) + `"`), err: auth.ErrAuthHeader},
}

func TestServerAuthCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range authCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := authT0
			s := newTestServerAuth(t, &now)
			nonce := nonceOf(t, s, authPeer)
			req := &base.Request{Method: base.MethodDescribe, URL: authURL, Header: base.Header{}}
			if tc.url != "" {
				req.URL = tc.url
			}
			if tc.value != nil {
				for _, v := range tc.value(t, nonce) {
					req.Header.Add("Authorization", v)
				}
			}
			peer := authPeer
			if tc.peer.IsValid() {
				peer = tc.peer
			}
			now = now.Add(tc.after)
			user, err := s.Check(t.Context(), req, peer, tc.tls, authCreds)
			if user != tc.user || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Check = %q, %v; want %q, %v", user, err, tc.user, tc.err)
			}
		})
	}
}

// TestServerAuthOwnClient answers the server's challenge with camvault's
// own pull client (Challenge.Authorize), as a pull of camvault by
// camvault does, for every request of a session.
func TestServerAuthOwnClient(t *testing.T) {
	t.Parallel()
	now := authT0
	s := newTestServerAuth(t, &now)
	cs, err := auth.ParseWWWAuthenticate(s.Challenge(authPeer, false, false))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := auth.PickChallenge(cs)
	for i, step := range []struct {
		method base.Method
		url    string
	}{
		{base.MethodDescribe, authURL}, {base.MethodSetup, authURL + "/trackID=0"}, {base.MethodPlay, authURL + "/"},
	} {
		v, err := c.Authorize(step.method, step.url, "viewer", "secret", uint32(i+1), "c0ffee")
		if err != nil {
			t.Fatal(err)
		}
		req := &base.Request{Method: step.method, URL: step.url, Header: base.Header{}}
		req.Header.Set("Authorization", v)
		if user, err := s.Check(t.Context(), req, authPeer, false, authCreds); err != nil || user != "viewer" {
			t.Fatalf("%s: %q, %v", step.method, user, err)
		}
		// The same header on another method is refused: HA2 covers it.
		req.Method = base.MethodRecord
		if _, err := s.Check(t.Context(), req, authPeer, false, authCreds); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("%s header replayed as RECORD: %v", step.method, err)
		}
	}
}

func TestDigestURIMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri, req string
		want     bool
	}{
		{authURL, authURL, true},
		{"*", "*", true},
		{"/archive/cam1", authURL, true},
		{authURL + "/", authURL, true},
		{authURL, authURL + "/", true},
		{authURL, authURL + "/trackID=1", true},
		{authURL, authURL + "?start=2026-12-07T10:00:00Z", true},
		{"rtsps://other:322/archive/cam1", authURL, true},
		{"rtsp://nvr.example:8554/archive/cam", authURL, false},
		{"rtsp://nvr.example:8554/archive/cam1x", authURL, false},
		{authURL + "/trackID=1", authURL, false},
		{"rtsp://nvr.example:8554/", authURL, false},
		{"rtsp://nvr.example:8554", "rtsp://nvr.example:8554/", true},
		{"http://nvr.example:8554/archive/cam1", authURL, false},
		{"archive/cam1", authURL, false},
		{"", authURL, false},
		{"rtsp://h?x", "rtsp://h/?x", true},
	} {
		if got := auth.DigestURIMatches(tc.uri, tc.req); got != tc.want {
			t.Errorf("DigestURIMatches(%q, %q) = %v, want %v", tc.uri, tc.req, got, tc.want)
		}
	}
}

// FuzzServerAuthCheck feeds any Authorization value to Server.Check:
// no panic, allocations within rtsptest.ParseAlloc, and success only for viewer or
// md5only. Seeds are the authCases values.
func FuzzServerAuthCheck(f *testing.F) {
	now := authT0
	s := newTestServerAuth(f, &now)
	nonce := nonceOf(f, s, authPeer)
	for _, tc := range authCases {
		if tc.value != nil {
			f.Add(tc.value(f, nonce)[0], tc.tls)
		}
	}
	f.Fuzz(func(t *testing.T, v string, tls bool) {
		req := &base.Request{Method: base.MethodDescribe, URL: authURL, Header: base.Header{}}
		req.Header.Set("Authorization", v)
		var user string
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(v), func() { user, err = s.Check(context.Background(), req, authPeer, tls, authCreds) })
		if err == nil && user != "viewer" && user != "md5only" {
			t.Fatalf("accepted user %q", user)
		}
	})
}

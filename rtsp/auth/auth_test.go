package auth_test

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// TestDigestResponseVectors checks the RTSP-AUTH-07 test vectors.
func TestDigestResponseVectors(t *testing.T) {
	const uri = "rtsp://nvr.example:554/archive/cam1"
	tests := []struct {
		name, algorithm, nc, cnonce, qop, want string
	}{
		{"md5 no qop", "", "", "", "", "4c3e5d9916819dc8ff6b4548c03ac4c4"},
		{"md5 explicit", "MD5", "", "", "", "4c3e5d9916819dc8ff6b4548c03ac4c4"},
		{"md5 qop auth", "MD5", "00000001", "0a4f113b", "auth", "b1c4a2fd774b21ba6dad5b2d8179339d"},
		{"sha-256 no qop", "SHA-256", "", "", "", "b3af7b9a6a99a8425b84a25924fd65baecea8a11cfe61332fb1505abfb81a112"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.DigestResponse(tt.algorithm, "viewer", "NVR", "secret", "5f2b8c0e9d1a4b7c",
				tt.nc, tt.cnonce, tt.qop, base.MethodDescribe, uri)
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	// MD5-sess hashes HA1 again, so recomputing it from the vector's HA1
	// and HA2 checks both intermediate values.
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	const ha1, ha2 = "b26bb47cd7f8967457f80201cfbb8c32", "7831cc01295977fcbd51ca147fde8da3"
	want := h(h(ha1+":5f2b8c0e9d1a4b7c:0a4f113b") + ":5f2b8c0e9d1a4b7c:" + ha2)
	got, err := auth.DigestResponse("MD5-sess", "viewer", "NVR", "secret", "5f2b8c0e9d1a4b7c", "", "0a4f113b", "", base.MethodDescribe, uri)
	if err != nil || got != want {
		t.Fatalf("md5-sess: got %q, %v; want %q", got, err, want)
	}
	if _, err := auth.DigestResponse("SHA-512", "u", "r", "p", "n", "", "", "", base.MethodDescribe, uri); err == nil {
		t.Fatal("unsupported algorithm accepted")
	}
}

func TestParseWWWAuthenticate(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   auth.Challenge
		n      int
	}{
		{
			name:   "live555 form",
			values: []string{`Digest realm="NVR", nonce="5f2b8c0e9d1a4b7c"`},
			want:   auth.Challenge{Scheme: "Digest", Realm: "NVR", Nonce: "5f2b8c0e9d1a4b7c"}, n: 1,
		},
		{
			name:   "basic then digest in one value",
			values: []string{`Basic realm="cam", Digest realm="cam", nonce=abc, stale=TRUE, algorithm=MD5`},
			want:   auth.Challenge{Scheme: "Digest", Realm: "cam", Nonce: "abc", Stale: true, Algorithm: "MD5"}, n: 2,
		},
		{
			name:   "digest preferred over later basic",
			values: []string{`Digest realm="cam", nonce="n1"`, `Basic realm="cam"`},
			want:   auth.Challenge{Scheme: "Digest", Realm: "cam", Nonce: "n1"}, n: 2,
		},
		{
			name:   "sha-256 preferred, case-insensitive params",
			values: []string{`digest REALM="r", NONCE="n2", Algorithm=SHA-256, QOP="auth,auth-int"`, `Digest realm="r", nonce="n1"`},
			want:   auth.Challenge{Scheme: "Digest", Realm: "r", Nonce: "n2", Algorithm: "SHA-256", QOP: []string{"auth", "auth-int"}}, n: 2,
		},
		{
			name:   "last of equal digests wins",
			values: []string{`Digest realm="r", nonce="a"`, `Digest realm="r", nonce="b", opaque="o\"x"`},
			want:   auth.Challenge{Scheme: "Digest", Realm: "r", Nonce: "b", Opaque: `o"x`}, n: 2,
		},
		{
			name:   "unsupported algorithm skipped",
			values: []string{`Digest realm="r", nonce="a", algorithm=SHA-512-256`, `Basic realm="r"`},
			want:   auth.Challenge{Scheme: "Basic", Realm: "r"}, n: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := auth.ParseWWWAuthenticate(tt.values)
			if err != nil || len(cs) != tt.n {
				t.Fatalf("got %+v, %v", cs, err)
			}
			got, ok := auth.PickChallenge(cs)
			if !ok || got.Scheme != tt.want.Scheme || got.Realm != tt.want.Realm || got.Nonce != tt.want.Nonce ||
				got.Algorithm != tt.want.Algorithm || got.Stale != tt.want.Stale || got.Opaque != tt.want.Opaque ||
				strings.Join(got.QOP, ",") != strings.Join(tt.want.QOP, ",") {
				t.Fatalf("picked %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", `=x`, `Digest realm="unterminated`, `Di(gest realm=x`} {
		if _, err := auth.ParseWWWAuthenticate([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, ok := auth.PickChallenge([]auth.Challenge{{Scheme: "Negotiate"}}); ok {
		t.Error("unsupported scheme picked")
	}
}

func TestAuthorizeAndVerify(t *testing.T) {
	const uri = "rtsp://nvr.example:554/archive/cam1"
	tests := []struct {
		name string
		ch   auth.Challenge
		want string
	}{
		{"md5", auth.Challenge{Scheme: "Digest", Realm: "NVR", Nonce: "5f2b8c0e9d1a4b7c"},
			`Digest username="viewer", realm="NVR", nonce="5f2b8c0e9d1a4b7c", uri="` + uri + `", response="4c3e5d9916819dc8ff6b4548c03ac4c4"`},
		{"md5 qop", auth.Challenge{Scheme: "Digest", Realm: "NVR", Nonce: "5f2b8c0e9d1a4b7c", Algorithm: "MD5", QOP: []string{"auth"}, Opaque: "op"},
			`Digest username="viewer", realm="NVR", nonce="5f2b8c0e9d1a4b7c", uri="` + uri + `", response="b1c4a2fd774b21ba6dad5b2d8179339d", algorithm=MD5, opaque="op", qop=auth, nc=00000001, cnonce="0a4f113b"`},
		{"sha-256", auth.Challenge{Scheme: "Digest", Realm: "NVR", Nonce: "5f2b8c0e9d1a4b7c", Algorithm: "SHA-256"},
			`Digest username="viewer", realm="NVR", nonce="5f2b8c0e9d1a4b7c", uri="` + uri + `", response="b3af7b9a6a99a8425b84a25924fd65baecea8a11cfe61332fb1505abfb81a112", algorithm=SHA-256`},
		{"md5-sess", auth.Challenge{Scheme: "Digest", Realm: "NVR", Nonce: "5f2b8c0e9d1a4b7c", Algorithm: "MD5-sess", QOP: []string{"auth"}}, ""},
		{"basic", auth.Challenge{Scheme: "Basic", Realm: "NVR"}, "Basic dmlld2VyOnNlY3JldA=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ch.Authorize(base.MethodDescribe, uri, "viewer", "secret", 1, "0a4f113b")
			if err != nil || (tt.want != "" && got != tt.want) {
				t.Fatalf("got %q, %v\nwant %q", got, err, tt.want)
			}
			a, err := auth.ParseAuthorization(got)
			if err != nil {
				t.Fatal(err)
			}
			if tt.ch.Scheme == "Basic" {
				if a.Username != "viewer" || a.Password != "secret" {
					t.Fatalf("basic parsed %+v", a)
				}
				return
			}
			if !auth.VerifyDigest(&a, base.MethodDescribe, "secret") {
				t.Fatal("verify failed")
			}
			if auth.VerifyDigest(&a, base.MethodDescribe, "wrong") || auth.VerifyDigest(&a, base.MethodSetup, "secret") {
				t.Fatal("verify accepted a wrong password or method")
			}
		})
	}
}

// TestParseAuthorizationFFmpeg parses ffmpeg's blank-less form with a
// quoted qop (RTSP-AUTH-04).
func TestParseAuthorizationFFmpeg(t *testing.T) {
	v := `Digest username="viewer",realm="NVR",nonce="5f2b8c0e9d1a4b7c",uri="rtsp://nvr.example:554/archive/cam1",` +
		`response="B1C4A2FD774B21BA6DAD5B2D8179339D",algorithm="MD5",qop="auth",cnonce="0a4f113b",nc=00000001`
	a, err := auth.ParseAuthorization(v)
	if err != nil {
		t.Fatal(err)
	}
	if !auth.VerifyDigest(&a, base.MethodDescribe, "secret") {
		t.Fatalf("verify failed: %+v", a)
	}
	for _, bad := range []string{"Bearer x", "Basic !!!", "Basic eHl6", `Digest username="a`} {
		if _, err := auth.ParseAuthorization(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzWWWAuthenticate checks that challenge parsing never panics, stays
// within rtsptest.ParseAlloc, and that a picked challenge can always be answered.
func FuzzWWWAuthenticate(f *testing.F) {
	for _, s := range []string{
		`Digest realm="NVR", nonce="5f2b8c0e9d1a4b7c", stale=TRUE, algorithm=MD5`,
		`Basic realm="cam", Digest realm="cam", nonce=abc, qop="auth,auth-int", algorithm=SHA-256`,
		`Digest realm="a\"b", nonce="n", opaque="x,y"`,
		`Negotiate`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		alloctest.Check(t, rtsptest.ParseAlloc, len(v), func() {
			cs, err := auth.ParseWWWAuthenticate([]string{v})
			if err != nil {
				return
			}
			if c, ok := auth.PickChallenge(cs); ok {
				if _, err := c.Authorize(base.MethodDescribe, "rtsp://h/x", "u", "p", 1, "c"); err != nil {
					t.Fatalf("picked challenge %+v not answerable: %v", c, err)
				}
			}
			_, _ = auth.ParseAuthorization(v)
		})
	})
}

package main

import (
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	rtspauth "github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"

	"github.com/camvault/camvault/auth"
)

const testHA1 = "b26bb47cd7f8967457f80201cfbb8c32" // MD5 of viewer:NVR:secret

func TestLoadAuthConfig(t *testing.T) {
	t.Parallel()
	full := `
auth:
  realm: NVR
  nonce_lifetime: 10m
  failure_threshold: 3
users:
  - name: viewer
    digest_md5: ` + testHA1 + `
    networks: [192.0.2.0/24, "2001:db8::/32"]
    permissions:
      - {action: read, cameras: ["lobby-*", door]}
      - action: metrics
  - name: cam7
    digest_md5: ` + testHA1 + `
anonymous:
  networks: ["::1"]
  permissions:
    - {action: playback, cameras: ["*"]}
`
	wantFull := defaultConfig()
	wantFull.Auth.Realm, wantFull.Auth.NonceLifetime, wantFull.Auth.Threshold = "NVR", 10*time.Minute, 3
	wantFull.Users = []auth.UserConfig{
		{Name: "viewer", DigestMD5: testHA1, Networks: []string{"192.0.2.0/24", "2001:db8::/32"},
			Permissions: []auth.Permission{{Action: "read", Cameras: []string{"lobby-*", "door"}}, {Action: "metrics"}}},
		{Name: "cam7", DigestMD5: testHA1},
	}
	wantFull.Anonymous = &auth.AnonymousConfig{Networks: []string{"::1"}, Permissions: []auth.Permission{{Action: "playback", Cameras: []string{"*"}}}}

	for _, tc := range []struct {
		name string
		body string
		want *fileConfig
		errs []string
	}{
		{name: "full", body: full, want: wantFull},
		{name: "empty users", body: "users:\nanonymous:\n", want: defaultConfig()},
		{
			name: "unknown key in a user names its line",
			body: "users:\n  - name: viewer\n    password: hunter2\n",
			errs: []string{`camvault.yaml:3:5: unknown field "password"`},
		},
		{
			name: "user error names its line",
			body: "users:\n  - name: viewer\n    digest_md5: " + testHA1 + "\n  - name: \"a:b\"\n    digest_md5: " + testHA1 + "\n",
			errs: []string{`camvault.yaml:4:11: users.1.name: invalid user name "a:b"`},
		},
		{
			name: "permission error names its line",
			body: "users:\n  - name: viewer\n    digest_md5: " + testHA1 + "\n    permissions:\n      - {action: write}\n      - {action: read, cameras: [\"[\"]}\n",
			errs: []string{
				`camvault.yaml:5:18: users.0.permissions.0.action: unknown action "write"`,
				`camvault.yaml:6:34: users.0.permissions.1.cameras.0: invalid camera glob "["`,
			},
		},
		{
			name: "anonymous network names its line",
			body: "anonymous:\n  networks: [192.0.2.1/24]\n",
			errs: []string{"camvault.yaml:2:14: anonymous.networks.0: invalid network \"192.0.2.1/24\": host bits set"},
		},
		{
			name: "limiter bound names its line",
			body: "auth:\n  failure_delay_min: 10s\n  failure_delay_max: 5s\n",
			errs: []string{"camvault.yaml:3:22: auth.failure_delay_max: must be between failure_delay_min and 24h, got 5s"},
		},
		{
			name: "realm with a quote",
			body: "auth:\n  realm: 'a\"b'\n",
			errs: []string{`camvault.yaml:2:10: auth.realm: realm "a\"b"`},
		},
		{
			name: "plain password instead of a hash",
			body: "users:\n  - name: viewer\n    password_argon2id: hunter2\n",
			errs: []string{"camvault.yaml:3:24: users.0.password_argon2id: invalid argon2id PHC string"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkLoadConfig(t, tc.body, tc.want, tc.errs)
		})
	}
}

// TestRTSPAuthAdapter runs the rtsp server-side check against the users
// of a config through the rtspAuth adapter, answered by camvault's own
// client, and checks the rights of the authenticated user.
func TestRTSPAuthAdapter(t *testing.T) {
	t.Parallel()
	if rtspauth.AlgorithmMD5 != auth.DigestMD5 || rtspauth.AlgorithmSHA256 != auth.DigestSHA256 {
		t.Fatal("rtsp and auth spell the Digest algorithms differently; the adapter passes them through")
	}
	entry, err := userEntry("viewer", "NVR", "secret")
	if err != nil {
		t.Fatal(err)
	}
	body := "auth: {realm: NVR}\nusers:\n" + strings.Replace(entry, "permissions: []", "permissions: [{action: playback, cameras: [cam1]}]", 1)
	cfg, err := loadConfig(writeConfig(t, body))
	if err != nil {
		t.Fatal(err)
	}
	access, err := newRTSPAuth(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	peer := netip.MustParseAddr("192.0.2.9")
	const url = "rtsp://nvr.example:8554/archive/cam1"
	cs, err := rtspauth.ParseWWWAuthenticate(access.server.Challenge(peer, true, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		for _, password := range []string{"secret", "wrong"} {
			v, err := c.Authorize(base.MethodDescribe, url, "viewer", password, 1, "c0ffee")
			if err != nil {
				t.Fatal(err)
			}
			req := &base.Request{Method: base.MethodDescribe, URL: url, Header: base.Header{}}
			req.Header.Set("Authorization", v)
			name, err := access.server.Check(t.Context(), req, peer, true, access)
			if password == "wrong" {
				if !errors.Is(err, rtspauth.ErrBadCredentials) {
					t.Errorf("%s %s: wrong password gave %q, %v", c.Scheme, c.Algorithm, name, err)
				}
				continue
			}
			if err != nil || name != "viewer" {
				t.Fatalf("%s %s: %q, %v", c.Scheme, c.Algorithm, name, err)
			}
			u, _ := access.authority.User(name)
			if !access.authority.Allowed(u, peer, auth.ActionPlayback, "cam1") || access.authority.Allowed(u, peer, auth.ActionPlayback, "cam2") {
				t.Errorf("rights of %s are wrong", name)
			}
		}
	}
	if !access.authority.HasUsers() || access.authority.Allowed(nil, netip.MustParseAddr("127.0.0.1"), auth.ActionRead, "cam1") {
		t.Error("with users configured, loopback is not anonymous")
	}
}

func TestLoadAuthConfigHashes(t *testing.T) {
	t.Parallel()
	checkLoadConfig(t, "auth:\n  max_concurrent_hashes: -1\n", nil,
		[]string{"camvault.yaml:2:26: auth.max_concurrent_hashes: must be between 1 and 1024, got -1"})
}

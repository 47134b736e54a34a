package auth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/settings"
)

// testPHC returns the PHC string of password under testParams.
func testPHC(t testing.TB, password string) string {
	t.Helper()
	h, err := auth.HashPassword(password, testParams, zeroRand())
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

const ha1MD5 = "b26bb47cd7f8967457f80201cfbb8c32" // viewer:NVR:secret

func testConfig(t testing.TB) auth.Config {
	return auth.Config{Users: []auth.UserConfig{
		{
			Name: "viewer", PasswordArgon2id: testPHC(t, "secret"), DigestMD5: ha1MD5,
			Permissions: []auth.Permission{
				{Action: "read", Cameras: []string{"lobby-*", "door"}},
				{Action: "playback", Cameras: []string{"*"}},
			},
		},
		{
			Name: "cam7", DigestSHA256: strings.Repeat("ab", 32), Networks: []string{"192.0.2.0/24", "2001:db8::/32"},
			Permissions: []auth.Permission{{Action: "publish", Cameras: []string{"cam7"}}},
		},
		{Name: "ops", PasswordArgon2id: testPHC(t, "pw"), Permissions: []auth.Permission{{Action: "api"}, {Action: "metrics", Cameras: []string{"*"}}}},
	}}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	withAnon := testConfig(t)
	withAnon.Anonymous = &auth.AnonymousConfig{
		Networks:    []string{"10.0.0.0/8"},
		Permissions: []auth.Permission{{Action: "metrics"}, {Action: "read", Cameras: []string{"public-?"}}},
	}
	configs := map[string]auth.Config{
		"users":      testConfig(t),
		"users+anon": withAnon,
		"no users":   {},
		"anon only":  {Anonymous: &auth.AnonymousConfig{Permissions: []auth.Permission{{Action: "playback", Cameras: []string{"*"}}}}},
	}
	lo, lo6, lan, far := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"), netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("198.51.100.7")
	camNet, camNet6, mapped := netip.MustParseAddr("192.0.2.40"), netip.MustParseAddr("2001:db8:1::5"), netip.MustParseAddr("::ffff:192.0.2.41")
	for _, tc := range []struct {
		name, config, user string // user "" is anonymous
		peer               netip.Addr
		action             auth.Action
		camera             string
		want               bool
	}{
		{"glob family", "users", "viewer", far, auth.ActionRead, "lobby-2", true},
		{"exact name", "users", "viewer", far, auth.ActionRead, "door", true},
		{"glob does not cover", "users", "viewer", far, auth.ActionRead, "lobby", false},
		{"other action", "users", "viewer", far, auth.ActionPublish, "door", false},
		{"star covers all", "users", "viewer", far, auth.ActionPlayback, "anything", true},
		{"network allows", "users", "cam7", camNet, auth.ActionPublish, "cam7", true},
		{"ipv6 network", "users", "cam7", camNet6, auth.ActionPublish, "cam7", true},
		{"ipv4-mapped peer", "users", "cam7", mapped, auth.ActionPublish, "cam7", true},
		{"outside network", "users", "cam7", far, auth.ActionPublish, "cam7", false},
		{"loopback is no exception for users", "users", "cam7", lo, auth.ActionPublish, "cam7", false},
		{"api needs no camera", "users", "ops", far, auth.ActionAPI, "", true},
		{"metrics", "users", "ops", far, auth.ActionMetrics, "", true},
		{"users config: no anonymous even on loopback", "users", "", lo, auth.ActionRead, "door", false},
		{"no users: anonymous loopback publishes", "no users", "", lo, auth.ActionPublish, "cam1", true},
		{"no users: anonymous ::1 replays", "no users", "", lo6, auth.ActionPlayback, "cam1", true},
		{"no users: anonymous remote refused", "no users", "", lan, auth.ActionRead, "cam1", false},
		{"explicit anonymous in its network", "users+anon", "", lan, auth.ActionRead, "public-1", true},
		{"explicit anonymous outside its network", "users+anon", "", far, auth.ActionRead, "public-1", false},
		{"explicit anonymous glob", "users+anon", "", lan, auth.ActionRead, "public-12", false},
		{"explicit anonymous replaces loopback rule", "users+anon", "", lo, auth.ActionMetrics, "", false},
		{"user has anonymous rights too", "users+anon", "cam7", lan, auth.ActionMetrics, "", true},
		{"anonymous without networks is anywhere", "anon only", "", far, auth.ActionPlayback, "x", true},
		{"anon only: no publish", "anon only", "", lo, auth.ActionPublish, "x", false},
		{"invalid action", "no users", "", lo, auth.Action(0), "x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := auth.New(configs[tc.config])
			if err != nil {
				t.Fatal(err)
			}
			var u *auth.User
			if tc.user != "" {
				var ok bool
				if u, ok = a.User(tc.user); !ok || u.Name() != tc.user {
					t.Fatalf("User(%q) = %v, %v", tc.user, u, ok)
				}
			}
			if got := a.Allowed(u, tc.peer, tc.action, tc.camera); got != tc.want {
				t.Errorf("Allowed(%s, %s, %s, %q) = %v, want %v", tc.user, tc.peer, tc.action, tc.camera, got, tc.want)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	a, err := auth.New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasUsers() {
		t.Error("HasUsers() = false")
	}
	ctx := t.Context()
	if u, err := a.CheckPassword(ctx, "viewer", "secret"); err != nil || u.Name() != "viewer" {
		t.Errorf("right password: %v, %v", u, err)
	}
	for _, tc := range []struct{ name, user, pw string }{
		{"wrong password", "viewer", "Secret"},
		{"unknown user", "nobody", "secret"},
		{"user without argon2id", "cam7", ""},
		{"empty", "", ""},
	} {
		if u, err := a.CheckPassword(ctx, tc.user, tc.pw); !errors.Is(err, auth.ErrBadCredentials) || u != nil {
			t.Errorf("%s: %v, %v; want ErrBadCredentials", tc.name, u, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	one, err := auth.New(auth.Config{Users: testConfig(t).Users, MaxConcurrentHashes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.CheckPassword(cancelled, "viewer", "secret"); err == nil {
		// A free slot may win the select; both outcomes are correct then.
		t.Log("cancelled context still got a slot")
	}
}

func TestDigestHA1Lookup(t *testing.T) {
	t.Parallel()
	a, err := auth.New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := a.User("viewer")
	if got, ok := v.DigestHA1(auth.DigestMD5); !ok || got != ha1MD5 {
		t.Errorf("viewer MD5 = %q, %v", got, ok)
	}
	if _, ok := v.DigestHA1(auth.DigestSHA256); ok {
		t.Error("viewer has no SHA-256 HA1")
	}
	if _, ok := v.DigestHA1("md5"); ok {
		t.Error("algorithm names are exact")
	}
	c, _ := a.User("cam7")
	if got, ok := c.DigestHA1(auth.DigestSHA256); !ok || len(got) != 64 {
		t.Errorf("cam7 SHA-256 = %q, %v", got, ok)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	user := func(mod func(*auth.UserConfig)) auth.Config {
		u := auth.UserConfig{Name: "u", DigestMD5: ha1MD5, Permissions: []auth.Permission{{Action: "read", Cameras: []string{"*"}}}}
		mod(&u)
		return auth.Config{Users: []auth.UserConfig{u}}
	}
	for _, tc := range []struct {
		name string
		cfg  auth.Config
		path string // the *FieldError's path, "" when valid
		msg  string
	}{
		{"valid", user(func(*auth.UserConfig) {}), "", ""},
		{"empty is valid", auth.Config{}, "", ""},
		{"bad name", user(func(u *auth.UserConfig) { u.Name = "a:b" }), "users.0.name", "invalid user name"},
		{"no credentials", user(func(u *auth.UserConfig) { u.DigestMD5 = "" }), "users.0.name", "needs password_argon2id"},
		{"plain password", user(func(u *auth.UserConfig) { u.PasswordArgon2id = "hunter2" }), "users.0.password_argon2id", "invalid argon2id"},
		{"upper-case HA1", user(func(u *auth.UserConfig) { u.DigestMD5 = strings.ToUpper(ha1MD5) }), "users.0.digest_md5", "lower-case hex"},
		{"md5 HA1 as sha256", user(func(u *auth.UserConfig) { u.DigestSHA256 = ha1MD5 }), "users.0.digest_sha256", "64 lower-case hex"},
		{"host bits", user(func(u *auth.UserConfig) { u.Networks = []string{"192.0.2.1/24"} }), "users.0.networks.0", "did you mean 192.0.2.0/24"},
		{"not a network", user(func(u *auth.UserConfig) { u.Networks = []string{"lan"} }), "users.0.networks.0", "invalid network"},
		{"single address", user(func(u *auth.UserConfig) { u.Networks = []string{"192.0.2.1", "::1"} }), "", ""},
		{"unknown action", user(func(u *auth.UserConfig) { u.Permissions[0].Action = "write" }), "users.0.permissions.0.action", "unknown action"},
		{"camera action without cameras", user(func(u *auth.UserConfig) { u.Permissions[0].Cameras = nil }), "users.0.permissions.0.cameras", "read needs cameras"},
		{"bad glob", user(func(u *auth.UserConfig) { u.Permissions[0].Cameras = []string{"*", "lobby-["} }), "users.0.permissions.0.cameras.1", "invalid camera glob"},
		{"glob with slash", user(func(u *auth.UserConfig) { u.Permissions[0].Cameras = []string{"archive/*"} }), "users.0.permissions.0.cameras.0", "no '/'"},
		{"duplicate user", auth.Config{Users: append(user(func(*auth.UserConfig) {}).Users, user(func(*auth.UserConfig) {}).Users...)}, "users.1.name", "defined twice"},
		{"anonymous glob", auth.Config{Anonymous: &auth.AnonymousConfig{Permissions: []auth.Permission{{Action: "read", Cameras: []string{"["}}}}}, "anonymous.permissions.0.cameras.0", "invalid camera glob"},
		{"anonymous network", auth.Config{Anonymous: &auth.AnonymousConfig{Networks: []string{"x"}}}, "anonymous.networks.0", "invalid network"},
		{"negative hashes", auth.Config{MaxConcurrentHashes: -1}, "max_concurrent_hashes", "between"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := auth.New(tc.cfg); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			fe, ok := errors.AsType[*settings.FieldError](err)
			if !ok || strings.Join(fe.Path, ".") != tc.path || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Validate = %v, want a *FieldError at %s containing %q", err, tc.path, tc.msg)
			}
			if _, err := auth.New(tc.cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

// globCases drive TestParseGlob and seed FuzzConfig.
var globCases = []struct {
	glob string
	ok   bool
}{
	{"*", true}, {"cam1", true}, {"lobby-*", true}, {"cam?", true}, {"cam[0-9]", true}, {`cam\*`, true},
	{"", false}, {"[", false}, {"cam[", false}, {`cam\`, false}, {"a/b", false}, {strings.Repeat("x", 129), false},
}

func TestParseGlob(t *testing.T) {
	t.Parallel()
	for _, tc := range globCases {
		if err := auth.ParseGlob(tc.glob); (err == nil) != tc.ok || (err != nil && !errors.Is(err, auth.ErrGlob)) {
			t.Errorf("ParseGlob(%q) = %v, want ok=%v", tc.glob, err, tc.ok)
		}
	}
}

// FuzzConfig feeds the text fields of a Config (user name, network, action,
// glob, PHC string) to Validate and New: no panic, New agrees with
// Validate, and Allowed of a valid config does not panic, all within parseAlloc.
//
// Crashers in testdata/fuzz/FuzzConfig:
//   - 22e93cf88626f9c1: a 900-byte invalid network allocated 152 bytes per input byte in
//     Validate and New, over the first per-byte allowance of 64; the errors that quote it
//     are linear in it, so the bound, not the code, was changed.
func FuzzConfig(f *testing.F) {
	for i, g := range globCases {
		f.Add("viewer", "192.0.2.0/24", "read", g.glob, phcCases[i%len(phcCases)].in, "cam1")
	}
	f.Add("a:b", "::1", "api", "", "", "")
	f.Fuzz(func(t *testing.T, name, network, action, glob, phc, camera string) {
		cfg := auth.Config{
			Users: []auth.UserConfig{{Name: name, PasswordArgon2id: phc, DigestMD5: ha1MD5, Networks: []string{network},
				Permissions: []auth.Permission{{Action: action, Cameras: []string{glob}}}}},
			Anonymous: &auth.AnonymousConfig{Networks: []string{network}, Permissions: []auth.Permission{{Action: action, Cameras: []string{glob}}}},
		}
		var verr, err error
		var a *auth.Authority
		n := len(name) + len(network) + len(action) + len(glob) + len(phc) + len(camera)
		alloctest.Check(t, parseAlloc, n, func() {
			verr = cfg.Validate()
			a, err = auth.New(cfg)
		})
		if (verr == nil) != (err == nil) {
			t.Fatalf("Validate %v but New %v", verr, err)
		}
		if err != nil {
			return
		}
		u, _ := a.User(name)
		act, _ := auth.ParseAction(action)
		alloctest.Check(t, parseAlloc, n, func() { _ = a.Allowed(u, netip.MustParseAddr("192.0.2.1"), act, camera) })
	})
}

// TestUserConfigLogValue checks that logging a user never shows a hash.
func TestUserConfigLogValue(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	u := testConfig(t).Users[0]
	slog.New(slog.NewTextHandler(&buf, nil)).Info("user", "user", u)
	if s := buf.String(); !strings.Contains(s, "user.name=viewer") || strings.Contains(s, ha1MD5) || strings.Contains(s, "argon2id") {
		t.Errorf("logged %s", s)
	}
}

// TestAllowedEverywhere: only an api permission without cameras or with "*"
// covers every camera; a user scoped to some cameras (who may still use the
// API: Allowed with camera "") does not (review finding 10).
func TestAllowedEverywhere(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Users = append(cfg.Users,
		auth.UserConfig{Name: "scoped", Tokens: []string{"sha256:" + strings.Repeat("0", 64)},
			Permissions: []auth.Permission{{Action: "api", Cameras: []string{"lobby-*"}}}},
		auth.UserConfig{Name: "star", Tokens: []string{"sha256:" + strings.Repeat("1", 64)},
			Permissions: []auth.Permission{{Action: "api", Cameras: []string{"door", "*"}}}})
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	far := netip.MustParseAddr("198.51.100.7")
	for _, tc := range []struct {
		user   string
		action auth.Action
		want   bool
	}{
		{"ops", auth.ActionAPI, true},
		{"star", auth.ActionAPI, true},
		{"scoped", auth.ActionAPI, false},
		{"viewer", auth.ActionPlayback, true},
		{"viewer", auth.ActionRead, false},
		{"viewer", auth.ActionAPI, false},
	} {
		u, _ := a.User(tc.user)
		if got := a.AllowedEverywhere(u, far, tc.action); got != tc.want {
			t.Errorf("AllowedEverywhere(%s, %s) = %v, want %v", tc.user, tc.action, got, tc.want)
		}
	}
	u, _ := a.User("scoped")
	if !a.Allowed(u, far, auth.ActionAPI, "") {
		t.Error("a scoped api user may no longer use the API")
	}
	if a.AllowedEverywhere(nil, far, auth.ActionAPI) {
		t.Error("anonymous far peer allowed everywhere")
	}
}

package main

import (
	"bytes"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/camvault/camvault/auth"
)

func TestRunPasswd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		err   string
	}{
		{name: "stdin line", args: []string{"-user", "viewer", "-realm", "NVR"}, stdin: "secret\n"},
		{name: "crlf, no trailing newline", args: []string{"-user", "viewer", "-realm", "NVR"}, stdin: "secret\r\n"},
		{name: "no newline", args: []string{"-user", "viewer", "-realm", "NVR"}, stdin: "secret"},
		{name: "default realm", args: []string{"-user", "viewer"}, stdin: "secret\n"},
		{name: "no user", args: nil, stdin: "secret\n", err: "-user is required"},
		{name: "bad user", args: []string{"-user", "a:b"}, stdin: "secret\n", err: "invalid user name"},
		{name: "empty password", args: []string{"-user", "viewer"}, stdin: "\n", err: "empty password"},
		{name: "long password", args: []string{"-user", "viewer"}, stdin: strings.Repeat("x", maxPasswordLen+1), err: "longer than"},
		{name: "extra argument", args: []string{"-user", "viewer", "x"}, stdin: "secret\n", err: "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := runPasswd(tc.args, strings.NewReader(tc.stdin), &out, io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "secret") {
				t.Fatalf("the password is in the output:\n%s", out.String())
			}
			checkPasswdEntry(t, out.String(), tc.args)
		})
	}
}

// checkPasswdEntry pastes the printed entry under users: in a config
// file, loads it, and checks that the password verifies and that the
// HA1 values are those of the realm.
func checkPasswdEntry(t *testing.T, entry string, args []string) {
	t.Helper()
	realm := defaultAuthConfig().Realm
	if i := len(args) - 1; i > 0 && args[i-1] == "-realm" {
		realm = args[i]
	}
	body := "auth:\n  realm: " + realm + "\nusers:\n" + entry
	cfg, err := loadConfig(writeConfig(t, body))
	if err != nil {
		t.Fatalf("printed entry does not load: %v\n%s", err, body)
	}
	a, err := auth.New(cfg.authConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CheckPassword(t.Context(), "viewer", "secret"); err != nil {
		t.Errorf("password does not verify: %v", err)
	}
	u, _ := a.User("viewer")
	want, _ := auth.DigestHA1(auth.DigestMD5, "viewer", realm, "secret")
	if got, ok := u.DigestHA1(auth.DigestMD5); !ok || got != want {
		t.Errorf("MD5 HA1 %q, want %q", got, want)
	}
	if realm == "NVR" && want != "b26bb47cd7f8967457f80201cfbb8c32" { // RTSP-AUTH-07
		t.Errorf("MD5 HA1 for realm NVR is %s", want)
	}
	if a.Allowed(u, netip.MustParseAddr("192.0.2.1"), auth.ActionRead, "cam1") {
		t.Error("a new user has rights before permissions are added")
	}
}

package auth_test

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/camvault/camvault/auth"
)

func TestCheckToken(t *testing.T) {
	t.Parallel()
	tokA, hashA, err := auth.NewToken(bytes.NewReader(bytes.Repeat([]byte{1}, auth.TokenBytes)))
	if err != nil {
		t.Fatal(err)
	}
	tokB, hashB, err := auth.NewToken(bytes.NewReader(bytes.Repeat([]byte{2}, auth.TokenBytes)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tokA, auth.TokenPrefix) || hashA != auth.TokenHash(tokA) || tokA == tokB {
		t.Fatalf("tokens %q %q, hash %q", tokA, tokB, hashA)
	}
	a, err := auth.New(auth.Config{Users: []auth.UserConfig{
		{Name: "robot", Tokens: []string{hashA}, Permissions: []auth.Permission{{Action: "api", Cameras: []string{"lobby-*"}}}},
		{Name: "other", Tokens: []string{hashB}, Permissions: []auth.Permission{{Action: "metrics"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token, want string
	}{
		{"first user", tokA, "robot"},
		{"second user", tokB, "other"},
		{"unknown", tokA[:len(tokA)-1] + "x", ""},
		{"empty", "", ""},
		{"the hash itself", hashA, ""},
		{"oversized", strings.Repeat("a", 1000), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := a.CheckToken(tc.token)
			if tc.want == "" {
				if u != nil || !errors.Is(err, auth.ErrBadCredentials) {
					t.Fatalf("CheckToken = %v, %v; want ErrBadCredentials", u, err)
				}
				return
			}
			if err != nil || u.Name() != tc.want {
				t.Fatalf("CheckToken = %v, %v; want %s", u, err, tc.want)
			}
		})
	}
	robot, _ := a.User("robot")
	far := netip.MustParseAddr("198.51.100.7")
	for cam, want := range map[string]bool{"lobby-1": true, "door": false, "": true} {
		if got := a.Allowed(robot, far, auth.ActionAPI, cam); got != want {
			t.Errorf("api on %q = %v, want %v", cam, got, want)
		}
	}
}

func TestTokenHashValidation(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "sha256:", "md5:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64), "sha256:" + strings.Repeat("g", 64), "sha256:" + strings.Repeat("a", 62)} {
		err := auth.Config{Users: []auth.UserConfig{{Name: "u", Tokens: []string{bad}}}}.Validate()
		if err == nil || !strings.Contains(err.Error(), "users.0.tokens.0") {
			t.Errorf("token hash %q: %v", bad, err)
		}
	}
	many := make([]string, 17)
	for i := range many {
		many[i] = auth.TokenHash(string(rune('a' + i)))
	}
	if err := (auth.Config{Users: []auth.UserConfig{{Name: "u", Tokens: many}}}).Validate(); err == nil {
		t.Error("17 tokens accepted")
	}
}

package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/camvault/camvault/auth"
)

// TestToken: the printed token authenticates its user once the printed line is in the
// configuration, and two runs print different tokens.
func TestToken(t *testing.T) {
	t.Parallel()
	var out1, out2, stderr bytes.Buffer
	if err := run(t.Context(), []string{"token", "-user", "robot"}, &out1, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	if err := run(t.Context(), []string{"token", "-user", "robot"}, &out2, &stderr); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^token: (\S+)$[\s\S]*tokens: \["(sha256:[0-9a-f]{64})"\]`).FindStringSubmatch(out1.String())
	if m == nil {
		t.Fatalf("output:\n%s", out1.String())
	}
	if strings.Contains(out2.String(), m[1]) {
		t.Fatal("two runs printed the same token")
	}
	a, err := auth.New(auth.Config{Users: []auth.UserConfig{{Name: "robot", Tokens: []string{m[2]},
		Permissions: []auth.Permission{{Action: "api"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := a.CheckToken(m[1]); err != nil || u.Name() != "robot" {
		t.Fatalf("CheckToken of the printed token: %v, %v", u, err)
	}
	for _, args := range [][]string{{"token"}, {"token", "-user", "bad name"}, {"token", "-user", "x", "extra"}} {
		if err := run(t.Context(), args, &out1, &stderr); err == nil {
			t.Errorf("%q succeeded", args)
		}
	}
}

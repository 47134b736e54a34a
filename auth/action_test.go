package auth_test

import (
	"errors"
	"testing"

	"github.com/camvault/camvault/auth"
)

func TestAction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a    auth.Action
		name string
	}{
		{auth.ActionPublish, "publish"},
		{auth.ActionRead, "read"},
		{auth.ActionPlayback, "playback"},
		{auth.ActionAPI, "api"},
		{auth.ActionMetrics, "metrics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.a.String(); got != tc.name {
				t.Errorf("String() = %q, want %q", got, tc.name)
			}
			if got, err := auth.ParseAction(tc.name); err != nil || got != tc.a {
				t.Errorf("ParseAction(%q) = %v, %v", tc.name, got, err)
			}
		})
	}
	for _, a := range []auth.Action{0, -1, 6} {
		if got := a.String(); got == "" || got[0] != 'A' {
			t.Errorf("Action(%d).String() = %q", int(a), got)
		}
	}
	for _, bad := range []string{"", "Publish", "write", "Action(1)"} {
		if _, err := auth.ParseAction(bad); !errors.Is(err, auth.ErrAction) {
			t.Errorf("ParseAction(%q) error %v, want ErrAction", bad, err)
		}
	}
}

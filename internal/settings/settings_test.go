package settings_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// TestCheckMessages: each check's failure names its key and states the bounds in the file's
// units; values inside the bounds pass.
func TestCheckMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		check func(c *settings.Check)
		want  string // "" means no failure
	}{
		{"count ok", func(c *settings.Check) { c.Count("n", 1, 1, 2) }, ""},
		{"count", func(c *settings.Check) { c.Count("n", 0, 1, 1024) }, "n: must be between 1 and 1024, got 0"},
		{"duration ok", func(c *settings.Check) { c.Duration("d", time.Hour, 0, time.Hour) }, ""},
		{"duration", func(c *settings.Check) { c.Duration("d", 0, time.Second, 24*time.Hour) }, "d: must be between 1s and 1d, got 0s"},
		{"bytes", func(c *settings.Check) { c.Bytes("b", 100, 68<<10, 16<<20) }, "b: must be between 68KiB and 16MiB, got 100B"},
		{"not below", func(c *settings.Check) { c.NotBelow("max", time.Second, "min", time.Minute) }, "max: must be at least min (1m), got 1s"},
		{"at most", func(c *settings.Check) { c.AtMost("url", 8<<10, "line", 4<<10) }, "url: must be at most line (4KiB), got 8KiB"},
		{"one of", func(c *settings.Check) { c.OneOf("f", "xml", "text", "json") }, `f: must be one of text, json, got "xml"`},
		{"address ok", func(c *settings.Check) { c.Address("a", "[::1]:554") }, ""},
		{"address hostname", func(c *settings.Check) { c.Address("a", "localhost:8080") }, ""},
		{"address ephemeral", func(c *settings.Check) { c.Address("a", "127.0.0.1:0") }, ""},
		{"address without port", func(c *settings.Check) { c.Address("a", "0.0.0.0") }, "a: must be a listen address"},
		{"address named port", func(c *settings.Check) { c.Address("a", ":http") }, "a: must be a listen address"},
		{"address port range", func(c *settings.Check) { c.Address("a", ":65536") }, "a: must be a listen address"},
		{"address two colons", func(c *settings.Check) { c.Address("a", "::1:554") }, "a: must be a listen address"},
		{"address empty", func(c *settings.Check) { c.Address("a", "") }, "a: must be a listen address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c settings.Check
			tc.check(&c)
			err := c.Err()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected failure: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("failure %v, want %q", err, tc.want)
			}
		})
	}
}

// TestPrefix: a section's errors move under its key, and so do the keys their messages name;
// other errors become field errors at the prefix.
func TestPrefix(t *testing.T) {
	t.Parallel()
	var c settings.Check
	c.AtMost("max_url", 8<<10, "max_request_line", 4<<10)
	c.Fail("udp_rtcp_address", "must be set when %s is (%q)", settings.Key{"udp_rtp_address"}, ":8000")
	inner := errors.New("invalid camera name")
	err := settings.Prefix(errors.Join(c.Err(), inner), "rtsp")
	got := settings.Split(err)
	want := []string{
		"rtsp.max_url: must be at most rtsp.max_request_line (4KiB), got 8KiB",
		`rtsp.udp_rtcp_address: must be set when rtsp.udp_rtp_address is (":8000")`,
		"rtsp: invalid camera name",
	}
	if len(got) != len(want) {
		t.Fatalf("Prefix gave %d errors: %v", len(got), err)
	}
	for i, e := range got {
		if e.Error() != want[i] {
			t.Errorf("error %d = %q, want %q", i, e, want[i])
		}
		var fe *settings.FieldError
		if !errors.As(e, &fe) || fe.Path[0] != "rtsp" {
			t.Errorf("error %d is not a *FieldError under rtsp: %#v", i, e)
		}
	}
	if !errors.Is(err, inner) {
		t.Error("Prefix lost the wrapped error")
	}
	if settings.Prefix(nil, "rtsp") != nil {
		t.Error("Prefix(nil) is not nil")
	}
	// The original is unchanged: a Check's errors may be prefixed twice.
	if e := c.Err().Error(); !strings.HasPrefix(e, "max_url: must be at most max_request_line") {
		t.Errorf("Prefix changed its input: %s", e)
	}
}

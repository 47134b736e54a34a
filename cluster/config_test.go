package cluster_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/cluster"
	"github.com/camvault/camvault/internal/settings"
)

// enabled is a valid config of an enabled cluster.
func enabled() cluster.Config {
	c := cluster.DefaultConfig()
	c.Endpoints = []string{"http://127.0.0.1:2379"}
	c.Node = "node-1"
	c.RTSPURL = "rtsp://10.0.0.1:8554"
	c.HTTPURL = "http://10.0.0.1:8080"
	c.Pulled = []string{"lobby", "gate"}
	return c
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		edit   func(*cluster.Config)
		badKey string // "" means valid
	}{
		{"default disabled", func(c *cluster.Config) { *c = cluster.DefaultConfig() }, ""},
		{"disabled needs no node", func(c *cluster.Config) { c.Endpoints = nil; c.Node = "" }, ""},
		{"enabled", func(*cluster.Config) {}, ""},
		{"no node", func(c *cluster.Config) { c.Node = "" }, "node"},
		{"bad node", func(c *cluster.Config) { c.Node = "a/b" }, "node"},
		{"long node", func(c *cluster.Config) { c.Node = strings.Repeat("n", 65) }, "node"},
		{"no rtsp url", func(c *cluster.Config) { c.RTSPURL = "" }, "rtsp_url"},
		{"http as rtsp url", func(c *cluster.Config) { c.RTSPURL = "http://x:1" }, "rtsp_url"},
		{"no http host", func(c *cluster.Config) { c.HTTPURL = "http://" }, "http_url"},
		{"empty endpoint", func(c *cluster.Config) { c.Endpoints = []string{""} }, "endpoints.0"},
		{"prefix without slash", func(c *cluster.Config) { c.Prefix = "camvault" }, "prefix"},
		{"capacity 0", func(c *cluster.Config) { c.Capacity = 0 }, "capacity"},
		{"ttl too short", func(c *cluster.Config) { c.LeaseTTL = 500 * time.Millisecond }, "lease_ttl"},
		{"margin too large", func(c *cluster.Config) { c.FenceMargin = 6 * time.Second }, "fence_margin"},
		{"cert without key", func(c *cluster.Config) { c.CertFile = "c.pem" }, "cert_file"},
		{"bad pulled name", func(c *cluster.Config) { c.Pulled = []string{"ok", "-bad"} }, "pulled.1"},
		{"pulled twice", func(c *cluster.Config) { c.Pulled = []string{"a", "b", "a"} }, "pulled.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := enabled()
			tc.edit(&c)
			err := c.Validate()
			if tc.badKey == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *settings.FieldError
			if !errors.As(err, &fe) || strings.Join(fe.Path, ".") != tc.badKey {
				t.Fatalf("Validate: %v, want an error at %s", err, tc.badKey)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := cluster.DefaultConfig()
	if c.Enabled() || c.Prefix != "/camvault/" || c.LeaseTTL != 10*time.Second || c.Capacity != 500 || c.Logger != nil {
		t.Fatalf("DefaultConfig: %+v", c)
	}
	if _, err := cluster.New(c); err == nil {
		t.Fatal("New of a disabled cluster succeeded")
	}
	if _, err := cluster.New(cluster.Config{Endpoints: []string{"127.0.0.1:1"}}); err == nil {
		t.Fatal("New without a node name succeeded")
	}
	// A valid config dials nothing: New succeeds with etcd down.
	n, err := cluster.New(enabled())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.State() != cluster.StateJoining {
		t.Errorf("state before Run: %v", n.State())
	}
	if _, err := n.Claim(t.Context(), "lobby"); !errors.Is(err, cluster.ErrUnavailable) {
		t.Errorf("claim before Run: %v", err)
	}
	if strings.Contains(logValue(enabledWithPassword()), "secret") {
		t.Error("the password is logged")
	}
}

func enabledWithPassword() cluster.Config {
	c := enabled()
	c.Username, c.Password = "camvault", "secret"
	return c
}

func logValue(c cluster.Config) string { return c.LogValue().String() }

func TestStrings(t *testing.T) {
	t.Parallel()
	for v, want := range map[interface{ String() string }]string{
		cluster.StateJoining:    "joining",
		cluster.StateLive:       "live",
		cluster.StateInDoubt:    "in doubt",
		cluster.StateStopped:    "stopped",
		cluster.State(9):        "State(9)",
		cluster.EventGained:     "gained",
		cluster.EventLost:       "lost",
		cluster.EventInDoubt:    "in doubt",
		cluster.EventConfirmed:  "confirmed",
		cluster.EventRegistered: "registered",
		cluster.EventKind(0):    "EventKind(0)",
	} {
		if got := v.String(); got != want {
			t.Errorf("%#v: %q, want %q", v, got, want)
		}
	}
}

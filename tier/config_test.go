package tier_test

import (
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/tier"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := func(*tier.Config) {}
	for _, tc := range []struct {
		name string
		edit func(*tier.Config)
		want string // substring of the error; "" for none
	}{
		{"defaults with endpoint and bucket", ok, ""},
		{"off", func(c *tier.Config) { c.Endpoint, c.Bucket = "", "" }, "endpoint: is required"},
		{"no bucket", func(c *tier.Config) { c.Bucket = "" }, "bucket: is required"},
		{"node with a slash", func(c *tier.Config) { c.Node = "a/b" }, "node:"},
		{"prefix without its slash", func(c *tier.Config) { c.Prefix = "site1" }, "prefix:"},
		{"prefix climbing up", func(c *tier.Config) { c.Prefix = "../" }, "prefix:"},
		{"prefix of two levels", func(c *tier.Config) { c.Prefix = "a/b.c/" }, ""},
		{"small parts", func(c *tier.Config) { c.PartSize = 1 << 20 }, "part_size"},
		{"backoff upside down", func(c *tier.Config) { c.RetryMin, c.RetryMax = time.Minute, time.Second }, "retry_max"},
		{"negative max age", func(c *tier.Config) { c.MaxAge = -time.Hour }, "max_age"},
		{"bad camera", func(c *tier.Config) { c.CameraMaxAge = map[string]time.Duration{"a b": time.Hour} }, "cameras"},
		{"both secrets", func(c *tier.Config) { c.SecretKey, c.SecretKeyFile = "s", "/f" }, "secret_key_file"},
	} {
		c := tier.DefaultConfig()
		c.Endpoint, c.Bucket = "127.0.0.1:9000", "b"
		tc.edit(&c)
		err := c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if c := tier.DefaultConfig(); c.Enabled() || c.Concurrency != tier.DefaultConcurrency || c.Node != tier.DefaultNode {
		t.Errorf("DefaultConfig %+v", c)
	}
}

package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// Config configures a Node. The yaml tags are the keys of camvault's cluster section
// (package settings). The cluster is enabled when Endpoints is set (Enabled).
type Config struct {
	// Endpoints are the etcd client URLs ("https://10.0.0.1:2379" or "10.0.0.1:2379").
	// Empty disables the cluster: the node records every camera it is given, alone.
	Endpoints []string `yaml:"endpoints"`
	// CAFile verifies etcd's server certificate; CertFile and KeyFile are this node's
	// client certificate. Any of them makes the connection TLS. Default empty: plain TCP.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Username and Password authenticate to etcd when its auth is enabled. Default empty.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Prefix is put before every key camvault writes; it ends with "/". Defaults to
	// "/camvault/".
	Prefix string `yaml:"prefix"`
	// Node names this node in the cluster, as camera names are spelled:
	// [A-Za-z0-9][A-Za-z0-9._-]{0,63}. Unique per cluster. Required when enabled.
	Node string `yaml:"node"`
	// RTSPURL and HTTPURL are how other nodes and clients reach this node
	// ("rtsp://10.0.0.5:8554", "http://10.0.0.5:8080"): redirects to the owner of a camera
	// go there. Required when enabled.
	RTSPURL string `yaml:"rtsp_url"`
	HTTPURL string `yaml:"http_url"`
	// Capacity is how many cameras this node records well. It weighs the node in the
	// assignment of pulled cameras; it is not a hard cap (a node records more when others
	// die rather than leave cameras unrecorded). Defaults to 500.
	Capacity int `yaml:"capacity"`
	// LeaseTTL is the life of this node's etcd lease without a keepalive: a node that dies
	// or is cut off loses its cameras that long after its last keepalive. etcd grants at
	// least 1.5 of its election timeout (2 s with etcd's defaults). Defaults to 10s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// FenceMargin is taken off the local lease deadline (the send time of the last
	// answered keepalive plus the granted TTL), so that Fence turns false before etcd can
	// have expired the lease. It covers the time between a Fence check and the commit it
	// guards, and clock rate differences. At most lease_ttl/2. Defaults to 1s.
	FenceMargin time.Duration `yaml:"fence_margin"`
	// DialTimeout bounds connecting to etcd. Defaults to 5s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// RequestTimeout bounds one etcd request (a claim, a release, a read). Keepalives are
	// bounded by the smaller of it and the keepalive interval, (lease_ttl - fence_margin)/3.
	// Defaults to 5s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// RetryInterval is the wait before registering or resynchronizing again after etcd
	// failed. Defaults to 1s.
	RetryInterval time.Duration `yaml:"retry_interval"`
	// PeerToken is published in this node's record (Member.PeerToken) for the other nodes to
	// present to its peer endpoints. Empty: New makes a random one (256 bits, base32).
	PeerToken string `yaml:"-"`
	// Pulled are the pulled cameras (every node is given the same list, from the shared
	// configuration): the cluster assigns them to live nodes. Pushed cameras are not
	// listed; they are claimed by the node they push to.
	Pulled []string `yaml:"-"`
	// BeforeRelease, if set, is called before this node gives up a pulled camera that the
	// assignment moved to another node, while it still owns it (Fence is still ok): the
	// caller stops recording it, so that its last fragment is committed under the owned
	// revision. ctx ends after RequestTimeout; the release follows when it returns. It is
	// not called for cameras lost involuntarily (lease expiry, a takeover).
	BeforeRelease func(ctx context.Context, camera string) `yaml:"-"`
	// OnEvent receives the changes of what this node owns and of its lease (Event). It is
	// called from one goroutine, in order, never concurrently; it should return quickly,
	// as it delays the events after it (never keepalives). Nil drops the events.
	OnEvent func(Event) `yaml:"-"`
	// Logger receives lifecycle events: registration, etcd unreachable and back, cameras
	// gained and lost. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Defaults of Config.
const (
	DefaultPrefix         = "/camvault/"
	DefaultCapacity       = 500
	DefaultLeaseTTL       = 10 * time.Second
	DefaultFenceMargin    = time.Second
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	DefaultRetryInterval  = time.Second
)

// Enabled reports whether the cluster is configured: Endpoints is set.
func (c *Config) Enabled() bool { return len(c.Endpoints) > 0 }

func (c *Config) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Capacity <= 0 {
		c.Capacity = DefaultCapacity
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.FenceMargin == 0 {
		c.FenceMargin = DefaultFenceMargin
	}
	c.FenceMargin = max(c.FenceMargin, 0) // a negative margin from Go means 0
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// DefaultConfig returns the default of every setting with a yaml tag.
func DefaultConfig() Config {
	var c Config
	c.setDefaults()
	c.Logger = nil
	return c
}

// nameRE is the spelling of camera and node names (DESIGN.md "Names and URLs").
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validName checks a camera or node name: the cluster puts it into etcd keys.
func validName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %q is not [A-Za-z0-9][A-Za-z0-9._-]{0,63}", ErrInvalidName, name)
	}
	return nil
}

// Validate checks the settings with a yaml tag, defaults applied, within the bounds an
// operator may set. When the cluster is enabled, node, rtsp_url and http_url are required.
// Failures are *settings.FieldError named by the yaml keys.
func (c *Config) Validate() error {
	var v settings.Check
	if !strings.HasPrefix(c.Prefix, "/") || !strings.HasSuffix(c.Prefix, "/") {
		v.Fail("prefix", "must start and end with /, got %q", c.Prefix)
	}
	v.Count("capacity", c.Capacity, 1, 1<<20)
	v.Duration("lease_ttl", c.LeaseTTL, time.Second, time.Hour)
	v.Duration("fence_margin", c.FenceMargin, 0, c.LeaseTTL/2)
	v.Duration("dial_timeout", c.DialTimeout, settings.MinTimeout, time.Hour)
	v.Duration("request_timeout", c.RequestTimeout, settings.MinTimeout, time.Hour)
	v.Duration("retry_interval", c.RetryInterval, 10*time.Millisecond, time.Hour)
	if (c.CertFile == "") != (c.KeyFile == "") {
		v.Fail("cert_file", "cert_file and key_file go together")
	}
	if !c.Enabled() {
		return v.Err()
	}
	for i, e := range c.Endpoints {
		if e == "" || strings.ContainsAny(e, " \t\n") {
			v.Fail("endpoints."+strconv.Itoa(i), "must be an etcd client URL, got %q", e)
		}
	}
	if err := validName(c.Node); err != nil {
		v.Fail("node", "must be set when the cluster is enabled: %v", err)
	}
	checkURL(&v, "rtsp_url", c.RTSPURL, "rtsp", "rtsps")
	checkURL(&v, "http_url", c.HTTPURL, "http", "https")
	for i, p := range c.Pulled {
		if err := validName(p); err != nil {
			v.Fail("pulled."+strconv.Itoa(i), "%v", err)
		} else if slices.Index(c.Pulled, p) != i {
			v.Fail("pulled."+strconv.Itoa(i), "%q is listed twice", p)
		}
	}
	return v.Err()
}

// checkURL checks that raw is an absolute URL with one of schemes and a host.
func checkURL(v *settings.Check, key, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains(schemes, u.Scheme) || u.Host == "" {
		v.Fail(key, "must be a %s URL with a host that other nodes reach, got %q", strings.Join(schemes, " or "), raw)
	}
}

// LogValue implements slog.LogValuer without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("endpoints", c.Endpoints),
		slog.String("node", c.Node),
		slog.String("prefix", c.Prefix),
		slog.Bool("tls", c.tls()),
		slog.String("username", c.Username),
		slog.Duration("lease_ttl", c.LeaseTTL),
		slog.Int("capacity", c.Capacity),
	)
}

// tls reports whether the connection to etcd is TLS.
func (c *Config) tls() bool { return c.CAFile != "" || c.CertFile != "" }

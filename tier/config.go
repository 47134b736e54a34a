package tier

import (
	"context"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/storage"
)

// Defaults of Config.
const (
	DefaultRegion            = "us-east-1"
	DefaultNode              = "local"
	DefaultConcurrency       = 16
	DefaultRetryMin          = time.Second
	DefaultRetryMax          = 5 * time.Minute
	DefaultPartSize          = 16 << 20
	DefaultRequestTimeout    = 30 * time.Second
	DefaultUploadTimeout     = 10 * time.Minute
	DefaultScanInterval      = 10 * time.Second
	DefaultScanBatch         = 64
	DefaultRescanInterval    = 15 * time.Minute
	DefaultRetentionInterval = time.Hour
	DefaultMaxManifestBytes  = 16 << 20
	DefaultMaxReadBytes      = 64 << 20
	DefaultSegmentLookback   = time.Hour
)

// minPartSize is S3's smallest multipart part.
const minPartSize = 5 << 20

// Config configures tiering. The yaml tags are the proposed keys of a
// `tier:` section. Tiering is on only when Endpoint and Bucket are set
// (Enabled); New refuses a config that is not.
type Config struct {
	// Endpoint is the S3 API's host:port (no scheme). Required.
	Endpoint string `yaml:"endpoint"`
	// Region is the bucket's region. Defaults to "us-east-1".
	Region string `yaml:"region"`
	// Bucket holds the objects. Required.
	Bucket string `yaml:"bucket"`
	// AccessKey and SecretKey are static credentials; SecretKeyFile, when
	// set, holds the secret instead (trailing newline ignored).
	AccessKey     string `yaml:"access_key"`
	SecretKey     string `yaml:"secret_key"`
	SecretKeyFile string `yaml:"secret_key_file"`
	// TLS turns on HTTPS to the endpoint; CAFile adds PEM roots to the
	// system's. Defaults to false (plain HTTP, for a store on loopback or a
	// trusted network).
	TLS    bool   `yaml:"tls"`
	CAFile string `yaml:"ca_file"`
	// Prefix starts every key, e.g. "site1/". Defaults to "".
	Prefix string `yaml:"prefix"`
	// Node names this node in keys and manifests: the cluster's node name.
	// Defaults to "local". It passes the camera name rule.
	Node string `yaml:"-"`
	// Concurrency is how many segments upload at once. Defaults to 4.
	Concurrency int `yaml:"upload_concurrency"`
	// RetryMin and RetryMax bound the exponential backoff between attempts
	// of one segment (each wait is half the backoff plus a random part of
	// the other half). Default 1s and 5m.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// PartSize is the multipart part size in bytes; smaller objects go in
	// one PUT. Defaults to 16 MiB; at least 5 MiB.
	PartSize int64 `yaml:"part_size" unit:"bytes"`
	// RequestTimeout bounds a small request (manifest GET/PUT, LIST,
	// DELETE, a ranged read, Verify). Defaults to 30s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// UploadTimeout bounds the upload of one segment object. Defaults to
	// 10m.
	UploadTimeout time.Duration `yaml:"upload_timeout"`
	// ScanInterval is how often the index is read for segments to upload
	// (Kick reads it at once). Defaults to 10s.
	ScanInterval time.Duration `yaml:"scan_interval"`
	// RescanInterval is how often the scan starts again from each camera's
	// first segment rather than from where the last one stopped, to find
	// segments that appeared behind it (a clock stepped back, an adopted
	// file). Defaults to 15m.
	RescanInterval time.Duration `yaml:"-"`
	// ScanBatch is how many pending segments of one camera one scan takes.
	// Defaults to 64.
	ScanBatch int `yaml:"-"`
	// MaxAge deletes objects whose segment ended longer ago (0: never);
	// CameraMaxAge overrides it per camera. Holds in storage are honoured.
	MaxAge       time.Duration            `yaml:"max_age"`
	CameraMaxAge map[string]time.Duration `yaml:"-"`
	// RetentionInterval is how often Run applies MaxAge. Defaults to 1h.
	RetentionInterval time.Duration `yaml:"retention_interval"`
	// MaxManifestBytes bounds a manifest read from the store. Defaults to
	// 16 MiB.
	MaxManifestBytes int64 `yaml:"-"`
	// MaxReadBytes bounds one ReadAt. Defaults to 64 MiB.
	MaxReadBytes int64 `yaml:"-"`
	// SegmentLookback is how long before a window's start Segments looks
	// for segments that began earlier: at least the longest segment.
	// Defaults to 1h.
	SegmentLookback time.Duration `yaml:"-"`
	// Verify, when set, is asked before each object is published whether
	// the segment's revision rev (SegmentInfo.Revision) may be published
	// for camera, and returns the revision to publish it under, in its
	// object key and manifest: rev itself, or the positive revision that
	// confirmed a segment recorded in doubt (negative rev). A negative
	// revision is never published: Verify answering one refuses the
	// segment (ErrFenced). An error wrapping ErrFenced refuses the segment
	// for good (it stays local, marked UploadRefused); any other error is
	// retried like a store failure.
	Verify func(ctx context.Context, camera string, rev int64) (int64, error) `yaml:"-"`
	// Logger receives the package's logs; nil discards them.
	Logger *slog.Logger `yaml:"-"`
	// Now is the clock of upload marks and retention; nil is time.Now.
	Now func() time.Time `yaml:"-"`
}

// Enabled reports whether the config turns tiering on.
func (c *Config) Enabled() bool { return c.Endpoint != "" && c.Bucket != "" }

// DefaultConfig returns a Config with every default filled in and tiering
// off (no endpoint or bucket).
func DefaultConfig() Config {
	var c Config
	c.setDefaults()
	c.Logger, c.Now = nil, nil // set by New
	return c
}

func (c *Config) setDefaults() {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Node == "" {
		c.Node = DefaultNode
	}
	positive(&c.Concurrency, DefaultConcurrency)
	positive(&c.RetryMin, DefaultRetryMin)
	positive(&c.RetryMax, DefaultRetryMax)
	positive(&c.PartSize, DefaultPartSize)
	positive(&c.RequestTimeout, DefaultRequestTimeout)
	positive(&c.UploadTimeout, DefaultUploadTimeout)
	positive(&c.ScanInterval, DefaultScanInterval)
	positive(&c.ScanBatch, DefaultScanBatch)
	positive(&c.RescanInterval, DefaultRescanInterval)
	positive(&c.RetentionInterval, DefaultRetentionInterval)
	positive(&c.MaxManifestBytes, DefaultMaxManifestBytes)
	positive(&c.MaxReadBytes, DefaultMaxReadBytes)
	positive(&c.SegmentLookback, DefaultSegmentLookback)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func positive[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// prefixRule is what a key prefix may hold: path-safe characters, ending
// with "/" when not empty.
var prefixRule = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*/)*$`)

// Validate reports a config that cannot work: tiering off, a bad node
// name or prefix, a limit out of its bounds (a part below S3's 5 MiB, a
// backoff maximum below its minimum), a negative age, or a camera name that
// fails storage.ValidCamera. Failures are *settings.FieldError named by
// the yaml keys. It checks a copy with defaults applied.
func (c Config) Validate() error {
	c.setDefaults()
	var v settings.Check
	if c.Endpoint == "" {
		v.Fail("endpoint", "is required (host:port)")
	}
	if c.Bucket == "" {
		v.Fail("bucket", "is required")
	}
	if storage.ValidCamera(c.Node) != nil {
		v.Fail("node", "%q: letters, digits, '.', '_', '-', at most 64", c.Node)
	}
	if !prefixRule.MatchString(c.Prefix) {
		v.Fail("prefix", "%q: path elements starting with a letter or digit, of letters, digits, '.', '_', '-', each ending in '/'", c.Prefix)
	}
	if c.SecretKey != "" && c.SecretKeyFile != "" {
		v.Fail("secret_key_file", "and secret_key are both set")
	}
	v.Count("upload_concurrency", c.Concurrency, 1, 256)
	v.Duration("retry_min", c.RetryMin, time.Millisecond, time.Hour)
	v.NotBelow("retry_max", c.RetryMax, "retry_min", c.RetryMin)
	v.Bytes("part_size", c.PartSize, minPartSize, 5<<30)
	v.Duration("request_timeout", c.RequestTimeout, 100*time.Millisecond, time.Hour)
	v.Duration("upload_timeout", c.UploadTimeout, time.Second, 24*time.Hour)
	v.Duration("scan_interval", c.ScanInterval, 10*time.Millisecond, time.Hour)
	v.Duration("retention_interval", c.RetentionInterval, time.Second, 7*24*time.Hour)
	if c.MaxAge < 0 {
		v.Fail("max_age", "%v is negative", c.MaxAge)
	}
	for _, cam := range slices.Sorted(maps.Keys(c.CameraMaxAge)) {
		if err := storage.ValidCamera(cam); err != nil {
			v.Fail("cameras", "%v", err)
		} else if c.CameraMaxAge[cam] < 0 {
			v.Fail("cameras."+cam+".max_age", "%v is negative", c.CameraMaxAge[cam])
		}
	}
	return v.Err()
}

// LogValue leaves the secret out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("endpoint", c.Endpoint), slog.String("bucket", c.Bucket),
		slog.String("prefix", c.Prefix), slog.String("node", c.Node), slog.Bool("tls", c.TLS),
		slog.String("access_key", c.AccessKey), slog.Bool("secret_set", c.SecretKey != "" || c.SecretKeyFile != ""))
}

// maxAge returns camera's object max age (0: keep).
func (c *Config) maxAge(camera string) time.Duration {
	if d, ok := c.CameraMaxAge[camera]; ok {
		return d
	}
	return c.MaxAge
}

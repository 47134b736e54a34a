package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// Defaults of LimiterConfig.
const (
	DefaultFailureThreshold    = 5
	DefaultFailureWindow       = time.Minute
	DefaultFailureDelayMin     = time.Second
	DefaultFailureDelayMax     = time.Minute
	DefaultFailureMaxAddresses = 4096
	DefaultFailureLogInterval  = time.Minute
)

// LimiterConfig configures a Limiter of failed authentications. The yaml
// tags are keys of camvault's auth section (package settings).
type LimiterConfig struct {
	// Threshold is how many failures an address may have before each
	// further one imposes a delay. Defaults to 5.
	Threshold int `yaml:"failure_threshold"`
	// Window is the quiet span after which an address's failures are
	// forgotten: failures count while each follows the previous one
	// within Window. Defaults to 1m.
	Window time.Duration `yaml:"failure_window"`
	// DelayMin is the delay after the Threshold-th failure; it doubles
	// with each further failure up to DelayMax. Defaults to 1s and 1m.
	DelayMin time.Duration `yaml:"failure_delay_min"`
	DelayMax time.Duration `yaml:"failure_delay_max"`
	// MaxAddresses bounds the addresses tracked at once. When full, idle
	// entries go first, then the one whose last failure is oldest.
	// IPv6 addresses are tracked per /64. Defaults to 4096.
	MaxAddresses int `yaml:"failure_max_addresses"`
	// LogInterval is the least span between two summary lines of one
	// address. Defaults to 1m.
	LogInterval time.Duration `yaml:"failure_log_interval"`
	// Logger receives the summary lines (Warn "authentication failures",
	// with peer, failures and dur, the delay in force). Nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// DefaultLimiterConfig returns the default of every setting with a yaml tag.
func DefaultLimiterConfig() LimiterConfig {
	c := LimiterConfig{}.withDefaults()
	c.Logger = nil
	return c
}

func (c LimiterConfig) withDefaults() LimiterConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultFailureThreshold
	}
	if c.MaxAddresses == 0 {
		c.MaxAddresses = DefaultFailureMaxAddresses
	}
	def(&c.Window, DefaultFailureWindow)
	def(&c.DelayMin, DefaultFailureDelayMin)
	def(&c.DelayMax, DefaultFailureDelayMax)
	def(&c.LogInterval, DefaultFailureLogInterval)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks c after defaults: positive values, DelayMin <= DelayMax.
func (c LimiterConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	check := func(bad bool, field, format string, args ...any) {
		if bad {
			errs = append(errs, &settings.FieldError{Path: []string{field}, Err: fmt.Errorf(format, args...)})
		}
	}
	check(c.Threshold < 1 || c.Threshold > 1000, "failure_threshold", "must be between 1 and 1000, got %d", c.Threshold)
	check(c.Window < time.Second || c.Window > 24*time.Hour, "failure_window", "must be between 1s and 24h, got %s", c.Window)
	check(c.DelayMin < time.Millisecond || c.DelayMin > time.Hour, "failure_delay_min", "must be between 1ms and 1h, got %s", c.DelayMin)
	check(c.DelayMax < c.DelayMin || c.DelayMax > 24*time.Hour, "failure_delay_max", "must be between failure_delay_min and 24h, got %s", c.DelayMax)
	check(c.MaxAddresses < 1 || c.MaxAddresses > 1<<20, "failure_max_addresses", "must be between 1 and 1048576, got %d", c.MaxAddresses)
	check(c.LogInterval < time.Second || c.LogInterval > 24*time.Hour, "failure_log_interval", "must be between 1s and 24h, got %s", c.LogInterval)
	return errors.Join(errs...)
}

// Limiter counts failed authentications per address and imposes an
// exponential delay on an address that fails too often (RTSP-AUTH-12). It
// logs at most one summary line per address and LogInterval. Its memory
// is bounded by MaxAddresses. Time is passed in by the caller. All methods
// are safe for concurrent use.
type Limiter struct {
	cfg LimiterConfig
	mu  sync.Mutex
	// guarded by mu:
	peers map[netip.Prefix]*failures
}

// failures is the state of one address.
type failures struct {
	count   int       // failures since the last quiet Window
	last    time.Time // the last failure
	until   time.Time // no check before this
	pending int       // failures not yet in a summary line
	logged  time.Time // the last summary line; zero: never
}

// NewLimiter validates cfg and builds a Limiter.
func NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Limiter{cfg: cfg.withDefaults(), peers: map[netip.Prefix]*failures{}}, nil
}

// peerKey is the tracking unit of peer: the address, or its /64 for IPv6.
func peerKey(peer netip.Addr) netip.Prefix {
	peer = peer.Unmap().WithZone("")
	if peer.Is6() {
		p, _ := peer.Prefix(64)
		return p
	}
	return netip.PrefixFrom(peer, peer.BitLen())
}

// Wait returns how long from now peer must wait before its credentials
// are checked again; 0 when it may try now. The caller delays its answer
// by that span (on that connection only) or refuses without checking.
func (l *Limiter) Wait(peer netip.Addr, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.peers[peerKey(peer)]
	if f == nil || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// Fail records a failed authentication from peer at now and returns the
// delay now in force for it (as Wait would return). It writes a summary
// line when LogInterval has passed since peer's previous one.
func (l *Limiter) Fail(peer netip.Addr, now time.Time) time.Duration {
	key := peerKey(peer)
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.peers[key]
	if f == nil {
		l.makeRoom(now)
		f = &failures{}
		l.peers[key] = f
	}
	if now.Sub(f.last) >= l.cfg.Window {
		f.count = 0
	}
	f.count++
	f.pending++
	f.last = now
	if n := f.count - l.cfg.Threshold; n >= 0 {
		f.until = now.Add(l.delay(n))
	}
	if f.logged.IsZero() || now.Sub(f.logged) >= l.cfg.LogInterval {
		l.report(key, f, now)
	}
	return max(f.until.Sub(now), 0)
}

// delay returns DelayMin << n, at most DelayMax.
func (l *Limiter) delay(n int) time.Duration {
	d := l.cfg.DelayMin
	for ; n > 0 && d < l.cfg.DelayMax; n-- {
		d *= 2
	}
	return min(d, l.cfg.DelayMax)
}

// Flush writes the summary line of every address with unlogged failures
// whose LogInterval has passed, forgets idle addresses, and returns the
// number of lines written. The owner calls it about every LogInterval.
func (l *Limiter) Flush(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for key, f := range l.peers {
		if f.pending > 0 && now.Sub(f.logged) >= l.cfg.LogInterval {
			l.report(key, f, now)
			n++
		}
		if l.idle(f, now) {
			delete(l.peers, key) // its failures were just logged
		}
	}
	return n
}

// idle reports whether f holds nothing that matters any more: its window
// is over, no delay is in force and nothing is left to log.
func (l *Limiter) idle(f *failures, now time.Time) bool {
	return now.Sub(f.last) >= l.cfg.Window && !now.Before(f.until) && f.pending == 0
}

// makeRoom frees an entry when the table is full: idle ones first, else
// the one whose last failure is oldest, its pending failures logged.
func (l *Limiter) makeRoom(now time.Time) {
	if len(l.peers) < l.cfg.MaxAddresses {
		return
	}
	var oldestKey netip.Prefix
	var oldest *failures
	for key, f := range l.peers {
		if l.idle(f, now) {
			delete(l.peers, key)
			return
		}
		if oldest == nil || f.last.Before(oldest.last) {
			oldestKey, oldest = key, f
		}
	}
	if oldest.pending > 0 {
		l.report(oldestKey, oldest, now)
	}
	delete(l.peers, oldestKey)
}

// report writes f's summary line and resets its pending count.
func (l *Limiter) report(key netip.Prefix, f *failures, now time.Time) {
	peer := key.String()
	if key.IsSingleIP() {
		peer = key.Addr().String()
	}
	l.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "authentication failures",
		slog.String("peer", peer), slog.Int("failures", f.pending), slog.Duration("dur", max(f.until.Sub(now), 0)))
	f.pending, f.logged = 0, now
}

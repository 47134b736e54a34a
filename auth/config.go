package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strconv"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// Defaults of Config.
const (
	// DefaultMaxConcurrentHashes is the default of Config.MaxConcurrentHashes.
	DefaultMaxConcurrentHashes = 4
	// DefaultCredentialCacheSize is the default of Config.CredentialCacheSize.
	DefaultCredentialCacheSize = 1024
	// DefaultCredentialCacheTTL is the default of Config.CredentialCacheTTL.
	DefaultCredentialCacheTTL = time.Minute
)

// Bounds of Config.
const (
	maxUsers       = 4096
	maxNetworks    = 256
	maxPermissions = 64
	maxGlobs       = 256
)

// userNameRE is the user name syntax: no ':' (it separates name and
// password in Basic and HA1) and no quote or control character (names
// travel in quoted Digest parameters).
var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// Config is the users-and-rights configuration. Its string fields are the
// configuration file's text; Validate parses them. The yaml tags of
// UserConfig, AnonymousConfig and Permission are the keys of camvault's
// configuration file, and FieldError paths use the same names. Users and
// Anonymous are the file's top-level users and anonymous sections;
// MaxConcurrentHashes and the credential cache's settings are keys of its
// auth section.
type Config struct {
	// Users are the known users; names are unique.
	Users []UserConfig `yaml:"-"`
	// Anonymous, when set, grants rights to requests without credentials.
	// When nil and Users is empty, anonymous access is allowed from
	// loopback only, for every action; when nil and Users is not empty,
	// nothing is anonymous.
	Anonymous *AnonymousConfig `yaml:"-"`
	// MaxConcurrentHashes bounds the argon2id verifications running at
	// once; CheckPassword waits for a slot. Defaults to 4.
	MaxConcurrentHashes int `yaml:"max_concurrent_hashes"`
	// CredentialCacheSize bounds the name and password pairs that
	// CheckPassword remembers after they passed argon2id; when full, the
	// expired ones go first, then any. Defaults to 1024.
	CredentialCacheSize int `yaml:"credential_cache_size"`
	// CredentialCacheTTL is how long a verified pair is remembered: its
	// checks in that time skip argon2id. Defaults to 1m.
	CredentialCacheTTL time.Duration `yaml:"credential_cache_ttl"`
}

// UserConfig is one user. At least one of PasswordArgon2id, DigestMD5,
// DigestSHA256 and Tokens is set; the password itself is never stored.
type UserConfig struct {
	// Name is 1 to 64 of A-Z a-z 0-9 . _ @ + -, starting with a letter
	// or digit.
	Name string `yaml:"name"`
	// PasswordArgon2id is an argon2id PHC string (see ParseArgon2id),
	// used for Basic authentication and the HTTP side. Empty disables
	// password checks for this user.
	PasswordArgon2id string `yaml:"password_argon2id"`
	// DigestMD5 and DigestSHA256 are HA1 = H(name:realm:password) in
	// lower-case hex for the server's realm (see DigestHA1). Empty
	// disables Digest with that algorithm for this user.
	DigestMD5    string `yaml:"digest_md5"`
	DigestSHA256 string `yaml:"digest_sha256"`
	// Tokens are the SHA-256 hashes of the user's HTTP bearer tokens, each
	// "sha256:" and 64 lower-case hex digits (see NewToken). At most 16.
	Tokens []string `yaml:"tokens"`
	// Networks are CIDR prefixes ("192.0.2.0/24", "2001:db8::/32") or
	// single addresses the user may act from. Empty means anywhere.
	Networks []string `yaml:"networks"`
	// Permissions are what the user may do.
	Permissions []Permission `yaml:"permissions"`
}

// LogValue implements slog.LogValuer: the name, networks and permissions,
// never the hashes (HA1 values are password equivalents).
func (u UserConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", u.Name), slog.Any("networks", u.Networks),
		slog.Int("permissions", len(u.Permissions)), slog.String("hashes", "redacted"))
}

// AnonymousConfig grants rights to requests without credentials.
type AnonymousConfig struct {
	// Networks are the addresses anonymous requests may come from, as in
	// UserConfig. Empty means anywhere.
	Networks []string `yaml:"networks"`
	// Permissions are what anonymous requests may do.
	Permissions []Permission `yaml:"permissions"`
}

// Permission allows one action on some cameras.
type Permission struct {
	// Action is "publish", "read", "playback", "api" or "metrics".
	Action string `yaml:"action"`
	// Cameras are path.Match globs on camera names ("*" is every camera,
	// "lobby-*" a family). Required for publish, read and playback;
	// optional for api (none: every camera; some: the API shows and acts on
	// the matching cameras only); ignored for metrics.
	Cameras []string `yaml:"cameras"`
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.MaxConcurrentHashes == 0 {
		c.MaxConcurrentHashes = DefaultMaxConcurrentHashes
	}
	if c.CredentialCacheSize == 0 {
		c.CredentialCacheSize = DefaultCredentialCacheSize
	}
	if c.CredentialCacheTTL == 0 {
		c.CredentialCacheTTL = DefaultCredentialCacheTTL
	}
	return c
}

// Validate checks every field, defaults applied (a zero
// MaxConcurrentHashes is the default). It returns nil or every failure
// joined, each a *settings.FieldError.
func (c Config) Validate() error {
	c = c.withDefaults()
	_, err := c.compile()
	return err
}

// fieldErrors collects *settings.FieldError values under a path prefix.
type fieldErrors struct {
	errs []error
}

func (f *fieldErrors) add(err error, path ...string) {
	f.errs = append(f.errs, &settings.FieldError{Path: path, Err: err})
}

// compile validates c and builds the users and the anonymous rights.
func (c *Config) compile() (*compiled, error) {
	var fe fieldErrors
	out := &compiled{users: make(map[string]*User, len(c.Users))}
	if len(c.Users) > maxUsers {
		fe.add(fmt.Errorf("at most %d users", maxUsers), "users")
	}
	if c.MaxConcurrentHashes < 1 || c.MaxConcurrentHashes > 1024 {
		fe.add(fmt.Errorf("must be between 1 and 1024, got %d", c.MaxConcurrentHashes), "max_concurrent_hashes")
	}
	if c.CredentialCacheSize < 1 || c.CredentialCacheSize > 1<<20 {
		fe.add(fmt.Errorf("must be between 1 and 1048576, got %d", c.CredentialCacheSize), "credential_cache_size")
	}
	if c.CredentialCacheTTL < time.Second || c.CredentialCacheTTL > time.Hour {
		fe.add(fmt.Errorf("must be between 1s and 1h, got %v", c.CredentialCacheTTL), "credential_cache_ttl")
	}
	for i, uc := range c.Users {
		u := compileUser(&fe, []string{"users", strconv.Itoa(i)}, uc)
		if _, dup := out.users[uc.Name]; dup {
			fe.add(fmt.Errorf("user %q defined twice", uc.Name), "users", strconv.Itoa(i), "name")
		}
		out.users[uc.Name] = u
		if len(u.tokens) > 0 {
			out.tokenUsers = append(out.tokenUsers, u)
		}
	}
	switch {
	case c.Anonymous != nil:
		out.anonymous = &rights{
			networks: compileNetworks(&fe, []string{"anonymous", "networks"}, c.Anonymous.Networks),
			perms:    compilePermissions(&fe, []string{"anonymous", "permissions"}, c.Anonymous.Permissions),
		}
	case len(c.Users) == 0:
		out.anonymous = loopbackEverything()
	}
	if len(fe.errs) > 0 {
		return nil, errors.Join(fe.errs...)
	}
	return out, nil
}

// compiled is a validated Config.
type compiled struct {
	users      map[string]*User
	tokenUsers []*User // users with tokens, in configuration order
	anonymous  *rights // nil: no anonymous access
}

func compileUser(fe *fieldErrors, at []string, uc UserConfig) *User {
	key := func(k ...string) []string { return append(append([]string(nil), at...), k...) }
	u := &User{name: uc.Name, md5: uc.DigestMD5, sha256: uc.DigestSHA256}
	if !userNameRE.MatchString(uc.Name) {
		fe.add(fmt.Errorf("invalid user name %q: want 1 to 64 of A-Z a-z 0-9 . _ @ + -, starting with a letter or digit", uc.Name), key("name")...)
	}
	if uc.PasswordArgon2id == "" && uc.DigestMD5 == "" && uc.DigestSHA256 == "" && len(uc.Tokens) == 0 {
		fe.add(errors.New("needs password_argon2id, a digest HA1 (see camvault passwd) or tokens (see camvault token)"), key("name")...)
	}
	u.tokens = compileTokens(fe, key("tokens"), uc.Tokens)
	if uc.PasswordArgon2id != "" {
		h, err := ParseArgon2id(uc.PasswordArgon2id)
		if err != nil {
			fe.add(err, key("password_argon2id")...)
		}
		u.argon2 = &h
	}
	for _, d := range []struct{ alg, key, v string }{
		{DigestMD5, "digest_md5", uc.DigestMD5}, {DigestSHA256, "digest_sha256", uc.DigestSHA256},
	} {
		if d.v == "" {
			continue
		}
		if err := validHA1(d.alg, d.v); err != nil {
			fe.add(err, key(d.key)...)
		}
	}
	u.networks = compileNetworks(fe, key("networks"), uc.Networks)
	u.perms = compilePermissions(fe, key("permissions"), uc.Permissions)
	return u
}

func compileNetworks(fe *fieldErrors, at []string, nets []string) []netip.Prefix {
	if len(nets) > maxNetworks {
		fe.add(fmt.Errorf("at most %d networks", maxNetworks), at...)
		return nil
	}
	out := make([]netip.Prefix, 0, len(nets))
	for i, s := range nets {
		p, err := parseNetwork(s)
		if err != nil {
			fe.add(err, append(append([]string(nil), at...), strconv.Itoa(i))...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// parseNetwork parses a CIDR prefix or a single address. The prefix must
// have no host bits set, so that "192.0.2.1/24" (a likely typo) is refused.
func parseNetwork(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid network %q: want a CIDR prefix such as 192.0.2.0/24 or an address", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("invalid network %q: host bits set (did you mean %s?)", s, p.Masked())
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

func compilePermissions(fe *fieldErrors, at []string, perms []Permission) []permission {
	if len(perms) > maxPermissions {
		fe.add(fmt.Errorf("at most %d permissions", maxPermissions), at...)
		return nil
	}
	out := make([]permission, 0, len(perms))
	for i, p := range perms {
		key := func(k ...string) []string {
			return append(append(append([]string(nil), at...), strconv.Itoa(i)), k...)
		}
		act, err := ParseAction(p.Action)
		if err != nil {
			fe.add(err, key("action")...)
			continue
		}
		switch {
		case len(p.Cameras) > maxGlobs:
			fe.add(fmt.Errorf("at most %d globs", maxGlobs), key("cameras")...)
			continue
		case act.needsCameras() && len(p.Cameras) == 0:
			fe.add(fmt.Errorf("%s needs cameras (a list of globs; \"*\" is every camera)", act), key("cameras")...)
		}
		for j, g := range p.Cameras {
			if err := parseGlob(g); err != nil {
				fe.add(err, key("cameras", strconv.Itoa(j))...)
			}
		}
		out = append(out, permission{action: act, cameras: p.Cameras})
	}
	return out
}

package main

import (
	"errors"
	"log/slog"
	"time"

	rtspauth "github.com/camvault/camvault/rtsp/auth"

	"github.com/camvault/camvault/auth"
)

// authConfig is the authentication section: the realm and nonces of RTSP
// Digest (feeds rtspauth.ServerConfig), argon2id concurrency (auth.Config)
// and the limits of failed attempts (auth.LimiterConfig). The users and
// the anonymous rights are the top-level users and anonymous sections,
// decoded straight into auth.UserConfig and auth.AnonymousConfig.
type authConfig struct {
	Realm               string   `yaml:"realm"`
	NonceLifetime       Duration `yaml:"nonce_lifetime"`
	MaxConcurrentHashes int      `yaml:"max_concurrent_hashes"`
	FailureThreshold    int      `yaml:"failure_threshold"`
	FailureWindow       Duration `yaml:"failure_window"`
	FailureDelayMin     Duration `yaml:"failure_delay_min"`
	FailureDelayMax     Duration `yaml:"failure_delay_max"`
	FailureMaxAddresses int      `yaml:"failure_max_addresses"`
	FailureLogInterval  Duration `yaml:"failure_log_interval"`
}

func defaultAuthConfig() authConfig {
	return authConfig{
		Realm:               rtspauth.DefaultRealm,
		NonceLifetime:       Duration(rtspauth.DefaultNonceLifetime),
		MaxConcurrentHashes: auth.DefaultMaxConcurrentHashes,
		FailureThreshold:    auth.DefaultFailureThreshold,
		FailureWindow:       Duration(auth.DefaultFailureWindow),
		FailureDelayMin:     Duration(auth.DefaultFailureDelayMin),
		FailureDelayMax:     Duration(auth.DefaultFailureDelayMax),
		FailureMaxAddresses: auth.DefaultFailureMaxAddresses,
		FailureLogInterval:  Duration(auth.DefaultFailureLogInterval),
	}
}

// validateAuth checks the auth section with the packages' own validation,
// and the users and anonymous sections with auth.Config.Validate, mapping
// their field paths onto the file's keys.
func (c *fileConfig) validateAuth(v *validator) {
	if _, err := rtspauth.NewServer(c.serverAuthConfig()); err != nil {
		v.fail("auth.realm", "%v", err)
	}
	v.duration("auth.nonce_lifetime", c.Auth.NonceLifetime, time.Second, 7*24*time.Hour)
	v.count("auth.max_concurrent_hashes", c.Auth.MaxConcurrentHashes, 1, 1024)
	v.fieldErrors([]string{"auth"}, c.limiterConfig(nil).Validate())
	ac := c.authConfig()
	ac.MaxConcurrentHashes = 0 // checked above, under its key in the file
	v.fieldErrors(nil, ac.Validate())
}

// fieldErrors adds the *auth.FieldError values joined in err under prefix.
func (v *validator) fieldErrors(prefix []string, err error) {
	if err == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		if fe, ok := errors.AsType[*auth.FieldError](e); ok {
			key := append(append([]string(nil), prefix...), fe.Path...)
			v.errs = append(v.errs, &fieldError{key: key, err: fe.Err})
			continue
		}
		v.errs = append(v.errs, e)
	}
}

// authConfig returns the configuration of auth.New.
func (c *fileConfig) authConfig() auth.Config {
	return auth.Config{Users: c.Users, Anonymous: c.Anonymous, MaxConcurrentHashes: c.Auth.MaxConcurrentHashes}
}

// limiterConfig returns the configuration of auth.NewLimiter.
func (c *fileConfig) limiterConfig(log *slog.Logger) auth.LimiterConfig {
	a := c.Auth
	return auth.LimiterConfig{Threshold: a.FailureThreshold, Window: time.Duration(a.FailureWindow),
		DelayMin: time.Duration(a.FailureDelayMin), DelayMax: time.Duration(a.FailureDelayMax),
		MaxAddresses: a.FailureMaxAddresses, LogInterval: time.Duration(a.FailureLogInterval), Logger: log}
}

// serverAuthConfig returns the configuration of rtspauth.NewServer; the
// nonce secret is random per process.
func (c *fileConfig) serverAuthConfig() rtspauth.ServerConfig {
	return rtspauth.ServerConfig{Realm: c.Auth.Realm, NonceLifetime: time.Duration(c.Auth.NonceLifetime)}
}

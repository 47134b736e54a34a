package main

import (
	"log/slog"

	rtspauth "github.com/camvault/camvault/rtsp/auth"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/internal/settings"
)

// authConfig is the authentication section. It inlines the package configs it feeds: the
// realm and nonces of RTSP Digest (rtspauth.ServerConfig), argon2id concurrency and the cache of
// verified passwords (auth.Config,
// whose users and anonymous rights are the top-level users and anonymous sections) and the
// limits of failed attempts (auth.LimiterConfig).
type authConfig struct {
	rtspauth.ServerConfig `yaml:",inline"`
	auth.Config           `yaml:",inline"`
	auth.LimiterConfig    `yaml:",inline"`
}

func defaultAuthConfig() authConfig {
	return authConfig{
		ServerConfig: rtspauth.DefaultServerConfig(),
		Config: auth.Config{MaxConcurrentHashes: auth.DefaultMaxConcurrentHashes,
			CredentialCacheSize: auth.DefaultCredentialCacheSize, CredentialCacheTTL: auth.DefaultCredentialCacheTTL},
		LimiterConfig: auth.DefaultLimiterConfig(),
	}
}

// validateAuth checks the auth section, and the users and anonymous sections, with the
// packages' own validation.
func (c *fileConfig) validateAuth(v *settings.Check) {
	v.Add(c.Auth.ServerConfig.Validate(), "auth")
	v.Add(auth.Config{MaxConcurrentHashes: c.Auth.MaxConcurrentHashes, CredentialCacheSize: c.Auth.CredentialCacheSize,
		CredentialCacheTTL: c.Auth.CredentialCacheTTL}.Validate(), "auth")
	v.Add(c.Auth.LimiterConfig.Validate(), "auth")
	v.Add(auth.Config{Users: c.Users, Anonymous: c.Anonymous}.Validate())
}

// authConfig returns the configuration of auth.New.
func (c *fileConfig) authConfig() auth.Config {
	ac := c.Auth.Config
	ac.Users, ac.Anonymous = c.Users, c.Anonymous
	return ac
}

// limiterConfig returns the configuration of auth.NewLimiter.
func (c *fileConfig) limiterConfig(log *slog.Logger) auth.LimiterConfig {
	lc := c.Auth.LimiterConfig
	lc.Logger = log
	return lc
}

// serverAuthConfig returns the configuration of rtspauth.NewServer; the nonce secret is
// random per process.
func (c *fileConfig) serverAuthConfig() rtspauth.ServerConfig { return c.Auth.ServerConfig }

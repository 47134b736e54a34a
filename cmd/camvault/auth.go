package main

import (
	"context"
	"log/slog"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/rtsp"
)

// rtspAuth is everything the RTSP server needs to authenticate and
// authorize requests: the users and rights, the limiter of failed
// attempts and the Digest challenge/check codec. It implements
// rtsp.Credentials over the Authority.
//
// runServe builds it and keeps it in rtspHandler.access; the server does
// not enforce it yet (issue 9, item 3 wiring).
type rtspAuth struct {
	authority *auth.Authority
	limiter   *auth.Limiter
	server    *rtsp.ServerAuth
}

// newRTSPAuth builds the parts from a validated configuration.
func newRTSPAuth(c *fileConfig, log *slog.Logger) (*rtspAuth, error) {
	authority, err := auth.New(c.authConfig())
	if err != nil {
		return nil, err
	}
	limiter, err := auth.NewLimiter(c.limiterConfig(log.With("component", "auth")))
	if err != nil {
		return nil, err
	}
	server, err := rtsp.NewServerAuth(c.serverAuthConfig())
	if err != nil {
		return nil, err
	}
	return &rtspAuth{authority: authority, limiter: limiter, server: server}, nil
}

// DigestHA1 implements rtsp.Credentials.
func (a *rtspAuth) DigestHA1(user, algorithm string) (string, bool) {
	u, ok := a.authority.User(user)
	if !ok {
		return "", false
	}
	return u.DigestHA1(algorithm) // rtsp.AlgorithmMD5/SHA256 are spelled as auth.DigestMD5/SHA256
}

// CheckPassword implements rtsp.Credentials.
func (a *rtspAuth) CheckPassword(ctx context.Context, user, password string) bool {
	_, err := a.authority.CheckPassword(ctx, user, password)
	return err == nil
}

var _ rtsp.Credentials = (*rtspAuth)(nil)

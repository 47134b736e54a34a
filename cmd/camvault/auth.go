package main

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	rtspauth "github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/rtsp"
)

// rtspAuth is everything the RTSP server needs to authenticate and
// authorize requests: the users and rights, the limiter of failed
// attempts and the Digest challenge/check codec. It implements
// rtspauth.Credentials over the Authority; rtspHandler checks rights with it.
type rtspAuth struct {
	authority *auth.Authority
	limiter   *auth.Limiter
	server    *rtspauth.Server
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
	server, err := rtspauth.NewServer(c.serverAuthConfig())
	if err != nil {
		return nil, err
	}
	return &rtspAuth{authority: authority, limiter: limiter, server: server}, nil
}

// DigestHA1 implements rtspauth.Credentials.
func (a *rtspAuth) DigestHA1(user, algorithm string) (string, bool) {
	u, ok := a.authority.User(user)
	if !ok {
		return "", false
	}
	return u.DigestHA1(algorithm) // rtspauth.AlgorithmMD5/SHA256 are spelled as auth.DigestMD5/SHA256
}

// CheckPassword implements rtspauth.Credentials.
func (a *rtspAuth) CheckPassword(ctx context.Context, user, password string) bool {
	_, err := a.authority.CheckPassword(ctx, user, password)
	return err == nil
}

var _ rtspauth.Credentials = (*rtspAuth)(nil)

// rtspAccess is the server's authentication.
func (a *rtspAuth) rtspAccess() *rtsp.Access {
	return &rtsp.Access{Auth: a.server, Credentials: a, Limiter: a.limiter}
}

// countedRTSPAccess is rtspAccess with each failed authentication also reported to failed.
func (a *rtspAuth) countedRTSPAccess(failed func(protocol string)) *rtsp.Access {
	acc := a.rtspAccess()
	acc.Limiter = countingLimiter{FailureLimiter: a.limiter, failed: failed}
	return acc
}

// allow returns nil when user (anonymous when "") at peer may do action on
// camera, else 401 for an anonymous client (it gets the challenges) and 403
// for an authenticated one. A nil rtspAuth allows everything.
func (a *rtspAuth) allow(user string, peer netip.Addr, action auth.Action, camera string) error {
	if a == nil {
		return nil
	}
	var u *auth.User
	if user != "" {
		u, _ = a.authority.User(user) // the server authenticated this name
	}
	if a.authority.Allowed(u, peer, action, camera) {
		return nil
	}
	if u == nil {
		return &base.Error{Status: base.StatusUnauthorized, Reason: "authentication required"}
	}
	return &base.Error{Status: base.StatusForbidden, Reason: "no " + action.String() + " right on this camera"}
}

// flushLoop flushes the failure limiter's log summaries every interval until ctx is done, and
// once more then. It runs as a lifecycle part.
func (a *rtspAuth) flushLoop(interval time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				a.limiter.Flush(time.Now())
				return nil
			case now := <-t.C:
				a.limiter.Flush(now)
			}
		}
	}
}

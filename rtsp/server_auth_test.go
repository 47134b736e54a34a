package rtsp_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// authHandler refuses anonymous publishers with 401 and records who
// announced.
type authHandler struct {
	*fakeHandler
	mu    sync.Mutex
	users []string
}

func (h *authHandler) Announce(ctx context.Context, req *rtsp.AnnounceRequest) (rtsp.Publication, error) {
	if req.User == "" {
		return nil, &base.Error{Status: base.StatusUnauthorized, Reason: "authentication required"}
	}
	h.mu.Lock()
	h.users = append(h.users, req.User)
	h.mu.Unlock()
	return h.fakeHandler.Announce(ctx, req)
}

// countingLimiter counts failures and never delays.
type countingLimiter struct {
	mu    sync.Mutex
	fails int
}

func (l *countingLimiter) Wait(netip.Addr, time.Time) time.Duration { return 0 }
func (l *countingLimiter) Fail(netip.Addr, time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails++
	return 0
}

// authorize answers the Digest challenge of a 401 for method and url.
func authorize(t *testing.T, resp *base.Response, method base.Method, url, user, password string) string {
	t.Helper()
	cs, err := auth.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := auth.PickChallenge(cs)
	if !ok {
		t.Fatalf("no usable challenge in %q", resp.Header.Values("WWW-Authenticate"))
	}
	v, err := c.Authorize(method, url, user, password, 1, "c0ffee")
	if err != nil {
		t.Fatal(err)
	}
	return "Authorization: " + v
}

// TestServerAccess covers RTSP-AUTH-01..12 on the server: an anonymous
// ANNOUNCE refused by the Handler gets 401 with Digest SHA-256 and MD5
// challenges (no Basic without TLS); a wrong password is a counted 401; a
// right Digest response reaches the Handler with the user's name; a bad
// header is a 400; a nonce that went stale is still good within its
// user's session but gets 401 stale=true elsewhere.
func TestServerAccess(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sa, err := auth.NewServer(auth.ServerConfig{Realm: rtsptest.Realm, NonceLifetime: time.Minute, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	lim := &countingLimiter{}
	h := &authHandler{fakeHandler: ffmpegHandler()}
	srv := startServer(t, rtsp.Config{Handler: h, Access: &rtsp.Access{Auth: sa, Credentials: rtsptest.DefaultUsers, Limiter: lim}})
	c := dial(t, srv)
	announce := func(headers ...string) *base.Response {
		return c.Do("ANNOUNCE", c.URL+"/cam1", append([]string{"Content-Type: application/sdp"}, headers...), ffmpegSDP)
	}
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200) // reveals nothing: needs no credentials
	denied := announce()
	rtsptest.ExpectStatus(t, denied, 401)
	ch := denied.Header.Values("WWW-Authenticate")
	if len(ch) != 2 || !strings.Contains(ch[0], "algorithm=SHA-256") || !strings.Contains(ch[1], "algorithm=MD5") {
		t.Fatalf("challenges %q", ch)
	}
	rtsptest.ExpectStatus(t, announce(authorize(t, denied, base.MethodAnnounce, c.URL+"/cam1", "viewer", "wrong")), 401)
	rtsptest.ExpectStatus(t, announce("Authorization: Basic dmlld2VyOnNlY3JldA=="), 401) // Basic without TLS
	rtsptest.ExpectStatus(t, announce(`Authorization: Digest username="viewer`), 400)
	if lim.fails != 2 {
		t.Fatalf("%d failures counted, want 2", lim.fails)
	}
	good := authorize(t, denied, base.MethodAnnounce, c.URL+"/cam1", "viewer", "secret")
	rtsptest.ExpectStatus(t, announce(good), 200)
	id := c.setupTCP("cam1", "record")
	if len(h.users) != 1 || h.users[0] != "viewer" {
		t.Fatalf("handler saw users %q", h.users)
	}

	mu.Lock()
	now = now.Add(2 * time.Minute) // every nonce issued so far is stale
	mu.Unlock()
	rec := authorize(t, denied, base.MethodRecord, c.URL+"/cam1", "viewer", "secret")
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam1", []string{"Session: " + id, rec}, ""), 200)
	other := dial(t, srv)
	resp := other.Do("ANNOUNCE", other.URL+"/cam1", []string{"Content-Type: application/sdp", good}, ffmpegSDP)
	rtsptest.ExpectStatus(t, resp, 401)
	if v := resp.Header.Values("WWW-Authenticate"); len(v) == 0 || !strings.Contains(v[0], "stale=") {
		t.Fatalf("stale nonce answered without stale=true: %q", v)
	}
}

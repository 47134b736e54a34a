package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/camvault/camvault/auth"
)

// caller is who sent a request: the authenticated user (nil: anonymous),
// the peer address of the connection (never a forwarded header) and
// whether the connection is TLS.
type caller struct {
	user *auth.User
	peer netip.Addr
	tls  bool
}

// name returns the user name, "" for anonymous.
func (c *caller) name() string {
	if c.user == nil {
		return ""
	}
	return c.user.Name()
}

// peerAddr returns the address of r's connection; an unparsable one (a
// test's "pipe") is the unspecified address, which no network contains.
func peerAddr(r *http.Request) netip.Addr { return addrOf(r.RemoteAddr) }

// addrOf returns the IP address of a "host:port" peer address, unmapped; the unspecified
// address (never loopback) when it cannot be parsed.
func addrOf(hostport string) netip.Addr {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return netip.IPv6Unspecified()
	}
	return ap.Addr().Unmap()
}

// secureChannel reports whether credentials may travel on r's connection:
// TLS, or a loopback peer.
func (c *caller) secureChannel() bool { return c.tls || c.peer.IsLoopback() }

// authenticate returns the caller of r. Credentials are Basic (the user's
// argon2id password) or Bearer (a token of the users section, also offered
// by a WebSocket request as a subprotocol, see webSocketBearer); both are
// taken only over TLS or from a loopback peer, and refused unchecked
// otherwise, so a secret never crosses a network in clear text. An address
// that failed too often is refused without checking until the limiter's
// delay has passed (Retry-After says when). Every refused credential
// counts as an auth failure (Deps.AuthFailure); those that were checked or
// not understood also count towards the limiter's delay of the address.
func (s *Server) authenticate(r *http.Request) (*caller, error) {
	c := &caller{peer: peerAddr(r), tls: r.TLS != nil}
	h := r.Header.Get("Authorization")
	if tok, ok := webSocketBearer(r); ok && h == "" {
		h = "Bearer " + tok // a browser's WebSocket cannot send the header
	}
	if h == "" {
		return c, nil
	}
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	if !c.secureChannel() {
		s.refused()
		return nil, errStatus(http.StatusUnauthorized, "credentials are accepted only over HTTPS or from loopback; they were not checked")
	}
	if s.deps.Limiter != nil {
		if wait := s.deps.Limiter.Wait(c.peer, s.now()); wait > 0 {
			s.refused()
			return nil, &statusError{status: http.StatusUnauthorized, challenge: true, retryAfter: wait,
				detail: fmt.Sprintf("too many failed attempts from this address; credentials are not checked for %v", wait.Round(1e9))}
		}
	}
	var err error
	switch {
	case strings.EqualFold(scheme, "Basic"):
		c.user, err = s.checkBasic(r, cred)
	case strings.EqualFold(scheme, "Bearer"):
		c.user, err = s.deps.Authority.CheckToken(cred)
	default:
		s.fail(c.peer)
		return nil, errStatus(http.StatusUnauthorized, "unsupported authorization scheme: use Basic or Bearer")
	}
	if err != nil {
		s.fail(c.peer)
		return nil, errStatus(http.StatusUnauthorized, "bad credentials")
	}
	return c, nil
}

// checkBasic checks a Basic credential (RFC 7617).
func (s *Server) checkBasic(r *http.Request, cred string) (*auth.User, error) {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return nil, auth.ErrBadCredentials
	}
	name, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, auth.ErrBadCredentials
	}
	return s.deps.Authority.CheckPassword(r.Context(), name, password)
}

// fail records a credential from peer refused after a check (or not
// understood): the limiter delays the address, the metric counts it.
func (s *Server) fail(peer netip.Addr) {
	if s.deps.Limiter != nil {
		s.deps.Limiter.Fail(peer, s.now())
	}
	s.refused()
}

// refused counts a refused credential in the metrics.
func (s *Server) refused() {
	if s.deps.AuthFailure != nil {
		s.deps.AuthFailure("http")
	}
}

// allow returns nil when c may do action on camera ("" for the API as a
// whole), else 401 for an anonymous caller and 403 for a user. It is
// checked before anything that tells whether camera exists: a caller
// without the right gets the same answer for a camera that exists and one
// that does not.
func (s *Server) allow(c *caller, action auth.Action, camera string) error {
	if s.deps.Authority.Allowed(c.user, c.peer, action, camera) {
		return nil
	}
	if c.user == nil {
		return errStatus(http.StatusUnauthorized, "authentication required")
	}
	if camera == "" {
		return errStatus(http.StatusForbidden, "no "+action.String()+" right")
	}
	return errStatus(http.StatusForbidden, "no "+action.String()+" right on this camera")
}

// sees reports whether c may see camera in lists. What belongs to no
// camera ("": a session whose path names none) is seen only by callers
// whose api right covers every camera. A caller who sees a session may also
// kick it: the api right includes the API's mutations.
func (s *Server) sees(c *caller, camera string) bool {
	if camera == "" {
		return s.deps.Authority.AllowedEverywhere(c.user, c.peer, auth.ActionAPI)
	}
	return s.deps.Authority.Allowed(c.user, c.peer, auth.ActionAPI, camera)
}

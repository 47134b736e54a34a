package auth

import (
	"net/netip"
	"slices"
)

// rights are networks and permissions: a user's, or the anonymous ones.
type rights struct {
	networks []netip.Prefix // empty: anywhere
	perms    []permission
}

// permission is a validated Permission.
type permission struct {
	action  Action
	cameras []string // checked globs
}

// loopbackEverything is the anonymous access of a configuration without
// users: every action on every camera, from loopback only.
func loopbackEverything() *rights {
	r := &rights{networks: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
	}}
	for a := ActionPublish; a <= ActionMetrics; a++ {
		r.perms = append(r.perms, permission{action: a, cameras: []string{"*"}})
	}
	return r
}

// allows reports whether the rights let peer do action on camera. An api
// permission without cameras covers every camera, and any api permission
// allows camera "" (the API itself, before a camera is named).
func (r *rights) allows(peer netip.Addr, action Action, camera string) bool {
	if r == nil || !r.from(peer) {
		return false
	}
	for _, p := range r.perms {
		if p.action != action {
			continue
		}
		if !action.cameraScoped() || (action == ActionAPI && (len(p.cameras) == 0 || camera == "")) {
			return true
		}
		if slices.ContainsFunc(p.cameras, func(g string) bool { return matchGlob(g, camera) }) {
			return true
		}
	}
	return false
}

// from reports whether peer is inside the networks (any peer when there
// are none). An IPv4-mapped IPv6 peer counts as its IPv4 address.
func (r *rights) from(peer netip.Addr) bool {
	if len(r.networks) == 0 {
		return true
	}
	peer = peer.Unmap().WithZone("")
	return slices.ContainsFunc(r.networks, func(p netip.Prefix) bool { return p.Contains(peer) })
}

// allowsEvery reports whether the rights let peer do action on every camera:
// an api permission without cameras, or a permission whose globs include
// "*" (camera names hold no '/', so "*" matches them all).
func (r *rights) allowsEvery(peer netip.Addr, action Action) bool {
	if r == nil || !r.from(peer) {
		return false
	}
	for _, p := range r.perms {
		if p.action != action {
			continue
		}
		if !action.cameraScoped() || (action == ActionAPI && len(p.cameras) == 0) || slices.Contains(p.cameras, "*") {
			return true
		}
	}
	return false
}

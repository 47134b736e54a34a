package rtsp

import (
	"errors"
	"net/netip"
	"sync"
)

// Refusals of the tunnel table, answered to the half that caused them.
var (
	// errTunnelDuplicate: a GET for a cookie whose GET is alive, or a POST
	// for a tunnel that has one (one POST at a time, SEC-08). 409.
	errTunnelDuplicate = errors.New("tunnel cookie already in use")
	// errTunnelForeign: a POST (or a GET meeting a waiting POST) of
	// another owner: another authenticated user, or another address when
	// anonymous, or TLS on one half only (SEC-08). 403.
	errTunnelForeign = errors.New("tunnel cookie of another client")
	// errTunnelsFull: Config.MaxPendingTunnels halves already wait. 503.
	errTunnelsFull = errors.New("too many pending tunnels")
)

// tunnelOwner is who opened a tunnel half: the user its HTTP request
// authenticated as ("" for none), the peer address and whether it came
// over TLS.
type tunnelOwner struct {
	user string
	ip   netip.Addr
	tls  bool
}

// admits reports whether the half of p may join the tunnel of o
// (RTSP-HT-04, SEC-08): both over TLS or both not; an authenticated half
// must be of the same user and may come from another address (a proxy
// with several), an anonymous one must come from the same address.
func (o tunnelOwner) admits(p tunnelOwner) bool {
	switch {
	case p.tls != o.tls:
		return false
	case p.user != "":
		return p.user == o.user
	}
	return p.ip == o.ip
}

// tunnelTable pairs the GETs and POSTs of RTSP-over-HTTP tunnels by their
// cookie (RTSP-HT-04). An entry lives as long as its tunnel's GET, or,
// for a POST that came first, until its GET claims it or it gives up.
// Halves waiting for their other half are pending, at most max of them.
type tunnelTable struct {
	max int

	mu       sync.Mutex // guards the fields below and those of every entry
	byCookie map[string]*tunnelEntry
	pending  int // entries that never had both halves
}

// tunnelEntry is one cookie's tunnel. Guarded by tunnelTable.mu.
type tunnelEntry struct {
	get     *tunnelConn // nil while a POST waits for its GET
	waiting *postHalf   // a POST that waits for its GET, or for get's POST to end
	hasPost bool        // get reads a POST now, or one was handed to it
	paired  bool        // both halves met once: no longer pending
}

func newTunnelTable(max int) *tunnelTable {
	return &tunnelTable{max: max, byCookie: make(map[string]*tunnelEntry)}
}

// addGet registers the tunnel t of a GET. A POST that waits for it
// becomes t's first POST if its owner is admitted, and is refused (with
// errTunnelForeign) otherwise.
func (tt *tunnelTable) addGet(t *tunnelConn) error {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	e := tt.byCookie[t.cookie]
	switch {
	case e != nil && e.get != nil:
		return errTunnelDuplicate
	case e == nil && tt.pending >= tt.max:
		return errTunnelsFull
	case e == nil:
		tt.byCookie[t.cookie] = &tunnelEntry{get: t}
		tt.pending++
		return nil
	}
	e.get = t
	h := e.waiting
	e.waiting = nil
	if !t.owner.admits(h.owner) {
		h.finish(errTunnelForeign)
		return nil
	}
	tt.attachLocked(e, h)
	return nil
}

// addPost hands the POST h to its tunnel, or leaves it waiting: for its
// GET when none has the cookie yet, or for the end of the tunnel's current
// POST (a client that replaces its POST may open the new one before the
// server has seen the old one end). h.attached is closed once a tunnel has
// it; h is finished with an error when it is refused while it waits.
func (tt *tunnelTable) addPost(cookie string, h *postHalf) error {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	e := tt.byCookie[cookie]
	switch {
	case e == nil && tt.pending >= tt.max:
		return errTunnelsFull
	case e == nil:
		tt.byCookie[cookie] = &tunnelEntry{waiting: h}
		tt.pending++
		return nil
	case e.waiting != nil:
		return errTunnelDuplicate
	case !e.get.owner.admits(h.owner):
		return errTunnelForeign
	case e.hasPost:
		e.waiting = h
		return nil
	}
	tt.attachLocked(e, h)
	return nil
}

// attachLocked gives h to the entry's tunnel. Caller holds tt.mu.
func (tt *tunnelTable) attachLocked(e *tunnelEntry, h *postHalf) {
	e.hasPost = true
	if !e.paired {
		e.paired = true
		tt.pending--
	}
	e.get.posts <- h // never blocks: hasPost keeps one in flight
	close(h.attached)
}

// dropWaiting removes the POST h that waited in vain and reports whether
// it was still waiting (not handed to a tunnel or refused meanwhile).
func (tt *tunnelTable) dropWaiting(cookie string, h *postHalf) bool {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	e := tt.byCookie[cookie]
	if e == nil || e.waiting != h {
		return false
	}
	e.waiting = nil
	if e.get == nil {
		delete(tt.byCookie, cookie)
		tt.pending--
	}
	return true
}

// entryLocked returns the entry of the tunnel t, nil when the table holds
// none for it. Caller holds tt.mu.
func (tt *tunnelTable) entryLocked(t *tunnelConn) *tunnelEntry {
	if e := tt.byCookie[t.cookie]; e != nil && e.get == t {
		return e
	}
	return nil
}

// postEnded tells that the tunnel t stopped reading its POST: a POST that
// waits for that takes its place.
func (tt *tunnelTable) postEnded(t *tunnelConn) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	e := tt.entryLocked(t)
	if e == nil {
		return
	}
	e.hasPost = false
	if h := e.waiting; h != nil {
		e.waiting = nil
		tt.attachLocked(e, h)
	}
}

// remove forgets the tunnel t; no POST is handed to it afterwards, and one
// that waits for it is refused.
func (tt *tunnelTable) remove(t *tunnelConn) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	e := tt.entryLocked(t)
	if e == nil {
		return
	}
	delete(tt.byCookie, t.cookie)
	if !e.paired {
		tt.pending--
	}
	if e.waiting != nil {
		e.waiting.finish(errNoGet)
	}
}

// size returns the entries and how many of them are pending.
func (tt *tunnelTable) size() (entries, pending int) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return len(tt.byCookie), tt.pending
}

package rtsp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// udpPair is the shared RTP/RTCP socket pair of all UDP sessions
// (RTSP-TR-10), demultiplexed by the peer's address and port.
type udpPair struct {
	srv       *Server
	rtp, rtcp *udpSocket
	maxPacket int
	drain     *udpDrain // nil if its socket could not be opened
}

// udpSocket is one socket of the pair and its demultiplexing table.
type udpSocket struct {
	pc         *net.UDPConn
	rtcp       bool
	drops      atomic.Uint64 // datagrams from unknown sources, empty or too large
	sendErrors atomic.Uint64 // play datagrams the kernel refused
	dropLog    logEvery      // the reader's "datagrams dropped" line

	// mu guards targets, unheard and the routes' mutable fields. The packet
	// path takes it shared.
	mu sync.RWMutex
	// targets maps each route's announced source and its latched source,
	// if any, to the route.
	targets map[netip.AddrPort]*udpRoute
	// unheard lists, by peer IP, the routes that have heard nothing from
	// their announced source and latched no other source: the candidates
	// for latching (RTSP-TR-11).
	unheard map[netip.Addr][]*udpRoute
}

// udpRoute routes the datagrams of one source to a stream. It is bound to
// the publisher's RTSP address at the client port of its Transport header
// (SEC-05/06). A publisher behind NAT sends from another port: the first
// datagram from the same IP at an unknown port latches to the route, if it
// is the only one of that IP still waiting (RTSP-TR-11). The announced
// source always wins: its first datagram undoes a latch, so that a third
// party on the publisher's host that sprays the port first cannot take the
// stream over.
type udpRoute struct {
	ss     *session
	stream int
	key    netip.AddrPort // the announced source
	heard  bool           // a datagram came from key; guarded by udpSocket.mu
	latch  netip.AddrPort // the latched source, zero if none; guarded by udpSocket.mu
}

// udpDropLogInterval rate-limits the dropped-datagram warning of each socket.
const udpDropLogInterval = time.Minute

func newUDPPair(s *Server) (*udpPair, error) {
	u := &udpPair{srv: s, maxPacket: s.cfg.MaxPacketSize}
	var err error
	if u.rtp, err = listenUDP(s.cfg.UDPRTPAddress, s.cfg.UDPReadBuffer, false, s.log); err != nil {
		return nil, err
	}
	if u.rtcp, err = listenUDP(s.cfg.UDPRTCPAddress, s.cfg.UDPReadBuffer, true, s.log); err != nil {
		_ = u.rtp.pc.Close() // bind failed: nothing to report about this one
		return nil, err
	}
	if u.drain, err = newUDPDrain(u.rtp.pc.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		s.log.Warn("rtsp udp teardown closes after udp_teardown_linger alone", "err", err)
	}
	return u, nil
}

func listenUDP(addr string, readBuf int, rtcp bool, log *slog.Logger) (*udpSocket, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("rtsp udp address %s: %w", addr, err)
	}
	pc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("rtsp udp listen %s: %w", addr, err)
	}
	setReadBuffer(pc, readBuf, log)
	return newUDPSocket(pc, rtcp), nil
}

func (u *udpPair) start(wg *sync.WaitGroup) {
	wg.Go(func() { u.readLoop(u.rtp) })
	wg.Go(func() { u.readLoop(u.rtcp) })
}

func (u *udpPair) close() {
	_ = u.rtp.pc.Close() // shutting down
	_ = u.rtcp.pc.Close()
	if u.drain != nil {
		u.drain.close()
	}
}

// afterQueued runs fn once the RTP socket's reader has read every datagram
// that arrived before the call (udpDrain), or at once without a drain
// socket. fn must not block.
func (u *udpPair) afterQueued(fn func()) {
	if u.drain == nil {
		fn()
		return
	}
	u.drain.after(fn)
}

// serverPorts returns the ports to put in server_port.
func (u *udpPair) serverPorts() headers.PortPair {
	return headers.PortPair{
		RTP:  int(u.rtp.pc.LocalAddr().(*net.UDPAddr).Port),
		RTCP: int(u.rtcp.pc.LocalAddr().(*net.UDPAddr).Port),
	}
}

func newUDPSocket(pc *net.UDPConn, rtcp bool) *udpSocket {
	return &udpSocket{
		pc:      pc,
		rtcp:    rtcp,
		dropLog: logEvery{interval: udpDropLogInterval},
		targets: make(map[netip.AddrPort]*udpRoute),
		unheard: make(map[netip.Addr][]*udpRoute),
	}
}

// register routes rtp and rtcp sources to a stream. It fails if either is
// already taken by another stream.
func (u *udpPair) register(ss *session, stream int, rtp, rtcp netip.AddrPort) bool {
	u.rtp.mu.Lock()
	defer u.rtp.mu.Unlock()
	u.rtcp.mu.Lock()
	defer u.rtcp.mu.Unlock()
	if u.rtp.taken(rtp) || u.rtcp.taken(rtcp) {
		return false
	}
	u.rtp.add(&udpRoute{ss: ss, stream: stream, key: rtp})
	u.rtcp.add(&udpRoute{ss: ss, stream: stream, key: rtcp})
	return true
}

// taken reports whether a live session's route uses a, announced or
// latched.
func (k *udpSocket) taken(a netip.AddrPort) bool {
	r, ok := k.targets[a]
	return ok && !r.ss.isClosed()
}

// add routes r.key to r, replacing what an ended session left there.
func (k *udpSocket) add(r *udpRoute) {
	if old, ok := k.targets[r.key]; ok {
		k.drop(old)
	}
	k.targets[r.key] = r
	k.unheard[r.key.Addr()] = append(k.unheard[r.key.Addr()], r)
}

// drop removes r and its latch from the table. Caller holds k.mu.
func (k *udpSocket) drop(r *udpRoute) {
	if k.targets[r.key] == r {
		delete(k.targets, r.key)
	}
	if r.latch.IsValid() && k.targets[r.latch] == r {
		delete(k.targets, r.latch)
	}
	k.notCandidate(r)
}

// notCandidate drops r from the latch candidates of its IP.
func (k *udpSocket) notCandidate(r *udpRoute) {
	ip := r.key.Addr()
	routes := k.unheard[ip]
	for i, c := range routes {
		if c == r {
			routes = append(routes[:i], routes[i+1:]...)
			break
		}
	}
	if len(routes) == 0 {
		delete(k.unheard, ip)
	} else {
		k.unheard[ip] = routes
	}
}

// unregister removes every route of ss.
func (u *udpPair) unregister(ss *session) {
	for _, k := range []*udpSocket{u.rtp, u.rtcp} {
		k.remove(func(r *udpRoute) bool { return r.ss == ss })
	}
}

// unregisterStream removes the routes of one stream of ss.
func (u *udpPair) unregisterStream(ss *session, stream int) {
	for _, k := range []*udpSocket{u.rtp, u.rtcp} {
		k.remove(func(r *udpRoute) bool { return r.ss == ss && r.stream == stream })
	}
}

func (k *udpSocket) remove(match func(*udpRoute) bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, r := range k.targets {
		if match(r) {
			k.drop(r)
		}
	}
}

// readLoop reads datagrams until the socket is closed, reusing one buffer:
// no allocation per packet.
func (u *udpPair) readLoop(k *udpSocket) {
	buf := make([]byte, u.maxPacket+1)
	for {
		n, src, err := k.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			k.drops.Add(1)
			continue
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		if !k.rtcp && u.drain != nil && u.drain.marker(src, buf[:n]) {
			continue
		}
		if n == 0 || n > u.maxPacket {
			u.dropped(k, src, "size")
			continue
		}
		r := k.lookup(src)
		if r == nil {
			u.dropped(k, src, "unknown source")
			continue
		}
		pkt := buf[:n]
		if p := r.ss.deliver(r.stream, k.rtcp || base.IsRTCP(pkt), pkt); p != nil {
			r.ss.packetPanicked(p)
		}
	}
}

// dropped counts a dropped datagram and logs it at most once per
// udpDropLogInterval per socket, with the number held back. Only the
// socket's reader calls it.
func (u *udpPair) dropped(k *udpSocket, src netip.AddrPort, why string) {
	k.drops.Add(1)
	if ok, n := k.dropLog.allow(time.Now()); ok {
		u.srv.log.Warn("rtsp udp datagram dropped", "peer", src, "err", why, "rtcp", k.rtcp, "suppressed", n)
	}
}

// lookup returns the route of a source, or nil. A datagram from an
// announced source marks its route heard and undoes a latch; one from an
// unknown port of a peer IP latches to the only unheard route of that IP,
// if there is exactly one (RTSP-TR-11, SEC-06). Anything else is nil.
func (k *udpSocket) lookup(src netip.AddrPort) *udpRoute {
	k.mu.RLock()
	r := k.targets[src]
	settled := r != nil && (r.heard || r.key != src)
	candidates := len(k.unheard[src.Addr()])
	k.mu.RUnlock()
	if settled {
		return r
	}
	if r == nil && candidates != 1 {
		return nil
	}
	return k.settle(src)
}

// settle marks src's route heard, or latches src, under the write lock.
func (k *udpSocket) settle(src netip.AddrPort) *udpRoute {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r := k.targets[src]; r != nil {
		if r.key == src && !r.heard {
			r.heard = true
			k.notCandidate(r)
			if r.latch.IsValid() {
				delete(k.targets, r.latch)
				r.ss.log.Warn("rtsp udp latch undone: the announced port is sending", "latched", r.latch, "stream", r.stream)
				r.latch = netip.AddrPort{}
			}
		}
		return r
	}
	routes := k.unheard[src.Addr()]
	if len(routes) != 1 {
		return nil
	}
	r := routes[0]
	r.latch = src
	k.targets[src] = r
	k.notCandidate(r)
	return r
}

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
)

// udpPair is the shared RTP/RTCP socket pair of all UDP sessions
// (RTSP-TR-10), demultiplexed by the peer's address and port.
type udpPair struct {
	srv       *Server
	rtp, rtcp *udpSocket
	lastLog   time.Time // reaper goroutine only
	lastDrops uint64    // reaper goroutine only
	maxPacket int
}

// udpSocket is one socket of the pair and its demultiplexing table.
type udpSocket struct {
	pc         *net.UDPConn
	rtcp       bool
	drops      atomic.Uint64 // datagrams from unknown sources, empty or too large
	sendErrors atomic.Uint64 // play datagrams the kernel refused

	// mu guards targets and pending. The packet path takes it shared.
	mu      sync.RWMutex
	targets map[netip.AddrPort]udpTarget
	// pending lists, by peer IP, the keys whose source port has not been
	// seen yet: the candidates for latching (RTSP-TR-11).
	pending map[netip.Addr][]netip.AddrPort
}

// udpTarget routes datagrams from one source to a stream.
type udpTarget struct {
	ss     *session
	stream int
	seen   bool // a datagram came from this exact source
}

// udpDropLogInterval rate-limits the dropped-datagram warning.
const udpDropLogInterval = 10 * time.Second

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
	return &udpSocket{
		pc:      pc,
		rtcp:    rtcp,
		targets: make(map[netip.AddrPort]udpTarget),
		pending: make(map[netip.Addr][]netip.AddrPort),
	}, nil
}

func (u *udpPair) start(wg *sync.WaitGroup) {
	wg.Go(func() { u.readLoop(u.rtp) })
	wg.Go(func() { u.readLoop(u.rtcp) })
}

func (u *udpPair) close() {
	_ = u.rtp.pc.Close() // shutting down
	_ = u.rtcp.pc.Close()
}

// serverPorts returns the ports to put in server_port.
func (u *udpPair) serverPorts() PortPair {
	return PortPair{
		RTP:  int(u.rtp.pc.LocalAddr().(*net.UDPAddr).Port),
		RTCP: int(u.rtcp.pc.LocalAddr().(*net.UDPAddr).Port),
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
	u.rtp.add(rtp, udpTarget{ss: ss, stream: stream})
	u.rtcp.add(rtcp, udpTarget{ss: ss, stream: stream})
	return true
}

func (k *udpSocket) taken(a netip.AddrPort) bool {
	t, ok := k.targets[a]
	return ok && !t.ss.isClosed()
}

// add routes a to t; a replaces the route of an ended session.
func (k *udpSocket) add(a netip.AddrPort, t udpTarget) {
	k.removePending(a)
	k.targets[a] = t
	k.pending[a.Addr()] = append(k.pending[a.Addr()], a)
}

// removePending drops a from the latch candidates of its IP.
func (k *udpSocket) removePending(a netip.AddrPort) {
	keys := k.pending[a.Addr()]
	for i, p := range keys {
		if p == a {
			keys = append(keys[:i], keys[i+1:]...)
			break
		}
	}
	if len(keys) == 0 {
		delete(k.pending, a.Addr())
	} else {
		k.pending[a.Addr()] = keys
	}
}

// unregister removes every route of ss.
func (u *udpPair) unregister(ss *session) {
	for _, k := range []*udpSocket{u.rtp, u.rtcp} {
		k.remove(func(t udpTarget) bool { return t.ss == ss })
	}
}

// unregisterStream removes the routes of one stream of ss.
func (u *udpPair) unregisterStream(ss *session, stream int) {
	for _, k := range []*udpSocket{u.rtp, u.rtcp} {
		k.remove(func(t udpTarget) bool { return t.ss == ss && t.stream == stream })
	}
}

func (k *udpSocket) remove(match func(udpTarget) bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for a, t := range k.targets {
		if !match(t) {
			continue
		}
		delete(k.targets, a)
		k.removePending(a)
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
		if n == 0 || n > u.maxPacket {
			k.drops.Add(1)
			continue
		}
		t, ok := k.lookup(netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
		if !ok {
			k.drops.Add(1)
			continue
		}
		pkt := buf[:n]
		if p := t.ss.deliver(t.stream, k.rtcp || isRTCP(pkt), pkt); p != nil {
			t.ss.packetPanicked(p)
		}
	}
}

// lookup finds the target of a source. The first datagram from a
// registered source marks it seen; a datagram from the peer IP at an
// unknown port is latched to the only unseen target of that IP, if there is
// exactly one (RTSP-TR-11, SEC-06). Anything else is dropped.
func (k *udpSocket) lookup(src netip.AddrPort) (udpTarget, bool) {
	k.mu.RLock()
	t, ok := k.targets[src]
	candidates := len(k.pending[src.Addr()])
	k.mu.RUnlock()
	if ok && t.seen {
		return t, true
	}
	if !ok && candidates != 1 {
		return udpTarget{}, false
	}
	return k.markSeen(src)
}

func (k *udpSocket) markSeen(src netip.AddrPort) (udpTarget, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key := src
	if _, ok := k.targets[src]; !ok {
		keys := k.pending[src.Addr()]
		if len(keys) != 1 {
			return udpTarget{}, false
		}
		key = keys[0]
	}
	t := k.targets[key]
	delete(k.targets, key)
	k.removePending(key)
	t.seen = true
	k.targets[src] = t
	return t, true
}

// logDrops logs dropped datagrams at most every udpDropLogInterval.
// Called by the reaper goroutine only.
func (u *udpPair) logDrops(now time.Time) {
	if now.Sub(u.lastLog) < udpDropLogInterval {
		return
	}
	total := u.rtp.drops.Load() + u.rtcp.drops.Load()
	if total != u.lastDrops {
		u.srv.log.Warn("rtsp udp datagrams dropped", "count", total-u.lastDrops)
	}
	u.lastDrops, u.lastLog = total, now
}

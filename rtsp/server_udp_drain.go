package rtsp

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
)

// udpDrain tells when the RTP socket's reader has read every datagram that
// had arrived by a given moment: it sends the socket a marker datagram from
// a socket of its own, and the reader, which takes datagrams in arrival
// order, reports the marker when it gets there. A UDP publisher's last
// datagrams and its TEARDOWN arrive back to back, and a reader starved of
// CPU may be seconds behind: a torn-down recording closes once the reader
// has caught up, not after a fixed time (handleTeardown).
type udpDrain struct {
	pc  *net.UDPConn   // sends the markers
	src netip.AddrPort // pc's address, as the reader sees it
	dst netip.AddrPort // the RTP socket

	mu      sync.Mutex
	sent    uint64        // markers sent; each carries its number
	waiting []drainWaiter // by marker number, ascending
}

// drainWaiter runs fn once marker seq has been read.
type drainWaiter struct {
	seq uint64
	fn  func()
}

// drainMarkerSize is the size of a marker: its number, big-endian.
const drainMarkerSize = 8

// newUDPDrain opens the marker socket for the RTP socket bound at local.
func newUDPDrain(local netip.AddrPort) (*udpDrain, error) {
	dst := drainTarget(local)
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst.Addr(), 0)))
	if err != nil {
		return nil, fmt.Errorf("rtsp udp drain socket: %w", err)
	}
	src := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	return &udpDrain{pc: pc, src: netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), dst: dst}, nil
}

// drainTarget is where markers for an RTP socket bound at local go: the
// bound address itself, or IPv4 loopback for a wildcard bind (dual-stack
// for "[::]" and ":port", so loopback reaches it either way).
func drainTarget(local netip.AddrPort) netip.AddrPort {
	ip := local.Addr().Unmap()
	if ip.IsUnspecified() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(ip, local.Port())
}

// after runs fn once the reader has read every datagram that arrived
// before this call; fn runs in the reader's goroutine and must not block.
// If the marker cannot be sent, fn runs at once. A marker the kernel drops because the socket is full
// never comes back: the caller must not depend on fn alone (a recording
// session still ends by its media timeout).
func (d *udpDrain) after(fn func()) {
	d.mu.Lock()
	d.sent++
	seq := d.sent
	d.waiting = append(d.waiting, drainWaiter{seq, fn})
	d.mu.Unlock()
	var b [drainMarkerSize]byte
	binary.BigEndian.PutUint64(b[:], seq)
	if _, err := d.pc.WriteToUDPAddrPort(b[:], d.dst); err != nil {
		d.mu.Lock()
		d.waiting = slices.DeleteFunc(d.waiting, func(w drainWaiter) bool { return w.seq == seq })
		d.mu.Unlock()
		fn()
	}
}

// marker reports whether the datagram p from src is a marker, and handles
// it if so. Only the RTP socket's reader calls it.
func (d *udpDrain) marker(src netip.AddrPort, p []byte) bool {
	if src != d.src {
		return false
	}
	if len(p) == drainMarkerSize {
		d.read(binary.BigEndian.Uint64(p))
	}
	return true
}

// read runs the waiters of every marker up to seq: markers come back in
// the order they were sent, so those before seq were read (or dropped).
func (d *udpDrain) read(seq uint64) {
	d.mu.Lock()
	var ready []drainWaiter
	for len(d.waiting) > 0 && d.waiting[0].seq <= seq {
		ready = append(ready, d.waiting[0])
		d.waiting = d.waiting[1:]
	}
	d.mu.Unlock()
	for _, w := range ready {
		w.fn()
	}
}

// close releases the marker socket; pending waiters never run (Run closes
// every session at shutdown).
func (d *udpDrain) close() { _ = d.pc.Close() }

package rtsp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/camvault/camvault/rtsp/base"
)

// sendTarget is where a play session's Output sends one stream.
type sendTarget struct {
	ok        bool
	tcp       bool
	rtpCh     uint8          // interleaved channels (TCP)
	rtcpCh    uint8          //
	rtp, rtcp netip.AddrPort // the RTSP peer's IP at client_port (UDP, SEC-05)
}

// setSend records where stream i is sent.
func (ss *session) setSend(i int, t sendTarget) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if i < len(ss.sends) {
		ss.sends[i] = t
	}
}

// target returns the destination of stream i, or the error Output returns.
func (ss *session) target(i int) (sendTarget, error) {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	if ss.closed {
		return sendTarget{}, ErrSessionClosed
	}
	if i < 0 || i >= len(ss.sends) || !ss.sends[i].ok {
		return sendTarget{}, errStreamNotSetUp
	}
	return ss.sends[i], nil
}

var (
	errStreamNotSetUp = errors.New("rtsp output: stream not set up")
	errPacketSize     = errors.New("rtsp output: packet must be 1 to 65535 bytes")
)

// output implements Output for one play session.
type output struct {
	ss *session

	// mu serialises senders that must wait for queue space, so that the
	// timer is reused: waiting allocates nothing.
	mu    sync.Mutex
	timer *time.Timer
}

// WriteRTP implements Output.
func (o *output) WriteRTP(stream int, pkt []byte) error { return o.write(stream, pkt, false) }

// WriteRTCP implements Output.
func (o *output) WriteRTCP(stream int, pkt []byte) error { return o.write(stream, pkt, true) }

// WritePackets implements PacketWriter.
func (o *output) WritePackets(ps []Packet) error {
	for _, p := range ps {
		if len(p.Data) == 0 || len(p.Data) > 0xffff {
			return errPacketSize
		}
	}
	var cache targetCache
	for len(ps) > 0 {
		t, err := cache.get(o.ss, ps[0].Stream)
		if err != nil {
			return err
		}
		if !t.tcp {
			if err := o.sendUDP(t, ps[0].Data, ps[0].RTCP); err != nil {
				return err
			}
			ps = ps[1:]
			continue
		}
		// The run of packets that fits one buffer, as far as the queue has
		// room for: each packet counts against MediaQueueSize.
		n, size := 1, base.InterleavedHeaderSize+len(ps[0].Data)
		for n < len(ps) && size+base.InterleavedHeaderSize+len(ps[n].Data) <= MaxBatchBytes {
			if t, err := cache.get(o.ss, ps[n].Stream); err != nil || !t.tcp {
				break // sent, or failed, after this run
			}
			size += base.InterleavedHeaderSize + len(ps[n].Data)
			n++
		}
		n, err = o.reserve(n)
		if err != nil {
			return err
		}
		fb := newFrameBuf(size)
		fb.packets = n
		sent, rtp := 0, false
		for _, p := range ps[:n] {
			t, _ := cache.get(o.ss, p.Stream) // looked up above
			ch := t.rtpCh
			if p.RTCP {
				ch = t.rtcpCh
			}
			fb.add(ch, p.Data)
			sent += len(p.Data)
			rtp = rtp || !p.RTCP
		}
		o.queue(fb, sent, rtp)
		ps = ps[n:]
	}
	return nil
}

// queue hands a filled buffer to the connection's writer.
func (o *output) queue(fb *frameBuf, sent int, rtp bool) {
	o.ss.owner.media.queue <- fb // never blocks: the queue has room for every reservation
	o.ss.sent(sent, !rtp)
}

// targetCache holds the targets of the streams one WritePackets call has
// looked up: a frame's packets take the session's lock once per stream.
type targetCache struct {
	n       int
	streams [4]int
	targets [4]sendTarget
}

func (c *targetCache) get(ss *session, stream int) (sendTarget, error) {
	for i := range c.n {
		if c.streams[i] == stream {
			return c.targets[i], nil
		}
	}
	t, err := ss.target(stream)
	if err == nil && c.n < len(c.streams) {
		c.streams[c.n], c.targets[c.n] = stream, t
		c.n++
	}
	return t, err
}

func (o *output) write(stream int, pkt []byte, rtcp bool) error {
	if len(pkt) == 0 || len(pkt) > 0xffff {
		return errPacketSize
	}
	t, err := o.ss.target(stream)
	if err != nil {
		return err
	}
	if !t.tcp {
		return o.sendUDP(t, pkt, rtcp)
	}
	ch := t.rtpCh
	if rtcp {
		ch = t.rtcpCh
	}
	if _, err := o.reserve(1); err != nil {
		return err
	}
	fb := newFrameBuf(base.InterleavedHeaderSize + len(pkt))
	fb.packets = 1
	fb.add(ch, pkt)
	o.queue(fb, len(pkt), !rtcp)
	return nil
}

// reserve takes room for up to n packets in the connection's media queue,
// at least one, waiting at most WriteTimeout for it. A timeout drops the
// viewer (SEC-07).
func (o *output) reserve(n int) (int, error) {
	c := o.ss.owner
	if got := c.media.take(n); got > 0 {
		return got, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.timer == nil {
		o.timer = time.NewTimer(c.srv.cfg.WriteTimeout)
	} else {
		o.timer.Reset(c.srv.cfg.WriteTimeout)
	}
	defer o.timer.Stop()
	for {
		select {
		case <-c.media.space:
			if got := c.media.take(n); got > 0 {
				c.media.wakeIfRoom() // another sender of the connection may wait
				return got, nil
			}
			continue
		case <-o.timer.C:
			c.dropSlow(o.ss)
			return 0, ErrSlowClient
		case <-o.ss.done:
		case <-c.ctx.Done():
		}
		if c.slow.Load() {
			return 0, ErrSlowClient
		}
		return 0, ErrSessionClosed
	}
}

// sendUDP sends from the shared pair (RTSP-TR-10). Send errors are
// counted, not returned: UDP is lossy and the session ends by timeout.
func (o *output) sendUDP(t sendTarget, pkt []byte, rtcp bool) error {
	u := o.ss.srv.udp
	k, dst := u.rtp, t.rtp
	if rtcp {
		k, dst = u.rtcp, t.rtcp
	}
	if _, err := k.pc.WriteToUDPAddrPort(pkt, dst); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return ErrSessionClosed
		}
		k.sendErrors.Add(1)
		return nil
	}
	o.ss.sent(len(pkt), rtcp)
	return nil
}

// frameBuf is one queued buffer of interleaved frames; the buffer is
// reused.
type frameBuf struct {
	b       []byte
	packets int // the media queue's room it holds: the frames it was reserved for
}

// Frame buffers come in size classes, minFrameBuf << k for k up to
// frameBufClasses-1 (the last holds MaxBatchBytes), each with a pool of its
// own, so that a buffer is reused for batches of its size rather than
// dropped and reallocated whenever a larger batch comes.
const (
	minFrameBuf     = 2048 // an MTU-sized packet and its header
	frameBufClasses = 7    // 2 KiB .. 128 KiB
)

// frameBufPools hold the frame buffers of every connection between uses,
// so that a connection's memory follows the frames it has queued now, not
// the most it ever had: a live viewer starts with a burst (the cached
// group of pictures) that fills its queue once. A sender takes a buffer
// after reserving room in its connection's mediaQueue, the writer puts it
// back.
var frameBufPools [frameBufClasses]sync.Pool

// frameBufClass returns the class of buffers that hold n bytes, or -1 if
// none does (a larger buffer is not pooled).
func frameBufClass(n int) int {
	for k := range frameBufClasses {
		if n <= minFrameBuf<<k {
			return k
		}
	}
	return -1
}

// newFrameBuf returns an empty buffer with room for n bytes.
func newFrameBuf(n int) *frameBuf {
	k := frameBufClass(n)
	if k >= 0 {
		if fb, ok := frameBufPools[k].Get().(*frameBuf); ok {
			return fb
		}
		n = minFrameBuf << k
	}
	return &frameBuf{b: make([]byte, 0, n)}
}

// putFrameBuf returns fb to the pool of its class.
func putFrameBuf(fb *frameBuf) {
	fb.b, fb.packets = fb.b[:0], 0
	if k := frameBufClass(cap(fb.b)); k >= 0 && cap(fb.b) == minFrameBuf<<k {
		frameBufPools[k].Put(fb)
	}
}

// add appends one interleaved frame.
func (fb *frameBuf) add(ch uint8, pkt []byte) {
	fb.b = append(fb.b, base.InterleavedMagic, ch, byte(len(pkt)>>8), byte(len(pkt)))
	fb.b = append(fb.b, pkt...)
}

// mediaQueue is a connection's bounded queue of interleaved media
// (RTSP-IL-03/05), counted in packets: a sender reserves room for the
// packets it queues (take), the writer gives it back once they are
// written; the room is the bound. The frame buffers come from
// frameBufPools; one holds one packet or a batch of them (WritePackets).
type mediaQueue struct {
	queue chan *frameBuf // holds every buffer: at most one per packet of room
	space chan struct{}  // signalled when the writer gives room back
	size  int
	mu    sync.Mutex
	free  int // room left; zero until fill

	filled bool // reader goroutine only: the room was issued
}

func newMediaQueue(n int) mediaQueue {
	return mediaQueue{queue: make(chan *frameBuf, n), space: make(chan struct{}, 1), size: n}
}

// fill issues the room on the first TCP play SETUP of the connection;
// before it, no sender can queue media.
func (q *mediaQueue) fill() {
	if q.filled {
		return
	}
	q.filled = true
	q.release(q.size)
}

// take reserves room for up to n packets and returns how many it got,
// zero when the queue is full.
func (q *mediaQueue) take(n int) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	got := min(n, q.free)
	q.free -= got
	return got
}

// release gives back room for n packets and wakes a waiting sender.
func (q *mediaQueue) release(n int) {
	if n <= 0 {
		return
	}
	q.mu.Lock()
	q.free += n
	q.mu.Unlock()
	select {
	case q.space <- struct{}{}:
	default:
	}
}

// wakeIfRoom wakes a waiting sender if room is left.
func (q *mediaQueue) wakeIfRoom() {
	q.mu.Lock()
	room := q.free > 0
	q.mu.Unlock()
	if room {
		select {
		case q.space <- struct{}{}:
		default:
		}
	}
}

// full reports whether no room is left.
func (q *mediaQueue) full() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.free == 0
}

// idle reports whether nothing is queued or being written.
func (q *mediaQueue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.free == q.size
}

// written gives back a written buffer and its room.
func (q *mediaQueue) written(fb *frameBuf) {
	n := fb.packets
	putFrameBuf(fb)
	q.release(n)
}

// dropSlow closes a connection whose viewer does not read: logged once
// and counted (SEC-07). ss is nil when the writer timed out.
func (c *conn) dropSlow(ss *session) {
	if c.slow.Swap(true) {
		return
	}
	c.srv.countSlowClient()
	log := c.log
	if ss != nil {
		log = ss.log
	}
	log.Warn("rtsp viewer dropped", "err", ErrSlowClient, "dur", c.srv.cfg.WriteTimeout)
	c.cancel()
}

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
	fb, err := o.buffer()
	if err != nil {
		return err
	}
	fb.fill(ch, pkt)
	o.ss.owner.media.queue <- fb // never blocks: the queue holds every buffer
	o.ss.sent(len(pkt), rtcp)
	return nil
}

// buffer takes a free frame buffer of the connection, waiting at most
// WriteTimeout. A timeout drops the viewer (SEC-07).
func (o *output) buffer() (*frameBuf, error) {
	c := o.ss.owner
	select {
	case <-c.media.free:
		return newFrameBuf(), nil
	default:
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.timer == nil {
		o.timer = time.NewTimer(c.srv.cfg.WriteTimeout)
	} else {
		o.timer.Reset(c.srv.cfg.WriteTimeout)
	}
	defer o.timer.Stop()
	select {
	case <-c.media.free:
		return newFrameBuf(), nil
	case <-o.timer.C:
		c.dropSlow(o.ss)
		return nil, ErrSlowClient
	case <-o.ss.done:
	case <-c.ctx.Done():
	}
	if c.slow.Load() {
		return nil, ErrSlowClient
	}
	return nil, ErrSessionClosed
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

// frameBuf is one queued interleaved frame; the buffer is reused.
type frameBuf struct{ b []byte }

// minFrameBuf is the first capacity of a frame buffer: an MTU-sized packet
// and its header.
const minFrameBuf = 2048

// frameBufPool holds the frame buffers of every connection between uses,
// so that a connection's memory follows the frames it has queued now, not
// the most it ever had: a live viewer starts with a burst (the cached
// group of pictures) that fills its queue once. A sender takes a buffer
// after a token of its connection's mediaQueue, the writer puts it back.
var frameBufPool = sync.Pool{New: func() any { return &frameBuf{} }}

func newFrameBuf() *frameBuf { return frameBufPool.Get().(*frameBuf) }

func (fb *frameBuf) fill(ch uint8, pkt []byte) {
	n := base.InterleavedHeaderSize + len(pkt)
	if cap(fb.b) < n {
		fb.b = make([]byte, 0, max(n, minFrameBuf))
	}
	fb.b = append(fb.b[:0], base.InterleavedMagic, ch, byte(len(pkt)>>8), byte(len(pkt)))
	fb.b = append(fb.b, pkt...)
}

// mediaQueue is a connection's bounded queue of interleaved media
// (RTSP-IL-03/05). Its tokens circulate between free (a sender takes one
// per frame it queues) and the writer (which gives it back once the frame
// is written); their number is the bound. The frame buffers come from
// frameBufPool.
type mediaQueue struct {
	queue  chan *frameBuf
	free   chan struct{}
	filled bool // reader goroutine only: the tokens were issued
}

func newMediaQueue(n int) mediaQueue {
	return mediaQueue{queue: make(chan *frameBuf, n), free: make(chan struct{}, n)}
}

// fill issues the tokens on the first TCP play SETUP of the connection;
// before it, no sender can queue media.
func (q *mediaQueue) fill() {
	if q.filled {
		return
	}
	q.filled = true
	for range cap(q.free) {
		q.free <- struct{}{}
	}
}

// written gives back a written frame's buffer and its token.
func (q *mediaQueue) written(fb *frameBuf) {
	frameBufPool.Put(fb)
	q.free <- struct{}{}
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

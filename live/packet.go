package live

import (
	"sync"
	"sync/atomic"
)

// packet is one received RTP or RTCP packet, shared by the hub's cache and
// every viewer queue that holds it. It is immutable once published; the
// last release returns it to the pool.
type packet struct {
	b      []byte
	track  int // the source's track index
	rtcp   bool
	prefix bool   // key track only: holds parameter sets (media.PrefixPayload)
	seq    uint16 // RTP only
	ts     uint32 // RTP only
	refs   atomic.Int32
}

// maxPooledPacket keeps buffers grown by unusually large packets (up to
// 64 KiB over TCP) out of the pool.
const maxPooledPacket = 4096

var packetPool = sync.Pool{New: func() any { return &packet{b: make([]byte, 0, 1536)} }}

// newPacket copies data into a pooled packet holding one reference.
func newPacket(data []byte, track int, rtcp bool) *packet {
	p := packetPool.Get().(*packet)
	p.b = append(p.b[:0], data...)
	p.track, p.rtcp = track, rtcp
	p.refs.Store(1)
	return p
}

func (p *packet) ref() { p.refs.Add(1) }

// packetOverhead is what a packet costs beside its buffer: the struct and
// a queue entry, rounded up.
const packetOverhead = 96

// size is what a held packet costs in memory, which the cache and queue
// bounds count: its buffer's capacity, not its length, so that a stream of
// tiny packets cannot hold many times the bound.
func (p *packet) size() int { return cap(p.b) + packetOverhead }

func (p *packet) release() {
	if p.refs.Add(-1) == 0 && cap(p.b) <= maxPooledPacket {
		packetPool.Put(p)
	}
}

// entry is one queued packet of a viewer. A cached frame sent at the
// start carries the timestamp it is sent with (retimed).
type entry struct {
	p       *packet
	ts      uint32
	retimed bool
}

// ring is a FIFO of entries that grows as needed (never shrinks), so that
// steady state allocates nothing.
type ring struct {
	buf        []entry
	head, size int
}

func (r *ring) push(e entry) {
	if r.size == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.size)%len(r.buf)] = e
	r.size++
}

func (r *ring) grow() {
	n := max(64, 2*len(r.buf))
	buf := make([]entry, n)
	for i := range r.size {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}

// popInto moves up to len(dst) entries into dst and returns how many.
func (r *ring) popInto(dst []entry) int {
	n := min(len(dst), r.size)
	for i := range n {
		j := (r.head + i) % len(r.buf)
		dst[i] = r.buf[j]
		r.buf[j] = entry{}
	}
	r.head = (r.head + n) % max(len(r.buf), 1)
	r.size -= n
	return n
}

package storage

import "sync"

// Size classes of fragment buffers: 16 KiB, 24 KiB, 32 KiB, 48 KiB ...
// 16 MiB, each 1.5 or 1.33 times the one before, so a buffer wastes at
// most a third of itself. A 3 Mbit/s camera's 1 s fragment (375 KB) takes a
// 384 KiB buffer.
const (
	minBufferClass = 16 << 10
	numBufferClass = 21 // up to 16 MiB
)

func bufferClassSize(c int) int {
	size := minBufferClass << (c / 2)
	if c%2 == 1 {
		size += size / 2
	}
	return size
}

// bufferPool holds fragment buffers by size class. sync.Pool lets the
// garbage collector trim what a burst left behind, so memory follows what
// the recordings hold now rather than their high-water mark. Buffers
// larger than the largest class, or grown off their class by append, are
// not pooled.
type bufferPool struct {
	classes [numBufferClass]sync.Pool
}

// get returns an empty buffer of capacity at least n.
func (p *bufferPool) get(n int) *[]byte {
	for c := range numBufferClass {
		if size := bufferClassSize(c); size >= n {
			if b, ok := p.classes[c].Get().(*[]byte); ok {
				return b
			}
			b := make([]byte, 0, size)
			return &b
		}
	}
	b := make([]byte, 0, n)
	return &b
}

// put gives b back; it must not be used afterwards. Nil is ignored.
func (p *bufferPool) put(b *[]byte) {
	if b == nil {
		return
	}
	for c := numBufferClass - 1; c >= 0; c-- {
		if size := bufferClassSize(c); cap(*b) >= size {
			if cap(*b) == size {
				*b = (*b)[:0]
				p.classes[c].Put(b)
			}
			return
		}
	}
}

// defaultBufferSize is the capacity of a buffer from Store.Buffer.
const defaultBufferSize = 512 << 10

// Buffer returns an empty buffer for a fragment, of at least 512 KiB. Pass
// it to Segment.Append, which takes ownership.
func (s *Store) Buffer() *[]byte { return s.bufs.get(defaultBufferSize) }

// BufferOf returns an empty buffer of capacity at least n for a fragment,
// from a pool of size classes shared by all cameras. Pass it to
// Segment.Append, which takes ownership and gives it back to the pool once
// the fragment is written (or dropped), so steady-state recording does not
// allocate; a buffer not passed to Append goes back with PutBuffer.
func (s *Store) BufferOf(n int) *[]byte { return s.bufs.get(n) }

// PutBuffer gives back a buffer from Buffer or BufferOf that was not passed
// to Segment.Append; it must not be used afterwards.
func (s *Store) PutBuffer(b *[]byte) { s.bufs.put(b) }

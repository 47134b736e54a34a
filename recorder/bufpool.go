package recorder

import "sync"

// Size classes of fragment data buffers: 64 KiB, 96 KiB, 128 KiB, 192 KiB
// ... 16 MiB, each 1.5 or 1.33 times the one before, so a buffer wastes at
// most a third of itself. A 3 Mbit/s camera's 1 s fragment (375 KB) takes a
// 384 KiB buffer.
const (
	minBufClass = 64 << 10
	numBufClass = 17 // up to 16 MiB
)

func bufClassSize(c int) int {
	size := minBufClass << (c / 2)
	if c%2 == 1 {
		size += size / 2
	}
	return size
}

// bufPool holds the data buffers of open fragments, by size class. A track
// takes one when its fragment gets its first unit, trades it for a larger
// one as it grows, and gives it back when the fragment has been encoded
// for storage, so an idle or finished recording holds none and buffers are
// shared between cameras. sync.Pool lets the garbage collector trim what a
// burst left behind. Larger buffers than the largest class are not pooled.
type bufPool struct {
	classes [numBufClass]sync.Pool
}

// get returns an empty buffer of capacity at least n.
func (p *bufPool) get(n int) *[]byte {
	for c := range numBufClass {
		if size := bufClassSize(c); size >= n {
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

// put gives b back; it must not be used afterwards.
func (p *bufPool) put(b *[]byte) {
	for c := numBufClass - 1; c >= 0; c-- {
		if size := bufClassSize(c); cap(*b) >= size {
			if cap(*b) == size {
				*b = (*b)[:0]
				p.classes[c].Put(b)
			}
			return
		}
	}
}

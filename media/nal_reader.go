package media

// nalReader reads the RBSP bits of one NAL unit (H.264 §7.3.1, H.265 §7.3.1.1): it drops
// each emulation_prevention_three_byte (0x03 after two zero bytes) as it goes, so it needs
// no copy of the unit. Reads past the end set a sticky error and return 0; callers read on
// and check err once, after the last field that matters. Every read advances or fails, so
// a loop that reads per iteration stops within 8*len(b) iterations of the end.
type nalReader struct {
	b     []byte
	pos   int  // next byte of b
	cur   byte // current byte
	left  int  // bits of cur not yet read
	zeros int  // zero bytes read in a row
	err   bool
}

// maxExpGolombZeros bounds the leading zeros of an Exp-Golomb code: 31 gives values up to
// 2^32-2, more than any syntax element camvault reads may hold (H.264 §9.1, H.265 §9.2).
const maxExpGolombZeros = 31

// bit returns the next bit.
func (r *nalReader) bit() uint32 {
	if r.left == 0 {
		if r.zeros == 2 && r.pos < len(r.b) && r.b[r.pos] == 3 {
			r.pos++
			r.zeros = 0
		}
		if r.pos >= len(r.b) {
			r.err = true
			return 0
		}
		r.cur, r.left = r.b[r.pos], 8
		r.pos++
		if r.cur == 0 {
			r.zeros++
		} else {
			r.zeros = 0
		}
	}
	r.left--
	return uint32(r.cur>>r.left) & 1
}

// bits returns the next n (<= 32) bits, most significant first.
func (r *nalReader) bits(n int) uint32 {
	var v uint32
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

// skip reads past the next n bits.
func (r *nalReader) skip(n int) {
	for range n {
		r.bit()
	}
}

// flag returns the next bit as a bool.
func (r *nalReader) flag() bool { return r.bit() == 1 }

// ue reads an unsigned Exp-Golomb code, ue(v). A code with more than maxExpGolombZeros
// leading zeros sets the error.
func (r *nalReader) ue() uint32 {
	zeros := 0
	for r.bit() == 0 {
		if zeros++; zeros > maxExpGolombZeros || r.err {
			r.err = true
			return 0
		}
	}
	return 1<<zeros - 1 + r.bits(zeros)
}

// ueMax reads ue(v) whose largest valid value is limit. A larger value sets the error and
// reads as 0, so that a count read with ueMax never drives a loop beyond limit.
func (r *nalReader) ueMax(limit uint32) uint32 {
	v := r.ue()
	if v > limit {
		r.err = true
		return 0
	}
	return v
}

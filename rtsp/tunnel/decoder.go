package tunnel

import (
	"errors"
	"fmt"
	"io"
)

// ErrBase64 is returned, wrapped with the offset in the body, when a POST
// body holds a byte that is neither base64 nor whitespace, padding where a
// group cannot have it, or ends inside a group.
var ErrBase64 = errors.New("bad base64 in tunnel post")

// rawBufferSize is how much of a POST body a Decoder reads at once.
const rawBufferSize = 4 << 10

// Markers of decodeMap; every one has bit 6 or 7 set, so that four values
// ORed together are below 64 only when all four are data.
const (
	padChar  = 0x40 // '='
	skipChar = 0x80 // CR, LF, SP, HT
	badChar  = 0xC0 // anything else
)

// decodeMap is the value of each byte in the standard alphabet
// (RFC 4648 section 4), or its marker.
var decodeMap = func() [256]byte {
	var m [256]byte
	for i := range m {
		m[i] = badChar
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(alphabet) {
		m[alphabet[i]] = byte(i)
	}
	m['='] = padChar
	for _, c := range []byte("\r\n \t") {
		m[c] = skipChar
	}
	return m
}()

// Decoder reads the base64 body of a tunnel POST as the bytes it encodes
// (RTSP-HT-05). Input may be split anywhere between reads and may have
// CR, LF, SP and HT anywhere; each group of four characters is decoded on
// its own, so padding may end any group, as it does when clients encode
// each RTSP message separately. It reads its source in chunks of 4 KiB and
// allocates nothing after NewDecoder. Not safe for concurrent use.
type Decoder struct {
	r              io.Reader
	raw            [rawBufferSize]byte
	pos, end       int   // raw[pos:end] is read but not decoded yet
	base           int64 // body offset of raw[0]
	quad           [4]byte
	nq             int // values in quad: a group begun in an earlier chunk
	out            [3]byte
	outPos, outEnd int   // out[outPos:outEnd] is decoded but not returned yet
	err            error // the source's error, returned once raw is drained
	bad            error // sticky decoding error
	empty          int   // reads in a row that returned nothing and no error
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: r} }

// Reset makes d read a new body from r, forgetting what it had buffered.
func (d *Decoder) Reset(r io.Reader) { *d = Decoder{r: r} }

// Read decodes into p. It reads from the source only when it has nothing
// decoded to return, so it blocks only as the source does. The source's
// errors are returned once everything before them is decoded; decoding
// errors wrap ErrBase64 and stick. An end of the source inside a group is
// an ErrBase64 too.
func (d *Decoder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n := copy(p, d.out[d.outPos:d.outEnd])
	d.outPos += n
	for n < len(p) && d.bad == nil {
		if d.pos == d.end {
			if n > 0 || d.err != nil {
				break
			}
			d.fill()
			continue
		}
		n = d.decode(p, n)
	}
	switch {
	case n > 0:
		return n, nil
	case d.bad != nil:
		return 0, d.bad
	case errors.Is(d.err, io.EOF) && d.nq != 0:
		d.bad = fmt.Errorf("%w: body ends inside a group at offset %d", ErrBase64, d.base+int64(d.end))
		return 0, d.bad
	}
	return 0, d.err
}

// maxEmptyReads is how many reads in a row may return nothing without an
// error before the source is taken as broken (io.ErrNoProgress).
const maxEmptyReads = 100

// fill reads the next chunk of the source.
func (d *Decoder) fill() {
	m, err := d.r.Read(d.raw[:])
	d.base += int64(d.end)
	d.pos, d.end, d.err = 0, m, err
	if m > 0 || err != nil {
		d.empty = 0
	} else if d.empty++; d.empty >= maxEmptyReads {
		d.err = io.ErrNoProgress
	}
}

// decode decodes raw[pos:end] into p[n:] until either runs out and returns
// the new n.
func (d *Decoder) decode(p []byte, n int) int {
	raw := d.raw[d.pos:d.end]
	i := 0
	for i < len(raw) && n < len(p) {
		if d.nq == 0 && len(raw)-i >= 4 && len(p)-n >= 3 {
			a, b, c, e := decodeMap[raw[i]], decodeMap[raw[i+1]], decodeMap[raw[i+2]], decodeMap[raw[i+3]]
			if a|b|c|e < 64 { // a whole group of data: the common case
				p[n], p[n+1], p[n+2] = a<<2|b>>4, b<<4|c>>2, c<<6|e
				n, i = n+3, i+4
				continue
			}
		}
		v := decodeMap[raw[i]]
		switch v {
		case skipChar:
			i++
			continue
		case badChar:
			d.bad = fmt.Errorf("%w: byte 0x%02x at offset %d", ErrBase64, raw[i], d.base+int64(d.pos+i))
			d.pos += i
			return n
		}
		d.quad[d.nq] = v
		d.nq++
		i++
		if d.nq < 4 {
			continue
		}
		d.nq = 0
		k := d.group()
		if k == 0 {
			d.bad = fmt.Errorf("%w: misplaced padding before offset %d", ErrBase64, d.base+int64(d.pos+i))
			d.pos += i
			return n
		}
		m := copy(p[n:], d.out[:k])
		n += m
		d.outPos, d.outEnd = m, k
	}
	d.pos += i
	return n
}

// group decodes the four values in quad into out and returns how many
// bytes they hold: 3, or 2 and 1 with one or two padding characters at the
// end; 0 for padding anywhere else.
func (d *Decoder) group() int {
	q := d.quad
	switch {
	case q[0] == padChar || q[1] == padChar:
		return 0
	case q[2] == padChar && q[3] != padChar:
		return 0
	}
	d.out[0] = q[0]<<2 | q[1]>>4
	if q[2] == padChar {
		return 1
	}
	d.out[1] = q[1]<<4 | q[2]>>2
	if q[3] == padChar {
		return 2
	}
	d.out[2] = q[2]<<6 | q[3]
	return 3
}

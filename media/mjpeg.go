package media

import (
	"github.com/pion/rtp"
)

// RTP/JPEG header sizes (RFC 2435 §3.1).
const (
	jpegMainHeaderLen    = 8
	jpegRestartHeaderLen = 4
	jpegQTableHeaderLen  = 4
	jpegMaxQTablesLen    = 256 // two 16-bit tables
)

// jpegQTables holds the two quantisation tables of a frame as DQT payload: for each table
// its Pq/Tq byte then 64 (8-bit) or 128 (16-bit) values.
type jpegQTables struct {
	b [2 + jpegMaxQTablesLen]byte
	n int
}

// mjpegDepacketizer rebuilds JPEG images from RTP/JPEG (RFC 2435), PL-JPEG-01..04. Types
// 0/1 (4:2:2 / 4:2:0) and 64/65 (with restart markers) are supported; the ONVIF JPEG header
// extension (PL-JPEG-05) is not.
type mjpegDepacketizer struct {
	track     *Track
	emit      func(Unit)
	buf       unitBuffer
	active    bool // a frame is being assembled
	pts       uint32
	dataStart int // offset of the scan data in buf
	tables    jpegQTables
	cachedQ   byte        // Q of cached (Q 128..254 may omit repeated tables)
	cached    jpegQTables // last in-band tables

	paramsChanged bool
}

func newMJPEGDepacketizer(t *Track, lim Limits, emit func(Unit)) *mjpegDepacketizer {
	return &mjpegDepacketizer{track: t, emit: emit, buf: unitBuffer{max: lim.MaxUnitBytes}}
}

// Reset implements Depacketizer.
func (d *mjpegDepacketizer) Reset() { d.drop() }

func (d *mjpegDepacketizer) drop() {
	d.active = false
	d.buf.b = d.buf.b[:0]
}

// jpegHeader is the RTP/JPEG main header plus the restart interval:
//
//	| type-specific (8) | fragment offset (24) | type (8) | Q (8) | width/8 (8) | height/8 (8) |
//	[restart interval (16) | F | L | restart count (14)]  for types 64..127
type jpegHeader struct {
	offset        int
	typ, q        byte
	width, height int
	dri           uint16
}

func parseJPEGHeader(p []byte) (jpegHeader, []byte, error) {
	if len(p) < jpegMainHeaderLen {
		return jpegHeader{}, nil, ErrMalformedPacket
	}
	h := jpegHeader{
		offset: int(p[1])<<16 | int(p[2])<<8 | int(p[3]),
		typ:    p[4], q: p[5], width: int(p[6]) * 8, height: int(p[7]) * 8,
	}
	p = p[jpegMainHeaderLen:]
	if h.typ >= 64 && h.typ < 128 {
		if len(p) < jpegRestartHeaderLen {
			return jpegHeader{}, nil, ErrMalformedPacket
		}
		h.dri = uint16(p[0])<<8 | uint16(p[1])
		h.typ -= 64
		p = p[jpegRestartHeaderLen:]
	}
	if h.typ > 1 || h.q == 0 || (h.q >= 100 && h.q < 128) {
		return jpegHeader{}, nil, ErrUnsupportedPacket
	}
	return h, p, nil
}

// Push implements Depacketizer. A frame starts at fragment offset 0, continues with
// contiguous offsets and the same timestamp, and ends at the marker (PL-JPEG-03).
func (d *mjpegDepacketizer) Push(pkt *rtp.Packet) error {
	if len(pkt.Payload) == 0 {
		return nil // PL-GEN-05
	}
	h, p, err := parseJPEGHeader(pkt.Payload)
	if err != nil {
		d.drop()
		return err
	}
	var lost error
	if d.active && (pkt.Timestamp != d.pts || h.offset == 0) {
		d.drop()
		lost = ErrFragmentLost
	}
	if err := d.fragment(h, p, pkt.Timestamp); err != nil {
		d.drop()
		return err
	}
	if pkt.Marker {
		d.finish()
	}
	return lost
}

// fragment adds one fragment of scan data, starting a frame at offset 0.
func (d *mjpegDepacketizer) fragment(h jpegHeader, p []byte, ts uint32) error {
	if h.offset == 0 {
		if err := d.start(h, p, ts); err != nil {
			return err
		}
		return d.appendScan(p[d.consumed(h, p):])
	}
	if !d.active || h.offset != len(d.buf.b)-d.dataStart {
		return ErrFragmentLost // joined mid-frame, or a gap
	}
	return d.appendScan(p)
}

func (d *mjpegDepacketizer) appendScan(p []byte) error {
	if !d.buf.append(p...) {
		return ErrUnitTooLarge
	}
	return nil
}

// consumed returns the length of the quantisation table header and tables in p.
func (d *mjpegDepacketizer) consumed(h jpegHeader, p []byte) int {
	if h.q < 128 {
		return 0
	}
	return jpegQTableHeaderLen + (int(p[2])<<8 | int(p[3]))
}

// start begins a frame: it resolves the tables and writes the JPEG headers.
func (d *mjpegDepacketizer) start(h jpegHeader, p []byte, ts uint32) error {
	if h.width == 0 || h.height == 0 {
		return ErrUnsupportedPacket // > 2040 pixels needs the ONVIF extension (PL-JPEG-04)
	}
	if err := d.resolveTables(h.q, p); err != nil {
		return err
	}
	if h.width != d.track.Width || h.height != d.track.Height {
		d.track.Width, d.track.Height = h.width, h.height
		d.paramsChanged = true
	}
	if !d.buf.grow(jpegHeadersLen(h, d.tables.n)) {
		return ErrUnitTooLarge
	}
	d.buf.b = appendJPEGHeaders(d.buf.b[:0], h, d.tables.b[:d.tables.n])
	d.dataStart = len(d.buf.b)
	d.active, d.pts = true, ts
	return nil
}

// resolveTables fills d.tables from Q 1..99 or from the in-band quantisation table header
// (RFC 2435 §3.1.8): | MBZ (8) | precision (8) | length (16) | tables |.
func (d *mjpegDepacketizer) resolveTables(q byte, p []byte) error {
	if q < 128 {
		d.tables.n = 2 * (1 + 64)
		d.tables.b[0] = 0
		jpegScaledQuant((*[64]byte)(d.tables.b[1:65]), 0, int(q))
		d.tables.b[65] = 1
		jpegScaledQuant((*[64]byte)(d.tables.b[66:130]), 1, int(q))
		return nil
	}
	if len(p) < jpegQTableHeaderLen {
		return ErrMalformedPacket
	}
	prec, n := p[1], int(p[2])<<8|int(p[3])
	if n == 0 {
		if q == 255 || d.cachedQ != q || d.cached.n == 0 {
			return ErrMalformedPacket
		}
		d.tables = d.cached
		return nil
	}
	p = p[jpegQTableHeaderLen:]
	size0, size1 := 64<<(prec&1), 64<<(prec>>1&1)
	if n != size0+size1 || len(p) < n {
		return ErrMalformedPacket
	}
	d.tables.b[0] = prec & 1 << 4
	copy(d.tables.b[1:], p[:size0])
	d.tables.b[1+size0] = prec>>1&1<<4 | 1
	copy(d.tables.b[2+size0:], p[size0:n])
	d.tables.n = 2 + n
	d.cached, d.cachedQ = d.tables, q
	return nil
}

// finish appends EOI if the scan lacks it and emits the frame.
func (d *mjpegDepacketizer) finish() {
	if !d.active {
		return
	}
	b := d.buf.b
	if len(b) < d.dataStart+2 || b[len(b)-2] != 0xFF || b[len(b)-1] != 0xD9 {
		if !d.buf.append(0xFF, 0xD9) {
			d.drop()
			return
		}
	}
	d.emit(Unit{PTS: d.pts, Data: d.buf.b, Key: true, ParamsChanged: d.paramsChanged})
	d.paramsChanged = false
	d.drop()
}

// jpegHeadersLen is the length appendJPEGHeaders writes: SOI, DQT, DRI, SOF0, DHT, SOS.
func jpegHeadersLen(h jpegHeader, dqtLen int) int {
	n := 2 + 4 + dqtLen + 19 + len(jpegDHT) + 14
	if h.dri != 0 {
		n += 6
	}
	return n
}

// appendJPEGHeaders writes SOI, DQT, DRI (if any), SOF0, DHT and SOS for an RTP/JPEG frame
// (RFC 2435 App. B). Components are 0 (Y), 1 (Cb), 2 (Cr); type 0 samples Y 2x1, type 1 2x2.
func appendJPEGHeaders(b []byte, h jpegHeader, dqt []byte) []byte {
	b = append(b, 0xFF, 0xD8)
	b = append(b, 0xFF, 0xDB, byte((2+len(dqt))>>8), byte(2+len(dqt)))
	b = append(b, dqt...)
	if h.dri != 0 {
		b = append(b, 0xFF, 0xDD, 0, 4, byte(h.dri>>8), byte(h.dri))
	}
	ySampling := byte(0x21)
	if h.typ == 1 {
		ySampling = 0x22
	}
	b = append(b, 0xFF, 0xC0, 0, 17, 8,
		byte(h.height>>8), byte(h.height), byte(h.width>>8), byte(h.width), 3,
		0, ySampling, 0, 1, 0x11, 1, 2, 0x11, 1)
	b = append(b, jpegDHT...)
	return append(b, 0xFF, 0xDA, 0, 12, 3, 0, 0x00, 1, 0x11, 2, 0x11, 0, 63, 0)
}

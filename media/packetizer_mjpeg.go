package media

// RTP/JPEG limits (RFC 2435 §3.1).
const (
	jpegMaxDimension = 255 * 8 // width/8 and height/8 are 8-bit fields (PL-JPEG-04)
	jpegMaxScan      = 1 << 24 // the fragment offset is 24 bits
	jpegQDynamic     = 255     // Q with in-band tables that may change every frame (§3.1.8)
)

// jpegFrame is what RTP/JPEG carries of a baseline JPEG (RFC 2435 §3.1, App. B). Its slices
// alias the unit.
type jpegFrame struct {
	typ           byte // RTP/JPEG type: 0 (4:2:2) or 1 (4:2:0), +64 with restart markers
	width, height int
	dri           uint16    // restart interval in MCUs, 0 if none
	qt            [4][]byte // DQT tables by Tq: 64 (8-bit) or 128 (16-bit) bytes, zig-zag order
	qtY, qtC      byte      // Tq of the luma and of both chroma components
	compIDs       [3]byte   // component identifiers of SOF0, in order
	scan          []byte    // entropy-coded data without EOI
}

// packetizeMJPEG sends one JPEG as RTP/JPEG (RFC 2435, PL-JPEG-01..04): the scan data in
// fragments, each behind the 8-byte main header (§3.1) and, when the JPEG has a restart
// interval, the restart marker header (§3.1.7) with F = L = 1 and count 0x3FFF; the first
// fragment also carries the quantisation tables in-band with Q = 255 (§3.1.8). The marker
// is set on the last fragment. Width and height are rounded up to multiples of 8, as ffmpeg
// does; the MCU count, hence the scan data, is unchanged by that.
func (p *Packetizer) packetizeMJPEG(ts uint32, unit []byte, emit func([]byte)) error {
	f, err := parseJPEG(unit)
	if err != nil {
		return err
	}
	qtY, qtC := f.qt[f.qtY], f.qt[f.qtC]
	pl := p.payload()
	if f.headerLen()+jpegQTableHeaderLen+len(qtY)+len(qtC) >= len(pl) {
		return ErrUnsupportedUnit // the tables must fit the first packet
	}
	for off := 0; off < len(f.scan); {
		n := f.writeHeader(pl, off)
		if off == 0 {
			n += writeJPEGQTables(pl[n:], qtY, qtC)
		}
		c := copy(pl[n:], f.scan[off:])
		off += c
		p.send(ts, n+c, off == len(f.scan), emit)
	}
	return nil
}

// headerLen returns the length of the per-packet RTP/JPEG headers.
func (f *jpegFrame) headerLen() int {
	if f.dri != 0 {
		return jpegMainHeaderLen + jpegRestartHeaderLen
	}
	return jpegMainHeaderLen
}

// writeHeader writes the main header (and the restart marker header) of the fragment at
// off into b and returns its length:
//
//	| type-specific = 0 | fragment offset (24) | type | Q = 255 | width/8 | height/8 |
//	[ restart interval (16) | F = 1 | L = 1 | restart count = 0x3FFF ]
func (f *jpegFrame) writeHeader(b []byte, off int) int {
	b[0], b[1], b[2], b[3] = 0, byte(off>>16), byte(off>>8), byte(off)
	b[4], b[5], b[6], b[7] = f.typ, jpegQDynamic, byte((f.width+7)/8), byte((f.height+7)/8)
	if f.dri == 0 {
		return jpegMainHeaderLen
	}
	b[8], b[9], b[10], b[11] = byte(f.dri>>8), byte(f.dri), 0xFF, 0xFF
	return jpegMainHeaderLen + jpegRestartHeaderLen
}

// writeJPEGQTables writes the quantisation table header and the luma and chroma tables
// (RFC 2435 §3.1.8) into b and returns their length. Precision bit i is set when table i
// has 16-bit values:
//
//	| MBZ (8) | precision (8) | length (16) | luma table | chroma table |
func writeJPEGQTables(b, qtY, qtC []byte) int {
	var prec byte
	if len(qtY) == 128 {
		prec |= 1
	}
	if len(qtC) == 128 {
		prec |= 2
	}
	n := len(qtY) + len(qtC)
	b[0], b[1], b[2], b[3] = 0, prec, byte(n>>8), byte(n)
	copy(b[jpegQTableHeaderLen:], qtY)
	copy(b[jpegQTableHeaderLen+len(qtY):], qtC)
	return jpegQTableHeaderLen + n
}

// parseJPEG reads the marker segments of a JPEG up to its scan (ITU-T T.81 Annex B) and
// checks that RTP/JPEG can express it. It returns ErrMalformedUnit for a broken file and
// ErrUnsupportedUnit for one outside RFC 2435 types 0/1.
func parseJPEG(b []byte) (jpegFrame, error) {
	var f jpegFrame
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return f, ErrMalformedUnit
	}
	b = b[2:]
	for {
		for len(b) > 2 && b[0] == 0xFF && b[1] == 0xFF {
			b = b[1:] // fill bytes (T.81 §B.1.1.2)
		}
		if len(b) < 4 || b[0] != 0xFF {
			return f, ErrMalformedUnit
		}
		code, n := b[1], int(b[2])<<8|int(b[3])
		if jpegStandalone(code) || n < 2 || n > len(b)-2 {
			return f, ErrMalformedUnit
		}
		seg, rest := b[4:2+n], b[2+n:]
		if code == 0xDA { // SOS
			return f, f.startScan(seg, rest)
		}
		if err := f.segment(code, seg); err != nil {
			return f, err
		}
		b = rest
	}
}

// jpegStandalone reports whether code is a marker without a length (T.81 Table B.1): TEM,
// RSTn, SOI, EOI, and the invalid 0x00. None may appear before the scan.
func jpegStandalone(code byte) bool {
	return code == 0x00 || code == 0x01 || (code >= 0xD0 && code <= 0xD9)
}

// segment handles one marker segment before the scan.
func (f *jpegFrame) segment(code byte, seg []byte) error {
	switch {
	case code == 0xC0: // SOF0, baseline DCT
		return f.parseSOF0(seg)
	case code == 0xC4: // DHT
		return checkJPEGDHT(seg)
	case code >= 0xC1 && code <= 0xCF, code == 0xDE, code == 0xDF:
		return ErrUnsupportedUnit // other SOFn, arithmetic coding (DAC), hierarchical (DHP, EXP)
	case code == 0xDB: // DQT
		return f.parseDQT(seg)
	case code == 0xDD: // DRI
		if len(seg) != 2 {
			return ErrMalformedUnit
		}
		f.dri = uint16(seg[0])<<8 | uint16(seg[1])
	}
	return nil // APPn, COM and others do not travel in RTP/JPEG
}

// parseSOF0 checks a baseline frame header: 8-bit samples, at most 2040x2040, three
// components with luma sampled 2x1 (type 0) or 2x2 (type 1) and chroma 1x1 sharing one
// quantisation table (RFC 2435 §3.1.3, §4.1).
//
//	| P (8) | Y (16) | X (16) | Nf (8) | Nf x (C (8) | H (4) V (4) | Tq (8)) |
func (f *jpegFrame) parseSOF0(seg []byte) error {
	if len(seg) < 6 || f.width != 0 {
		return ErrMalformedUnit
	}
	f.height, f.width = int(seg[1])<<8|int(seg[2]), int(seg[3])<<8|int(seg[4])
	if seg[0] != 8 || seg[5] != 3 {
		return ErrUnsupportedUnit
	}
	if len(seg) != 6+3*3 || f.width == 0 {
		return ErrMalformedUnit
	}
	if f.height == 0 || f.width > jpegMaxDimension || f.height > jpegMaxDimension {
		return ErrUnsupportedUnit // height 0 needs a DNL segment
	}
	c := seg[6:]
	switch c[1] {
	case 0x21:
		f.typ = 0
	case 0x22:
		f.typ = 1
	default:
		return ErrUnsupportedUnit
	}
	if c[4] != 0x11 || c[7] != 0x11 || c[5] != c[8] {
		return ErrUnsupportedUnit
	}
	if c[2] > 3 || c[5] > 3 {
		return ErrMalformedUnit
	}
	f.compIDs = [3]byte{c[0], c[3], c[6]}
	f.qtY, f.qtC = c[2], c[5]
	return nil
}

// parseDQT keeps each table of a DQT segment by its destination Tq: | Pq (4) | Tq (4) |
// then 64 values of 8 (Pq 0) or 16 (Pq 1) bits.
func (f *jpegFrame) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&0x0F
		size := 64 << pq
		if pq > 1 || tq > 3 || len(seg) < 1+size {
			return ErrMalformedUnit
		}
		f.qt[tq] = seg[1 : 1+size]
		seg = seg[1+size:]
	}
	return nil
}

// checkJPEGDHT checks that the tables of a DHT segment that the scan may use (class 0/1,
// destination 0/1) are the standard tables of T.81 Annex K.3, from which RTP/JPEG receivers
// rebuild the DHT (RFC 2435 App. B); a JPEG without DHT uses them implicitly.
//
//	| Tc (4) | Th (4) | 16 code counts | symbols ... |
func checkJPEGDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return ErrMalformedUnit
		}
		n := 0
		for _, c := range seg[1:17] {
			n += int(c)
		}
		if len(seg) < 17+n || seg[0]>>4 > 1 || seg[0]&0x0F > 3 {
			return ErrMalformedUnit
		}
		for _, t := range &jpegHuffmanTables {
			if t.classID == seg[0] && (string(t.counts[:]) != string(seg[1:17]) || string(t.symbols) != string(seg[17:17+n])) {
				return ErrUnsupportedUnit
			}
		}
		seg = seg[17+n:]
	}
	return nil
}

// startScan checks the scan header, one interleaved scan of the three SOF0 components with
// luma on Huffman tables 0 and chroma on tables 1 (as RFC 2435 App. B rebuilds it), and
// takes the scan data: the rest of the unit without a final EOI.
//
//	| Ns (8) | Ns x (Cs (8) | Td (4) Ta (4)) | Ss (8) | Se (8) | Ah (4) Al (4) |
func (f *jpegFrame) startScan(seg, rest []byte) error {
	if f.width == 0 || len(f.qt[f.qtY]) == 0 || len(f.qt[f.qtC]) == 0 || len(seg) < 1 {
		return ErrMalformedUnit
	}
	if seg[0] != 3 {
		return ErrUnsupportedUnit
	}
	if len(seg) != 1+2*3+3 {
		return ErrMalformedUnit
	}
	if seg[1] != f.compIDs[0] || seg[3] != f.compIDs[1] || seg[5] != f.compIDs[2] ||
		seg[2] != 0x00 || seg[4] != 0x11 || seg[6] != 0x11 || seg[7] != 0 || seg[8] != 63 || seg[9] != 0 {
		return ErrUnsupportedUnit
	}
	if n := len(rest); n >= 2 && rest[n-2] == 0xFF && rest[n-1] == 0xD9 {
		rest = rest[:n-2]
	}
	if len(rest) == 0 {
		return ErrMalformedUnit
	}
	if len(rest) >= jpegMaxScan {
		return ErrUnsupportedUnit
	}
	if f.dri != 0 {
		f.typ += 64
	}
	f.scan = rest
	return nil
}

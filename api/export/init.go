package export

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/camvault/camvault/storage/fmp4"
)

// maxTracks bounds the traks of one init, as media.TracksFromInit does.
const maxTracks = 32

// errInit marks an init segment the export cannot read.
var errInit = errors.New("malformed init segment")

// track is what the export keeps of one trak of a segment's init: the boxes
// it copies verbatim into its own moov, and the fields it rewrites.
type track struct {
	id        uint32
	handler   string // "vide", "soun", ...
	timescale uint32
	language  uint16
	volume    uint16
	width     uint32 // tkhd 16.16 fixed point
	height    uint32
	hdlr      []byte // whole boxes, aliasing the init
	mediaHdr  []byte // vmhd, smhd, sthd or nmhd
	dinf      []byte
	stsd      []byte
}

// sameEntry reports whether b can follow a in one export track: same track
// ID, handler, timescale and sample description.
func (a *track) sameEntry(b *track) bool {
	return a.id == b.id && a.handler == b.handler && a.timescale == b.timescale &&
		bytes.Equal(a.stsd, b.stsd)
}

// box is one box found by walking a byte slice.
type box struct {
	typ     fmp4.BoxType
	raw     []byte // header and payload
	payload []byte
}

// walkBoxes calls fn for every box that tiles b, in order. A box that does
// not fit in b is an error; size 0 runs to the end of b.
func walkBoxes(b []byte, fn func(box) error) error {
	for pos := 0; pos < len(b); {
		typ, size, hdr, ok := fmp4.DecodeHeader(b[pos:])
		if !ok {
			return fmt.Errorf("%w: box header at %d", errInit, pos)
		}
		if size == 0 {
			size = uint64(len(b) - pos)
		}
		if size < uint64(hdr) || size > uint64(len(b)-pos) {
			return fmt.Errorf("%w: %s box of %d bytes at %d", errInit, typ, size, pos)
		}
		raw := b[pos : pos+int(size)]
		if err := fn(box{typ: typ, raw: raw, payload: raw[hdr:]}); err != nil {
			return err
		}
		pos += int(size)
	}
	return nil
}

// child returns the first box of type typ among the boxes tiling b.
func child(b []byte, typ string) (box, error) {
	want := boxType(typ)
	var found box
	err := walkBoxes(b, func(bx box) error {
		if bx.typ == want && found.raw == nil {
			found = bx
		}
		return nil
	})
	if err == nil && found.raw == nil {
		err = fmt.Errorf("%w: no %s box", errInit, typ)
	}
	return found, err
}

func boxType(s string) fmp4.BoxType {
	return fmp4.BoxType(binary.BigEndian.Uint32([]byte(s)))
}

// parseInit reads the tracks of a segment's init (ftyp, moov, optional free
// boxes), in trak order. The returned boxes alias init.
//
//	moov{ trak{ tkhd, mdia{ mdhd, hdlr, minf{ vmhd|smhd, dinf, stbl{ stsd } } } }... }
func parseInit(init []byte) ([]track, error) {
	moov, err := child(init, "moov")
	if err != nil {
		return nil, err
	}
	var tracks []track
	err = walkBoxes(moov.payload, func(bx box) error {
		if bx.typ != boxType("trak") {
			return nil
		}
		if len(tracks) == maxTracks {
			return fmt.Errorf("%w: more than %d tracks", errInit, maxTracks)
		}
		t, err := parseTrak(bx.payload)
		if err != nil {
			return err
		}
		tracks = append(tracks, t)
		return nil
	})
	if err == nil && len(tracks) == 0 {
		err = fmt.Errorf("%w: no trak", errInit)
	}
	return tracks, err
}

func parseTrak(trak []byte) (track, error) {
	var t track
	tkhd, err := child(trak, "tkhd")
	if err != nil {
		return t, err
	}
	if err := t.readTkhd(tkhd.payload); err != nil {
		return t, err
	}
	mdia, err := child(trak, "mdia")
	if err != nil {
		return t, err
	}
	mdhd, err := child(mdia.payload, "mdhd")
	if err != nil {
		return t, err
	}
	if err := t.readMdhd(mdhd.payload); err != nil {
		return t, err
	}
	hdlr, err := child(mdia.payload, "hdlr")
	if err != nil {
		return t, err
	}
	if len(hdlr.payload) < 12 {
		return t, fmt.Errorf("%w: hdlr of %d bytes", errInit, len(hdlr.payload))
	}
	t.hdlr, t.handler = hdlr.raw, string(hdlr.payload[8:12])
	minf, err := child(mdia.payload, "minf")
	if err != nil {
		return t, err
	}
	return t, t.readMinf(minf.payload)
}

// readTkhd takes the track ID, volume and size (ISO/IEC 14496-12 §8.3.2).
//
//	| version flags | times, ID, reserved, duration (20 or 32) | reserved (8) layer alt_group volume reserved (8) | matrix (36) | width height (8) |
func (t *track) readTkhd(p []byte) error {
	n := 84
	if len(p) > 0 && p[0] == 1 {
		n = 96
	}
	if len(p) < n {
		return fmt.Errorf("%w: tkhd of %d bytes", errInit, len(p))
	}
	idAt := 12
	if p[0] == 1 {
		idAt = 20
	}
	t.id = binary.BigEndian.Uint32(p[idAt:])
	t.volume = binary.BigEndian.Uint16(p[n-60+12:])
	t.width = binary.BigEndian.Uint32(p[n-8:])
	t.height = binary.BigEndian.Uint32(p[n-4:])
	if t.id == 0 {
		return fmt.Errorf("%w: track ID 0", errInit)
	}
	return nil
}

// readMdhd takes the timescale and language (§8.4.2).
func (t *track) readMdhd(p []byte) error {
	tsAt, langAt := 12, 20
	if len(p) > 0 && p[0] == 1 {
		tsAt, langAt = 20, 32
	}
	if len(p) < langAt+2 {
		return fmt.Errorf("%w: mdhd of %d bytes", errInit, len(p))
	}
	t.timescale = binary.BigEndian.Uint32(p[tsAt:])
	t.language = binary.BigEndian.Uint16(p[langAt:])
	if t.timescale == 0 {
		return fmt.Errorf("%w: timescale 0", errInit)
	}
	return nil
}

// readMinf takes the media header, dinf and stsd boxes.
func (t *track) readMinf(minf []byte) error {
	err := walkBoxes(minf, func(bx box) error {
		switch bx.typ {
		case boxType("vmhd"), boxType("smhd"), boxType("sthd"), boxType("nmhd"):
			if t.mediaHdr == nil {
				t.mediaHdr = bx.raw
			}
		case boxType("dinf"):
			t.dinf = bx.raw
		case boxType("stbl"):
			stsd, err := child(bx.payload, "stsd")
			if err != nil {
				return err
			}
			t.stsd = stsd.raw
		}
		return nil
	})
	if err == nil && (t.mediaHdr == nil || t.dinf == nil || t.stsd == nil) {
		err = fmt.Errorf("%w: minf lacks a media header, dinf or stsd", errInit)
	}
	return err
}

// sameTracks reports whether segment tracks b can continue a.
func sameTracks(a, b []track) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].sameEntry(&b[i]) {
			return false
		}
	}
	return true
}

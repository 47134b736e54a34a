package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
)

const (
	maxInitBoxSize = 4 << 20  // ftyp, moov, uuid: bounded before they are read
	maxMoofSize    = 16 << 20 // a moof of a 64 MiB fragment is far smaller
)

// scannedSegment is what a segment file holds, as read by scanSegment.
type scannedSegment struct {
	Meta      segmentMeta
	Tracks    []string
	Fragments []Fragment
	// HeaderEnd is the offset just past the init and metadata boxes.
	HeaderEnd int64
	// ValidEnd is the offset just past the last whole fragment (HeaderEnd
	// when there is none). Bytes beyond it are a torn fragment.
	ValidEnd int64
	// Torn reports bytes beyond ValidEnd, and TornReason why they were cut.
	Torn       bool
	TornReason string
	// Size is the file's size as scanned.
	Size int64
}

// scanSegment reads a segment file's boxes: the init and metadata boxes must
// be whole (else the error wraps ErrCorrupt); fragments are read until the
// first incomplete or undecodable one, which marks the torn tail. Sample data
// is never read: mdat boxes are skipped.
func scanSegment(r io.ReaderAt, size int64) (*scannedSegment, error) {
	s := &scannedSegment{Size: size}
	timescales, err := s.scanHeader(r, size)
	if err != nil {
		return nil, err
	}
	s.ValidEnd = s.HeaderEnd
	for pos := s.HeaderEnd; pos < size; {
		f, next, err := scanFragment(r, pos, size, s.Meta, timescales)
		if err != nil {
			s.Torn, s.TornReason = true, err.Error()
			break
		}
		s.Fragments = append(s.Fragments, f)
		pos, s.ValidEnd = next, next
	}
	return s, nil
}

// scanHeader reads ftyp, moov and the metadata box and returns the track
// timescales by track ID.
func (s *scannedSegment) scanHeader(r io.ReaderAt, size int64) (map[uint32]uint32, error) {
	var timescales map[uint32]uint32
	haveMeta := false
	pos := int64(0)
	for !haveMeta || timescales == nil {
		typ, boxSize, err := readBoxHeader(r, pos, size)
		if err != nil {
			return nil, fmt.Errorf("%w: header box at %d: %v", ErrCorrupt, pos, err)
		}
		if boxSize > maxInitBoxSize {
			return nil, fmt.Errorf("%w: %s box of %d bytes at %d", ErrCorrupt, typ, boxSize, pos)
		}
		body := make([]byte, boxSize-8)
		if _, err := r.ReadAt(body, pos+8); err != nil {
			return nil, fmt.Errorf("%w: read %s at %d: %v", ErrCorrupt, typ, pos, err)
		}
		switch typ {
		case "moov":
			timescales, s.Tracks, err = describeMoov(pos, boxSize, body)
		case "uuid":
			var ok bool
			s.Meta, ok, err = parseMetaBox(body)
			haveMeta = haveMeta || ok
		}
		if err != nil {
			return nil, err
		}
		pos += boxSize
	}
	if _, ok := timescales[s.Meta.RefTrack]; !ok {
		return nil, fmt.Errorf("%w: reference track %d not in moov", ErrCorrupt, s.Meta.RefTrack)
	}
	s.HeaderEnd = pos
	return timescales, nil
}

var errTruncated = errors.New("truncated")

// readBoxHeader reads the box header at pos. 64-bit sizes are accepted;
// size 0 (to end of file) is not, since our writers never produce it.
func readBoxHeader(r io.ReaderAt, pos, fileSize int64) (typ string, size int64, err error) {
	var h [16]byte
	if fileSize-pos < 8 {
		return "", 0, errTruncated
	}
	if _, err := r.ReadAt(h[:8], pos); err != nil {
		return "", 0, err
	}
	size, typ = int64(binary.BigEndian.Uint32(h[:4])), string(h[4:8])
	if size == 1 {
		if fileSize-pos < 16 {
			return "", 0, errTruncated
		}
		if _, err := r.ReadAt(h[8:16], pos+8); err != nil {
			return "", 0, err
		}
		size = int64(binary.BigEndian.Uint64(h[8:16]))
	}
	if size < 8 {
		return "", 0, fmt.Errorf("box %q has size %d", typ, size)
	}
	if size > fileSize-pos {
		return "", 0, fmt.Errorf("%s box: %w", typ, errTruncated)
	}
	return typ, size, nil
}

// describeMoov returns track timescales and one description per track.
func describeMoov(pos, size int64, body []byte) (map[uint32]uint32, []string, error) {
	full := make([]byte, 0, size)
	full = appendBoxHeader(full, int(size), "moov")
	full = append(full, body...)
	box, err := mp4.DecodeBox(uint64(pos), bytes.NewReader(full))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: moov: %v", ErrCorrupt, err)
	}
	moov, ok := box.(*mp4.MoovBox)
	if !ok || len(moov.Traks) == 0 {
		return nil, nil, fmt.Errorf("%w: moov without tracks", ErrCorrupt)
	}
	timescales := make(map[uint32]uint32, len(moov.Traks))
	var tracks []string
	for _, trak := range moov.Traks {
		if trak.Tkhd == nil || trak.Mdia == nil || trak.Mdia.Mdhd == nil || trak.Mdia.Mdhd.Timescale == 0 {
			return nil, nil, fmt.Errorf("%w: incomplete trak", ErrCorrupt)
		}
		timescales[trak.Tkhd.TrackID] = trak.Mdia.Mdhd.Timescale
		tracks = append(tracks, describeTrak(trak))
	}
	return timescales, tracks, nil
}

func describeTrak(trak *mp4.TrakBox) string {
	ts := trak.Mdia.Mdhd.Timescale
	if trak.Mdia.Minf == nil || trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil ||
		len(trak.Mdia.Minf.Stbl.Stsd.Children) == 0 {
		return fmt.Sprintf("unknown %d", ts)
	}
	switch e := trak.Mdia.Minf.Stbl.Stsd.Children[0].(type) {
	case *mp4.VisualSampleEntryBox:
		return fmt.Sprintf("%s %dx%d", e.Type(), e.Width, e.Height)
	case *mp4.AudioSampleEntryBox:
		return fmt.Sprintf("%s %d/%d", e.Type(), ts, e.ChannelCount)
	default:
		return fmt.Sprintf("%s %d", e.Type(), ts)
	}
}

// scanFragment reads the fragment starting at pos: prft, moof, mdat (free
// and skip boxes in between are passed over). It returns the fragment and
// the offset after it.
func scanFragment(r io.ReaderAt, pos, size int64, meta segmentMeta, timescales map[uint32]uint32) (Fragment, int64, error) {
	f := Fragment{Offset: pos}
	var wall time.Time
	havePrft := false
	for {
		typ, boxSize, err := readBoxHeader(r, pos, size)
		if err != nil {
			return f, 0, err
		}
		switch typ {
		case "free", "skip":
		case "prft":
			if wall, err = readPrft(r, pos, boxSize); err != nil {
				return f, 0, err
			}
			havePrft = true
		case "moof":
			if !havePrft {
				return f, 0, fmt.Errorf("moof at %d without prft", pos)
			}
			if err := readMoof(r, pos, boxSize, meta.RefTrack, timescales, wall, &f); err != nil {
				return f, 0, err
			}
		case "mdat":
			if f.Duration == 0 && f.Start.IsZero() {
				return f, 0, fmt.Errorf("mdat at %d without moof", pos)
			}
			end := pos + boxSize
			f.Size = end - f.Offset
			return f, end, nil
		default:
			return f, 0, fmt.Errorf("unexpected %q box at %d", typ, pos)
		}
		pos += boxSize
	}
}

func readPrft(r io.ReaderAt, pos, size int64) (time.Time, error) {
	if size != prftSize {
		return time.Time{}, fmt.Errorf("prft of %d bytes at %d", size, pos)
	}
	var b [prftSize]byte
	if _, err := r.ReadAt(b[:], pos); err != nil {
		return time.Time{}, err
	}
	return NTPToTime(binary.BigEndian.Uint64(b[16:24])), nil
}

// readMoof fills f's start, duration and key flag from the reference track's
// traf: start = prft wall + first sample's composition offset.
func readMoof(r io.ReaderAt, pos, size int64, ref uint32, timescales map[uint32]uint32, wall time.Time, f *Fragment) error {
	if size > maxMoofSize {
		return fmt.Errorf("moof of %d bytes at %d", size, pos)
	}
	buf := make([]byte, size)
	if _, err := r.ReadAt(buf, pos); err != nil {
		return err
	}
	box, err := mp4.DecodeBox(uint64(pos), bytes.NewReader(buf))
	if err != nil {
		return fmt.Errorf("decode moof at %d: %w", pos, err)
	}
	moof, ok := box.(*mp4.MoofBox)
	if !ok {
		return fmt.Errorf("moof at %d did not decode", pos)
	}
	for _, traf := range moof.Trafs {
		if traf.Tfhd == nil || traf.Tfhd.TrackID != ref || traf.Trun == nil {
			continue
		}
		var ticks uint64
		for _, s := range traf.Trun.Samples {
			ticks += uint64(s.Dur)
		}
		if len(traf.Trun.Samples) == 0 {
			break
		}
		ts := int64(timescales[ref])
		first := traf.Trun.Samples[0]
		f.Start = wall.Add(time.Duration(int64(first.CompositionTimeOffset) * 1e9 / ts))
		f.Duration = time.Duration(int64(ticks) * 1e9 / ts)
		f.Key = mp4.DecodeSampleFlags(first.Flags).SampleIsNonSync == false
		return nil
	}
	return fmt.Errorf("moof at %d has no samples of reference track %d", pos, ref)
}

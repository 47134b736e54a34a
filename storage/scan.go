package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/storage/fmp4"
)

const (
	maxInitBoxSize = 4 << 20  // ftyp, moov, uuid: bounded before they are read
	maxMoofSize    = 16 << 20 // a moof of a 64 MiB fragment is far smaller
	// maxFragmentHeaderSize bounds what a scan reads of one fragment: the
	// bytes before its mdat payload (prft, moof, mdat header and any free
	// or skip box between them).
	maxFragmentHeaderSize = maxMoofSize + 64<<10
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
	// ModTime is the file's modification time before any cut (set by
	// Store.scanFile only).
	ModTime time.Time
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
	fs := fragmentScanner{r: r, size: size, ref: s.Meta.RefTrack, timescales: timescales}
	for pos := s.HeaderEnd; pos < size; {
		f, next, err := fs.scan(pos)
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
		typ, boxSize, _, err := readBoxHeader(r, pos, size)
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
		case fmp4.TypeMoov:
			timescales, s.Tracks, err = describeMoov(pos, boxSize, body)
		case fmp4.TypeUUID:
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

// readBoxHeader reads the box header at pos and returns the box's type,
// size and header length. 64-bit sizes are accepted; size 0 (to end of
// file) is not, since our writers never produce it.
func readBoxHeader(r io.ReaderAt, pos, fileSize int64) (typ fmp4.BoxType, size, hdrLen int64, err error) {
	var h [fmp4.MaxHeaderLen]byte
	n := min(fileSize-pos, fmp4.MaxHeaderLen)
	if n < 8 {
		return 0, 0, 0, errTruncated
	}
	if _, err := r.ReadAt(h[:n], pos); err != nil {
		return 0, 0, 0, err
	}
	typ, usize, hl, ok := fmp4.DecodeHeader(h[:n])
	if !ok {
		return 0, 0, 0, errTruncated
	}
	switch {
	case usize < 8 || usize < uint64(hl):
		return 0, 0, 0, fmt.Errorf("box %q has size %d", typ, usize)
	case usize > uint64(fileSize-pos):
		return 0, 0, 0, fmt.Errorf("%s box: %w", typ, errTruncated)
	}
	return typ, int64(usize), int64(hl), nil
}

// describeMoov returns track timescales and one description per track.
func describeMoov(pos, size int64, body []byte) (map[uint32]uint32, []string, error) {
	full := make([]byte, 0, size)
	full = fmp4.AppendBoxHeader(full, int(size), "moov")
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

// fragmentScanner reads fragments' headers one after another: the bytes
// before each mdat payload go into buf, decoded by fmp4.ParseFragmentHeader
// into parsed; both are reused across the fragments of a file.
type fragmentScanner struct {
	r          io.ReaderAt
	size       int64
	ref        uint32
	timescales map[uint32]uint32
	buf        []byte
	parsed     fmp4.ParsedFragment
}

// scan reads the fragment starting at pos: prft, moof, mdat (free and skip
// boxes in between are passed over). It returns the fragment and the offset
// after it. Sample data is not read.
func (fs *fragmentScanner) scan(pos int64) (Fragment, int64, error) {
	f := Fragment{Offset: pos}
	havePrft, haveMoof := false, false
	for {
		typ, boxSize, hdrLen, err := readBoxHeader(fs.r, pos, fs.size)
		if err != nil {
			return f, 0, err
		}
		switch typ {
		case fmp4.TypeFree, fmp4.TypeSkip:
		case fmp4.TypePrft:
			havePrft = true
		case fmp4.TypeMoof:
			if !havePrft {
				return f, 0, fmt.Errorf("moof at %d without prft", pos)
			}
			if boxSize > maxMoofSize {
				return f, 0, fmt.Errorf("moof of %d bytes at %d", boxSize, pos)
			}
			haveMoof = true
		case fmp4.TypeMdat:
			if !haveMoof {
				return f, 0, fmt.Errorf("mdat at %d without moof", pos)
			}
			f.Size = pos + boxSize - f.Offset
			if err := fs.parse(&f, pos+hdrLen); err != nil {
				return f, 0, err
			}
			return f, pos + boxSize, nil
		default:
			return f, 0, fmt.Errorf("unexpected %q box at %d", typ, pos)
		}
		pos += boxSize
	}
}

// parse reads f's headers, up to hdrEnd, and fills f's start, duration and
// key flag from the reference track's samples: start = prft wall + first
// sample's composition offset.
func (fs *fragmentScanner) parse(f *Fragment, hdrEnd int64) error {
	n := hdrEnd - f.Offset
	if n > maxFragmentHeaderSize {
		return fmt.Errorf("fragment headers of %d bytes at %d", n, f.Offset)
	}
	if int64(cap(fs.buf)) < n {
		fs.buf = make([]byte, n)
	}
	fs.buf = fs.buf[:n]
	if _, err := fs.r.ReadAt(fs.buf, f.Offset); err != nil {
		return err
	}
	if err := fmp4.ParseFragmentHeader(fs.buf, int(f.Size), &fs.parsed); err != nil {
		return fmt.Errorf("fragment at %d: %w", f.Offset, err)
	}
	var ticks uint64
	var first *fmp4.FragmentSample
	for i := range fs.parsed.Samples {
		if s := &fs.parsed.Samples[i]; s.TrackID == fs.ref {
			if first == nil {
				first = s
			}
			ticks += uint64(s.Duration)
		}
	}
	if first == nil {
		return fmt.Errorf("fragment at %d has no samples of reference track %d", f.Offset, fs.ref)
	}
	ts := int64(fs.timescales[fs.ref])
	f.Start = fs.parsed.Wall.Add(time.Duration(int64(first.CTO) * 1e9 / ts))
	f.Duration = time.Duration(int64(ticks) * 1e9 / ts)
	f.Key = first.Key
	return nil
}

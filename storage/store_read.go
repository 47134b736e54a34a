package storage

import (
	"fmt"

	"github.com/camvault/camvault/storage/fmp4"
)

// maxFragmentSize bounds the fragment ReadFragment reads: a fragment holds
// at most one GOP, far below this even at 100 Mbit/s.
const maxFragmentSize = 64 << 20

// ReadInit returns a segment's init: its ftyp and moov boxes (with any free
// or skip box between them), as written to Create. file is
// SegmentInfo.File. The result is a new slice the caller owns.
func (s *Store) ReadInit(file string) ([]byte, error) {
	var h [8]byte
	var pos int64
	for {
		if err := s.files.readAt(file, h[:], pos); err != nil {
			return nil, fmt.Errorf("storage: read init of %s: %w", file, err)
		}
		typ, size, _, _ := fmp4.DecodeHeader(h[:]) // a largesize (1) fails the size check
		okType := pos == 0 && typ == fmp4.TypeFtyp ||
			pos > 0 && (typ == fmp4.TypeMoov || typ == fmp4.TypeFree || typ == fmp4.TypeSkip)
		if !okType || size < 8 || pos+int64(size) > maxInitBoxSize {
			return nil, fmt.Errorf("storage: read init of %s: %w: %q box of %d bytes at %d", file, ErrCorrupt, typ, size, pos)
		}
		pos += int64(size)
		if typ == fmp4.TypeMoov {
			break
		}
	}
	init := make([]byte, pos)
	if err := s.files.readAt(file, init, 0); err != nil {
		return nil, fmt.Errorf("storage: read init of %s: %w", file, err)
	}
	return init, nil
}

// ReadFragment reads one fragment (prft+moof+mdat, f from the segment's
// seek table) of file (SegmentInfo.File) with one pread into buf, grown
// only when its capacity is short, and returns the filled slice. It works
// on open segments for fragments already in their seek table. Files stay
// open in a small cache (Config.ReadFiles, Config.ReadIdle), so a hit does
// not allocate. Safe for concurrent use.
func (s *Store) ReadFragment(file string, f Fragment, buf []byte) ([]byte, error) {
	if f.Offset < 0 || f.Size < 8 || f.Size > maxFragmentSize {
		return buf[:0], fmt.Errorf("storage: read fragment of %s: %w: %d bytes at %d", file, ErrCorrupt, f.Size, f.Offset)
	}
	if int64(cap(buf)) < f.Size {
		buf = make([]byte, f.Size)
	}
	buf = buf[:f.Size]
	if err := s.files.readAt(file, buf, f.Offset); err != nil {
		return buf[:0], fmt.Errorf("storage: read fragment of %s: %w", file, err)
	}
	return buf, nil
}

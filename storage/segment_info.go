package storage

import (
	"encoding/binary"
	"fmt"
	"time"
)

// SegmentState is the life-cycle state of a segment in the index.
type SegmentState uint8

const (
	// StateOpen is a segment being written (or left open by a crash).
	StateOpen SegmentState = iota + 1
	// StateSealed is a finished segment with its seek table in the index.
	StateSealed
)

// String returns "open" or "sealed".
func (s SegmentState) String() string {
	switch s {
	case StateOpen:
		return "open"
	case StateSealed:
		return "sealed"
	}
	return fmt.Sprintf("SegmentState(%d)", uint8(s))
}

// SegmentInfo describes one segment file.
type SegmentInfo struct {
	Camera string
	// Start is the wall-clock time of the first fragment; it is the index key.
	Start time.Time
	// End is the wall-clock end of the last whole fragment (Start while empty).
	End time.Time
	// File is the segment's path relative to the data directory.
	File string
	// Bytes is the file size covered by whole fragments.
	Bytes int64
	State SegmentState
	// Tracks describes the recorded tracks, one string each ("H264 1280x720").
	Tracks []string
	// Fragments is the seek table. Segments() fills it only when asked.
	Fragments []Fragment
	// Revision is the fencing revision the segment was created under
	// (CreateRevision): the cluster's proof that this node owned the camera.
	// It is 0 without a cluster. The file's metadata box keeps it too, so a
	// rebuild of the index recovers it.
	Revision int64
	// Upload is the segment's state in the object store (MarkUploaded). A
	// rebuild of the index from the files forgets it.
	Upload UploadMark
}

// Fragment is one seek-table entry.
type Fragment struct {
	// Start is the wall-clock presentation time of the fragment's first
	// sample on the reference track (microsecond precision in the index).
	Start time.Time
	// Duration is the fragment's length on the reference track.
	Duration time.Duration
	// Offset is the byte offset of the fragment (its prft box) in the file.
	Offset int64
	// Size is the length of prft+moof+mdat in bytes.
	Size int64
	// Key reports that the fragment begins with a video keyframe (always
	// true for audio-only recordings).
	Key bool
}

// End returns the wall-clock end of the fragment.
func (f Fragment) End() time.Time { return f.Start.Add(f.Duration) }

const (
	// segValueVersion is the value layout of entries with no revision and
	// no upload mark; segValueVersionTier adds both (see encodeSegment).
	segValueVersion     = 1
	segValueVersionTier = 2
	seekValueVersion    = 1
	maxTracks           = 16
	maxStringLen        = 1024
	maxFragments        = 1 << 22
)

// segKey is the index key of a segment: its start as big-endian Unix ns.
func segKey(start time.Time) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(start.UnixNano()))
	return k[:]
}

func keyTime(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC()
}

// encodeSegment encodes everything but Camera (the bucket) and Fragments
// (the seek table, stored separately).
//
//	version(1) state(1) start(8, ns BE) end(8, ns BE) bytes(uvarint)
//	file(uvarint len + bytes) ntracks(uvarint) {track(uvarint len + bytes)}
//	[version 2: rev(varint) upload(1) [at(8, ns BE) key(uvarint len + bytes) if upload != 0]]
//
// An entry without revision and upload mark is written as version 1, byte
// for byte as before both existed; version 2 keeps version 1's head, so the
// readers of fixed offsets (segHead) read both alike.
func encodeSegment(s *SegmentInfo) []byte {
	b := make([]byte, 0, 64+len(s.File)+16*len(s.Tracks)+len(s.Upload.Key))
	ver := byte(segValueVersion)
	if s.Revision != 0 || s.Upload.State != UploadNone {
		ver = segValueVersionTier
	}
	b = append(b, ver, byte(s.State))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Start.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(s.End.UnixNano()))
	b = binary.AppendUvarint(b, uint64(s.Bytes))
	b = appendString(b, s.File)
	b = binary.AppendUvarint(b, uint64(len(s.Tracks)))
	for _, t := range s.Tracks {
		b = appendString(b, t)
	}
	if ver == segValueVersionTier {
		b = appendTierExt(b, s)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodeSegment is the inverse of encodeSegment. It never panics and never
// allocates more than the value's size suggests. A value may end with
// fragment counts (appendFragCounts), which it checks but does not return.
func decodeSegment(camera string, v []byte) (SegmentInfo, error) {
	r := valueReader{b: v}
	s := SegmentInfo{Camera: camera}
	ver := r.byte()
	if !knownSegVersion(ver) && r.err == nil {
		return s, fmt.Errorf("%w: segment value version %d", ErrCorrupt, ver)
	}
	s.State = SegmentState(r.byte())
	s.Start = time.Unix(0, int64(r.uint64())).UTC()
	s.End = time.Unix(0, int64(r.uint64())).UTC()
	s.Bytes = int64(r.uvarint())
	s.File = r.string()
	n := r.uvarint()
	if n > maxTracks {
		r.fail()
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		s.Tracks = append(s.Tracks, r.string())
	}
	if ver == segValueVersionTier {
		r.tierExt(&s)
	}
	if r.err == nil && r.pos < len(v) {
		r.skipFragCounts() // a sealed entry's tail: see segment_counts.go
	}
	if r.err == nil && (s.State != StateOpen && s.State != StateSealed || s.Bytes < 0) {
		r.fail()
	}
	if r.err != nil {
		return s, fmt.Errorf("%w: segment value at byte %d", ErrCorrupt, r.pos)
	}
	return s, nil
}

// encodeSeek encodes a seek table. Times are microseconds: each start as the
// delta from the previous one (the first from segStart), durations as is.
// Offsets are implicit when fragments are contiguous.
//
//	version(1) n(uvarint) {flags(1) startDelta(varint µs) dur(uvarint µs)
//	                       size(uvarint) [offset(uvarint) if flags&2]}
func encodeSeek(segStart time.Time, frags []Fragment) []byte {
	b := make([]byte, 0, 2+12*len(frags))
	b = append(b, seekValueVersion)
	b = binary.AppendUvarint(b, uint64(len(frags)))
	prev := segStart.UnixMicro()
	next := int64(-1)
	for _, f := range frags {
		var flags byte
		if f.Key {
			flags |= 1
		}
		if f.Offset != next {
			flags |= 2
		}
		b = append(b, flags)
		us := f.Start.UnixMicro()
		b = binary.AppendVarint(b, us-prev)
		b = binary.AppendUvarint(b, uint64(f.Duration.Microseconds()))
		b = binary.AppendUvarint(b, uint64(f.Size))
		if flags&2 != 0 {
			b = binary.AppendUvarint(b, uint64(f.Offset))
		}
		prev, next = us, f.Offset+f.Size
	}
	return b
}

// decodeSeek is the inverse of encodeSeek.
func decodeSeek(segStart time.Time, v []byte) ([]Fragment, error) {
	r := valueReader{b: v}
	if ver := r.byte(); ver != seekValueVersion && r.err == nil {
		return nil, fmt.Errorf("%w: seek table version %d", ErrCorrupt, ver)
	}
	n := r.uvarint()
	// Each entry takes at least 4 bytes: never allocate beyond what v holds.
	if n > maxFragments || n > uint64(len(v))/4 {
		return nil, fmt.Errorf("%w: seek table claims %d entries", ErrCorrupt, n)
	}
	frags := make([]Fragment, 0, n)
	prev := segStart.UnixMicro()
	next := int64(-1)
	for i := uint64(0); i < n && r.err == nil; i++ {
		flags := r.byte()
		prev += r.varint()
		f := Fragment{
			Start:    time.UnixMicro(prev).UTC(),
			Duration: time.Duration(r.uvarint()) * time.Microsecond,
			Size:     int64(r.uvarint()),
			Key:      flags&1 != 0,
			Offset:   next,
		}
		if flags&2 != 0 {
			f.Offset = int64(r.uvarint())
		}
		if f.Offset < 0 || f.Size < 0 || f.Duration < 0 {
			r.fail()
		}
		next = f.Offset + f.Size
		frags = append(frags, f)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: seek table at byte %d", ErrCorrupt, r.pos)
	}
	return frags, nil
}

// valueReader reads index values with a sticky error (mp4ff's
// bits.FixedSliceReader pattern): one check at the end.
type valueReader struct {
	b   []byte
	pos int
	err error
}

func (r *valueReader) fail() {
	if r.err == nil {
		r.err = ErrCorrupt
	}
}

func (r *valueReader) byte() byte {
	if r.err != nil || r.pos >= len(r.b) {
		r.fail()
		return 0
	}
	r.pos++
	return r.b[r.pos-1]
}

func (r *valueReader) uint64() uint64 {
	if r.err != nil || len(r.b)-r.pos < 8 {
		r.fail()
		return 0
	}
	r.pos += 8
	return binary.BigEndian.Uint64(r.b[r.pos-8:])
}

func (r *valueReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 || v > 1<<62 {
		r.fail()
		return 0
	}
	r.pos += n
	return v
}

func (r *valueReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.pos:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.pos += n
	return v
}

func (r *valueReader) string() string {
	n := r.uvarint()
	if r.err != nil || n > maxStringLen || n > uint64(len(r.b)-r.pos) {
		r.fail()
		return ""
	}
	r.pos += int(n)
	return string(r.b[r.pos-int(n) : r.pos])
}

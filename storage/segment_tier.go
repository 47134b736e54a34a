package storage

import (
	"encoding/binary"
	"fmt"
	"time"
)

// UploadState is a segment's state in the object store, as the uploader
// (package tier) marks it in the index.
type UploadState uint8

const (
	// UploadNone: not uploaded (yet). With tiering on, a sealed segment in
	// this state is in the upload queue.
	UploadNone UploadState = iota
	// UploadDone: the segment's object is in the object store under
	// UploadMark.Key.
	UploadDone
	// UploadRefused: the segment will never be uploaded (its fencing
	// revision no longer owned the camera); it stays local and the local
	// rules of an untiered store apply to it.
	UploadRefused
	numUploadStates
)

// String returns "none", "done" or "refused".
func (u UploadState) String() string {
	switch u {
	case UploadNone:
		return "none"
	case UploadDone:
		return "done"
	case UploadRefused:
		return "refused"
	}
	return fmt.Sprintf("UploadState(%d)", uint8(u))
}

// UploadMark is what the index says about a segment's object.
type UploadMark struct {
	State UploadState
	// Key is the object key (UploadDone only).
	Key string
	// At is when the mark was set (UTC); zero for UploadNone.
	At time.Time
}

// knownSegVersion reports whether ver is a segment value layout this build
// reads.
func knownSegVersion(ver byte) bool {
	return ver == segValueVersion || ver == segValueVersionTier
}

// appendTierExt appends version 2's fields (see encodeSegment).
func appendTierExt(b []byte, s *SegmentInfo) []byte {
	b = binary.AppendVarint(b, s.Revision)
	b = append(b, byte(s.Upload.State))
	if s.Upload.State == UploadNone {
		return b
	}
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(s.Upload.At, 0)))
	return appendString(b, s.Upload.Key)
}

// tierExt reads version 2's fields into s.
func (r *valueReader) tierExt(s *SegmentInfo) {
	s.Revision = r.varint()
	s.Upload.State = UploadState(r.byte())
	if r.err != nil || s.Upload.State == UploadNone {
		return
	}
	if s.Upload.State >= numUploadStates {
		r.fail()
		return
	}
	s.Upload.At = nsTime(int64(r.uint64()))
	s.Upload.Key = r.string()
}

// skipTierExt returns the position after version 2's fields at v[p:], or
// -1 (segment_counts.go's plain slicing).
func skipTierExt(v []byte, p int) int {
	if p < 0 || p >= len(v) {
		return -1
	}
	_, w := binary.Varint(v[p:])
	if w <= 0 || p+w >= len(v) {
		return -1
	}
	p += w
	st := UploadState(v[p])
	p++
	switch {
	case st == UploadNone:
		return p
	case st >= numUploadStates || len(v)-p < 8:
		return -1
	}
	return skipString(v, p+8)
}

// uploadStateOf returns the upload state of value v without allocating;
// ok is false when v does not decode that far. A version 1 value is
// UploadNone.
func uploadStateOf(v []byte) (UploadState, bool) {
	if len(v) < segHeadMin {
		return 0, false
	}
	if v[0] == segValueVersion {
		return UploadNone, true
	}
	p := skipTracks(v)
	if p < 0 || p >= len(v) {
		return 0, false
	}
	_, w := binary.Varint(v[p:])
	if w <= 0 || p+w >= len(v) || UploadState(v[p+w]) >= numUploadStates {
		return 0, false
	}
	return UploadState(v[p+w]), true
}

// skipTracks returns the position after the tracks of value v (where
// version 2's fields or the counts begin), or -1.
func skipTracks(v []byte) int {
	p := skipUvarint(v, 18) // bytes
	p = skipString(v, p)    // file
	if p < 0 || p >= len(v) {
		return -1
	}
	nt, w := binary.Uvarint(v[p:])
	if w <= 0 || nt > maxTracks {
		return -1
	}
	p += w
	for range nt {
		p = skipString(v, p)
	}
	return p
}

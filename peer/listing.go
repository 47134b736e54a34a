package peer

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/camvault/camvault/storage"
)

// Listing is the answer of the segments endpoint: a camera's segments that are not in the
// object store yet, oldest first. It travels as compact JSON:
//
//	{"segments":[{"start":NS,"end":NS,"state":"open"|"sealed","revision":R,"bytes":B,
//	  "tracks":["H264 1280x720"],"fragments":[[START,DUR,OFFSET,SIZE,KEY],...]}]}
//
// Times are Unix nanoseconds; a fragment's START is nanoseconds after the segment's start,
// DUR nanoseconds, OFFSET and SIZE bytes in the file, KEY 1 for a keyframe fragment. bytes
// is the file's length covered by committed fragments: the end of what may be read.
type Listing struct {
	Segments []storage.SegmentInfo
}

type listingJSON struct {
	Segments []segmentJSON `json:"segments"`
}

type segmentJSON struct {
	Start     int64      `json:"start"`
	End       int64      `json:"end"`
	State     string     `json:"state"`
	Revision  int64      `json:"revision"`
	Bytes     int64      `json:"bytes"`
	Tracks    []string   `json:"tracks"`
	Fragments [][5]int64 `json:"fragments"`
}

// Bounds of a listing's parts, beyond Config.MaxSegments.
const (
	maxTracks      = 16
	maxTrackChars  = 256
	maxFragments   = 1 << 20 // a day of 1 s fragments is 86,400
	maxFileBytes   = 1 << 40
	maxSegmentSpan = 7 * 24 * time.Hour
	// slack is how far a fragment's start may lie outside its segment's times: the index
	// keeps them at microsecond precision.
	slack = time.Millisecond
)

// errListing says a listing does not decode or breaks a bound.
var errListing = errors.New("peer: bad listing")

// MarshalListing encodes l (camera names and files are not part of it).
func MarshalListing(l Listing) ([]byte, error) {
	out := listingJSON{Segments: make([]segmentJSON, 0, len(l.Segments))}
	for i := range l.Segments {
		s := &l.Segments[i]
		js := segmentJSON{Start: s.Start.UnixNano(), End: s.End.UnixNano(), State: s.State.String(),
			Revision: s.Revision, Bytes: s.Bytes, Tracks: s.Tracks, Fragments: make([][5]int64, len(s.Fragments))}
		for j, f := range s.Fragments {
			key := int64(0)
			if f.Key {
				key = 1
			}
			js.Fragments[j] = [5]int64{f.Start.Sub(s.Start).Nanoseconds(), f.Duration.Nanoseconds(), f.Offset, f.Size, key}
		}
		out.Segments = append(out.Segments, js)
	}
	return json.Marshal(out)
}

// UnmarshalListing decodes a listing of camera from b (at most Config.MaxListingBytes, read
// by the caller) with at most maxSegments segments, and checks it: times in order and
// within a segment, fragments inside the committed bytes, in file order. The segments get
// camera as their Camera and nothing in File or Upload.
func UnmarshalListing(b []byte, camera string, maxSegments int) (Listing, error) {
	var lj listingJSON
	if err := json.Unmarshal(b, &lj); err != nil {
		return Listing{}, fmt.Errorf("%w: %w", errListing, err)
	}
	if len(lj.Segments) > maxSegments {
		return Listing{}, fmt.Errorf("%w: %d segments, more than %d", errListing, len(lj.Segments), maxSegments)
	}
	out := Listing{Segments: make([]storage.SegmentInfo, 0, len(lj.Segments))}
	for i := range lj.Segments {
		s, err := lj.Segments[i].info(camera)
		if err != nil {
			return Listing{}, fmt.Errorf("%w: segment %d: %w", errListing, i, err)
		}
		if n := len(out.Segments); n > 0 && s.Start.Before(out.Segments[n-1].Start) {
			return Listing{}, fmt.Errorf("%w: segment %d starts before the one before it", errListing, i)
		}
		out.Segments = append(out.Segments, s)
	}
	return out, nil
}

// info checks one segment and returns it.
func (js *segmentJSON) info(camera string) (storage.SegmentInfo, error) {
	s := storage.SegmentInfo{Camera: camera, Start: time.Unix(0, js.Start).UTC(), End: time.Unix(0, js.End).UTC(),
		Revision: js.Revision, Bytes: js.Bytes, Tracks: js.Tracks}
	switch js.State {
	case storage.StateOpen.String():
		s.State = storage.StateOpen
	case storage.StateSealed.String():
		s.State = storage.StateSealed
	default:
		return s, fmt.Errorf("state %q", js.State)
	}
	if js.Start <= 0 || js.End < js.Start || s.End.Sub(s.Start) > maxSegmentSpan {
		return s, fmt.Errorf("times %d to %d", js.Start, js.End)
	}
	if js.Bytes < 0 || js.Bytes > maxFileBytes {
		return s, fmt.Errorf("%d bytes", js.Bytes)
	}
	if len(js.Tracks) > maxTracks {
		return s, fmt.Errorf("%d tracks", len(js.Tracks))
	}
	for _, t := range js.Tracks {
		if len(t) > maxTrackChars {
			return s, fmt.Errorf("track of %d characters", len(t))
		}
	}
	if len(js.Fragments) > maxFragments {
		return s, fmt.Errorf("%d fragments", len(js.Fragments))
	}
	frags, err := fragments(js, s)
	s.Fragments = frags
	return s, err
}

// fragments checks and converts a segment's seek table: each fragment after the one
// before it in time and in the file, within the segment's time and its committed bytes.
func fragments(js *segmentJSON, s storage.SegmentInfo) ([]storage.Fragment, error) {
	out := make([]storage.Fragment, 0, len(js.Fragments))
	span := s.End.Sub(s.Start).Nanoseconds()
	prevStart, prevEnd := -slack.Nanoseconds(), int64(0)
	for i, f := range js.Fragments {
		rel, dur, off, size, key := f[0], f[1], f[2], f[3], f[4]
		switch {
		case rel < prevStart || rel > span+slack.Nanoseconds() || dur < 0 || dur > maxSegmentSpan.Nanoseconds():
			return nil, fmt.Errorf("fragment %d: times %d+%d outside the segment's %d", i, rel, dur, span)
		case off < max(prevEnd, 1) || size < 8 || size > js.Bytes-off:
			return nil, fmt.Errorf("fragment %d: bytes %d+%d outside %d to %d", i, off, size, prevEnd, js.Bytes)
		case key != 0 && key != 1:
			return nil, fmt.Errorf("fragment %d: key %d", i, key)
		}
		out = append(out, storage.Fragment{Start: s.Start.Add(time.Duration(rel)), Duration: time.Duration(dur),
			Offset: off, Size: size, Key: key == 1})
		prevStart, prevEnd = rel, off+size
	}
	return out, nil
}

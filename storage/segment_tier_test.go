package storage

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// TestSegmentValueTierCompat: an entry without revision and upload mark is
// still written in version 1's layout, and version 2 keeps version 1's
// head, so every reader of fixed offsets reads both alike; the count tail
// is found after version 2's fields.
func TestSegmentValueTierCompat(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	base := SegmentInfo{Camera: "cam", Start: start, End: start.Add(20 * time.Minute), File: segmentPath("cam", start),
		Bytes: 4321, State: StateSealed, Tracks: []string{"avc1 1280x720", "mp4a 48000/2"}}
	frags := []Fragment{{Start: start, Duration: 10 * time.Minute}, {Start: start.Add(10 * time.Minute), Duration: 10 * time.Minute}}
	tiered := base
	tiered.Revision = 77
	tiered.Upload = UploadMark{State: UploadDone, Key: "p/cam/x.mp4", At: start.Add(time.Hour)}
	refused := base
	refused.Upload = UploadMark{State: UploadRefused, At: start.Add(time.Hour)}

	v1 := appendFragCounts(encodeSegment(&base), &base, frags)
	if v1[0] != segValueVersion {
		t.Fatalf("an entry without revision and mark has version %d", v1[0])
	}
	want1, _ := decodeSegHead(v1)
	c1, ok1 := decodeFragCounts(v1)
	for _, info := range []SegmentInfo{tiered, refused} {
		v2 := appendFragCounts(encodeSegment(&info), &info, frags)
		if v2[0] != segValueVersionTier || !bytes.Equal(v1[1:segHeadMin], v2[1:segHeadMin]) {
			t.Fatalf("version 2 head % x, version 1 head % x", v2[:segHeadMin], v1[:segHeadMin])
		}
		got, err := decodeSegment("cam", v2)
		if err != nil || got.Revision != info.Revision || got.Upload != info.Upload || got.File != info.File ||
			len(got.Tracks) != 2 {
			t.Errorf("decode: %+v, %v", got, err)
		}
		if h, ok := decodeSegHead(v2); !ok || h != want1 {
			t.Errorf("head %+v, want %+v", h, want1)
		}
		if h, ok := spanHead(segKey(start), v2); !ok || h.end != want1.end {
			t.Errorf("span head %+v", h)
		}
		if c2, ok2 := decodeFragCounts(v2); !ok1 || !ok2 || c2.n != c1.n || c2.nmark != c1.nmark {
			t.Errorf("counts %+v %v, version 1 %+v %v", c2, ok2, c1, ok1)
		}
		if up, ok := uploadStateOf(v2); !ok || up != info.Upload.State {
			t.Errorf("upload state %v %v, want %v", up, ok, info.Upload.State)
		}
		for n := segHeadMin; n < len(v2); n++ {
			if _, err := decodeSegment("cam", v2[:n]); err == nil && n < len(encodeSegment(&info)) {
				t.Errorf("decoded a value cut at %d of %d", n, len(v2))
			}
		}
	}
	if up, ok := uploadStateOf(v1); !ok || up != UploadNone {
		t.Errorf("version 1 upload state %v %v", up, ok)
	}
}

// TestMetaBoxRevision: revision 0 writes version 1's box, byte for byte;
// another revision round-trips through version 2, and a cut one is corrupt.
func TestMetaBoxRevision(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	m := segmentMeta{Start: start, Camera: "cam", RefTrack: 2}
	v1 := appendMetaBox(nil, m)
	if len(v1) != 8+16+1+8+4+1+3 || v1[24] != metaVersion {
		t.Fatalf("revision 0 box: % x", v1)
	}
	m.Revision = 1<<40 + 5
	v2 := appendMetaBox(nil, m)
	if !bytes.Equal(v1[4:24], v2[4:24]) || !bytes.Equal(v1[25:], v2[25:len(v1)]) || v2[24] != metaVersionRev {
		t.Fatalf("version 2 box % x does not extend version 1's % x", v2, v1)
	}
	got, ok, err := parseMetaBox(v2[8:])
	if !ok || err != nil || got != m {
		t.Errorf("parse: %+v %v %v", got, ok, err)
	}
	if _, ok, err := parseMetaBox(v2[8 : len(v2)-1]); !ok || !errors.Is(err, ErrCorrupt) {
		t.Errorf("cut box: %v %v", ok, err)
	}
}

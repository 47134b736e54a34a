package storage

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
)

// parseAlloc is the allocation bound of the fuzz targets (alloctest.Check): a decode or scan
// of n bytes may allocate at most 64 KiB + 64 bytes per input byte. Measured over the seeds:
// index values under 1 KiB; scanSegment 8 KiB for a 968-byte segment and 85 KiB for a
// 49,840-byte one (1.7 bytes per byte: the moov decode and the fragment table; it was 556
// KiB while mp4ff decoded every moof). An init box sized from its header before its bytes
// are checked (up to 4 MiB) would exceed it at once. FuzzParseFragment is in storage/fmp4.
var parseAlloc = alloctest.Bound{Base: 64 << 10, PerByte: 64}

// seedSegment is a small real segment: init, metadata box, two fragments.
func seedSegment(f *testing.F) []byte {
	return segmentBytes(f, "cam", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), 2)
}

// FuzzDecodeSegment feeds arbitrary index values to the segment decoder: it
// must not panic, must stay within parseAlloc, and what it accepts must
// re-encode to the same bytes.
func FuzzDecodeSegment(f *testing.F) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f.Add(encodeSegment(&SegmentInfo{Start: start, End: start.Add(time.Minute), File: "recordings/a/x.mp4",
		Bytes: 1234, State: StateSealed, Tracks: []string{"avc1 1280x720", "mp4a 48000/2"}}))
	f.Add([]byte{1, 1})
	sealed := SegmentInfo{Start: start, End: start.Add(20 * time.Minute), File: "recordings/a/x.mp4", Bytes: 99,
		State: StateSealed, Tracks: []string{"avc1 1280x720"}}
	f.Add(appendFragCounts(encodeSegment(&sealed), &sealed, []Fragment{{Start: start}, {Start: start.Add(10 * time.Minute)}}))
	sealed.Revision, sealed.Upload = 9, UploadMark{State: UploadDone, Key: "p/a/x.mp4", At: start}
	f.Add(appendFragCounts(encodeSegment(&sealed), &sealed, []Fragment{{Start: start}, {Start: start.Add(10 * time.Minute)}}))
	f.Fuzz(func(t *testing.T, v []byte) {
		var info SegmentInfo
		var err error
		alloctest.Check(t, parseAlloc, len(v), func() { info, err = decodeSegment("cam", v) })
		if err != nil {
			return
		}
		if again, err := decodeSegment("cam", encodeSegment(&info)); err != nil || !again.Start.Equal(info.Start) ||
			again.File != info.File || again.Revision != info.Revision || again.Upload != info.Upload {
			t.Fatalf("re-decode: %v %+v", err, again)
		}
	})
}

// FuzzDecodeSeek feeds arbitrary seek tables to the decoder: no panic,
// allocations within parseAlloc.
func FuzzDecodeSeek(f *testing.F) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f.Add(encodeSeek(start, []Fragment{
		{Start: start, Duration: time.Second, Offset: 900, Size: 5000, Key: true},
		{Start: start.Add(time.Second), Duration: time.Second, Offset: 5900, Size: 4000},
		{Start: start.Add(3 * time.Second), Duration: time.Second, Offset: 20000, Size: 10},
	}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, v []byte) {
		var frags []Fragment
		var err error
		alloctest.Check(t, parseAlloc, len(v), func() { frags, err = decodeSeek(start, v) })
		if err != nil {
			return
		}
		again, err := decodeSeek(start, encodeSeek(start, frags))
		if err != nil || len(again) != len(frags) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

// FuzzScanSegment feeds arbitrary files to the segment scanner used by
// repair, reindex and Check: no panic, ValidEnd never passes the file's end,
// scanning through readAhead finds exactly what direct reads find, and each
// scan stays within parseAlloc.
func FuzzScanSegment(f *testing.F) {
	f.Add([]byte{0, 0, 0, 8, 'f', 't', 'y', 'p'})
	f.Add(bytes.Repeat([]byte{0, 0, 0, 1}, 8))
	f.Add(seedSegment(f))
	f.Add(appendMetaBox(aacInit(f), segmentMeta{Start: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Camera: "c",
		RefTrack: 1, Revision: 5}))
	f.Add(append(segmentBytes(f, "big", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), 300), "torn"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s, s2 *scannedSegment
		var err, err2 error
		alloctest.Check(t, parseAlloc, len(b), func() { s, err = scanSegment(bytes.NewReader(b), int64(len(b))) })
		ra := getReadAhead(bytes.NewReader(b))
		alloctest.Check(t, parseAlloc, len(b), func() { s2, err2 = scanSegment(ra, int64(len(b))) })
		putReadAhead(ra)
		if (err == nil) != (err2 == nil) || err == nil && (s.ValidEnd != s2.ValidEnd || s.Torn != s2.Torn ||
			!slices.Equal(s.Fragments, s2.Fragments)) {
			t.Fatalf("direct: %v %+v\nread-ahead: %v %+v", err, s, err2, s2)
		}
		if err != nil {
			return
		}
		if s.ValidEnd > int64(len(b)) || s.ValidEnd < s.HeaderEnd {
			t.Fatalf("ValidEnd %d HeaderEnd %d of %d", s.ValidEnd, s.HeaderEnd, len(b))
		}
	})
}

// FuzzParseFileID feeds arbitrary recordings/.camvault-id contents to its
// parser: what it accepts is a valid ID that parses again as itself, and
// parsing stays within parseAlloc.
func FuzzParseFileID(f *testing.F) {
	f.Add([]byte(newDataID() + "\n"))
	f.Add([]byte("  0123456789abcdef0123456789abcdef\r\n"))
	f.Add([]byte("0123456789ABCDEF0123456789ABCDEF"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var id string
		var err error
		alloctest.Check(t, parseAlloc, len(b), func() { id, err = parseFileID(b) })
		if err != nil {
			return
		}
		if !validDataID(id) {
			t.Fatalf("accepted %q", id)
		}
		if again, err := parseFileID([]byte(id + "\n")); err != nil || again != id {
			t.Fatalf("re-parse %q: %q %v", id, again, err)
		}
	})
}

// FuzzParseIndexMeta feeds arbitrary meta bucket values (id, format) to
// their parser: no panic, allocations within parseAlloc, and an accepted ID
// is valid.
func FuzzParseIndexMeta(f *testing.F) {
	f.Add([]byte(newDataID()), []byte("1"))
	f.Add([]byte("0123456789abcdef0123456789abcdef"), []byte("4294967296"))
	f.Add([]byte("not an id"), []byte("-1"))
	f.Fuzz(func(t *testing.T, id, format []byte) {
		var m indexMeta
		var err error
		alloctest.Check(t, parseAlloc, len(id)+len(format), func() { m, err = parseIndexMeta(id, format) })
		if err != nil {
			return
		}
		if m.ID != "" && !validDataID(m.ID) || m.Format > 1<<32-1 {
			t.Fatalf("accepted %+v", m)
		}
	})
}

package tier

import (
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/storage"
)

// manifestAlloc bounds what decoding a manifest may allocate.
var manifestAlloc = alloctest.Bound{Base: 64 << 10, PerByte: 64}

// seedManifest is a manifest of two segments as upload writes it.
func seedManifest(tb testing.TB) []byte {
	start := time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC)
	m := manifest{Version: manifestVersion, Camera: "cam", Node: "n1", Hour: start.Truncate(time.Hour)}
	for i := range 2 {
		s := start.Add(time.Duration(i) * 10 * time.Minute)
		info := storage.SegmentInfo{Camera: "cam", Start: s, End: s.Add(2 * time.Second), Bytes: 3000,
			Revision: 4, Tracks: []string{"mp4a 48000/2"}, State: storage.StateSealed,
			Fragments: []storage.Fragment{{Start: s, Duration: time.Second, Offset: 900, Size: 1000, Key: true},
				{Start: s.Add(time.Second), Duration: time.Second, Offset: 1900, Size: 1100, Key: true}}}
		m.put(segmentOf(&info, objectKey("p/", "cam", s, "n1", 4)))
	}
	b, err := m.encode()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzDecodeManifest feeds arbitrary manifests (bytes from the object
// store) to the decoder: no panic, allocations within manifestAlloc, and
// what it accepts re-encodes to a manifest it accepts again, whose
// segments give seek tables inside their objects.
func FuzzDecodeManifest(f *testing.F) {
	f.Add(seedManifest(f))
	f.Add([]byte(`{"version":1,"camera":"cam","node":"n1","segments":[{"key":"p/cam/x.mp4","fragments":[[0,1,0,1,1]]}]}`))
	f.Add([]byte(`{"version":1,"camera":"other","node":"n1"}`))
	f.Add([]byte(`{"version":1,"camera":"cam","node":"n1","segments":[{"key":"q/cam/x.mp4"}]}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m *manifest
		var err error
		alloctest.Check(t, manifestAlloc, len(b), func() { m, err = decodeManifest(b, "p/", "cam") })
		if err != nil {
			return
		}
		again, err := m.encode()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := decodeManifest(again, "p/", "cam")
		if err != nil || len(m2.Segments) != len(m.Segments) {
			t.Fatalf("re-decode: %v", err)
		}
		for i := range m2.Segments {
			info := m2.Segments[i].info("cam")
			for _, fr := range info.Fragments {
				if fr.Offset < 0 || fr.Size <= 0 || fr.Offset+fr.Size > info.Bytes || fr.Start.Before(info.Start) {
					t.Fatalf("fragment %+v outside segment %+v", fr, info)
				}
			}
		}
	})
}

// TestManifestPut: put keeps start order and replaces an entry of the
// same key (a repeated upload).
func TestManifestPut(t *testing.T) {
	m, err := decodeManifest(seedManifest(t), "p/", "cam")
	if err != nil {
		t.Fatal(err)
	}
	first := m.Segments[0]
	m.put(first)
	if len(m.Segments) != 2 || m.Segments[0].Key != first.Key {
		t.Fatalf("after a repeated put: %d segments", len(m.Segments))
	}
	early := first
	early.Key, early.Start = "p/cam/early.mp4", first.Start.Add(-time.Minute)
	m.put(early)
	if len(m.Segments) != 3 || m.Segments[0].Key != early.Key {
		t.Fatalf("an earlier segment is not first: %+v", m.Segments[0])
	}
}

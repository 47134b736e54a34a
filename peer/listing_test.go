package peer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/peer"
	"github.com/camvault/camvault/storage"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// listingCases drive the decoder test and the fuzz seeds: ok says the listing decodes.
var listingCases = []struct {
	name string
	in   string
	ok   bool
}{
	{"empty", `{"segments":[]}`, true},
	{"null", `{"segments":null}`, true},
	{"sealed and open", `{"segments":[` +
		`{"start":1796637600000000000,"end":1796637602000000000,"state":"sealed","revision":7,"bytes":3000,"tracks":["H264 640x480"],"fragments":[[0,1000000000,1000,1000,1],[1000000000,1000000000,2000,1000,0]]},` +
		`{"start":1796637602000000000,"end":1796637603000000000,"state":"open","revision":7,"bytes":2000,"tracks":["H264 640x480"],"fragments":[[0,1000000000,1000,1000,1]]}]}`, true},
	{"no fragments", `{"segments":[{"start":1796637600000000000,"end":1796637600000000000,"state":"open","revision":1,"bytes":0,"tracks":[]}]}`, true},
	{"not json", `{"segments":[`, false},
	{"bad state", `{"segments":[{"start":1796637600000000000,"end":1796637600000000000,"state":"gone"}]}`, false},
	{"zero start", `{"segments":[{"start":0,"end":0,"state":"open"}]}`, false},
	{"end before start", `{"segments":[{"start":1796637600000000000,"end":1796637500000000000,"state":"sealed"}]}`, false},
	{"out of order", `{"segments":[{"start":1796637700000000000,"end":1796637700000000000,"state":"sealed"},{"start":1796637600000000000,"end":1796637600000000000,"state":"sealed"}]}`, false},
	{"fragment beyond bytes", `{"segments":[{"start":1796637600000000000,"end":1796637601000000000,"state":"sealed","bytes":1500,"fragments":[[0,1000000000,1000,1000,1]]}]}`, false},
	{"fragment at 0", `{"segments":[{"start":1796637600000000000,"end":1796637601000000000,"state":"sealed","bytes":1500,"fragments":[[0,1000000000,0,1000,1]]}]}`, false},
	{"fragments overlap", `{"segments":[{"start":1796637600000000000,"end":1796637602000000000,"state":"sealed","bytes":5000,"fragments":[[0,1000000000,1000,1000,1],[1000000000,1000000000,1500,1000,1]]}]}`, false},
	{"fragment after end", `{"segments":[{"start":1796637600000000000,"end":1796637601000000000,"state":"sealed","bytes":5000,"fragments":[[5000000000,1000000000,1000,1000,1]]}]}`, false},
	{"bad key", `{"segments":[{"start":1796637600000000000,"end":1796637601000000000,"state":"sealed","bytes":5000,"fragments":[[0,1000000000,1000,1000,2]]}]}`, false},
	{"negative bytes", `{"segments":[{"start":1796637600000000000,"end":1796637600000000000,"state":"sealed","bytes":-1}]}`, false},
	{"too many tracks", `{"segments":[{"start":1796637600000000000,"end":1796637600000000000,"state":"sealed","tracks":[` + strings.Repeat(`"a",`, 16) + `"a"]}]}`, false},
}

func TestUnmarshalListing(t *testing.T) {
	t.Parallel()
	for _, tc := range listingCases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := peer.UnmarshalListing([]byte(tc.in), "cam", 10)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				return
			}
			b, err := peer.MarshalListing(l)
			if err != nil {
				t.Fatal(err)
			}
			again, err := peer.UnmarshalListing(b, "cam", 10)
			if err != nil || len(again.Segments) != len(l.Segments) {
				t.Fatalf("round trip: %d segments, %v", len(again.Segments), err)
			}
		})
	}
}

// TestListingRoundTrip encodes segments as the handler does and decodes them back.
func TestListingRoundTrip(t *testing.T) {
	t.Parallel()
	in := peer.Listing{Segments: []storage.SegmentInfo{{
		Camera: "cam", Start: t0, End: t0.Add(2 * time.Second), State: storage.StateOpen, Revision: 42, Bytes: 3000,
		Tracks: []string{"H264 640x480", "AAC 48000"},
		Fragments: []storage.Fragment{
			{Start: t0, Duration: time.Second, Offset: 800, Size: 1200, Key: true},
			{Start: t0.Add(time.Second), Duration: time.Second, Offset: 2000, Size: 1000},
		},
	}}}
	b, err := peer.MarshalListing(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := peer.UnmarshalListing(b, "cam", 1)
	if err != nil {
		t.Fatal(err)
	}
	got, want := out.Segments[0], in.Segments[0]
	if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) || got.State != want.State || got.Revision != want.Revision ||
		got.Bytes != want.Bytes || len(got.Tracks) != 2 || len(got.Fragments) != 2 || got.Camera != "cam" {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for i := range want.Fragments {
		g, w := got.Fragments[i], want.Fragments[i]
		if !g.Start.Equal(w.Start) || g.Duration != w.Duration || g.Offset != w.Offset || g.Size != w.Size || g.Key != w.Key {
			t.Fatalf("fragment %d: got %+v, want %+v", i, g, w)
		}
	}
	if _, err := peer.UnmarshalListing([]byte(`{"segments":[`+strings.Repeat(`{"start":1,"end":1,"state":"open"},`, 2)+`{"start":1,"end":1,"state":"open"}]}`), "cam", 2); err == nil {
		t.Fatal("3 segments accepted with a bound of 2")
	}
}

// FuzzUnmarshalListing: any bytes decode or fail without a panic, and what decodes keeps
// every fragment inside its segment's committed bytes and encodes again.
func FuzzUnmarshalListing(f *testing.F) {
	for _, tc := range listingCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := peer.UnmarshalListing(b, "cam", 100)
		if err != nil {
			if l.Segments != nil {
				t.Fatal("segments with an error")
			}
			return
		}
		for _, s := range l.Segments {
			for _, fr := range s.Fragments {
				if fr.Offset <= 0 || fr.Size < 8 || fr.Offset+fr.Size > s.Bytes {
					t.Fatalf("fragment %+v outside %d bytes", fr, s.Bytes)
				}
			}
		}
		again, err := peer.MarshalListing(l)
		if err != nil {
			t.Fatal(err)
		}
		if l2, err := peer.UnmarshalListing(again, "cam", 100); err != nil || len(l2.Segments) != len(l.Segments) {
			t.Fatalf("encoded again: %d segments, %v", len(l2.Segments), err)
		}
	})
}

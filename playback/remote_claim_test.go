package playback

import (
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

var c0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func sec(s float64) time.Time { return c0.Add(time.Duration(s * float64(time.Second))) }

// seg returns a sealed segment [from, to) s; remote ones have no File.
func seg(name string, from, to float64, rev int64, remote bool) storage.SegmentInfo {
	s := storage.SegmentInfo{Camera: "cam", Start: sec(from), End: sec(to), State: storage.StateSealed,
		Tracks: []string{"H264 1280x720"}, Revision: rev, Upload: storage.UploadMark{Key: "k/" + name}}
	if !remote {
		s.File = "f/" + name
	}
	return s
}

// TestClaims checks which segment plays each instant where segments
// overlap (issue 13, item 4): the higher fencing revision, then the one
// that began first, then the local copy; a segment resumes after an
// overlap ends, and never two play the same instant.
func TestClaims(t *testing.T) {
	open := seg("open", 50, 55, 3, false)
	open.State = storage.StateOpen
	for _, tc := range []struct {
		name     string
		local    []storage.SegmentInfo
		remote   []storage.SegmentInfo
		at       float64
		want     string // the claim's segment (File or key)
		from, to float64
	}{
		{name: "lone remote", remote: []storage.SegmentInfo{seg("a", 0, 60, 5, true)}, at: 30, want: "k/a", from: 0, to: 60},
		{name: "higher revision in the middle", remote: []storage.SegmentInfo{seg("a", 0, 60, 5, true), seg("b", 20.5, 40.5, 7, true)},
			at: 10, want: "k/a", from: 0, to: 20.5},
		{name: "higher revision holds the overlap", remote: []storage.SegmentInfo{seg("a", 0, 60, 5, true), seg("b", 20.5, 40.5, 7, true)},
			at: 30, want: "k/b", from: 20.5, to: 40.5},
		{name: "lower revision resumes after", remote: []storage.SegmentInfo{seg("a", 0, 60, 5, true), seg("b", 20.5, 40.5, 7, true)},
			at: 50, want: "k/a", from: 40.5, to: 60},
		{name: "higher revision first, lower after its end", local: []storage.SegmentInfo{seg("a", 10, 30, 5, false)},
			remote: []storage.SegmentInfo{seg("b", 0, 20, 7, true)}, at: 25, want: "f/a", from: 20, to: 30},
		{name: "equal revisions: the earlier start", local: []storage.SegmentInfo{seg("a", 0, 30, 5, false)},
			remote: []storage.SegmentInfo{seg("b", 20, 40, 5, true)}, at: 25, want: "f/a", from: 0, to: 30},
		{name: "equal revisions: the later one after", local: []storage.SegmentInfo{seg("a", 0, 30, 5, false)},
			remote: []storage.SegmentInfo{seg("b", 20, 40, 5, true)}, at: 35, want: "k/b", from: 30, to: 40},
		{name: "local copy of an uploaded segment", local: []storage.SegmentInfo{seg("a", 0, 30, 5, false)},
			remote: []storage.SegmentInfo{seg("a", 0, 30, 5, true)}, at: 5, want: "f/a", from: 0, to: 30},
		{name: "recording segment overtaken", local: []storage.SegmentInfo{open},
			remote: []storage.SegmentInfo{seg("b", 70, 80, 4, true)}, at: 60, want: "f/open", from: 50, to: 70},
		// The owner's segments not uploaded yet come as sealed snapshots (package peer).
		{name: "owner's open segment after the last upload", remote: []storage.SegmentInfo{seg("up", 0, 15, 5, true), seg("owner", 15, 19, 5, true)},
			at: 17, want: "k/owner", from: 15, to: 19},
		{name: "owner's snapshot overtaken by a later owner's upload", remote: []storage.SegmentInfo{seg("owner", 0, 20, 5, true), seg("new", 10, 30, 9, true)},
			at: 12, want: "k/new", from: 10, to: 30},
		{name: "recording segment open", local: []storage.SegmentInfo{open},
			remote: []storage.SegmentInfo{seg("b", 0, 80, 2, true)}, at: 60, want: "f/open", from: 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := merge(tc.local, tc.remote)
			w, ok := best(all, sec(tc.at))
			if !ok {
				t.Fatalf("no segment holds %v", tc.at)
			}
			c := claimOf(w, all, sec(tc.at))
			got := c.seg.File
			if got == "" {
				got = c.seg.Upload.Key
			}
			wantTo := time.Time{}
			if tc.to != 0 {
				wantTo = sec(tc.to)
			}
			if got != tc.want || !c.from.Equal(sec(tc.from)) || !c.to.Equal(wantTo) {
				t.Errorf("claim at %v: %s [%v, %v), want %s [%v, %v)", tc.at, got, c.from.Sub(c0), c.to.Sub(c0),
					tc.want, sec(tc.from).Sub(c0), wantTo.Sub(c0))
			}
		})
	}
}

// TestMergeDropsRemoteCopies keeps one entry per segment: the local one.
func TestMergeDropsRemoteCopies(t *testing.T) {
	local := []storage.SegmentInfo{seg("a", 0, 30, 5, false), seg("c", 60, 90, 5, false)}
	remote := []storage.SegmentInfo{seg("a", 0, 30, 5, true), seg("b", 30, 60, 5, true), seg("c2", 60, 90, 6, true)}
	var got []string
	for _, s := range merge(local, remote) {
		got = append(got, s.File+s.Upload.Key)
	}
	want := []string{"f/ak/a", "k/b", "f/ck/c", "k/c2"}
	if len(got) != len(want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("merged %v, want %v", got, want)
		}
	}
}

// TestMergeConfirmedInDoubt: a local segment recorded in doubt (revision
// -7) and uploaded under the revision that confirmed it (7) is one segment,
// played from disk, ranked under 7: it beats another node's revision 6.
func TestMergeConfirmedInDoubt(t *testing.T) {
	local := []storage.SegmentInfo{seg("a", 0, 30, -7, false)}
	remote := []storage.SegmentInfo{seg("a", 0, 30, 7, true), seg("b", 10, 40, 6, true)}
	all := merge(local, remote)
	if len(all) != 2 || all[0].File != "f/a" || all[0].Revision != 7 {
		t.Fatalf("merged %+v", all)
	}
	w, ok := best(all, sec(20))
	if !ok || w.File != "f/a" {
		t.Fatalf("at 20 s: %+v, want the local copy", w)
	}
}

package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/peer"
	"github.com/camvault/camvault/storage"
)

func TestJoinSpans(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(1_800_000_000+int64(s), 0) }
	sp := func(a, b int) storage.Span { return storage.Span{Start: at(a), End: at(b)} }
	for _, tc := range []struct {
		name  string
		in    []storage.Span
		gap   time.Duration
		limit int
		want  []storage.Span
	}{
		{"empty", nil, 0, 0, nil},
		{"local and remote copies of one segment", []storage.Span{sp(0, 10), sp(0, 10)}, 0, 0, []storage.Span{sp(0, 10)}},
		{"unsorted, overlapping", []storage.Span{sp(20, 30), sp(0, 10), sp(5, 12)}, 0, 0, []storage.Span{sp(0, 12), sp(20, 30)}},
		{"a gap within tolerance", []storage.Span{sp(0, 10), sp(12, 20)}, 2 * time.Second, 0, []storage.Span{sp(0, 20)}},
		{"a gap beyond it", []storage.Span{sp(0, 10), sp(13, 20)}, 2 * time.Second, 0, []storage.Span{sp(0, 10), sp(13, 20)}},
		{"contained", []storage.Span{sp(0, 30), sp(5, 10)}, 0, 0, []storage.Span{sp(0, 30)}},
		{"limit", []storage.Span{sp(0, 1), sp(5, 6), sp(9, 10)}, 0, 2, []storage.Span{sp(0, 1), sp(5, 6)}},
	} {
		if got := joinSpans(tc.in, tc.gap, tc.limit); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMergeOwner: an owner's segment uploaded between its listing and the object store's
// (same start and revision) is listed once, as the object; the rest come in start order.
func TestMergeOwner(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(1_800_000_000+int64(s), 0) }
	seg := func(start int, rev int64, key string) storage.SegmentInfo {
		return storage.SegmentInfo{Start: at(start), End: at(start + 10), Revision: rev, Upload: storage.UploadMark{Key: key}}
	}
	owner := []storage.SegmentInfo{seg(10, 5, "peer:a/cam/1"), seg(20, 5, "peer:a/cam/2"), seg(30, 5, "peer:a/cam/3")}
	up := []storage.SegmentInfo{seg(0, 5, "cam/0"), seg(20, 5, "cam/20"), seg(30, 4, "cam/30")}
	var keys []string
	for _, s := range mergeOwner(owner, up) {
		keys = append(keys, s.Upload.Key)
	}
	want := []string{"cam/0", "peer:a/cam/1", "cam/20", "peer:a/cam/3", "cam/30"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("merged %q, want %q", keys, want)
	}
}

// TestPeerPathPrefix: the API serves the peer handler where package peer's clients ask.
func TestPeerPathPrefix(t *testing.T) {
	if api.ClusterPathPrefix != peer.PathPrefix {
		t.Fatalf("api serves the cluster's endpoints at %q, peer asks at %q", api.ClusterPathPrefix, peer.PathPrefix)
	}
}

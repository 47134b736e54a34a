package peer_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/peer"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

const token = "0123456789abcdef0123456789abcdef"

// owner is a store with a sealed segment, an uploaded one and an open one, served by a
// Handler on loopback.
type owner struct {
	store                  *storage.Store
	srv                    *httptest.Server
	sealed, uploaded, open storage.SegmentInfo
}

func newOwner(t *testing.T) *owner {
	t.Helper()
	st, err := storage.Open(storage.Config{Dir: t.TempDir(), Sync: storage.SyncNone, IndexTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	o := &owner{store: st}
	o.uploaded = record(t, st, t0, 2, true)
	if err := st.MarkUpload("cam", t0, storage.UploadMark{State: storage.UploadDone, Key: "k/x.mp4", At: t0}); err != nil {
		t.Fatal(err)
	}
	o.sealed = record(t, st, t0.Add(time.Minute), 3, true)
	o.open = record(t, st, t0.Add(2*time.Minute), 2, false)
	h, err := peer.NewHandler(peer.Config{}, st, token)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(peer.PathPrefix, h)
	o.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		o.srv.Close()
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return o
}

// record writes a segment of nfrag G.711 fragments of 1 s, sealed or left open with
// its fragments committed, and returns its entry with seek table.
func record(t *testing.T, st *storage.Store, start time.Time, nfrag int, seal bool) storage.SegmentInfo {
	t.Helper()
	seg, err := st.CreateRevision("cam", start, 1, 9, testInit(t))
	if err != nil {
		t.Fatal(err)
	}
	const frames, size = 50, 160 // 20 ms frames of 8 kHz G.711: 1 s fragments
	dur := time.Second
	for i := range nfrag {
		wall := start.Add(time.Duration(i) * dur)
		samples := make([]fmp4.Sample, frames)
		for j := range samples {
			samples[j] = fmp4.Sample{Duration: 160, Size: size, Key: true}
		}
		tf := []fmp4.TrackFragment{{TrackID: 1, BaseDecodeTime: uint64(i * frames * 160), Samples: samples,
			Data: bytes.Repeat([]byte{byte(i)}, frames*size)}}
		buf := st.Buffer()
		*buf = fmp4.AppendFragment(*buf, uint32(i+1), 0, wall, tf)
		if err := seg.Append(storage.FragmentInfo{Start: wall, Duration: dur, Key: true}, buf); err != nil {
			t.Fatal(err)
		}
	}
	if seal {
		seg.Seal()
		<-seg.Done()
	}
	info, err := st.WaitFragments(context.Background(), "cam", start, nfrag-1) // more than nfrag-1
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// testInit returns ftyp+moov with one G.711 track (ID 1, 8 kHz).
func testInit(t *testing.T) []byte {
	t.Helper()
	init, err := media.InitSegment([]*media.Track{{Codec: media.CodecPCMU, ClockRate: 8000, Channels: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return init
}

func newClient(t *testing.T) *peer.Client {
	t.Helper()
	c, err := peer.NewClient(peer.Config{RequestTimeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHandlerAuth: without the token, with another one or another scheme, every endpoint
// answers 401 before any lookup; with it, 200.
func TestHandlerAuth(t *testing.T) {
	t.Parallel()
	o := newOwner(t)
	from, to := t0.UnixNano(), t0.Add(time.Hour).UnixNano()
	paths := []string{
		peer.PathPrefix + "segments/cam?from=" + itoa(from) + "&to=" + itoa(to),
		peer.PathPrefix + "read/cam/" + itoa(o.sealed.Start.UnixNano()) + "?off=0&n=8",
		peer.PathPrefix + "segments/nosuch?from=1&to=2",
	}
	for _, p := range paths {
		for _, auth := range []string{"", "Bearer ", "Bearer x" + token[1:], "Basic " + token, "Bearer " + token + "x"} {
			if got := status(t, o.srv.URL+p, auth); got != http.StatusUnauthorized {
				t.Errorf("%s with %q: %d, want 401", p, auth, got)
			}
		}
		if got := status(t, o.srv.URL+p, "Bearer "+token); got != http.StatusOK {
			t.Errorf("%s with the token: %d, want 200", p, got)
		}
	}
	_, err := newClient(t).Segments(context.Background(), peer.Node{Name: "a", HTTPURL: o.srv.URL, Token: "wrong-token-0123456789"}, "cam", t0, t0.Add(time.Hour))
	if se := (*peer.StatusError)(nil); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Fatalf("client with a wrong token: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func status(t *testing.T, url, auth string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestClientListsAndReads: the listing holds the sealed and the open segment, not the
// uploaded one, with their seek tables; reads return the file's bytes, and none beyond
// the committed fragments.
func TestClientListsAndReads(t *testing.T) {
	t.Parallel()
	o := newOwner(t)
	c := newClient(t)
	n := peer.Node{Name: "a", HTTPURL: o.srv.URL + "/", Token: token}
	ctx := context.Background()
	segs, err := c.Segments(ctx, n, "cam", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || !segs[0].Start.Equal(o.sealed.Start) || !segs[1].Start.Equal(o.open.Start) {
		t.Fatalf("listing %+v", segs)
	}
	if segs[0].State != storage.StateSealed || segs[1].State != storage.StateOpen || segs[1].Revision != 9 ||
		len(segs[0].Fragments) != 3 || len(segs[1].Fragments) != 2 || segs[1].Bytes != peer.Committed(&o.open) {
		t.Fatalf("listing %+v", segs)
	}
	for _, s := range []storage.SegmentInfo{o.sealed, o.open} {
		for _, f := range s.Fragments {
			want, err := o.store.ReadFragment(s.File, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ReadAt(ctx, n, "cam", s.Start, f.Offset, f.Size)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("fragment at %d of %v: %d bytes, %v", f.Offset, s.Start, len(got), err)
			}
		}
	}
	end := peer.Committed(&o.open)
	_, err = c.ReadAt(ctx, n, "cam", o.open.Start, end-8, 9)
	if se := (*peer.StatusError)(nil); !errors.As(err, &se) || se.Status != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("read beyond the committed bytes: %v", err)
	}
	if _, err := c.Segments(ctx, n, "cam", t0, t0.Add(49*time.Hour)); err == nil {
		t.Fatal("a listing of 49 hours with seek tables answered")
	}
	_, err = c.ReadAt(ctx, n, "cam", o.open.Start.Add(time.Millisecond), 0, 8)
	if se := (*peer.StatusError)(nil); !errors.As(err, &se) || se.Status != http.StatusNotFound {
		t.Fatalf("read of no segment: %v", err)
	}
	spans, err := peer.NewRemote(c, func(string) (peer.Node, bool) { return n, true }, nil, nil).Spans(ctx, "cam", t0, t0.Add(time.Hour))
	if err != nil || len(spans) != 2 || len(spans[1].Fragments) != 0 || !spans[1].End.Equal(o.open.End) {
		t.Fatalf("spans %+v, %v", spans, err)
	}
}

// TestRemote: segments come sealed with peer keys that read the owner's bytes; an owner
// that does not answer is an error, counted every time and logged once until it answers.
func TestRemote(t *testing.T) {
	t.Parallel()
	o := newOwner(t)
	c := newClient(t)
	nodes := map[string]peer.Node{"a": {Name: "a", HTTPURL: o.srv.URL, Token: token}}
	owner := "a"
	logs := &rtsptest.SyncBuffer{}
	r := peer.NewRemote(c, func(string) (peer.Node, bool) { n, ok := nodes[owner]; return n, ok },
		func(name string) (peer.Node, bool) { n, ok := nodes[name]; return n, ok }, slog.New(slog.NewTextHandler(logs, nil)))
	ctx := context.Background()
	segs, err := r.RemoteSegments(ctx, "cam", t0, t0.Add(time.Hour))
	if err != nil || len(segs) != 2 {
		t.Fatalf("%d segments, %v", len(segs), err)
	}
	for _, s := range segs {
		if s.State != storage.StateSealed || s.File != "" || !peer.IsKey(s.Upload.Key) {
			t.Fatalf("segment %+v", s)
		}
	}
	init, err := r.ReadAt(ctx, segs[1].Upload.Key, 0, segs[1].Fragments[0].Offset)
	want := make([]byte, segs[1].Fragments[0].Offset)
	if _, err := o.store.ReadAt(o.open.File, want, 0); err != nil {
		t.Fatal(err)
	}
	if err != nil || !bytes.Equal(init, want) {
		t.Fatalf("init: %d bytes, %v", len(init), err)
	}
	if _, err := r.ReadAt(ctx, "peer:a/cam/x", 0, 8); err == nil {
		t.Fatal("bad key read")
	}
	nodes["b"] = peer.Node{Name: "b", HTTPURL: "http://127.0.0.1:1", Token: token}
	owner = "b"
	for range 3 {
		if _, err := r.RemoteSegments(ctx, "cam", t0, t0.Add(time.Hour)); err == nil {
			t.Fatal("listing of an unreachable owner succeeded")
		}
	}
	if st := r.Stats(); st.ListFailures != 3 {
		t.Fatalf("stats %+v", st)
	}
	if n := strings.Count(logs.String(), "node unreachable"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, logs.String())
	}
	owner = ""
	if segs, err := r.RemoteSegments(ctx, "cam", t0, t0.Add(time.Hour)); err != nil || segs != nil {
		t.Fatalf("no owner: %v, %v", segs, err)
	}
}

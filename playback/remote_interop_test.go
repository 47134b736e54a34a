//go:build interop

package playback_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/camvault/camvault/internal/rtspservertest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/internal/s3test"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
	"github.com/camvault/camvault/tier"
)

// uploadWait bounds the wait for uploads: a real server on a busy machine.
const uploadWait = 60 * time.Second

// node is one camvault node's store and tier, on a shared S3 server.
type node struct {
	t     *testing.T
	store *storage.Store
	tier  *tier.Tier
}

// newNode opens a store in a new directory and a tier of it named name,
// under prefix on srv. The store closes when the test ends, after any
// server started later stopped.
func newNode(t *testing.T, srv *s3test.Server, prefix, name string) *node {
	t.Helper()
	st, err := storage.Open(storage.Config{Dir: t.TempDir(), Sync: storage.SyncNone, IndexTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	tr, err := tier.New(tier.Config{Endpoint: srv.Endpoint, Bucket: s3test.Bucket, Region: s3test.Region,
		AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, Prefix: prefix, Node: name,
		RetryMin: 20 * time.Millisecond, RetryMax: 500 * time.Millisecond, ScanInterval: 50 * time.Millisecond}, st)
	if err != nil {
		t.Fatal(err)
	}
	return &node{t: t, store: st, tier: tr}
}

// record writes frames [first, first+n) of the numbered test stream as
// one sealed segment of camera starting at start, under fencing revision
// rev, through the store's writer: one fragment per second, each starting
// with a keyframe (frame i is captured at start + (i-first)*40ms).
func (n *node) record(camera string, start time.Time, first, frames int, rev int64) {
	n.t.Helper()
	track := &media.Track{Control: "streamid=0", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000,
		SPS: testSPS, PPS: testPPS, Width: 1280, Height: 720}
	init, err := media.InitSegment([]*media.Track{track})
	if err != nil {
		n.t.Fatal(err)
	}
	seg, err := n.store.CreateRevision(camera, start, 1, rev, init)
	if err != nil {
		n.t.Fatal(err)
	}
	for k := 0; k*fps < frames; k++ {
		count := min(fps, frames-k*fps)
		tf := fmp4.TrackFragment{TrackID: 1, BaseDecodeTime: uint64(k * fps * 3600)}
		for j := range count {
			i := first + k*fps + j
			nal := []byte{0x41, 0x9a, byte(i >> 8), byte(i), 0x10, 0x20}
			if j == 0 {
				nal[0] = 0x65
			}
			tf.Data = binary.BigEndian.AppendUint32(tf.Data, uint32(len(nal)))
			tf.Data = append(tf.Data, nal...)
			tf.Samples = append(tf.Samples, fmp4.Sample{Duration: 3600, Size: uint32(4 + len(nal)), Key: j == 0})
		}
		wall := start.Add(time.Duration(k) * time.Second)
		buf := n.store.Buffer()
		*buf = fmp4.AppendFragment(*buf, uint32(k+1), 0, wall, []fmp4.TrackFragment{tf})
		if err := seg.Append(storage.FragmentInfo{Start: wall, Duration: time.Duration(count) * frameDur, Key: true}, buf); err != nil {
			n.t.Fatal(err)
		}
	}
	seg.Seal()
	<-seg.Done()
	if err := seg.Err(); err != nil {
		n.t.Fatal(err)
	}
}

// upload runs the tier until every sealed segment of camera is uploaded.
func (n *node) upload(camera string) {
	n.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.tier.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			n.t.Error(err)
		}
	}()
	rtsptest.WaitWithin(n.t, uploadWait, "upload of "+camera, func() bool {
		segs, err := n.store.Segments(camera, time.Time{}, time.Time{}, false)
		return err == nil && !slices.ContainsFunc(segs, func(s storage.SegmentInfo) bool { return s.Upload.State != storage.UploadDone })
	})
}

// dropUploaded deletes the local copies of uploaded segments, as retention
// with uploaded_max_age does, and checks that camera has left only keep
// local segments.
func (n *node) dropUploaded(camera string, keep int) {
	n.t.Helper()
	n.store.SetRetention(storage.Retention{Tiered: true, Default: storage.RetentionPolicy{UploadedMaxAge: time.Nanosecond}})
	if _, err := n.store.RunRetention(time.Now(), false); err != nil {
		n.t.Fatal(err)
	}
	n.store.SetRetention(storage.Retention{})
	if segs, err := n.store.Segments(camera, time.Time{}, time.Time{}, false); err != nil || len(segs) != keep {
		n.t.Fatalf("%d local segments of %s after retention (%v), want %d", len(segs), camera, err, keep)
	}
}

// serveRemote runs a real RTSP server with playback of st and remote until
// the test ends.
func serveRemote(t *testing.T, st *storage.Store, remote playback.Remote) (string, *playback.Server) {
	t.Helper()
	cfg := playback.Config{Store: st, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	if remote != nil {
		cfg.Remote = remote
	}
	play, err := playback.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := rtspservertest.Start(t, rtsp.Config{DisableUDP: true, Handler: handler{play}})
	return srv.Addr().String(), play
}

// window returns the archive path of camera from t0+from to t0+to seconds.
func window(camera string, from, to int) string {
	return fmt.Sprintf("archive/%s?start=%s&end=%s", camera, t0.Add(time.Duration(from)*time.Second).Format(time.RFC3339),
		t0.Add(time.Duration(to)*time.Second).Format(time.RFC3339))
}

// open DESCRIBEs and SETUPs path on a new connection and returns the
// client and the presentation's URL; hdr go with both requests.
func open(t *testing.T, addr, path string, hdr ...string) (*client, string) {
	t.Helper()
	c := dial(t, addr)
	d := c.do("DESCRIBE", c.url(path), append([]string{"Accept: application/sdp"}, hdr...)...)
	if d.StatusCode != 200 {
		t.Fatalf("DESCRIBE %s: %d", path, d.StatusCode)
	}
	if s := c.do("SETUP", c.track(d, "trackID=0"), append([]string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, hdr...)...); s.StatusCode != 200 {
		t.Fatalf("SETUP: %d", s.StatusCode)
	}
	return c, d.Header.Get("Content-Base")
}

// playAll plays path from rng without rate control and returns the access
// units until the RTCP BYE.
func playAll(t *testing.T, addr, path, rng string) []received {
	t.Helper()
	c, u := open(t, addr, path)
	if r := c.do("PLAY", u, "Range: "+rng, "Rate-Control: no"); r.StatusCode != 200 {
		t.Fatalf("PLAY %s: %d", rng, r.StatusCode)
	}
	var aus []received
	for {
		au, bye := c.readAU()
		if bye {
			return aus
		}
		aus = append(aus, au)
	}
}

// frames returns [a, b) followed by the other ranges given as pairs.
func frames(bounds ...int) []int {
	var out []int
	for i := 0; i+1 < len(bounds); i += 2 {
		for f := bounds[i]; f < bounds[i+1]; f++ {
			out = append(out, f)
		}
	}
	return out
}

// checkFrames compares the frame numbers played with want, and checks
// that RTP timestamps advance by one frame at each step.
func checkFrames(t *testing.T, aus []received, want []int) {
	t.Helper()
	got := make([]int, len(aus))
	for i, au := range aus {
		got[i] = au.frame
		if i > 0 && au.ts-aus[i-1].ts != 3600 {
			t.Errorf("timestamp step %d between frames %d and %d", au.ts-aus[i-1].ts, aus[i-1].frame, au.frame)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("played %d frames %s, want %d frames %s", len(got), spans(got), len(want), spans(want))
	}
}

// spans writes frame numbers as runs: "0-499 10000-10499".
func spans(fs []int) string {
	var b strings.Builder
	for i := 0; i < len(fs); {
		j := i
		for j+1 < len(fs) && fs[j+1] == fs[j]+1 {
			j++
		}
		fmt.Fprintf(&b, "%d-%d ", fs[i], fs[j])
		i = j + 1
	}
	return strings.TrimSpace(b.String())
}

// TestRemotePlayback plays archives whose segments live in the object
// store (issue 13, item 4): uploaded by a tier, their local copies deleted
// by retention, played through playback with Config.Remote. One S3 server
// serves every case, each under its own prefix.
func TestRemotePlayback(t *testing.T) {
	srv := s3test.New(t)
	prefix := func(t *testing.T) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, t.Name()) + "/"
	}

	t.Run("every frame from the object store", func(t *testing.T) {
		n := newNode(t, srv, prefix(t), "n1")
		for i := range 3 {
			n.record("cam", t0.Add(time.Duration(20*i)*time.Second), 500*i, 500, 0)
		}
		n.upload("cam")
		n.dropUploaded("cam", 0)
		addr, play := serveRemote(t, n.store, n.tier)
		checkFrames(t, playAll(t, addr, window("cam", 0, 60), "npt=0-"), frames(0, 1500))
		if st := play.Stats(); st.RemoteReads < 60 || st.RemoteReadFailures != 0 {
			t.Errorf("stats %+v: want at least 60 remote reads (one per fragment), no failure", st)
		}

		// Paced across a segment join: after the first fragment, every read
		// was done ahead of its turn.
		before := play.Stats().RemoteReadWaits
		c, u := open(t, addr, window("cam", 0, 60))
		if r := c.do("PLAY", u, "Range: npt=17-23"); r.StatusCode != 200 {
			t.Fatalf("PLAY npt=17-23: %d", r.StatusCode)
		}
		var aus []received
		for {
			au, bye := c.readAU()
			if bye {
				break
			}
			aus = append(aus, au)
		}
		checkFrames(t, aus, frames(17*fps, 23*fps))
		if waits := play.Stats().RemoteReadWaits - before; waits != 1 {
			t.Errorf("the sender waited for %d reads, want 1 (the first fragment)", waits)
		}
	})

	t.Run("seek by npt and clock, ONVIF replay, pause and resume", func(t *testing.T) {
		n := newNode(t, srv, prefix(t), "n1")
		for i := range 3 {
			n.record("cam", t0.Add(time.Duration(20*i)*time.Second), 500*i, 500, 0)
		}
		n.upload("cam")
		n.dropUploaded("cam", 0)
		addr, _ := serveRemote(t, n.store, n.tier)
		path := window("cam", 0, 60)

		c, u := open(t, addr, path)
		r := c.do("PLAY", u, "Range: npt=25.5-")
		if r.StatusCode != 200 || r.Header.Get("Range") != "npt=25.000-60.000" {
			t.Fatalf("PLAY npt=25.5-: %d Range %q, want npt=25.000-60.000", r.StatusCode, r.Header.Get("Range"))
		}
		if au := c.mustAU(); au.frame != 25*fps || !au.key {
			t.Errorf("npt=25.5: first AU frame %d key %v, want keyframe %d", au.frame, au.key, 25*fps)
		}
		var last received
		for range 10 {
			last = c.mustAU()
		}
		if r := c.do("PAUSE", u); r.StatusCode != 200 {
			t.Fatalf("PAUSE: %d", r.StatusCode)
		}
		r = c.do("PLAY", u)
		seq, _ := rtpInfo(t, r.Header.Get("RTP-Info"))
		au := c.mustAU()
		for ; au.seq != seq; au = c.mustAU() { // AUs sent before the pause
		}
		if !au.key || au.frame > last.frame+fps || au.frame < last.frame-fps {
			t.Errorf("resume after frame %d: frame %d key %v, want the keyframe at or before the pause", last.frame, au.frame, au.key)
		}

		c, u = open(t, addr, path, "Require: onvif-replay")
		at := t0.Add(47300 * time.Millisecond)
		r = c.do("PLAY", u, "Require: onvif-replay", "Range: clock="+clock(at)+"-")
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Range"), "clock=20261124T100047Z-") {
			t.Fatalf("PLAY clock: %d Range %q", r.StatusCode, r.Header.Get("Range"))
		}
		for i := range 30 {
			au := c.mustAU()
			want := 47*fps + i
			if au.frame != want || len(au.ext) != 12 {
				t.Fatalf("clock seek: AU %d is frame %d (extension %d bytes), want frame %d", i, au.frame, len(au.ext), want)
			}
			ntp := fmp4.NTPToTime(binary.BigEndian.Uint64(au.ext[0:8]))
			if d := ntp.Sub(t0.Add(time.Duration(want) * frameDur)).Abs(); d > time.Millisecond {
				t.Errorf("frame %d: ONVIF NTP %v, off by %v", want, ntp, d)
			}
			if (au.ext[8]&0x80 != 0) != au.key {
				t.Errorf("frame %d: C flag %v, keyframe %v", want, au.ext[8]&0x80 != 0, au.key)
			}
		}
	})

	t.Run("remote then local without a gap", func(t *testing.T) {
		n := newNode(t, srv, prefix(t), "n1")
		n.record("cam", t0, 0, 500, 0)
		n.upload("cam")
		n.dropUploaded("cam", 0)
		n.record("cam", t0.Add(20*time.Second), 500, 500, 0)
		n.upload("cam") // uploaded, local copy kept: played once, from disk
		n.record("cam", t0.Add(40*time.Second), 1000, 500, 0)
		addr, play := serveRemote(t, n.store, n.tier)
		checkFrames(t, playAll(t, addr, window("cam", 0, 60), "npt=0-"), frames(0, 1500))
		if st := play.Stats(); st.RemoteReads < 20 || st.RemoteReads > 22 {
			t.Errorf("%d remote reads, want 20 fragments and at most 2 inits: the kept copy is read from disk", st.RemoteReads)
		}

		// Backwards from disk into the object store, a GOP at a time.
		c, u := open(t, addr, window("cam", 0, 60), "Require: onvif-replay")
		if r := c.do("PLAY", u, "Require: onvif-replay", "Rate-Control: no", "Scale: -1",
			"Range: clock="+clock(t0.Add(22*time.Second))+"-"+clock(t0.Add(17*time.Second))); r.StatusCode != 200 {
			t.Fatalf("PLAY Scale -1: %d", r.StatusCode)
		}
		var keys []int
		for {
			au, bye := c.readAU()
			if bye {
				break
			}
			if au.key {
				keys = append(keys, au.frame)
			}
		}
		if want := []int{22 * fps, 21 * fps, 20 * fps, 19 * fps, 18 * fps, 17 * fps}; !slices.Equal(keys, want) {
			t.Errorf("Scale -1: GOPs at frames %v, want %v", keys, want)
		}
	})

	t.Run("overlap of two revisions plays the higher", func(t *testing.T) {
		p := prefix(t)
		old, owner := newNode(t, srv, p, "n1"), newNode(t, srv, p, "n2")
		old.record("cam", t0, 0, 1500, 5)
		old.upload("cam")
		old.dropUploaded("cam", 0)
		// After a failover n2 recorded 20 s under revision 7, 0.52 s
		// into a fragment of n1's.
		owner.record("cam", t0.Add(20520*time.Millisecond), 10000, 500, 7)
		owner.upload("cam")
		addr, _ := serveRemote(t, old.store, old.tier)
		// n1's frames up to 20.52 s, n2's 20 s, then n1's from its first
		// keyframe at or after 40.52 s: no instant twice.
		aus := playAll(t, addr, window("cam", 0, 60), "npt=0-")
		checkFrames(t, aus, frames(0, 513, 10000, 10500, 1025, 1500))
	})

	t.Run("a growing window plays the object store then follows the recording", func(t *testing.T) {
		n := newNode(t, srv, prefix(t), "n1")
		start := time.Now().Truncate(time.Second).Add(-20 * time.Second)
		n.record("live", start, 5000, 10*fps, 0)
		n.upload("live")
		n.dropUploaded("live", 0)
		addr, _ := serveRemote(t, n.store, n.tier)
		// Without start= nor a local recording, the window is what the
		// object store holds of the last remote_horizon.
		d := dial(t, addr).do("DESCRIBE", "rtsp://"+addr+"/archive/live", "Accept: application/sdp")
		if d.StatusCode != 200 || !strings.Contains(string(d.Body), "a=range:npt=0-10.000") {
			t.Fatalf("DESCRIBE without start: %d\n%s", d.StatusCode, d.Body)
		}
		live := startLiveRecording(t, n.store, "live", 6*time.Second)
		<-live.firstFragment
		waitIndexed(t, n.store, "live")
		c, u := open(t, addr, "archive/live?start="+start.Format(time.RFC3339))
		if r := c.do("PLAY", u, "Range: npt=0-", "Rate-Control: no"); r.StatusCode != 200 {
			t.Fatalf("PLAY: %d", r.StatusCode)
		}
		var got []int
		for len(got) < 10*fps+4*fps {
			got = append(got, c.mustAU().frame)
		}
		if want := frames(5000, 5000+10*fps, 0, 4*fps); !slices.Equal(got, want) {
			t.Errorf("played %s, want %s", spans(got), spans(want))
		}
		live.stop()
	})

	// Last: it stops the server.
	defer t.Run("store down: local plays, remote-only answers 503", func(t *testing.T) {
		n := newNode(t, srv, prefix(t), "n1")
		n.record("cam", t0, 0, 500, 0)
		n.upload("cam")
		n.dropUploaded("cam", 0)
		n.record("cam", t0.Add(20*time.Second), 500, 500, 0)
		srv.Stop()
		addr, play := serveRemote(t, n.store, n.tier)
		checkFrames(t, playAll(t, addr, window("cam", 0, 40), "npt=0-"), frames(500, 1000))
		if st := play.Stats(); st.RemoteListFailures == 0 {
			t.Errorf("stats %+v: the failed listing was not counted", st)
		}
		if d := dial(t, addr).do("DESCRIBE", "rtsp://"+addr+"/"+window("cam", 0, 19)); d.StatusCode != 503 {
			t.Errorf("DESCRIBE of a window only the store holds, store down: %d, want 503", d.StatusCode)
		}
	})

	t.Run("a failed read skips what it held", func(t *testing.T) {
		n := newNode(t, srv, prefix(t), "n1")
		for i := range 3 {
			n.record("cam", t0.Add(time.Duration(20*i)*time.Second), 500*i, 500, 0)
		}
		n.upload("cam")
		n.dropUploaded("cam", 0)
		segs, err := n.tier.RemoteSegments(context.Background(), "cam", t0, t0.Add(time.Minute))
		if err != nil || len(segs) != 3 {
			t.Fatalf("%d remote segments, %v", len(segs), err)
		}
		if err := srv.Client().RemoveObject(context.Background(), s3test.Bucket, segs[1].Upload.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		addr, play := serveRemote(t, n.store, n.tier)
		checkFrames(t, playAll(t, addr, window("cam", 0, 60), "npt=0-"), frames(0, 500, 1000, 1500))
		if st := play.Stats(); st.RemoteReadFailures == 0 {
			t.Errorf("stats %+v: the missing object's reads were not counted", st)
		}
	})
}

// TestRemotePlayLatency measures archive PLAY-to-first-packet from the
// object store against local disk (issue 13 benchmark): each sample is a
// new session (DESCRIBE, SETUP) and the time from sending PLAY at a random
// position to the first RTP packet ("local", "remote"), and the
// DESCRIBE+SETUP before it. It checks that packet is the keyframe at or
// before the position and logs the distributions.
func TestRemotePlayLatency(t *testing.T) {
	srv := s3test.New(t)
	const segments, samples = 6, 200
	n := newNode(t, srv, "latency/", "n1")
	for i := range segments {
		n.record("cam", t0.Add(time.Duration(20*i)*time.Second), 500*i, 500, 0)
	}
	n.upload("cam")
	localAddr, _ := serveRemote(t, n.store, nil)
	empty := newNode(t, srv, "latency/", "n2") // a node that recorded nothing: all is remote
	remoteAddr, play := serveRemote(t, empty.store, n.tier)
	path := window("cam", 0, 20*segments)
	rng := rand.New(rand.NewPCG(1, 2))
	dist := map[string][]time.Duration{}
	for range samples {
		at := rng.IntN(20*segments*1000 - 1000)
		for _, side := range []struct{ name, addr string }{{"local", localAddr}, {"remote", remoteAddr}} {
			began := time.Now()
			c, u := open(t, side.addr, path)
			dist[side.name+" DESCRIBE+SETUP"] = append(dist[side.name+" DESCRIBE+SETUP"], time.Since(began))
			began = time.Now()
			r := c.do("PLAY", u, fmt.Sprintf("Range: npt=%d.%03d-", at/1000, at%1000))
			if r.StatusCode != 200 {
				t.Fatalf("%s PLAY: %d", side.name, r.StatusCode)
			}
			au := c.mustAU()
			dist[side.name] = append(dist[side.name], au.arrived.Sub(began))
			if want := at / 1000 * fps; au.frame != want || !au.key {
				t.Errorf("%s PLAY npt=%d ms: frame %d key %v, want keyframe %d", side.name, at, au.frame, au.key, want)
			}
			c.do("TEARDOWN", u)
		}
	}
	for _, name := range []string{"local", "remote", "local DESCRIBE+SETUP", "remote DESCRIBE+SETUP"} {
		d := dist[name]
		slices.Sort(d)
		t.Logf("%s, %d samples: p50 %v p90 %v p99 %v max %v", name, len(d),
			d[len(d)/2], d[len(d)*9/10], d[len(d)*99/100], d[len(d)-1])
	}
	t.Logf("remote stats: %+v", play.Stats())
}

package api_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/internal/mediatest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage/fmp4"
)

const liveRoute = "GET /api/v1/cameras/{camera}/live.ws"

// liveTracks are the tracks of the fixture's live camera door: H.264 (x264
// High 3.1, parameter sets in the SDP) and AAC-LC 48 kHz.
func liveTracks() []*media.Track {
	return []*media.Track{
		{Codec: media.CodecH264, ClockRate: 90000, PayloadType: 96, SPS: mediatest.H264SPS, PPS: mediatest.H264PPS,
			Width: 1280, Height: 720, Control: "trackID=0"},
		{Codec: media.CodecAAC, ClockRate: 48000, Channels: 2, PayloadType: 97, AudioConfig: []byte{0x11, 0x90},
			SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3, Control: "trackID=1"},
	}
}

// liveCamera sends 25 fps H.264 (a keyframe every gop frames) with two AAC
// frames per video frame into a relay source, as a push would.
type liveCamera struct {
	t        testing.TB
	w        ingest.Writer
	pz       []*media.Packetizer
	vts, ats uint32
	frame    int
	gop      int
	size     int // bytes of a frame
}

func newLiveCamera(t testing.TB, w ingest.Writer) *liveCamera {
	t.Helper()
	c := &liveCamera{t: t, w: w, gop: 25, size: 3000, vts: 1 << 20, ats: 1 << 18}
	for i, tr := range liveTracks() {
		pz, err := media.NewPacketizer(tr, media.PacketizerConfig{PayloadType: tr.PayloadType, SSRC: uint32(7 + i), InitialSeq: 100})
		if err != nil {
			t.Fatal(err)
		}
		c.pz = append(c.pz, pz)
	}
	return c
}

// frames sends n video frames, each with two AAC frames.
func (c *liveCamera) frames(n int) {
	c.t.Helper()
	for range n {
		key := c.frame%c.gop == 0
		header := byte(0x41)
		if key {
			header = 0x65
		}
		unit := binary.BigEndian.AppendUint32(nil, uint32(c.size))
		unit = append(unit, header)
		unit = append(unit, make([]byte, c.size-1)...)
		c.send(0, c.vts, unit, key)
		for range 2 {
			c.send(1, c.ats, make([]byte, 200), true)
			c.ats += 1024
		}
		c.vts += 3600
		c.frame++
	}
}

func (c *liveCamera) send(i int, ts uint32, unit []byte, key bool) {
	c.t.Helper()
	if err := c.pz[i].Packetize(ts, unit, key, func(p []byte) { c.w.WriteRTP(i, p) }); err != nil {
		c.t.Fatal(err)
	}
}

// serve runs the fixture's server on its loopback listener until the test
// ends (or stop is called) and returns its address.
func (f *fixture) serve(t *testing.T) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return f.srv.Addr().String(), stop
}

// dialLive opens the live view of camera as user (Basic, from loopback).
func dialLive(t *testing.T, addr, camera, user, password string, protocols ...string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if user != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
	}
	if protocols == nil {
		protocols = []string{"camvault.live.v1"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws://"+addr+"/api/v1/cameras/"+camera+"/live.ws",
		&websocket.DialOptions{HTTPHeader: h, Subprotocols: protocols, HTTPClient: &http.Client{Transport: &http.Transport{}}})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return conn, resp, err
}

// read returns the next message, within 10 s.
func read(t *testing.T, conn *websocket.Conn) (websocket.MessageType, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, b, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, b
}

// liveInit is the text message before an init segment.
type liveInit struct {
	Type, MIME      string
	Tracks, Skipped []string
}

// readStart reads the description and the init segment a live view
// starts with.
func readStart(t *testing.T, conn *websocket.Conn) liveInit {
	t.Helper()
	typ, msg := read(t, conn)
	var m liveInit
	if err := json.Unmarshal(msg, &m); typ != websocket.MessageText || err != nil {
		t.Fatalf("first message %v %q: %v", typ, msg, err)
	}
	typ, init := read(t, conn)
	tracks, err := media.TracksFromInit(init)
	if typ != websocket.MessageBinary || err != nil || len(tracks) != 2 || tracks[0].Codec != media.CodecH264 || tracks[1].Codec != media.CodecAAC {
		t.Fatalf("init segment (%v, %d bytes): %v, tracks %v", typ, len(init), err, tracks)
	}
	return m
}

// readFragment reads one fragment of one sample.
func readFragment(t *testing.T, conn *websocket.Conn) fmp4.FragmentSample {
	t.Helper()
	typ, b := read(t, conn)
	var p fmp4.ParsedFragment
	if err := fmp4.ParseFragment(b, &p); typ != websocket.MessageBinary || err != nil || len(p.Samples) != 1 {
		t.Fatalf("fragment (%v, %d bytes): %v, %d samples", typ, len(b), err, len(p.Samples))
	}
	return p.Samples[0]
}

// waitEnded waits until the server reported the live views ended, and
// returns why.
func (f *fixture) waitEnded(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		f.mu.Lock()
		ended := slices.Clone(f.ended)
		f.mu.Unlock()
		if len(ended) >= n {
			return ended
		}
		if time.Now().After(deadline) {
			t.Fatalf("live views ended: %q, want %d", ended, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLiveView watches door over a real WebSocket from loopback: the
// description with the codecs, the init segment, then the cached group of
// pictures one tick apart from decode time 0 with its keyframe first, the
// live frames at their own pace with audio, and when the camera stops, a
// close with 1000 "camera stopped".
func TestLiveView(t *testing.T) {
	f := newFixture(t)
	cam := newLiveCamera(t, f.doorLive)
	cam.frames(5) // a keyframe and four frames: the cached group of pictures
	addr, _ := f.serve(t)
	conn, resp, err := dialLive(t, addr, "door", "viewer", "view")
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer conn.CloseNow()
	if conn.Subprotocol() != "camvault.live.v1" {
		t.Errorf("subprotocol %q", conn.Subprotocol())
	}
	m := readStart(t, conn)
	if m.Type != "init" || m.MIME != `video/mp4; codecs="avc1.64001F,mp4a.40.2"` ||
		!slices.Equal(m.Tracks, []string{"H264 1280x720", "AAC 48000 Hz"}) || m.Skipped == nil || len(m.Skipped) != 0 {
		t.Fatalf("description %+v", m)
	}
	for i := range 4 { // the fifth cached frame waits for the next one
		s := readFragment(t, conn)
		if s.TrackID != 1 || s.DTS != uint64(i) || s.Duration != 1 || s.Key != (i == 0) {
			t.Fatalf("cached frame %d: %+v, want dts %d lasting 1 tick", i, s, i)
		}
	}
	cam.frames(3)
	var video []fmp4.FragmentSample
	audio := 0
	for len(video) < 3 {
		s := readFragment(t, conn)
		if s.TrackID == 1 {
			video = append(video, s)
		} else if s.TrackID == 2 && s.Key && s.Duration == 1024 {
			audio++
		}
	}
	for i, s := range video {
		if want := uint64(4 + 3600*i); s.DTS != want || s.Duration != 3600 {
			t.Errorf("live frame %d: dts %d duration %d, want %d and 3600", i, s.DTS, s.Duration, want)
		}
	}
	if audio == 0 {
		t.Error("no audio fragment arrived with three live frames")
	}
	f.doorLive.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err = conn.Read(ctx); err != nil {
			break
		}
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusNormalClosure || ce.Reason != "camera stopped" {
		t.Fatalf("after the camera stopped: %v, want close 1000 camera stopped", err)
	}
	if ended := f.waitEnded(t, 1); !slices.Equal(ended, []string{api.LiveEndCamera}) || f.started != 1 {
		t.Errorf("LiveStarted %d times, LiveEnded %q", f.started, ended)
	}
}

// TestLiveViewRefusals: the status discipline of the other routes before
// any upgrade: a camera that is not live is 404, a request without the
// upgrade 426 after the same checks, another site's page 403, a view over
// http.max_live_viewers 503; the bearer token a browser offers as a
// subprotocol is checked (and never echoed).
func TestLiveViewRefusals(t *testing.T) {
	f := newFixture(t, func(c *api.Config) { c.MaxLiveViewers = 1 })
	viewer := request{target: "/api/v1/cameras/lobby-1/live.ws", tls: true, user: "viewer", password: "view"}
	if a := f.do(viewer); a.code != http.StatusNotFound || a.problem(t)["detail"] != "camera is not live" {
		t.Errorf("a camera that is not live: %d %s", a.code, a.body)
	}
	viewer.target = "/api/v1/cameras/door/live.ws"
	if a := f.do(viewer); a.code != http.StatusUpgradeRequired || a.header.Get("Upgrade") != "websocket" {
		t.Errorf("without the upgrade: %d %s", a.code, a.body)
	} else {
		a.problem(t)
	}
	req := f.build(viewer)
	req.Header.Set("Origin", "https://elsewhere.example")
	if a := serve(f, req); a.code != http.StatusForbidden {
		t.Errorf("from another site's page: %d %s", a.code, a.body)
	}
	addr, _ := f.serve(t)
	bad, resp, err := dialLive(t, addr, "door", "", "", "camvault.live.v1", "camvault.bearer."+f.token+"x")
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong token: %v %v", err, resp)
		if bad != nil {
			bad.CloseNow()
		}
	}
	conn, resp, err := dialLive(t, addr, "door", "", "", "camvault.live.v1", "camvault.bearer."+f.token)
	if err != nil {
		t.Fatalf("robot's token as a subprotocol: %v %v", err, resp)
	}
	defer conn.CloseNow()
	if got := resp.Header.Values("Sec-WebSocket-Protocol"); !slices.Equal(got, []string{"camvault.live.v1"}) {
		t.Errorf("selected subprotocols %q, want camvault.live.v1 alone", got)
	}
	second, resp, err := dialLive(t, addr, "door", "viewer", "view")
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over max_live_viewers: %v %v", err, resp)
		if second != nil {
			second.CloseNow()
		}
	}
	conn.Close(websocket.StatusNormalClosure, "")
	if ended := f.waitEnded(t, 1); !slices.Equal(ended, []string{api.LiveEndClient}) {
		t.Errorf("LiveEnded %q, want client", ended)
	}
}

// TestLiveViewSlowBrowser: a browser that stops reading is disconnected
// once a write has waited http.live_write_timeout, and counted as slow.
func TestLiveViewSlowBrowser(t *testing.T) {
	f := newFixture(t, func(c *api.Config) { c.LiveWriteTimeout = 300 * time.Millisecond })
	cam := newLiveCamera(t, f.doorLive)
	cam.size = 60000
	cam.frames(1)
	addr, _ := f.serve(t)
	conn := dialSlow(t, addr)
	defer conn.CloseNow()
	f.feedUntilEnded(cam)
	if ended := f.waitEnded(t, 1); !slices.Equal(ended, []string{api.LiveEndSlow}) {
		t.Fatalf("LiveEnded %q, want slow", ended)
	}
}

// feedUntilEnded sends frames of cam until f's server reports a live view ended, or for
// 20 s.
func (f *fixture) feedUntilEnded(cam *liveCamera) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.ended)
		f.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			return
		}
		cam.frames(5) // the camera goes on; the browser reads nothing
	}
}

// dialSlow opens door's live view as viewer over a socket that holds little and reads
// nothing: the server's writes block soon.
func dialSlow(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	tiny := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) }); err != nil {
			return err
		}
		return serr
	}}
	h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("viewer:view"))}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+"/api/v1/cameras/door/live.ws", &websocket.DialOptions{
		HTTPHeader: h, Subprotocols: []string{"camvault.live.v1"},
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: tiny.DialContext}}})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestLiveViewShutdown: a server that stops closes its live views with
// 1001 and waits for them.
func TestLiveViewShutdown(t *testing.T) {
	f := newFixture(t)
	cam := newLiveCamera(t, f.doorLive)
	cam.frames(2)
	addr, stop := f.serve(t)
	conn, resp, err := dialLive(t, addr, "door", "ops", "pw")
	if err != nil {
		t.Fatalf("dial: %v %v", err, resp)
	}
	defer conn.CloseNow()
	readStart(t, conn)
	readFragment(t, conn)
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				closed <- err
				return
			}
		}
	}()
	stop()
	err = <-closed
	if websocket.CloseStatus(err) != websocket.StatusGoingAway || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("at shutdown: %v, want close 1001", err)
	}
	if ended := f.waitEnded(t, 1); !slices.Equal(ended, []string{api.LiveEndShutdown}) {
		t.Errorf("LiveEnded %q, want shutdown", ended)
	}
}

package ingest_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// pullCamera is a scripted fake camera on 127.0.0.1:0. Each connection
// answers OPTIONS, DESCRIBE (sdpH264), SETUP (TCP interleaved) and PLAY,
// sends three RTP packets, and then either closes (when closeAfter says so
// for that connection) or answers keepalives until TEARDOWN or EOF. It
// reports "N playing", "N teardown", "N eof", "N closed" and "N error: …".
type pullCamera struct {
	url    string
	events chan string
	ln     net.Listener
	wg     sync.WaitGroup
}

func startPullCamera(t *testing.T, closeAfter func(n int) bool) *pullCamera {
	t.Helper()
	return startScriptCamera(t, func(n int, nc net.Conn) string { return serveConn(nc, closeAfter(n)) })
}

// startScriptCamera is a fake camera on 127.0.0.1:0 that runs script on
// its n-th connection (from 0) and reports "n <what script returned>".
func startScriptCamera(t *testing.T, script func(n int, nc net.Conn) string) *pullCamera {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &pullCamera{url: "rtsp://admin:s3cret@" + ln.Addr().String() + "/cam", events: make(chan string, 100), ln: ln}
	c.wg.Go(func() {
		var conns sync.WaitGroup
		defer conns.Wait()
		for n := 0; ; n++ {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() {
				defer nc.Close()
				c.events <- fmt.Sprintf("%d %s", n, script(n, nc))
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		c.wg.Wait()
	})
	return c
}

// next returns the next event, failing after 5s.
func (c *pullCamera) next(t *testing.T) string {
	t.Helper()
	select {
	case e := <-c.events:
		if strings.Contains(e, "error") {
			t.Fatalf("camera: %s", e)
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("camera: no event")
		return ""
	}
}

// expectNone fails if an event arrives within d.
func (c *pullCamera) expectNone(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case e := <-c.events:
		t.Fatalf("camera: unexpected %s", e)
	case <-time.After(d):
	}
}

func serveConn(nc net.Conn, closeAfter bool) string {
	sc := &scriptConn{nc: nc, br: bufio.NewReader(nc)}
	if err := sc.handshake(); err != nil {
		return "error: " + err.Error()
	}
	// A client that refuses the stream tears down while packets are sent:
	// a failed write then ends in reading its TEARDOWN or EOF.
	var writeErr error
	for seq := range uint16(3) {
		if writeErr = sc.writeRTP(seq); writeErr != nil {
			break
		}
	}
	if closeAfter && writeErr == nil {
		return "closed"
	}
	for {
		req, err := sc.read()
		if errors.Is(err, io.EOF) || (err != nil && writeErr != nil) {
			return "eof"
		}
		if err != nil {
			return "error: " + err.Error()
		}
		if req.Method == base.MethodTeardown {
			return "teardown"
		}
		if err := sc.reply(req, ""); err != nil {
			return "error: " + err.Error()
		}
	}
}

type scriptConn struct {
	nc net.Conn
	br *bufio.Reader
}

// read returns the next request, skipping interleaved RTCP.
func (sc *scriptConn) read() (*base.Request, error) {
	_ = sc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		b, err := sc.br.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] != '$' {
			break
		}
		var f base.InterleavedFrame
		if err := f.Unmarshal(sc.br, make([]byte, 1<<16)); err != nil {
			return nil, err
		}
	}
	var req base.Request
	if err := req.Unmarshal(sc.br, base.Limits{}); err != nil {
		return nil, err
	}
	return &req, nil
}

func (sc *scriptConn) reply(req *base.Request, body string, hdr ...string) error {
	resp := base.Response{StatusCode: 200, Header: base.Header{}, Body: []byte(body)}
	resp.Header.Set("CSeq", req.Header.Get("CSeq"))
	for i := 0; i+1 < len(hdr); i += 2 {
		resp.Header.Set(hdr[i], hdr[i+1])
	}
	b, err := resp.Marshal()
	if err != nil {
		return err
	}
	_, err = sc.nc.Write(b)
	return err
}

func (sc *scriptConn) handshake() error {
	steps := []struct {
		m    base.Method
		body string
		hdr  []string
	}{
		{base.MethodOptions, "", []string{"Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"}},
		{base.MethodDescribe, sdpH264, []string{"Content-Type", "application/sdp"}},
		{base.MethodSetup, "", []string{"Session", "1234;timeout=60"}},
		{base.MethodPlay, "", []string{"Session", "1234"}},
	}
	for _, s := range steps {
		req, err := sc.read()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", s.m, err)
		}
		if req.Method != s.m {
			return fmt.Errorf("got %s, want %s", req.Method, s.m)
		}
		hdr := s.hdr
		if s.m == base.MethodSetup {
			if !strings.Contains(req.Header.Get("Transport"), "interleaved") {
				return fmt.Errorf("setup transport %q", req.Header.Get("Transport"))
			}
			hdr = append(hdr, "Transport", req.Header.Get("Transport"))
		}
		if err := sc.reply(req, s.body, hdr...); err != nil {
			return err
		}
	}
	return nil
}

func (sc *scriptConn) writeRTP(seq uint16) error {
	pkt := []byte{0x80, 96, byte(seq >> 8), byte(seq), 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0x65, 1, 2, 3}
	f := base.InterleavedFrame{Channel: 0, Payload: pkt}
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	_, err = sc.nc.Write(b)
	return err
}

// pullSink records the recordings Pull opens; Open fails while busy > 0.
type pullSink struct {
	mu      sync.Mutex
	busy    int
	feeds   []ingest.Feed
	writers []*testWriter
}

func (s *pullSink) ValidCamera(string) error { return nil }

func (s *pullSink) Open(camera string, tracks []*media.Track, feed ingest.Feed) (ingest.Writer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feeds = append(s.feeds, feed)
	if s.busy > 0 {
		s.busy--
		return nil, errors.New("camera is busy")
	}
	if len(tracks) != 1 || tracks[0].Codec != media.CodecH264 {
		return nil, fmt.Errorf("tracks %v", tracks)
	}
	w := newTestWriter(camera)
	s.writers = append(s.writers, w)
	return w, nil
}

// writer returns the i-th recording opened, or nil.
func (s *pullSink) writer(i int) *testWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < len(s.writers) {
		return s.writers[i]
	}
	return nil
}

func (s *pullSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.writers)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startPull runs a Pull over sink until the test ends, and checks that Run
// returns.
func startPull(t *testing.T, sink ingest.Sink, cams ...ingest.PullCamera) (*ingest.Pull, *syncBuffer, context.CancelFunc) {
	t.Helper()
	logs := &syncBuffer{}
	p, err := ingest.NewPull(ingest.PullConfig{
		Sink: sink, BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		Client: rtsp.ClientConfig{DialTimeout: time.Second, ResponseTimeout: time.Second,
			KeepaliveInterval: 50 * time.Millisecond, MediaTimeout: 5 * time.Second},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Update(cams)
	ctx, cancel := context.WithCancel(t.Context())
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runErr = p.Run(ctx)
	}()
	stop := func() {
		t.Helper()
		cancel()
		select {
		case <-done:
			if runErr != nil {
				t.Errorf("Run: %v", runErr)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	}
	t.Cleanup(func() {
		stop()
		if strings.Contains(logs.String(), "s3cret") {
			t.Errorf("password logged:\n%s", logs)
		}
	})
	return p, logs, stop
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func onlyState(t *testing.T, p *ingest.Pull) ingest.CameraState {
	t.Helper()
	st := p.States()
	if len(st) != 1 {
		t.Fatalf("States: %+v", st)
	}
	return st[0]
}

func always(name, url string) ingest.PullCamera {
	return ingest.PullCamera{Name: name, URL: url, Schedule: ingest.Schedule{Always: true}}
}

func TestPullRecordsAndReconnects(t *testing.T) {
	t.Parallel()
	cam := startPullCamera(t, func(n int) bool { return n == 0 })
	sink := &pullSink{}
	p, logs, _ := startPull(t, sink, always("front", cam.url))

	if e := cam.next(t); e != "0 closed" {
		t.Fatalf("event %q", e)
	}
	waitFor(t, "first recording sealed with 3 packets", func() bool {
		n, closed := sink.writer(0).get()
		return n == 3 && closed
	})
	waitFor(t, "second recording with 3 packets", func() bool {
		n, _ := sink.writer(1).get()
		return n == 3
	})
	sink.mu.Lock()
	feed := sink.feeds[0]
	sink.mu.Unlock()
	if !feed.TCP {
		t.Error("a pull over TCP was opened without Feed.TCP: it could not hold the camera back")
	}
	st := onlyState(t, p)
	if st.State != ingest.PullRecording || st.Name != "front" || st.LastError == "" {
		t.Errorf("state %+v, want recording with the last error", st)
	}
	if strings.Contains(st.LastError, "s3cret") {
		t.Errorf("LastError holds the password: %q", st.LastError)
	}
	if got := strings.Count(logs.String(), "state=backing-off"); got != 1 {
		t.Errorf("%d reconnect warnings, want 1:\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), "state=recording") {
		t.Errorf("no recording started line:\n%s", logs)
	}
}

func TestPullSinkBusyBacksOff(t *testing.T) {
	t.Parallel()
	cam := startPullCamera(t, func(int) bool { return false })
	sink := &pullSink{busy: 2}
	p, logs, _ := startPull(t, sink, always("front", cam.url))
	for range 2 {
		if e := cam.next(t); !strings.HasSuffix(e, " teardown") && !strings.HasSuffix(e, " eof") {
			t.Fatalf("event %q, want a teardown after the refused open", e)
		}
	}
	waitFor(t, "recording", func() bool { n, _ := sink.writer(0).get(); return n == 3 })
	if st := onlyState(t, p); st.State != ingest.PullRecording || !strings.Contains(st.LastError, "busy") {
		t.Errorf("state %+v", st)
	}
	if got := strings.Count(logs.String(), "state=backing-off"); got != 2 {
		t.Errorf("%d reconnect warnings, want 2:\n%s", got, logs)
	}
}

// TestPullRecordingEndedReconnects: a pulled camera whose recording ends by
// itself (over its memory budget, racing clock) is torn down and pulled
// again, with the reason as its last error.
func TestPullRecordingEndedReconnects(t *testing.T) {
	t.Parallel()
	cam := startPullCamera(t, func(int) bool { return false })
	sink := &pullSink{}
	p, _, _ := startPull(t, sink, always("front", cam.url))
	waitFor(t, "recording", func() bool { n, _ := sink.writer(0).get(); return n == 3 })
	sink.writer(0).end(errors.New("over its memory budget"))
	if e := cam.next(t); !strings.HasSuffix(e, " teardown") {
		t.Fatalf("event %q, want a teardown of the ended recording", e)
	}
	waitFor(t, "second recording", func() bool { n, _ := sink.writer(1).get(); return n == 3 })
	if st := onlyState(t, p); !strings.Contains(st.LastError, "over its memory budget") {
		t.Errorf("state %+v", st)
	}
}

func TestPullUpdate(t *testing.T) {
	t.Parallel()
	cam := startPullCamera(t, func(int) bool { return false })
	sink := &pullSink{}
	front := always("front", cam.url)
	p, _, stop := startPull(t, sink, front)
	waitFor(t, "recording", func() bool { n, _ := sink.writer(0).get(); return n == 3 })

	t.Run("unchanged", func(t *testing.T) {
		p.Update([]ingest.PullCamera{always("front", cam.url)})
		cam.expectNone(t, 200*time.Millisecond)
		if _, closed := sink.writer(0).get(); closed || sink.count() != 1 {
			t.Errorf("unchanged camera restarted: closed %v, %d recordings", closed, sink.count())
		}
	})
	t.Run("changed", func(t *testing.T) {
		changed := front
		changed.Transport = "tcp"
		p.Update([]ingest.PullCamera{changed})
		if e := cam.next(t); e != "0 teardown" {
			t.Fatalf("event %q, want 0 teardown", e)
		}
		if _, closed := sink.writer(0).get(); !closed {
			t.Error("old recording not sealed")
		}
		waitFor(t, "new recording", func() bool { n, _ := sink.writer(1).get(); return n == 3 })
	})
	t.Run("added", func(t *testing.T) {
		p.Update([]ingest.PullCamera{{Name: "front", URL: cam.url, Transport: "tcp", Schedule: front.Schedule},
			always("back", cam.url)})
		waitFor(t, "back recording", func() bool { n, _ := sink.writer(2).get(); return n == 3 })
		if st := p.States(); len(st) != 2 || st[0].Name != "back" || st[1].Name != "front" {
			t.Errorf("States: %+v", st)
		}
		if sink.writer(2).camera != "back" {
			t.Errorf("opened %q", sink.writer(2).camera)
		}
	})
	t.Run("removed", func(t *testing.T) {
		p.Update([]ingest.PullCamera{always("back", cam.url)})
		if e := cam.next(t); e != "1 teardown" {
			t.Fatalf("event %q, want 1 teardown", e)
		}
		if _, closed := sink.writer(1).get(); !closed {
			t.Error("removed camera's recording not sealed")
		}
		if st := p.States(); len(st) != 1 || st[0].Name != "back" {
			t.Errorf("States: %+v", st)
		}
	})
	t.Run("run ends", func(t *testing.T) {
		stop()
		if e := cam.next(t); e != "2 teardown" {
			t.Fatalf("event %q, want 2 teardown", e)
		}
		if _, closed := sink.writer(2).get(); !closed {
			t.Error("recording not sealed when Run ended")
		}
		if st := onlyState(t, p); st.State != ingest.PullIdle {
			t.Errorf("state %+v, want idle", st)
		}
	})
}

// TestPullScheduleWindow follows a camera through windows on the fake
// clock. The camera's port refuses connections, so that nothing blocks on
// the network: inside the window the camera backs off, outside it is idle
// and makes no attempt.
func TestPullScheduleWindow(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "rtsp://admin:s3cret@" + ln.Addr().String() + "/cam"
	_ = ln.Close()
	synctest.Test(t, func(t *testing.T) {
		logs := &syncBuffer{}
		p, err := ingest.NewPull(ingest.PullConfig{Sink: &pullSink{},
			BackoffMin: 10 * time.Second, BackoffMax: 20 * time.Second,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		// synctest's clock starts at 2000-01-01 00:00 UTC: a window is open
		// until 00:01, the next one is 00:02 to 00:03.
		p.Update([]ingest.PullCamera{{Name: "yard", URL: url, Schedule: ingest.Schedule{
			Rules: []ingest.Rule{{Cron: "CRON_TZ=UTC */2 * * * *", Duration: time.Minute}}}}})
		if st := onlyState(t, p); st.State != ingest.PullIdle {
			t.Errorf("before Run: %+v", st)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()

		time.Sleep(time.Second)
		synctest.Wait()
		st := onlyState(t, p)
		if st.State != ingest.PullBackingOff || st.LastError == "" || !st.NextRetry.After(time.Now()) {
			t.Errorf("in window: %+v", st)
		}
		if strings.Contains(st.LastError, "s3cret") {
			t.Errorf("LastError holds the password: %q", st.LastError)
		}
		time.Sleep(90 * time.Second) // 00:01:31
		synctest.Wait()
		warned := strings.Count(logs.String(), "state=backing-off")
		if st := onlyState(t, p); st.State != ingest.PullIdle {
			t.Errorf("after window: %+v", st)
		}
		if warned < 3 {
			t.Errorf("%d failed attempts in the first window, want at least 3", warned)
		}
		time.Sleep(20 * time.Second) // 00:01:51
		synctest.Wait()
		if n := strings.Count(logs.String(), "state=backing-off"); n != warned {
			t.Errorf("%d attempts outside the window", n-warned)
		}
		time.Sleep(20 * time.Second) // 00:02:11
		synctest.Wait()
		if st := onlyState(t, p); st.State != ingest.PullBackingOff {
			t.Errorf("in second window: %+v", st)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if st := onlyState(t, p); st.State != ingest.PullIdle {
			t.Errorf("after Run: %+v", st)
		}
	})
}

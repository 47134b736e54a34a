package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
)

// outcome is how a camera script ended without failing: "closed", "teardown", "eof", or
// what the script observed. The camera reports it as "N outcome", N numbering the
// connection from 0; any other error of a script fails the test.
type outcome string

func (o outcome) Error() string { return string(o) }

// pullCamera is a scripted camera whose URL carries credentials, which must never be logged.
type pullCamera struct {
	*rtsptest.Camera
	url string // rtsp://admin:s3cret@127.0.0.1:port/cam
}

// startPullCamera is a camera that answers OPTIONS, DESCRIBE (sdpH264), SETUP (TCP
// interleaved) and PLAY on each connection, sends three RTP packets, and then either closes
// (when closeAfter says so for that connection) or answers keepalives until TEARDOWN or EOF:
// "N closed", "N teardown" or "N eof".
func startPullCamera(t *testing.T, closeAfter func(n int) bool) *pullCamera {
	t.Helper()
	return startScriptCamera(t, func(cc *rtsptest.CameraConn) error { return serveConn(cc, closeAfter(cc.N)) })
}

// startScriptCamera is a camera that runs script on each connection.
func startScriptCamera(t *testing.T, script func(cc *rtsptest.CameraConn) error) *pullCamera {
	t.Helper()
	cam := rtsptest.NewCamera(t)
	cam.Serve(script)
	return &pullCamera{Camera: cam, url: "rtsp://admin:s3cret@" + cam.Addr + "/cam"}
}

// next returns the next "N outcome", failing the test when a script failed.
func (c *pullCamera) next(t *testing.T) string {
	t.Helper()
	r := c.Next(t)
	if _, ok := errors.AsType[outcome](r.Err); !ok {
		t.Fatalf("camera: %v", r)
	}
	return r.String()
}

func serveConn(cc *rtsptest.CameraConn, closeAfter bool) error {
	setups, err := cc.Handshake(sdpH264, "", 1)
	if err != nil {
		return err
	}
	if tr := setups[0].Header.Get("Transport"); !strings.Contains(tr, "interleaved") {
		return fmt.Errorf("setup transport %q", tr)
	}
	// A client that refuses the stream tears down while packets are sent:
	// a failed write then ends in reading its TEARDOWN or EOF.
	var writeErr error
	for seq := range uint16(3) {
		if writeErr = cc.WriteFrame(0, rtsptest.RTP(seq, 0)); writeErr != nil {
			break
		}
	}
	if closeAfter && writeErr == nil {
		return outcome("closed")
	}
	teardown, err := cc.UntilTeardown()
	switch {
	case teardown:
		return outcome("teardown")
	case err == nil || writeErr != nil:
		return outcome("eof")
	}
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

// startPull runs a Pull over sink until the test ends, and checks that Run
// returns.
func startPull(t *testing.T, sink ingest.Sink, cams ...ingest.PullCamera) (*ingest.Pull, *rtsptest.SyncBuffer, context.CancelFunc) {
	t.Helper()
	return startPullWith(t, ingest.PullConfig{Sink: sink}, nil, cams...)
}

// startPullWith is startPull with cfg's Sink, Live and OnDemandLinger, and with
// windows (if not nil) opening and closing every camera's windows.
func startPullWith(t *testing.T, cfg ingest.PullConfig, windows chan bool, cams ...ingest.PullCamera) (*ingest.Pull, *rtsptest.SyncBuffer, context.CancelFunc) {
	t.Helper()
	logs := &rtsptest.SyncBuffer{}
	cfg.BackoffMin, cfg.BackoffMax = 100*time.Millisecond, 200*time.Millisecond
	cfg.Client = rtsp.ClientConfig{DialTimeout: time.Second, ResponseTimeout: time.Second,
		KeepaliveInterval: time.Second, MediaTimeout: 5 * time.Second}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := ingest.NewPull(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if windows != nil {
		ingest.SetTestWindows(p, windows)
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
		rtsptest.Receive(t, "Run to return", done)
		if runErr != nil {
			t.Errorf("Run: %v", runErr)
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
	rtsptest.WaitFor(t, "first recording sealed with 3 packets", func() bool {
		n, closed := sink.writer(0).get()
		return n == 3 && closed
	})
	rtsptest.WaitFor(t, "second recording with 3 packets", func() bool {
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

// TestPullRTCPBye: a camera that ends its stream with an RTCP BYE (and keeps the
// connection open) ends the session at once; the pull tears down, backs off once (one
// log line) and records again on a new connection.
func TestPullRTCPBye(t *testing.T) {
	t.Parallel()
	bye := []byte{0x81, 203, 0, 1, 0xde, 0xad, 0xbe, 0xef} // BYE of rtsptest.RTP's SSRC
	cam := startScriptCamera(t, func(cc *rtsptest.CameraConn) error {
		if cc.N > 0 {
			return serveConn(cc, false)
		}
		if _, err := cc.Handshake(sdpH264, "", 1); err != nil {
			return err
		}
		for seq := range uint16(3) {
			if err := cc.WriteFrame(0, rtsptest.RTP(seq, 0)); err != nil {
				return err
			}
		}
		if err := cc.WriteFrame(1, bye); err != nil {
			return err
		}
		if teardown, err := cc.UntilTeardown(); !teardown {
			return fmt.Errorf("no TEARDOWN after the BYE: %v", err)
		}
		return outcome("teardown after bye")
	})
	sink := &pullSink{}
	p, logs, _ := startPull(t, sink, always("front", cam.url))
	if e := cam.next(t); e != "0 teardown after bye" {
		t.Fatalf("event %q", e)
	}
	rtsptest.WaitFor(t, "a second recording with 3 packets", func() bool {
		n, _ := sink.writer(1).get()
		return n == 3
	})
	if n, closed := sink.writer(0).get(); n != 3 || !closed {
		t.Errorf("first recording: %d packets, closed %v", n, closed)
	}
	if st := onlyState(t, p); !strings.Contains(st.LastError, "bye") {
		t.Errorf("last error %q, want the BYE", st.LastError)
	}
	if got := strings.Count(logs.String(), "state=backing-off"); got != 1 {
		t.Errorf("%d reconnect lines, want 1:\n%s", got, logs)
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
	rtsptest.WaitFor(t, "recording", func() bool { n, _ := sink.writer(0).get(); return n == 3 })
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
	rtsptest.WaitFor(t, "recording", func() bool { n, _ := sink.writer(0).get(); return n == 3 })
	sink.writer(0).end(errors.New("over its memory budget"))
	if e := cam.next(t); !strings.HasSuffix(e, " teardown") {
		t.Fatalf("event %q, want a teardown of the ended recording", e)
	}
	rtsptest.WaitFor(t, "second recording", func() bool { n, _ := sink.writer(1).get(); return n == 3 })
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
	rtsptest.WaitFor(t, "recording", func() bool { n, _ := sink.writer(0).get(); return n == 3 })

	t.Run("unchanged", func(t *testing.T) {
		p.Update([]ingest.PullCamera{always("front", cam.url)})
		// Update stops what it replaces before it returns.
		if _, closed := sink.writer(0).get(); closed || sink.count() != 1 || onlyState(t, p).Connects != 1 {
			t.Errorf("unchanged camera restarted: closed %v, %d recordings, state %+v", closed, sink.count(), onlyState(t, p))
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
		rtsptest.WaitFor(t, "new recording", func() bool { n, _ := sink.writer(1).get(); return n == 3 })
	})
	t.Run("added", func(t *testing.T) {
		p.Update([]ingest.PullCamera{{Name: "front", URL: cam.url, Transport: "tcp", Schedule: front.Schedule},
			always("back", cam.url)})
		rtsptest.WaitFor(t, "back recording", func() bool { n, _ := sink.writer(2).get(); return n == 3 })
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
		logs := &rtsptest.SyncBuffer{}
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

// TestNewPullValidates: NewPull fills the defaults and holds a Go caller to the operator's
// bounds, its client template's included.
func TestNewPullValidates(t *testing.T) {
	t.Parallel()
	sink := &pullSink{}
	for _, tc := range []struct {
		name string
		cfg  ingest.PullConfig
		key  string
	}{
		{"backoff", ingest.PullConfig{Sink: sink, BackoffMin: time.Millisecond}, "backoff_min"},
		{"client", ingest.PullConfig{Sink: sink, Client: rtsp.ClientConfig{KeepaliveInterval: 50 * time.Millisecond}}, "keepalive_interval"},
	} {
		_, err := ingest.NewPull(tc.cfg)
		var fe *settings.FieldError
		if !errors.As(err, &fe) || fe.Path[0] != tc.key {
			t.Errorf("%s: NewPull = %v, want a %s FieldError", tc.name, err, tc.key)
		}
	}
	if _, err := ingest.NewPull(ingest.PullConfig{Sink: sink}); err != nil {
		t.Errorf("NewPull with defaults: %v", err)
	}
}

// TestPullOnDemand: a camera outside its windows is pulled while a viewer
// watches it, live only; a window that opens meanwhile records from the
// same connection and its close seals the recording while the viewer goes
// on; the camera is torn down on_demand_linger after the last viewer left.
func TestPullOnDemand(t *testing.T) {
	t.Parallel()
	cam := startPullCamera(t, func(int) bool { return false })
	rec, live := &pullSink{}, &pullSink{}
	windows := make(chan bool)
	p, logs, _ := startPullWith(t, ingest.PullConfig{Sink: rec, Live: live, OnDemandLinger: time.Second}, windows,
		ingest.PullCamera{Name: "front", URL: cam.url, Schedule: ingest.Schedule{Always: true}})
	if st := onlyState(t, p); st.State != ingest.PullIdle {
		t.Fatalf("before a viewer: %+v", st)
	}
	if _, ok := p.Watch("nobody"); ok {
		t.Fatal("Watch of an unknown camera succeeded")
	}
	release, ok := p.Watch("front")
	if !ok {
		t.Fatal("Watch refused a pulled camera")
	}
	rtsptest.WaitFor(t, "live relay fed", func() bool { n, _ := live.writer(0).get(); return n == 3 })
	if st := onlyState(t, p); st.State != ingest.PullLive || rec.count() != 0 {
		t.Fatalf("watched outside a window: %+v, %d recordings", st, rec.count())
	}
	windows <- true
	rtsptest.WaitFor(t, "recording opened", func() bool { return rec.count() == 1 })
	rtsptest.WaitFor(t, "state recording", func() bool { return onlyState(t, p).State == ingest.PullRecording })
	windows <- false
	rtsptest.WaitFor(t, "recording sealed", func() bool { _, closed := rec.writer(0).get(); return closed })
	if st := onlyState(t, p); st.State != ingest.PullLive || st.Connects != 1 {
		t.Fatalf("after the window: %+v, want live on the first connection", st)
	}
	if _, closed := live.writer(0).get(); closed {
		t.Fatal("the window's close ended the live relay")
	}
	release()
	release() // a second call does nothing
	if e := cam.next(t); e != "0 teardown" {
		t.Fatalf("event %q, want the first connection torn down after the linger", e)
	}
	rtsptest.WaitFor(t, "live relay closed", func() bool { _, closed := live.writer(0).get(); return closed })
	rtsptest.WaitFor(t, "idle after the linger", func() bool { return onlyState(t, p).State == ingest.PullIdle })
	if !strings.Contains(logs.String(), "state=live") {
		t.Errorf("no live state line:\n%s", logs)
	}
}

// TestPullOnDemandCamera: an on_demand camera is never recorded, and a
// viewer who comes back within the linger keeps the connection.
func TestPullOnDemandCamera(t *testing.T) {
	t.Parallel()
	cam := startPullCamera(t, func(int) bool { return false })
	rec, live := &pullSink{}, &pullSink{}
	p, _, stop := startPullWith(t, ingest.PullConfig{Sink: rec, Live: live, OnDemandLinger: time.Hour}, nil,
		ingest.PullCamera{Name: "door", URL: cam.url, OnDemand: true})
	release, _ := p.Watch("door")
	rtsptest.WaitFor(t, "live relay fed", func() bool { n, _ := live.writer(0).get(); return n == 3 })
	release()
	again, _ := p.Watch("door")
	defer again()
	if st := onlyState(t, p); st.State != ingest.PullLive || st.Connects != 1 || rec.count() != 0 {
		t.Fatalf("%+v, %d recordings: want live on one connection, nothing recorded", st, rec.count())
	}
	stop()
	if e := cam.next(t); e != "0 teardown" {
		t.Fatalf("event %q", e)
	}
}

// TestPullRecordingRefusedKeepsLive: a window that opens while viewers
// watch, with storage refusing the recording, keeps the connection and the
// live relay and tries the recording again until it opens.
func TestPullRecordingRefusedKeepsLive(t *testing.T) {
	t.Parallel()
	cam := startPullCamera(t, func(int) bool { return false })
	rec, live := &pullSink{busy: 2}, &pullSink{}
	windows := make(chan bool)
	p, logs, _ := startPullWith(t, ingest.PullConfig{Sink: rec, Live: live}, windows,
		ingest.PullCamera{Name: "front", URL: cam.url, Schedule: ingest.Schedule{Always: true}})
	release, _ := p.Watch("front")
	defer release()
	rtsptest.WaitFor(t, "live relay fed", func() bool { n, _ := live.writer(0).get(); return n == 3 })
	windows <- true
	rtsptest.WaitFor(t, "recording opened after two refusals", func() bool { return rec.count() == 1 })
	st := onlyState(t, p)
	if _, closed := live.writer(0).get(); closed || st.Connects != 1 || !strings.Contains(st.LastError, "busy") {
		t.Fatalf("state %+v, live closed %v: want the first connection live throughout, the refusal as last error", st, closed)
	}
	if got := strings.Count(logs.String(), "cannot record; live viewers go on"); got != 2 {
		t.Errorf("%d refusal lines, want 2:\n%s", got, logs)
	}
}

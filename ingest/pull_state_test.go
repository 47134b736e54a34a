package ingest_test

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
)

func TestPullStateString(t *testing.T) {
	tests := []struct {
		s    ingest.PullState
		want string
	}{
		{ingest.PullIdle, "idle"},
		{ingest.PullConnecting, "connecting"},
		{ingest.PullRecording, "recording"},
		{ingest.PullBackingOff, "backing-off"},
		{ingest.PullState(9), "PullState(9)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%d: String %q, want %q", tt.s, got, tt.want)
		}
		if b, _ := tt.s.MarshalText(); string(b) != tt.want {
			t.Errorf("%d: MarshalText %q, want %q", tt.s, b, tt.want)
		}
	}
}

// stateLines returns the state= of every "camera state" log line, and the
// level of each.
func stateLines(logs string) (states, levels []string) {
	re := regexp.MustCompile(`level=(\w+) msg="camera state".* state=([\w-]+)`)
	for _, m := range re.FindAllStringSubmatch(logs, -1) {
		levels, states = append(levels, m[1]), append(states, m[2])
	}
	return states, levels
}

// TestPullCameraState follows one camera through a reconnect: the snapshot
// counts both sessions, keeps the last error, and every state change is
// one log line.
func TestPullCameraState(t *testing.T) {
	t.Parallel()
	cam := startPullCamera(t, func(n int) bool { return n == 0 })
	sink := &pullSink{}
	p, logs, _ := startPull(t, sink, always("front", cam.url))
	rtsptest.WaitFor(t, "second recording with 3 packets", func() bool { n, _ := sink.writer(1).get(); return n == 3 })
	st, ok := p.Camera("front")
	if !ok {
		t.Fatal("Camera(front) not found")
	}
	if st.State != ingest.PullRecording || st.Connects != 2 || st.Packets != 6 || st.Bytes != 6*16 ||
		st.LastPacket.IsZero() || st.Since.IsZero() || !st.NextRetry.IsZero() || st.Transport != "tcp" {
		t.Errorf("state %+v, want recording, 2 connects, 6 packets of 16 bytes", st)
	}
	if !strings.Contains(st.LastError, "closed the connection") || st.LastErrorTime.IsZero() || strings.Contains(st.LastError, "s3cret") {
		t.Errorf("last error %q at %v", st.LastError, st.LastErrorTime)
	}
	if all := p.States(); len(all) != 1 || all[0].Name != "front" || all[0].Connects != 2 {
		t.Errorf("States %+v", all)
	}
	if _, ok := p.Camera("back"); ok {
		t.Error("Camera(back) found")
	}
	states, levels := stateLines(logs.String())
	if fmt.Sprint(states) != "[connecting recording backing-off connecting recording]" ||
		fmt.Sprint(levels) != "[INFO INFO WARN DEBUG INFO]" {
		t.Errorf("state lines %v at %v:\n%s", states, levels, logs)
	}
}

// serveWrongPassword answers every request of a connection with a Digest
// challenge, as a camera does to a wrong password, until the client hangs up: "eof".
func serveWrongPassword(cc *rtsptest.CameraConn) error {
	for {
		req, err := cc.Read()
		if errors.Is(err, io.EOF) {
			return outcome("eof")
		}
		if err != nil {
			return err
		}
		if err := cc.Reply(req, 401, "", "WWW-Authenticate", `Digest realm="cam", nonce="n1", qop="auth"`); err != nil {
			return outcome("eof")
		}
	}
}

// TestPullWrongPassword: a camera that refuses the password is retried with
// backoff, each attempt logged once at Info or above and without the
// password (the startPull cleanup checks the whole log for it).
func TestPullWrongPassword(t *testing.T) {
	t.Parallel()
	cam := startScriptCamera(t, serveWrongPassword)
	p, logs, _ := startPull(t, &pullSink{}, always("front", cam.url))
	for range 3 {
		if e := cam.next(t); !strings.HasSuffix(e, " eof") {
			t.Fatalf("event %q", e)
		}
	}
	rtsptest.WaitFor(t, "third back-off", func() bool {
		states, _ := stateLines(logs.String())
		return strings.Count(fmt.Sprint(states), "backing-off") >= 3
	})
	st := onlyState(t, p)
	if st.State != ingest.PullBackingOff && st.State != ingest.PullConnecting || !strings.Contains(st.LastError, "authentication failed") {
		t.Errorf("state %+v", st)
	}
	if st.Connects != 0 || st.Packets != 0 {
		t.Errorf("counted %d connects, %d packets", st.Connects, st.Packets)
	}
	var loud []string
	for line := range strings.Lines(logs.String()) {
		if !strings.Contains(line, "level=DEBUG") {
			loud = append(loud, line)
		}
	}
	if len(loud) < 4 || !strings.Contains(loud[0], "state=connecting") {
		t.Fatalf("log lines at info and above:\n%s", strings.Join(loud, ""))
	}
	for _, line := range loud[1:] {
		if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "state=backing-off") ||
			!strings.Contains(line, "authentication failed") {
			t.Errorf("attempt logged %q, want one back-off warning", line)
		}
	}
}

// serveTCPRefused plays a camera that answers a TCP SETUP with 461 and
// accepts UDP; it reports the transports asked for ("tcp udp") and closes
// after PLAY.
func serveTCPRefused(cc *rtsptest.CameraConn) error {
	var asked []string
	for {
		req, err := cc.Read()
		if err != nil {
			return err
		}
		hdr, body := []string{"Public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"}, ""
		switch req.Method {
		case base.MethodDescribe:
			body = sdpH264
		case base.MethodSetup:
			tr := req.Header.Get("Transport")
			if strings.Contains(tr, "interleaved") {
				asked = append(asked, "tcp")
				if err := cc.Reply(req, 461, ""); err != nil {
					return err
				}
				continue
			}
			asked = append(asked, "udp")
			hdr = []string{"Session", "1234", "Transport", tr + ";server_port=9000-9001"}
		}
		if err := cc.Reply(req, 200, body, hdr...); err != nil {
			return err
		}
		if req.Method == base.MethodPlay {
			return outcome(strings.Join(asked, " "))
		}
	}
}

// TestPullRemembersTransport: once a camera refused TCP with 461 and played
// over UDP, its reconnects ask for UDP at once, and the fallback is logged
// once (CLI-22).
func TestPullRemembersTransport(t *testing.T) {
	t.Parallel()
	cam := startScriptCamera(t, serveTCPRefused)
	p, logs, _ := startPull(t, &pullSink{}, always("front", cam.url))
	for i, want := range []string{"0 tcp udp", "1 udp", "2 udp"} {
		if e := cam.next(t); e != want {
			t.Fatalf("connection %d: SETUPs %q, want %q", i, e, want)
		}
	}
	if n := strings.Count(logs.String(), "camera refused transport"); n != 1 {
		t.Errorf("%d fallback lines, want 1:\n%s", n, logs)
	}
	if st := onlyState(t, p); st.Transport != "udp" {
		t.Errorf("state %+v, want transport udp", st)
	}
}

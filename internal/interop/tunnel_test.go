//go:build interop

package interop

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/camvault/camvault/internal/rtsptest"
)

// tunnelServer writes the 45 s numbered archive of camera "cam" and starts
// camvault with RTSPS and HTTPS (the same certificate) besides RTSP and
// HTTP, and extraYAML. It returns the RTSPS address too.
func tunnelServer(t *testing.T, extraYAML string) (s *server, rtsps string) {
	t.Helper()
	s, base := tlsServerLater(t, extraYAML)
	recordArchive(t, s.dir, "cam", numberedClip(t, 45), archiveStart)
	s.start()
	t.Cleanup(s.stop)
	return s, strings.TrimPrefix(base, "rtsps://")
}

// TestTunnelFFmpegSeek: `ffmpeg -rtsp_transport http -ss 30` plays the
// archive through RTSP over HTTP on the RTSP port and on the HTTP port, and
// `-rtsp_transport https` on the RTSPS and HTTPS ports: the first frame is
// the one of the 30 s mark and 10 s of frames follow in order.
func TestTunnelFFmpegSeek(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg")
	s, rtsps := tunnelServer(t, "")
	// RTSP and HTTP in clear, RTSPS and HTTPS in TLS (ffmpeg does not verify the certificate).
	for _, p := range []struct{ name, addr, transport string }{
		{"rtsp port", s.rtsp, "http"},
		{"http port", s.http, "http"},
		{"rtsps port", rtsps, "https"},
		{"https port", s.https, "https"},
	} {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel() // four players of one server: each plays 10 s of media in real time
			frames := decodeGray(t, time.Minute, "-rtsp_transport", p.transport, "-ss", "30",
				"-i", "rtsp://"+p.addr+"/archive/cam", "-t", "10")
			checkSeekFrames(t, frames, 30*numberedFPS, 10*numberedFPS)
		})
	}
	// After the parallel subtests (cleanups run once they are done), before s.stop.
	t.Cleanup(func() {
		if strings.Contains(s.logs.String(), "rtsp tunnel refused") {
			t.Errorf("a tunnel was refused:\n%s", s.logs)
		}
	})
}

// TestTunnelGStreamer: rtspsrc plays the archive over rtsph:// on the RTSP
// and the HTTP port and seeks to 25 s.
func TestTunnelGStreamer(t *testing.T) {
	needTool(t, "/usr/bin/python3")
	needGstElement(t, "rtspsrc", "avdec_h264", "appsink")
	s := archiveServer(t)
	for name, addr := range map[string]string{"rtsp port": s.rtsp, "http port": s.http} {
		t.Run(name, func(t *testing.T) {
			gstSeek(t, s, "rtsph://"+addr+"/archive/cam", "tcp", "")
		})
	}
}

// TestTunnelAuth: through a tunnel on either port, ffmpeg and GStreamer
// without or with a wrong password are refused with 401 (the RTSP requests
// inside are authenticated as usual), with the right one they play from
// the seek point; credentials on the GET itself are checked as RTSP's and
// wrong ones answered 401 with the Digest challenges.
func TestTunnelAuth(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "/usr/bin/python3")
	needGstElement(t, "rtspsrc", "avdec_h264", "appsink")
	s := startServerLater(t, "auth:\n  failure_threshold: 1000\n"+authUsers(t))
	recordArchive(t, s.dir, "cam", numberedClip(t, 45), archiveStart)
	s.start()
	t.Cleanup(s.stop)
	script := seekScript(t)
	for name, addr := range map[string]string{"rtsp port": s.rtsp, "http port": s.http} {
		for _, creds := range []struct{ name, user, pw string }{{"none", "", ""}, {"wrong", "view", "nope"}, {"right", "view", "weiv"}} {
			url := "rtsp://" + addr
			if creds.user != "" {
				url = withUser(url, creds.user, creds.pw)
			}
			t.Run(name+"/ffmpeg/"+creds.name, func(t *testing.T) {
				if creds.name == "right" {
					frames := decodeGray(t, time.Minute, "-rtsp_transport", "http", "-ss", "30", "-i", url+"/archive/cam", "-t", "2")
					checkSeekFrames(t, frames, 30*numberedFPS, 2*numberedFPS)
					return
				}
				out, err := run(t, time.Minute, "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "http",
					"-i", url+"/archive/cam", "-t", "2", "-f", "null", "-")
				authOutcome(t, creds.name, out, err)
			})
			t.Run(name+"/gstreamer/"+creds.name, func(t *testing.T) {
				extra := ""
				if creds.user != "" {
					extra = "user-id=" + creds.user + " user-pw=" + creds.pw
				}
				if creds.name == "right" {
					gstSeek(t, s, "rtsph://"+addr+"/archive/cam", "tcp", extra)
					return
				}
				out, _ := run(t, time.Minute, "/usr/bin/python3", script, "rtsph://"+addr+"/archive/cam", "tcp", "25", extra)
				if !unauthorized(out) || !strings.Contains(out, "first=-1 pts=-1 frames=0") {
					t.Fatalf("gstreamer played or failed otherwise:\n%s", out)
				}
			})
		}
		t.Run(name+"/get with wrong credentials", func(t *testing.T) {
			tu := rtsptest.DialTunnel(t, addr, "/archive/cam", "wrongget",
				`Authorization: Digest username="view", realm="camvault", nonce="00", uri="/archive/cam", response="00000000000000000000000000000000"`)
			ch := tu.Header.Values("Www-Authenticate")
			if tu.Status != 401 || len(ch) != 2 || !strings.Contains(ch[1], "algorithm=MD5") {
				t.Fatalf("answer %d, challenges %q", tu.Status, ch)
			}
		})
	}
}

// TestTunnelAttacks: against camvault itself, on the RTSP and the HTTP
// port, a GET and a POST with the same cookie on one connection and a POST
// whose GET is gone are refused without a crash and without an answer to
// the smuggled request, as is base64 garbage; camvault goes on serving
// tunnels and logs the refusals.
func TestTunnelAttacks(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg")
	s := archiveServer(t)
	options := base64.StdEncoding.EncodeToString([]byte("OPTIONS rtsp://" + s.rtsp + "/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"))
	for name, addr := range map[string]string{"rtsp port": s.rtsp, "http port": s.http} {
		t.Run(name+"/get and post on one connection", func(t *testing.T) {
			tu := rtsptest.DialTunnel(t, addr, "/archive/cam", "samecookie")
			if tu.Status != 200 {
				t.Fatalf("GET: %d", tu.Status)
			}
			rtsptest.WriteString(t, tu.Get, rtsptest.TunnelHead("POST", "/archive/cam", "samecookie")+options)
			expectNothingThenClose(t, tu.GetReader)
		})
		t.Run(name+"/post whose get is gone", func(t *testing.T) {
			tu := rtsptest.DialTunnel(t, addr, "/archive/cam", "gonecookie")
			_ = tu.Get.Close()
			post := rtsptest.Dial(t, addr)
			rtsptest.WriteString(t, post, rtsptest.TunnelHead("POST", "/archive/cam", "gonecookie")+options)
			expectNothingThenClose(t, bufio.NewReader(post))
		})
		t.Run(name+"/base64 garbage", func(t *testing.T) {
			tu := rtsptest.DialTunnel(t, addr, "/archive/cam", "garbagecookie")
			tu.OpenPost(t, "T1BU%%%%\x00\xff")
			expectNothingThenClose(t, tu.GetReader)
		})
	}
	frames := decodeGray(t, time.Minute, "-rtsp_transport", "http", "-i", "rtsp://"+s.http+"/archive/cam?start="+
		archiveStart.Add(20*time.Second).Format(time.RFC3339), "-t", "2")
	checkFrames(t, frames, 20*numberedFPS, 2*numberedFPS)
	s.waitFor(10*time.Second, "the refusals logged", func() bool { return strings.Contains(s.logs.String(), "rtsp tunnel refused") })
}

// expectNothingThenClose reads r to its end (the tunnel timeout's at most)
// and fails if camvault sent anything.
func expectNothingThenClose(t *testing.T, r io.Reader) {
	t.Helper()
	b, _ := io.ReadAll(r)
	if len(b) != 0 {
		t.Fatalf("camvault answered %q", b)
	}
}

// TestWebSocketPlay: an RTSP player over a WebSocket (rtsp.onvif.org) on
// the HTTP port plays the archive: DESCRIBE, SETUP interleaved (UDP is
// refused with 461), PLAY, and RTP arrives in the binary messages.
func TestWebSocketPlay(t *testing.T) {
	s := archiveServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+s.http+"/archive/cam", &websocket.DialOptions{Subprotocols: []string{"rtsp.onvif.org"}})
	if err != nil {
		t.Fatal(err)
	}
	nc := websocket.NetConn(ctx, ws, websocket.MessageBinary)
	defer nc.Close()
	p := rtsptest.NewPlayer(t, nc, "rtsp://"+s.http)
	url := p.URL + "/archive/cam"
	resp := p.Do("DESCRIBE", url, []string{"Accept: application/sdp"}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	base := resp.Header.Get("Content-Base")
	rtsptest.ExpectStatus(t, p.Do("SETUP", base+"trackID=0", []string{"Transport: RTP/AVP;unicast;client_port=5000-5001"}, ""), 461)
	resp = p.Do("SETUP", base+"trackID=0", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	id := rtsptest.SessionID(t, resp)
	resp, _ = p.Request("PLAY", base, []string{"Session: " + id, "Range: npt=10-"})
	rtsptest.ExpectStatus(t, resp, 200)
	for _, f := range p.Frames(50) {
		if f.Channel != 0 && f.Channel != 1 || len(f.Payload) < 12 {
			t.Fatalf("frame on channel %d of %d bytes", f.Channel, len(f.Payload))
		}
	}
	resp, _ = p.Request("TEARDOWN", base, []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
}

// TestTunnelLive: while ffmpeg pushes a numbered clip, `ffmpeg
// -rtsp_transport http` plays the camera live through the tunnel on the
// RTSP port and on the HTTP port, and GStreamer over rtsph:// on the HTTP
// port; each decodes from a keyframe every frame in order to the clip's
// last, without an error line, and ends by itself when the publisher stops.
func TestTunnelLive(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "gst-launch-1.0")
	needGstElement(t, "rtspsrc", "rtph264depay", "h264parse", "avdec_h264", "fdsink")
	s := startServer(t, "")
	push := startLivePush(t, s, "cam", "tcp", liveClip(t, liveClipSeconds, numberedFPS))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	players := []func() livePlay{
		func() livePlay { return ffmpegLive(ctx, "rtsp://"+s.rtsp+"/cam", "http") },
		func() livePlay { return ffmpegLive(ctx, "rtsp://"+s.http+"/cam", "http") },
		func() livePlay { return gstLive(ctx, "rtsph://"+s.http+"/cam", "tcp") },
	}
	playWhilePushed(t, push, cancel, players, nil)
	if strings.Contains(s.logs.String(), "rtsp tunnel refused") {
		t.Errorf("a tunnel was refused:\n%s", s.logs)
	}
}

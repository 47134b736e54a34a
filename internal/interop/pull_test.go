//go:build interop

package interop

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gstCameraScript is a camera made of GStreamer's RTSP server: /h264 serves
// live H.264 (640x360, 25 fps, a keyframe per second), /h264aac adds AAC.
// With a user and password it requires Digest authentication.
const gstCameraScript = `
import sys, gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtsp, GstRtspServer, GLib
Gst.init(None)
port, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
video = ("videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=25/1 ! "
         "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! video/x-h264,profile=baseline ! "
         "rtph264pay name=pay0 pt=96 config-interval=1")
audio = "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! avenc_aac ! rtpmp4gpay name=pay1 pt=97"
mounts = server.get_mount_points()
factories = []
for path, launch in (("/h264", "( " + video + " )"), ("/h264aac", "( " + video + " " + audio + " )")):
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch(launch)
    f.set_shared(True)
    mounts.add_factory(path, f)
    factories.append(f)
if user:
    auth = GstRtspServer.RTSPAuth()
    auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", user)
    auth.add_digest(user, password, token)
    server.set_auth(auth)
    for f in factories:
        f.add_role_from_structure(Gst.Structure.from_string(
            user + ", media.factory.access=(boolean)true, media.factory.construct=(boolean)true")[0])
server.attach(None)
print("ready", flush=True)
GLib.MainLoop().run()
`

// startGstCamera runs the camera script on a free port and waits until it
// serves; it stops with the test.
func startGstCamera(t *testing.T, user, password string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	stop := startGstCameraOn(t, port, user, password)
	t.Cleanup(stop)
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// startGstCameraOn runs the camera script on port and returns its stop.
func startGstCameraOn(t *testing.T, port int, user, password string) (stop func()) {
	t.Helper()
	needTool(t, "/usr/bin/python3")
	needGstElement(t, "x264enc", "rtph264pay", "avenc_aac", "rtpmp4gpay")
	if err := exec.Command("/usr/bin/python3", "-c", "import gi; gi.require_version('GstRtspServer', '1.0')").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("GstRtspServer Python bindings are required in CI: %v", err)
		}
		t.Skip("GstRtspServer Python bindings not installed")
	}
	script := filepath.Join(t.TempDir(), "camera.py")
	if err := os.WriteFile(script, []byte(gstCameraScript), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script, fmt.Sprint(port), user, password)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		cancel()
		_ = cmd.Wait()
	}
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- strings.HasPrefix(line, "ready")
	}()
	select {
	case ok := <-ready:
		if !ok {
			stop()
			t.Fatal("GStreamer camera did not start")
		}
	case <-time.After(20 * time.Second):
		stop()
		t.Fatal("GStreamer camera not ready in 20 s")
	}
	return stop
}

// TestPullFromGStreamerCamera has camvault pull from GStreamer's RTSP server
// for a few seconds, over TCP and UDP, with and without Digest
// authentication, and checks the recordings like pushed ones.
func TestPullFromGStreamerCamera(t *testing.T) {
	needTool(t, "ffprobe", "ffmpeg")
	for _, tc := range []struct {
		name, mount, transport, user, password, audio string
	}{
		{"h264-tcp", "h264", "tcp", "", "", ""},
		{"h264-udp", "h264", "udp", "", "", ""},
		{"h264aac-tcp-digest", "h264aac", "tcp", "viewer", "s3cret", "aac"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cam := startGstCamera(t, tc.user, tc.password)
			creds := ""
			if tc.user != "" {
				creds = tc.user + ":" + tc.password + "@"
			}
			s := startServer(t, fmt.Sprintf("cameras:\n  pulled:\n    url: rtsp://%s%s/%s\n    transport: %s\n", creds, cam, tc.mount, tc.transport))
			s.waitLogLine(30*time.Second, `msg="recording started"`, "camera=pulled")
			s.waitFragments("pulled", 5) // a few seconds of the live camera, a keyframe a second
			s.stop()
			if tc.password != "" && strings.Contains(s.logs.String(), tc.password) {
				t.Errorf("the camera password appears in camvault's log")
			}
			infos := s.segments("pulled")
			if len(infos) != 1 {
				t.Fatalf("%d segments, want 1\n%s", len(infos), s.logs)
			}
			seg := infos[0]
			file := filepath.Join(s.dir, seg.File)
			p := ffprobe(t, file)
			codec, w, h, frames, ok := p.stream("video")
			if !ok || codec != "h264" || w != 640 || h != 360 {
				t.Errorf("video %q %dx%d", codec, w, h)
			}
			want := int(seg.End.Sub(seg.Start).Seconds() * clipFPS)
			if frames < want-2 || frames > want+2 || frames < 3*clipFPS {
				t.Errorf("%d frames for %v of recording (want about %d)", frames, seg.End.Sub(seg.Start), want)
			}
			if tc.audio != "" {
				if acodec, _, _, aframes, ok := p.stream("audio"); !ok || acodec != tc.audio || aframes == 0 {
					t.Errorf("audio %q with %d frames", acodec, aframes)
				}
			}
			firstVideoFrameIsKey(t, file)
			decodeClean(t, file)
			t.Logf("pulled %d frames in %v", frames, seg.End.Sub(seg.Start).Round(time.Millisecond))
		})
	}
}

// TestPullCameraRestart stops the camera for 10 s: camvault reconnects
// within its backoff and records on; the index shows exactly one gap of
// about that length.
func TestPullCameraRestart(t *testing.T) {
	needTool(t, "ffprobe")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	stopCam := startGstCameraOn(t, port, "", "")
	s := startServer(t, fmt.Sprintf("cameras:\n  restart:\n    url: rtsp://127.0.0.1:%d/h264\n", port))
	s.waitLogLine(30*time.Second, `msg="recording started"`, "camera=restart")
	s.waitFragments("restart", 3) // a few seconds before the camera goes down
	before, _ := s.newestSegmentFile("restart")
	stopCam()
	down := time.Now()
	time.Sleep(10 * time.Second) // the scenario: the camera is down for 10 s
	stopCam = startGstCameraOn(t, port, "", "")
	up := time.Now()
	defer stopCam()
	// Backoff doubles from 1 s to 30 s with jitter: after 10 s down the next
	// attempt comes within 16 s of the restart; then record a few seconds.
	s.waitLogLines(25*time.Second, 2, `msg="recording started"`, "camera=restart")
	s.waitNewFragment("restart", before)
	s.waitFragments("restart", 3) // a few seconds after the restart
	s.stop()
	infos := s.segments("restart")
	if len(infos) != 2 {
		t.Fatalf("%d segments, want 2 (before and after the camera restart)\n%s", len(infos), s.logs)
	}
	gap := infos[1].Start.Sub(infos[0].End)
	if gap < 10*time.Second || gap > up.Sub(down)+17*time.Second {
		t.Errorf("gap %v between the recordings; the camera was down %v", gap, up.Sub(down).Round(time.Second))
	}
	for _, seg := range infos {
		firstVideoFrameIsKey(t, filepath.Join(s.dir, seg.File))
		decodeClean(t, filepath.Join(s.dir, seg.File))
	}
	t.Logf("camera down %v, index gap %v", up.Sub(down).Round(time.Millisecond), gap.Round(time.Millisecond))
}

// TestPullReloadOnSIGHUP adds a pulled camera by rewriting the config and
// sending SIGHUP, then checks that an invalid config is refused and the
// running camera keeps recording.
func TestPullReloadOnSIGHUP(t *testing.T) {
	needTool(t, "ffprobe")
	cam := startGstCamera(t, "", "")
	s := startServer(t, "")
	conf, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	added := string(conf) + fmt.Sprintf("cameras:\n  reloaded:\n    url: rtsp://%s/h264\n", cam)
	if err := os.WriteFile(s.config, []byte(added), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitLogLine(30*time.Second, `msg="recording started"`, "camera=reloaded")
	if err := os.WriteFile(s.config, []byte(added+"bogus_key: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitLogLine(30*time.Second, "config reload refused")
	// The camera records on through the refusal: two more fragments, five in all, in the
	// one segment checked below.
	s.waitFragments("reloaded", max(s.fragmentsOnDisk("reloaded")+2, 5))
	s.stop()
	if !strings.Contains(s.logs.String(), "config reload refused") {
		t.Errorf("the invalid config was not refused:\n%s", s.logs)
	}
	infos := s.segments("reloaded")
	if len(infos) != 1 || infos[0].End.Sub(infos[0].Start) < 4*time.Second {
		t.Fatalf("segments %+v: the camera added on SIGHUP should record through the refused reload\n%s", infos, s.logs)
	}
	decodeClean(t, filepath.Join(s.dir, infos[0].File))
}

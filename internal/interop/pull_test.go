//go:build interop

package interop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gstCameraScript is a camera made of GStreamer's RTSP server: /h264 serves
// live H.264 (640x360, 25 fps, a keyframe per second), /h264aac adds AAC.
// With a user and password it requires Digest authentication. Given an MP4
// file of H.264 as well, /file plays it at its own pace from the first PLAY.
const gstCameraScript = `
import sys, gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtsp, GstRtspServer, GLib
Gst.init(None)
port, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
file = sys.argv[4] if len(sys.argv) > 4 else ""
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
video = ("videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=25/1 ! "
         "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! video/x-h264,profile=baseline ! "
         "rtph264pay name=pay0 pt=96 config-interval=1")
audio = "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! avenc_aac ! rtpmp4gpay name=pay1 pt=97"
mounts = server.get_mount_points()
factories = []
launches = [("/h264", "( " + video + " )"), ("/h264aac", "( " + video + " " + audio + " )")]
if file:
    launches.append(("/file", "( filesrc location=%s ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )" % file))
for path, launch in launches:
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
	return startGstCameraArgs(t, user, password)
}

// startGstFileCamera is startGstCamera without authentication that also serves file (an
// MP4 of H.264) at /file.
func startGstFileCamera(t *testing.T, file string) string {
	t.Helper()
	needGstElement(t, "filesrc", "qtdemux", "h264parse")
	return startGstCameraArgs(t, "", "", file)
}

// startGstCameraArgs runs the camera script on a free port with args after the port and
// waits until it serves; it stops with the test.
func startGstCameraArgs(t *testing.T, args ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	stop := startGstCameraOn(t, port, args...)
	t.Cleanup(stop)
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// startGstCameraOn runs the camera script on port with args after the port (user,
// password, file) and returns its stop.
func startGstCameraOn(t *testing.T, port int, args ...string) (stop func()) {
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
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", append([]string{script, fmt.Sprint(port)}, args...)...)
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

// Backoff of TestPullCameraRestart: small, so that the camera's ten seconds down see many
// attempts and a delay beyond restartBackoffMax shows.
const (
	restartBackoffMin = 200 * time.Millisecond
	restartBackoffMax = time.Second
	// restartSchedulingSlack is what a machine busy with other work may add between an
	// attempt's end, seen by the proxy, and the next one: camvault noticing the closed
	// connection, its timer firing late, the next dial. Far below the 8-30 s that the
	// default backoff reaches after a few failures.
	restartSchedulingSlack = 4 * time.Second
)

// TestPullCameraRestart stops the camera for 10 s: camvault retries on the backoff schedule
// the config sets, reconnects once the camera is back and records on; the index shows
// exactly one gap, no shorter than the camera was down.
//
// camvault reaches the camera through attemptProxy, which notes when each connection
// attempt begins and ends, so the schedule is checked from moments seen outside camvault:
// each attempt begins at most restartBackoffMax (+ restartSchedulingSlack) after the one
// before ended. How long the restarted camera takes to answer (seconds on a loaded
// machine) is not camvault's to promise and bounds nothing here.
func TestPullCameraRestart(t *testing.T) {
	needTool(t, "ffprobe")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	stopCam := startGstCameraOn(t, port, "", "")
	proxy := startAttemptProxy(t, fmt.Sprintf("127.0.0.1:%d", port))
	s := startServer(t, fmt.Sprintf("pull:\n  backoff_min: %v\n  backoff_max: %v\ncameras:\n  restart:\n    url: rtsp://%s/h264\n",
		restartBackoffMin, restartBackoffMax, proxy.addr))
	s.waitLogLine(30*time.Second, `msg="recording started"`, "camera=restart")
	s.waitFragments("restart", 3) // a few seconds before the camera goes down
	before, _ := s.newestSegmentFile("restart")
	stopCam()
	down := time.Now()
	time.Sleep(10 * time.Second) // the scenario: the camera is down for 10 s
	restarting := time.Now()
	stopCam = startGstCameraOn(t, port, "", "")
	defer stopCam()
	// A deadline for failing only: the restarted camera may be slow to answer.
	s.waitLogLines(2*time.Minute, 2, `msg="recording started"`, "camera=restart")
	s.waitNewFragment("restart", before)
	s.waitFragments("restart", 3) // a few seconds after the restart
	s.stop()
	attempts := proxy.close()
	infos := s.segments("restart")
	if len(infos) != 2 {
		t.Fatalf("%d segments, want 2 (before and after the camera restart)\n%s", len(infos), s.logs)
	}
	gap := infos[1].Start.Sub(infos[0].End)
	if gap < restarting.Sub(down) {
		t.Errorf("gap %v between the recordings; the camera was down %v", gap, restarting.Sub(down).Round(time.Millisecond))
	}
	longest := checkRetrySchedule(t, attempts, down, restarting, s.logs.String())
	for _, seg := range infos {
		firstVideoFrameIsKey(t, filepath.Join(s.dir, seg.File))
		decodeClean(t, filepath.Join(s.dir, seg.File))
	}
	t.Logf("camera down %v, index gap %v, %d connection attempts, longest wait between two %v",
		restarting.Sub(down).Round(time.Millisecond), gap.Round(time.Millisecond), len(attempts), longest.Round(time.Millisecond))
}

// checkRetrySchedule checks the attempts the proxy saw against the backoff: attempts went on
// while the camera was down (from down until it was restarting), the last one (which
// recorded) began after the restart began, none began later than restartBackoffMax+restartSchedulingSlack after the one before
// ended, and every delay camvault logged is within restartBackoffMax. It returns the longest
// wait between two attempts.
func checkRetrySchedule(t *testing.T, attempts []attempt, down, restarting time.Time, logs string) (longest time.Duration) {
	t.Helper()
	during := 0
	for i, a := range attempts {
		if a.start.After(down) && a.start.Before(restarting) {
			during++
		}
		if i == 0 {
			continue
		}
		wait := a.start.Sub(attempts[i-1].end)
		longest = max(longest, wait)
		if wait > restartBackoffMax+restartSchedulingSlack {
			t.Errorf("attempt %d began %v after attempt %d ended; backoff_max is %v", i, wait.Round(time.Millisecond), i-1, restartBackoffMax)
		}
	}
	if during < 2 {
		t.Errorf("%d connection attempts while the camera was down for %v, want several", during, restarting.Sub(down).Round(time.Second))
	}
	if len(attempts) == 0 || attempts[len(attempts)-1].start.Before(restarting) {
		t.Errorf("no connection attempt after the camera came back: %+v", attempts)
	}
	for line := range strings.Lines(logs) {
		if !containsAll(line, []string{`msg="camera state"`, "state=backing-off"}) {
			continue
		}
		_, after, _ := strings.Cut(line, " dur=")
		dur, _, _ := strings.Cut(after, " ")
		if d, err := time.ParseDuration(dur); err != nil || d > restartBackoffMax {
			t.Errorf("backoff delay %q (%v) not within backoff_max %v: %s", dur, err, restartBackoffMax, line)
		}
	}
	return longest
}

// attempt is one connection through an attemptProxy: when it was accepted and when it ended
// (either side closed, or the upstream refused it).
type attempt struct{ start, end time.Time }

// attemptProxy forwards each TCP connection to upstream and notes when it began and ended.
// While upstream refuses, it closes the connection at once, as a camera's address does
// while its RTSP daemon restarts.
type attemptProxy struct {
	addr     string
	upstream string
	l        net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	attempts []attempt
	conns    map[net.Conn]bool
}

// startAttemptProxy listens on a free loopback port; close stops it.
func startAttemptProxy(t *testing.T, upstream string) *attemptProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &attemptProxy{addr: l.Addr().String(), upstream: upstream, l: l, conns: map[net.Conn]bool{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() { p.close() })
	return p
}

func (p *attemptProxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return // closed
		}
		start := time.Now()
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Go(func() { p.forward(c, start) })
	}
}

// track adds c to the open connections, unless the proxy is closed.
func (p *attemptProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = true
	return true
}

// forward copies both ways until either side closes, then notes the attempt.
func (p *attemptProxy) forward(c net.Conn, start time.Time) {
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err == nil && p.track(up) {
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
		go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
		<-done
		up.Close()
		c.Close()
		<-done
	} else if err == nil {
		up.Close()
	}
	c.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts = append(p.attempts, attempt{start, time.Now()})
	delete(p.conns, c)
	delete(p.conns, up)
}

// close stops the proxy, ends its connections and returns the attempts by start time.
func (p *attemptProxy) close() []attempt {
	p.l.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	slices.SortFunc(p.attempts, func(a, b attempt) int { return a.start.Compare(b.start) })
	return slices.Clone(p.attempts)
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

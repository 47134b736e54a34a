//go:build interop

package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/clip"
)

// archiveStart is the wall-clock start of the recordings the playback tests
// write.
var archiveStart = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// archiveServer writes a 45 s numbered recording of camera "cam" and starts
// camvault on it.
func archiveServer(t *testing.T) *server {
	t.Helper()
	c := numberedClip(t, 45)
	s := newServerDir(t)
	recordArchive(t, s.dir, "cam", c, archiveStart)
	s.start()
	t.Cleanup(s.stop)
	return s
}

// newServerDir prepares a server (ports, config) without starting it.
func newServerDir(t *testing.T) *server {
	t.Helper()
	return startServerLater(t, "")
}

// TestFFmpegSeek plays the archive with `ffmpeg -ss 30 -t 10` over TCP and
// UDP: the first decoded frame is frame 750 (the 30 s mark) and 10 s of
// frames arrive, decoding without errors.
func TestFFmpegSeek(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg")
	for _, transport := range []string{"tcp", "udp"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			s := archiveServer(t)
			frames := decodeGray(t, time.Minute, "-rtsp_transport", transport, "-ss", "30",
				"-i", "rtsp://"+s.rtsp+"/archive/cam", "-t", "10")
			checkSeekFrames(t, frames, 30*numberedFPS, 10*numberedFPS)
		})
	}
}

// TestFFmpegStartParameter opens a window with ?start=<RFC 3339> and checks
// that playback begins at that wall-clock second.
func TestFFmpegStartParameter(t *testing.T) {
	needTool(t, "ffmpeg")
	s := archiveServer(t)
	start := archiveStart.Add(20 * time.Second).Format(time.RFC3339)
	frames := decodeGray(t, time.Minute, "-rtsp_transport", "tcp",
		"-i", "rtsp://"+s.rtsp+"/archive/cam?start="+start, "-t", "5")
	checkFrames(t, frames, 20*numberedFPS, 5*numberedFPS)
}

// checkSeekFrames is checkFrames for ffmpeg's -ss, which may start one frame
// late. ffmpeg 5.1 derives its input offset from the first packet that had
// a timestamp while probing (-debug_ts shows off_time:-30.04), so its
// accurate seek drops the keyframe at exactly the seek time; the server
// sent it (ffprobe -read_intervals 30%+#4 lists it at pts 30.000). Seen
// over UDP, and over TCP when the DESCRIBE was answered 401 first.
func checkSeekFrames(t *testing.T, frames [][]byte, first, count int) {
	t.Helper()
	if len(frames) > 0 && clip.FrameNumber(frames[0], numberedW, numberedH, numberedFPS) == first+1 {
		t.Log("ffmpeg dropped the keyframe at the seek time (its start-time offset)")
		first++
	}
	checkFrames(t, frames, first, count)
}

// checkFrames checks the first frame's number and the frame count (within
// one frame: ffmpeg's -t cut).
func checkFrames(t *testing.T, frames [][]byte, first, count int) {
	t.Helper()
	if len(frames) == 0 {
		t.Fatal("no frames decoded")
	}
	got := clip.FrameNumber(frames[0], numberedW, numberedH, numberedFPS)
	if got != first {
		t.Errorf("first frame is number %d, want %d", got, first)
	}
	if len(frames) < count-1 || len(frames) > count+1 {
		t.Errorf("%d frames, want %d", len(frames), count)
	}
	for i := 1; i < len(frames); i++ {
		a := clip.FrameNumber(frames[i-1], numberedW, numberedH, numberedFPS)
		b := clip.FrameNumber(frames[i], numberedW, numberedH, numberedFPS)
		if b != a+1 {
			t.Errorf("frame %d is number %d after %d", i, b, a)
			break
		}
	}
	t.Logf("first frame %d, %d frames", got, len(frames))
}

// TestGapPlaysThrough records two 10 s recordings with a 20 s gap between
// them and plays the whole window with ffprobe: every recorded frame
// arrives, in about 20 s (no stall for the gap), and RTP timestamps never
// jump (packet times advance by at most a few frames).
func TestGapPlaysThrough(t *testing.T) {
	needTool(t, "ffmpeg", "ffprobe")
	c := numberedClip(t, 10)
	s := newServerDir(t)
	recordArchive(t, s.dir, "gapcam", c, archiveStart)
	recordArchive(t, s.dir, "gapcam", c, archiveStart.Add(30*time.Second))
	s.start()
	t.Cleanup(s.stop)
	url := fmt.Sprintf("rtsp://%s/archive/gapcam?start=%d&end=%d", s.rtsp, archiveStart.Unix(), archiveStart.Add(40*time.Second).Unix())
	began := time.Now()
	out, err := run(t, 2*time.Minute, "ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-i", url,
		"-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0")
	took := time.Since(began)
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s\n%s", err, out, s.logs)
	}
	var pts []float64
	packets := 0
	for _, line := range strings.Fields(out) {
		packets++ // ffprobe may print N/A for the first packet's pts
		var v float64
		if _, err := fmt.Sscanf(line, "%g", &v); err == nil {
			pts = append(pts, v)
		}
	}
	if packets != 2*c.VideoFrames {
		t.Errorf("%d video packets, want %d", packets, 2*c.VideoFrames)
	}
	for i := 1; i < len(pts); i++ {
		if d := pts[i] - pts[i-1]; d > 0.2 || d < -0.2 {
			t.Errorf("timestamp jumps by %.3fs at packet %d", d, i)
			break
		}
	}
	// Waiting for the gap would take 20 s + 20 s; a busy machine only delays the 20 s.
	if took >= 40*time.Second {
		t.Errorf("playing 20 s of media across a 20 s gap took %v", took)
	}
	t.Logf("%d packets in %v", packets, took.Round(time.Millisecond))
}

// TestGStreamerSeek plays the archive with GStreamer's rtspsrc, seeks to
// 25 s and checks the first frame after the seek (a Python GStreamer
// program, as gst-launch cannot seek).
func TestGStreamerSeek(t *testing.T) {
	needTool(t, "/usr/bin/python3")
	needGstElement(t, "rtspsrc", "avdec_h264", "appsink")
	s := archiveServer(t)
	for _, proto := range []string{"tcp", "udp"} {
		t.Run(proto, func(t *testing.T) {
			gstSeek(t, s, "rtsp://"+s.rtsp+"/archive/cam", proto, "")
		})
	}
}

// TestGStreamerONVIFReplay plays an archive window with rtspsrc
// onvif-mode=true, an ONVIF replay client, and seeks by clock (issue 12):
// the first frame is the window start and the seek lands on the keyframe at
// or before the asked time, followed by every frame. rtspsrc sends no
// Require: onvif-replay; an ONVIF application adds it to every request
// (before-send), and then the SDP's clock range comes first and GStreamer
// time is true clock time since 1900-01-01. Without it rtspsrc reads the npt
// range as clock time from 1900 and plays and seeks in window time.
// buffer-mode=none times frames by their RTP timestamps only (GStreamer's
// own ONVIF client, test-onvif-client, runs with no jitterbuffer at all):
// in the default mode, GStreamer 1.22 stamps the first packet after each
// PLAY with running time, outside the ONVIF segment, and so drops the
// keyframe that starts every PLAY.
func TestGStreamerONVIFReplay(t *testing.T) {
	needTool(t, "/usr/bin/python3")
	needGstElement(t, "rtspsrc", "avdec_h264", "appsink")
	s := archiveServer(t)
	from, to := archiveStart.Add(5*time.Second), archiveStart.Add(40*time.Second)
	url := fmt.Sprintf("rtsp://%s/archive/cam?start=%d&end=%d", s.rtsp, from.Unix(), to.Unix())
	for _, tc := range []struct {
		name, require, target string
		startPTS, firstPTS    time.Duration // GStreamer time of the window start and of the keyframe at 25 s
	}{
		{"clock", "onvif-replay", fmt.Sprintf("%d.5", ntpSeconds(archiveStart.Add(25*time.Second))),
			time.Duration(ntpSeconds(from)) * time.Second, time.Duration(ntpSeconds(archiveStart.Add(25*time.Second))) * time.Second},
		{"window time", "", "20.5", 0, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runGstSeek(t, s, url, "tcp", tc.target, "onvif-mode=true buffer-mode=none", tc.require)
			if r.start != 5*numberedFPS || time.Duration(r.startPTS-int64(tc.startPTS)).Abs() > time.Millisecond {
				t.Errorf("first frame %d at %d, want %d at %d", r.start, r.startPTS, 5*numberedFPS, tc.startPTS)
			}
			if r.first != 25*numberedFPS || time.Duration(r.firstPTS-int64(tc.firstPTS)).Abs() > time.Millisecond {
				t.Errorf("first frame after seeking to %s is %d at %d, want keyframe %d at %d",
					tc.target, r.first, r.firstPTS, 25*numberedFPS, tc.firstPTS)
			}
			if r.frames < 2*numberedFPS || r.gaps != 0 {
				t.Errorf("%d frames in 3 s after the seek, %d out of sequence", r.frames, r.gaps)
			}
			t.Logf("%+v", r)
		})
	}
}

// ntpSeconds returns t in seconds since 1900-01-01, the NTP and ONVIF
// epoch, which rtspsrc in onvif-mode counts clock time from.
func ntpSeconds(t time.Time) int64 { return t.Unix() + 2208988800 }

// gstSeek plays url with gstSeekScript over proto, with the rtspsrc
// properties extra, seeks to 25 s and checks the frames after the seek.
func gstSeek(t *testing.T, s *server, url, proto, extra string) {
	t.Helper()
	r := runGstSeek(t, s, url, proto, "25", extra, "")
	if r.first < 25*numberedFPS || r.first > 25*numberedFPS+1 {
		t.Errorf("first frame after seeking to 25 s is %d, want %d", r.first, 25*numberedFPS)
	}
	if r.frames < 2*numberedFPS {
		t.Errorf("only %d frames after the seek", r.frames)
	}
	t.Logf("first frame %d, %d frames", r.first, r.frames)
}

// gstSeekResult is what gstSeekScript saw: the first frame played and its
// PTS, the first frame after the seek and its PTS, how many frames came in
// 3 s after the seek and how many of them did not follow the previous one.
type gstSeekResult struct {
	start, first, frames, gaps int
	startPTS, firstPTS         int64
}

// runGstSeek runs gstSeekScript on url over proto with the rtspsrc
// properties extra, seeking to target (GStreamer seconds), and with a
// Require: require header on every request unless require is "".
func runGstSeek(t *testing.T, s *server, url, proto, target, extra, require string) gstSeekResult {
	t.Helper()
	out, err := run(t, time.Minute, "/usr/bin/python3", seekScript(t), url, proto, target, extra, require)
	if err != nil {
		t.Fatalf("gstreamer: %v\n%s\n%s", err, out, s.logs)
	}
	var r gstSeekResult
	line := strings.TrimSpace(out[strings.LastIndex(out, "start="):])
	if _, err := fmt.Sscanf(line, "start=%d startpts=%d first=%d pts=%d frames=%d gaps=%d",
		&r.start, &r.startPTS, &r.first, &r.firstPTS, &r.frames, &r.gaps); err != nil {
		t.Fatalf("unexpected output: %v\n%s\n%s", err, out, s.logs)
	}
	return r
}

// seekScript writes gstSeekScript into a file of the test and returns its path.
func seekScript(t *testing.T) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "seek.py")
	if err := os.WriteFile(script, []byte(gstSeekScript), 0o644); err != nil {
		t.Fatal(err)
	}
	return script
}

// gstSeekScript plays an RTSP URL, seeks (flush, key unit) once the first
// frame arrived, and prints the number and PTS of the first frame, of the
// first frame after the seek, and how many frames arrived in 3 s after it
// and how many of those did not follow the previous one. A fifth argument
// is a Require header added to every request (before-send).
const gstSeekScript = `
import sys, gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst, GLib
Gst.init(None)
url, proto, target = sys.argv[1], sys.argv[2], float(sys.argv[3])
extra = sys.argv[4] if len(sys.argv) > 4 else ""  # more rtspsrc properties
require = sys.argv[5] if len(sys.argv) > 5 else ""
p = Gst.parse_launch(
    "rtspsrc name=src location=%s protocols=%s latency=200 %s ! rtph264depay ! h264parse ! avdec_h264 ! "
    "videoconvert ! video/x-raw,format=I420 ! appsink name=sink emit-signals=true sync=false" % (url, proto, extra))
if require:
    gi.require_version("GstRtsp", "1.0")
    from gi.repository import GstRtsp
    def before_send(src, msg):
        msg.add_header(GstRtsp.RTSPHeaderField.REQUIRE, require)
        return True
    p.get_by_name("src").connect("before-send", before_send)
sink = p.get_by_name("sink")
state = {"seeked": False, "start": -1, "startpts": -1, "first": -1, "pts": -1, "count": 0, "gaps": 0, "last": None}
loop = GLib.MainLoop()
def frame_number(buf, caps):
    s = caps.get_structure(0)
    w, h = s.get_value("width"), s.get_value("height")
    ok, m = buf.map(Gst.MapFlags.READ)
    data = m.data
    stride = (w + 3) // 4 * 4
    left, right = data[(h // 2) * stride + w // 4], data[(h // 2) * stride + 3 * w // 4]
    buf.unmap(m)
    return (left + 2) // 4 * 25 + (right + 5) // 10
def on_sample(sink):
    smp = sink.emit("pull-sample")
    buf = smp.get_buffer()
    pts = buf.pts if buf.pts != Gst.CLOCK_TIME_NONE else -1
    if state["seeked"]:
        n = frame_number(buf, smp.get_caps())
        if state["count"] == 0:
            state["first"], state["pts"] = n, pts
            GLib.timeout_add(3000, loop.quit)
        elif n != state["last"] + 1:
            state["gaps"] += 1
        state["last"] = n
        state["count"] += 1
    elif state["start"] < 0:
        state["start"], state["startpts"] = frame_number(buf, smp.get_caps()), pts
        GLib.idle_add(do_seek)
    return Gst.FlowReturn.OK
def do_seek():
    ok = p.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, int(target * Gst.SECOND))
    state["seeked"] = ok
    return False
def on_msg(bus, msg):
    if msg.type == Gst.MessageType.ERROR:
        print("error:", msg.parse_error()); loop.quit()
    elif msg.type == Gst.MessageType.EOS:
        loop.quit()
sink.connect("new-sample", on_sample)
bus = p.get_bus(); bus.add_signal_watch(); bus.connect("message", on_msg)
p.set_state(Gst.State.PLAYING)
GLib.timeout_add(30000, loop.quit)
loop.run()
p.set_state(Gst.State.NULL)
print("start=%d startpts=%d first=%d pts=%d frames=%d gaps=%d" % (
    state["start"], state["startpts"], state["first"], state["pts"], state["count"], state["gaps"]))
`

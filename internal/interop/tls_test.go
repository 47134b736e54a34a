//go:build interop

package interop

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/testcert"
)

// tlsServerLater prepares a server that also serves RTSPS with a
// self-signed certificate, with extraYAML in its config right after the
// rtsp section's keys (so it may begin with more of them, indented); it
// returns the rtsps:// base URL.
func tlsServerLater(t *testing.T, extraYAML string) (*server, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cert, key := testcert.Write(t, t.TempDir(), "camvault interop")
	s := startServerLater(t, fmt.Sprintf("%stls:\n  address: %q\n  cert: %q\n  key: %q\n", extraYAML, addr, cert, key))
	s.cert = cert
	return s, "rtsps://" + addr
}

// TestRTSPS covers issue 9 item 4: ffmpeg and GStreamer push over RTSPS
// (every frame recorded), and ffmpeg and GStreamer play the archive over
// RTSPS with a seek.
func TestRTSPS(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "ffprobe", "gst-launch-1.0", "/usr/bin/python3")
	needGstElement(t, "rtspclientsink", "rtspsrc", "x264enc", "avdec_h264", "appsink")
	s, base := tlsServerLater(t, "")
	recordArchive(t, s.dir, "cam", numberedClip(t, 45), archiveStart)
	s.start()
	t.Cleanup(s.stop)

	t.Run("ffmpeg play", func(t *testing.T) {
		frames := decodeGray(t, time.Minute, "-ss", "30", "-i", base+"/archive/cam", "-t", "10")
		checkFrames(t, frames, 30*numberedFPS, 10*numberedFPS)
	})
	t.Run("gstreamer play", func(t *testing.T) {
		gstSeek(t, s, base+"/archive/cam", "tcp", "tls-validation-flags=0")
	})
	var ffStart, gstStart time.Time
	t.Run("ffmpeg push", func(t *testing.T) {
		var out string
		var err error
		ffStart, out, err = ffmpegPush(t, base+"/ffcam", "tcp", true,
			append(append([]string{}, x264Baseline...), "-c:a", "aac", "-b:a", "64k"))
		if err != nil {
			t.Fatalf("ffmpeg: %v\n%s\n%s", err, out, s.logs)
		}
	})
	t.Run("gstreamer push", func(t *testing.T) {
		gstStart = time.Now()
		r, err := gstPublish(t, 2*time.Minute,
			"videotestsrc", "is-live=true", fmt.Sprintf("num-buffers=%d", clipFrames), "!",
			fmt.Sprintf("video/x-raw,width=640,height=360,framerate=%d/1", clipFPS), "!",
			"x264enc", "tune=zerolatency", "speed-preset=ultrafast", fmt.Sprintf("key-int-max=%d", clipFPS), "!",
			"video/x-h264,profile=baseline", "!", "h264parse", "!",
			"rtspclientsink", "location="+base+"/gstcam", "protocols=tcp", "tls-validation-flags=0")
		if err != nil && gstTeardownCancelled(err, r) {
			err = nil
		}
		if err != nil {
			t.Fatalf("gst-launch: %v\n%s\ncamvault:\n%s", err, r.summary(), s.logs)
		}
	})
	s.waitPublisherGone("ffcam")
	s.waitPublisherGone("gstcam")
	s.stop()
	checkRecording(t, s, "ffcam", pushCase{video: "h264", audio: "aac"}, ffStart)
	checkRecording(t, s, "gstcam", pushCase{video: "h264"}, gstStart)
}

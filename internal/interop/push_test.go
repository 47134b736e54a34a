//go:build interop

package interop

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	clipSeconds = 6
	clipFPS     = 25
	clipFrames  = clipSeconds * clipFPS
	fragFrames  = clipFPS // one ~1 s fragment
)

// pushCase is one publisher run: ffmpeg or GStreamer arguments and what the
// recording must hold.
type pushCase struct {
	name       string
	video      string // ffprobe codec name
	audio      string // "" for none
	ffmpegArgs []string
}

var (
	x264Baseline = []string{"-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"}
	x264BFrames  = []string{"-c:v", "libx264", "-profile:v", "main", "-preset", "veryfast", "-bf", "2", "-pix_fmt", "yuv420p", "-g", "25"}
	x265         = []string{"-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-x265-params", "keyint=25:min-keyint=25:log-level=error"}
)

var pushCases = []pushCase{
	{name: "h264-baseline", video: "h264", ffmpegArgs: x264Baseline},
	{name: "h264-bframes", video: "h264", ffmpegArgs: x264BFrames},
	{name: "h265", video: "hevc", ffmpegArgs: x265},
	{name: "h264-aac", video: "h264", audio: "aac", ffmpegArgs: append(append([]string{}, x264Baseline...), "-c:a", "aac", "-b:a", "64k")},
	{name: "h264-pcmu", video: "h264", audio: "pcm_mulaw", ffmpegArgs: append(append([]string{}, x264Baseline...), "-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1")},
	{name: "h264-opus", video: "h264", audio: "opus", ffmpegArgs: append(append([]string{}, x264Baseline...), "-c:a", "libopus", "-ar", "48000")},
}

// ffmpegPush pushes a clipSeconds test clip at real-time pace.
func ffmpegPush(t *testing.T, url, transport string, withAudio bool, codecArgs []string) (time.Time, string, error) {
	args := []string{"-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc2=size=640x360:rate=%d", clipFPS)}
	if withAudio {
		args = append(args, "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
	}
	args = append(args, "-t", fmt.Sprint(clipSeconds))
	args = append(args, codecArgs...)
	args = append(args, "-f", "rtsp", "-rtsp_transport", transport, url)
	start := time.Now()
	out, err := run(t, 2*time.Minute, "ffmpeg", args...)
	return start, out, err
}

func TestFFmpegPush(t *testing.T) {
	needTool(t, "ffmpeg", "ffprobe")
	for _, tc := range pushCases {
		for _, transport := range []string{"tcp", "udp"} {
			t.Run(tc.name+"/"+transport, func(t *testing.T) {
				t.Parallel()
				s := startServer(t, "")
				start, out, err := ffmpegPush(t, "rtsp://"+s.rtsp+"/cam1", transport, tc.audio != "", tc.ffmpegArgs)
				if err != nil {
					t.Fatalf("ffmpeg: %v\n%s\ncamvault:\n%s", err, out, s.logs)
				}
				s.stop()
				checkRecording(t, s, "cam1", tc, start)
			})
		}
	}
}

func TestGStreamerPush(t *testing.T) {
	needTool(t, "gst-launch-1.0", "ffprobe")
	needGstElement(t, "rtspclientsink", "x264enc", "videotestsrc")
	for _, proto := range []string{"tcp", "udp"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "")
			start := time.Now()
			out, err := run(t, 2*time.Minute, "gst-launch-1.0", "-q", "-e",
				"videotestsrc", "is-live=true", fmt.Sprintf("num-buffers=%d", clipFrames), "!",
				fmt.Sprintf("video/x-raw,width=640,height=360,framerate=%d/1", clipFPS), "!",
				"x264enc", "tune=zerolatency", "speed-preset=ultrafast", fmt.Sprintf("key-int-max=%d", clipFPS), "!",
				"video/x-h264,profile=baseline", "!", "h264parse", "!",
				"rtspclientsink", "location=rtsp://"+s.rtsp+"/gstcam", "protocols="+proto)
			if err != nil {
				t.Fatalf("gst-launch: %v\n%s\ncamvault:\n%s", err, out, s.logs)
			}
			s.stop()
			checkRecording(t, s, "gstcam", pushCase{video: "h264"}, start)
		})
	}
}

// checkRecording verifies the one segment a clip push made: index entry,
// codecs, size, frame count, keyframe first, clean decode.
func checkRecording(t *testing.T, s *server, camera string, tc pushCase, pushStart time.Time) {
	t.Helper()
	infos := s.segments(camera)
	if len(infos) != 1 {
		t.Fatalf("%d segments, want 1\n%s", len(infos), s.logs)
	}
	seg := infos[0]
	if d := seg.Start.Sub(pushStart); d < 0 || d > 3*time.Second {
		t.Errorf("segment starts %v after the push began, want 0..3s", d)
	}
	if d := seg.End.Sub(seg.Start); d < (clipSeconds-1)*time.Second || d > (clipSeconds+1)*time.Second {
		t.Errorf("segment spans %v, want about %ds", d, clipSeconds)
	}
	if len(seg.Fragments) == 0 || !seg.Fragments[0].Key {
		t.Errorf("seek table %+v does not start with a keyframe fragment", seg.Fragments)
	}
	file := filepath.Join(s.dir, seg.File)
	p := ffprobe(t, file)
	codec, w, h, frames, ok := p.stream("video")
	if !ok || codec != tc.video || w != 640 || h != 360 {
		t.Errorf("video stream %q %dx%d, want %s 640x360", codec, w, h, tc.video)
	}
	if frames < clipFrames-fragFrames || frames > clipFrames {
		t.Errorf("%d video frames, want %d (at most one fragment less)", frames, clipFrames)
	}
	t.Logf("recorded %d/%d video frames in %d fragments, %v", frames, clipFrames, len(seg.Fragments), seg.End.Sub(seg.Start))
	if tc.audio != "" {
		acodec, _, _, aframes, ok := p.stream("audio")
		if !ok || acodec != tc.audio || aframes == 0 {
			t.Errorf("audio stream %q with %d frames, want %s", acodec, aframes, tc.audio)
		}
	}
	firstVideoFrameIsKey(t, file)
	decodeClean(t, file)
	if strings.Contains(s.logs.String(), "level=ERROR") {
		t.Errorf("camvault logged errors:\n%s", s.logs)
	}
}

//go:build interop

package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/clip"
	"github.com/camvault/camvault/internal/rtsptest"
)

// The live tests push (or have camvault pull) a frame-numbered clip and play
// rtsp://HOST/{camera} while it records: every decoded picture carries its
// frame number, so a player that starts anywhere but at a keyframe, drops a
// frame or shows one twice is seen.
const (
	liveClipSeconds = 8
	// liveEndBound bounds how long a live player may take to end after its
	// publisher exited: camvault sends every viewer an RTCP BYE at once; the
	// bound only allows for a machine busy with other work.
	liveEndBound = 3 * time.Second
)

// liveClip returns an MP4 of seconds of numbered frames (clip.Numbered, numberedW x
// numberedH at numberedFPS) with a keyframe every gop frames, encoded once per run. Each
// keyframe's access unit starts with the parameter sets, as cameras send them: x264 repeats
// them, and its SEI, which it puts before the first frame's, is removed. A strip of the
// moving test pattern along the top gives the P-frames some size; the numbers are read in
// the middle row.
func liveClip(t *testing.T, seconds, gop int) string {
	t.Helper()
	numbered := clip.Numbered(seconds, numberedFPS, fmt.Sprintf("%dx%d", numberedW, numberedH)).Video
	graph := fmt.Sprintf("%s[n];testsrc2=size=%dx%d:rate=%d[m];[n][m]overlay[out0]", numbered, numberedW, numberedH/4, numberedFPS)
	return cachedClip(t, "mp4", []string{"-f", "lavfi", "-i", graph, "-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", fmt.Sprint(gop), "-sc_threshold", "0",
		"-pix_fmt", "yuv420p", "-qp", "12", "-x264-params", "repeat-headers=1", "-bsf:v", "filter_units=remove_types=6"})
}

// pushed is how an ffmpeg push ended.
type pushed struct {
	out   string
	err   error
	ended time.Time
}

// startLivePush pushes file to camera over transport in the background, waits until the
// camera plays live (DESCRIBE answers 200) and returns where the push's end is reported.
func startLivePush(t *testing.T, s *server, camera, transport, file string) <-chan pushed {
	t.Helper()
	done := make(chan pushed, 1)
	go func() {
		_, out, err := ffmpegPushFile(t, "rtsp://"+s.rtsp+"/"+camera, transport, file)
		done <- pushed{out, err, time.Now()}
	}()
	s.waitLive(camera)
	return done
}

// waitLive waits until camera can be played live: DESCRIBE of rtsp://HOST/{camera} gets 200.
func (s *server) waitLive(camera string) {
	s.t.Helper()
	url := "rtsp://" + s.rtsp + "/" + camera
	s.waitFor(30*time.Second, camera+" is live", func() bool {
		resp, err := rawRequest(s.rtsp, "DESCRIBE "+url+" RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n")
		return err == nil && strings.HasPrefix(resp, "RTSP/1.0 200")
	})
}

// livePlay is one real player's run of a live camera.
type livePlay struct {
	name    string
	numbers []int // the numbers of the decoded frames, in order
	stderr  string
	err     error
	ended   time.Time
}

// ffmpegLive plays url with ffmpeg over transport (with more output options) and decodes
// every frame (-fps_mode passthrough). It takes no t: players run in goroutines of their own.
func ffmpegLive(ctx context.Context, url, transport string, opts ...string) livePlay {
	args := append([]string{"-nostdin", "-v", "error", "-rtsp_transport", transport, "-i", url}, opts...)
	args = append(args, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-")
	return decodeLive(ctx, "ffmpeg "+transport, exec.CommandContext(ctx, "ffmpeg", args...))
}

// gstLive plays url with GStreamer's rtspsrc over proto until the end of the stream and
// decodes every frame, as ffmpegLive does.
func gstLive(ctx context.Context, url, proto string) livePlay {
	cmd := exec.CommandContext(ctx, "gst-launch-1.0", "-q", "rtspsrc", "location="+url, "protocols="+proto, "!",
		"rtph264depay", "!", "h264parse", "!", "avdec_h264", "!", "videoconvert", "!", "video/x-raw,format=I420", "!", "fdsink")
	return decodeLive(ctx, "gstreamer "+proto, cmd)
}

// decodeLive runs cmd, which writes I420 frames of numberedW x numberedH to its stdout, and
// reads the number of each frame as it comes.
func decodeLive(ctx context.Context, name string, cmd *exec.Cmd) livePlay {
	p := livePlay{name: name}
	var stderr rtsptest.SyncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		p.err = err
		return p
	}
	if err := cmd.Start(); err != nil {
		p.err = err
		return p
	}
	r := bufio.NewReaderSize(out, 1<<20)
	frame := make([]byte, numberedW*numberedH*3/2)
	var n int
	var readErr error
	for {
		if n, readErr = io.ReadFull(r, frame); readErr != nil {
			break
		}
		p.numbers = append(p.numbers, clip.FrameNumber(frame[:numberedW*numberedH], numberedW, numberedH, numberedFPS))
	}
	p.err = cmd.Wait()
	p.ended = time.Now()
	switch {
	case ctx.Err() != nil:
		p.err = fmt.Errorf("still playing when the test gave up (%v)", p.err)
	case p.err == nil && !errors.Is(readErr, io.EOF):
		p.err = fmt.Errorf("output ends with %d bytes of a frame: %w", n, readErr)
	}
	p.stderr = stderr.String()
	return p
}

// checkLivePlay checks a player's run: it exited cleanly, printed nothing (ffmpeg -v error,
// gst-launch -q), and decoded frames in order without a gap, the first a keyframe (every
// gop frames; the cached one it started on) and, when last >= 0, the last one numbered last.
func checkLivePlay(t *testing.T, p livePlay, gop, last int) {
	t.Helper()
	if p.err != nil || p.stderr != "" {
		t.Errorf("%s: %v\n%s", p.name, p.err, p.stderr)
	}
	if len(p.numbers) == 0 {
		t.Errorf("%s decoded no frames", p.name)
		return
	}
	first := p.numbers[0]
	if first%gop != 0 {
		t.Errorf("%s: first frame is number %d, not a keyframe (one every %d frames)", p.name, first, gop)
	}
	for i := 1; i < len(p.numbers); i++ {
		if p.numbers[i] != p.numbers[i-1]+1 {
			t.Errorf("%s: frame %d is number %d after %d", p.name, i, p.numbers[i], p.numbers[i-1])
			break
		}
	}
	if got := p.numbers[len(p.numbers)-1]; last >= 0 && got != last {
		t.Errorf("%s: last frame is number %d, want %d", p.name, got, last)
	}
	t.Logf("%s: frames %d to %d", p.name, first, p.numbers[len(p.numbers)-1])
}

// TestLiveRealClients pushes a frame-numbered clip with ffmpeg over TCP and, in a second
// case, UDP; while it pushes, ffmpeg and GStreamer (rtspsrc) play the camera live, each over
// TCP and over UDP, until it stops; they join one after the other, a group of pictures or
// so apart (a fragment more on disk). Each must decode without an error line, from a
// keyframe on, every frame in order up to the clip's last, and end by itself promptly once
// the publisher stopped (the RTCP BYE), camvault logging each viewer's stop. The pull case
// has camvault pull the clip from GStreamer's RTSP server and ffmpeg play it live for 4 s
// from the middle, with the same checks.
func TestLiveRealClients(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "gst-launch-1.0")
	needGstElement(t, "rtspsrc", "rtph264depay", "h264parse", "avdec_h264", "fdsink")
	for _, transport := range []string{"tcp", "udp"} {
		t.Run("push-"+transport, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "")
			push := startLivePush(t, s, "cam", transport, liveClip(t, liveClipSeconds, numberedFPS))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			url := "rtsp://" + s.rtsp + "/cam"
			players := []func() livePlay{
				func() livePlay { return ffmpegLive(ctx, url, "tcp") },
				func() livePlay { return ffmpegLive(ctx, url, "udp") },
				func() livePlay { return gstLive(ctx, url, "tcp") },
				func() livePlay { return gstLive(ctx, url, "udp") },
			}
			playWhilePushed(t, push, cancel, players, func(i int) {
				if i > 0 {
					s.waitFragments("cam", i)
				}
			})
			s.waitLogLines(20*time.Second, len(players), `msg="live viewer stopped"`, "camera=cam")
			t.Logf("viewers stopped:\n%s", logLines(s.logs.String(), `msg="live viewer stopped"`))
		})
	}
	t.Run("pull", func(t *testing.T) {
		t.Parallel()
		cam := startGstFileCamera(t, liveClip(t, instantClipSeconds, instantGOP))
		s := startServer(t, fmt.Sprintf("cameras:\n  pulled:\n    url: rtsp://%s/file\n", cam))
		s.waitFragments("pulled", 1) // the second keyframe came: join after it
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		play := ffmpegLive(ctx, "rtsp://"+s.rtsp+"/pulled", "tcp", "-t", "4")
		checkLivePlay(t, play, instantGOP, -1)
		if n := len(play.numbers); n < 4*numberedFPS-1 {
			t.Errorf("%d frames in 4 s", n)
		}
	})
}

// playWhilePushed starts the players, each after start(i) returned (which may wait), waits
// for the push and every player to end, and checks that each decoded the whole clip (see
// checkLivePlay) and ended within liveEndBound of its publisher. A failure in start cancels
// the players' context (cancel) before waiting for them.
func playWhilePushed(t *testing.T, push <-chan pushed, cancel context.CancelFunc, players []func() livePlay, start func(i int)) {
	t.Helper()
	plays := make([]livePlay, len(players))
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	for i, play := range players {
		if start != nil {
			start(i)
		}
		wg.Go(func() { plays[i] = play() })
	}
	p := <-push // bounded by ffmpegPushFile's timeout
	wg.Wait()
	if p.err != nil {
		t.Fatalf("ffmpeg push: %v\n%s", p.err, p.out)
	}
	for _, play := range plays {
		checkLivePlay(t, play, numberedFPS, liveClipSeconds*numberedFPS-1)
		if d := play.ended.Sub(p.ended); d > liveEndBound {
			t.Errorf("%s ended %v after the publisher, want within %v", play.name, d.Round(time.Millisecond), liveEndBound)
		}
	}
}

// logLines returns the lines of log that contain part.
func logLines(log, part string) string {
	var b strings.Builder
	for line := range strings.Lines(log) {
		if strings.Contains(line, part) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestLiveOnDemand: a camera marked on_demand is not pulled until a viewer
// asks for it; ffmpeg's DESCRIBE then starts the pull from the GStreamer RTSP
// server and plays from the camera's first keyframe, every frame in order;
// pull.on_demand_linger after the viewer left, the camera is released, and
// nothing of it was recorded.
func TestLiveOnDemand(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg")
	cam := startGstFileCamera(t, liveClip(t, instantClipSeconds, instantGOP))
	s := startServer(t, fmt.Sprintf("pull:\n  on_demand_linger: 1s\ncameras:\n  gate:\n    url: rtsp://%s/file\n    on_demand: true\n", cam))
	if strings.Contains(s.logs.String(), "camera=gate") && strings.Contains(s.logs.String(), "state=connecting") {
		t.Fatalf("an on-demand camera was pulled before a viewer came:\n%s", s.logs)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	began := time.Now()
	play := ffmpegLive(ctx, "rtsp://"+s.rtsp+"/gate", "tcp", "-t", "3")
	checkLivePlay(t, play, instantGOP, -1)
	if n := len(play.numbers); n < 3*numberedFPS-1 {
		t.Errorf("%d frames in 3 s", n)
	}
	s.waitLogLine(30*time.Second, `msg="camera state"`, "camera=gate", "state=live")
	s.waitLogLine(30*time.Second, `msg="camera state"`, "camera=gate", "state=idle")
	t.Logf("on-demand play of 3 s took %v from ffmpeg's start to the camera's release", time.Since(began).Round(time.Millisecond))
	s.stop()
	if segs := s.segments("gate"); len(segs) != 0 {
		t.Errorf("an on-demand camera recorded %d segments", len(segs))
	}
}

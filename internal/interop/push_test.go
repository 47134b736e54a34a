//go:build interop

package interop

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
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
			// No -e: num-buffers ends the stream by itself, and SIGINT must
			// stop the pipeline (PAUSE, TEARDOWN) rather than send a second
			// EOS, see gstPublish.
			out, recovered, err := gstPublish(t, 2*time.Minute,
				"videotestsrc", "is-live=true", fmt.Sprintf("num-buffers=%d", clipFrames), "!",
				fmt.Sprintf("video/x-raw,width=640,height=360,framerate=%d/1", clipFPS), "!",
				"x264enc", "tune=zerolatency", "speed-preset=ultrafast", fmt.Sprintf("key-int-max=%d", clipFPS), "!",
				"video/x-h264,profile=baseline", "!", "h264parse", "!",
				"rtspclientsink", "location=rtsp://"+s.rtsp+"/gstcam", "protocols="+proto)
			if err != nil && gstTeardownCancelled(err, out) {
				t.Logf("rtspclientsink failed a write it had cancelled itself after EOS (gstTeardownCancelled): %v", err)
				err = nil
			}
			if err != nil {
				t.Fatalf("gst-launch: %v\n%s\ncamvault:\n%s", err, gstSummary(out), s.logs)
			}
			if recovered {
				t.Logf("GStreamer rtpsession sent its RTCP BYE but never forwarded EOS (gstLostRTCPEOS): " +
					"gst-launch was stopped with SIGINT after the whole clip had been sent")
			}
			s.stop()
			// The recording is checked in full either way: a stop after the
			// lost EOS must not hide missing media.
			checkRecording(t, s, "gstcam", pushCase{video: "h264"}, start)
		})
	}
}

// GStreamer (seen with 1.22.0; gst-plugins-good gst/rtpmanager/gstrtpsession.c)
// can lose the end of stream of an RTP sender: rtspclientsink then never
// posts EOS, and gst-launch waits forever, sending RTCP every few seconds and
// never PAUSE or TEARDOWN, although the whole clip was sent. The race is
// inside the client, whatever the server does: it happened in 13 of 30 TCP
// runs against a stub server that answers 200 and sends nothing else (4 of
// 30 against camvault, on 2 CPUs), and in every run, TCP or UDP, when the
// streaming thread was held for 20 ms in the window below.
//
// gst_rtp_session_event_send_rtp_sink handles EOS by pushing it on
// send_rtp_src, then rtp_session_mark_all_bye and rtp_session_schedule_bye,
// which wakes the RTCP thread. That thread sends the BYE through
// gst_rtp_session_send_rtcp, which forwards EOS on send_rtcp_src only
// "if (all_sources_bye && rtpsession->send_rtp_sink &&
// GST_PAD_IS_EOS (rtpsession->send_rtp_sink))". But the pad's EOS flag is
// set by store_sticky_event, which gst_pad_send_event_unchecked (gstpad.c)
// calls only "after the event function accepted the event", i.e. after the
// handler has returned. If the RTCP thread gets there first, no EOS is
// forwarded, the next round removes the internal sources that sent BYE, so
// all_sources_bye is never true again, and the RTCP sink never gets EOS.
//
// gstLostRTCPEOS tells this case from any other hang by three markers in
// the output: gstByeScheduled, logged by the EOS handler, and gstByeGone,
// logged by the RTCP thread in the round after the one that sent the BYE
// (both rtpsession DEBUG, GST_DEBUG=rtpsession:5), show that the whole
// clip and the BYE went out; gstPipelineEOS, printed by gst-launch when the
// pipeline posts EOS, which it does within milliseconds of the BYE round
// when the EOS was forwarded. A publisher stuck for any other reason (no
// BYE sent, or EOS reached and PAUSE or TEARDOWN unanswered) does not match.
const (
	gstByeScheduled = "scheduling BYE message"
	gstByeGone      = "removing internal source that has sent BYE"
	gstPipelineEOS  = `Got EOS from element "pipeline0"`
	gstLostEOSGrace = 3 * time.Second // how long the markers must hold before SIGINT
)

// gstLostRTCPEOS reports whether gst-launch output shows the lost EOS.
func gstLostRTCPEOS(out string) bool {
	return strings.Contains(out, gstByeScheduled) && strings.Contains(out, gstByeGone) &&
		!strings.Contains(out, gstPipelineEOS)
}

// gstPublish runs gst-launch-1.0 until it exits or timeout passes, with the
// output gstLostRTCPEOS and gstTeardownCancelled need (so args must not
// hold -q). When the output
// shows the lost EOS for gstLostEOSGrace, it sends SIGINT: without -e,
// gst-launch then stops the pipeline and rtspclientsink sends PAUSE and
// TEARDOWN as it does after a normal EOS. recovered reports that it did so.
// Any other hang runs into timeout and is an error.
func gstPublish(t *testing.T, timeout time.Duration, args ...string) (out string, recovered bool, err error) {
	t.Helper()
	var buf syncBuffer
	cmd := exec.Command("gst-launch-1.0", args...)
	cmd.Env = append(os.Environ(), "GST_DEBUG=rtpsession:5,default:2,rtspconnection:2", "GST_DEBUG_NO_COLOR=1",
		"LC_ALL=C", "LANGUAGE=")
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return "", false, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lostAt time.Time
	for {
		select {
		case err := <-exited:
			return buf.String(), recovered, err
		case <-deadline.C:
			_ = cmd.Process.Kill() // reported below; Wait reaps it
			<-exited
			return buf.String(), recovered, fmt.Errorf("gst-launch still running after %v (recovered from lost EOS: %v)", timeout, recovered)
		case now := <-tick.C:
			if recovered || !gstLostRTCPEOS(buf.String()) {
				lostAt = time.Time{}
				continue
			}
			if lostAt.IsZero() {
				lostAt = now
			}
			if now.Sub(lostAt) < gstLostEOSGrace {
				continue
			}
			recovered = true
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Logf("SIGINT to gst-launch: %v", err)
			}
			deadline.Reset(20 * time.Second) // PAUSE and TEARDOWN take milliseconds
		}
	}
}

// A second GStreamer 1.22 race, after EOS, makes gst-launch exit 1 with
// "Could not send message. (Received end-of-file)" although nothing was
// lost and the server answered everything (in 2 of 30 runs with both
// subtests in parallel). When gst-launch stops the pipeline,
// rtspclientsink's state change queues PAUSE and then CLOSE, and
// gst_rtsp_client_sink_loop_send_cmd interrupts the busy command with
// gst_rtsp_client_sink_connection_flush, which cancels every blocking
// operation on the RTSP connection. A write in flight at that moment, the
// PAUSE request or (over TCP) an interleaved RTCP packet from the stream's
// sender thread, fails with G_IO_ERROR_CANCELLED. writev_bytes
// (gstrtspconnection.c) logs the GError ("Operation was cancelled") and,
// as nothing was written, returns GST_RTSP_EEOF instead of GST_RTSP_EINTR,
// so gst_rtsp_client_sink_try_send posts an ERROR instead of ignoring it.
//
// gstTeardownCancelled accepts exactly that: exit status 1, the pipeline
// had reached EOS before the first error, every error is this send
// failure, and every failed socket write was a cancellation, which a peer
// closing or resetting the connection is not ("Broken pipe",
// "Connection reset by peer").
func gstTeardownCancelled(err error, out string) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		return false
	}
	var errs, sendEOF, writes, cancels int
	eos := false
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		switch {
		case strings.Contains(line, gstPipelineEOS):
			eos = true
		case strings.HasPrefix(line, "ERROR: from element "):
			if !eos {
				return false
			}
			errs++
		case line == "Could not send message. (Received end-of-file)":
			sendEOF++
		case strings.Contains(line, "writev_bytes: "):
			writes++
			if strings.HasSuffix(line, "writev_bytes: Operation was cancelled") {
				cancels++
			}
		}
	}
	return errs > 0 && errs == sendEOF && cancels > 0 && writes == cancels
}

// gstSummary is gst-launch output without the rtpsession debug lines, but
// with the end-of-stream markers, for failure messages.
func gstSummary(out string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if !strings.Contains(line, " rtpsession ") || strings.Contains(line, gstByeScheduled) ||
			strings.Contains(line, gstByeGone) {
			b.WriteString(line)
		}
	}
	return b.String()
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

//go:build interop

package interop

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// startFFmpegPush starts a long real-time push over TCP in the background.
func startFFmpegPush(t *testing.T, ctx context.Context, url string, seconds int) *exec.Cmd {
	return startFFmpegPushOver(t, ctx, url, "tcp", seconds)
}

// startFFmpegPushOver starts a long real-time push over transport in the
// background.
func startFFmpegPushOver(t *testing.T, ctx context.Context, url, transport string, seconds int) *exec.Cmd {
	t.Helper()
	args := []string{"-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc2=size=640x360:rate=%d", clipFPS), "-re", "-f", "lavfi", "-i",
		"sine=frequency=440:sample_rate=48000", "-t", fmt.Sprint(seconds)}
	args = append(args, x264Baseline...)
	args = append(args, "-c:a", "aac", "-b:a", "64k", "-f", "rtsp", "-rtsp_transport", transport, url)
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestCrashRepair kills camvault with SIGKILL while ffmpeg pushes, starts it
// again, and checks that start-up repair sealed the segment losing at most
// the fragment being written, that the file decodes cleanly, and that the
// index agrees with a rebuild from the files.
func TestCrashRepair(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "ffprobe")
	s := startServer(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	push := startFFmpegPush(t, ctx, "rtsp://"+s.rtsp+"/crashcam", 30)
	pushStart := time.Now()
	s.waitFragments("crashcam", 7)                                // some seconds on disk
	time.Sleep(time.Duration(rand.IntN(1000)) * time.Millisecond) // a random moment in the next fragment
	_, onDisk := s.newestSegmentFile("crashcam")
	s.kill()
	killedAfter := time.Since(pushStart)
	cancel()
	_ = push.Wait()

	s.start() // repairs at start-up
	s.stop()
	infos := s.segments("crashcam")
	if len(infos) != 1 || infos[0].State != storage.StateSealed {
		t.Fatalf("segments after repair: %+v\n%s", infos, s.logs)
	}
	file := filepath.Join(s.dir, infos[0].File)
	_, _, _, frames, _ := ffprobe(t, file).stream("video")
	// Repair loses at most the fragment being written: every fragment whole on disk at the
	// kill is kept. How far the recording ends before the kill is not bounded: on a busy
	// machine ffmpeg itself falls behind real time, and its lag is only logged.
	if len(infos[0].Fragments) < onDisk {
		t.Errorf("the repaired segment holds %d fragments, %d were whole on disk at the kill", len(infos[0].Fragments), onDisk)
	}
	sent := int(killedAfter.Seconds() * clipFPS)
	if frames > sent {
		t.Errorf("recovered %d frames; at most %d were sent before the kill", frames, sent)
	}
	t.Logf("killed after %v (~%d frames sent), recovered %d frames in %d fragments", killedAfter.Round(time.Millisecond), sent, frames, len(infos[0].Fragments))
	firstVideoFrameIsKey(t, file)
	decodeClean(t, file)

	rep, err := storage.Reindex(storage.Config{Dir: s.dir})
	if err != nil || rep.Segments != 1 || len(rep.Skipped) != 0 {
		t.Fatalf("reindex: %+v %v", rep, err)
	}
	again := s.segments("crashcam")
	if len(again) != 1 || !again[0].Start.Equal(infos[0].Start) || again[0].Bytes != infos[0].Bytes ||
		len(again[0].Fragments) != len(infos[0].Fragments) {
		t.Errorf("index after reindex %+v differs from repaired %+v", again, infos)
	}
}

// TestGarbageDoesNotDisturbRecording throws garbage, oversized headers,
// truncated interleaved frames and half-open connections at the server while
// ffmpeg pushes, and checks that every frame of the push is recorded.
func TestGarbageDoesNotDisturbRecording(t *testing.T) {
	pushDuring(t, "victim", "tcp", func(ctx context.Context, s *server) { abuse(ctx, s.rtsp) })
}

// pushDuring runs attack in the background while ffmpeg pushes a clip with
// audio to camera over transport, then checks that the recording holds every
// frame. It returns the stopped server.
func pushDuring(t *testing.T, camera, transport string, attack func(context.Context, *server)) *server {
	t.Helper()
	needTool(t, "ffmpeg", "ffprobe")
	s := startServer(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { attack(ctx, s) })
	start, out, err := ffmpegPush(t, "rtsp://"+s.rtsp+"/"+camera, transport, true,
		append(append([]string{}, x264Baseline...), "-c:a", "aac", "-b:a", "64k"))
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s\n%s", err, out, s.logs)
	}
	s.waitPublisherGone(camera)
	s.stop()
	checkRecording(t, s, camera, pushCase{video: "h264", audio: "aac"}, start)
	return s
}

// abuse keeps opening connections that misbehave until ctx ends. Every
// connection is bounded by a deadline; at most a few are open at a time.
func abuse(ctx context.Context, addr string) {
	payloads := [][]byte{
		[]byte("\x00\xff\xfe garbage \r\n\r\n"),
		append([]byte("OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\nX-Big: "), make([]byte, 40000)...),
		[]byte("$\x00\xff\xff\x80\x60"), // truncated interleaved frame
		[]byte("ANNOUNCE rtsp://x/victim RTSP/1.0\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 99999999\r\n\r\nv=0"),
		[]byte("SETUP rtsp://x/victim/streamid=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n"),
		[]byte("RECORD rtsp://x/victim RTSP/1.0\r\nCSeq: 4\r\nSession: 0123456789abcdef\r\n\r\n"),
		[]byte("OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 5\r\n"), // half-open: never finishes
		[]byte("ANNOUNCE rtsp://x/../../etc/passwd RTSP/1.0\r\nCSeq: 6\r\nContent-Type: application/sdp\r\nContent-Length: 3\r\n\r\nv=0"),
	}
	for i := 0; ctx.Err() == nil && i < 2000; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
		_, _ = c.Write(payloads[i%len(payloads)])
		buf := make([]byte, 512)
		_, _ = c.Read(buf)
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
}

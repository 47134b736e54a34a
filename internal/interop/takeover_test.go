//go:build interop

package interop

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// takeoverUsers turns takeover on and gives "door" and "admin" the
// publish right on camera door and "intruder" on nothing of it.
func takeoverUsers(t *testing.T) string {
	t.Helper()
	return "ingest:\n  takeover: true\n" +
		usersYAML(t, []testUser{{"door", "publish", "door"}, {"admin", "publish", "*"}, {"intruder", "publish", "lobby"}})
}

// TestTakeoverNeedsTheRight covers issue 9 row 8 with ingest.takeover on:
// a publisher without the publish right on a recording camera is refused
// and changes nothing; one with the right takes over, the replaced
// publisher sees its connection closed, and what it recorded until then
// is kept whole in its own segment.
func TestTakeoverNeedsTheRight(t *testing.T) {
	needTool(t, "ffmpeg", "ffprobe")
	s := startServer(t, takeoverUsers(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := func(user string) string {
		return "rtsp://" + user + ":" + reverse(user) + "@" + s.rtsp + "/door"
	}
	first := startFFmpegPushOver(t, ctx, url("door"), "tcp", 30)
	firstStart := time.Now()
	s.waitLogLine(20*time.Second, `msg="recording started"`, "camera=door")

	out, err := run(t, time.Minute, "ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
		"testsrc2=size=640x360:rate=25", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-f", "rtsp",
		"-rtsp_transport", "tcp", url("intruder"))
	if err == nil || !strings.Contains(out, "403") {
		t.Fatalf("intruder without the right: %v\n%s", err, out)
	}
	seen := s.waitFragments("door", 3)
	takeStart, out, err := ffmpegPush(t, url("admin"), "tcp", true,
		append(append([]string{}, x264Baseline...), "-c:a", "aac", "-b:a", "64k"))
	if err != nil {
		t.Fatalf("takeover by admin: %v\n%s\n%s", err, out, s.logs)
	}
	if err := first.Wait(); err == nil || ctx.Err() != nil {
		t.Fatalf("the replaced publisher ended without an error: %v", err)
	}
	s.waitLogLines(time.Minute, 2, `msg="publisher gone"`, "camera=door")
	s.stop()
	segs := s.segments("door")
	if len(segs) != 2 {
		t.Fatalf("%d segments, want the replaced publisher's and the new one's\n%s", len(segs), s.logs)
	}
	t.Logf("replaced %v after the first push began", takeStart.Sub(firstStart).Round(time.Millisecond))
	for i, seg := range segs {
		file := filepath.Join(s.dir, seg.File)
		_, _, _, frames, _ := ffprobe(t, file).stream("video")
		span := seg.End.Sub(seg.Start)
		if want := int(span.Seconds() * clipFPS); frames < want-2 || frames > want+2 {
			t.Errorf("segment %d: %d frames over %v, want about %d", i, frames, span, want)
		}
		firstVideoFrameIsKey(t, file)
		decodeClean(t, file)
		t.Logf("segment %d: %d frames, %v", i, frames, span.Round(time.Millisecond))
	}
	if n := len(segs[0].Fragments); n < seen {
		t.Errorf("the replaced publisher's segment holds %d fragments, %d were on disk before the takeover", n, seen)
	}
	if _, _, _, frames, _ := ffprobe(t, filepath.Join(s.dir, segs[1].File)).stream("video"); frames < clipFrames-fragFrames {
		t.Errorf("the new publisher recorded %d of %d frames", frames, clipFrames)
	}
}

// waitFragments waits until the newest segment file of camera holds at
// least n fragments on disk and returns how many it holds.
func (s *server) waitFragments(camera string, n int) int {
	s.t.Helper()
	var have int
	s.waitFor(30*time.Second, fmt.Sprintf("%s: %d fragments on disk", camera, n), func() bool {
		have = s.fragmentsOnDisk(camera)
		return have >= n
	})
	return have
}

// fragmentsOnDisk counts the whole fragments in the newest segment file of camera.
func (s *server) fragmentsOnDisk(camera string) int {
	_, n := s.newestSegmentFile(camera)
	return n
}

// waitNewFragment waits until camera's newest segment file is not old and holds a whole
// fragment.
func (s *server) waitNewFragment(camera, old string) {
	s.t.Helper()
	s.waitFor(30*time.Second, camera+": a fragment in a new segment file on disk", func() bool {
		file, n := s.newestSegmentFile(camera)
		return file != old && n > 0
	})
}

// newestSegmentFile returns the newest segment file of camera and how many whole fragments
// (a moof and the mdat after it) it holds; a fragment cut short by a crash does not count.
func (s *server) newestSegmentFile(camera string) (string, int) {
	files, _ := filepath.Glob(filepath.Join(s.dir, "recordings", camera, "*", "*.mp4"))
	if len(files) == 0 {
		return "", 0
	}
	file := files[len(files)-1]
	b, err := os.ReadFile(file)
	if err != nil {
		return file, 0
	}
	n, moof := 0, false
	for len(b) >= 8 {
		size, typ := uint64(binary.BigEndian.Uint32(b)), string(b[4:8])
		if size == 1 && len(b) >= 16 {
			size = binary.BigEndian.Uint64(b[8:])
		}
		if size < 8 || size > uint64(len(b)) {
			break
		}
		if typ == "mdat" && moof {
			n++
		}
		moof = typ == "moof"
		b = b[size:]
	}
	return file, n
}

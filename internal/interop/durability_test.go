//go:build interop

package interop

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/storage"
)

// startNoisyPush starts a real-time ffmpeg push of a hard-to-compress
// picture, so the recording grows at about bitrate.
func startNoisyPush(t *testing.T, ctx context.Context, url string, seconds int, bitrate string) *exec.Cmd {
	t.Helper()
	args := []string{"-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc2=size=640x360:rate=%d,noise=alls=30:allf=t", clipFPS), "-t", fmt.Sprint(seconds)}
	args = append(args, x264Baseline...)
	args = append(args, "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate,
		"-f", "rtsp", "-rtsp_transport", "tcp", url)
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// checkArchive runs `camvault check` on the stopped server's data directory
// and fails unless it reports a clean archive.
func checkArchive(t *testing.T, s *server) string {
	t.Helper()
	out, err := run(t, 2*time.Minute, camvaultBinary(t), "check", "-config", s.config)
	if err != nil {
		t.Errorf("camvault check: %v\n%s", err, out)
	}
	return out
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory and unmounts it
// when the test ends. It needs root; outside CI a non-root run skips.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the disk-full test needs root in CI (it mounts a small tmpfs)")
		}
		t.Skip("not root: cannot mount a small file system")
	}
	dir := t.TempDir()
	if out, err := run(t, 10*time.Second, "mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0755", size), "tmpfs", dir); err != nil {
		t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := run(t, 10*time.Second, "umount", dir); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	return dir
}

// TestDiskFullKeepsRecording pushes three cameras into a 48 MiB file
// system until it fills. The retention pass runs only once a minute, so the
// writes themselves hit ENOSPC: storage must free the oldest segments and go
// on. At the end every camera is still recording, old segments are gone, and
// `camvault check` finds index and files in agreement.
func TestDiskFullKeepsRecording(t *testing.T) {
	needTool(t, "ffmpeg", "ffprobe")
	disk := mountTmpfs(t, 48<<20)
	s := startServerLater(t, "recorder:\n  segment_duration: 4s\nretention:\n  min_free: 2MiB\n  interval: 1h\n")
	s.dir = filepath.Join(disk, "data")
	rewriteDataDir(t, s)
	s.start()
	defer s.stop()

	const seconds = 50
	cams := []string{"full1", "full2", "full3"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pushStart := time.Now()
	var wg sync.WaitGroup
	for _, cam := range cams {
		cmd := startNoisyPush(t, ctx, "rtsp://"+s.rtsp+"/"+cam, seconds, "3M")
		wg.Go(func() { _ = cmd.Wait() })
	}
	wg.Wait()
	pushEnd := time.Now()
	s.stop()
	logs := s.logs.String()
	if !strings.Contains(logs, "no space") && !strings.Contains(logs, "disk full") {
		t.Errorf("the file system never filled (no ENOSPC in the log); raise the bitrate or shrink the mount\n%s", logs)
	}
	for _, cam := range cams {
		infos := s.segments(cam)
		if len(infos) == 0 {
			t.Fatalf("%s: no segments left\n%s", cam, logs)
		}
		first, last := infos[0], infos[len(infos)-1]
		if first.Start.Sub(pushStart) < 4*time.Second {
			t.Errorf("%s: the oldest segment (%v after the push started) survived a full disk", cam, first.Start.Sub(pushStart))
		}
		// Recording went on to the end of the push.
		if lag := pushEnd.Sub(last.End); lag > 4*time.Second {
			t.Errorf("%s: the newest segment ends %v before the push did", cam, lag)
		}
		file := filepath.Join(s.dir, last.File)
		if _, _, _, frames, _ := ffprobe(t, file).stream("video"); frames == 0 {
			t.Errorf("%s: newest segment holds no frame", cam)
		}
		decodeClean(t, file)
		t.Logf("%s: %d segments kept, %v .. %v of the push", cam, len(infos),
			first.Start.Sub(pushStart).Round(time.Millisecond), last.End.Sub(pushStart).Round(time.Millisecond))
	}
	t.Logf("check: %s", strings.TrimSpace(checkArchive(t, s)))
	if t.Failed() {
		t.Logf("camvault log:\n%s", logs)
	}
}

// rewriteDataDir points the server's config file at s.dir.
func rewriteDataDir(t *testing.T, s *server) {
	t.Helper()
	b, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 2)
	if !strings.HasPrefix(lines[0], "data_dir: ") {
		t.Fatalf("config does not start with data_dir: %q", lines[0])
	}
	if err := os.WriteFile(s.config, []byte("data_dir: "+s.dir+"\n"+lines[1]), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCrashLoop kills camvault with SIGKILL at a random moment 20 times
// while three ffmpeg pushes run, restarting it each time. A crash may lose
// only what was not yet on disk: every fragment that was whole in the
// segment file at the kill must be in the repaired segment, sealed and
// decodable. How far the repaired segment ends before the kill is only
// logged (ffmpeg itself falls behind real time on a busy machine). Each round
// waits until a fragment of it is on disk before it picks its random moment. At the end
// `camvault check` is clean.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "ffprobe")
	const rounds = 20
	cams := []string{"loop1", "loop2", "loop3"}
	s := startServerLater(t, "")
	t.Cleanup(func() { s.stop() })
	type crash struct {
		started, killed time.Time
		onDisk          map[string]int // whole fragments of each camera's segment at the kill
	}
	var crashes []crash
	prev := map[string]string{} // each camera's newest segment file at the last kill
	for range rounds {
		s.start()
		ctx, cancel := context.WithCancel(context.Background())
		started := time.Now()
		var cmds []*exec.Cmd
		for _, cam := range cams {
			cmds = append(cmds, startFFmpegPush(t, ctx, "rtsp://"+s.rtsp+"/"+cam, 60))
		}
		for _, cam := range cams {
			// Something of this round is on disk: a new segment file with a whole fragment.
			s.waitNewFragment(cam, prev[cam])
		}
		time.Sleep(time.Duration(1000+rand.IntN(2500)) * time.Millisecond) // a random moment
		c := crash{started: started, onDisk: map[string]int{}}
		for _, cam := range cams {
			prev[cam], c.onDisk[cam] = s.newestSegmentFile(cam)
		}
		s.kill()
		c.killed = time.Now()
		crashes = append(crashes, c)
		cancel()
		for _, c := range cmds {
			_ = c.Wait()
		}
	}
	s.start() // repairs the last crash
	s.stop()
	var worst time.Duration
	for _, cam := range cams {
		infos := s.segments(cam)
		for i, c := range crashes {
			// The last segment that started in this round.
			var last *storage.SegmentInfo
			for j := range infos {
				if infos[j].Start.After(c.started) && infos[j].Start.Before(c.killed) {
					last = &infos[j]
				}
			}
			if last == nil {
				t.Errorf("%s round %d: nothing recorded in %v before the kill", cam, i, c.killed.Sub(c.started))
				continue
			}
			if last.State != storage.StateSealed {
				t.Errorf("%s round %d: segment left %v", cam, i, last.State)
			}
			if len(last.Fragments) < c.onDisk[cam] {
				t.Errorf("%s round %d: the repaired segment holds %d fragments, %d were whole on disk at the kill",
					cam, i, len(last.Fragments), c.onDisk[cam])
			}
			// How far the recording ends before the kill is not bounded: on a busy
			// machine ffmpeg itself falls behind real time. What was on disk counts.
			worst = max(worst, c.killed.Sub(last.End))
		}
		for _, seg := range infos {
			if seg.Start.After(crashes[rounds-1].started) {
				decodeClean(t, filepath.Join(s.dir, seg.File))
			}
		}
	}
	t.Logf("%d crashes x %d cameras; the latest recorded instant was at worst %v before the kill", rounds, len(cams), worst.Round(time.Millisecond))
	t.Logf("check: %s", strings.TrimSpace(checkArchive(t, s)))
}

// spans lists every camera's segments as comparable text.
func spans(t *testing.T, s *server, cams ...string) string {
	t.Helper()
	var b strings.Builder
	for _, cam := range cams {
		for _, seg := range s.segments(cam) {
			fmt.Fprintf(&b, "%s %s %s %s %d bytes %d fragments %v\n", cam, seg.File, seg.Start.Format(time.RFC3339Nano),
				seg.End.Format(time.RFC3339Nano), seg.Bytes, len(seg.Fragments), seg.State)
		}
	}
	return b.String()
}

// describeRange returns the a=range lines of camvault's DESCRIBE of a
// camera's archive.
func describeRange(t *testing.T, s *server, cam string) string {
	t.Helper()
	p := rtsptest.DialPlayer(t, s.rtsp)
	defer p.Conn.Close()
	body := p.Do("DESCRIBE", "rtsp://"+s.rtsp+"/archive/"+cam, []string{"Accept: application/sdp"}, "").Body
	var ranges []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "a=range:") {
			ranges = append(ranges, strings.TrimSpace(l))
		}
	}
	if len(ranges) == 0 {
		t.Fatalf("DESCRIBE of %s has no a=range:\n%s", cam, body)
	}
	return strings.Join(ranges, " ")
}

// sealedRange waits until camvault has ended camera's publication and its
// last segment is sealed in the index, then returns describeRange. The seal
// reaches the index after "publisher gone" is logged (the recorder does not
// wait for the disk), so until then the archive is still growing: its range
// is open ("npt=0-").
func sealedRange(t *testing.T, s *server, cam string) string {
	t.Helper()
	s.waitPublisherGone(cam)
	var r string
	s.waitFor(30*time.Second, cam+": a closed a=range in the archive's DESCRIBE", func() bool {
		r = describeRange(t, s, cam)
		return !strings.Contains(r, "npt=0- ")
	})
	return r
}

// TestIndexDeletedIsRebuilt deletes index.db while camvault is stopped.
// The next start rebuilds it from the files: every segment is back with the
// same spans, and playback gives the same window.
func TestIndexDeletedIsRebuilt(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "ffprobe")
	s := startServer(t, "recorder:\n  segment_duration: 2s\n")
	cams := []string{"idx1", "idx2"}
	var wg sync.WaitGroup
	for _, cam := range cams {
		wg.Go(func() {
			if _, out, err := ffmpegPush(t, "rtsp://"+s.rtsp+"/"+cam, "tcp", true,
				append(append([]string{}, x264Baseline...), "-c:a", "aac", "-b:a", "64k")); err != nil {
				t.Errorf("ffmpeg %s: %v\n%s", cam, err, out)
			}
		})
	}
	wg.Wait()
	before := map[string]string{}
	for _, cam := range cams {
		before[cam] = sealedRange(t, s, cam)
	}
	s.stop()
	want := spans(t, s, cams...)
	if strings.Count(want, "\n") < 4 {
		t.Fatalf("too few segments recorded:\n%s", want)
	}
	if err := os.Remove(filepath.Join(s.dir, "index.db")); err != nil {
		t.Fatal(err)
	}
	s.start()
	if !strings.Contains(s.logs.String(), "rebuil") {
		t.Errorf("start-up log does not mention the rebuild:\n%s", s.logs)
	}
	for _, cam := range cams {
		if got := describeRange(t, s, cam); got != before[cam] {
			t.Errorf("%s: archive plays as %q after the rebuild, %q before", cam, got, before[cam])
		}
	}
	s.stop()
	if got := spans(t, s, cams...); got != want {
		t.Errorf("segments after the rebuild:\n%s\nbefore:\n%s", got, want)
	}
	checkArchive(t, s)
}

// TestWrongDiskIsRefused starts camvault on a data directory whose index.db
// belongs to another one (a restored backup, a swapped disk). It must refuse
// to start, say what to do, and leave every file alone; after `camvault
// reindex` it starts and lists the directory's own recordings.
func TestWrongDiskIsRefused(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg")
	a := startServer(t, "")
	b := startServer(t, "")
	for _, s := range []*server{a, b} {
		if _, out, err := ffmpegPush(t, "rtsp://"+s.rtsp+"/disk", "tcp", false, x264Baseline); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		s.waitPublisherGone("disk")
		s.stop()
	}
	want := spans(t, b, "disk")
	idx, err := os.ReadFile(filepath.Join(a.dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "index.db"), idx, 0o640); err != nil {
		t.Fatal(err)
	}
	files := func() string {
		out, _ := run(t, 10*time.Second, "find", filepath.Join(b.dir, "recordings"), "-type", "f", "-printf", "%P %s\n")
		return out
	}
	filesBefore := files()
	out, err := run(t, 30*time.Second, camvaultBinary(t), "serve", "-config", b.config)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
		t.Fatalf("camvault on a data directory with another one's index: %v, want a refusal\n%s", err, out)
	}
	if !strings.Contains(out, "reindex") {
		t.Errorf("the refusal does not say what to do:\n%s", out)
	}
	if got := files(); got != filesBefore {
		t.Errorf("files changed by the refused start:\n%s\nbefore:\n%s", got, filesBefore)
	}
	if out, err := run(t, time.Minute, camvaultBinary(t), "reindex", "-config", b.config); err != nil {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
	b.start()
	b.stop()
	if got := spans(t, b, "disk"); got != want {
		t.Errorf("after reindex:\n%s\nwant:\n%s", got, want)
	}
	t.Logf("refusal: %s", strings.TrimSpace(out))
}

//go:build interop

package interop

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// checkGapExport exports a window across the gap of rec, from 1 s into the first span to 1 s
// before the end of the second: the gap is collapsed, so the MP4 lasts the recorded part of
// the window, holds its frames and decodes cleanly, and the headers name the gap.
func checkGapExport(t *testing.T, s *server, cam string, rec recordingsOut) {
	t.Helper()
	start, end := rec.Spans[0].Start.Add(time.Second), rec.Spans[1].End.Add(-time.Second)
	recorded := rec.Spans[0].End.Sub(start) + end.Sub(rec.Spans[1].Start)
	resp, body := s.httpDo(http.MethodGet, "/api/v1/cameras/"+cam+"/export.mp4?"+window(start, end), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET export.mp4 across the gap: %s\n%s", resp.Status, body)
	}
	gapFrom, gapTo, _ := strings.Cut(resp.Header.Get("X-Camvault-Gaps"), "/")
	from, err1 := time.Parse(time.RFC3339Nano, gapFrom)
	to, err2 := time.Parse(time.RFC3339Nano, gapTo)
	if resp.Header.Get("X-Camvault-Gap-Count") != "1" || err1 != nil || err2 != nil ||
		from.Sub(rec.Gaps[0].Start).Abs() > time.Millisecond || to.Sub(rec.Gaps[0].End).Abs() > time.Millisecond {
		t.Errorf("X-Camvault-Gap-Count %q, X-Camvault-Gaps %q: want the API's one gap %v..%v", resp.Header.Get("X-Camvault-Gap-Count"),
			resp.Header.Get("X-Camvault-Gaps"), rec.Gaps[0].Start, rec.Gaps[0].End)
	}
	file := filepath.Join(t.TempDir(), "gap.mp4")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	decodeClean(t, file)
	p := ffprobe(t, file)
	var dur float64
	frame := time.Second / clipFPS
	if _, err := fmt.Sscan(p.Format.Duration, &dur); err != nil || math.Abs(dur-recorded.Seconds()) > frame.Seconds() {
		t.Errorf("the export across the gap lasts %q s, want the recorded %v within one frame", p.Format.Duration, recorded)
	}
	_, _, _, frames, _ := p.stream("video")
	if want := int(recorded / frame); frames < want-1 || frames > want+1 {
		t.Errorf("the export across the gap presents %d frames, want %d within one", frames, want)
	}
	t.Logf("export across the gap: %s s, %d frames, gap of %v collapsed", p.Format.Duration, frames, to.Sub(from))
}

// TestHTTPExport records 12 s and exports a 6 s window that starts mid-GOP: the progressive
// MP4 has the window's duration within one frame and decodes cleanly, a Range in the middle
// is that slice of the whole, two requests give the same ETag and bytes and If-None-Match
// gives 304; the fragmented export decodes cleanly with the frames from the keyframe before
// the window's start to its end.
func TestHTTPExport(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "ffprobe")
	const cam = "exportcam"
	s := startServerLater(t, "")
	recordArchive(t, s.dir, "numbered", numberedClip(t, 45), archiveStart)
	s.start()
	t.Cleanup(s.stop)
	checkNumberedExport(t, s)
	s.pushClip(cam, 12, false)
	s.waitSealed(cam, 1)
	var rec recordingsOut
	s.getJSON("/api/v1/cameras/"+cam+"/recordings?"+window(time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), &rec)
	if len(rec.Spans) != 1 {
		t.Fatalf("%d spans, want 1: %+v", len(rec.Spans), rec)
	}
	// Keyframes come every clipFPS frames, one second apart: 2.5 s in is mid-GOP.
	start := rec.Spans[0].Start.Add(2500 * time.Millisecond)
	end := start.Add(6 * time.Second)
	frame := time.Second / clipFPS
	path := "/api/v1/cameras/" + cam + "/export.mp4?" + window(start, end)
	resp, full := s.httpDo(http.MethodGet, path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET export.mp4: %s\n%s", resp.Status, full)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Accept-Ranges") != "bytes" || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Errorf("export headers %v: want an ETag, Accept-Ranges: bytes, video/mp4", resp.Header)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, cam+"_"+start.UTC().Format("20060102T150405Z")) {
		t.Errorf("Content-Disposition %q does not name the camera and start", cd)
	}
	file := filepath.Join(t.TempDir(), "export.mp4")
	if err := os.WriteFile(file, full, 0o644); err != nil {
		t.Fatal(err)
	}
	p := ffprobe(t, file)
	if len(p.Streams) != 1 || p.Streams[0].CodecType != "video" || p.Streams[0].CodecName != "h264" {
		t.Errorf("export streams %+v, want one h264 video", p.Streams)
	}
	var dur float64
	if _, err := fmt.Sscan(p.Format.Duration, &dur); err != nil || math.Abs(dur-end.Sub(start).Seconds()) > frame.Seconds() {
		t.Errorf("export lasts %q s, want %v within one frame (%v)", p.Format.Duration, end.Sub(start), frame)
	}
	decodeClean(t, file)
	_, _, _, frames, _ := p.stream("video")
	if want := int(end.Sub(start) / frame); frames < want-1 || frames > want+1 {
		t.Errorf("export.mp4 presents %d frames, want %d within one", frames, want)
	}
	t.Logf("export.mp4: %d bytes, %s s, %d frames", len(full), p.Format.Duration, frames)
	from, to := len(full)/3, 2*len(full)/3
	resp, part := s.httpDo(http.MethodGet, path, nil, "Range", fmt.Sprintf("bytes=%d-%d", from, to))
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, full[from:to+1]) ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", from, to, len(full)) {
		t.Errorf("Range %d-%d: %s, Content-Range %q, %d bytes equal to the slice: %v", from, to, resp.Status,
			resp.Header.Get("Content-Range"), len(part), bytes.Equal(part, full[from:min(to+1, len(full))]))
	}
	resp, again := s.httpDo(http.MethodGet, path, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != etag || !bytes.Equal(again, full) {
		t.Errorf("second GET: %s, ETag %q (first %q), same bytes: %v", resp.Status, resp.Header.Get("ETag"), etag, bytes.Equal(again, full))
	}
	if resp, body := s.httpDo(http.MethodGet, path, nil, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: %s with %d bytes, want 304 and none", resp.Status, len(body))
	}
	mediaStart := checkFragmentedExport(t, s, cam, start, end)
	s.stop()
	// The fragmented export begins at a keyframe fragment of the index.
	segs := s.segments(cam)
	if len(segs) != 1 || !slices.ContainsFunc(segs[0].Fragments, func(f storage.Fragment) bool {
		return f.Key && f.Start.Sub(mediaStart).Abs() <= time.Millisecond
	}) {
		t.Errorf("export.m4s starts at %v, not at a keyframe fragment of the index", mediaStart)
	}
}

// checkNumberedExport exports windows of the frame-numbered archive that start mid-GOP and
// checks the decoded frames: the edit list makes the first one the frame at the window's
// start, and a seek 10 s in shows the frame of that instant (checkSeekFrames: ffmpeg's -ss
// may start one frame late).
func checkNumberedExport(t *testing.T, s *server) {
	t.Helper()
	for _, tc := range []struct {
		name        string
		from, to    time.Duration // into the archive
		seek        string        // ffmpeg -ss; "" for none
		first, want int           // frame number first, frames decoded
	}{
		{name: "mid-GOP start", from: 30*time.Second + 480*time.Millisecond, to: 34*time.Second + 480*time.Millisecond, first: 762, want: 100},
		{name: "seek to 30s", from: 20 * time.Second, to: 40 * time.Second, seek: "10", first: 750, want: 250},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start, end := archiveStart.Add(tc.from), archiveStart.Add(tc.to)
			resp, body := s.httpDo(http.MethodGet, "/api/v1/cameras/numbered/export.mp4?"+window(start, end), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET export.mp4: %s\n%s", resp.Status, body)
			}
			file := filepath.Join(t.TempDir(), "numbered.mp4")
			if err := os.WriteFile(file, body, 0o644); err != nil {
				t.Fatal(err)
			}
			var args []string
			if tc.seek != "" {
				args = append(args, "-ss", tc.seek)
			}
			checkSeekFrames(t, decodeGray(t, time.Minute, append(args, "-i", file)...), tc.first, tc.want)
		})
	}
}

// checkFragmentedExport GETs export.m4s of [start, end): it must decode cleanly and hold the
// frames from its first keyframe (X-Camvault-Start, the last one at or before start) to end,
// within one frame. It returns X-Camvault-Start.
func checkFragmentedExport(t *testing.T, s *server, cam string, start, end time.Time) time.Time {
	t.Helper()
	resp, body := s.httpDo(http.MethodGet, "/api/v1/cameras/"+cam+"/export.m4s?"+window(start, end), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET export.m4s: %s\n%s", resp.Status, body)
	}
	mediaStart, err := time.Parse(time.RFC3339Nano, resp.Header.Get("X-Camvault-Start"))
	if err != nil {
		t.Fatalf("X-Camvault-Start: %v", err)
	}
	if mediaStart.After(start) || start.Sub(mediaStart) > time.Second+time.Second/clipFPS {
		t.Errorf("export.m4s starts at %v, want the keyframe at most one GOP before %v", mediaStart, start)
	}
	file := filepath.Join(t.TempDir(), "export.m4s")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	decodeClean(t, file)
	_, _, _, frames, _ := ffprobe(t, file).stream("video")
	want := int(math.Ceil(end.Sub(mediaStart).Seconds() * clipFPS))
	if frames < want-1 || frames > want+1 {
		t.Errorf("export.m4s holds %d frames, want %d within one (from %v to %v)", frames, want, mediaStart, end)
	}
	t.Logf("export.m4s: %d bytes, %d frames from %v", len(body), frames, mediaStart)
	return mediaStart
}

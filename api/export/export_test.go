package export_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/api/export"
	"github.com/camvault/camvault/internal/clip"
	"github.com/camvault/camvault/storage"
)

// serve runs an HTTP server whose handler exports
// /{camera}?start=T&end=T&format=F (RFC 3339 times) as the api package
// will, answering errors with their HTTPStatus.
func serve(t testing.TB, st *storage.Store, opt export.Options) string {
	t.Helper()
	srv, err := export.New(st, opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start, err1 := time.Parse(time.RFC3339Nano, q.Get("start"))
		end, err2 := time.Parse(time.RFC3339Nano, q.Get("end"))
		if err := errors.Join(err1, err2); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		err := srv.ServeExport(w, r, strings.TrimPrefix(r.URL.Path, "/"), start, end, q.Get("format"))
		var he interface{ HTTPStatus() int }
		if errors.As(err, &he) {
			http.Error(w, err.Error(), he.HTTPStatus())
		} else if err != nil {
			t.Errorf("ServeExport returned %v, which has no HTTPStatus", err)
		}
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// exportURL returns the URL of camera's export of [t0+from, t0+to).
func exportURL(base, camera string, from, to time.Duration, format string) string {
	return fmt.Sprintf("%s/%s?start=%s&end=%s&format=%s", base, camera,
		t0.Add(from).Format(time.RFC3339Nano), t0.Add(to).Format(time.RFC3339Nano), format)
}

// get does one request with the header lines hdr ("Name: value") and
// returns the response with its body read.
func get(t testing.TB, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// save writes b to a file in a temporary directory and returns its path.
func save(t testing.TB, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.mp4")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// probe is what ffprobe says of a file.
type probe struct {
	Streams []struct {
		CodecName string `json:"codec_name"`
		CodecType string `json:"codec_type"`
		Frames    string `json:"nb_read_frames"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t testing.TB, path string, countFrames bool) probe {
	t.Helper()
	args := []string{"-v", "error", "-print_format", "json", "-show_streams", "-show_format"}
	if countFrames {
		args = append(args, "-count_frames")
	}
	out, err := exec.Command("ffprobe", append(args, path)...).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeAll decodes every stream of the file and fails on any error ffmpeg
// reports.
func decodeAll(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg decode: %v\n%s", err, out)
	}
}

// frameAt decodes the first video frame ffmpeg shows at seek position ss
// (seconds) and returns its number, read from the luma plane (a conversion
// to gray would rescale the limited range the numbers are drawn in).
func frameAt(t testing.TB, path string, ss float64) int {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-ss", strconv.FormatFloat(ss, 'f', 3, 64),
		"-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-").Output()
	if err != nil || len(out) != width*height*3/2 {
		t.Fatalf("ffmpeg -ss %v: %d bytes, %v", ss, len(out), err)
	}
	return clip.FrameNumber(out, width, height, fps)
}

// frameTime returns when frame n (n > 0) of the cam recording, and of the gap
// recording before its gap, is presented, from t0. The clip's frames are 40 ms
// apart except the first two: ffmpeg's AAC priming leaves 61.4 ms there.
func frameTime(n int) time.Duration {
	return 21400*time.Microsecond + time.Duration(n)*time.Second/fps
}

// stampOf formats t0+d as the export's headers do.
func stampOf(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }

// gapOf returns the gap of the gap camera from the index, as HeaderGaps
// lists it.
func gapOf(t testing.TB, st *storage.Store) string {
	t.Helper()
	segs, err := st.Segments("gap", time.Time{}, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(segs); i++ {
		if segs[i].Start.Sub(segs[i-1].End) > time.Second {
			return segs[i-1].End.Format(time.RFC3339Nano) + "/" + segs[i].Fragments[0].Start.Format(time.RFC3339Nano)
		}
	}
	t.Fatal("the gap camera has no gap")
	return ""
}

// TestProgressive exports progressive MP4s of windows that start mid-GOP,
// cross segment boundaries and span a gap, and checks them with ffprobe and
// ffmpeg: codecs, duration within one frame of the recorded part of the
// window, a clean decode, and the frame shown at a seek.
func TestProgressive(t *testing.T) {
	st := recordings(t)
	base := serve(t, st, export.DefaultOptions())
	for _, tc := range []struct {
		name     string
		camera   string
		from, to time.Duration
		duration time.Duration // recorded time in the window
		gaps     string
		seeks    map[float64]int // seek position -> frame shown
		video    bool            // the camera has no audio
	}{
		{name: "mid-GOP across two segment boundaries", camera: "cam", from: frameTime(138), to: 47500 * time.Millisecond,
			duration: 47500*time.Millisecond - frameTime(138), seeks: map[float64]int{0: 138, 30: 888, 14.47: 500}},
		{name: "one segment", camera: "cam", from: 21 * time.Second, to: 23 * time.Second,
			duration: 2 * time.Second, seeks: map[float64]int{0: 525, 1: 550}},
		{name: "across a 20 s gap", camera: "gap", from: frameTime(257), to: 70 * time.Second,
			duration: 50*time.Second - frameTime(257), gaps: gapOf(t, st),
			seeks: map[float64]int{0: 257, 19.7: 750, 25.32: 890}},
		{name: "B-frames, mid-GOP", camera: "bframes", from: 2500 * time.Millisecond, to: 8 * time.Second,
			duration: 5500 * time.Millisecond, video: true, seeks: map[float64]int{0: 63, 3: 138}},
		{name: "start before the recording", camera: "gap", from: -10 * time.Second, to: 2 * time.Second,
			duration: 2 * time.Second, seeks: map[float64]int{0: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, "GET", exportURL(base, tc.camera, tc.from, tc.to, "mp4"))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get(export.HeaderGaps); got != tc.gaps {
				t.Errorf("gaps %q, want %q", got, tc.gaps)
			}
			path := save(t, body)
			p := ffprobe(t, path, false)
			checkStreams(t, p, tc.video)
			d, _ := strconv.ParseFloat(p.Format.Duration, 64)
			if diff := time.Duration(d*float64(time.Second)) - tc.duration; diff < -time.Second/fps || diff > time.Second/fps {
				t.Errorf("duration %vs, want %v within one frame", d, tc.duration)
			}
			decodeAll(t, path)
			for ss, want := range tc.seeks {
				if got := frameAt(t, path, ss); got != want {
					t.Errorf("-ss %v: frame %d, want %d", ss, got, want)
				}
			}
		})
	}
}

// checkStreams wants one H.264 and one AAC stream, or only the H.264 one
// for a video-only recording.
func checkStreams(t testing.TB, p probe, videoOnly bool) {
	t.Helper()
	var codecs []string
	for _, s := range p.Streams {
		codecs = append(codecs, s.CodecName)
	}
	want := "h264,aac"
	if videoOnly {
		want = "h264"
	}
	if strings.Join(codecs, ",") != want {
		t.Errorf("streams %v, want %s", codecs, want)
	}
}

// TestProgressiveHTTP checks what http.ServeContent gives the export:
// deterministic bytes and ETag, single and multiple ranges equal to the
// slices of the full body, 416, HEAD, If-None-Match and If-Range.
func TestProgressiveHTTP(t *testing.T) {
	st := recordings(t)
	base := serve(t, st, export.DefaultOptions())
	url := exportURL(base, "cam", 12*time.Second+300*time.Millisecond, 33*time.Second, "mp4")
	resp, full := get(t, "GET", url)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, full)
	}
	tag := resp.Header.Get("ETag")
	for k, want := range map[string]string{
		"Accept-Ranges": "bytes", "Content-Type": "video/mp4",
		"Content-Disposition": `attachment; filename="cam_20261207T100012Z_20261207T100033Z.mp4"`,
		"Content-Length":      strconv.Itoa(len(full)),
		export.HeaderStart:    "2026-12-07T10:00:12.3Z",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(tag, `"`) {
		t.Fatalf("ETag %q is not strong", tag)
	}
	resp2, again := get(t, "GET", url)
	if resp2.Header.Get("ETag") != tag || sha256.Sum256(again) != sha256.Sum256(full) {
		t.Errorf("a second request gave ETag %s and other bytes, want %s and the same", resp2.Header.Get("ETag"), tag)
	}
	n := len(full)
	mid, end := n/3, n/3+n/4
	t.Run("range", func(t *testing.T) {
		resp, b := get(t, "GET", url, fmt.Sprintf("Range: bytes=%d-%d", mid, end))
		if resp.StatusCode != 206 || !bytes.Equal(b, full[mid:end+1]) {
			t.Errorf("status %d, %d bytes equal to the slice: %v", resp.StatusCode, len(b), bytes.Equal(b, full[mid:end+1]))
		}
		if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes %d-%d/%d", mid, end, n) {
			t.Errorf("Content-Range %q", cr)
		}
	})
	t.Run("suffix", func(t *testing.T) {
		resp, b := get(t, "GET", url, "Range: bytes=-1000")
		if resp.StatusCode != 206 || !bytes.Equal(b, full[n-1000:]) {
			t.Errorf("status %d, suffix equal: %v", resp.StatusCode, bytes.Equal(b, full[n-1000:]))
		}
	})
	t.Run("multiple ranges", func(t *testing.T) {
		ranges := [][2]int{{0, 99}, {mid, end}, {n - 10, n - 1}}
		resp, b := get(t, "GET", url, fmt.Sprintf("Range: bytes=%d-%d,%d-%d,%d-%d",
			ranges[0][0], ranges[0][1], ranges[1][0], ranges[1][1], ranges[2][0], ranges[2][1]))
		if resp.StatusCode != 206 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		mr := multipart.NewReader(bytes.NewReader(b), params["boundary"])
		for i, r := range ranges {
			part, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			got, _ := io.ReadAll(part)
			if !bytes.Equal(got, full[r[0]:r[1]+1]) {
				t.Errorf("part %d (%v) differs from the slice", i, r)
			}
		}
	})
	t.Run("unsatisfiable", func(t *testing.T) {
		if resp, _ := get(t, "GET", url, fmt.Sprintf("Range: bytes=%d-", n)); resp.StatusCode != 416 {
			t.Errorf("status %d, want 416", resp.StatusCode)
		}
	})
	t.Run("head", func(t *testing.T) {
		resp, b := get(t, "HEAD", url)
		if resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(n) ||
			resp.Header.Get("ETag") != tag {
			t.Errorf("status %d, %d body bytes, length %s, ETag %s", resp.StatusCode, len(b),
				resp.Header.Get("Content-Length"), resp.Header.Get("ETag"))
		}
	})
	t.Run("if-none-match", func(t *testing.T) {
		if resp, _ := get(t, "GET", url, "If-None-Match: "+tag); resp.StatusCode != 304 {
			t.Errorf("status %d, want 304", resp.StatusCode)
		}
	})
	t.Run("if-range", func(t *testing.T) {
		if resp, _ := get(t, "GET", url, "Range: bytes=0-9", "If-Range: "+tag); resp.StatusCode != 206 {
			t.Errorf("matching If-Range: status %d, want 206", resp.StatusCode)
		}
		if resp, b := get(t, "GET", url, "Range: bytes=0-9", `If-Range: "other"`); resp.StatusCode != 200 || len(b) != n {
			t.Errorf("stale If-Range: status %d with %d bytes, want 200 with all", resp.StatusCode, len(b))
		}
	})
}

// TestErrors checks the statuses of windows that cannot be exported.
func TestErrors(t *testing.T) {
	st := recordings(t)
	base := serve(t, st, export.Options{MaxDuration: time.Hour, MaxSamples: 1000})
	for _, tc := range []struct {
		name     string
		camera   string
		from, to time.Duration
		format   string
		status   int
		contains string
	}{
		{"nothing recorded", "cam", -time.Hour, -time.Minute, "mp4", 404, "nothing recorded"},
		{"unknown camera", "nobody", 0, time.Minute, "fmp4", 404, "nothing recorded"},
		{"after the recording", "cam", 61 * time.Second, 70 * time.Second, "mp4", 404, "nothing recorded"},
		{"in the gap", "gap", 31 * time.Second, 49 * time.Second, "mp4", 404, "nothing recorded"},
		{"end before start", "cam", time.Second, 0, "mp4", 400, "not after start"},
		{"too long", "cam", 0, 2 * time.Hour, "mp4", 400, "longer than"},
		{"format", "cam", 0, time.Second, "avi", 400, "format"},
		{"too many samples", "cam", 0, time.Minute, "mp4", 400, "more than 1000 samples"},
		{"codec change", "change", time.Second, 6 * time.Second, "mp4", 409, "at 2026-12-07T10:00:04.0214Z"},
		{"codec change fmp4", "change", time.Second, 6 * time.Second, "fmp4", 409, "at 2026-12-07T10:00:04.0214Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, "GET", exportURL(base, tc.camera, tc.from, tc.to, tc.format))
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.contains) {
				t.Errorf("status %d %q, want %d containing %q", resp.StatusCode, body, tc.status, tc.contains)
			}
		})
	}
	t.Run("either side of the change", func(t *testing.T) {
		change := 4*time.Second + 21400*time.Microsecond
		for _, w := range [][2]time.Duration{{0, change}, {change, 8 * time.Second}} {
			if resp, body := get(t, "GET", exportURL(base, "change", w[0], w[1], "mp4")); resp.StatusCode != 200 {
				t.Errorf("window %v: status %d %s", w, resp.StatusCode, body)
			}
		}
	})
}

// TestFragmented streams fMP4 exports and checks that ffmpeg decodes them
// whole with the right frame count, from the keyframe at or before the start.
func TestFragmented(t *testing.T) {
	st := recordings(t)
	base := serve(t, st, export.DefaultOptions())
	for _, tc := range []struct {
		name        string
		camera      string
		from, to    time.Duration
		first, last int // frame numbers
		startHeader string
		gaps        string
		video       bool // the camera has no audio
	}{
		{"mid-GOP across segments", "cam", frameTime(138), 47500 * time.Millisecond, 125, 1186,
			stampOf(frameTime(125)), "", false},
		{"across the gap", "gap", frameTime(257), 70 * time.Second, 250, 1249,
			stampOf(frameTime(250)), gapOf(t, st), false},
		// Media time 0 is one frame before the keyframe: the B-frames' composition
		// offsets shift decode times by one frame.
		{"B-frames", "bframes", 2500 * time.Millisecond, 8 * time.Second, 50, 199,
			stampOf(1960 * time.Millisecond), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, "GET", exportURL(base, tc.camera, tc.from, tc.to, "fmp4"))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			for k, want := range map[string]string{"Accept-Ranges": "none", "Content-Type": "video/mp4",
				export.HeaderStart: tc.startHeader, export.HeaderGaps: tc.gaps} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			path := save(t, body)
			p := ffprobe(t, path, true)
			checkStreams(t, p, tc.video)
			want := tc.last - tc.first + 1 // the gap camera's numbers go on after the gap
			if len(p.Streams) > 0 && p.Streams[0].Frames != strconv.Itoa(want) {
				t.Errorf("%s video frames, want %d", p.Streams[0].Frames, want)
			}
			decodeAll(t, path)
			if got := frameAt(t, path, 0); got != tc.first {
				t.Errorf("first frame %d, want %d", got, tc.first)
			}
		})
	}
	t.Run("head", func(t *testing.T) {
		resp, b := get(t, "HEAD", exportURL(base, "cam", 0, 10*time.Second, "fmp4"))
		if resp.StatusCode != 200 || len(b) != 0 {
			t.Errorf("status %d with %d bytes", resp.StatusCode, len(b))
		}
	})
}

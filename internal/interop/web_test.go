//go:build interop

package interop

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/internal/clip"
	"github.com/camvault/camvault/internal/rtsptest"
)

// webPushSeconds is how long the browser test's camera records.
const webPushSeconds = 15

// httpBase waits for camvault's start-up line and returns the base URL of
// its plain HTTP listener (bound on 127.0.0.1:0 by the harness).
func (s *server) httpBase() string {
	s.t.Helper()
	addr := regexp.MustCompile(`camvault serving.*\shttp=(127\.0\.0\.1:\d+)`)
	var base string
	s.waitFor(20*time.Second, "camvault logs its HTTP address", func() bool {
		if m := addr.FindStringSubmatch(s.logs.String()); m != nil {
			base = "http://" + m[1]
		}
		return base != ""
	})
	return base
}

// pushClip encodes a seconds-long test pattern and pushes it at real-time
// pace with -c copy, as ffmpegPush does with its shorter clip.
func pushClip(t *testing.T, rtspURL string, seconds int) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "clip.nut")
	args := []string{"-nostdin", "-v", "error", "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=640x360:rate=%d", clipFPS),
		"-t", fmt.Sprint(seconds)}
	args = append(append(args, x264Baseline...), "-y", file)
	if out, err := run(t, 5*time.Minute, "ffmpeg", args...); err != nil {
		t.Fatalf("encode the clip: %v\n%s", err, out)
	}
	if out, err := run(t, 2*time.Minute, "ffmpeg", "-nostdin", "-v", "error", "-re", "-i", file,
		"-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", rtspURL); err != nil {
		t.Fatalf("ffmpeg push: %v\n%s", err, out)
	}
}

// apiSpan is a span of the recordings API.
type apiSpan struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// recordings is an answer of the recordings API.
type recordings struct{ Spans, Gaps []apiSpan }

// recordedSpans asks camvault's API for camera's spans in [start, end)
// (RFC 3339), anonymously as loopback may without users.
func recordedSpans(t *testing.T, base, camera, start, end string) []apiSpan {
	t.Helper()
	return recordedIn(t, base, "", camera, start, end).Spans
}

// recordedIn asks camvault's API for camera's spans and gaps in
// [start, end), with the bearer token unless it is "".
func recordedIn(t *testing.T, base, token, camera, start, end string) recordings {
	t.Helper()
	q := url.Values{"start": {start}, "end": {end}}
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/cameras/"+camera+"/recordings?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec recordings
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("recordings: %d %v", resp.StatusCode, err)
	}
	return rec
}

// drawnSpan is a recorded span as the page drew it.
type drawnSpan struct {
	Start, End string
	Left       float64 // the element's left edge, CSS pixels
	Width      float64
	Line       float64 // the width of its timeline
	Top        float64
	Height     float64
}

const drawnSpansJS = `[...document.querySelectorAll('li.camera[data-camera="cam1"] .timeline > .span')].map((e) => {
  const r = e.getBoundingClientRect(), l = e.parentElement.getBoundingClientRect();
  return {Start: e.dataset.start, End: e.dataset.end, Left: r.left, Width: r.width, Line: l.width, Top: r.top, Height: r.height};
})`

// checkDrawnSpans compares the spans the page drew with the API's: the
// same number, each boundary within 1 s.
func checkDrawnSpans(t *testing.T, drawn []drawnSpan, want []apiSpan) {
	t.Helper()
	if len(drawn) != len(want) {
		t.Fatalf("the page drew %d spans, the API has %d: %+v", len(drawn), len(want), drawn)
	}
	for i, d := range drawn {
		start, err1 := time.Parse(time.RFC3339Nano, d.Start)
		end, err2 := time.Parse(time.RFC3339Nano, d.End)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("span %d: %v", i, err)
		}
		if math.Abs(start.Sub(want[i].Start).Seconds()) > 1 || math.Abs(end.Sub(want[i].End).Seconds()) > 1 {
			t.Errorf("span %d drawn %s to %s, the API says %s to %s", i, start, end, want[i].Start, want[i].End)
		}
		if got, api := end.Sub(start), want[i].End.Sub(want[i].Start); math.Abs((got - api).Seconds()) > 1 {
			t.Errorf("span %d lasts %v on the page, %v in the API", i, got, api)
		}
	}
}

// checkTimeZones checks that the first span's hover text gives its start
// in the browser's zone (Europe/Berlin, see startBrowser) and in UTC.
func checkTimeZones(t *testing.T, b *browser, start time.Time) {
	t.Helper()
	got := eval[struct{ Zone, Title string }](b, `({Zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  Title: document.querySelector('li.camera .timeline > .span').title})`)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(got.Title, "\n")
	if got.Zone != "Europe/Berlin" || len(lines) < 2 ||
		!strings.Contains(lines[0], start.In(berlin).Format("3:04:05")) ||
		!strings.HasPrefix(lines[1], start.UTC().Format("2006-01-02 15:04:05")+" UTC") {
		t.Errorf("span title %q in zone %s, want its start %s local then UTC", got.Title, got.Zone, start)
	}
}

// TestWebTimeline opens the page of a camvault that recorded a real ffmpeg
// push in headless Chromium: the camera row, the recorded span drawn as the
// API reports it, a wheel zoom to minutes that re-queries the window, a
// click into the span that plays the fragmented export in <video>, and at a
// phone's viewport no horizontal overflow, a touch drag that selects a clip
// to download, a hold set from the selection and removed again, and a
// pinch that zooms.
// Screenshots of both viewports are saved as artifacts.
func TestWebTimeline(t *testing.T) {
	needTool(t, "ffmpeg")
	exe := needChromium(t)
	s := startServer(t, "")
	base := s.httpBase()
	pushClip(t, "rtsp://"+s.rtsp+"/cam1", webPushSeconds)
	now := time.Now().UTC()
	want := recordedSpans(t, base, "cam1", now.Add(-24*time.Hour).Format(time.RFC3339), now.Add(time.Minute).Format(time.RFC3339))
	if len(want) != 1 || want[0].End.Sub(want[0].Start) < (webPushSeconds-2)*time.Second {
		t.Fatalf("recorded spans %+v, want one of about %d s", want, webPushSeconds)
	}

	b := startBrowser(t, exe)
	b.do(30*time.Second, "open the page", chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`li.camera[data-camera="cam1"] .state`)),
		chromedp.WaitVisible(chromedp.CSS(`li.camera[data-camera="cam1"] .timeline > .span`)))
	checkDrawnSpans(t, eval[[]drawnSpan](b, drawnSpansJS), want)
	checkTimeZones(t, b, want[0].Start)

	// Zoom with the wheel over the span until the window is minutes long:
	// the span then fills a good part of its line, drawn from a re-query.
	for range 12 {
		d := eval[[]drawnSpan](b, drawnSpansJS)
		if len(d) == 0 {
			t.Fatal("the span left the view while zooming")
		}
		x, y := d[0].Left+d[0].Width/2, d[0].Top+d[0].Height/2
		b.do(10*time.Second, "wheel", chromedp.MouseEvent(chromedp.MouseWheel, x, y, func(p *input.DispatchMouseEventParams) {
			// The protocol requires both deltas, and cdproto omits a zero
			// one: a negligible sideways delta keeps deltaX in the message.
			p.DeltaX, p.DeltaY = 0.01, -400
		}))
	}
	b.do(10*time.Second, "the window shrinks to minutes", chromedp.Poll[chromedp.Void](
		`(() => { const w = document.getElementById('window').dataset; return Date.parse(w.end) - Date.parse(w.start) <= 10 * 60e3; })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	b.do(10*time.Second, "the re-queried span fills its line", chromedp.Poll[chromedp.Void](
		`(() => { const s = `+drawnSpansJS+`, w = document.getElementById('window').dataset,
  l = document.getElementById('cameras').dataset;
  return l.loadedStart === w.start && l.loadedEnd === w.end && s.length === 1 && s[0].Width > s[0].Line / 20; })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	// The API clips spans to the window asked: ask for the page's.
	win := eval[map[string]string](b, `({...document.getElementById('window').dataset})`)
	checkDrawnSpans(t, eval[[]drawnSpan](b, drawnSpansJS), recordedSpans(t, base, "cam1", win["start"], win["end"]))

	// Click into the span: the video plays the export from there.
	d := eval[[]drawnSpan](b, drawnSpansJS)[0]
	b.do(10*time.Second, "click into the span", chromedp.MouseClickXY(d.Left+d.Width/3, d.Top+d.Height/2))
	b.waitPlaying()
	src := eval[string](b, `document.getElementById('video').src`)
	if !strings.Contains(src, "/api/v1/cameras/cam1/export.m4s?start=") {
		t.Errorf("video source %q, want the fragmented export", src)
	}
	b.screenshot("web-timeline.png")

	// A phone: the camera row and its timeline are visible, nothing
	// overflows sideways, and a touch drag selects a clip to download.
	b.do(30*time.Second, "open the page on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3),
		chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`li.camera[data-camera="cam1"] .timeline > .span`)))
	layout := eval[struct {
		ScrollWidth, InnerWidth int
		Line                    struct{ Left, Right, Width, Height float64 }
	}](b, `(() => {
  const l = document.querySelector('li.camera[data-camera="cam1"] .timeline').getBoundingClientRect();
  return {ScrollWidth: document.documentElement.scrollWidth, InnerWidth: window.innerWidth,
    Line: {Left: l.left, Right: l.right, Width: l.width, Height: l.height}};
})()`)
	if layout.InnerWidth != 390 || layout.ScrollWidth > layout.InnerWidth {
		t.Errorf("phone: scrollWidth %d, innerWidth %d: the page overflows sideways", layout.ScrollWidth, layout.InnerWidth)
	}
	if l := layout.Line; l.Left < 0 || l.Right > float64(layout.InnerWidth) || l.Width < 300 || l.Height < 20 {
		t.Errorf("phone: the timeline is at %+v, want it whole on screen and wide", l)
	}
	line := layout.Line
	y := eval[float64](b, `(() => { const r = document.querySelector('li.camera[data-camera="cam1"] .timeline').getBoundingClientRect(); return r.top + r.height / 2; })()`)
	b.do(10*time.Second, "touch drag across the timeline", touchGesture(y, [2]float64{line.Left + line.Width*0.3, line.Left + line.Width*0.7}))
	b.do(10*time.Second, "the selection offers a download", chromedp.WaitVisible(chromedp.ID("download")))
	href := eval[string](b, `document.getElementById('download').getAttribute('href')`)
	if !strings.HasPrefix(href, "/api/v1/cameras/cam1/export.mp4?start=") {
		t.Errorf("download link %q", href)
	}
	// Hold the selection: the hold is drawn on the timeline and listed;
	// removing it from the list takes it off both.
	b.do(20*time.Second, "hold the selection", chromedp.SendKeys(chromedp.ID("hold-reason"), "incident 42"),
		chromedp.Click(chromedp.CSS(`#hold-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`li.camera[data-camera="cam1"] .timeline > .hold`)),
		chromedp.WaitVisible(chromedp.CSS(`#holds .hold-item button`)))
	b.screenshot("web-timeline-phone.png")
	held := eval[string](b, `document.querySelector('#holds .hold-item').textContent`)
	if !strings.Contains(held, "cam1") || !strings.Contains(held, "incident 42") {
		t.Errorf("holds list %q", held)
	}
	b.do(20*time.Second, "remove the hold", chromedp.Click(chromedp.CSS(`#holds .hold-item button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`li.camera[data-camera="cam1"] .timeline > .hold`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#holds .hold-item`)))

	// Two fingers spread apart five times wider zoom the window in as much.
	mid := line.Left + line.Width/2
	b.do(10*time.Second, "pinch out", touchGesture(y, [2]float64{mid - 30, mid - 150}, [2]float64{mid + 30, mid + 150}))
	hours := eval[float64](b, `(() => { const w = document.getElementById('window').dataset; return (Date.parse(w.end) - Date.parse(w.start)) / 3600e3; })()`)
	if hours < 4 || hours > 6 {
		t.Errorf("after a fivefold pinch the window is %.1f h, want about 4.8", hours)
	}
	b.console.check(t)
}

// readLumaJS defines readLuma(v): the luma plane of the frame the video v
// presents, read with WebCodecs' VideoFrame (the decoder's own samples: a
// canvas would give RGB, clipped to video range, and lose the numbers
// drawn near black and white).
const readLumaJS = `const readLuma = async (v) => {
  const f = new VideoFrame(v);
  const w = f.visibleRect.width, h = f.visibleRect.height, format = f.format;
  const buf = new Uint8Array(f.allocationSize());
  const layout = await f.copyTo(buf);
  f.close();
  const luma = [];
  for (let r = 0; r < h; r++) {
    const row = layout[0].offset + r * layout[0].stride;
    luma.push(...buf.subarray(row, row + w));
  }
  return { Format: String(format), Width: w, Height: h, Luma: luma };
};`

// decodedFrame is what readLuma returns.
type decodedFrame struct {
	Format        string
	Width, Height int
	Luma          []int
}

// number reads the frame number a clip.Numbered frame of numberedW x
// numberedH shows.
func (f decodedFrame) number(t *testing.T) int {
	t.Helper()
	if f.Width != numberedW || f.Height != numberedH || len(f.Luma) != numberedW*numberedH {
		t.Fatalf("frame %dx%d with %d luma samples, want %dx%d", f.Width, f.Height, len(f.Luma), numberedW, numberedH)
	}
	luma := make([]byte, len(f.Luma))
	for i, v := range f.Luma {
		luma[i] = byte(v)
	}
	return clip.FrameNumber(luma, numberedW, numberedH, numberedFPS)
}

// seekJS plays the export at %q in a new <video>, pauses, seeks to 30 s
// and returns the presented frame's luma plane (readLuma).
const seekJS = `(async () => {
  ` + readLumaJS + `
  const v = document.createElement('video');
  v.muted = true;
  v.playsInline = true;
  document.body.append(v);
  const once = (name) => new Promise((ok, fail) => {
    v.addEventListener(name, ok, { once: true });
    v.addEventListener('error', () => fail(new Error('video error: ' + (v.error && v.error.message))), { once: true });
  });
  const frame = () => new Promise((ok) => v.requestVideoFrameCallback((now, m) => ok(m.mediaTime)));
  v.src = %q;
  await once('loadedmetadata');
  await v.play();
  while ((await frame()) < 1) { /* playing: wait for a frame past 1 s */ }
  v.pause();
  const presented = frame();
  v.currentTime = 30;
  await once('seeked');
  const mediaTime = await presented;
  return { Duration: v.duration, MediaTime: mediaTime, Frame: await readLuma(v) };
})()`

// TestWebExportSeek plays export.mp4 of a 45 s frame-numbered recording in
// headless Chromium, seeks to 30 s and reads the frame shown: it is frame
// 750 (25 fps), and the file lasts 45 s within one frame.
func TestWebExportSeek(t *testing.T) {
	needTool(t, "ffmpeg")
	exe := needChromium(t)
	s := archiveServer(t)
	base := s.httpBase()
	b := startBrowser(t, exe)
	b.do(30*time.Second, "open the page", chromedp.Navigate(base+"/"))
	src := fmt.Sprintf("/api/v1/cameras/cam/export.mp4?start=%s&end=%s",
		archiveStart.Format(time.RFC3339), archiveStart.Add(45*time.Second).Format(time.RFC3339))
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Duration, MediaTime float64
		Frame               decodedFrame
	}](fmt.Sprintf(seekJS, src), chromedp.EvalAwaitPromise))
	if err != nil {
		b.console.check(t)
		t.Fatalf("play and seek %s: %v", src, err)
	}
	t.Logf("%s: duration %.3f s, shown at %.3f s, %s %dx%d", src, got.Duration, got.MediaTime, got.Frame.Format, got.Frame.Width, got.Frame.Height)
	if math.Abs(got.Duration-45) > 1.0/numberedFPS {
		t.Errorf("duration %.3f s, want 45 s within a frame", got.Duration)
	}
	if n := got.Frame.number(t); n != 30*numberedFPS {
		t.Errorf("seeking to 30 s shows frame %d, want %d", n, 30*numberedFPS)
	}
	b.console.check(t)
}

// TestWebLogin serves a camvault with a user and two recordings 15 s
// apart. The page loads without credentials, and when the user cancels the
// browser's login its first API call's 401 is explained. With a bearer
// token typed into its field the recordings and the gap appear as the API
// has them, a click plays the clip the page fetched with the token (a
// <video> cannot send the header), and a selection across them downloads. With the token forgotten and the user's
// password given to the browser's login instead, the page and the <video>
// use the browser's Basic credentials.
func TestWebLogin(t *testing.T) {
	needTool(t, "ffmpeg")
	exe := needChromium(t)
	token, tokenHash, err := auth.NewToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pwHash, err := auth.HashPassword("secret", auth.DefaultArgon2Params(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := startServerLater(t, fmt.Sprintf("users:\n  - name: ops\n    password_argon2id: %q\n    tokens: [%q]\n"+
		"    permissions: [{action: api}, {action: playback, cameras: [\"*\"]}]\n", pwHash.String(), tokenHash))
	first := time.Now().Add(-3 * time.Minute).Truncate(time.Second)
	recordArchive(t, s.dir, "cam", numberedClip(t, 45), first)
	recordArchive(t, s.dir, "cam", numberedClip(t, 45), first.Add(time.Minute)) // a 15 s gap
	s.start()
	t.Cleanup(s.stop)
	base := s.httpBase()

	b := startBrowser(t, exe)
	login := b.answerLogins()
	b.do(30*time.Second, "the page loads and explains the 401", chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("message")))
	if msg := eval[string](b, `document.getElementById('message').textContent`); !strings.Contains(msg, "401") || !strings.Contains(msg, "token") {
		t.Errorf("message %q, want the 401 explained", msg)
	}
	b.do(30*time.Second, "sign in with the token", chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.CSS(`#token-form button[type=submit]`)))
	playFirstSpan(t, b, "cam")
	// Both recordings and the gap between them are drawn as the API
	// answers for the page's window.
	win := eval[map[string]string](b, `({...document.getElementById('cameras').dataset})`)
	want := recordedIn(t, base, token, "cam", win["loadedStart"], win["loadedEnd"])
	if len(want.Gaps) != 1 {
		t.Fatalf("the API answers %+v, want two spans and a gap", want)
	}
	camSpans := strings.ReplaceAll(drawnSpansJS, `"cam1"`, `"cam"`)
	checkDrawnSpans(t, eval[[]drawnSpan](b, camSpans), want.Spans)
	checkDrawnSpans(t, eval[[]drawnSpan](b, strings.ReplaceAll(camSpans, "> .span", "> .gap")), want.Gaps)
	if src := eval[string](b, `document.getElementById('video').src`); !strings.HasPrefix(src, "blob:") {
		t.Errorf("video source %q with a token, want the clip fetched with it", src)
	}
	downloadSelection(t, b, camSpans)

	cancelled := login.answered()
	login.set(&fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: "ops", Password: "secret"})
	b.do(30*time.Second, "forget the token and reload", chromedp.Click(chromedp.ID("token-clear")), chromedp.Navigate(base+"/"))
	playFirstSpan(t, b, "cam")
	if src := eval[string](b, `document.getElementById('video').src`); !strings.Contains(src, "/export.m4s?") {
		t.Errorf("video source %q with the browser's login, want the export itself", src)
	}
	if cancelled == 0 || login.answered() == cancelled {
		t.Errorf("the browser asked for a login %d times before the password, %d after", cancelled, login.answered()-cancelled)
	}
	b.console.check(t)
}

// downloadSelection drags the mouse across every span the page drew,
// clicks the download link, and checks the saved file: an MP4 named after
// the camera that ffprobe reads, with the 90 s recorded in the selection
// (the export collapses gaps).
func downloadSelection(t *testing.T, b *browser, spansJS string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	d := eval[[]drawnSpan](b, spansJS)
	first, last := d[0], d[len(d)-1]
	b.do(10*time.Second, "drag across the recordings", mouseDrag(first.Left-5, last.Left+last.Width+5, first.Top+first.Height/2))
	b.do(10*time.Second, "download the selection", chromedp.WaitVisible(chromedp.ID("download")), chromedp.Click(chromedp.ID("download")))
	var file string
	rtsptest.WaitWithin(t, 30*time.Second, "the browser saves the download", func() bool {
		entries, _ := os.ReadDir(dir) // not there yet: try again
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".mp4") { // Chromium renames its .crdownload when done
				file = filepath.Join(dir, e.Name())
			}
		}
		return file != ""
	})
	if !strings.HasPrefix(filepath.Base(file), "cam_") {
		t.Errorf("saved as %s, want the export's name", filepath.Base(file))
	}
	out, err := run(t, time.Minute, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file)
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", file, err, out)
	}
	if sec, err := strconv.ParseFloat(strings.TrimSpace(out), 64); err != nil || math.Abs(sec-90) > 1 {
		t.Errorf("downloaded %s lasts %q s, want the 90 s recorded", filepath.Base(file), strings.TrimSpace(out))
	}
}

// playFirstSpan waits for camera's recording on the page, clicks into it
// and waits until the video has played past 1 s.
func playFirstSpan(t *testing.T, b *browser, camera string) {
	t.Helper()
	sel := fmt.Sprintf(`li.camera[data-camera=%q] .timeline > .span`, camera)
	b.do(30*time.Second, "the recording is drawn", chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.WaitNotVisible(chromedp.ID("message")))
	d := eval[[]drawnSpan](b, strings.ReplaceAll(drawnSpansJS, `"cam1"`, strconv.Quote(camera)))
	if len(d) == 0 {
		t.Fatal("no span drawn")
	}
	b.do(10*time.Second, "click the span", chromedp.MouseClickXY(d[0].Left+d[0].Width/2, d[0].Top+d[0].Height/2))
	b.waitPlaying()
}

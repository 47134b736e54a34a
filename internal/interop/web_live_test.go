//go:build interop

package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/camvault/camvault/internal/clip"
)

// webLiveSeconds is how long the browser's live test camera pushes.
const webLiveSeconds = 40

// pushLive encodes a frame-numbered clip (320x240, 25 fps, a keyframe
// every second, AAC) and pushes it with ffmpeg -re -c copy in the
// background until the test ends. It returns once camvault records the
// camera, with the time it saw that: about when the first frame arrived,
// so that frame n arrives at about that time plus n/25 s.
func pushLive(t *testing.T, s *server, base, camera string) time.Time {
	t.Helper()
	// NUT interleaves audio and video finely, as a camera sends them (an
	// MP4 of one-second fragments would make ffmpeg send a second of one
	// track, then of the other).
	numbered := clip.Numbered(webLiveSeconds, numberedFPS, fmt.Sprintf("%dx%d", numberedW, numberedH)).Video
	args := []string{"-f", "lavfi", "-i", numbered, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", fmt.Sprint(webLiveSeconds)}
	args = append(append(args, x264Baseline...), "-qp", "12", "-c:a", "aac", "-b:a", "64k", "-ac", "2")
	file := cachedClip(t, "nut", args)
	return pushFile(t, s, base, camera, file)
}

// pushFile pushes file with ffmpeg -re -c copy in the background until the
// test ends, and returns when camvault records the camera (see pushLive).
func pushFile(t *testing.T, s *server, base, camera, file string) time.Time {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-re", "-i", file, "-c", "copy",
		"-f", "rtsp", "-rtsp_transport", "tcp", "rtsp://"+s.rtsp+"/"+camera)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the push outlives the test otherwise
		_ = cmd.Wait()
	})
	start := time.Now()
	// Polled every 10 ms: the camera records from its RECORD on, a moment
	// before its first packet.
	for !recording(t, base, camera) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("ffmpeg's push is not recorded after 20 s:\n%s", s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("ffmpeg's push recorded %v after its start", time.Since(start).Round(time.Millisecond))
	return time.Now()
}

// recording reports whether camvault records camera.
func recording(t *testing.T, base, camera string) bool {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/cameras/" + camera)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cam struct{ State string }
	return json.NewDecoder(resp.Body).Decode(&cam) == nil && cam.State == "recording"
}

// advanceJS runs in the page before its scripts: it samples the first
// <video>'s currentTime every animation frame and notes in
// window.liveAdvance when it has grown twice while playing (the picture
// moves), as performance.now(): milliseconds from the navigation's start.
// It also notes when the live view's WebSocket, its first messages and the
// video's events came (window.liveEvents), and the MSE type the server
// sent (window.liveMIME).
const advanceJS = `(() => {
  window.liveEvents = [];
  const note = (what) => window.liveEvents.push(what + '@' + Math.round(performance.now()));
  const WS = window.WebSocket;
  window.WebSocket = function (...a) { const ws = new WS(...a); note('ws'); let n = 0;
    ws.addEventListener('open', () => note('open'));
    ws.addEventListener('message', (e) => {
      if (typeof e.data === 'string' && !window.liveMIME) window.liveMIME = JSON.parse(e.data).mime;
      if (++n <= 3 || n === 10) note('msg' + n);
    });
    return ws; };
  for (const e of ['loadedmetadata', 'loadeddata', 'canplay', 'playing', 'waiting', 'seeking']) {
    document.addEventListener(e, () => note(e), true);
  }
  let last = 0, grew = 0;
  const sample = () => {
    const v = document.querySelector('video');
    if (v && !v.paused && v.currentTime > last) {
      if (last > 0 && ++grew === 2) window.liveAdvance = performance.now();
      last = v.currentTime;
    }
    if (window.liveAdvance === undefined) requestAnimationFrame(sample);
  };
  requestAnimationFrame(sample);
})()`

// shownFrameJS waits for a frame presented now and returns its luma plane
// (readLuma) with the wall clock when it was taken, the video's position
// and how far its buffer reaches.
const shownFrameJS = `(async () => {
  ` + readLumaJS + `
  const v = document.getElementById('video');
  await new Promise((ok) => v.requestVideoFrameCallback(ok));
  const now = Date.now();
  const frame = await readLuma(v);
  const b = v.buffered;
  return { Now: now, Frame: frame, CurrentTime: v.currentTime,
    BufferedEnd: b.length ? b.end(b.length - 1) : 0, Status: document.getElementById('status').textContent };
})()`

// TestWebLive opens the live page of a camera that ffmpeg pushes (H.264 and
// AAC) in headless Chromium: the <video>'s currentTime advances within 1 s
// of the page's load (the cached keyframe comes first, its frames one tick
// apart), and after a few seconds of playing, the frame it shows (its
// number read from the decoded picture) is less than a second behind
// what the push has sent. Then the timeline page's Live button opens a tile
// that plays too.
func TestWebLive(t *testing.T) {
	needTool(t, "ffmpeg")
	exe := needChromium(t)
	s := startServer(t, "")
	base := s.httpBase()
	pushStart := pushLive(t, s, base, "cam")
	time.Sleep(1500 * time.Millisecond) // into the second group of pictures: the page starts mid-GOP

	b := startBrowser(t, exe)
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: advanceJS}); err != nil {
		t.Fatal(err)
	}
	b.do(30*time.Second, "open the live page", chromedp.Navigate(base+"/live/cam"),
		chromedp.Poll[chromedp.Void](`window.liveAdvance !== undefined`, chromedp.WithPollingTimeout(20*time.Second)))
	t.Logf("page events: %s", eval[string](b, `window.liveEvents.join(' ')`))
	timing := eval[struct{ Advance, Load, Response float64 }](b, `({Advance: window.liveAdvance,
  Load: performance.getEntriesByType('navigation')[0].loadEventEnd,
  Response: performance.getEntriesByType('navigation')[0].responseEnd})`)
	t.Logf("live page: response %.0f ms, load %.0f ms, currentTime advancing at %.0f ms (from the navigation's start)",
		timing.Response, timing.Load, timing.Advance)
	if timing.Advance-timing.Load > 1000 {
		t.Errorf("currentTime advanced %.0f ms after the page loaded, want within 1 s", timing.Advance-timing.Load)
	}

	b.do(20*time.Second, "play for 3 s", chromedp.Poll[chromedp.Void](`document.getElementById('video').currentTime > 3`,
		chromedp.WithPollingTimeout(15*time.Second)))
	for i := range 3 {
		shown := shownFrame(t, b)
		sent := float64(time.UnixMilli(shown.Now).Sub(pushStart)) / float64(time.Second) // the push's media time now
		behind := sent - float64(shown.Frame)/numberedFPS
		t.Logf("sample %d: frame %d shown when the push was %.2f s in: %.2f s behind (currentTime %.2f, buffered to %.2f, %q)",
			i, shown.Frame, sent, behind, shown.CurrentTime, shown.BufferedEnd, shown.Status)
		if behind > 1 || behind < -0.2 {
			t.Errorf("the live page shows frame %d, %.2f s behind the push (want less than 1 s)", shown.Frame, behind)
		}
		if d := shown.BufferedEnd - shown.CurrentTime; d > 1 {
			t.Errorf("the video plays %.2f s behind its newest frame", d)
		}
		time.Sleep(time.Second)
	}
	b.screenshot("web-live.png")
	b.console.check(t)

	b.do(30*time.Second, "open a live tile on the timeline page", chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`li.camera[data-camera="cam"] .watch`)),
		chromedp.Click(chromedp.CSS(`li.camera[data-camera="cam"] .watch`)),
		chromedp.Poll[chromedp.Void](`(document.querySelector('.live-tile[data-camera="cam"] video') || {}).currentTime > 1`,
			chromedp.WithPollingTimeout(20*time.Second)))
	if st := eval[string](b, `document.querySelector('.live-tile[data-camera="cam"] .live-status').textContent`); st != "Live" {
		t.Errorf("the tile's status is %q, want Live", st)
	}
	b.screenshot("web-live-tile.png")
	b.console.check(t)
}

// shownFrameInfo is the frame the live page presents now.
type shownFrameInfo struct {
	Now                      int64 // Unix milliseconds
	Frame                    int
	CurrentTime, BufferedEnd float64
	Status                   string
}

func shownFrame(t *testing.T, b *browser) shownFrameInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Now                      int64
		Frame                    decodedFrame
		CurrentTime, BufferedEnd float64
		Status                   string
	}](shownFrameJS, chromedp.EvalAwaitPromise))
	if err != nil {
		b.console.check(t)
		t.Fatalf("read the shown frame: %v", err)
	}
	return shownFrameInfo{Now: got.Now, Frame: got.Frame.number(t), CurrentTime: got.CurrentTime,
		BufferedEnd: got.BufferedEnd, Status: got.Status}
}

// TestWebLiveH265: the live page of an H.265 camera plays it where the
// browser's MediaSource takes the codecs string the server sends, and
// otherwise says so, naming the codec (Debian's chromium has no H.265
// decoder on most machines).
func TestWebLiveH265(t *testing.T) {
	needTool(t, "ffmpeg")
	exe := needChromium(t)
	s := startServer(t, "")
	base := s.httpBase()
	pushFile(t, s, base, "cam", encodedClip(t, 20, false, x265))
	b := startBrowser(t, exe)
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: advanceJS}); err != nil {
		t.Fatal(err)
	}
	b.do(30*time.Second, "open the live page", chromedp.Navigate(base+"/live/cam"),
		chromedp.Poll[chromedp.Void](`(() => { const s = document.getElementById('status').textContent;
  return s === 'Live' || s.startsWith('This browser cannot play'); })()`, chromedp.WithPollingTimeout(20*time.Second)))
	got := eval[struct {
		Status, MIME string
		Supported    bool
	}](b, `({Status: document.getElementById('status').textContent, MIME: window.liveMIME,
  Supported: MediaSource.isTypeSupported(window.liveMIME)})`)
	t.Logf("%s: supported %v; the page says %q", got.MIME, got.Supported, got.Status)
	if !strings.HasPrefix(got.MIME, `video/mp4; codecs="hvc1.`) {
		t.Errorf("MSE type %q, want video/mp4 with an hvc1 codecs string", got.MIME)
	}
	switch {
	case got.Supported && got.Status != "Live":
		t.Errorf("the browser takes %s but the page says %q", got.MIME, got.Status)
	case !got.Supported && !strings.Contains(got.Status, got.MIME):
		t.Errorf("the browser refuses %s; the page says %q without naming it", got.MIME, got.Status)
	}
	b.console.check(t)
}

//go:build interop

package interop

// The headless Chromium of the web page's tests (web_test.go): started with
// chromedp on Debian's chromium, its console watched, its login dialog
// answered, and pointer input sent as a user's.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// needChromium returns Debian's chromium, skipping (outside CI) or failing
// (in CI) when it is not installed.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	needTool(t, "chromium") // skips or fails
	return ""
}

// browser is one headless Chromium driven over the DevTools protocol.
type browser struct {
	t       *testing.T
	ctx     context.Context
	console *consoleLog
	wg      sync.WaitGroup // the goroutines of answerLogins
}

// startBrowser runs chromium headless with a fresh profile; t.Cleanup
// stops it and waits for the process and chromedp's goroutines.
func startBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 900),
		// The page shows local times with UTC on hover: a zone other
		// than UTC tells them apart.
		chromedp.Env("TZ=Europe/Berlin"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	b := &browser{t: t, ctx: ctx, console: &consoleLog{done: make(chan struct{})}}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser process
		<-b.console.done
		b.wg.Wait()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser and opens the tab
		close(b.console.done)
		t.Fatalf("start chromium: %v", err)
	}
	b.console.collect(ctx)
	return b
}

// consoleLog keeps what the page wrote to the console, uncaught exceptions
// and browser log entries (a Content-Security-Policy violation among them).
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage // guarded by mu
	done chan struct{}
}

func (c *consoleLog) collect(ctx context.Context) {
	messages := chromedp.Console(ctx)
	go func() {
		defer close(c.done)
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
		}
	}()
}

// check fails the test on an exception or a violation of the page's
// Content-Security-Policy, and logs the rest.
func (c *consoleLog) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			t.Errorf("page console: %s (%s:%d)", m, m.URL, m.Line)
		} else {
			t.Logf("page console: %s", m)
		}
	}
}

// loginAnswer is what the browser's login dialog answers, as a user would:
// cancel it, or give a name and password.
type loginAnswer struct {
	mu    sync.Mutex
	reply fetch.AuthChallengeResponse // guarded by mu
	asked int                         // guarded by mu
}

func (l *loginAnswer) set(r *fetch.AuthChallengeResponse) {
	l.mu.Lock()
	l.reply = *r
	l.mu.Unlock()
}

func (l *loginAnswer) next() *fetch.AuthChallengeResponse {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked++
	r := l.reply
	return &r
}

func (l *loginAnswer) answered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.asked
}

// answerLogins takes the place of the browser's login dialog, which
// headless Chromium cannot show: every request passes through the Fetch
// domain, and each Basic challenge gets the returned answer (cancel until
// set). Its goroutines end with the browser.
func (b *browser) answerLogins() *loginAnswer {
	b.t.Helper()
	l := &loginAnswer{reply: fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}}
	paused := chromedp.Events(b.ctx, fetch.RequestPaused) // subscribed before the domain is enabled
	challenges := chromedp.Events(b.ctx, fetch.AuthRequired)
	b.wg.Go(func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID}) // fails only as the browser stops
		}
	})
	b.wg.Go(func() {
		for ev, err := range challenges {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(b.ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID, AuthChallengeResponse: l.next()})
		}
	})
	handle := true
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handle}); err != nil {
		b.t.Fatalf("enable the Fetch domain: %v", err)
	}
	return l
}

// do runs the actions, bounded by timeout.
func (b *browser) do(timeout time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.console.check(b.t)
		b.t.Fatalf("%s: %v", what, err)
	}
}

// waitPlaying waits until the page's <video> has played past 1 s.
func (b *browser) waitPlaying() {
	b.t.Helper()
	b.do(45*time.Second, "video.currentTime passes 1 s", chromedp.Poll[chromedp.Void](
		`document.getElementById('video').currentTime > 1`, chromedp.WithPollingTimeout(40*time.Second)))
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot saves a full-page screenshot as a test artifact: under
// $CAMVAULT_ARTIFACTS when set, else t.ArtifactDir (kept with -artifacts).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("CAMVAULT_ARTIFACTS")
	if dir == "" {
		dir = b.t.ArtifactDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s (%d bytes)", p, len(png))
}

// touchGesture moves fingers across height y, each from its [0] to its
// [1] x, in ten steps, then lifts them: one finger drags, two pinch.
func touchGesture(y float64, fingers ...[2]float64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		send := func(typ input.DispatchTouchEventType, step float64) error {
			p := input.DispatchTouchEventParams{Type: typ, TouchPoints: []*input.TouchPoint{}}
			if typ != input.DispatchTouchEventTypeTouchEnd { // a touchEnd lists the fingers still down: none
				for i, f := range fingers {
					id := float64(i)
					p.TouchPoints = append(p.TouchPoints, &input.TouchPoint{X: f[0] + (f[1]-f[0])*step, Y: y, ID: &id})
				}
			}
			_, err := cdp.Call(ctx, t, input.DispatchTouchEvent, p)
			return err
		}
		if err := send(input.DispatchTouchEventTypeTouchStart, 0); err != nil {
			return err
		}
		for i := 1; i <= 10; i++ {
			if err := send(input.DispatchTouchEventTypeTouchMove, float64(i)/10); err != nil {
				return err
			}
		}
		return send(input.DispatchTouchEventTypeTouchEnd, 1)
	})
}

// mouseDrag presses the left button at x0, moves to x1 in steps and
// releases it, at height y.
func mouseDrag(x0, x1, y float64) chromedp.Action[chromedp.Void] {
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, x0, y, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for i := 1; i <= 10; i++ {
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x0+(x1-x0)*float64(i)/10, y, chromedp.ButtonLeft))
	}
	return chromedp.Steps(append(steps, chromedp.MouseEvent(chromedp.MouseReleased, x1, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))...)
}

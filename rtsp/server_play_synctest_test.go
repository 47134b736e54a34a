package rtsp_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/internal/rtspservertest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
)

// lockedBuffer collects log output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runPipeServerWith is runPipeServer that also returns the server.
func runPipeServerWith(t *testing.T, cfg rtsp.Config) (*pipeListener, *rtsp.Server, func()) {
	l := newPipeListener()
	cfg.Listener, cfg.DisableUDP = l, true
	srv, stop := rtspservertest.Run(t, cfg)
	return l, srv, stop
}

// playPipe describes path, sets up its tracks over TCP and plays; it
// returns the session id and the frames of the first burst.
func playPipe(t *testing.T, c *client, path string, burst int) string {
	t.Helper()
	base := c.URL + "/" + path
	c.describe(base)
	id := c.setupPlayTCP(base+"/trackID=0", base+"/trackID=1")
	resp, early := c.Request("PLAY", base+"/", []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if len(early) != 0 {
		t.Fatal("frames before the PLAY response")
	}
	if burst > 0 {
		checkFrames(t, c.Frames(2*burst), burst)
	}
	return id
}

// TestSlowViewerDropped covers SEC-07 and RTSP-IL-05: a viewer that stops
// reading is dropped after WriteTimeout (ErrSlowClient to the sender and
// to Close, logged once, counted) while another viewer of the same server
// keeps receiving.
func TestSlowViewerDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := ffmpegHandler()
		logs := &lockedBuffer{}
		l, srv, stop := runPipeServerWith(t, rtsp.Config{Handler: h, MediaQueueSize: 8,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		defer stop()
		good := l.dial(t)
		goodID := playPipe(t, good, "archive/cam1", 3)
		slow := l.dial(t)
		playPipe(t, slow, "archive/flood", 0) // floods and never reads again
		flood := h.presentation(t, 1)
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if flood.isClosed() {
			t.Fatal("dropped before WriteTimeout")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if reason := flood.waitClosed(t); !errors.Is(reason, rtsp.ErrSlowClient) {
			t.Fatalf("close reason %v", reason)
		}
		if err := flood.lastSendErr(); !errors.Is(err, rtsp.ErrSlowClient) && !errors.Is(err, rtsp.ErrSessionClosed) {
			t.Fatalf("sender error %v", err)
		}
		if n := strings.Count(logs.String(), "rtsp viewer dropped"); n != 1 {
			t.Fatalf("%d drop log lines:\n%s", n, logs.String())
		}
		// The other viewer is unaffected: seek and receive again.
		if st := srv.Stats(); st.SlowClients != 1 {
			t.Fatalf("stats %+v", st)
		}
		resp, _ := good.Request("PLAY", good.URL+"/archive/cam1/", []string{"Session: " + goodID, "Range: npt=10-"})
		rtsptest.ExpectStatus(t, resp, 200)
		checkFrames(t, good.Frames(6), 3)
		if h.presentation(t, 0).isClosed() {
			t.Fatal("good viewer closed")
		}
	})
}

// TestPlayingTCPExpiry covers RTSP-SES-06 and issue 9 row 11: a Playing
// TCP session lives while its viewer sends keepalives; a silent one
// expires after timeout + grace like a Ready one, so silent viewers cannot
// hold playback slots for ever. Requests are read while the writer is
// blocked (ONVIF-14), so a backpressured viewer's keepalives still count.
func TestPlayingTCPExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := ffmpegHandler()
		l, stop := runPipeServer(t, rtsp.Config{Handler: h})
		defer stop()
		alive := l.dial(t)
		aliveID := playPipe(t, alive, "archive/cam1", 3)
		silent := l.dial(t)
		playPipe(t, silent, "archive/cam2", 3)
		ready := l.dial(t)
		ready.describe(ready.URL + "/archive/cam3")
		ready.setupPlayTCP(ready.URL+"/archive/cam3/trackID=0", ready.URL+"/archive/cam3/trackID=1")
		for range 10 { // 5 minutes of keepalives every 30 s
			time.Sleep(30 * time.Second)
			resp, _ := alive.Request("GET_PARAMETER", alive.URL+"/archive/cam1/", []string{"Session: " + aliveID})
			rtsptest.ExpectStatus(t, resp, 200)
		}
		synctest.Wait()
		if h.presentation(t, 0).isClosed() {
			t.Fatal("playing TCP session with keepalives expired")
		}
		for i, c := range []*client{silent, ready} {
			if reason := h.presentation(t, i+1).waitClosed(t); !errors.Is(reason, rtsp.ErrSessionTimeout) {
				t.Fatalf("silent session %d: %v", i, reason)
			}
			c.ExpectClosed()
		}
		alive.Conn.Close()
		if reason := h.presentation(t, 0).waitClosed(t); !errors.Is(reason, rtsp.ErrConnClosed) {
			t.Fatalf("playing session: %v", reason)
		}
	})
}

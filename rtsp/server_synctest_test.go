package rtsp_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
)

// pipeListener hands out net.Pipe connections, so that a server runs
// entirely inside a synctest bubble.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

func (l *pipeListener) dial(t *testing.T) *client {
	a, b := net.Pipe()
	l.conns <- b
	t.Cleanup(func() { a.Close() })
	return newClient(t, a, "rtsp://nvr:8554")
}

// runPipeServer starts a TCP-only server on a pipeListener inside the
// current bubble; the returned stop shuts it down and waits.
func runPipeServer(t *testing.T, cfg rtsp.Config) (*pipeListener, func()) {
	l, _, stop := runPipeServerWith(t, cfg)
	return l, stop
}

// recordingPipe announces and sets up cam1 over TCP and starts RECORD.
func recordingPipe(t *testing.T, c *client) string {
	c.announce("cam1")
	id := c.setupTCP("cam1", "record")
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	return id
}

// TestSessionTimeoutKeepalive covers RTSP-SES-04/05: a ready-record session
// lives on GET_PARAMETER keepalives every T/2 (ffmpeg, CLI-05), then expires
// T+grace after the last one.
func TestSessionTimeoutKeepalive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := ffmpegHandler()
		l, stop := runPipeServer(t, rtsp.Config{Handler: h})
		defer stop()
		c := l.dial(t)
		c.announce("cam1")
		id := c.setupTCP("cam1", "record")
		for range 10 { // five minutes
			time.Sleep(30 * time.Second)
			rtsptest.ExpectStatus(t, c.Do("GET_PARAMETER", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
		}
		time.Sleep(69 * time.Second)
		synctest.Wait()
		select {
		case <-h.pub(0).closed:
			t.Fatal("closed before timeout+grace")
		default:
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrSessionTimeout) {
			t.Fatalf("reason %v", reason)
		}
		c.ExpectClosed() // the TCP session's connection goes with it
	})
}

// TestSessionKeepaliveMethods: OPTIONS and SET_PARAMETER with Session also
// refresh (RTSP-M-02, RTSP-M-38).
func TestSessionKeepaliveMethods(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := ffmpegHandler()
		l, stop := runPipeServer(t, rtsp.Config{Handler: h})
		defer stop()
		c := l.dial(t)
		c.announce("cam1")
		id := c.setupTCP("cam1", "record")
		for i := range 6 {
			time.Sleep(55 * time.Second) // GStreamer: T-5s (CLI-11)
			m := "OPTIONS"
			if i%2 == 1 {
				m = "SET_PARAMETER"
			}
			rtsptest.ExpectStatus(t, c.Do(m, c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
		}
		synctest.Wait()
		if _, _, reason, _ := h.pub(0).snapshot(); reason != nil {
			t.Fatalf("closed: %v", reason)
		}
	})
}

// TestMediaTimeout covers RTSP-M-33: a recording lives while media flows
// and ends MediaTimeout after the last packet; RTCP alone also counts.
func TestMediaTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := ffmpegHandler()
		l, stop := runPipeServer(t, rtsp.Config{Handler: h})
		defer stop()
		c := l.dial(t)
		recordingPipe(t, c)
		for i := range 120 { // two minutes of media, no RTSP keepalive (ffmpeg over TCP)
			ch := byte(0)
			if i%10 == 9 {
				ch = 1 // RTCP only, every tenth second
			}
			c.Write(rtsptest.Frame(ch, rtpPacket))
			time.Sleep(time.Second)
		}
		synctest.Wait()
		if _, _, reason, _ := h.pub(0).snapshot(); reason != nil {
			t.Fatalf("closed while media flows: %v", reason)
		}
		time.Sleep(11 * time.Second)
		synctest.Wait()
		if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrMediaTimeout) {
			t.Fatalf("reason %v", reason)
		}
		c.ExpectClosed()
	})
}

// TestIdleTimeout covers SEC-02: a connection without a session is closed
// after IdleTimeout; an announced publication goes with it.
func TestIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := ffmpegHandler()
		l, stop := runPipeServer(t, rtsp.Config{Handler: h, IdleTimeout: 30 * time.Second})
		defer stop()
		c := l.dial(t)
		c.announce("cam1")
		time.Sleep(29 * time.Second)
		rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200) // a request restarts the idle timer
		time.Sleep(29 * time.Second)
		synctest.Wait()
		rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200)
		time.Sleep(31 * time.Second)
		c.ExpectClosed()
		if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrConnClosed) {
			t.Fatalf("reason %v", reason)
		}
	})
}

// TestHandshakeTimeout covers SEC-02: a request must complete within
// HandshakeTimeout of its first byte.
func TestHandshakeTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, stop := runPipeServer(t, rtsp.Config{Handler: ffmpegHandler()})
		defer stop()
		c := l.dial(t)
		c.Write("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n") // never finished
		time.Sleep(11 * time.Second)
		c.ExpectClosed()
	})
}

// TestTCPSessionDiesWithConn (RTSP-SES-06) under synctest, with shutdown
// closing nothing twice.
func TestShutdownWhileRecording(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := ffmpegHandler()
		l, stop := runPipeServer(t, rtsp.Config{Handler: h})
		c := l.dial(t)
		recordingPipe(t, c)
		c.Write(rtsptest.Frame(0, rtpPacket))
		stop()
		if reason := h.pub(0).waitClosed(t); !errors.Is(reason, rtsp.ErrServerClosed) {
			t.Fatalf("reason %v", reason)
		}
	})
}

// TestTCPPublisherHeldBack covers issue 9, item 8: a TCP publication that
// blocks in RTP (its recording waits for a full write queue) stops the
// server reading that connection only. While cam1's publication holds its
// first packet for 20 s, the server does not read cam1's next frame (the
// peer's write stays blocked), does not expire cam1's session, and still
// serves cam2, whose media timeout fires on time. Once RTP returns, cam1's
// connection is read again and nothing was lost.
func TestTCPPublisherHeldBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{})
		h := ffmpegHandler()
		h.holdPath, h.hold = "cam1", hold
		l, stop := runPipeServer(t, rtsp.Config{Handler: h})
		defer stop()
		release := sync.OnceFunc(func() { close(hold) })
		defer release() // before stop, also when the test fails
		held := l.dial(t)
		recordingPipe(t, held)
		other := l.dial(t)
		other.announce("cam2")
		id := other.setupTCP("cam2", "record")
		rtsptest.ExpectStatus(t, other.Do("RECORD", other.URL+"/cam2", []string{"Session: " + id}, ""), 200)
		if !h.pub(0).recordInfo().TCP {
			t.Fatal("RecordInfo.TCP false for an interleaved publisher")
		}

		held.Write(rtsptest.Frame(0, rtpPacket)) // read; RTP holds it
		sent := make(chan error, 1)
		go func() {
			_, err := io.WriteString(held.Conn, rtsptest.Frame(0, rtpPacket))
			sent <- err
		}()
		for range 2 {
			other.Write(rtsptest.Frame(0, rtpPacket))
			time.Sleep(time.Second)
		}
		time.Sleep(18 * time.Second) // cam2 silent: its media timeout (10 s) passes
		synctest.Wait()
		select {
		case err := <-sent:
			t.Fatalf("the server read the held connection (write: %v)", err)
		default:
		}
		if reason := h.pub(1).waitClosed(t); !errors.Is(reason, rtsp.ErrMediaTimeout) {
			t.Fatalf("cam2 closed with %v, want its media timeout while cam1 was held", reason)
		}
		if _, pkts, reason, _ := h.pub(0).snapshot(); len(pkts) != 1 || reason != nil {
			t.Fatalf("cam1 while held: %d packets, closed with %v; want 1, open", len(pkts), reason)
		}

		release()
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		held.Write(rtsptest.Frame(0, rtpPacket))
		h.pub(0).waitPackets(t, 3)
		time.Sleep(2 * time.Second) // a reaper tick or two: the session lives on
		synctest.Wait()
		if _, _, reason, v := h.pub(0).snapshot(); reason != nil || v != "" {
			t.Fatalf("cam1 after the hold: closed with %v %s", reason, v)
		}
	})
}

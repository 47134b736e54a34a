//go:build interop

package rtsp_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtspservertest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/headers"
)

// What ffmpeg 5.1 and GStreamer 1.22 rtspsrc do with redirects, as these
// tests found and assert (so that they fail when it changes):
//
//   - 301/302 on DESCRIBE: both follow, with OPTIONS and DESCRIBE on a
//     new connection (ffmpeg: ff_rtsp_connect's "goto redirect" on a 3xx
//     answer to its OPTIONS or DESCRIBE, keeping the first URL's
//     credentials). Neither has a hop limit: both follow a loop for ever.
//   - 302 on PLAY: ffmpeg sends TEARDOWN and fails ("method PLAY failed"
//     is not even logged for a 3xx). GStreamer sends TEARDOWN to the old
//     server, then DESCRIBE, SETUP and PLAY to Location, and plays; it
//     fails if that TEARDOWN gets 454, which is why the server keeps the
//     session of a redirected PLAY until TEARDOWN or RedirectGrace.
//   - A REDIRECT request while playing: ffmpeg answers "RTSP/1.0 501 Not
//     Implemented" without CSeq (ff_rtsp_read_reply answers 200 to OPTIONS
//     only), rtspsrc "200 OK" (gst_rtspsrc_handle_request: "FIXME, handle
//     server request, reply with OK, for now"). Neither tears down nor
//     contacts Location; both keep playing until the session ends with
//     ErrRedirected after RedirectGrace, the server closes the connection,
//     and they stop with exit status 0 (ffmpeg at end of file, GStreamer
//     on "The server closed the connection" and EOS).

// interopTool skips (outside CI) or fails (in CI) when name is missing.
func interopTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
}

// toneSDP is one PCMU track: static payload 0, which every client plays
// without codec parameters.
const toneSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=redirect interop\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n" +
	"a=control:*\r\nm=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:trackID=0\r\n"

// hopHandler serves "hop/K" (a 301 or 302 to hop/K+1 below hops, a tone
// from hops on), "loop/K" (always a 302 to loop/K+1), "tone" and
// "playmoved" (a tone whose PLAY is answered 302 to moveTo).
type hopHandler struct {
	addr   string
	hops   int
	moveTo string

	mu        sync.Mutex
	describes int
	tones     []*tone
	played    chan *tone // each PLAY of a tone
}

func newHopHandler(hops int) *hopHandler {
	return &hopHandler{hops: hops, played: make(chan *tone, 16)}
}

func (h *hopHandler) Announce(context.Context, *rtsp.AnnounceRequest) (rtsp.Publication, error) {
	return nil, errors.New("no publishing here")
}

func (h *hopHandler) Describe(_ context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.describes++
	kind, n, _ := strings.Cut(req.Path, "/")
	k, _ := strconv.Atoi(n)
	switch {
	case kind == "hop" && k < h.hops:
		return nil, &rtsp.RedirectError{Location: fmt.Sprintf("rtsp://%s/hop/%d", h.addr, k+1), Permanent: k%2 == 1}
	case kind == "loop":
		return nil, &rtsp.RedirectError{Location: fmt.Sprintf("rtsp://%s/loop/%d", h.addr, k+1)}
	}
	tn := &tone{played: h.played}
	if kind == "playmoved" {
		tn.playErr = &rtsp.RedirectError{Location: h.moveTo}
	}
	h.tones = append(h.tones, tn)
	return tn, nil
}

// describeCount returns how many DESCRIBEs the handler answered.
func (h *hopHandler) describeCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.describes
}

// tone is a Presentation that sends 20 ms PCMU packets in real time
// while playing.
type tone struct {
	playErr error
	played  chan<- *tone

	mu      sync.Mutex
	out     rtsp.Output
	redir   rtsp.Redirector
	stop    chan struct{}
	wg      sync.WaitGroup
	sent    int
	reason  error
	closedC chan struct{}
}

func (tn *tone) SDP() []byte             { return []byte(toneSDP) }
func (tn *tone) Controls() []string      { return []string{"trackID=0"} }
func (tn *tone) Supports(string) bool    { return false }
func (tn *tone) SSRC(int) (uint32, bool) { return 0x7e57, true }

func (tn *tone) Play(req *rtsp.PlayRequest) (*rtsp.PlayResponse, error) {
	tn.halt()
	if tn.playErr != nil {
		return nil, tn.playErr
	}
	tn.mu.Lock()
	tn.out, tn.redir = req.Out, req.Redirect
	stop := make(chan struct{})
	tn.stop = stop
	if tn.closedC == nil {
		tn.closedC = make(chan struct{})
	}
	tn.mu.Unlock()
	select {
	case tn.played <- tn:
	default:
	}
	return &rtsp.PlayResponse{
		Range:   headers.Range{Unit: headers.RangeNPT, Start: &headers.RangePoint{}},
		Streams: []rtsp.StreamStart{{Seq: 1, RTPTime: 0}},
		Start:   func() { tn.wg.Go(func() { tn.send(req.Out, stop) }) },
	}, nil
}

// send writes a packet every 20 ms until stop or an Output error.
func (tn *tone) send(out rtsp.Output, stop <-chan struct{}) {
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	binary.BigEndian.PutUint32(pkt[8:], 0x7e57)
	for i := range pkt[12:] {
		pkt[12+i] = 0xff // mu-law silence
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		binary.BigEndian.PutUint16(pkt[2:], uint16(1+n))
		binary.BigEndian.PutUint32(pkt[4:], uint32(160*n))
		if out.WriteRTP(0, pkt) != nil {
			return
		}
		tn.mu.Lock()
		tn.sent++
		tn.mu.Unlock()
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

func (tn *tone) halt() {
	tn.mu.Lock()
	if tn.stop != nil {
		close(tn.stop)
		tn.stop = nil
	}
	tn.mu.Unlock()
	tn.wg.Wait()
}

func (tn *tone) Pause() (headers.Range, error) {
	tn.halt()
	return headers.Range{}, nil
}

func (tn *tone) Close(reason error) {
	tn.halt()
	tn.mu.Lock()
	defer tn.mu.Unlock()
	tn.reason = reason
	if tn.closedC == nil {
		tn.closedC = make(chan struct{})
	}
	close(tn.closedC)
}

// packets returns how many packets the tone sent.
func (tn *tone) packets() int {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.sent
}

// closed returns the channel closed by Close and the reason.
func (tn *tone) closed() (<-chan struct{}, error) {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.closedC, tn.reason
}

// hopServer runs a server with a hopHandler on loopback.
func hopServer(t *testing.T, h *hopHandler, cfg rtsp.Config) *rtsp.Server {
	t.Helper()
	cfg.Handler, cfg.DisableUDP = h, true
	srv := rtspservertest.Start(t, cfg)
	h.mu.Lock()
	h.addr = srv.Addr().String()
	h.mu.Unlock()
	return srv
}

// player is a running ffmpeg or gst-launch, stopped when the test ends.
type player struct {
	cmd    *exec.Cmd
	out    *rtsptest.SyncBuffer
	exited chan struct{}
	err    error // after exited
}

// startPlayer runs the client named by kind ("ffmpeg", "ffmpeg-http"
// through an HTTP tunnel, "ffprobe" or "gst") on url; ffmpeg stops after seconds of media when seconds > 0.
func startPlayer(t *testing.T, kind, url string, seconds float64) *player {
	t.Helper()
	var args []string
	switch kind {
	case "ffmpeg", "ffmpeg-http":
		interopTool(t, "ffmpeg")
		transport := "tcp"
		if kind == "ffmpeg-http" {
			transport = "http" // RTSP over HTTP (RTSP-HT)
		}
		args = []string{"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "info", "-rtsp_transport", transport, "-i", url}
		if seconds > 0 {
			args = append(args, "-t", strconv.FormatFloat(seconds, 'f', -1, 64))
		}
		args = append(args, "-f", "null", "-")
	case "ffprobe":
		interopTool(t, "ffprobe")
		args = []string{"ffprobe", "-hide_banner", "-rtsp_transport", "tcp", "-show_streams", url}
	case "gst":
		interopTool(t, "gst-launch-1.0")
		args = []string{"gst-launch-1.0", "rtspsrc", "location=" + url, "protocols=tcp", "!", "fakesink"}
	}
	p := &player{cmd: exec.Command(args[0], args[1:]...), out: &rtsptest.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // already exited, or stopped here: nothing to report
		<-p.exited
		if t.Failed() {
			t.Logf("%s output:\n%s", kind, p.out.String())
		}
	})
	return p
}

// running reports whether the player has not exited yet.
func (p *player) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitExit waits for the player to exit and returns its error.
func (p *player) waitExit(t *testing.T) error {
	t.Helper()
	rtsptest.Receive(t, "the player to exit", p.exited)
	return p.err
}

// TestInteropRedirectDescribe: a chain of 301/302 answers to DESCRIBE is
// followed to its end by ffmpeg, ffprobe and GStreamer, which then play.
func TestInteropRedirectDescribe(t *testing.T) {
	for _, kind := range []string{"ffmpeg", "ffprobe", "gst"} {
		t.Run(kind, func(t *testing.T) {
			h := newHopHandler(8)
			srv := hopServer(t, h, rtsp.Config{})
			p := startPlayer(t, kind, "rtsp://"+srv.Addr().String()+"/hop/0", 0.5)
			tn := rtsptest.Receive(t, "PLAY of the chain's end", h.played)
			rtsptest.WaitFor(t, "packets sent", func() bool { return tn.packets() >= 10 || !p.running() })
			if n := h.describeCount(); n != 9 {
				t.Fatalf("%d DESCRIBEs, want 9 (8 redirects and the tone)", n)
			}
			if st := srv.Stats(); st.Redirects != 8 {
				t.Fatalf("%d redirects answered, want 8", st.Redirects)
			}
			if kind != "gst" {
				if err := p.waitExit(t); err != nil || !strings.Contains(p.out.String(), "Redirecting to") {
					t.Fatalf("%s: %v\n%s", kind, err, p.out.String())
				}
			}
			if kind == "ffprobe" && !strings.Contains(p.out.String(), "codec_name=pcm_mulaw") {
				t.Fatalf("ffprobe found no PCMU stream:\n%s", p.out.String())
			}
		})
	}
}

// TestInteropRedirectLoop: a redirect loop on DESCRIBE. Neither client
// has a hop limit: both are still at it after loopHops redirects (500
// were tried too).
func TestInteropRedirectLoop(t *testing.T) {
	const loopHops = 200
	for _, kind := range []string{"ffmpeg", "gst"} {
		t.Run(kind, func(t *testing.T) {
			h := newHopHandler(0)
			srv := hopServer(t, h, rtsp.Config{})
			p := startPlayer(t, kind, "rtsp://"+srv.Addr().String()+"/loop/0", 0)
			rtsptest.WaitFor(t, "a long loop or the player's end", func() bool {
				return h.describeCount() >= loopHops || !p.running()
			})
			t.Logf("%s: %d DESCRIBEs, running %v", kind, h.describeCount(), p.running())
			if !p.running() {
				t.Fatalf("%s gave up after %d redirects", kind, h.describeCount())
			}
		})
	}
}

// TestInteropRedirectPlay: a 302 answer to PLAY. ffmpeg fails (after
// a TEARDOWN) and does not contact the target; GStreamer tears the
// session down (which the server kept for it) and plays at the target.
func TestInteropRedirectPlay(t *testing.T) {
	for _, kind := range []string{"ffmpeg", "gst"} {
		t.Run(kind, func(t *testing.T) {
			target := newHopHandler(0)
			tsrv := hopServer(t, target, rtsp.Config{})
			h := newHopHandler(0)
			h.moveTo = "rtsp://" + tsrv.Addr().String() + "/tone"
			srv := hopServer(t, h, rtsp.Config{})
			p := startPlayer(t, kind, "rtsp://"+srv.Addr().String()+"/playmoved", 0.5)
			if kind == "ffmpeg" {
				if err := p.waitExit(t); err == nil || target.describeCount() != 0 {
					t.Fatalf("ffmpeg followed a PLAY redirect (exit %v, %d DESCRIBEs at the target)", err, target.describeCount())
				}
			} else {
				tn := rtsptest.Receive(t, "PLAY at the target", target.played)
				rtsptest.WaitFor(t, "packets sent", func() bool { return tn.packets() >= 10 })
			}
			h.mu.Lock()
			first := h.tones[0] // described before the PLAY that both clients got to
			h.mu.Unlock()
			if reason := waitToneClosed(t, first); !errors.Is(reason, rtsp.ErrTeardown) {
				t.Fatalf("first session ended with %v, want ErrTeardown", reason)
			}
		})
	}
}

// waitToneClosed waits for tn's Close and returns its reason.
func waitToneClosed(t *testing.T, tn *tone) error {
	t.Helper()
	closedC, _ := tn.closed()
	rtsptest.Receive(t, "the session's end", closedC)
	_, reason := tn.closed()
	return reason
}

// TestInteropRedirectRequest: a REDIRECT request while playing. ffmpeg
// answers 501 (without CSeq; through an HTTP tunnel too, its answer
// base64 in the POST), GStreamer 200 (its default answer to any
// server request); neither tears down nor contacts Location: the session
// ends with ErrRedirected after RedirectGrace, the server closes the
// connection and the client ends with exit status 0.
func TestInteropRedirectRequest(t *testing.T) {
	for kind, status := range map[string]string{"ffmpeg": "status=501", "ffmpeg-http": "status=501", "gst": "status=200"} {
		t.Run(kind, func(t *testing.T) {
			target := newHopHandler(0)
			tsrv := hopServer(t, target, rtsp.Config{})
			h := newHopHandler(0)
			log, logs := captureLogger()
			srv := hopServer(t, h, rtsp.Config{RedirectGrace: 2 * time.Second, Logger: log})
			p := startPlayer(t, kind, "rtsp://"+srv.Addr().String()+"/tone", 0)
			tn := rtsptest.Receive(t, "PLAY", h.played)
			rtsptest.WaitFor(t, "packets sent", func() bool { return tn.packets() >= 10 })
			tn.mu.Lock()
			redir := tn.redir
			tn.mu.Unlock()
			if err := redir.Redirect("rtsp://"+tsrv.Addr().String()+"/tone", nil); err != nil {
				t.Fatal(err)
			}
			var answer string
			rtsptest.WaitFor(t, "the answer to REDIRECT", func() bool {
				_, answer, _ = strings.Cut(logs.String(), `msg="rtsp request answered"`)
				answer, _, _ = strings.Cut(answer, "\n")
				return answer != ""
			})
			reason := waitToneClosed(t, tn)
			err := p.waitExit(t)
			t.Logf("%s: answer%s, session end %v, exit %v", kind, answer, reason, err)
			if !strings.Contains(answer, status) || !errors.Is(reason, rtsp.ErrRedirected) || err != nil || target.describeCount() != 0 {
				t.Fatalf("%s: answer%s (want %s), session end %v, exit %v, %d DESCRIBEs at the target",
					kind, answer, status, reason, err, target.describeCount())
			}
			if st := srv.Stats(); st.UnexpectedResponses != 0 || st.RedirectRequests != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

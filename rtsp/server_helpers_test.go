package rtsp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// fakeHandler hands out fakePubs with fixed controls.
type fakeHandler struct {
	controls []string
	err      error
	panicOn  string // path that makes Announce panic
	// holdPath's publication blocks in every RTP call until hold is closed
	// (a recording waiting for a full write queue).
	holdPath string
	hold     chan struct{}

	mu    sync.Mutex
	reqs  []*rtsp.AnnounceRequest
	pubs  []*fakePub
	dreqs []*rtsp.DescribeRequest
	pres  []*fakePres
}

func (h *fakeHandler) Announce(_ context.Context, req *rtsp.AnnounceRequest) (rtsp.Publication, error) {
	if req.Path == h.panicOn {
		panic("announce panic")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reqs = append(h.reqs, req)
	if h.err != nil {
		return nil, h.err
	}
	p := &fakePub{controls: h.controls, closed: make(chan struct{})}
	if req.Path == h.holdPath {
		p.hold = h.hold
	}
	h.pubs = append(h.pubs, p)
	return p, nil
}

func (h *fakeHandler) pub(i int) *fakePub {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i >= len(h.pubs) {
		return nil
	}
	return h.pubs[i]
}

// packet is one delivered RTP or RTCP packet.
type packet struct {
	stream int
	rtcp   bool
	data   string
}

// fakePub records what the server does to a publication and checks the
// Publication contract: Record once, no packet outside Record..Close, one Close.
type fakePub struct {
	controls []string
	closed   chan struct{}
	hold     <-chan struct{} // RTP blocks until it is closed

	mu        sync.Mutex
	records   int
	info      rtsp.RecordInfo
	packets   []packet
	reason    error
	closes    int
	violation string
}

func (p *fakePub) Controls() []string { return p.controls }

func (p *fakePub) Record(info rtsp.RecordInfo) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records++
	p.info = info
	if p.records > 1 {
		p.violation = "Record called twice"
	}
	return nil
}

func (p *fakePub) add(pk packet) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.records == 0 || p.closes > 0 {
		p.violation = "packet outside Record..Close"
	}
	p.packets = append(p.packets, pk)
}

func (p *fakePub) RTP(stream int, data []byte) {
	p.add(packet{stream, false, string(data)})
	if p.hold != nil {
		<-p.hold
	}
}

// recordInfo returns what Record was told.
func (p *fakePub) recordInfo() rtsp.RecordInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}
func (p *fakePub) RTCP(stream int, data []byte) { p.add(packet{stream, true, string(data)}) }

func (p *fakePub) Close(reason error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closes++
	if p.closes > 1 {
		p.violation = "Close called twice"
		return
	}
	p.reason = reason
	close(p.closed)
}

func (p *fakePub) snapshot() (records int, pkts []packet, reason error, violation string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.records, append([]packet(nil), p.packets...), p.reason, p.violation
}

// waitClosed waits for Close and returns its reason.
func (p *fakePub) waitClosed(t *testing.T) error {
	t.Helper()
	select {
	case <-p.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("publication not closed")
	}
	_, _, reason, v := p.snapshot()
	if v != "" {
		t.Fatal(v)
	}
	return reason
}

// waitPackets waits until n packets arrived.
func (p *fakePub) waitPackets(t *testing.T, n int) []packet {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, pkts, _, v := p.snapshot()
		if v != "" {
			t.Fatal(v)
		}
		if len(pkts) >= n {
			return pkts
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d packets, want %d", len(pkts), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startServer runs a server on loopback and registers its shutdown and a
// goroutine-leak check.
func startServer(t *testing.T, cfg rtsp.Config) *rtsp.Server {
	t.Helper()
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	cfg.UDPRTPAddress, cfg.UDPRTCPAddress = "127.0.0.1:0", "127.0.0.1:0"
	srv, err := rtsp.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		checkNoLeaks(t)
	})
	return srv
}

// checkNoLeaks fails if goroutines of package rtsp survive shutdown.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "camvault/camvault/rtsp.(*") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("leaked goroutines:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// client is a scripted RTSP peer.
type client struct {
	t    *testing.T
	nc   net.Conn
	br   *bufio.Reader
	cseq int
	url  string // base URL, e.g. rtsp://127.0.0.1:port
	udp  []udpPeer
}

func dial(t *testing.T, srv *rtsp.Server) *client {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return newClient(t, nc, "rtsp://"+srv.Addr().String())
}

func newClient(t *testing.T, nc net.Conn, base string) *client {
	return &client{t: t, nc: nc, br: bufio.NewReader(nc), url: base}
}

// write sends raw bytes.
func (c *client) write(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one response.
func (c *client) read() *base.Response {
	c.t.Helper()
	var resp base.Response
	if err := resp.Unmarshal(c.br, base.Limits{}); err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	return &resp
}

// do sends method url with the given header lines and body, and reads the
// response, checking the echoed CSeq (RTSP-MSG-05).
func (c *client) do(method, url string, headers []string, body string) *base.Response {
	c.t.Helper()
	c.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, c.cseq)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	c.write(b.String())
	resp := c.read()
	if got := resp.Header.Get("CSeq"); got != fmt.Sprint(c.cseq) {
		c.t.Fatalf("%s: CSeq %q, want %d", method, got, c.cseq)
	}
	return resp
}

// expectStatus checks a response status.
func expectStatus(t *testing.T, resp *base.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		b, _ := resp.Marshal()
		t.Fatalf("status %d, want %d\n%s", resp.StatusCode, status, b)
	}
}

// expectClosed checks that the server closed the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
		c.t.Fatalf("connection not closed: %v", err)
	}
}

// frame builds an interleaved frame.
func frame(ch byte, payload string) string {
	return string([]byte{'$', ch, byte(len(payload) >> 8), byte(len(payload))}) + payload
}

// sessionID returns the id of a Session header.
func sessionID(t *testing.T, resp *base.Response) string {
	t.Helper()
	var s headers.Session
	if err := s.Unmarshal(resp.Header.Get("Session")); err != nil {
		t.Fatalf("session header %q: %v", resp.Header.Get("Session"), err)
	}
	return s.ID
}

// ffmpegSDP is the SDP of Appendix A.1.
const ffmpegSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
	"a=tool:libavformat 61.1.100\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
	"a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA; profile-level-id=64001F\r\n" +
	"a=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\nb=AS:128\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n" +
	"a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=1190\r\n" +
	"a=control:streamid=1\r\n"

// rtpPacket and rtcpSR are minimal packets (RTSP-IL-02 classifies by the
// second byte).
const (
	rtpPacket = "\x80\x60\x00\x01\x00\x00\x00\x00\x4f\x2a\x91\xc3payload"
	rtcpSR    = "\x81\xc8\x00\x0c\x4f\x2a\x91\xc3sr"
)

func itoa(n int) string { return strconv.Itoa(n) }

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

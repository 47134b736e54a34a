package rtsp_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/camvault/camvault/internal/leaktest"
	"github.com/camvault/camvault/internal/rtspservertest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
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
	rtsptest.Receive(t, "publication closed", p.closed)
	_, _, reason, v := p.snapshot()
	if v != "" {
		t.Fatal(v)
	}
	return reason
}

// waitPackets waits until n packets arrived.
func (p *fakePub) waitPackets(t *testing.T, n int) []packet {
	t.Helper()
	var pkts []packet
	rtsptest.WaitFor(t, fmt.Sprintf("%d packets", n), func() bool {
		var v string
		_, pkts, _, v = p.snapshot()
		if v != "" {
			t.Fatal(v)
		}
		return len(pkts) >= n
	})
	return pkts
}

// startServer runs a server on loopback until the test ends and then checks that no
// goroutine of package rtsp is left.
func startServer(t *testing.T, cfg rtsp.Config) *rtsp.Server {
	t.Helper()
	t.Cleanup(func() { checkNoLeaks(t) }) // registered first, so run after the shutdown
	return rtspservertest.Start(t, cfg)
}

// checkNoLeaks fails if goroutines of package rtsp survive shutdown.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	leaktest.Check(t, "camvault/camvault/rtsp.(*")
}

// client is the scripted player with what the tests of this package add.
type client struct {
	*rtsptest.Player
	t   *testing.T
	udp []udpPeer
}

func dial(t *testing.T, srv *rtsp.Server) *client {
	t.Helper()
	return &client{Player: rtsptest.DialPlayer(t, srv.Addr().String()), t: t}
}

func newClient(t *testing.T, nc net.Conn, baseURL string) *client {
	return &client{Player: rtsptest.NewPlayer(t, nc, baseURL), t: t}
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

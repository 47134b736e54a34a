package rtsp

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/rtsp/headers"
)

// discardConn is a net.Conn that swallows writes.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000} }
func (discardConn) Read([]byte) (int, error)         { select {} }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetDeadline(time.Time) error      { return nil }
func (discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }

// newBenchOutput returns the Output of a TCP play session whose
// connection writer runs into a discarding conn; stop ends the writer.
func newBenchOutput(tb testing.TB) (*output, func()) {
	return newBenchOutputOn(tb, func(*Server) net.Conn { return discardConn{} })
}

// newBenchOutputOn is newBenchOutput on the conn that nc returns.
func newBenchOutputOn(tb testing.TB, nc func(*Server) net.Conn) (*output, func()) {
	cfg := Config{Handler: nopHandler{}}.withDefaults()
	srv := &Server{cfg: cfg, log: cfg.Logger, tunnels: newTunnelTable(cfg.MaxPendingTunnels)}
	c := newConn(srv, nc(srv), ConnOptions{})
	ss := newSession(c, &announcement{play: nopPres{}, controls: []string{"trackID=0"}})
	ss.setSend(0, sendTarget{ok: true, tcp: true, rtpCh: 0, rtcpCh: 1})
	c.media.fill()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.writeLoop()
	}()
	return ss.out, func() {
		close(c.out)
		<-done
		c.cancel()
	}
}

type nopHandler struct{}

func (nopHandler) Announce(context.Context, *AnnounceRequest) (Publication, error) {
	return nopPub{}, nil
}
func (nopHandler) Describe(context.Context, *DescribeRequest) (Presentation, error) {
	return nopPres{}, nil
}

type nopPres struct{}

func (nopPres) SDP() []byte                              { return nil }
func (nopPres) Controls() []string                       { return []string{"trackID=0"} }
func (nopPres) Supports(string) bool                     { return false }
func (nopPres) Play(*PlayRequest) (*PlayResponse, error) { return &PlayResponse{}, nil }
func (nopPres) Pause() (headers.Range, error)            { return headers.Range{}, nil }
func (nopPres) Close(error)                              {}

// TestOutputTCPAllocs: queueing, writing and recycling an interleaved
// packet allocates nothing once the buffers are warm (writer included:
// AllocsPerRun counts every goroutine).
func TestOutputTCPAllocs(t *testing.T) {
	out, stop := newBenchOutput(t)
	defer stop()
	checkOutputAllocs(t, out)
}

// checkOutputAllocs fails unless a warm out queues and writes a packet
// without allocating.
func checkOutputAllocs(t *testing.T, out *output) {
	t.Helper()
	pkt := make([]byte, 1400)
	for range 2 * DefaultMediaQueueSize { // warm every buffer
		if err := out.WriteRTP(0, pkt); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(2000, func() {
		if err := out.WriteRTP(0, pkt); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocs per packet", n)
	}
}

func BenchmarkOutputTCP(b *testing.B) {
	out, stop := newBenchOutput(b)
	defer stop()
	benchOutput(b, out)
}

// newBenchTunnelOutput is newBenchOutput through a tunnel's connection: the
// writer writes into the GET of an RTSP-over-HTTP tunnel.
func newBenchTunnelOutput(tb testing.TB) (*output, func()) {
	return newBenchOutputOn(tb, func(srv *Server) net.Conn {
		owner := tunnelOwner{ip: netip.MustParseAddr("127.0.0.1")}
		return newTunnelConn(discardConn{}, nil, "bench", owner, srv.tunnels, time.Second, func() {})
	})
}

// TestOutputTunnelAllocs: the tunnel's GET adds no allocation to the
// packet path.
func TestOutputTunnelAllocs(t *testing.T) {
	out, stop := newBenchTunnelOutput(t)
	defer stop()
	checkOutputAllocs(t, out)
}

// BenchmarkOutputTunnel is BenchmarkOutputTCP into a tunnel's GET.
func BenchmarkOutputTunnel(b *testing.B) {
	out, stop := newBenchTunnelOutput(b)
	defer stop()
	benchOutput(b, out)
}

// benchOutput writes 1400-byte RTP packets to out.
func benchOutput(b *testing.B, out *output) {
	pkt := make([]byte, 1400)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if err := out.WriteRTP(0, pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// newBenchUDPOutput returns the Output of a UDP play session of a server
// bound to loopback, sending to a local socket that nobody reads.
func newBenchUDPOutput(tb testing.TB) *output {
	srv, err := NewServer(Config{Handler: nopHandler{}, Address: "127.0.0.1:0", UDPRTPAddress: "127.0.0.1:0", UDPRTCPAddress: "127.0.0.1:0"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sink.Close() })
	c := newConn(srv, discardConn{}, ConnOptions{})
	ss := newSession(c, &announcement{play: nopPres{}, controls: []string{"trackID=0"}})
	dst := netip.MustParseAddrPort(sink.LocalAddr().String())
	ss.setSend(0, sendTarget{ok: true, rtp: dst, rtcp: dst})
	return ss.out
}

// TestOutputUDPAllocs: a UDP send from the shared socket allocates nothing.
func TestOutputUDPAllocs(t *testing.T) {
	out := newBenchUDPOutput(t)
	pkt := make([]byte, 1400)
	if n := testing.AllocsPerRun(1000, func() {
		if err := out.WriteRTP(0, pkt); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocs per packet", n)
	}
}

func BenchmarkOutputUDP(b *testing.B) {
	out := newBenchUDPOutput(b)
	pkt := make([]byte, 1400)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if err := out.WriteRTP(0, pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// recordConn is a discardConn that keeps what is written and signals
// once want bytes arrived.
type recordConn struct {
	discardConn
	mu   *sync.Mutex
	b    *[]byte
	want int
	full chan struct{}
}

func (r recordConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.b = append(*r.b, p...)
	if len(*r.b) >= r.want && len(*r.b)-len(p) < r.want {
		close(r.full)
	}
	return len(p), nil
}

// TestResponsesOvertakeMedia covers RTSP-IL-03: a response queued behind
// media goes out first, then the media, in whole frames.
func TestResponsesOvertakeMedia(t *testing.T) {
	cfg := Config{Handler: nopHandler{}, MediaQueueSize: 4}.withDefaults()
	srv := &Server{cfg: cfg, log: cfg.Logger}
	const resp = "RTSP/1.0 200 OK\r\n\r\n"
	var got []byte
	var mu sync.Mutex
	rc := recordConn{mu: &mu, b: &got, want: len(resp) + 4*8, full: make(chan struct{})}
	c := newConn(srv, rc, ConnOptions{})
	ss := newSession(c, &announcement{play: nopPres{}, controls: []string{"trackID=0"}})
	ss.setSend(0, sendTarget{ok: true, tcp: true, rtpCh: 2, rtcpCh: 3})
	c.media.fill()
	for i := range 4 {
		if err := ss.out.WriteRTP(0, []byte{0x80, 96, 0, byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c.out <- outMsg{b: []byte(resp)}
	done := make(chan error, 1)
	go func() { done <- c.writeLoop() }()
	<-rc.full
	close(c.out)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := resp
	for i := range 4 {
		want += string([]byte{'$', 2, 0, 4, 0x80, 96, 0, byte(i)})
	}
	if string(got) != want {
		t.Fatalf("wrote %q\nwant %q", got, want)
	}
}

// BenchmarkOutputTCPBurst measures what play connections keep after a
// burst, as a live viewer's start with the cached group of pictures: each
// op queues burst packets to each of conns connections before their
// writers run, then lets the writers drain them. retained-B/conn is the
// heap the last op's drained connections still hold (after two GCs, so
// that pooled buffers are freed) over the same connections closed.
func BenchmarkOutputTCPBurst(b *testing.B) {
	const conns, burst = 100, 200
	cfg := Config{Handler: nopHandler{}}.withDefaults()
	srv := &Server{cfg: cfg, log: cfg.Logger}
	pkt := make([]byte, 1400)
	var last []*conn
	b.ReportAllocs()
	b.SetBytes(conns * burst * int64(len(pkt)))
	for b.Loop() {
		last = make([]*conn, conns)
		var writers sync.WaitGroup
		for i := range last {
			c := newConn(srv, discardConn{}, ConnOptions{})
			ss := newSession(c, &announcement{play: nopPres{}, controls: []string{"trackID=0"}})
			ss.setSend(0, sendTarget{ok: true, tcp: true, rtpCh: 0, rtcpCh: 1})
			c.media.fill()
			for range burst {
				if err := ss.out.WriteRTP(0, pkt); err != nil {
					b.Fatal(err)
				}
			}
			last[i] = c
			writers.Go(func() { _ = c.writeLoop() })
		}
		for _, c := range last {
			for !c.media.idle() {
				runtime.Gosched()
			}
			close(c.out)
		}
		writers.Wait()
	}
	b.StopTimer()
	held := heapAlloc()
	for _, c := range last {
		c.cancel()
	}
	last = nil
	b.ReportMetric(float64(int64(held)-int64(heapAlloc()))/conns, "retained-B/conn")
}

// heapAlloc returns the live heap after two collections.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestWritePackets: a batch goes out as the same interleaved frames, in
// order, as packet by packet; each packet counts against the media queue,
// so a batch larger than the queue is split and waits for the writer.
func TestWritePackets(t *testing.T) {
	cfg := Config{Handler: nopHandler{}, MediaQueueSize: 4}.withDefaults()
	srv := &Server{cfg: cfg, log: cfg.Logger}
	var ps []Packet
	var want []byte
	for i := range 6 {
		p := Packet{Stream: i % 2, RTCP: i == 3, Data: []byte{0x80, 96, 0, byte(i)}}
		ch := byte(4 * p.Stream)
		if p.RTCP {
			ch++
		}
		ps = append(ps, p)
		want = append(want, '$', ch, 0, 4)
		want = append(want, p.Data...)
	}
	var got []byte
	var mu sync.Mutex
	rc := recordConn{mu: &mu, b: &got, want: len(want), full: make(chan struct{})}
	c := newConn(srv, rc, ConnOptions{})
	ss := newSession(c, &announcement{play: nopPres{}, controls: []string{"trackID=0", "trackID=1"}})
	ss.setSend(0, sendTarget{ok: true, tcp: true, rtpCh: 0, rtcpCh: 1})
	ss.setSend(1, sendTarget{ok: true, tcp: true, rtpCh: 4, rtcpCh: 5})
	c.media.fill()
	sent := make(chan error, 1)
	go func() { sent <- ss.out.WritePackets(ps) }()
	// The queue holds 4 packets: the sender waits for the writer.
	for !c.media.full() {
		runtime.Gosched()
	}
	select {
	case err := <-sent:
		t.Fatalf("WritePackets returned %v with a full queue", err)
	default:
	}
	done := make(chan error, 1)
	go func() { done <- c.writeLoop() }()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	<-rc.full
	close(c.out)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("wrote %q\nwant %q", got, want)
	}
	if err := ss.out.WritePackets([]Packet{{Stream: 0, Data: nil}}); err != errPacketSize {
		t.Fatalf("empty packet: %v", err)
	}
	if err := ss.out.WritePackets([]Packet{{Stream: 7, Data: []byte{1}}}); err != errStreamNotSetUp {
		t.Fatalf("stream not set up: %v", err)
	}
}

// TestWritePacketsAllocs: a warm batch allocates nothing.
func TestWritePacketsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops buffers at random")
	}
	out, stop := newBenchOutput(t)
	defer stop()
	ps := benchBatch()
	for range 2 * DefaultMediaQueueSize / len(ps) { // warm the buffers
		if err := out.WritePackets(ps); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(500, func() {
		if err := out.WritePackets(ps); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocs per batch", n)
	}
}

// benchBatch is a video frame's 12 packets of 1400 bytes.
func benchBatch() []Packet {
	ps := make([]Packet, 12)
	for i := range ps {
		ps[i] = Packet{Data: make([]byte, 1400)}
	}
	return ps
}

// BenchmarkWritePackets is BenchmarkOutputTCP with a frame's packets in
// one call; per packet figures are its time over 12.
func BenchmarkWritePackets(b *testing.B) {
	out, stop := newBenchOutput(b)
	defer stop()
	ps := benchBatch()
	b.ReportAllocs()
	b.SetBytes(int64(len(ps) * 1400))
	for b.Loop() {
		if err := out.WritePackets(ps); err != nil {
			b.Fatal(err)
		}
	}
}

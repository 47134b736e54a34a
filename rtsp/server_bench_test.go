package rtsp

import (
	"bufio"
	"net/netip"
	"testing"

	"github.com/camvault/camvault/rtsp/base"
)

// nopPub is a Publication that does nothing.
type nopPub struct{}

func (nopPub) Controls() []string      { return []string{"a"} }
func (nopPub) Record(RecordInfo) error { return nil }
func (nopPub) RTP(int, []byte)         {}
func (nopPub) RTCP(int, []byte)        {}
func (nopPub) Close(error)             {}

// loopReader returns the same bytes forever.
type loopReader struct {
	b   []byte
	off int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

func recordingSession(srv *Server) *session {
	return &session{srv: srv, pub: nopPub{}, state: stateRecording}
}

// newBenchConn returns a conn reading 1400-byte frames on channel 0 of a
// recording session.
func newBenchConn() *conn {
	srv := &Server{cfg: Config{MaxPacketSize: 65535}}
	frame, _ := (&base.InterleavedFrame{Channel: 0, Payload: make([]byte, 1400)}).Marshal()
	frame[5] = 96 // RTP payload type
	c := &conn{srv: srv, br: bufio.NewReaderSize(&loopReader{b: frame}, DefaultReadBufferSize)}
	c.channels[0] = channelTarget{ss: recordingSession(srv)}
	return c
}

// TestFramePathAllocs: the TCP packet path allocates nothing (DESIGN.md
// "Concurrency and the hot path").
func TestFramePathAllocs(t *testing.T) {
	c := newBenchConn()
	if n := testing.AllocsPerRun(1000, func() {
		if err := c.readFrame(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocs per frame", n)
	}
}

func BenchmarkTCPFrameDispatch(b *testing.B) {
	c := newBenchConn()
	b.ReportAllocs()
	b.SetBytes(1404)
	for b.Loop() {
		if err := c.readFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

// newBenchUDP returns a UDP socket table with one seen target.
func newBenchUDP() (*udpSocket, netip.AddrPort) {
	k := newUDPSocket(nil, false)
	src := netip.MustParseAddrPort("192.0.2.7:22000")
	k.add(&udpRoute{ss: recordingSession(&Server{}), key: src})
	k.lookup(src)
	return k, src
}

// TestUDPPathAllocs: demultiplexing and delivering a datagram allocates nothing.
func TestUDPPathAllocs(t *testing.T) {
	k, src := newBenchUDP()
	pkt := make([]byte, 1400)
	if n := testing.AllocsPerRun(1000, func() {
		r := k.lookup(src)
		if r == nil {
			t.Fatal("lookup")
		}
		r.ss.deliver(r.stream, false, pkt)
	}); n != 0 {
		t.Fatalf("%v allocs per datagram", n)
	}
}

func BenchmarkUDPDemux(b *testing.B) {
	k, src := newBenchUDP()
	pkt := make([]byte, 1400)
	b.ReportAllocs()
	for b.Loop() {
		r := k.lookup(src)
		r.ss.deliver(r.stream, false, pkt)
	}
}

package rtsp

import (
	"bufio"
	"testing"
	"time"

	"github.com/camvault/camvault/rtsp/headers"
)

// newBenchClient returns a playing client whose connection is an endless
// stream of 1400-byte RTP packets on channel 0, and the count of packets
// its OnRTP received.
func newBenchClient() (*Client, *int) {
	pkt := make([]byte, 1400)
	copy(pkt, []byte{0x80, 96, 0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef})
	var wire []byte
	for seq := range 64 {
		pkt[2], pkt[3] = 0, byte(seq)
		wire = append(wire, '$', 0, byte(len(pkt)>>8), byte(len(pkt)))
		wire = append(wire, pkt...)
	}
	var got int
	cfg := ClientConfig{URL: "rtsp://127.0.0.1/x", OnRTP: func(int, []byte) { got++ }}.WithDefaults()
	c := &Client{cfg: cfg, src: &clientSource{}, br: bufio.NewReaderSize(&loopReader{b: wire}, 64<<10),
		streams: []*clientStream{{clockRate: 90000, channels: &headers.PortPair{RTP: 0, RTCP: 1}}}}
	c.routeChannels()
	return c, &got
}

// readBenchPacket reads one packet as the read loop does.
func readBenchPacket(c *Client) error {
	if c.br.Buffered() == 0 {
		c.src.at = time.Now() // as clientSource.Read does
	}
	_, err := c.readNext()
	return err
}

// TestClientFramePathAllocs: the client's TCP packet path allocates
// nothing (DESIGN.md "Concurrency and the hot path").
func TestClientFramePathAllocs(t *testing.T) {
	c, got := newBenchClient()
	if n := testing.AllocsPerRun(1000, func() {
		if err := readBenchPacket(c); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocs per packet", n)
	}
	if *got != 1001 {
		t.Fatalf("%d packets delivered, want 1001", *got)
	}
}

// BenchmarkClientReadFrame measures the client's per-packet work without
// the socket: interleaved frame parsing, routing, reception statistics and
// the OnRTP call, for 1400-byte RTP packets read 64 KiB at a time.
func BenchmarkClientReadFrame(b *testing.B) {
	c, got := newBenchClient()
	b.ReportAllocs()
	b.SetBytes(1400)
	for b.Loop() {
		if err := readBenchPacket(c); err != nil {
			b.Fatal(err)
		}
	}
	if *got != b.N {
		b.Fatalf("%d packets delivered, want %d", *got, b.N)
	}
}

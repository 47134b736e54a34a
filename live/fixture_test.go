package live_test

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/live"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
)

// The test camera sends H.264 at 25 fps (a keyframe every gopFrames) and
// AAC at 48 kHz, one packet every other frame.
const (
	frameTicks = 3600
	gopFrames  = 25
	videoSSRC  = 0x11111111
	audioSSRC  = 0x22222222
)

var (
	sps = []byte{0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8}
	pps = []byte{0x68, 0xce, 0x3c, 0x80}
)

func testTracks() []*media.Track {
	return []*media.Track{
		{Control: "streamid=0", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000, SPS: sps, PPS: pps},
		{Control: "streamid=1", PayloadType: 97, Codec: media.CodecAAC, ClockRate: 48000, Channels: 1,
			AudioConfig: []byte{0x11, 0x88}, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3},
	}
}

// rtpPacket builds an RTP packet.
func rtpPacket(pt byte, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0], b[1] = 0x80, pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

// camera feeds a writer the packets of the test camera.
type camera struct {
	w               ingest.Writer
	frame           int
	vseq, aseq      uint16
	sent            []sentPacket // every video packet, in order
	lastAudioSeq    uint16
	lastAudioTS     uint32
	padFrames       int  // bytes added to each P-frame's slice
	markParams      bool // SPS and PPS sent with the marker bit, as units of their own
	lastKeyStartSeq uint16
}

type sentPacket struct {
	seq   uint16
	ts    uint32
	frame int
}

// nextFrame sends one video frame (and an audio packet on even frames). A
// keyframe is SPS, PPS and an IDR slice in two FU-A fragments.
func (c *camera) nextFrame() {
	n := c.frame
	c.frame++
	ts := uint32(n * frameTicks)
	var payloads [][]byte
	if n%gopFrames == 0 {
		body := make([]byte, 2000)
		body[0] = byte(n)
		payloads = [][]byte{sps, pps,
			append([]byte{0x7c, 0x85}, body[:1000]...), append([]byte{0x7c, 0x45}, body[1000:]...)}
		c.lastKeyStartSeq = c.vseq
	} else {
		payloads = [][]byte{append([]byte{0x41, byte(n)}, make([]byte, 100+c.padFrames)...)}
	}
	for i, p := range payloads {
		c.sent = append(c.sent, sentPacket{c.vseq, ts, n})
		marker := i == len(payloads)-1 || c.markParams && n%gopFrames == 0 && i < 2
		c.w.WriteRTP(0, rtpPacket(96, c.vseq, ts, videoSSRC, marker, p))
		c.vseq++
	}
	if n%2 == 0 {
		ats := uint32(n * 1920)
		c.lastAudioSeq, c.lastAudioTS = c.aseq, ats
		c.w.WriteRTP(1, rtpPacket(97, c.aseq, ats, audioSSRC, true, []byte{0, 16, 0, 8, 1, 2, 3}))
		c.aseq++
	}
}

func (c *camera) frames(n int) {
	for range n {
		c.nextFrame()
	}
}

// senderReport returns an RTCP SR of ssrc for RTP time ts.
func senderReport(ssrc, ts uint32) []byte {
	b := []byte{0x80, 200, 0, 6}
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = binary.BigEndian.AppendUint64(b, 0xe000000000000000)
	b = binary.BigEndian.AppendUint32(b, ts)
	return binary.BigEndian.AppendUint64(b, 0)
}

// newRelay returns a relay and a camera "cam" being recorded through it.
func newRelay(t *testing.T, cfg live.Config) (*live.Relay, *camera) {
	t.Helper()
	r, err := live.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Open("cam", testTracks(), ingest.Feed{TCP: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return r, &camera{w: w}
}

// out is an rtsp.Output that records what is sent. While blocked, writes
// wait (a viewer that does not read).
type out struct {
	mu      sync.Mutex
	got     []sent
	changed chan struct{}
	gate    chan struct{} // nil: writes pass
	blocked chan struct{} // gets a value when a write waits at the gate
	closed  bool
}

type sent struct {
	stream int
	rtcp   bool
	b      []byte
}

func newOut() *out { return &out{changed: make(chan struct{}, 1), blocked: make(chan struct{}, 1)} }

func (o *out) WriteRTP(stream int, pkt []byte) error  { return o.write(stream, false, pkt) }
func (o *out) WriteRTCP(stream int, pkt []byte) error { return o.write(stream, true, pkt) }

var errOutClosed = errors.New("out closed")

func (o *out) write(stream int, rtcp bool, pkt []byte) error {
	o.mu.Lock()
	gate := o.gate
	o.mu.Unlock()
	if gate != nil {
		select {
		case o.blocked <- struct{}{}:
		default:
		}
		<-gate
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return errOutClosed
	}
	o.got = append(o.got, sent{stream, rtcp, append([]byte(nil), pkt...)})
	select {
	case o.changed <- struct{}{}:
	default:
	}
	return nil
}

func (o *out) block() {
	o.mu.Lock()
	o.gate = make(chan struct{})
	o.mu.Unlock()
}

func (o *out) unblock() {
	o.mu.Lock()
	if o.gate != nil {
		close(o.gate)
		o.gate = nil
	}
	o.mu.Unlock()
}

// waitFor waits until the packets sent satisfy cond.
func (o *out) waitFor(t *testing.T, what string, cond func([]sent) bool) []sent {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		o.mu.Lock()
		got := append([]sent(nil), o.got...)
		o.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-o.changed:
		case <-timeout.C:
			t.Fatalf("timed out waiting for %s; sent %d packets", what, len(got))
		}
	}
}

// count waits until n packets were sent.
func (o *out) count(t *testing.T, n int) []sent {
	t.Helper()
	return o.waitFor(t, "packets", func(s []sent) bool { return len(s) >= n })
}

// play describes and plays cam with the given streams set up.
func play(t *testing.T, r *live.Relay, o rtsp.Output, streams ...int) (rtsp.Presentation, *rtsp.PlayResponse) {
	t.Helper()
	pres, err := r.Describe(t.Context(), &rtsp.DescribeRequest{Path: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pres.Close(rtsp.ErrTeardown) })
	resp, err := pres.Play(&rtsp.PlayRequest{Streams: streams, Out: o})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Start != nil {
		resp.Start()
	}
	return pres, resp
}

func seqOf(b []byte) uint16 { return binary.BigEndian.Uint16(b[2:]) }
func tsOf(b []byte) uint32  { return binary.BigEndian.Uint32(b[4:]) }

// batchOut is an out that takes batches (rtsp.PacketWriter), as the RTSP
// server's Output does, and records their sizes.
type batchOut struct {
	*out
	batches []int // guarded by out.mu
}

func (o *batchOut) WritePackets(ps []rtsp.Packet) error {
	o.mu.Lock()
	o.batches = append(o.batches, len(ps))
	o.mu.Unlock()
	for _, p := range ps {
		if err := o.write(p.Stream, p.RTCP, p.Data); err != nil {
			return err
		}
	}
	return nil
}

func (o *batchOut) batchSizes() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int(nil), o.batches...)
}

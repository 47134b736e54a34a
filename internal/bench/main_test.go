package bench

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/media"
)

// TestMain fails the run when goroutines of the bench, or of the rtsp
// server and client its tests use, outlive the tests that opened sockets.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by the tests:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines waits up to timeout for the goroutines running bench
// or rtsp methods to end, and returns their stacks if some do not.
func leakedGoroutines(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		buf := make([]byte, 1<<20)
		var leaked []string
		for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "camvault/internal/bench.(*") || strings.Contains(g, "camvault/rtsp.(*") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // polling for goroutines to exit: there is nothing to wait on
	}
}

// needFFmpeg skips the test when ffmpeg is missing, or fails it in CI.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ffmpeg is required in CI: %v", err)
		}
		t.Skipf("ffmpeg not found: %v", err)
	}
}

// testClip returns a synthetic clip without ffmpeg: frames video access
// units of two RTP packets (the second with the marker bit) and one audio
// packet each, gap apart.
func testClip(frames int, gap time.Duration) *Clip {
	c := &Clip{
		Tracks: []*media.Track{
			{Control: "streamid=0", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000,
				SPS: []byte{0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01}, PPS: []byte{0x68, 0xce, 0x3c, 0x80}, Width: 64, Height: 48},
			{Control: "streamid=1", PayloadType: 97, Codec: media.CodecAAC, ClockRate: 48000, Channels: 2,
				AudioConfig: []byte{0x11, 0x90}, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3},
		},
		VideoFrames: frames,
		Duration:    time.Duration(frames) * gap,
	}
	for i := range frames {
		at := time.Duration(i) * gap
		vts, ats := uint32(i*3600), uint32(i*1920)
		c.Packets = append(c.Packets,
			Packet{At: at, Stream: 0, Data: rtpPacket(96, uint16(1000+2*i), vts, false, 900+i)},
			Packet{At: at, Stream: 0, Data: rtpPacket(96, uint16(1001+2*i), vts, true, 300+i)},
			Packet{At: at, Stream: 1, Data: rtpPacket(97, uint16(2000+i), ats, true, 200+i)})
	}
	for _, p := range c.Packets {
		c.Bytes += int64(len(p.Data))
	}
	return c
}

// rtpPacket returns an RTP packet [3550 §5.1] with size bytes of payload
// that repeat its sequence number.
func rtpPacket(pt uint8, seq uint16, ts uint32, marker bool, size int) []byte {
	b := make([]byte, 12+size)
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], 0x10000000+uint32(pt))
	for i := 12; i < len(b); i++ {
		b[i] = byte(seq) + byte(i)
	}
	return b
}

// mustSchedule is newSchedule for a test.
func mustSchedule(t *testing.T, c *Clip, tick time.Duration) *schedule {
	t.Helper()
	s, err := newSchedule(c, tick)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

package bench

import (
	"encoding/binary"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/leaktest"
	"github.com/camvault/camvault/media"
)

// TestMain fails the run when a test leaves goroutines behind.
func TestMain(m *testing.M) { leaktest.Main(m) }

// needFFmpeg skips the test when ffmpeg is missing, or fails it in CI.
func needFFmpeg(t *testing.T) { needTool(t, "ffmpeg") }

// needTool skips the test when the program name is not on PATH, or fails
// it in CI.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not found: %v", name, err)
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

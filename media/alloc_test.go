package media_test

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/media"
)

// TestDepacketizeZeroAllocs enforces in every test run what the benchmarks show: after the
// buffer has grown once, Push allocates nothing. Not parallel: AllocsPerRun counts the
// whole process.
func TestDepacketizeZeroAllocs(t *testing.T) {
	_, scan, tables := testJPEG(t, 50)
	var aac, opus []*rtp.Packet
	for i := range 10 {
		aac = append(aac, pkt(uint16(i), uint32(i*1024), true, aacHBR([]int{371}, 0, au371)))
		opus = append(opus, pkt(uint16(i), uint32(i*960), false, opus20ms))
	}
	tests := []struct {
		name    string
		track   media.Track
		packets []*rtp.Packet
	}{
		{"h264", h264Ready, h264Stream()},
		{"h264 STAP-A with repeated SPS PPS", h264Ready, []*rtp.Packet{
			pkt(1, 0, false, []byte{0x78}, u16(h264SPS), u16(h264PPS)), pkt(2, 0, true, h264IDR),
			pkt(3, 3600, true, h264Slice)}},
		{"h265", h265Ready, []*rtp.Packet{
			pkt(1, 0, false, []byte{0x62, 0x01, 0x93}, bytes.Repeat([]byte{1}, 1400)),
			pkt(2, 0, true, []byte{0x62, 0x01, 0x53}, bytes.Repeat([]byte{2}, 1400))}},
		{"h265 AP with repeated VPS SPS PPS", h265Ready, []*rtp.Packet{
			pkt(1, 0, false, []byte{0x60, 0x01}, u16(h265VPS), u16(h265SPS), u16(h265PPS)), pkt(2, 0, true, h265IDR)}},
		{"aac", aacTrack, aac},
		{"opus", opusTrack, opus},
		{"g711", pcmuTrack, []*rtp.Packet{pkt(1, 0, false, seqBytes(nil, 160))}},
		{"mjpeg", mjpegTrack, rtpJPEG(0, 1, 50, scan, tables, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.track
			units := 0
			d, err := media.NewDepacketizer(&tr, media.Limits{}, func(media.Unit) { units++ })
			if err != nil {
				t.Fatal(err)
			}
			push := func() {
				for _, p := range tt.packets {
					if err := d.Push(p); err != nil {
						t.Fatal(err)
					}
				}
			}
			push()
			if allocs := testing.AllocsPerRun(50, push); allocs != 0 {
				t.Errorf("%v allocations per run, want 0", allocs)
			}
			if units == 0 {
				t.Error("no units")
			}
		})
	}
}

// parseAlloc is the allocation bound of the fuzz targets and regression tests: a parse of n
// input bytes may allocate at most 1 MiB + 256 bytes per input byte. The base covers the fixed
// buffers of a depacketizer or an init segment (well under 1 MiB with the fuzz limits); the
// per-byte factor covers copies, parsed structures and slice growth. The parameter-set blow-up
// of issue 9 defect 1 allocated gigabytes from a 37-byte VPS, many orders above this. Checked
// calls must not run in parallel (alloctest.Check).
var parseAlloc = alloctest.Bound{Base: 1 << 20, PerByte: 256}

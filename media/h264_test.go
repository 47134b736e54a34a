package media_test

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
)

var (
	h264IDR    = []byte{0x65, 0x88, 0x84, 0x00, 0x33, 0xFF}
	h264Slice  = []byte{0x41, 0x9A, 0x02, 0x11}
	h264AUD    = []byte{0x09, 0xF0}
	h264Filler = []byte{0x0C, 0xFF, 0xFF, 0x80}
	h264SEI    = []byte{0x06, 0x05, 0x01, 0x80}
	annexB4    = []byte{0, 0, 0, 1}
	annexB3    = []byte{0, 0, 1}
	h264Track  = media.Track{Codec: media.CodecH264, ClockRate: 90000}
	h264Ready  = media.Track{Codec: media.CodecH264, ClockRate: 90000, SPS: h264SPS, PPS: h264PPS, Width: 1280, Height: 720}
	h264Stale  = media.Track{Codec: media.CodecH264, ClockRate: 90000, SPS: h264SPS2, PPS: h264PPS2, Width: 640, Height: 480}
	// idrBody is a 3000-byte IDR slice body, fragmented into FU-A below.
	idrBody = seqBytes(nil, 3000)
)

// fuA fragments nal into FU-A payloads of at most size bytes of NAL data (RFC 6184 §5.8).
func fuA(nal []byte, size int) [][]byte {
	var out [][]byte
	hdr, data := nal[0], nal[1:]
	for i := 0; len(data) > 0; i++ {
		n := min(size, len(data))
		fu := hdr & 0x1F
		if i == 0 {
			fu |= 0x80
		}
		if n == len(data) {
			fu |= 0x40
		}
		out = append(out, append([]byte{hdr&0xE0 | 28, fu}, data[:n]...))
		data = data[n:]
	}
	return out
}

func h264Cases() []depCase {
	idr := append([]byte{0x65}, idrBody...)
	frags := fuA(idr, 1000)
	return []depCase{
		{
			name: "PL-H264-03 single NAL IDR", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 90, true, h264IDR)},
			want:    []media.Unit{{PTS: 90, Data: avcc(h264IDR), Key: true}},
		},
		{
			name: "PL-H264-04 STAP-A SPS PPS (RTSP.md example) then IDR", track: h264Track,
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x78}, u16(h264SPS), u16([]byte{0x68, 0xEB, 0xE3, 0xCB, 0x22, 0xC0})),
				pkt(2, 0, true, h264IDR),
			},
			want: []media.Unit{{PTS: 0, Data: avcc(h264IDR), Key: true, ParamsChanged: true}},
			check: func(t *testing.T, tr *media.Track) {
				if !bytes.Equal(tr.SPS, h264SPS) || !bytes.Equal(tr.PPS, h264PPS) || tr.Width != 1280 || tr.Height != 720 || !tr.Ready() {
					t.Errorf("track params not taken in-band: %+v", tr)
				}
			},
		},
		{
			name: "PL-H264-05 FU-A 7C 85/05/45", track: h264Ready,
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x7C, 0x85, 1, 2}),
				pkt(2, 0, false, []byte{0x7C, 0x05, 3, 4}),
				pkt(3, 0, true, []byte{0x7C, 0x45, 5}),
			},
			want: []media.Unit{{Data: avcc([]byte{0x65, 1, 2, 3, 4, 5}), Key: true}},
		},
		{
			name: "PL-H264-05 FU-A with S and E both set", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 0, true, []byte{0x7C, 0xC5, 1, 2})},
			want:    []media.Unit{{Data: avcc([]byte{0x65, 1, 2}), Key: true}},
		},
		{
			name: "PL-H264-05 large FU-A IDR", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 0, false, frags[0]), pkt(2, 0, false, frags[1]), pkt(3, 0, true, frags[2])},
			want:    []media.Unit{{Data: avcc(idr), Key: true}},
		},
		{
			name: "RTP-09 missing marker closes AU on timestamp change", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 0, false, h264IDR), pkt(2, 3600, false, h264Slice), pkt(3, 7200, false, h264Slice)},
			want: []media.Unit{
				{PTS: 0, Data: avcc(h264IDR), Key: true},
				{PTS: 3600, Data: avcc(h264Slice)},
			},
		},
		{
			name: "PL-H264-06 Annex-B inside single NAL packet", track: h264Track,
			packets: []*rtp.Packet{pkt(1, 0, true, annexB4, h264SPS, annexB4, h264PPS, annexB3, h264IDR)},
			want:    []media.Unit{{Data: avcc(h264IDR), Key: true, ParamsChanged: true}},
			check: func(t *testing.T, tr *media.Track) {
				if !bytes.Equal(tr.SPS, h264SPS) || !bytes.Equal(tr.PPS, h264PPS) {
					t.Errorf("params not split out of Annex-B")
				}
			},
		},
		{
			name: "PL-H264-06 Annex-B inside FU-A", track: h264Ready,
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x06, 0x05, 0x01, 0x80}),
				// FU-A carrying "SEI 00 00 01 IDR": the NAL header says SEI (type 6).
				pkt(2, 0, false, []byte{0x7C, 0x86}, h264SEI[1:], annexB3[:2]),
				pkt(3, 0, true, []byte{0x7C, 0x46}, annexB3[2:], h264IDR),
			},
			want: []media.Unit{{Data: avcc(h264SEI, []byte{0x66, 0x05, 0x01, 0x80}, h264IDR), Key: true}},
		},
		{
			name: "PL-H264-08 stale SDP params replaced in-band", track: h264Stale,
			packets: []*rtp.Packet{
				pkt(1, 0, false, h264SPS), pkt(2, 0, false, h264PPS), pkt(3, 0, true, h264IDR),
				pkt(4, 3600, false, h264SPS), pkt(5, 3600, true, h264Slice),
			},
			want: []media.Unit{
				{PTS: 0, Data: avcc(h264IDR), Key: true, ParamsChanged: true},
				{PTS: 3600, Data: avcc(h264Slice)},
			},
			check: func(t *testing.T, tr *media.Track) {
				if !bytes.Equal(tr.SPS, h264SPS) || tr.Width != 1280 || tr.Height != 720 {
					t.Errorf("stale SPS kept: %dx%d", tr.Width, tr.Height)
				}
			},
		},
		{
			name: "PL-H264-08 in-band params equal to SDP change nothing", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 0, false, []byte{0x78}, u16(h264SPS), u16(h264PPS)), pkt(2, 0, true, h264IDR)},
			want:    []media.Unit{{Data: avcc(h264IDR), Key: true}},
		},
		{
			name: "PL-H264-02 unparsable in-band SPS ignored", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 0, false, []byte{0x67, 0xFF}), pkt(2, 0, true, h264IDR)},
			want:    []media.Unit{{Data: avcc(h264IDR), Key: true}},
		},
		{
			name: "PL-H264-06 AUD and filler stripped", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 0, true, []byte{0x18}, u16(h264AUD), u16(h264Slice), u16(h264Filler))},
			want:    []media.Unit{{Data: avcc(h264Slice)}},
		},
		{
			name: "PL-H264-06 AUD starts a new AU", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 0, false, h264IDR), pkt(2, 0, false, h264AUD), pkt(3, 0, true, h264Slice)},
			want:    []media.Unit{{Data: avcc(h264IDR), Key: true}, {Data: avcc(h264Slice)}},
		},
		{
			name: "PL-H264-04 STAP-A zero padding", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 0, true, []byte{0x18}, u16(h264Slice), []byte{0, 0, 0, 0})},
			want:    []media.Unit{{Data: avcc(h264Slice)}},
		},
		{
			name: "SEC-13 STAP-A size overruns packet", track: h264Ready,
			packets:  []*rtp.Packet{pkt(1, 0, true, []byte{0x18, 0x00, 0x30, 0x41, 0x01})},
			wantErrs: []error{media.ErrMalformedPacket},
		},
		{
			name: "RTP-07 loss then Reset drops partial FU-A", track: h264Ready,
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x7C, 0x85, 1}), nil,
				pkt(3, 0, true, []byte{0x7C, 0x45, 3}),
				pkt(4, 3600, true, h264Slice),
			},
			wantErrs: []error{nil, nil, media.ErrFragmentLost, nil},
			want:     []media.Unit{{PTS: 3600, Data: avcc(h264Slice)}},
		},
		{
			name: "PL-H264-05 continuation without start", track: h264Ready,
			packets:  []*rtp.Packet{pkt(1, 0, false, []byte{0x7C, 0x05, 1}), pkt(2, 0, true, []byte{0x7C, 0x45, 2})},
			wantErrs: []error{media.ErrFragmentLost, media.ErrFragmentLost},
		},
		{
			name: "PL-H264-05 marker before FU end", track: h264Ready,
			packets:  []*rtp.Packet{pkt(1, 0, false, h264Slice), pkt(2, 0, true, []byte{0x7C, 0x85, 1})},
			wantErrs: []error{nil, media.ErrFragmentLost},
			want:     []media.Unit{{Data: avcc(h264Slice)}},
		},
		{
			name: "PL-H264-05 timestamp change inside FU-A", track: h264Ready,
			packets:  []*rtp.Packet{pkt(1, 0, false, h264Slice), pkt(2, 0, false, []byte{0x7C, 0x85, 1}), pkt(3, 3600, true, h264Slice)},
			wantErrs: []error{nil, nil, media.ErrFragmentLost},
			want:     []media.Unit{{Data: avcc(h264Slice)}, {PTS: 3600, Data: avcc(h264Slice)}},
		},
		{
			name: "PL-H264-02 mode 2 types dropped", track: h264Ready,
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x19, 0, 0}), pkt(2, 0, false, []byte{0x1A, 0, 0}),
				pkt(3, 0, false, []byte{0x1B, 0, 0}), pkt(4, 0, true, []byte{0x1D, 0x85, 0, 0}),
			},
			wantErrs: []error{media.ErrUnsupportedPacket, media.ErrUnsupportedPacket, media.ErrUnsupportedPacket, media.ErrUnsupportedPacket},
		},
		{
			name: "PL-GEN-01 oversized unit dropped", track: h264Ready, lim: media.Limits{MaxUnitBytes: 100},
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x7C, 0x85}, seqBytes(nil, 60)),
				pkt(2, 0, false, []byte{0x7C, 0x05}, seqBytes(nil, 60)),
				pkt(3, 0, true, []byte{0x7C, 0x45}, seqBytes(nil, 60)),
				pkt(4, 3600, true, h264Slice),
			},
			wantErrs: []error{nil, media.ErrUnitTooLarge, nil, nil},
			want:     []media.Unit{{PTS: 3600, Data: avcc(h264Slice)}},
		},
		{
			name: "PL-GEN-01 too many NAL units", track: h264Ready, lim: media.Limits{MaxNALUs: 2},
			packets:  []*rtp.Packet{pkt(1, 0, true, []byte{0x18}, u16(h264Slice), u16(h264Slice), u16(h264Slice))},
			wantErrs: []error{media.ErrTooManyNALUs},
		},
		{
			name: "PL-GEN-05 empty payload ignored, marker honoured", track: h264Ready,
			packets: []*rtp.Packet{pkt(1, 0, false, h264Slice), pkt(2, 0, true)},
			want:    []media.Unit{{Data: avcc(h264Slice)}},
		},
	}
}

func TestH264Depacketizer(t *testing.T) {
	t.Parallel()
	runDepCases(t, h264Cases())
}

// FuzzH264 checks that no input panics, emits an empty NAL unit or exceeds the limits.
// Allocations are bounded by parseAlloc. Crashers found: none so far.
func FuzzH264(f *testing.F) {
	for _, tc := range h264Cases() {
		f.Add(fuzzSeed(tc.packets))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := h264Track
		fuzzDepacketizer(t, &tr, data, checkAVCC)
	})
}

// h264Stream builds one second of a ~3 Mbit/s 25 fps stream: an IDR then P frames of
// 15000 bytes, FU-A fragmented into 1400-byte payloads, marker on each frame's last packet.
func h264Stream() []*rtp.Packet {
	const frameBytes = 3_000_000 / 8 / 25
	var out []*rtp.Packet
	seq := uint16(0)
	for f := range 25 {
		hdr := byte(0x41)
		if f == 0 {
			hdr = 0x65
		}
		frags := fuA(append([]byte{hdr}, seqBytes(nil, frameBytes)...), 1398)
		for i, fr := range frags {
			out = append(out, pkt(seq, uint32(f*3600), i == len(frags)-1, fr))
			seq++
		}
	}
	return out
}

func BenchmarkDepacketizeH264(b *testing.B) {
	benchDepacketize(b, &h264Ready, h264Stream())
}

// benchDepacketize pushes packets round-robin; ns/op and allocs/op are per packet.
func benchDepacketize(b *testing.B, track *media.Track, packets []*rtp.Packet) {
	tr := *track
	units := 0
	d, err := media.NewDepacketizer(&tr, media.Limits{}, func(media.Unit) { units++ })
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range packets { // warm up: grow the buffer once
		_ = d.Push(p)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := d.Push(packets[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(packets) {
			i = 0
		}
	}
	if units == 0 {
		b.Fatal("no units")
	}
}

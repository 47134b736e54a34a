package media_test

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
)

var (
	h265IDR   = []byte{0x26, 0x01, 0xAF, 0x05, 0x38} // IDR_W_RADL
	h265CRA   = []byte{0x2A, 0x01, 0xAF, 0x05}
	h265Trail = []byte{0x02, 0x01, 0xD0, 0x11}
	h265AUD   = []byte{0x46, 0x01, 0x50}
	h265FD    = []byte{0x4C, 0x01, 0xFF, 0xFF}
	h265Track = media.Track{Codec: media.CodecH265, ClockRate: 90000}
	h265Ready = media.Track{Codec: media.CodecH265, ClockRate: 90000, VPS: h265VPS, SPS: h265SPS, PPS: h265PPS, Width: 320, Height: 240}
)

func h265Cases() []depCase {
	stale := h265Ready
	stale.SPS, stale.Width, stale.Height = append([]byte(nil), h265SPS[:len(h265SPS)-1]...), 1, 1
	return []depCase{
		{
			name: "PL-H265-05 single IDR is key", track: h265Ready,
			packets: []*rtp.Packet{pkt(1, 0, true, h265IDR)},
			want:    []media.Unit{{Data: avcc(h265IDR), Key: true}},
		},
		{
			name: "PL-H265-05 CRA is key, TRAIL_R is not", track: h265Ready,
			packets: []*rtp.Packet{pkt(1, 0, true, h265CRA), pkt(2, 3600, true, h265Trail)},
			want:    []media.Unit{{Data: avcc(h265CRA), Key: true}, {PTS: 3600, Data: avcc(h265Trail)}},
		},
		{
			name: "PL-H265-02 AP with VPS SPS PPS then IDR", track: h265Track,
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x60, 0x01}, u16(h265VPS), u16(h265SPS), u16(h265PPS)),
				pkt(2, 0, true, h265IDR),
			},
			want: []media.Unit{{Data: avcc(h265IDR), Key: true, ParamsChanged: true}},
			check: func(t *testing.T, tr *media.Track) {
				if !tr.Ready() || tr.Width != 320 || tr.Height != 240 {
					t.Errorf("track not ready from in-band params: %+v", tr)
				}
			},
		},
		{
			name: "PL-H265-03 FU 62 01 / 93 13 53 (RTSP.md example)", track: h265Ready,
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x62, 0x01, 0x93, 0xAF, 0x05}),
				pkt(2, 0, false, []byte{0x62, 0x01, 0x13, 0x38}),
				pkt(3, 0, true, []byte{0x62, 0x01, 0x53, 0x39}),
			},
			want: []media.Unit{{Data: avcc([]byte{0x26, 0x01, 0xAF, 0x05, 0x38, 0x39}), Key: true}},
		},
		{
			name: "PL-H265-03 FU with S and E both set", track: h265Ready,
			packets: []*rtp.Packet{pkt(1, 0, true, []byte{0x62, 0x01, 0xD3, 0xAF})},
			want:    []media.Unit{{Data: avcc([]byte{0x26, 0x01, 0xAF}), Key: true}},
		},
		{
			name: "PL-H265-05 AUD and filler stripped", track: h265Ready,
			packets: []*rtp.Packet{pkt(1, 0, true, []byte{0x60, 0x01}, u16(h265AUD), u16(h265Trail), u16(h265FD))},
			want:    []media.Unit{{Data: avcc(h265Trail)}},
		},
		{
			name: "PL-H265-05 Annex-B inside single NAL packet", track: h265Track,
			packets: []*rtp.Packet{pkt(1, 0, true, annexB4, h265VPS, annexB4, h265SPS, annexB4, h265PPS, annexB3, h265IDR)},
			want:    []media.Unit{{Data: avcc(h265IDR), Key: true, ParamsChanged: true}},
		},
		{
			name: "PL-H265-05 stale SDP SPS replaced in-band", track: stale,
			packets: []*rtp.Packet{pkt(1, 0, false, h265SPS), pkt(2, 0, true, h265IDR)},
			want:    []media.Unit{{Data: avcc(h265IDR), Key: true, ParamsChanged: true}},
			check: func(t *testing.T, tr *media.Track) {
				if !bytes.Equal(tr.SPS, h265SPS) || tr.Width != 320 {
					t.Errorf("stale SPS kept")
				}
			},
		},
		{
			name: "PL-H265-04 PACI rejected", track: h265Ready,
			packets:  []*rtp.Packet{pkt(1, 0, true, []byte{0x64, 0x01, 0x00, 0x00})},
			wantErrs: []error{media.ErrUnsupportedPacket},
		},
		{
			name: "RTP-07 loss then Reset drops partial FU", track: h265Ready,
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x62, 0x01, 0x93, 0xAF}), nil,
				pkt(3, 0, true, []byte{0x62, 0x01, 0x53, 0x39}),
			},
			wantErrs: []error{nil, nil, media.ErrFragmentLost},
		},
		{
			name: "RTP-09 missing marker", track: h265Ready,
			packets: []*rtp.Packet{pkt(1, 0, false, h265IDR), pkt(2, 3000, false, h265Trail)},
			want:    []media.Unit{{Data: avcc(h265IDR), Key: true}},
		},
		{
			name: "SEC-13 AP size overruns packet", track: h265Ready,
			packets:  []*rtp.Packet{pkt(1, 0, true, []byte{0x60, 0x01, 0x00, 0x09, 0x02, 0x01})},
			wantErrs: []error{media.ErrMalformedPacket},
		},
		{
			name: "PL-GEN-01 oversized unit dropped", track: h265Ready, lim: media.Limits{MaxUnitBytes: 64},
			packets: []*rtp.Packet{
				pkt(1, 0, false, []byte{0x62, 0x01, 0x93}, seqBytes(nil, 40)),
				pkt(2, 0, true, []byte{0x62, 0x01, 0x53}, seqBytes(nil, 40)),
			},
			wantErrs: []error{nil, media.ErrUnitTooLarge},
		},
	}
}

func TestH265Depacketizer(t *testing.T) {
	t.Parallel()
	runDepCases(t, h265Cases())
}

// FuzzH265 checks that no input panics, emits an empty NAL unit or exceeds the limits.
// Allocations are bounded by parseAlloc. Crashers found: none so far.
func FuzzH265(f *testing.F) {
	for _, tc := range h265Cases() {
		f.Add(fuzzSeed(tc.packets))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := h265Track
		fuzzDepacketizer(t, &tr, data, checkAVCC)
	})
}

func BenchmarkDepacketizeH265(b *testing.B) {
	var packets []*rtp.Packet
	for _, p := range h264Stream() {
		// Re-wrap each FU-A as an H.265 FU of a TRAIL_R/IDR picture.
		typ := byte(1)
		if p.Payload[1]&0x1F == 5 {
			typ = 19
		}
		fu := append([]byte{49 << 1, 0x01, p.Payload[1]&0xC0 | typ}, p.Payload[2:]...)
		packets = append(packets, pkt(p.SequenceNumber, p.Timestamp, p.Marker, fu))
	}
	benchDepacketize(b, &h265Ready, packets)
}

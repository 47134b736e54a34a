package media_test

import (
	"encoding/binary"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
)

var (
	aacTrack = media.Track{Codec: media.CodecAAC, ClockRate: 48000, Channels: 2,
		AudioConfig: []byte{0x11, 0x90}, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
	aacLBR = media.Track{Codec: media.CodecAAC, ClockRate: 16000, Channels: 1,
		AudioConfig: []byte{0x14, 0x08}, SizeLength: 6, IndexLength: 2, IndexDeltaLength: 2}
	au371 = seqBytes([]byte{0x21}, 370)
	auA   = seqBytes([]byte{0x21}, 99)
	auB   = seqBytes([]byte{0x21}, 49)
	au3k  = seqBytes([]byte{0x21}, 2999)
)

// aacHBR builds an AAC-hbr payload: AU-headers-length, 13/3 bit headers with the given
// sizes and indexes, then data.
func aacHBR(sizes []int, index int, data ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(16*len(sizes)))
	for i, s := range sizes {
		idx := 0
		if i == 0 {
			idx = index
		}
		b = binary.BigEndian.AppendUint16(b, uint16(s<<3|idx))
	}
	for _, d := range data {
		b = append(b, d...)
	}
	return b
}

// adts prefixes au with a 7-byte ADTS header (no CRC) whose frame length covers it.
func adts(au []byte) []byte {
	n := len(au) + 7
	return append([]byte{0xFF, 0xF1, 0x4C, 0x80 | byte(n>>11), byte(n >> 3), byte(n<<5) | 0x1F, 0xFC}, au...)
}

func aacCases() []depCase {
	withConfig := func(c ...byte) media.Track { t := aacTrack; t.AudioConfig = c; return t }
	return []depCase{
		{
			name: "PL-AAC-02 one AU (RTSP.md 00 10 0B 98)", track: aacTrack,
			packets: []*rtp.Packet{pkt(1, 100, true, []byte{0x00, 0x10, 0x0B, 0x98}, au371)},
			want:    []media.Unit{{PTS: 100, Data: au371, Key: true, Duration: 1024}},
		},
		{
			name: "PL-AAC-02 several AUs with PTS+i*1024", track: aacTrack,
			packets: []*rtp.Packet{pkt(1, 0, true, aacHBR([]int{100, 50, 371}, 0, auA, auB, au371))},
			want: []media.Unit{
				{PTS: 0, Data: auA, Key: true, Duration: 1024},
				{PTS: 1024, Data: auB, Key: true, Duration: 1024},
				{PTS: 2048, Data: au371, Key: true, Duration: 1024},
			},
		},
		{
			name: "PL-AAC-01 AAC-lbr 6/2/2", track: aacLBR,
			packets: []*rtp.Packet{pkt(1, 0, true, []byte{0x00, 0x10, 50 << 2, 20 << 2}, auB, auB[:20])},
			want: []media.Unit{
				{PTS: 0, Data: auB, Key: true, Duration: 1024},
				{PTS: 1024, Data: auB[:20], Key: true, Duration: 1024},
			},
		},
		{
			name: "PL-AAC-04 RFC fragments carry the whole AU size", track: aacTrack,
			packets: []*rtp.Packet{
				pkt(1, 0, false, aacHBR([]int{3000}, 0, au3k[:1400])),
				pkt(2, 0, false, aacHBR([]int{3000}, 0, au3k[1400:2800])),
				pkt(3, 0, true, aacHBR([]int{3000}, 0, au3k[2800:])),
			},
			want: []media.Unit{{Data: au3k, Key: true, Duration: 1024}},
		},
		{
			name: "PL-AAC-04 gortsplib fragments carry the fragment size", track: aacTrack,
			packets: []*rtp.Packet{
				pkt(1, 0, false, aacHBR([]int{1400}, 0, au3k[:1400])),
				pkt(2, 0, false, aacHBR([]int{1400}, 0, au3k[1400:2800])),
				pkt(3, 0, true, aacHBR([]int{200}, 0, au3k[2800:])),
			},
			want: []media.Unit{{Data: au3k, Key: true, Duration: 1024}},
		},
		{
			name: "RTP-09 sender without marker", track: aacTrack,
			packets: []*rtp.Packet{
				pkt(1, 0, false, aacHBR([]int{100}, 0, auA)),
				pkt(2, 1024, false, aacHBR([]int{50}, 0, auB)),
			},
			want: []media.Unit{{Data: auA, Key: true, Duration: 1024}},
		},
		{
			name: "PL-AAC-05 ADTS stripped", track: aacTrack,
			packets: []*rtp.Packet{pkt(1, 0, true, aacHBR([]int{107}, 0, adts(auA)))},
			want:    []media.Unit{{Data: auA, Key: true, Duration: 1024}},
		},
		{
			name: "PL-AAC-06 frameLengthFlag gives 960", track: withConfig(0x11, 0x94),
			packets: []*rtp.Packet{pkt(1, 0, true, aacHBR([]int{50, 50}, 0, auB, auB))},
			want:    []media.Unit{{Data: auB, Key: true, Duration: 960}, {PTS: 960, Data: auB, Key: true, Duration: 960}},
		},
		{
			name: "PL-AAC-06 HE-AAC core 24k at 48k clock gives 2048", track: withConfig(0x13, 0x10),
			packets: []*rtp.Packet{pkt(1, 0, true, aacHBR([]int{50}, 0, auB))},
			want:    []media.Unit{{Data: auB, Key: true, Duration: 2048}},
		},
		{
			name: "PL-AAC-03 interleaving rejected", track: aacTrack,
			packets:  []*rtp.Packet{pkt(1, 0, true, aacHBR([]int{100}, 2, auA))},
			wantErrs: []error{media.ErrUnsupportedPacket},
		},
		{
			name: "PL-AAC-03 zero AU size", track: aacTrack,
			packets:  []*rtp.Packet{pkt(1, 0, true, aacHBR([]int{0}, 0, auA))},
			wantErrs: []error{media.ErrMalformedPacket},
		},
		{
			name: "SEC-13 AU sizes overrun data", track: aacTrack,
			packets:  []*rtp.Packet{pkt(1, 0, true, aacHBR([]int{100, 100}, 0, auA))},
			wantErrs: []error{media.ErrMalformedPacket},
		},
		{
			name: "SEC-13 header length overruns packet", track: aacTrack,
			packets:  []*rtp.Packet{pkt(1, 0, true, []byte{0x01, 0x00, 0x00})},
			wantErrs: []error{media.ErrMalformedPacket},
		},
		{
			name: "RTP-07 loss then Reset drops RFC fragment", track: aacTrack,
			packets: []*rtp.Packet{
				pkt(1, 0, false, aacHBR([]int{3000}, 0, au3k[:1400])), nil,
				pkt(3, 0, true, aacHBR([]int{3000}, 0, au3k[2800:])),
				pkt(4, 1024, true, aacHBR([]int{100}, 0, auA)),
			},
			wantErrs: []error{nil, nil, media.ErrFragmentLost, nil},
			want:     []media.Unit{{PTS: 1024, Data: auA, Key: true, Duration: 1024}},
		},
		{
			name: "PL-AAC-04 timestamp change inside RFC fragment", track: aacTrack,
			packets: []*rtp.Packet{
				pkt(1, 0, false, aacHBR([]int{3000}, 0, au3k[:1400])),
				pkt(2, 1024, true, aacHBR([]int{100}, 0, auA)),
			},
			wantErrs: []error{nil, media.ErrFragmentLost},
			want:     []media.Unit{{PTS: 1024, Data: auA, Key: true, Duration: 1024}},
		},
		{
			name: "PL-GEN-01 too many AU headers", track: aacTrack, lim: media.Limits{MaxNALUs: 2},
			packets:  []*rtp.Packet{pkt(1, 0, true, aacHBR([]int{10, 10, 10}, 0, auA[:30]))},
			wantErrs: []error{media.ErrTooManyNALUs},
		},
		{
			name: "PL-GEN-01 oversized fragmented AU", track: aacTrack, lim: media.Limits{MaxUnitBytes: 2000},
			packets: []*rtp.Packet{
				pkt(1, 0, false, aacHBR([]int{3000}, 0, au3k[:1400])),
				pkt(2, 0, false, aacHBR([]int{3000}, 0, au3k[1400:2800])),
			},
			wantErrs: []error{media.ErrUnitTooLarge, media.ErrUnitTooLarge},
		},
	}
}

func TestAACDepacketizer(t *testing.T) {
	t.Parallel()
	runDepCases(t, aacCases())
}

// FuzzAAC checks that no input panics, emits an empty AU or exceeds the limits.
// Allocations are bounded by parseAlloc. Crashers found: none so far.
func FuzzAAC(f *testing.F) {
	for _, tc := range aacCases() {
		f.Add(fuzzSeed(tc.packets))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := aacTrack
		fuzzDepacketizer(t, &tr, data, func(*testing.T, media.Unit, media.Limits) {})
	})
}

func BenchmarkDepacketizeAAC(b *testing.B) {
	var packets []*rtp.Packet
	for i := range 50 {
		packets = append(packets, pkt(uint16(i), uint32(i*1024), true, aacHBR([]int{371}, 0, au371)))
	}
	benchDepacketize(b, &aacTrack, packets)
}

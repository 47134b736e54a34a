package media_test

import (
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
)

var (
	opusTrack  = media.Track{Codec: media.CodecOpus, ClockRate: 48000, Channels: 2}
	pcmuTrack  = media.Track{Codec: media.CodecPCMU, ClockRate: 8000, Channels: 1}
	pcmaStereo = media.Track{Codec: media.CodecPCMA, ClockRate: 16000, Channels: 2}
	opus20ms   = []byte{0xFC, 0x01, 0x02, 0x03} // CELT FB 20 ms, one frame
)

func opusCases() []depCase {
	return []depCase{
		{name: "PL-OPUS-02 CELT 20 ms", track: opusTrack,
			packets: []*rtp.Packet{pkt(1, 960, false, opus20ms)},
			want:    []media.Unit{{PTS: 960, Data: opus20ms, Key: true, Duration: 960}}},
		{name: "PL-OPUS-02 SILK 60 ms", track: opusTrack,
			packets: []*rtp.Packet{pkt(1, 0, true, []byte{0x18, 0xAA})},
			want:    []media.Unit{{Data: []byte{0x18, 0xAA}, Key: true, Duration: 2880}}},
		{name: "PL-OPUS-02 two frames (c=1) of 10 ms hybrid", track: opusTrack,
			packets: []*rtp.Packet{pkt(1, 0, false, []byte{0x61, 0xAA, 0xBB})},
			want:    []media.Unit{{Data: []byte{0x61, 0xAA, 0xBB}, Key: true, Duration: 960}}},
		{name: "PL-OPUS-02 code 3 with 6 frames of 20 ms", track: opusTrack,
			packets: []*rtp.Packet{pkt(1, 0, false, []byte{0xFF, 0x06, 0xAA})},
			want:    []media.Unit{{Data: []byte{0xFF, 0x06, 0xAA}, Key: true, Duration: 5760}}},
		{name: "PL-OPUS-02 code 3 beyond 120 ms", track: opusTrack,
			packets:  []*rtp.Packet{pkt(1, 0, false, []byte{0xFF, 0x07, 0xAA})},
			wantErrs: []error{media.ErrMalformedPacket}},
		{name: "PL-OPUS-02 code 3 without count byte", track: opusTrack,
			packets:  []*rtp.Packet{pkt(1, 0, false, []byte{0xFF})},
			wantErrs: []error{media.ErrMalformedPacket}},
		{name: "PL-GEN-05 empty payload", track: opusTrack, packets: []*rtp.Packet{pkt(1, 0, false)}},
		{name: "PL-GEN-01 oversized", track: opusTrack, lim: media.Limits{MaxUnitBytes: 2},
			packets: []*rtp.Packet{pkt(1, 0, false, opus20ms)}, wantErrs: []error{media.ErrUnitTooLarge}},
	}
}

func g711Cases() []depCase {
	frame := seqBytes(nil, 160)
	return []depCase{
		{name: "PL-G711-01 PCMU 20 ms", track: pcmuTrack,
			packets: []*rtp.Packet{pkt(1, 160, true, frame), pkt(2, 320, false, frame[:80])},
			want: []media.Unit{
				{PTS: 160, Data: frame, Key: true, Duration: 160},
				{PTS: 320, Data: frame[:80], Key: true, Duration: 80},
			}},
		{name: "PL-G711-01 stereo PCMA at 16000", track: pcmaStereo,
			packets: []*rtp.Packet{pkt(1, 0, false, frame)},
			want:    []media.Unit{{Data: frame, Key: true, Duration: 80}}},
		{name: "PL-G711-01 stereo odd length", track: pcmaStereo,
			packets: []*rtp.Packet{pkt(1, 0, false, frame[:3])}, wantErrs: []error{media.ErrMalformedPacket}},
		{name: "PL-GEN-05 empty payload", track: pcmuTrack, packets: []*rtp.Packet{pkt(1, 0, false)}},
		{name: "PL-GEN-01 oversized", track: pcmuTrack, lim: media.Limits{MaxUnitBytes: 100},
			packets: []*rtp.Packet{pkt(1, 0, false, frame)}, wantErrs: []error{media.ErrUnitTooLarge}},
	}
}

func TestOpusDepacketizer(t *testing.T) {
	t.Parallel()
	runDepCases(t, opusCases())
}

func TestG711Depacketizer(t *testing.T) {
	t.Parallel()
	runDepCases(t, g711Cases())
}

// FuzzOpus checks that no input panics or emits an empty or oversized unit, and that every
// Duration is within RFC 6716's 120 ms; allocations are bounded by parseAlloc. Crashers
// found: none so far.
func FuzzOpus(f *testing.F) {
	for _, tc := range opusCases() {
		f.Add(fuzzSeed(tc.packets))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := opusTrack
		fuzzDepacketizer(t, &tr, data, func(t *testing.T, u media.Unit, _ media.Limits) {
			if u.Duration == 0 || u.Duration > 5760 {
				t.Fatalf("duration %d", u.Duration)
			}
		})
	})
}

// FuzzG711 checks that no input panics or emits an empty or oversized unit.
// Allocations are bounded by parseAlloc. Crashers found: none so far.
func FuzzG711(f *testing.F) {
	for _, tc := range g711Cases() {
		f.Add(fuzzSeed(tc.packets))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := pcmaStereo
		fuzzDepacketizer(t, &tr, data, func(t *testing.T, u media.Unit, _ media.Limits) {
			if int(u.Duration)*2 != len(u.Data) {
				t.Fatalf("duration %d for %d bytes", u.Duration, len(u.Data))
			}
		})
	})
}

func BenchmarkDepacketizeOpus(b *testing.B) {
	var packets []*rtp.Packet
	for i := range 50 {
		packets = append(packets, pkt(uint16(i), uint32(i*960), false, seqBytes([]byte{0xFC}, 120)))
	}
	benchDepacketize(b, &opusTrack, packets)
}

func BenchmarkDepacketizeG711(b *testing.B) {
	var packets []*rtp.Packet
	for i := range 50 {
		packets = append(packets, pkt(uint16(i), uint32(i*160), false, seqBytes(nil, 160)))
	}
	benchDepacketize(b, &pcmuTrack, packets)
}

package media_test

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
)

// audioUnits returns one unit per AU, dur ticks apart, all keys.
func audioUnits(dur uint32, aus ...[]byte) []media.Unit {
	var units []media.Unit
	for i, au := range aus {
		units = append(units, media.Unit{PTS: 5000 + uint32(i)*dur, Data: au, Key: true})
	}
	return units
}

func TestPacketizeAACRoundTrip(t *testing.T) {
	t.Parallel()
	au8191 := seqBytes([]byte{0x21}, 8190)
	runRoundTrips(t, []rtCase{
		{name: "PL-AAC-02 one AU per packet (RTSP.md example header)", track: aacTrack,
			cfg: media.PacketizerConfig{PayloadType: 97}, units: audioUnits(1024, au371, auA, auB, []byte{0x21}),
			check: func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
				if len(packets) != 4 || !bytes.Equal(packets[0].Payload[:4], []byte{0x00, 0x10, 0x0B, 0x98}) {
					t.Errorf("%d packets, first header % x", len(packets), packets[0].Payload[:4])
				}
			}},
		{name: "PL-AAC-04 3000-byte AU fragmented with whole AU-size", track: aacTrack,
			units: audioUnits(1024, auA, au3k, auB),
			check: func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
				if len(packets) != 5 {
					t.Fatalf("%d packets, want 5", len(packets))
				}
				for _, p := range packets[1:4] {
					if size := int(p.Payload[2])<<5 | int(p.Payload[3])>>3; size != len(au3k) {
						t.Errorf("fragment AU-size %d, want %d", size, len(au3k))
					}
				}
			}},
		{name: "PL-AAC-04 largest hbr AU at max payload 256", track: aacTrack,
			cfg: media.PacketizerConfig{MaxPayload: 256, InitialSeq: 65500}, units: audioUnits(1024, au8191, au371)},
		{name: "RTP-11 max payload 5: one AU byte per packet", track: aacTrack,
			cfg: media.PacketizerConfig{MaxPayload: 5, InitialSeq: 65530}, units: audioUnits(1024, auA, auB)},
		{name: "PL-AAC-01 AAC-lbr layout 6/2", track: aacLBR,
			units: audioUnits(1024, seqBytes([]byte{0x21}, 62), auB)},
	})
}

func TestPacketizeOpusRoundTrip(t *testing.T) {
	t.Parallel()
	big := seqBytes([]byte{0xFC}, 1399)
	runRoundTrips(t, []rtCase{
		{name: "PL-OPUS-02 one packet per unit", track: opusTrack, markers: markerNever,
			cfg:   media.PacketizerConfig{PayloadType: 111, InitialSeq: 65534},
			units: audioUnits(960, opus20ms, []byte{0x18, 0xAA}, []byte{0xFF, 0x06, 0xAA}, big)},
	})
}

func TestPacketizeG711RoundTrip(t *testing.T) {
	t.Parallel()
	frame, long := seqBytes(nil, 160), seqBytes(nil, 1000)
	runRoundTrips(t, []rtCase{
		{name: "PL-G711-01 one packet per 20 ms unit", track: pcmuTrack, markers: markerNever,
			units: audioUnits(160, frame, frame[:80], frame)},
		{name: "PL-G711-01 unit above max payload split with advancing timestamps", track: pcmuTrack,
			markers: markerNever, cfg: media.PacketizerConfig{MaxPayload: 256, InitialSeq: 65535},
			units: []media.Unit{{PTS: 100, Data: long, Key: true}, {PTS: 1100, Data: frame, Key: true}},
			want: []media.Unit{
				{PTS: 100, Data: long[:256], Key: true}, {PTS: 356, Data: long[256:512], Key: true},
				{PTS: 612, Data: long[512:768], Key: true}, {PTS: 868, Data: long[768:], Key: true},
				{PTS: 1100, Data: frame, Key: true},
			}},
		{name: "PL-G711-01 stereo split on whole samples", track: pcmaStereo, markers: markerNever,
			cfg:   media.PacketizerConfig{MaxPayload: 257},
			units: []media.Unit{{PTS: 0, Data: long, Key: true}},
			want: []media.Unit{
				{PTS: 0, Data: long[:256], Key: true}, {PTS: 128, Data: long[256:512], Key: true},
				{PTS: 256, Data: long[512:768], Key: true}, {PTS: 384, Data: long[768:], Key: true},
			}},
	})
}

func BenchmarkPacketizeAAC(b *testing.B) {
	benchPacketize(b, aacTrack, media.PacketizerConfig{}, au371, true)
}

func BenchmarkPacketizeOpus(b *testing.B) {
	benchPacketize(b, opusTrack, media.PacketizerConfig{}, opus20ms, true)
}

func BenchmarkPacketizeG711(b *testing.B) {
	benchPacketize(b, pcmuTrack, media.PacketizerConfig{}, seqBytes(nil, 160), true)
}

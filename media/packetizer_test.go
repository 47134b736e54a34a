package media_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
)

// markerRule says which packets carry the RTP marker bit (RTP-09).
type markerRule uint8

const (
	markerLastOfUnit markerRule = iota // video and AAC: the last packet of each unit
	markerNever                        // Opus and G.711: the packetizer knows no talk spurts
)

// rtCase is one round trip: units are packetized with a Packetizer on track, the packets
// depacketized with NewDepacketizer on dep (a copy of track when nil), and the units that
// come out compared with want (units when nil) on Data, PTS and Key.
type rtCase struct {
	name    string
	track   media.Track
	dep     *media.Track
	cfg     media.PacketizerConfig
	units   []media.Unit
	want    []media.Unit
	markers markerRule
	// check inspects the packets and the depacketizer's track after the round trip.
	check func(t *testing.T, packets []*rtp.Packet, dep *media.Track)
}

// packetized is the output of packetizeAll: every packet and the unit it belongs to.
type packetized struct {
	packets []*rtp.Packet
	unitOf  []int
}

// packetizeAll packetizes units and checks what every codec shares (RFC 3550 §5.1, RTP-10):
// version 2, no padding, extension or CSRC, the configured payload type and SSRC, sequence
// numbers continuous from cfg.InitialSeq across the 65535 wrap, Seq() the next one, and
// no packet larger than 12 + MaxPayload.
func packetizeAll(t testing.TB, tr *media.Track, cfg media.PacketizerConfig, units []media.Unit) packetized {
	t.Helper()
	p, err := media.NewPacketizer(tr, cfg)
	if err != nil {
		t.Fatalf("NewPacketizer: %v", err)
	}
	maxPayload := cfg.MaxPayload
	if maxPayload == 0 {
		maxPayload = media.DefaultMaxPayload
	}
	var out packetized
	for i, u := range units {
		err := p.Packetize(u.PTS, u.Data, u.Key, func(b []byte) {
			var pk rtp.Packet
			if err := pk.Unmarshal(bytes.Clone(b)); err != nil {
				t.Fatalf("unit %d: unmarshal: %v", i, err)
			}
			out.packets = append(out.packets, &pk)
			out.unitOf = append(out.unitOf, i)
		})
		if err != nil {
			t.Fatalf("unit %d: Packetize: %v", i, err)
		}
	}
	for i, pk := range out.packets {
		h := pk.Header
		if h.Version != 2 || h.Padding || h.Extension || len(h.CSRC) != 0 ||
			h.PayloadType != cfg.PayloadType || h.SSRC != cfg.SSRC {
			t.Errorf("packet %d: header %+v", i, h)
		}
		if want := cfg.InitialSeq + uint16(i); h.SequenceNumber != want {
			t.Errorf("packet %d: seq %d, want %d", i, h.SequenceNumber, want)
		}
		if len(pk.Payload) == 0 || len(pk.Payload) > maxPayload {
			t.Errorf("packet %d: payload of %d bytes, max %d", i, len(pk.Payload), maxPayload)
		}
	}
	if want := cfg.InitialSeq + uint16(len(out.packets)); p.Seq() != want {
		t.Errorf("Seq() = %d, want %d", p.Seq(), want)
	}
	return out
}

// checkMarkers checks the marker bit of every packet against rule, and that each packet of
// a unit carries the unit's timestamp (RTP-09, RTP-10). G.711 splits are exempt from the
// latter: their timestamps advance by the samples sent.
func checkMarkers(t *testing.T, pz packetized, units []media.Unit, rule markerRule) {
	t.Helper()
	for i, pk := range pz.packets {
		u := pz.unitOf[i]
		last := i == len(pz.packets)-1 || pz.unitOf[i+1] != u
		want := rule == markerLastOfUnit && last
		if pk.Marker != want {
			t.Errorf("packet %d (unit %d): marker %v, want %v", i, u, pk.Marker, want)
		}
		if rule == markerLastOfUnit && pk.Timestamp != units[u].PTS {
			t.Errorf("packet %d (unit %d): timestamp %d, want %d", i, u, pk.Timestamp, units[u].PTS)
		}
	}
}

func runRoundTrips(t *testing.T, cases []rtCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := tc.track
			dep := tc.track
			if tc.dep != nil {
				dep = *tc.dep
			}
			pz := packetizeAll(t, &tr, tc.cfg, tc.units)
			checkMarkers(t, pz, tc.units, tc.markers)
			got, errs := depacketize(t, &dep, media.Limits{}, pz.packets)
			for i, err := range errs {
				if err != nil {
					t.Errorf("packet %d: Push: %v", i, err)
				}
			}
			want := tc.want
			if want == nil {
				want = tc.units
			}
			compareRoundTrip(t, got, want)
			if tc.check != nil {
				tc.check(t, pz.packets, &dep)
			}
		})
	}
}

// compareRoundTrip compares Data, PTS and Key byte for byte.
func compareRoundTrip(t *testing.T, got, want []media.Unit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d units, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.PTS != w.PTS || g.Key != w.Key {
			t.Errorf("unit %d: PTS %d Key %v, want %d %v", i, g.PTS, g.Key, w.PTS, w.Key)
		}
		if !bytes.Equal(g.Data, w.Data) {
			t.Errorf("unit %d: %d bytes differ from the %d sent", i, len(g.Data), len(w.Data))
		}
	}
}

func TestNewPacketizerRefuses(t *testing.T) {
	t.Parallel()
	aacNoLayout := aacTrack
	aacNoLayout.SizeLength = 0
	tests := []struct {
		name  string
		track media.Track
		cfg   media.PacketizerConfig
		codec bool // the error wraps ErrUnsupportedCodec
	}{
		{"unknown codec", media.Track{ClockRate: 90000}, media.PacketizerConfig{}, true},
		{"AAC without sizelength", aacNoLayout, media.PacketizerConfig{}, true},
		{"payload type 128", h264Ready, media.PacketizerConfig{PayloadType: 128}, false},
		{"H.264 max payload 2", h264Ready, media.PacketizerConfig{MaxPayload: 2}, false},
		{"H.265 max payload 3", h265Ready, media.PacketizerConfig{MaxPayload: 3}, false},
		{"MJPEG max payload 144", mjpegTrack, media.PacketizerConfig{MaxPayload: 144}, false},
		{"stereo G.711 max payload 1", pcmaStereo, media.PacketizerConfig{MaxPayload: 1}, false},
		{"negative max payload", opusTrack, media.PacketizerConfig{MaxPayload: -1}, false},
		{"max payload above interleaved frame", opusTrack, media.PacketizerConfig{MaxPayload: media.MaxPacketizerPayload + 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := tt.track
			p, err := media.NewPacketizer(&tr, tt.cfg)
			if err == nil || p != nil {
				t.Fatalf("NewPacketizer = %v, %v; want an error", p, err)
			}
			if errors.Is(err, media.ErrUnsupportedCodec) != tt.codec {
				t.Errorf("err = %v, wraps ErrUnsupportedCodec: %v", err, !tt.codec)
			}
		})
	}
	if _, err := media.NewPacketizer(nil, media.PacketizerConfig{}); !errors.Is(err, media.ErrUnsupportedCodec) {
		t.Errorf("nil track: err = %v", err)
	}
}

// TestPacketizeRefusesUnit checks that a refused unit emits nothing and leaves Seq alone.
func TestPacketizeRefusesUnit(t *testing.T) {
	t.Parallel()
	file, _, _ := testJPEG(t, 50)
	tests := []struct {
		name  string
		track media.Track
		cfg   media.PacketizerConfig
		unit  []byte
		want  error
	}{
		{"empty unit", h264Ready, media.PacketizerConfig{}, nil, media.ErrMalformedUnit},
		{"H.264 truncated length prefix", h264Ready, media.PacketizerConfig{}, []byte{0, 0, 0}, media.ErrMalformedUnit},
		{"H.264 length overruns", h264Ready, media.PacketizerConfig{}, []byte{0, 0, 0, 9, 0x65, 1}, media.ErrMalformedUnit},
		{"H.264 zero length NALU", h264Ready, media.PacketizerConfig{}, append(avcc(h264IDR), 0, 0, 0, 0), media.ErrMalformedUnit},
		{"H.264 Annex-B instead of AVCC", h264Ready, media.PacketizerConfig{}, append([]byte{0, 0, 0, 1}, h264IDR...), media.ErrMalformedUnit},
		{"H.264 FU-A type inside the unit", h264Ready, media.PacketizerConfig{}, avcc(h264IDR, []byte{0x7C, 0x85, 1}), media.ErrMalformedUnit},
		{"H.264 type 0", h264Ready, media.PacketizerConfig{}, avcc([]byte{0x00, 1}), media.ErrMalformedUnit},
		{"H.265 one-byte NALU", h265Ready, media.PacketizerConfig{}, avcc([]byte{0x26}), media.ErrMalformedUnit},
		{"H.265 AP type inside the unit", h265Ready, media.PacketizerConfig{}, avcc([]byte{0x60, 0x01, 0, 1, 2}), media.ErrMalformedUnit},
		{"PL-AAC-02 hbr AU of 8192 bytes", aacTrack, media.PacketizerConfig{}, seqBytes([]byte{0x21}, 8191), media.ErrUnsupportedUnit},
		{"PL-AAC-02 lbr AU of 64 bytes", aacLBR, media.PacketizerConfig{}, seqBytes([]byte{0x21}, 63), media.ErrUnsupportedUnit},
		{"PL-OPUS-02 packet above MaxPayload", opusTrack, media.PacketizerConfig{MaxPayload: 3}, opus20ms, media.ErrUnsupportedUnit},
		{"PL-OPUS-02 code 3 without count", opusTrack, media.PacketizerConfig{}, []byte{0xFF}, media.ErrMalformedUnit},
		{"PL-G711-01 stereo odd length", pcmaStereo, media.PacketizerConfig{}, []byte{1, 2, 3}, media.ErrMalformedUnit},
		{"PL-JPEG truncated", mjpegTrack, media.PacketizerConfig{}, file[:100], media.ErrMalformedUnit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.InitialSeq = 4242
			tr := tt.track
			p, err := media.NewPacketizer(&tr, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			emitted := 0
			err = p.Packetize(1, tt.unit, true, func([]byte) { emitted++ })
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if emitted != 0 || p.Seq() != 4242 {
				t.Errorf("emitted %d packets, Seq %d", emitted, p.Seq())
			}
		})
	}
}

// TestPacketizeZeroAllocs enforces in every test run what the benchmarks show: after the
// first unit, Packetize allocates nothing. Not parallel: AllocsPerRun counts the process.
func TestPacketizeZeroAllocs(t *testing.T) {
	file, _, _ := testJPEG(t, 50)
	tests := []struct {
		name  string
		track media.Track
		cfg   media.PacketizerConfig
		unit  []byte
	}{
		{"h264", h264Ready, media.PacketizerConfig{}, h264Frame(15000)},
		{"h265", h265Ready, media.PacketizerConfig{}, h265Frame(15000)},
		{"aac", aacTrack, media.PacketizerConfig{}, au3k},
		{"opus", opusTrack, media.PacketizerConfig{}, opus20ms},
		{"g711", pcmuTrack, media.PacketizerConfig{MaxPayload: 256}, seqBytes(nil, 1000)},
		{"mjpeg", mjpegTrack, media.PacketizerConfig{MaxPayload: 256}, file},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.track
			p, err := media.NewPacketizer(&tr, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			packets := 0
			emit := func([]byte) { packets++ }
			run := func() {
				if err := p.Packetize(0, tt.unit, true, emit); err != nil {
					t.Fatal(err)
				}
			}
			run()
			if allocs := testing.AllocsPerRun(50, run); allocs != 0 {
				t.Errorf("%v allocations per run, want 0", allocs)
			}
			if packets == 0 {
				t.Error("no packets")
			}
		})
	}
}

// benchPacketize packetizes unit over and over; ns/op and allocs/op are per unit, ns/pkt
// per packet.
func benchPacketize(b *testing.B, track media.Track, cfg media.PacketizerConfig, unit []byte, key bool) {
	p, err := media.NewPacketizer(&track, cfg)
	if err != nil {
		b.Fatal(err)
	}
	packets, bytesOut := 0, 0
	emit := func(pkt []byte) { packets++; bytesOut += len(pkt) }
	b.ReportAllocs()
	b.SetBytes(int64(len(unit)))
	ts := uint32(0)
	for b.Loop() {
		if err := p.Packetize(ts, unit, key, emit); err != nil {
			b.Fatal(err)
		}
		ts += 3000
	}
	if packets == 0 {
		b.Fatal("no packets")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/pkt")
}

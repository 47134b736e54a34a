package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/media"
)

// depCase is one depacketizer scenario. A nil packet means "call Reset" (the caller's
// reaction to a sequence gap, RTP-07).
type depCase struct {
	name     string
	track    media.Track
	lim      media.Limits
	packets  []*rtp.Packet
	wantErrs []error // per packet; nil means every Push returns nil
	want     []media.Unit
	check    func(t *testing.T, tr *media.Track)
}

// runDepCases runs each case through NewDepacketizer and compares the emitted units.
func runDepCases(t *testing.T, cases []depCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := tc.track
			got, errs := depacketize(t, &tr, tc.lim, tc.packets)
			for i, err := range errs {
				var want error
				if tc.wantErrs != nil {
					want = tc.wantErrs[i]
				}
				if !errors.Is(err, want) || (want == nil && err != nil) {
					t.Errorf("packet %d: err = %v, want %v", i, err, want)
				}
			}
			compareUnits(t, got, tc.want)
			if tc.check != nil {
				tc.check(t, &tr)
			}
		})
	}
}

// depacketize pushes packets and returns copies of the units and every Push error.
func depacketize(t testing.TB, tr *media.Track, lim media.Limits, packets []*rtp.Packet) ([]media.Unit, []error) {
	t.Helper()
	var got []media.Unit
	d, err := media.NewDepacketizer(tr, lim, func(u media.Unit) {
		u.Data = bytes.Clone(u.Data)
		got = append(got, u)
	})
	if err != nil {
		t.Fatalf("NewDepacketizer: %v", err)
	}
	errs := make([]error, len(packets))
	for i, p := range packets {
		if p == nil {
			d.Reset()
			continue
		}
		errs[i] = d.Push(p)
	}
	return got, errs
}

func compareUnits(t *testing.T, got, want []media.Unit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d units, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.PTS != w.PTS || g.Key != w.Key || g.ParamsChanged != w.ParamsChanged || g.Duration != w.Duration {
			t.Errorf("unit %d: PTS %d Key %v ParamsChanged %v Duration %d, want %d %v %v %d",
				i, g.PTS, g.Key, g.ParamsChanged, g.Duration, w.PTS, w.Key, w.ParamsChanged, w.Duration)
		}
		if !bytes.Equal(g.Data, w.Data) {
			t.Errorf("unit %d: Data\n% x\nwant\n% x", i, g.Data, w.Data)
		}
	}
}

// u16 prefixes b with its 16-bit big-endian length (STAP-A/AP entry).
func u16(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

// fuzzPackets turns fuzz input into packets: records of flags (bit 0 marker, bit 1 next
// timestamp, bit 2 Reset), a 16-bit length and the payload.
func fuzzPackets(data []byte) []*rtp.Packet {
	var out []*rtp.Packet
	ts := uint32(1000)
	for seq := uint16(0); len(data) >= 3; seq++ {
		flags, n := data[0], int(binary.BigEndian.Uint16(data[1:3]))
		data = data[3:]
		n = min(n, len(data))
		if flags&4 != 0 {
			out = append(out, nil)
		}
		if flags&2 != 0 {
			ts += 3000
		}
		out = append(out, pkt(seq, ts, flags&1 != 0, data[:n]))
		data = data[n:]
	}
	return out
}

// fuzzSeed encodes packets in the fuzzPackets format.
func fuzzSeed(packets []*rtp.Packet) []byte {
	var b []byte
	var ts uint32
	for i, p := range packets {
		if p == nil {
			continue
		}
		var flags byte
		if p.Marker {
			flags |= 1
		}
		if i > 0 && p.Timestamp != ts {
			flags |= 2
		}
		ts = p.Timestamp
		b = append(b, flags)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.Payload)))
		b = append(b, p.Payload...)
	}
	return b
}

// fuzzDepacketizer pushes fuzz input through a depacketizer with small limits, checks
// each unit with checkUnit and the allocations against parseAlloc.
func fuzzDepacketizer(t *testing.T, tr *media.Track, data []byte, checkUnit func(t *testing.T, u media.Unit, lim media.Limits)) {
	lim := media.Limits{MaxUnitBytes: 1 << 16, MaxNALUs: 16}
	alloctest.Check(t, parseAlloc, len(data), func() {
		d, err := media.NewDepacketizer(tr, lim, func(u media.Unit) {
			if len(u.Data) == 0 || len(u.Data) > lim.MaxUnitBytes {
				t.Fatalf("unit of %d bytes", len(u.Data))
			}
			checkUnit(t, u, lim)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range fuzzPackets(data) {
			if p == nil {
				d.Reset()
				continue
			}
			_ = d.Push(p) // errors are expected on garbage; only panics and bad units fail
		}
	})
}

// checkAVCC fails on an empty NAL unit or a length prefix that overruns the sample.
func checkAVCC(t *testing.T, u media.Unit, lim media.Limits) {
	b, n := u.Data, 0
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("truncated length prefix")
		}
		l := int(binary.BigEndian.Uint32(b))
		if l == 0 || l > len(b)-4 {
			t.Fatalf("bad NAL length %d of %d", l, len(b)-4)
		}
		b = b[4+l:]
		n++
	}
	if n == 0 || n > lim.MaxNALUs {
		t.Fatalf("%d NAL units", n)
	}
}

func TestNewDepacketizerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		track *media.Track
	}{
		{"nil track", nil},
		{"unknown codec", &media.Track{}},
		{"aac without size length", &media.Track{Codec: media.CodecAAC, ClockRate: 48000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := media.NewDepacketizer(tt.track, media.Limits{}, func(media.Unit) {}); !errors.Is(err, media.ErrUnsupportedCodec) {
				t.Errorf("err = %v, want ErrUnsupportedCodec", err)
			}
		})
	}
}

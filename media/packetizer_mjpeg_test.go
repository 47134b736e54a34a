package media_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/media"
)

// rebuiltJPEG returns the JPEG a depacketizer rebuilds from RTP/JPEG packets of scan with
// the given type (64/65 add restart interval 16) and Q: the canonical form RFC 2435 App. B
// defines, which a packetizer round trip must reproduce byte for byte.
func rebuiltJPEG(t *testing.T, typ, q byte, quality int) []byte {
	t.Helper()
	_, scan, tables := testJPEG(t, quality)
	tr := mjpegTrack
	got, _ := depacketize(t, &tr, media.Limits{}, rtpJPEG(0, typ, q, scan, tables, 500))
	if len(got) != 1 {
		t.Fatalf("depacketizer gave %d units", len(got))
	}
	return got[0].Data
}

// jpegScan returns the scan data of a JPEG (after the SOS segment, without EOI).
func jpegScan(b []byte) []byte {
	sos := bytes.Index(b, []byte{0xFF, 0xDA})
	return bytes.TrimSuffix(b[sos+2+int(b[sos+2])<<8|int(b[sos+3]):], []byte{0xFF, 0xD9})
}

// TestPacketizeMJPEGFromEncoder packetizes what image/jpeg writes (its own marker layout,
// component IDs 1..3): the depacketizer's rebuilt JPEG has the same scan data and decodes to
// the same pixels; packetizing that again is a byte-for-byte round trip.
func TestPacketizeMJPEGFromEncoder(t *testing.T) {
	t.Parallel()
	for _, q := range []int{20, 50, 95} {
		file, _, _ := testJPEG(t, q)
		units := []media.Unit{{PTS: 3600, Data: file, Key: true}}
		tr, dep := mjpegTrack, mjpegTrack
		pz := packetizeAll(t, &tr, media.PacketizerConfig{PayloadType: 26, MaxPayload: 256}, units)
		checkMarkers(t, pz, units, markerLastOfUnit)
		if h := pz.packets[0].Payload; !bytes.Equal(h[:12], []byte{0, 0, 0, 0, 1, 255, 8, 6, 0, 0, 0, 128}) {
			t.Errorf("quality %d: first headers % x", q, h[:12])
		}
		got, errs := depacketize(t, &dep, media.Limits{}, pz.packets)
		if len(got) != 1 || errors.Join(errs...) != nil {
			t.Fatalf("quality %d: %d units, errors %v", q, len(got), errs)
		}
		if !bytes.Equal(jpegScan(got[0].Data), jpegScan(file)) || dep.Width != 64 || dep.Height != 48 {
			t.Errorf("quality %d: scan data or size (%dx%d) changed", q, dep.Width, dep.Height)
		}
		want, img := decodeJPEG(t, file), decodeJPEG(t, got[0].Data)
		for y := range 48 {
			for x := range 64 {
				if want.At(x, y) != img.At(x, y) {
					t.Fatalf("quality %d: pixel %d,%d differs", q, x, y)
				}
			}
		}
		runRoundTrips(t, []rtCase{{name: fmt.Sprintf("quality %d rebuilt", q), track: mjpegTrack,
			units: []media.Unit{{PTS: 1, Data: got[0].Data, Key: true}}}})
	}
}

func TestPacketizeMJPEGRoundTrip(t *testing.T) {
	t.Parallel()
	q50 := rebuiltJPEG(t, 1, 50, 50)
	restart := rebuiltJPEG(t, 65, 255, 70)
	type0 := rebuiltJPEG(t, 0, 50, 50)
	restart0 := rebuiltJPEG(t, 64, 50, 50)
	typeOf := func(want byte) func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
		return func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
			for i, p := range packets {
				if p.Payload[4] != want || p.Payload[5] != 255 {
					t.Errorf("packet %d: type %d Q %d, want %d 255", i, p.Payload[4], p.Payload[5], want)
				}
				if want >= 64 && !bytes.Equal(p.Payload[8:12], []byte{0, 16, 0xFF, 0xFF}) {
					t.Errorf("packet %d: restart header % x", i, p.Payload[8:12])
				}
			}
		}
	}
	runRoundTrips(t, []rtCase{
		{name: "PL-JPEG-01 type 1 4:2:0, Q 50 tables sent in-band", track: mjpegTrack,
			units: []media.Unit{{Data: q50, Key: true}, {PTS: 3600, Data: q50, Key: true}}, check: typeOf(1)},
		{name: "PL-JPEG-01 type 0 4:2:2", track: mjpegTrack, cfg: media.PacketizerConfig{MaxPayload: 145},
			units: []media.Unit{{Data: type0, Key: true}}, check: typeOf(0)},
		{name: "PL-JPEG-01 type 65 with DRI", track: mjpegTrack, cfg: media.PacketizerConfig{MaxPayload: 200, InitialSeq: 65530},
			units: []media.Unit{{Data: restart, Key: true}, {PTS: 3600, Data: restart, Key: true}}, check: typeOf(65)},
		{name: "PL-JPEG-01 type 64 with DRI", track: mjpegTrack, cfg: media.PacketizerConfig{MaxPayload: 1460},
			units: []media.Unit{{Data: restart0, Key: true}}, check: typeOf(64)},
	})
}

// patched returns a copy of b with the bytes at the first occurrence of marker+off replaced.
func patched(b, marker []byte, off int, with ...byte) []byte {
	b = bytes.Clone(b)
	copy(b[bytes.Index(b, marker)+off:], with)
	return b
}

func TestPacketizeMJPEGRefuses(t *testing.T) {
	t.Parallel()
	file, _, _ := testJPEG(t, 50)
	sof, dht, sos := []byte{0xFF, 0xC0}, []byte{0xFF, 0xC4}, []byte{0xFF, 0xDA}
	var gray bytes.Buffer
	if err := jpeg.Encode(&gray, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	big := image.NewRGBA(image.Rect(0, 0, 2048, 8))
	big.Set(0, 0, color.White)
	var wide bytes.Buffer
	if err := jpeg.Encode(&wide, big, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		unit []byte
		want error
	}{
		{"PL-JPEG-04 2048 pixels wide", wide.Bytes(), media.ErrUnsupportedUnit},
		{"progressive (SOF2)", patched(file, sof, 1, 0xC2), media.ErrUnsupportedUnit},
		{"extended sequential (SOF1)", patched(file, sof, 1, 0xC1), media.ErrUnsupportedUnit},
		{"12-bit samples", patched(file, sof, 4, 12), media.ErrUnsupportedUnit},
		{"grayscale", gray.Bytes(), media.ErrUnsupportedUnit},
		{"4:4:4 sampling", patched(file, sof, 11, 0x11), media.ErrUnsupportedUnit},
		{"chroma on separate quantisation tables", patched(file, sof, 18, 2), media.ErrUnsupportedUnit},
		{"non-standard Huffman table", patched(file, dht, 6, 2), media.ErrUnsupportedUnit},
		{"luma on chroma Huffman tables", patched(file, sos, 6, 0x11), media.ErrUnsupportedUnit},
		{"height 0 (DNL)", patched(file, sof, 5, 0, 0), media.ErrUnsupportedUnit},
		{"no SOI", file[2:], media.ErrMalformedUnit},
		{"no scan data", append(bytes.Clone(file[:bytes.Index(file, sos)+14]), 0xFF, 0xD9), media.ErrMalformedUnit},
		{"missing quantisation table", patched(file, sof, 12, 3), media.ErrMalformedUnit},
		{"segment length overruns", patched(file, dht, 2, 0xFF, 0xFF), media.ErrMalformedUnit},
		{"EOI before the scan", patched(file, sof, 1, 0xD9), media.ErrMalformedUnit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := mjpegTrack
			p, err := media.NewPacketizer(&tr, media.PacketizerConfig{})
			if err != nil {
				t.Fatal(err)
			}
			emitted := 0
			if err := p.Packetize(0, tt.unit, true, func([]byte) { emitted++ }); !errors.Is(err, tt.want) || emitted != 0 {
				t.Errorf("err = %v after %d packets, want %v", err, emitted, tt.want)
			}
		})
	}
}

// FuzzPacketizeMJPEG packetizes arbitrary bytes as a JPEG: no panic, nothing emitted on
// error, and an accepted JPEG depacketizes to exactly one unit, all within the allocation
// bound parseAlloc. Crashers found: none so far.
func FuzzPacketizeMJPEG(f *testing.F) {
	file, _, _ := testJPEG(f, 50)
	f.Add(file, uint16(0))
	f.Add(patched(file, []byte{0xFF, 0xC0}, 11, 0x21), uint16(300))
	f.Add(file[:200], uint16(9))
	f.Fuzz(func(t *testing.T, unit []byte, maxPayload uint16) {
		alloctest.Check(t, parseAlloc, len(unit), func() {
			cfg := media.PacketizerConfig{MaxPayload: 145 + int(maxPayload)%1400}
			tr := mjpegTrack
			p, err := media.NewPacketizer(&tr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var packets []*rtp.Packet
			err = p.Packetize(0, unit, true, func(b []byte) {
				var pk rtp.Packet
				if err := pk.Unmarshal(bytes.Clone(b)); err != nil {
					t.Fatal(err)
				}
				packets = append(packets, &pk)
			})
			if err != nil {
				if len(packets) != 0 {
					t.Fatalf("err %v after %d packets", err, len(packets))
				}
				return
			}
			got, _ := depacketize(t, &tr, media.Limits{}, packets)
			if len(got) != 1 {
				t.Fatalf("%d units from an accepted JPEG", len(got))
			}
		})
	})
}

func BenchmarkPacketizeMJPEG(b *testing.B) {
	file, _, _ := testJPEG(b, 50)
	// Pad the scan to a realistic ~40 KB frame; only the bytes per packet matter here.
	sos := bytes.Index(file, []byte{0xFF, 0xDA}) + 14
	frame := append(append(bytes.Clone(file[:sos]), bytes.Repeat([]byte{0x55}, 40000)...), 0xFF, 0xD9)
	benchPacketize(b, mjpegTrack, media.PacketizerConfig{}, frame, true)
}

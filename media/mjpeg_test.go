package media_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
)

var mjpegTrack = media.Track{Codec: media.CodecMJPEG, ClockRate: 90000}

// testJPEG encodes a 64x48 gradient at quality q with image/jpeg (4:2:0, standard Huffman
// tables, IJG quality scaling: what RFC 2435 assumes) and returns the file, its scan data
// (between SOS and EOI) and its two DQT tables.
func testJPEG(t testing.TB, q int) (file, scan, tables []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	file = buf.Bytes()
	dqt := bytes.Index(file, []byte{0xFF, 0xDB})
	tables = append(append([]byte(nil), file[dqt+5:dqt+5+64]...), file[dqt+6+64:dqt+6+128]...)
	sos := bytes.Index(file, []byte{0xFF, 0xDA})
	scan = file[sos+2+int(file[sos+2])<<8|int(file[sos+3]) : len(file)-2]
	return file, scan, tables
}

// rtpJPEG builds RTP/JPEG packets (RFC 2435 §3.1) of at most size scan bytes each:
// type 1 (4:2:0), 64x48, with the quantisation table header in the first when q >= 128.
func rtpJPEG(ts uint32, typ, q byte, scan, tables []byte, size int) []*rtp.Packet {
	var out []*rtp.Packet
	for off := 0; off < len(scan); off += size {
		n := min(size, len(scan)-off)
		p := []byte{0, byte(off >> 16), byte(off >> 8), byte(off), typ, q, 64 / 8, 48 / 8}
		if typ >= 64 {
			p = append(p, 0, 16, 0xFF, 0xFF)
		}
		if q >= 128 && off == 0 {
			p = append(p, 0, 0, byte(len(tables)>>8), byte(len(tables)))
			p = append(p, tables...)
		}
		out = append(out, pkt(uint16(off/size), ts, off+n == len(scan), p, scan[off:off+n]))
	}
	return out
}

func decodeJPEG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

func TestMJPEGRebuildsDecodableJPEG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		quality int
		q       byte
	}{
		{"PL-JPEG-02 Q 50 standard tables", 50, 50},
		{"PL-JPEG-02 Q 20 scaled tables", 20, 20},
		{"PL-JPEG-02 Q 85 scaled tables", 85, 85},
		{"PL-JPEG-02 Q 255 in-band tables", 70, 255},
		{"PL-JPEG-02 Q 128 in-band tables", 95, 128},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file, scan, tables := testJPEG(t, tt.quality)
			tr := mjpegTrack
			got, errs := depacketize(t, &tr, media.Limits{}, rtpJPEG(0, 1, tt.q, scan, tables, 300))
			for i, err := range errs {
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
			}
			if len(got) != 1 || !got[0].Key || !got[0].ParamsChanged || tr.Width != 64 || tr.Height != 48 {
				t.Fatalf("got %d units, track %dx%d", len(got), tr.Width, tr.Height)
			}
			want, img := decodeJPEG(t, file), decodeJPEG(t, got[0].Data)
			for y := range 48 {
				for x := range 64 {
					if want.At(x, y) != img.At(x, y) {
						t.Fatalf("pixel %d,%d differs: %v != %v", x, y, img.At(x, y), want.At(x, y))
					}
				}
			}
		})
	}
}

func mjpegCases() []depCase {
	_, scan, tables := testJPEG(&testing.T{}, 50)
	size := len(scan)/3 + 1 // three packets per frame
	frame := rtpJPEG(0, 1, 50, scan, tables, size)
	second := rtpJPEG(3600, 1, 50, scan, tables, size)
	restart := rtpJPEG(0, 65, 50, scan, tables, size)
	wide := pkt(1, 0, true, []byte{0, 0, 0, 0, 1, 50, 0, 6}, scan[:10])
	return []depCase{
		{name: "PL-JPEG-03 offset gap drops the frame", track: mjpegTrack,
			packets:  []*rtp.Packet{frame[0], frame[2], second[0], second[1], second[2]},
			wantErrs: []error{nil, media.ErrFragmentLost, nil, nil, nil},
			want:     []media.Unit{{PTS: 3600, Key: true, ParamsChanged: true}}},
		{name: "PL-JPEG-03 joined mid-frame", track: mjpegTrack,
			packets: []*rtp.Packet{frame[1]}, wantErrs: []error{media.ErrFragmentLost}},
		{name: "RTP-07 Reset drops the partial frame", track: mjpegTrack,
			packets:  []*rtp.Packet{frame[0], nil, frame[1], frame[2]},
			wantErrs: []error{nil, nil, media.ErrFragmentLost, media.ErrFragmentLost}},
		{name: "PL-JPEG-03 timestamp change without marker", track: mjpegTrack,
			packets:  []*rtp.Packet{frame[0], frame[1], second[0]},
			wantErrs: []error{nil, nil, media.ErrFragmentLost}},
		{name: "PL-JPEG-04 width 0 needs the ONVIF extension", track: mjpegTrack,
			packets: []*rtp.Packet{wide}, wantErrs: []error{media.ErrUnsupportedPacket}},
		{name: "PL-JPEG-01 type 2 unsupported", track: mjpegTrack,
			packets:  []*rtp.Packet{pkt(1, 0, true, []byte{0, 0, 0, 0, 2, 50, 8, 6}, scan[:10])},
			wantErrs: []error{media.ErrUnsupportedPacket}},
		{name: "PL-JPEG-02 Q 128 with no tables yet", track: mjpegTrack,
			packets:  []*rtp.Packet{pkt(1, 0, true, []byte{0, 0, 0, 0, 1, 128, 8, 6, 0, 0, 0, 0}, scan[:10])},
			wantErrs: []error{media.ErrMalformedPacket}},
		{name: "SEC-13 short header", track: mjpegTrack,
			packets: []*rtp.Packet{pkt(1, 0, true, []byte{0, 0, 0})}, wantErrs: []error{media.ErrMalformedPacket}},
		{name: "PL-GEN-01 oversized frame", track: mjpegTrack, lim: media.Limits{MaxUnitBytes: 589 + size + 1}, // headers + one fragment
			packets:  frame,
			wantErrs: []error{nil, media.ErrUnitTooLarge, media.ErrFragmentLost}},
		{name: "PL-JPEG-01 type 65 restart header", track: mjpegTrack, packets: restart,
			want: []media.Unit{{Key: true, ParamsChanged: true}}},
	}
}

func TestMJPEGDepacketizer(t *testing.T) {
	t.Parallel()
	// Data of emitted frames is checked by TestMJPEGRebuildsDecodableJPEG; here only the
	// unit metadata, the SOI/EOI framing and DRI are.
	for _, tc := range mjpegCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := tc.track
			got, errs := depacketize(t, &tr, tc.lim, tc.packets)
			for i, err := range errs {
				var want error
				if tc.wantErrs != nil {
					want = tc.wantErrs[i]
				}
				if err != want {
					t.Errorf("packet %d: err = %v, want %v", i, err, want)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d units, want %d", len(got), len(tc.want))
			}
			for i, u := range got {
				w := tc.want[i]
				if u.PTS != w.PTS || u.Key != w.Key || u.ParamsChanged != w.ParamsChanged ||
					!bytes.HasPrefix(u.Data, []byte{0xFF, 0xD8}) || !bytes.HasSuffix(u.Data, []byte{0xFF, 0xD9}) {
					t.Errorf("unit %d: %+v", i, u)
				}
				if tc.packets[0].Payload[4] >= 64 && !bytes.Contains(u.Data, []byte{0xFF, 0xDD, 0, 4, 0, 16}) {
					t.Errorf("unit %d: no DRI segment", i)
				}
			}
		})
	}
}

// FuzzMJPEG checks that no input panics or emits a unit that is not SOI..EOI within the
// limits; allocations are bounded by parseAlloc. Crashers found: none so far.
func FuzzMJPEG(f *testing.F) {
	for _, tc := range mjpegCases() {
		f.Add(fuzzSeed(tc.packets))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := mjpegTrack
		fuzzDepacketizer(t, &tr, data, func(t *testing.T, u media.Unit, _ media.Limits) {
			if !bytes.HasPrefix(u.Data, []byte{0xFF, 0xD8}) || !bytes.HasSuffix(u.Data, []byte{0xFF, 0xD9}) {
				t.Fatalf("not a JPEG")
			}
		})
	})
}

func BenchmarkDepacketizeMJPEG(b *testing.B) {
	_, scan, tables := testJPEG(b, 50)
	// Repeat the scan to a realistic ~40 KB frame; only the bytes per packet matter here.
	big := bytes.Repeat(scan, 40000/len(scan)+1)
	benchDepacketize(b, &mjpegTrack, rtpJPEG(0, 1, 50, big, tables, 1392))
}

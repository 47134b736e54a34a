package media_test

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
)

func TestKeyPayload(t *testing.T) {
	idrFU := fuA(append([]byte{0x65}, idrBody...), 1000)
	sliceFU := fuA(append([]byte{0x41}, idrBody...), 1000)
	stap := func(nals ...[]byte) []byte {
		p := []byte{0x78}
		for _, n := range nals {
			p = append(p, byte(len(n)>>8), byte(len(n)))
			p = append(p, n...)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		codec   media.Codec
		payload []byte
		want    bool
	}{
		{"h264 IDR", media.CodecH264, h264IDR, true},
		{"h264 slice", media.CodecH264, h264Slice, false},
		{"h264 SPS alone", media.CodecH264, h264SPS, false},
		{"h264 STAP-A SPS PPS IDR", media.CodecH264, stap(h264SPS, h264PPS, h264IDR), true},
		{"h264 STAP-A SPS PPS", media.CodecH264, stap(h264SPS, h264PPS), false},
		{"h264 STAP-A overrun", media.CodecH264, append(stap(h264SPS), 0, 200, 0x65), false},
		{"h264 FU-A IDR start", media.CodecH264, idrFU[0], true},
		{"h264 FU-A IDR middle", media.CodecH264, idrFU[1], false},
		{"h264 FU-A slice start", media.CodecH264, sliceFU[0], false},
		{"h264 empty", media.CodecH264, nil, false},
		{"h265 IDR", media.CodecH265, h265IDR, true},
		{"h265 VPS", media.CodecH265, h265VPS, false},
		{"h265 FU IDR start", media.CodecH265, []byte{49 << 1, 1, 0x80 | 19, 0xAA}, true},
		{"h265 FU IDR middle", media.CodecH265, []byte{49 << 1, 1, 19, 0xAA}, false},
		{"h265 FU trail start", media.CodecH265, []byte{49 << 1, 1, 0x80 | 1, 0xAA}, false},
		{"h265 AP VPS IDR", media.CodecH265, append(append([]byte{48 << 1, 1, 0, byte(len(h265VPS))}, h265VPS...),
			append([]byte{0, byte(len(h265IDR))}, h265IDR...)...), true},
		{"mjpeg first", media.CodecMJPEG, []byte{0, 0, 0, 0, 1, 255, 80, 60}, true},
		{"mjpeg later", media.CodecMJPEG, []byte{0, 0, 5, 0xDC, 1, 255, 80, 60}, false},
		{"aac", media.CodecAAC, []byte{0, 16, 0, 8}, true},
		{"unknown", media.CodecUnknown, h264IDR, false},
	} {
		if got := media.KeyPayload(tc.codec, tc.payload); got != tc.want {
			t.Errorf("%s: KeyPayload = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPrefixPayload(t *testing.T) {
	for _, tc := range []struct {
		name    string
		codec   media.Codec
		payload []byte
		want    bool
	}{
		{"h264 SPS", media.CodecH264, h264SPS, true},
		{"h264 PPS", media.CodecH264, h264PPS, true},
		{"h264 AUD", media.CodecH264, h264AUD, true},
		{"h264 SEI", media.CodecH264, h264SEI, true},
		{"h264 IDR", media.CodecH264, h264IDR, false},
		{"h264 STAP-A SPS PPS", media.CodecH264, append(append([]byte{0x78, 0, byte(len(h264SPS))}, h264SPS...), append([]byte{0, byte(len(h264PPS))}, h264PPS...)...), true},
		{"h264 STAP-A SPS IDR", media.CodecH264, append(append([]byte{0x78, 0, byte(len(h264SPS))}, h264SPS...), append([]byte{0, byte(len(h264IDR))}, h264IDR...)...), false},
		{"h264 STAP-A truncated", media.CodecH264, []byte{0x78, 0, 9, 0x67}, false},
		{"h265 VPS", media.CodecH265, h265VPS, true},
		{"h265 IDR", media.CodecH265, h265IDR, false},
		{"aac", media.CodecAAC, []byte{0, 16}, false},
	} {
		if got := media.PrefixPayload(tc.codec, tc.payload); got != tc.want {
			t.Errorf("%s: PrefixPayload = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzKeyPayload checks that KeyPayload never panics and agrees with the
// depacketizer: a packet that is a whole access unit by itself (marker
// set) and is taken without error is a key unit exactly when KeyPayload
// says so. Payloads holding an Annex-B start code are left out: the
// depacketizer splits NAL units that cameras wrongly send with start codes
// inside, which a relay deciding where a viewer may join need not do.
func FuzzKeyPayload(f *testing.F) {
	f.Add(true, h264IDR)
	f.Add(true, h264Slice)
	f.Add(true, append([]byte{0x78, 0, byte(len(h264SPS))}, append(h264SPS, 0, byte(len(h264IDR)))...))
	f.Add(false, h265IDR)
	f.Add(false, []byte{49 << 1, 1, 0xC0 | 19, 0xAA})
	f.Fuzz(func(t *testing.T, h264 bool, payload []byte) {
		tr, codec := h264Ready, media.CodecH264
		if !h264 {
			tr, codec = h265Ready, media.CodecH265
		}
		key := media.KeyPayload(codec, payload)
		if key && media.PrefixPayload(codec, payload) {
			t.Fatalf("payload %x is both a keyframe and parameter sets only", payload)
		}
		if bytes.Contains(payload, []byte{0, 0, 1}) {
			return
		}
		units, errs := depacketize(t, &tr, media.Limits{}, []*rtp.Packet{pkt(1, 90, true, payload)})
		if len(units) != 1 || errs[0] != nil {
			return
		}
		if units[0].Key != key {
			t.Fatalf("payload %x: depacketizer key=%v, KeyPayload=%v", payload, units[0].Key, key)
		}
	})
}

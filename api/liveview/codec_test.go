package liveview_test

import (
	"testing"

	"github.com/Eyevinn/mp4ff/hevc"

	"github.com/camvault/camvault/api/liveview"
	"github.com/camvault/camvault/media"
)

// TestCodecStrings: the MSE type names each codec as RFC 6381 and ISO/IEC
// 14496-15 Annex E spell it; H.265's agrees with mp4ff's full SPS parse
// (the fixture's SPS has two emulation prevention bytes in its
// profile_tier_level).
func TestCodecStrings(t *testing.T) {
	sps, err := hevc.ParseSPSNALUnit(h265SPS)
	if err != nil {
		t.Fatal(err)
	}
	hvc1 := hevc.CodecString("hvc1", sps)
	if hvc1 != "hvc1.4.10.L60.9E.8" {
		t.Fatalf("mp4ff says %s; the fixture changed?", hvc1)
	}
	h265 := &media.Track{Codec: media.CodecH265, ClockRate: 90000, VPS: h265VPS, SPS: h265SPS, PPS: h265PPS}
	heAAC := aacTrack()
	heAAC.AudioConfig = []byte{0x2B, 0x92, 0x08, 0x00} // SBR (object type 5)
	escaped := aacTrack()
	escaped.AudioConfig = []byte{0xF8, 0x20} // object type 31 escapes: 32 + 1
	baseline := &media.Track{Codec: media.CodecH264, ClockRate: 90000, SPS: h264SPS2, PPS: h264PPS2}
	opus := &media.Track{Codec: media.CodecOpus, ClockRate: 48000, Channels: 2}
	for _, tc := range []struct {
		name   string
		tracks []*media.Track
		want   string
	}{
		{"h264 high and aac", []*media.Track{h264Track(true), aacTrack()}, `video/mp4; codecs="avc1.64001F,mp4a.40.2"`},
		{"h264 baseline", []*media.Track{baseline}, `video/mp4; codecs="avc1.42C01E"`},
		{"h265", []*media.Track{h265}, `video/mp4; codecs="` + hvc1 + `"`},
		{"he-aac alone", []*media.Track{heAAC}, `audio/mp4; codecs="mp4a.40.5"`},
		{"escaped object type", []*media.Track{escaped}, `audio/mp4; codecs="mp4a.40.33"`},
		{"h265 and opus", []*media.Track{h265, opus}, `video/mp4; codecs="` + hvc1 + `,opus"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mime, init, err := liveview.NewMuxer(tc.tracks).Init()
			if err != nil {
				t.Fatal(err)
			}
			if mime != tc.want || len(init) == 0 {
				t.Errorf("mime %q (%d init bytes), want %q", mime, len(init), tc.want)
			}
		})
	}
}

// TestCodecStringOfCutSPS: an H.265 SPS too short for its
// profile_tier_level gives no codecs string (and no init segment).
func TestCodecStringOfCutSPS(t *testing.T) {
	h265 := &media.Track{Codec: media.CodecH265, ClockRate: 90000, VPS: h265VPS, SPS: h265SPS, PPS: h265PPS}
	short := *h265
	short.SPS = h265SPS[:10]
	if _, _, err := liveview.NewMuxer([]*media.Track{&short}).Init(); err == nil {
		t.Error("a cut SPS gave a codecs string")
	}
}

package media_test

import (
	"bytes"
	"testing"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/pion/rtp"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/media"
)

// spsSpec describes a synthetic H.265 SPS; the zero value is a valid 320x240 4:2:0 8-bit
// SPS without reference picture sets.
type spsSpec struct {
	bitDepthLuma uint                     // bit_depth_luma_minus8
	confBottom   uint                     // conf_win_bottom_offset, in chroma rows
	refPicSets   func(w *bits.EBSPWriter) // num_short_term_ref_pic_sets and the sets; nil: none
	palette      uint                     // > 0: an SCC extension with this many palette predictor initializers
}

// buildH265SPS writes the SPS of s (H.265 §7.3.2.2.1).
func buildH265SPS(s spsSpec) []byte {
	var buf bytes.Buffer
	w := bits.NewEBSPWriter(&buf)
	w.Write(0x4201, 16)
	w.Write(0, 4) // sps_video_parameter_set_id
	w.Write(0, 3) // sps_max_sub_layers_minus1
	w.Write(1, 1)
	writePTL(w)
	for _, v := range []uint{0, 1, 320, 240} { // sps id, 4:2:0, width, height
		w.WriteExpGolomb(v)
	}
	if s.confBottom > 0 {
		w.Write(1, 1)
		for _, v := range []uint{0, 0, 0, s.confBottom} {
			w.WriteExpGolomb(v)
		}
	} else {
		w.Write(0, 1)
	}
	for _, v := range []uint{s.bitDepthLuma, 0, 4} { // bit depths, log2_max_pic_order_cnt_lsb_minus4
		w.WriteExpGolomb(v)
	}
	w.Write(1, 1) // sps_sub_layer_ordering_info_present_flag
	for _, v := range []uint{4, 0, 0, 0, 1, 0, 3, 0, 0} {
		w.WriteExpGolomb(v)
	}
	w.Write(0b0010, 4) // scaling lists off, amp off, sao on, pcm off
	if s.refPicSets != nil {
		s.refPicSets(w)
	} else {
		w.WriteExpGolomb(0)
	}
	w.Write(0b0110, 4) // no long-term pictures, tmvp, strong intra smoothing, no VUI
	if s.palette == 0 {
		w.Write(0, 1)
	} else {
		w.Write(0b1_0001_0000, 9) // sps_extension_present_flag, only sps_scc_extension_flag
		w.Write(0b01, 2)          // curr_pic_ref off, palette_mode on
		w.WriteExpGolomb(0)
		w.WriteExpGolomb(0)
		w.Write(1, 1) // sps_palette_predictor_initializers_present_flag
		w.WriteExpGolomb(s.palette - 1)
		w.Write(0, 3)
	}
	w.WriteRbspTrailingBits()
	return buf.Bytes()
}

// writePTL writes profile_tier_level(1, 0): Main profile, level 2.
func writePTL(w *bits.EBSPWriter) {
	w.Write(1, 8)
	w.Write(0x60000000, 32)
	w.Write(0, 48)
	w.Write(60, 8)
}

// refPicSetChain writes n sets: 16 negative and 16 positive pictures, then sets predicted
// from the previous one, each with one picture more.
func refPicSetChain(n int) func(w *bits.EBSPWriter) {
	return func(w *bits.EBSPWriter) {
		w.WriteExpGolomb(uint(n))
		w.WriteExpGolomb(16)
		w.WriteExpGolomb(16)
		for range 32 {
			w.WriteExpGolomb(0)
			w.Write(1, 1)
		}
		for i := 1; i < n; i++ {
			w.Write(0b1_0_1, 3) // inter_ref_pic_set_prediction_flag, sign, abs_delta_rps_minus1 = 0
			for range 32 + i {  // NumDeltaPocs of the previous set + 1, all used
				w.Write(1, 1)
			}
		}
	}
}

// buildH265VPS writes a single-layer VPS (H.265 §7.3.2.1) with optional timing and HRD and
// the given vps_extension_flag.
func buildH265VPS(hrd, extension bool) []byte {
	var buf bytes.Buffer
	w := bits.NewEBSPWriter(&buf)
	w.Write(0x4001, 16)
	w.Write(0b0000_11_000000_000_1, 16) // id, base layer flags, one layer, one sub-layer
	w.Write(0xFFFF, 16)
	writePTL(w)
	w.Write(1, 1)
	for _, v := range []uint{4, 0, 0} {
		w.WriteExpGolomb(v)
	}
	w.Write(0, 6)       // vps_max_layer_id
	w.WriteExpGolomb(0) // vps_num_layer_sets_minus1
	if hrd {
		w.Write(1, 1)
		w.Write(1001, 32)
		w.Write(30000, 32)
		w.Write(0, 1)
		w.WriteExpGolomb(1) // vps_num_hrd_parameters
		w.WriteExpGolomb(0) // hrd_layer_set_idx
		w.Write(0b10, 2)    // nal HRD only
		w.Write(0, 1)       // no sub-picture parameters
		w.Write(0, 8+15)    // scales and lengths
		w.Write(1, 1)       // fixed_pic_rate_general_flag
		w.WriteExpGolomb(0) // elemental_duration_in_tc_minus1
		w.WriteExpGolomb(1) // cpb_cnt_minus1
		for range 2 {
			w.WriteExpGolomb(1000)
			w.WriteExpGolomb(2000)
			w.Write(1, 1)
		}
	} else {
		w.Write(0, 1)
	}
	if extension {
		w.Write(1, 1)
		w.Write(0xFF, 8)
	} else {
		w.Write(0, 1)
	}
	w.WriteRbspTrailingBits()
	return buf.Bytes()
}

// TestH265ParameterSetChecks drives synthetic parameter sets through TracksFromSDP: those
// in range are kept, those that would drive mp4ff's loops beyond any bound, or that are
// out of range, are dropped, all within the allocation bound. Not parallel: alloctest.Check.
func TestH265ParameterSetChecks(t *testing.T) {
	wide := media.SDPLimits{MaxAttrBytes: 1 << 16, MaxParamSetBytes: 1 << 16}
	pps1 := []byte{0x44, 0x01, 0x60} // pps id 0, sps id 1
	tests := []struct {
		name          string
		vps, sps, pps []byte
		lim           media.SDPLimits
		keepVPS       bool
		keepSPS       bool
		height        int
	}{
		{name: "libx265 fixtures", vps: h265VPS, sps: h265SPS, pps: h265PPS, keepVPS: true, keepSPS: true, height: 240},
		{name: "synthetic SPS and VPS with HRD", vps: buildH265VPS(true, false), sps: buildH265SPS(spsSpec{}),
			pps: h265PPS, keepVPS: true, keepSPS: true, height: 240},
		{name: "conformance window crops 8 rows", sps: buildH265SPS(spsSpec{confBottom: 4}), pps: h265PPS,
			keepSPS: true, height: 232},
		{name: "issue 9 defect 1 VPS", vps: hostileVPS, sps: h265SPS, pps: h265PPS, keepSPS: true, height: 240},
		{name: "VPS with extension refused", vps: buildH265VPS(false, true), sps: h265SPS, pps: h265PPS,
			keepSPS: true, height: 240},
		{name: "VPS reserved bits not 0xffff", vps: []byte{0x40, 0x01, 0x0C, 0x01, 0xFF, 0x00, 0x01},
			sps: h265SPS, pps: h265PPS, keepSPS: true, height: 240},
		{name: "PPS of another SPS dropped", vps: h265VPS, sps: h265SPS, pps: pps1, keepVPS: true, keepSPS: true, height: 240},
		{name: "bit depth 248 wraps mp4ff's palette reads to 0 bits",
			sps: buildH265SPS(spsSpec{bitDepthLuma: 248, palette: 1 << 30})},
		{name: "st_ref_pic_set past 32 pictures", sps: buildH265SPS(spsSpec{refPicSets: refPicSetChain(2)}), lim: wide},
		{name: "st_ref_pic_set chain that never ends in mp4ff",
			sps: buildH265SPS(spsSpec{refPicSets: refPicSetChain(255)}), lim: wide},
		{name: "conformance window as tall as the picture", sps: buildH265SPS(spsSpec{confBottom: 120})},
		{name: "SPS over the size cap", sps: h265SPS, lim: media.SDPLimits{MaxParamSetBytes: len(h265SPS) - 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fmtp := "a=fmtp:96 sprop-sps=" + b64(tt.sps)
			if tt.vps != nil {
				fmtp += "; sprop-vps=" + b64(tt.vps)
			}
			if tt.pps != nil {
				fmtp += "; sprop-pps=" + b64(tt.pps)
			}
			sdp := []byte(sdpWith("m=video 0 RTP/AVP 96", "a=rtpmap:96 H265/90000", fmtp))
			var tracks []*media.Track
			var err error
			alloctest.Check(t, parseAlloc, len(sdp), func() { tracks, err = media.TracksFromSDP(sdp, tt.lim) })
			if err != nil {
				t.Fatal(err)
			}
			tr := tracks[0]
			if (tr.VPS != nil) != tt.keepVPS || (tr.SPS != nil) != tt.keepSPS {
				t.Fatalf("kept VPS %v SPS %v, want %v %v", tr.VPS != nil, tr.SPS != nil, tt.keepVPS, tt.keepSPS)
			}
			if tt.keepSPS && (tr.Width != 320 || tr.Height != tt.height) {
				t.Errorf("size %dx%d, want 320x%d", tr.Width, tr.Height, tt.height)
			}
			if wantPPS := tt.keepSPS && !bytes.Equal(tt.pps, pps1); (tr.PPS != nil) != wantPPS {
				t.Errorf("kept PPS %v, want %v", tr.PPS != nil, wantPPS)
			}
			if tr.Ready() {
				if _, err := media.InitSegment([]*media.Track{tr}); err != nil {
					t.Errorf("InitSegment: %v", err)
				}
			}
		})
	}
}

// TestH265InBandHostileParams sends the defect-1 VPS and the never-ending SPS in-band,
// with a parameter-set cap wide enough for the SPS: both are ignored and the track keeps
// the SDP's. Not parallel: alloctest.Check.
func TestH265InBandHostileParams(t *testing.T) {
	tr := h265Ready
	d, err := media.NewDepacketizer(&tr, media.Limits{MaxParamSetBytes: 1 << 16}, func(media.Unit) {})
	if err != nil {
		t.Fatal(err)
	}
	sps := buildH265SPS(spsSpec{refPicSets: refPicSetChain(255)})
	packets := []*rtp.Packet{pkt(1, 0, false, hostileVPS), pkt(2, 0, false, sps), pkt(3, 0, true, h265IDR)}
	alloctest.Check(t, parseAlloc, len(sps)+len(hostileVPS), func() {
		for _, p := range packets {
			if err := d.Push(p); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !bytes.Equal(tr.VPS, h265VPS) || !bytes.Equal(tr.SPS, h265SPS) {
		t.Errorf("hostile parameter sets kept: VPS % x SPS len %d", tr.VPS, len(tr.SPS))
	}
}

package media

import (
	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/hevc"
)

// Parameter sets (H.264 SPS/PPS, H.265 VPS/SPS/PPS) reach camvault from the network in
// SDP sprop parameters (push ANNOUNCE and pull DESCRIBE), in-band in RTP, and from stored
// init segments. They are checked here, and only here, before any mp4ff parser sees them.
//
// Issue 9, defect 1: mp4ff v0.56.0 has parsers whose work is not bounded by their input.
// Their bit reader (bits.EBSPReader) returns zeros after the end instead of stopping
// them, its Exp-Golomb codes have no limit on leading zeros, and some loop counts are read
// straight from the bitstream:
//
//   - hevc.ParseVPSNALUnit: vps_extension() appends a ProfileTierLevel per
//     vps_num_profile_tier_level_minus1 and a RepFormat per vps_num_rep_formats_minus1,
//     both Exp-Golomb values up to 2^64, loops over NumOutputLayerSets without a bound,
//     and its ceilLog2 never returns for values above 2^62. A 37-byte VPS took
//     camvault serve to "out of memory" in 3 s. camvault never calls it: validH265VPS
//     parses the base VPS itself and refuses the extension.
//   - hevc.ParsePPSNALUnit: pps_3d_extension() appends 2^(bit_depth+8) flags per depth
//     layer without checking its reader (up to 2^23 × 64 from a few bytes). camvault never
//     calls it: validH265PPS reads the two IDs it needs.
//   - hevc.ParseSPSNALUnit: st_ref_pic_set() loops with a byte counter up to NumDeltaPocs
//     of the previous set, which never ends when that set has 255 pictures (a chain of
//     sets that each add one); the SCC palette loop reads bit_depth+8 bits per entry, a
//     byte sum that wraps to 0 bits for bit_depth_luma_minus8 = 248, and then appends up
//     to 2^64 entries. TrakBox.SetHEVCDescriptor, which InitSegment uses, calls it, so it
//     must stay usable: checkH265SPS parses up to and including the reference picture
//     sets itself with the ranges of H.265 §7.4.3.2 and only then hands the unit to
//     mp4ff, whose remaining loops each consume input and so are bounded by the size cap.
//   - avc.ParseSPSNALUnit(nal, false) and avc.ParsePPSNALUnit are bounded: every loop
//     count is checked or fixed (num_ref_frames_in_pic_order_cnt_cycle <= 255, slice
//     groups <= 8, 6..12 scaling lists); the unbounded HRD loop is only reached with
//     parseVUIBeyondAspectRatio, which camvault and mp4ff's init code never set.
//
// Every parameter set is also capped at a byte size (Limits.MaxParamSetBytes,
// SDPLimits.MaxParamSetBytes, DefaultMaxParamSetBytes for init segments) before anything
// parses it, so what the bounded parsers allocate is bounded by the cap.

// DefaultMaxParamSetBytes is the default size cap of one parameter set, in bytes, NAL unit
// header included. Real ones are far smaller (tens of bytes; a few hundred with scaling
// lists and HRD), and the cap bounds what parsing one may cost.
const DefaultMaxParamSetBytes = 2048

// Ranges of H.265 syntax elements that bound the loops of mp4ff's SPS parser or camvault's
// own (H.265 §7.4.3.1, §7.4.3.2, §7.4.8, Annex A).
const (
	h265MaxSubLayersMinus1 = 6
	h265MaxSPSID           = 15
	h265MaxPPSID           = 63
	h265MaxLayerSetsMinus1 = 1023
	h265MaxChromaFormat    = 3
	h265MaxBitDepthMinus8  = 8
	h265MaxLog2POCMinus4   = 12
	h265MaxSTRefPicSets    = 64
	h265MaxDeltaPOCs       = 32 // num_negative_pics + num_positive_pics, each <= 16
	h265MaxLTRefPics       = 32
	h265MaxCPBCntMinus1    = 31
	// h265MaxPicSide bounds pic_width/height_in_luma_samples: sqrt(8 × MaxLumaPs) of
	// level 6.2 (Table A.8).
	h265MaxPicSide = 16888
)

// parseH264SPS parses an H.264 SPS of at most maxBytes bytes with mp4ff (bounded, see
// above); nil if it is too long or does not parse.
func parseH264SPS(nal []byte, maxBytes int) *avc.SPS {
	if len(nal) < 4 || len(nal) > maxBytes {
		return nil
	}
	sps, err := avc.ParseSPSNALUnit(nal, false)
	if err != nil {
		return nil
	}
	return sps
}

// validH264PPS reports whether pps, at most maxBytes long, parses against sps.
func validH264PPS(pps []byte, sps *avc.SPS, maxBytes int) bool {
	if len(pps) < 2 || len(pps) > maxBytes {
		return false
	}
	_, err := avc.ParsePPSNALUnit(pps, map[uint32]*avc.SPS{sps.ParameterID: sps})
	return err == nil
}

// h265SPSInfo is what camvault takes from an H.265 SPS.
type h265SPSInfo struct {
	id            uint32
	width, height int
}

// checkH265SPS checks an H.265 SPS of at most maxBytes bytes: first with camvault's own
// bounded parse (h265SPSPrefix), then with mp4ff, which InitSegment will call on it too.
func checkH265SPS(nal []byte, maxBytes int) (h265SPSInfo, bool) {
	if len(nal) < 4 || len(nal) > maxBytes {
		return h265SPSInfo{}, false
	}
	info, ok := h265SPSPrefix(nal)
	if !ok {
		return h265SPSInfo{}, false
	}
	if _, err := hevc.ParseSPSNALUnit(nal); err != nil {
		return h265SPSInfo{}, false
	}
	return info, true
}

// validH265PPS reports whether pps, at most maxBytes long, is a PPS (H.265 §7.3.2.3.1)
// with a valid pps_pic_parameter_set_id that refers to the SPS spsID.
func validH265PPS(pps []byte, spsID uint32, maxBytes int) bool {
	if len(pps) < 3 || len(pps) > maxBytes || h265Type(pps[0]) != h265NALPPS {
		return false
	}
	r := nalReader{b: pps[2:]}
	r.ueMax(h265MaxPPSID)
	id := r.ue()
	return !r.err && id == spsID
}

// validH265VPS reports whether vps, at most maxBytes long, is a single-layer VPS
// (H.265 §7.3.2.1) whose fields are in range. A VPS with vps_extension_flag set is refused:
// the extension describes further layers (Annex F), which camvault does not record, and
// is the syntax mp4ff parses without bound.
func validH265VPS(vps []byte, maxBytes int) bool {
	if len(vps) < 3 || len(vps) > maxBytes || h265Type(vps[0]) != h265NALVPS {
		return false
	}
	r := nalReader{b: vps[2:]}
	r.skip(4 + 1 + 1 + 6) // vps_video_parameter_set_id, base layer flags, vps_max_layers_minus1
	maxSub := r.bits(3)
	r.flag() // vps_temporal_id_nesting_flag
	if maxSub > h265MaxSubLayersMinus1 || r.bits(16) != 0xFFFF {
		return false
	}
	skipProfileTierLevel(&r, maxSub)
	skipSubLayerOrdering(&r, maxSub)
	maxLayerID := r.bits(6)
	sets := r.ueMax(h265MaxLayerSetsMinus1)
	for range sets {
		r.skip(int(maxLayerID) + 1) // layer_id_included_flag[i][0..vps_max_layer_id]
		if r.err {
			return false
		}
	}
	if r.flag() { // vps_timing_info_present_flag
		r.skip(32 + 32) // vps_num_units_in_tick, vps_time_scale
		if r.flag() {
			r.ue() // vps_poc_proportional_to_timing_flag set: vps_num_ticks_poc_diff_one_minus1
		}
		hrds := r.ueMax(sets + 1)
		for i := range hrds {
			r.ueMax(sets) // hrd_layer_set_idx
			skipHRDParameters(&r, i == 0 || r.flag(), maxSub)
			if r.err {
				return false
			}
		}
	}
	return !r.flag() && !r.err // vps_extension_flag
}

// skipProfileTierLevel reads profile_tier_level(1, maxSub) (H.265 §7.3.3).
func skipProfileTierLevel(r *nalReader, maxSub uint32) {
	const profileBits, levelBits = 2 + 1 + 5 + 32 + 48, 8
	r.skip(profileBits + levelBits)
	var profile, level [h265MaxSubLayersMinus1]bool
	for i := range maxSub {
		profile[i], level[i] = r.flag(), r.flag()
	}
	if maxSub > 0 {
		r.skip(2 * (8 - int(maxSub))) // reserved_zero_2bits
	}
	for i := range maxSub {
		if profile[i] {
			r.skip(profileBits)
		}
		if level[i] {
			r.skip(levelBits)
		}
	}
}

// skipSubLayerOrdering reads the sub_layer_ordering_info_present_flag and its loop, which
// VPS and SPS share (H.265 §7.3.2.1, §7.3.2.2.1).
func skipSubLayerOrdering(r *nalReader, maxSub uint32) {
	first := maxSub
	if r.flag() {
		first = 0
	}
	for range maxSub - first + 1 {
		r.ue() // max_dec_pic_buffering_minus1
		r.ue() // max_num_reorder_pics
		r.ue() // max_latency_increase_plus1
	}
}

// skipHRDParameters reads hrd_parameters(common, maxSub) (H.265 §E.2.2).
func skipHRDParameters(r *nalReader, common bool, maxSub uint32) {
	var nal, vcl, subPic bool
	if common {
		nal, vcl = r.flag(), r.flag()
		if nal || vcl {
			if subPic = r.flag(); subPic {
				r.skip(8 + 5 + 1 + 5)
			}
			r.skip(4 + 4)
			if subPic {
				r.skip(4)
			}
			r.skip(5 + 5 + 5)
		}
	}
	for range maxSub + 1 {
		fixed := r.flag() // fixed_pic_rate_general_flag
		if !fixed {
			fixed = r.flag() // fixed_pic_rate_within_cvs_flag
		}
		lowDelay := false
		if fixed {
			r.ue() // elemental_duration_in_tc_minus1
		} else {
			lowDelay = r.flag()
		}
		cpbs := uint32(0)
		if !lowDelay {
			cpbs = r.ueMax(h265MaxCPBCntMinus1)
		}
		for _, present := range [2]bool{nal, vcl} {
			if present {
				skipSubLayerHRD(r, cpbs, subPic)
			}
		}
	}
}

// skipSubLayerHRD reads sub_layer_hrd_parameters (H.265 §E.2.3).
func skipSubLayerHRD(r *nalReader, cpbCntMinus1 uint32, subPic bool) {
	for range cpbCntMinus1 + 1 {
		r.ue()
		r.ue()
		if subPic {
			r.ue()
			r.ue()
		}
		r.flag()
	}
}

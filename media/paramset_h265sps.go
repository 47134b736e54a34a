package media

// h265SPSPrefix parses an H.265 SPS (H.265 §7.3.2.2.1) from its header through
// long_term_ref_pics_present_flag and its loop, checking the range of every field that
// bounds a later loop: in this parse, in mp4ff's (see paramset.go) or in ImageSize. It
// returns the SPS ID and the picture size after the conformance window. What follows
// (VUI, extensions) is left to mp4ff: every loop there either has a count checked here
// (sub-layers, bit depths) or consumes input on each turn.
func h265SPSPrefix(nal []byte) (h265SPSInfo, bool) {
	if h265Type(nal[0]) != h265NALSPS {
		return h265SPSInfo{}, false
	}
	r := nalReader{b: nal[2:]}
	r.skip(4) // sps_video_parameter_set_id
	maxSub := r.bits(3)
	r.flag() // sps_temporal_id_nesting_flag
	if maxSub > h265MaxSubLayersMinus1 {
		return h265SPSInfo{}, false
	}
	skipProfileTierLevel(&r, maxSub)
	info := h265SPSInfo{id: r.ueMax(h265MaxSPSID)}
	w, h, ok := h265PictureSize(&r)
	if !ok {
		return h265SPSInfo{}, false
	}
	info.width, info.height = w, h
	r.ueMax(h265MaxBitDepthMinus8) // bit_depth_luma_minus8
	r.ueMax(h265MaxBitDepthMinus8) // bit_depth_chroma_minus8
	pocBits := int(r.ueMax(h265MaxLog2POCMinus4)) + 4
	skipSubLayerOrdering(&r, maxSub)
	for range 6 { // log2 block sizes and max_transform_hierarchy_depth_inter/intra
		r.ue()
	}
	if r.flag() && r.flag() { // scaling_list_enabled_flag, sps_scaling_list_data_present_flag
		skipScalingListData(&r)
	}
	r.skip(2) // amp_enabled_flag, sample_adaptive_offset_enabled_flag
	if r.flag() {
		r.skip(4 + 4) // pcm_sample_bit_depth_luma/chroma_minus1
		r.ue()
		r.ue()
		r.flag()
	}
	if r.err || !skipShortTermRefPicSets(&r) {
		return h265SPSInfo{}, false
	}
	if r.flag() { // long_term_ref_pics_present_flag
		for range r.ueMax(h265MaxLTRefPics) {
			r.skip(pocBits + 1) // lt_ref_pic_poc_lsb_sps, used_by_curr_pic_lt_sps_flag
		}
	}
	return info, !r.err
}

// h265PictureSize reads chroma_format_idc through the conformance window and returns the
// cropped size, refusing sizes beyond level 6.2 and windows as large as the picture.
func h265PictureSize(r *nalReader) (w, h int, ok bool) {
	chroma := r.ueMax(h265MaxChromaFormat)
	if chroma == 3 {
		r.flag() // separate_colour_plane_flag
	}
	width, height := r.ueMax(h265MaxPicSide), r.ueMax(h265MaxPicSide)
	var left, right, top, bottom uint32
	if r.flag() { // conformance_window_flag
		left, right = r.ueMax(h265MaxPicSide), r.ueMax(h265MaxPicSide)
		top, bottom = r.ueMax(h265MaxPicSide), r.ueMax(h265MaxPicSide)
	}
	subW, subH := uint32(1), uint32(1) // H.265 Table 6-1
	switch chroma {
	case 1:
		subW, subH = 2, 2
	case 2:
		subW = 2
	}
	cropW, cropH := (left+right)*subW, (top+bottom)*subH
	if r.err || width == 0 || height == 0 || cropW >= width || cropH >= height {
		return 0, 0, false
	}
	return int(width - cropW), int(height - cropH), true
}

// skipScalingListData reads scaling_list_data() (H.265 §7.3.4).
func skipScalingListData(r *nalReader) {
	for size := range 4 {
		step := 1
		if size == 3 {
			step = 3
		}
		for matrix := 0; matrix < 6; matrix += step {
			if !r.flag() { // scaling_list_pred_mode_flag
				r.ue() // scaling_list_pred_matrix_id_delta
				continue
			}
			coefs := min(64, 1<<(4+size<<1))
			if size > 1 {
				r.ue() // scaling_list_dc_coef_minus8, se(v) read as its ue(v) code
			}
			for range coefs {
				r.ue() // scaling_list_delta_coef, likewise
			}
		}
	}
}

// skipShortTermRefPicSets reads num_short_term_ref_pic_sets and each st_ref_pic_set()
// of an SPS (H.265 §7.3.7), refusing counts beyond h265MaxSTRefPicSets sets and
// h265MaxDeltaPOCs pictures per set. mp4ff counts a set's pictures in a byte and never
// stops at 255.
func skipShortTermRefPicSets(r *nalReader) bool {
	sets := r.ueMax(h265MaxSTRefPicSets)
	prev := uint32(0) // NumDeltaPocs of the previous set, the only one an SPS set may refer to
	for i := range sets {
		n := uint32(0)
		if i > 0 && r.flag() { // inter_ref_pic_set_prediction_flag
			r.flag() // delta_rps_sign
			r.ue()   // abs_delta_rps_minus1
			for range prev + 1 {
				if r.flag() || r.flag() { // used_by_curr_pic_flag, use_delta_flag
					n++
				}
			}
		} else {
			neg, pos := r.ueMax(h265MaxDeltaPOCs/2), r.ueMax(h265MaxDeltaPOCs/2)
			for range neg + pos {
				r.ue()   // delta_poc_s0/s1_minus1
				r.flag() // used_by_curr_pic_s0/s1_flag
			}
			n = neg + pos
		}
		if r.err || n > h265MaxDeltaPOCs {
			return false
		}
		prev = n
	}
	return true
}

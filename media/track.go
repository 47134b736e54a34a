package media

// Track is one medium of an SDP, as parsed by [TracksFromSDP].
//
// A track's Depacketizer may update VPS, SPS, PPS, Width and Height when parameter sets
// arrive in-band (PL-H264-08) or a JPEG frame changes size; it does so only inside Push,
// before it calls emit with ParamsChanged set. Read those fields from the goroutine that
// calls Push (typically inside emit). Updated slices are freshly allocated, never
// overwritten, so a reader may keep the old ones.
type Track struct {
	// Control is the a=control value as written in the SDP ("" if none).
	Control string
	// PayloadType is the RTP payload type of the medium.
	PayloadType uint8
	// Codec is the payload format; CodecUnknown for media the package does not support.
	Codec Codec
	// ClockRate is the RTP clock rate in Hz, which is also the MP4 timescale.
	ClockRate uint32
	// Channels is the number of audio channels (1 if not given; 2 for Opus per RFC 7587).
	Channels uint16
	// VPS, SPS and PPS are the H.264/H.265 parameter sets without start codes, nil if unknown.
	VPS, SPS, PPS []byte
	// AudioConfig is the AAC AudioSpecificConfig from fmtp config= (PL-AAC-06).
	AudioConfig []byte
	// SizeLength, IndexLength and IndexDeltaLength give the AAC AU-header layout in bits
	// (13/3/3 for AAC-hbr, 6/2/2 for AAC-lbr).
	SizeLength, IndexLength, IndexDeltaLength int
	// Width and Height are the video size in pixels when known (from the SPS or the JPEG header).
	Width, Height int

	// donl is set for H.265 when sprop-max-don-diff > 0: NAL units carry DONL fields,
	// which the package does not support (PL-H265-04).
	donl bool
}

// IsVideo reports whether the track carries video (H.264, H.265 or MJPEG).
func (t *Track) IsVideo() bool {
	switch t.Codec {
	case CodecH264, CodecH265, CodecMJPEG:
		return true
	}
	return false
}

// Ready reports whether the track has everything its MP4 sample entry needs:
// H.264 SPS and PPS; H.265 VPS, SPS and PPS; MJPEG width and height; AAC its
// AudioSpecificConfig; Opus and G.711 nothing. Unknown codecs are never ready.
func (t *Track) Ready() bool {
	switch t.Codec {
	case CodecH264:
		return len(t.SPS) > 0 && len(t.PPS) > 0
	case CodecH265:
		return len(t.VPS) > 0 && len(t.SPS) > 0 && len(t.PPS) > 0
	case CodecMJPEG:
		return t.Width > 0 && t.Height > 0
	case CodecAAC:
		return len(t.AudioConfig) > 0
	case CodecOpus, CodecPCMU, CodecPCMA:
		return true
	}
	return false
}

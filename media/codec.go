package media

// Codec identifies the payload format of a [Track].
type Codec uint8

// Codecs known to the package. The zero value is CodecUnknown.
const (
	// CodecUnknown is a codec the package cannot depacketize or store.
	CodecUnknown Codec = iota
	// CodecH264 is H.264/AVC video (RFC 6184).
	CodecH264
	// CodecH265 is H.265/HEVC video (RFC 7798).
	CodecH265
	// CodecAAC is MPEG-4 AAC audio carried as mpeg4-generic (RFC 3640).
	CodecAAC
	// CodecOpus is Opus audio (RFC 7587).
	CodecOpus
	// CodecPCMU is G.711 µ-law audio (RFC 3551).
	CodecPCMU
	// CodecPCMA is G.711 A-law audio (RFC 3551).
	CodecPCMA
	// CodecMJPEG is Motion JPEG video (RFC 2435).
	CodecMJPEG
)

var codecNames = [...]string{
	CodecUnknown: "Unknown",
	CodecH264:    "H264",
	CodecH265:    "H265",
	CodecAAC:     "AAC",
	CodecOpus:    "Opus",
	CodecPCMU:    "PCMU",
	CodecPCMA:    "PCMA",
	CodecMJPEG:   "MJPEG",
}

// String returns the codec name as used in logs and metrics ("H264", "AAC", ...).
// Values outside the enum print as "Unknown".
func (c Codec) String() string {
	if int(c) < len(codecNames) {
		return codecNames[c]
	}
	return codecNames[CodecUnknown]
}

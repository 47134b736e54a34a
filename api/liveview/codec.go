package liveview

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/camvault/camvault/media"
)

// playable reports whether MSE plays codec c from fragmented MP4, and why
// not when it does not.
func playable(c media.Codec) (ok bool, why string) {
	switch c {
	case media.CodecH264, media.CodecH265, media.CodecAAC, media.CodecOpus:
		return true, ""
	case media.CodecMJPEG:
		return false, "browsers do not play Motion JPEG from MP4"
	case media.CodecPCMU, media.CodecPCMA:
		return false, "browsers do not play G.711 from MP4"
	}
	return false, "not supported"
}

// codecString returns the RFC 6381 codecs parameter of a Ready track, as
// MediaSource.isTypeSupported takes it (ISO/IEC 14496-15 Annex E for
// H.264 and H.265, RFC 6381 §3.3 for MPEG-4 audio).
func codecString(t *media.Track) (string, error) {
	switch t.Codec {
	case media.CodecH264:
		if len(t.SPS) < 4 {
			return "", fmt.Errorf("h264 sps of %d bytes", len(t.SPS))
		}
		// profile_idc, the constraint flags and level_idc follow the NAL
		// header; no emulation prevention byte can fall among them.
		return fmt.Sprintf("avc1.%02X%02X%02X", t.SPS[1], t.SPS[2], t.SPS[3]), nil
	case media.CodecH265:
		return hevcCodecString(t.SPS)
	case media.CodecAAC:
		if len(t.AudioConfig) < 2 {
			return "", fmt.Errorf("aac config of %d bytes", len(t.AudioConfig))
		}
		return "mp4a.40." + strconv.Itoa(aacObjectType(t.AudioConfig)), nil
	case media.CodecOpus:
		return "opus", nil
	}
	return "", fmt.Errorf("codec %v is not played", t.Codec)
}

// aacObjectType returns the audioObjectType of an AudioSpecificConfig of
// at least two bytes (ISO/IEC 14496-3 §1.6.2.1: 5 bits, 31 escapes to 32 +
// the next 6 bits).
func aacObjectType(asc []byte) int {
	aot := int(asc[0] >> 3)
	if aot == 31 {
		aot = 32 + (int(asc[0]&7)<<3 | int(asc[1]>>5))
	}
	return aot
}

// hevcPTLBytes is the RBSP bytes of an H.265 SPS up to general_level_idc:
// the NAL header (2), the VPS id, sub-layer count and nesting flag (1),
// then the general profile_tier_level (12) of ITU-T H.265 §7.3.3.
const hevcPTLBytes = 15

// hevcCodecString returns "hvc1.P.C.TL.B..." from an H.265 SPS:
// general_profile_space as "", A, B or C before general_profile_idc, the
// profile compatibility flags bit-reversed in hex, the tier (L or H) and
// general_level_idc, then the six constraint bytes in hex, trailing zero
// bytes left out (ISO/IEC 14496-15 §E.3).
func hevcCodecString(sps []byte) (string, error) {
	var rbsp [hevcPTLBytes]byte
	if n := unescape(rbsp[:], sps); n < hevcPTLBytes {
		return "", fmt.Errorf("h265 sps of %d bytes", len(sps))
	}
	ptl := rbsp[3:]
	var b strings.Builder
	b.WriteString("hvc1.")
	if space := ptl[0] >> 6; space > 0 {
		b.WriteByte('A' + space - 1)
	}
	b.WriteString(strconv.Itoa(int(ptl[0] & 0x1f)))
	compat := uint32(ptl[1])<<24 | uint32(ptl[2])<<16 | uint32(ptl[3])<<8 | uint32(ptl[4])
	fmt.Fprintf(&b, ".%X.", bits.Reverse32(compat))
	if ptl[0]&0x20 != 0 {
		b.WriteByte('H')
	} else {
		b.WriteByte('L')
	}
	b.WriteString(strconv.Itoa(int(ptl[11])))
	constraint := ptl[5:11]
	for len(constraint) > 0 && constraint[len(constraint)-1] == 0 {
		constraint = constraint[:len(constraint)-1]
	}
	for _, c := range constraint {
		fmt.Fprintf(&b, ".%X", c)
	}
	return b.String(), nil
}

// unescape copies the first len(dst) bytes of a NAL unit's RBSP into dst,
// dropping emulation prevention bytes (the 03 of 00 00 03, ITU-T H.265
// §7.4.2), and returns how many it copied.
func unescape(dst, nal []byte) int {
	n, zeros := 0, 0
	for _, c := range nal {
		if n == len(dst) {
			break
		}
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		dst[n] = c
		n++
	}
	return n
}

// mimeType returns the MSE type of tracks: video/mp4 when one is video,
// else audio/mp4, with their codecs.
func mimeType(tracks []*media.Track) (string, error) {
	kind := "audio/mp4"
	codecs := make([]string, len(tracks))
	for i, t := range tracks {
		c, err := codecString(t)
		if err != nil {
			return "", err
		}
		codecs[i] = c
		if t.IsVideo() {
			kind = "video/mp4"
		}
	}
	return kind + `; codecs="` + strings.Join(codecs, ",") + `"`, nil
}

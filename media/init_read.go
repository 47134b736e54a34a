package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"
)

// Init-reading limits and constants.
const (
	// maxInitTracks bounds the traks of an init segment: dynamic payload types 96..127 hold 32.
	maxInitTracks = 32
	// firstDynamicPT is the first dynamic RTP payload type (RFC 3551 §6).
	firstDynamicPT = 96
	// Static payload types (RFC 3551 §6).
	staticPTPCMU = 0
	staticPTPCMA = 8
	staticPTJPEG = 26
	// objectTypeMJPEG is the MPEG-4 objectTypeIndication of JPEG in an mp4v esds, which
	// ffmpeg's mp4 muxer writes for MJPEG (mp4ra.org).
	objectTypeMJPEG = 0x6C
	// opusClockRate is the RTP clock of Opus whatever the input rate (PL-OPUS-01).
	opusClockRate = 48000
)

// TracksFromInit reads the tracks of an init segment (ftyp+moov) written by [InitSegment]
// or by ffmpeg, one per trak in moov order. Boxes after moov (moof, mdat) are not read.
//
// Per sample entry: avc1/avc3 give H.264 with SPS and PPS from avcC; hvc1/hev1 give H.265
// with VPS, SPS and PPS from hvcC; Width and Height come from the SPS (or the sample entry
// when it does not parse; unparsable parameter sets are dropped, PL-GEN-02). mp4a with
// AAC in its esds gives AAC with the AudioSpecificConfig verbatim and the AAC-hbr layout
// 13/3/3 (PL-AAC-06); Opus gives Opus with ClockRate 48000 and the dOps channel count;
// ulaw/alaw give PCMU/PCMA; jpeg (and ffmpeg's mp4v with JPEG object type 0x6C) gives MJPEG
// with the entry's Width and Height. ClockRate is the mdhd timescale (except Opus) and
// Channels the entry's channel count (1 for video). Any other entry gives a track with
// CodecUnknown, which callers skip.
//
// PayloadType is static for PCMU and PCMA at 8000 Hz mono (0, 8) and for MJPEG at
// 90000 Hz (26); other supported tracks get 96, 97, ... in trak order, and unknown ones
// none (0). Control is "trackID=<index>", index counting every trak from 0.
//
// ClockRate is the timescale as stored, so that sample times need no conversion; camvault's
// own segments use 90000 for video. Other writers may not: ffmpeg uses 12800 for 25 fps
// video unless given -video_track_timescale 90000, while RTP video clocks are 90000
// (RFC 6184 §8.2.1), so a caller serving such a file must rescale. Opus is the exception:
// ClockRate is 48000 whatever the timescale (PL-OPUS-01).
//
// The returned tracks and their byte slices are new and owned by the caller. Errors: a
// body that is not boxes or has no moov, more than 32 traks, or a moov that mp4ff cannot
// decode; when no trak has a supported codec the error wraps [ErrNoSupportedMedia].
func TracksFromInit(init []byte) ([]*Track, error) {
	moov, err := decodeMoov(init)
	if err != nil {
		return nil, err
	}
	if len(moov.Traks) > maxInitTracks {
		return nil, fmt.Errorf("tracks from init: %d traks, more than %d", len(moov.Traks), maxInitTracks)
	}
	tracks := make([]*Track, 0, len(moov.Traks))
	supported := 0
	for _, trak := range moov.Traks {
		t := trackFromTrak(trak)
		if t.Codec != CodecUnknown {
			supported++
		}
		tracks = append(tracks, t)
	}
	if supported == 0 {
		return nil, fmt.Errorf("tracks from init: %d traks: %w", len(tracks), ErrNoSupportedMedia)
	}
	assignPayloadTypes(tracks)
	return tracks, nil
}

// decodeMoov finds the top-level moov box of b and decodes it with mp4ff.
func decodeMoov(b []byte) (*mp4.MoovBox, error) {
	raw, pos, err := findTopLevelBox(b, "moov")
	if err != nil {
		return nil, fmt.Errorf("tracks from init: %w", err)
	}
	if err := checkHvcCRecords(raw); err != nil {
		return nil, fmt.Errorf("tracks from init: %w", err)
	}
	box, err := mp4.DecodeBoxSR(uint64(pos), bits.NewFixedSliceReader(raw))
	if err != nil {
		return nil, fmt.Errorf("tracks from init: %w", err)
	}
	moov, ok := box.(*mp4.MoovBox)
	if !ok {
		return nil, fmt.Errorf("tracks from init: moov decoded as %T", box)
	}
	return moov, nil
}

// hvcCFixedBytes is the size of the fixed part of an HEVCDecoderConfigurationRecord, up to
// and including numOfArrays (ISO/IEC 14496-15 §8.3.3.1.2).
const hvcCFixedBytes = 23

// checkHvcCRecords checks every box of moov named hvcC, at any depth, before mp4ff decodes
// them: the NAL unit arrays of its HEVCDecoderConfigurationRecord must fit in the box.
// mp4ff's DecodeHEVCDecConfRec reads a numNalus of up to 65535 and appends a slice per
// unit even after its reader has run out: about 3 MB for a 30-byte box, found by
// FuzzTracksFromInit. Boxes are found by their type bytes, not by walking containers, so
// that none that mp4ff would decode is missed; a record mp4ff stops reading before its
// arrays (version not 1, NAL length size not 4) is not checked.
func checkHvcCRecords(moov []byte) error {
	for i := 4; i < len(moov); {
		j := bytes.Index(moov[i:], []byte("hvcC"))
		if j < 0 {
			return nil
		}
		at := i + j - 4 // the box starts with its 32-bit size
		i += j + 1
		size, hdr := int64(binary.BigEndian.Uint32(moov[at:])), int64(8)
		switch {
		case size == 1 && len(moov)-at >= 16:
			size, hdr = int64(binary.BigEndian.Uint64(moov[at+8:])), 16
		case size == 0 || size == 1:
			size = int64(len(moov) - at)
		}
		if size < hdr {
			continue
		}
		end := int64(len(moov))
		if size < end-int64(at) {
			end = int64(at) + size
		}
		if !hvcCArraysFit(moov[int64(at)+hdr : end]) {
			return fmt.Errorf("hvcC at pos %d: %w", at, errHvcCArrays)
		}
	}
	return nil
}

// hvcCArraysFit reports whether the NAL unit arrays of an HEVCDecoderConfigurationRecord
// fit in rec, or whether mp4ff stops before reading them.
//
//	| fixed part (22) | numOfArrays (8) | per array: type (8) numNalus (16) | per unit: length (16) bytes |
func hvcCArraysFit(rec []byte) bool {
	if len(rec) < hvcCFixedBytes || rec[0] != 1 || rec[hvcCFixedBytes-2]&3 != 3 {
		return true
	}
	pos := hvcCFixedBytes
	for range rec[hvcCFixedBytes-1] {
		if pos+3 > len(rec) {
			return false
		}
		units := binary.BigEndian.Uint16(rec[pos+1:])
		pos += 3
		for range units {
			if pos+2 > len(rec) {
				return false
			}
			pos += 2 + int(binary.BigEndian.Uint16(rec[pos:]))
			if pos > len(rec) {
				return false
			}
		}
	}
	return true
}

// findTopLevelBox returns the bytes (header included) and position of the first top-level
// box named name, walking box headers (ISO/IEC 14496-12 §4.2):
//
//	| size (32) | type (32) | largesize (64) if size == 1 | payload |   size 0: to the end
//
// The walk stops at the first moof or mdat: an init segment ends before them.
func findTopLevelBox(b []byte, name string) ([]byte, int, error) {
	for pos := 0; pos < len(b); {
		rest := b[pos:]
		if len(rest) < 8 {
			return nil, 0, fmt.Errorf("box header at pos %d: %d bytes left", pos, len(rest))
		}
		size, hdr := uint64(binary.BigEndian.Uint32(rest)), uint64(8)
		typ := string(rest[4:8])
		switch size {
		case 0:
			size = uint64(len(rest))
		case 1:
			if len(rest) < 16 {
				return nil, 0, fmt.Errorf("box %q at pos %d: truncated largesize", typ, pos)
			}
			size, hdr = binary.BigEndian.Uint64(rest[8:]), 16
		}
		if size < hdr || size > uint64(len(rest)) {
			return nil, 0, fmt.Errorf("box %q at pos %d: size %d with %d bytes left", typ, pos, size, len(rest))
		}
		switch typ {
		case name:
			return rest[:size], pos, nil
		case "moof", "mdat":
			return nil, 0, fmt.Errorf("no %s before %s at pos %d", name, typ, pos)
		}
		pos += int(size)
	}
	return nil, 0, fmt.Errorf("no %s box", name)
}

// trackFromTrak builds the track of one trak from its mdhd timescale and first sample entry.
func trackFromTrak(trak *mp4.TrakBox) *Track {
	t := &Track{Channels: 1}
	if trak.Mdia == nil || trak.Mdia.Mdhd == nil || trak.Mdia.Minf == nil ||
		trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil {
		return t
	}
	t.ClockRate = trak.Mdia.Mdhd.Timescale
	entries := trak.Mdia.Minf.Stbl.Stsd.Children
	if t.ClockRate == 0 || len(entries) == 0 {
		return t
	}
	switch e := entries[0].(type) {
	case *mp4.VisualSampleEntryBox:
		videoFromEntry(t, e)
	case *mp4.AudioSampleEntryBox:
		audioFromEntry(t, e)
	case *mp4.UnknownBox:
		g711FromEntry(t, e)
	}
	return t
}

// videoFromEntry fills t from an avc1/avc3, hvc1/hev1, jpeg or mp4v sample entry.
func videoFromEntry(t *Track, e *mp4.VisualSampleEntryBox) {
	t.Width, t.Height = int(e.Width), int(e.Height)
	switch e.Type() {
	case "avc1", "avc3":
		t.Codec = CodecH264
		if e.AvcC != nil {
			h264FromAvcC(t, &e.AvcC.DecConfRec)
		}
	case "hvc1", "hev1":
		t.Codec = CodecH265
		if e.HvcC != nil {
			h265FromHvcC(t, &e.HvcC.DecConfRec)
		}
	case "jpeg":
		t.Codec = CodecMJPEG
	case "mp4v":
		if e.Esds != nil && e.Esds.DecConfigDescriptor != nil &&
			e.Esds.DecConfigDescriptor.ObjectType == objectTypeMJPEG {
			t.Codec = CodecMJPEG
		}
	}
}

// h264FromAvcC takes the first parsable SPS and its PPS from an avcC record, each within
// DefaultMaxParamSetBytes.
func h264FromAvcC(t *Track, rec *avc.DecConfRec) {
	for _, nal := range rec.SPSnalus {
		setSDPH264SPS(t, nal, DefaultMaxParamSetBytes)
	}
	if t.SPS != nil && len(rec.PPSnalus) > 0 && len(rec.PPSnalus[0]) >= 2 {
		t.PPS = bytes.Clone(rec.PPSnalus[0])
	}
	validateH264PPS(t, DefaultMaxParamSetBytes)
}

// h265FromHvcC takes the first VPS, SPS and PPS of an hvcC record, validated like SDP ones.
func h265FromHvcC(t *Track, rec *hevc.DecConfRec) {
	first := func(typ hevc.NaluType) []byte {
		if nalus := rec.GetNalusForType(typ); len(nalus) > 0 && len(nalus[0]) > 2 {
			return bytes.Clone(nalus[0])
		}
		return nil
	}
	t.VPS, t.SPS, t.PPS = first(hevc.NALU_VPS), first(hevc.NALU_SPS), first(hevc.NALU_PPS)
	validateH265Params(t, DefaultMaxParamSetBytes)
}

// audioFromEntry fills t from an mp4a or Opus sample entry.
func audioFromEntry(t *Track, e *mp4.AudioSampleEntryBox) {
	t.Channels = max(e.ChannelCount, 1)
	switch e.Type() {
	case "mp4a":
		if asc := aacConfig(e.Esds); asc != nil {
			t.Codec, t.AudioConfig = CodecAAC, asc
			t.SizeLength, t.IndexLength, t.IndexDeltaLength = 13, 3, 3
			if ch := aacChannels(asc); ch > 0 {
				t.Channels = ch
			}
		}
	case "Opus":
		t.Codec, t.ClockRate = CodecOpus, opusClockRate
		if e.Dops != nil && e.Dops.OutputChannelCount > 0 {
			t.Channels = uint16(e.Dops.OutputChannelCount)
		}
	}
}

// aacConfig returns a copy of the AudioSpecificConfig of an AAC esds, nil if there is none.
func aacConfig(esds *mp4.EsdsBox) []byte {
	if esds == nil || esds.DecConfigDescriptor == nil {
		return nil
	}
	dc := esds.DecConfigDescriptor
	if dc.ObjectType != mp4.ObjectTypeAAC || dc.DecSpecificInfo == nil || len(dc.DecSpecificInfo.DecConfig) < 2 {
		return nil
	}
	return bytes.Clone(dc.DecSpecificInfo.DecConfig)
}

// aacChannels returns the channel count of an AudioSpecificConfig (ISO/IEC 14496-3
// §1.6.2.1, Table 1.19: channelConfiguration 1..6 as is, 7 is 8 channels), 0 when it is
// not given there. The mp4a entry's own count is not reliable: ISO fixes it at 2, and
// ffmpeg writes 2 for mono AAC.
func aacChannels(asc []byte) uint16 {
	r := bitReader{b: asc}
	_ = readAOT(&r)
	_ = readAACRate(&r)
	ch := r.read(4)
	switch {
	case r.err || ch == 0 || ch > 7:
		return 0
	case ch == 7:
		return 8
	}
	return uint16(ch)
}

// g711FromEntry fills t from a QuickTime ulaw/alaw entry, which mp4ff leaves undecoded.
// Payload layout (QuickTime sound description, version 0/1; version 2 keeps the real
// channel count at offset 40):
//
//	| reserved (6) | data ref (2) | version (2) | revision (2) | vendor (4) |
//	| channels (2) @16 | sample size (2) | compression ID (2) | packet size (2) | rate 16.16 (4) |
func g711FromEntry(t *Track, e *mp4.UnknownBox) {
	const minEntry, v2Channels = 28, 40
	p := e.Payload()
	if len(p) < minEntry {
		return
	}
	switch e.Type() {
	case "ulaw":
		t.Codec = CodecPCMU
	case "alaw":
		t.Codec = CodecPCMA
	default:
		return
	}
	ch := uint32(binary.BigEndian.Uint16(p[16:]))
	if binary.BigEndian.Uint16(p[8:]) == 2 && len(p) >= v2Channels+4 {
		ch = binary.BigEndian.Uint32(p[v2Channels:])
	}
	t.Channels = uint16(min(max(ch, 1), 0xFFFF))
}

// assignPayloadTypes sets PayloadType and Control of tracks read from an init segment.
func assignPayloadTypes(tracks []*Track) {
	dynamic := uint8(firstDynamicPT)
	for i, t := range tracks {
		t.Control = "trackID=" + strconv.Itoa(i)
		switch {
		case t.Codec == CodecUnknown:
		case t.Codec == CodecPCMU && t.ClockRate == 8000 && t.Channels == 1:
			t.PayloadType = staticPTPCMU
		case t.Codec == CodecPCMA && t.ClockRate == 8000 && t.Channels == 1:
			t.PayloadType = staticPTPCMA
		case t.Codec == CodecMJPEG && t.ClockRate == 90000:
			t.PayloadType = staticPTJPEG
		default:
			t.PayloadType = dynamic
			dynamic++
		}
	}
}

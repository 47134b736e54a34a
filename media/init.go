package media

import (
	"fmt"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

// Sample-entry constants.
const (
	opusPreSkip       = 312 // RFC 7845 §5.1 suggests 3840; libopus encoders typically use 312
	audioSampleSize   = 16
	maxSampleEntryHz  = 0xFFFF // AudioSampleEntry samplerate is a 16.16 fixed-point value
	mjpegCompressorID = "Photo - JPEG"
)

// InitSegment encodes ftyp+moov of a fragmented MP4 (mvex/trex present) for the tracks, into
// a new byte slice. Track IDs are index+1 and each track's timescale is its ClockRate.
//
// Sample entries: avc1+avcC, hvc1+hvcC, mp4a+esds (AudioSpecificConfig verbatim, PL-AAC-06),
// Opus+dOps, ulaw/alaw (QuickTime-style AudioSampleEntry without extension, which ffmpeg and
// the QuickTime family read; there is no ISO G.711 entry, PL-G711-02) and jpeg
// (VisualSampleEntry). Every track must be Ready; otherwise the error wraps ErrTrackNotReady,
// and for CodecUnknown it wraps ErrUnsupportedCodec.
func InitSegment(tracks []*Track) ([]byte, error) {
	if len(tracks) == 0 {
		return nil, fmt.Errorf("init segment: no tracks: %w", ErrTrackNotReady)
	}
	init := mp4.CreateEmptyInit()
	for i, t := range tracks {
		if t.Codec == CodecUnknown {
			return nil, fmt.Errorf("init segment: track %d: %w", i+1, ErrUnsupportedCodec)
		}
		if !t.Ready() || t.ClockRate == 0 {
			return nil, fmt.Errorf("init segment: track %d (%v): %w", i+1, t.Codec, ErrTrackNotReady)
		}
		mediaType := "audio"
		if t.IsVideo() {
			mediaType = "video"
		}
		trak := init.AddEmptyTrack(t.ClockRate, mediaType, "und")
		if err := setSampleEntry(trak, t); err != nil {
			return nil, fmt.Errorf("init segment: track %d (%v): %w", i+1, t.Codec, err)
		}
	}
	sw := bits.NewFixedSliceWriter(int(init.Size()))
	if err := init.EncodeSW(sw); err != nil {
		return nil, fmt.Errorf("init segment: encode: %w", err)
	}
	return sw.Bytes(), nil
}

// setSampleEntry adds the stsd entry of t to trak.
func setSampleEntry(trak *mp4.TrakBox, t *Track) error {
	switch t.Codec {
	case CodecH264:
		return trak.SetAVCDescriptor("avc1", [][]byte{t.SPS}, [][]byte{t.PPS}, true)
	case CodecH265:
		return trak.SetHEVCDescriptor("hvc1", [][]byte{t.VPS}, [][]byte{t.SPS}, [][]byte{t.PPS}, nil, true)
	case CodecAAC:
		addAudioEntry(trak, "mp4a", t, mp4.CreateEsdsBox(t.AudioConfig))
	case CodecOpus:
		addAudioEntry(trak, "Opus", t, &mp4.DopsBox{
			OutputChannelCount: byte(max(min(t.Channels, 2), 1)),
			PreSkip:            opusPreSkip,
			InputSampleRate:    t.ClockRate,
		})
	case CodecPCMU:
		addAudioEntry(trak, "ulaw", t, nil)
	case CodecPCMA:
		addAudioEntry(trak, "alaw", t, nil)
	case CodecMJPEG:
		trak.Tkhd.Width = mp4.Fixed32(uint32(t.Width) << 16)
		trak.Tkhd.Height = mp4.Fixed32(uint32(t.Height) << 16)
		vse := mp4.CreateVisualSampleEntryBox("jpeg", uint16(t.Width), uint16(t.Height), nil)
		vse.CompressorName = mjpegCompressorID
		trak.Mdia.Minf.Stbl.Stsd.AddChild(vse)
	default:
		return ErrUnsupportedCodec
	}
	return nil
}

// addAudioEntry adds an AudioSampleEntry named name with an optional child box.
func addAudioEntry(trak *mp4.TrakBox, name string, t *Track, child mp4.Box) {
	rate := min(t.ClockRate, maxSampleEntryHz)
	ase := mp4.CreateAudioSampleEntryBox(name, max(t.Channels, 1), audioSampleSize, uint16(rate), child)
	trak.Mdia.Minf.Stbl.Stsd.AddChild(ase)
}

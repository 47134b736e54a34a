package fmp4

import (
	"encoding/binary"
	"time"
)

// Sample is one sample's entry in a fragment's trun box.
type Sample struct {
	// Duration is the decode-time delta to the next sample, in the track's
	// timescale.
	Duration uint32
	// CTO is the composition offset (PTS - DTS) in the track's timescale;
	// negative values are allowed (trun version 1).
	CTO int32
	// Size is the sample's length in bytes.
	Size uint32
	// Key marks a sync sample.
	Key bool
}

// TrackFragment is one track's part of a fragment.
type TrackFragment struct {
	// TrackID is the MP4 track ID (track index + 1).
	TrackID uint32
	// BaseDecodeTime is the decode time of the first sample (tfdt), in the
	// track's timescale, from the segment's start.
	BaseDecodeTime uint64
	// Samples and Data hold the samples in decode order; Data is their bytes
	// back to back.
	Samples []Sample
	Data    []byte
}

const (
	prftSize      = 32
	mfhdSize      = 16
	tfhdSize      = 16
	tfdtSize      = 20
	trunFixedSize = 20
	trunEntrySize = 16

	// trunFlags are the trun flags written: data-offset, sample duration,
	// size, flags and composition offset present.
	trunFlags = trunDataOffset | trunDuration | trunSize | trunSampleFlags | trunCTO
	// tfhdFlags are the tfhd flags written: default-base-is-moof.
	tfhdFlags = tfhdDefaultBaseIsMoof
	// prftFlagsCaptured says the NTP time is when the sample was captured.
	prftFlagsCaptured = 24

	sampleFlagsKey    = 0x02000000 // depends on nothing, sync
	sampleFlagsNonKey = 0x01010000 // depends on others, non-sync
)

// FragmentSize returns the encoded size of a fragment.
func FragmentSize(tracks []TrackFragment) int {
	n := HeaderSize(tracks)
	for i := range tracks {
		n += len(tracks[i].Data)
	}
	return n
}

// HeaderSize returns the size of what AppendFragmentHeader writes: the
// fragment less its sample data.
func HeaderSize(tracks []TrackFragment) int {
	return prftSize + moofSize(tracks) + 8
}

func moofSize(tracks []TrackFragment) int {
	n := 8 + mfhdSize
	for i := range tracks {
		n += 8 + tfhdSize + tfdtSize + trunFixedSize + trunEntrySize*len(tracks[i].Samples)
	}
	return n
}

// AppendFragment appends prft+moof+mdat for one fragment to dst and returns
// the extended slice. ref is the index in tracks of the reference track; wall
// is the wall-clock time of the reference track's presentation time equal to
// its BaseDecodeTime, written into prft. It does not allocate when dst has
// FragmentSize(tracks) spare capacity.
//
//	prft | moof{ mfhd, traf{tfhd, tfdt, trun}... } | mdat{track 1 data, track 2 data, ...}
func AppendFragment(dst []byte, seq uint32, ref int, wall time.Time, tracks []TrackFragment) []byte {
	dst = AppendFragmentHeader(dst, seq, ref, wall, tracks)
	for i := range tracks {
		dst = append(dst, tracks[i].Data...)
	}
	return dst
}

// AppendFragmentHeader appends what AppendFragment writes before the track
// data: prft, moof and the mdat box header, sized by the lengths of the
// tracks' Data (their bytes are not read). The caller places the data right
// after it, in track order; a caller that already holds the data in the
// destination buffer so avoids copying it twice.
func AppendFragmentHeader(dst []byte, seq uint32, ref int, wall time.Time, tracks []TrackFragment) []byte {
	dst = appendPrft(dst, tracks[ref].TrackID, wall, tracks[ref].BaseDecodeTime)
	return AppendMoof(dst, seq, tracks)
}

// MoofSize returns the size of what AppendMoof writes: moof and the mdat
// box header.
func MoofSize(tracks []TrackFragment) int { return moofSize(tracks) + 8 }

// AppendMoof appends what AppendFragmentHeader writes but the prft: moof
// and the mdat box header, sized by the lengths of the tracks' Data. A
// Media Source Extensions player is fed that form (api/liveview); the
// caller places the data right after it, in track order. It does not
// allocate when dst has MoofSize(tracks) spare capacity.
//
//	moof{ mfhd, traf{tfhd, tfdt, trun}... } | mdat header
func AppendMoof(dst []byte, seq uint32, tracks []TrackFragment) []byte {
	moofLen := moofSize(tracks)
	dst = AppendBoxHeader(dst, moofLen, "moof")
	dst = AppendBoxHeader(dst, mfhdSize, "mfhd")
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	dataOffset := moofLen + 8
	for i := range tracks {
		dst = appendTraf(dst, &tracks[i], dataOffset)
		dataOffset += len(tracks[i].Data)
	}
	return AppendBoxHeader(dst, dataOffset-moofLen, "mdat")
}

func appendTraf(dst []byte, t *TrackFragment, dataOffset int) []byte {
	trunLen := trunFixedSize + trunEntrySize*len(t.Samples)
	dst = AppendBoxHeader(dst, 8+tfhdSize+tfdtSize+trunLen, "traf")
	dst = AppendBoxHeader(dst, tfhdSize, "tfhd")
	dst = binary.BigEndian.AppendUint32(dst, tfhdFlags)
	dst = binary.BigEndian.AppendUint32(dst, t.TrackID)
	dst = AppendBoxHeader(dst, tfdtSize, "tfdt")
	dst = binary.BigEndian.AppendUint32(dst, 1<<24) // version 1: 64-bit time
	dst = binary.BigEndian.AppendUint64(dst, t.BaseDecodeTime)
	dst = AppendBoxHeader(dst, trunLen, "trun")
	dst = binary.BigEndian.AppendUint32(dst, 1<<24|trunFlags) // version 1: signed offsets
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(t.Samples)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(dataOffset))
	for _, s := range t.Samples {
		flags := uint32(sampleFlagsNonKey)
		if s.Key {
			flags = sampleFlagsKey
		}
		dst = binary.BigEndian.AppendUint32(dst, s.Duration)
		dst = binary.BigEndian.AppendUint32(dst, s.Size)
		dst = binary.BigEndian.AppendUint32(dst, flags)
		dst = binary.BigEndian.AppendUint32(dst, uint32(s.CTO))
	}
	return dst
}

func appendPrft(dst []byte, trackID uint32, wall time.Time, mediaTime uint64) []byte {
	dst = AppendBoxHeader(dst, prftSize, "prft")
	dst = binary.BigEndian.AppendUint32(dst, 1<<24|prftFlagsCaptured)
	dst = binary.BigEndian.AppendUint32(dst, trackID)
	dst = binary.BigEndian.AppendUint64(dst, NTPTime(wall))
	return binary.BigEndian.AppendUint64(dst, mediaTime)
}

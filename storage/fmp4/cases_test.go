package fmp4_test

import (
	"bytes"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// fragmentCase is one fragment the writer encodes. fragmentCases drives the
// round trips (TestRoundTrip), the golden box dumps (TestGolden) and the
// seeds of FuzzParseFragment.
type fragmentCase struct {
	// name names the case and its golden file testdata/golden/{name}.txt.
	name   string
	seq    uint32
	ref    int // index in tracks of the prft's reference track
	tracks []fmp4.TrackFragment
}

// caseWall is the wall clock of every case's prft.
var caseWall = time.Date(2026, 11, 25, 10, 15, 0, 123456789, time.UTC)

// sampleShape gives sample i's size in bytes, composition offset and key
// flag.
type sampleShape func(i int) (size int, cto int32, key bool)

// trackOf builds a track of n samples of duration dur (track timescale)
// from base. Each sample's bytes repeat one value distinct per track and
// sample, so a sample read from the wrong place shows.
func trackOf(id uint32, base uint64, n int, dur uint32, shape sampleShape) fmp4.TrackFragment {
	tf := fmp4.TrackFragment{TrackID: id, BaseDecodeTime: base}
	for i := range n {
		size, cto, key := shape(i)
		tf.Samples = append(tf.Samples, fmp4.Sample{Duration: dur, CTO: cto, Size: uint32(size), Key: key})
		tf.Data = append(tf.Data, bytes.Repeat([]byte{byte(id)<<5 ^ byte(i)}, size)...)
	}
	return tf
}

// The sample shapes of the codecs camvault records (media.Track): video at
// 90 kHz and 25 fps (3600 ticks a frame), audio at its sample rate.
var (
	// h264BFrames is an I P B B GOP in decode order: P frames are
	// presented two frames late, B frames on time.
	h264BFrames sampleShape = func(i int) (int, int32, bool) {
		cto := int32(0)
		if i%3 == 0 {
			cto = 7200
		}
		return 900 + 37*i, cto, i == 0
	}
	// h264NegativeCTO has the offsets of a muxer that keeps PTS = DTS on
	// the first frame, so B frames get negative offsets (trun version 1).
	h264NegativeCTO sampleShape = func(i int) (int, int32, bool) {
		cto := int32(3600)
		if i%3 == 2 {
			cto = -3600
		}
		return 700 + i, cto, i == 0
	}
	// h265NoBFrames is IPPP: no composition offsets.
	h265NoBFrames sampleShape = func(i int) (int, int32, bool) { return 1200 - 11*i, 0, i == 0 }
	// mjpeg frames are all key frames.
	mjpeg sampleShape = func(i int) (int, int32, bool) { return 2000 + 101*i, 0, true }
	// aac is AAC-LC, 1024 samples a frame.
	aac sampleShape = func(i int) (int, int32, bool) { return 360 + i%5, 0, true }
	// opus is 20 ms packets (960 samples at 48 kHz).
	opus sampleShape = func(i int) (int, int32, bool) { return 120 + 3*(i%4), 0, true }
	// g711 is 20 ms of PCMU or PCMA: 160 one-byte samples at 8 kHz.
	g711 sampleShape = func(int) (int, int32, bool) { return 160, 0, true }
)

// Track builders by codec: id, base decode time and sample count.
func h264Track(id uint32, base uint64, n int) fmp4.TrackFragment {
	return trackOf(id, base, n, 3600, h264BFrames)
}

func aacTrack(id uint32, base uint64, n int) fmp4.TrackFragment {
	return trackOf(id, base, n, 1024, aac)
}

// fragmentCases are the fragments every codec camvault records gives the
// writer, alone and with an audio track, with and without composition
// offsets, with either track as the reference, and with empty tracks.
var fragmentCases = []fragmentCase{
	{name: "h264_bframes", seq: 1, tracks: []fmp4.TrackFragment{h264Track(1, 90000*7, 6)}},
	{name: "h264_negative_cto", seq: 2, tracks: []fmp4.TrackFragment{trackOf(1, 0, 6, 3600, h264NegativeCTO)}},
	{name: "h264_aac", seq: 3, tracks: []fmp4.TrackFragment{h264Track(1, 90000*7, 5), aacTrack(2, 48000*7+17, 9)}},
	{name: "h264_aac_audio_reference", seq: 4, ref: 1,
		tracks: []fmp4.TrackFragment{h264Track(1, 90000*7, 5), aacTrack(2, 48000*7+17, 9)}},
	{name: "h265", seq: 5, tracks: []fmp4.TrackFragment{trackOf(1, 1<<33, 5, 3600, h265NoBFrames)}},
	{name: "h265_opus", seq: 6, tracks: []fmp4.TrackFragment{trackOf(1, 3600, 5, 3600, h265NoBFrames),
		trackOf(2, 960, 10, 960, opus)}},
	{name: "aac", seq: 7, tracks: []fmp4.TrackFragment{aacTrack(1, 0, 8)}},
	{name: "opus", seq: 8, tracks: []fmp4.TrackFragment{trackOf(1, 48000, 8, 960, opus)}},
	{name: "g711", seq: 9, tracks: []fmp4.TrackFragment{trackOf(1, 8000, 8, 160, g711)}},
	{name: "mjpeg", seq: 10, tracks: []fmp4.TrackFragment{trackOf(1, 0, 4, 3600, mjpeg)}},
	{name: "mjpeg_g711", seq: 11, tracks: []fmp4.TrackFragment{trackOf(1, 0, 4, 3600, mjpeg), trackOf(2, 0, 8, 160, g711)}},
	{name: "empty_audio_track", seq: 12, tracks: []fmp4.TrackFragment{h264Track(1, 0, 3), {TrackID: 2, BaseDecodeTime: 4800}}},
	{name: "empty", seq: 13, tracks: []fmp4.TrackFragment{{TrackID: 1, BaseDecodeTime: 90000}}},
}

// encode writes the case's fragment.
func (c *fragmentCase) encode() []byte {
	return fmp4.AppendFragment(nil, c.seq, c.ref, caseWall, c.tracks)
}

package storage

import (
	"bytes"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/storage/fmp4"
)

// aacInit returns ftyp+moov with one AAC track (ID 1, timescale 48000).
func aacInit(tb testing.TB) []byte {
	tb.Helper()
	init := mp4.CreateEmptyInit()
	if err := init.AddEmptyTrack(48000, "audio", "und").SetAACDescriptor(aac.AAClc, 48000); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := init.Encode(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// segmentBytes returns a whole segment file as the writer makes it: an init
// with one AAC track (ID 1, 48 kHz), the metadata box, and nfrag fragments
// of two 1024-sample frames (about 43 ms each), back to back from start.
func segmentBytes(tb testing.TB, camera string, start time.Time, nfrag int) []byte {
	tb.Helper()
	b := appendMetaBox(aacInit(tb), segmentMeta{Start: start, Camera: camera, RefTrack: 1})
	for i := range nfrag {
		tf := []fmp4.TrackFragment{{TrackID: 1, BaseDecodeTime: uint64(i * 2048), Data: []byte{1, 2, 3, 4},
			Samples: []fmp4.Sample{{Duration: 1024, Size: 2, Key: true}, {Duration: 1024, Size: 2, Key: true}}}}
		wall := start.Add(time.Duration(i*2048) * time.Second / 48000)
		b = fmp4.AppendFragment(b, uint32(i+1), 0, wall, tf)
	}
	return b
}

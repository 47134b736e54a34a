package export

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage/fmp4"
)

// initSeeds are init segments as camvault's recorder writes them (media.InitSegment)
// and as the fragmented export writes them.
func initSeeds(t testing.TB) [][]byte {
	sps, _ := base64.StdEncoding.DecodeString("Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=")
	pps, _ := base64.StdEncoding.DecodeString("aOvjyyLA")
	video := &media.Track{Codec: media.CodecH264, ClockRate: 90000, SPS: sps, PPS: pps, Width: 1280, Height: 720}
	audio := &media.Track{Codec: media.CodecAAC, ClockRate: 48000, Channels: 2, AudioConfig: []byte{0x11, 0x90},
		SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
	var seeds [][]byte
	for _, tracks := range [][]*media.Track{{video}, {video, audio}, {audio}} {
		init, err := media.InitSegment(tracks)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := parseInit(init)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, init, initFMP4(parsed))
	}
	return seeds
}

// FuzzParseInit feeds parseInit segment inits as a disk may garble them: it
// must not panic, and what it reads must survive a round trip through the
// fragmented export's init.
func FuzzParseInit(f *testing.F) {
	for _, s := range initSeeds(f) {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tracks, err := parseInit(b)
		if err != nil {
			return
		}
		again, err := parseInit(initFMP4(tracks))
		if err != nil {
			t.Fatalf("the export's init of what parsed does not parse: %v", err)
		}
		if !sameTracks(tracks, again) {
			t.Fatal("the export's init changed the tracks")
		}
	})
}

// fragmentSeeds are fragments as the recorder writes them: video alone, and
// video with audio.
func fragmentSeeds() [][]byte {
	wall := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	video := fmp4.TrackFragment{TrackID: 1, BaseDecodeTime: 90000, Samples: []fmp4.Sample{
		{Duration: 3600, Size: 5, Key: true}, {Duration: 3600, Size: 3, CTO: 3600}}, Data: []byte("keyfrdelta")[:8]}
	audio := fmp4.TrackFragment{TrackID: 2, BaseDecodeTime: 48000, Samples: []fmp4.Sample{
		{Duration: 1024, Size: 4, Key: true}}, Data: []byte("aacf")}
	return [][]byte{
		fmp4.AppendFragment(nil, 1, 0, wall, []fmp4.TrackFragment{video}),
		fmp4.AppendFragment(nil, 2, 0, wall, []fmp4.TrackFragment{video, audio}),
	}
}

// FuzzFragmentHeader feeds the header reader's walk (mdatPayload, then
// fmp4.ParseFragmentHeader and checkTiling) fragments as a disk may garble
// them: it must not panic, and a fragment it accepts has its samples tiling
// the mdat payload.
func FuzzFragmentHeader(f *testing.F) {
	for _, s := range fragmentSeeds() {
		f.Add(s)
		f.Add(s[:len(s)-2])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		payload, _ := mdatPayload(b)
		if payload <= 0 || payload > int64(len(b)) {
			return
		}
		var p fmp4.ParsedFragment
		if err := fmp4.ParseFragmentHeader(b, len(b), &p); err != nil {
			return
		}
		if err := checkTiling(&p, int64(len(b))-payload); err != nil {
			return
		}
		var sum int64
		for _, s := range p.Samples {
			sum += int64(s.Size)
		}
		if sum != int64(len(b))-payload {
			t.Fatalf("accepted %d sample bytes in a %d-byte payload", sum, int64(len(b))-payload)
		}
	})
}

// TestFragmentSeedsTile checks that the header reader finds the payload of
// recorder-written fragments and that their samples tile it.
func TestFragmentSeedsTile(t *testing.T) {
	for i, b := range fragmentSeeds() {
		payload, need := mdatPayload(b)
		if payload <= 0 {
			t.Fatalf("seed %d: no mdat payload found (need %d)", i, need)
		}
		var p fmp4.ParsedFragment
		if err := fmp4.ParseFragmentHeader(b[:payload], len(b), &p); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if err := checkTiling(&p, int64(len(b))-payload); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if !bytes.Equal(b[payload:payload+5], []byte("keyfr")) {
			t.Errorf("seed %d: payload starts with %q", i, b[payload:payload+5])
		}
	}
}

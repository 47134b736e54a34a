package media_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/media"
)

type initCase struct {
	name       string
	track      media.Track
	codec      string // ffprobe codec_name
	sampleRate string
	width      int
	height     int
}

var initCases = []initCase{
	{name: "h264", codec: "h264", width: 1280, height: 720,
		track: media.Track{Codec: media.CodecH264, ClockRate: 90000, SPS: h264SPS, PPS: h264PPS}},
	{name: "h265", codec: "hevc", width: 320, height: 240,
		track: media.Track{Codec: media.CodecH265, ClockRate: 90000, VPS: h265VPS, SPS: h265SPS, PPS: h265PPS}},
	{name: "aac", codec: "aac", sampleRate: "48000",
		track: media.Track{Codec: media.CodecAAC, ClockRate: 48000, Channels: 2, AudioConfig: []byte{0x11, 0x90}}},
	{name: "opus", codec: "opus", sampleRate: "48000",
		track: media.Track{Codec: media.CodecOpus, ClockRate: 48000, Channels: 2}},
	{name: "pcmu", codec: "pcm_mulaw", sampleRate: "8000",
		track: media.Track{Codec: media.CodecPCMU, ClockRate: 8000, Channels: 1}},
	{name: "pcma 16k", codec: "pcm_alaw", sampleRate: "16000",
		track: media.Track{Codec: media.CodecPCMA, ClockRate: 16000, Channels: 1}},
	{name: "mjpeg", codec: "mjpeg", width: 1280, height: 720,
		track: media.Track{Codec: media.CodecMJPEG, ClockRate: 90000, Width: 1280, Height: 720}},
}

func TestInitSegment(t *testing.T) {
	t.Parallel()
	for i, tc := range initCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := tc.track
			b, err := media.InitSegment([]*media.Track{&tr})
			if err != nil {
				t.Fatalf("InitSegment: %v", err)
			}
			checkInitBoxes(t, b, tr.ClockRate)
			probeInit(t, b, i, tc)
		})
	}
}

// checkInitBoxes decodes the init segment with mp4ff: one trak with ID 1, timescale =
// ClockRate, and a trex for fragmenting.
func checkInitBoxes(t *testing.T, b []byte, timescale uint32) {
	t.Helper()
	f, err := mp4.DecodeFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode init: %v", err)
	}
	if f.Init == nil || len(f.Init.Moov.Traks) != 1 {
		t.Fatalf("want one trak in init")
	}
	trak := f.Init.Moov.Traks[0]
	if trak.Tkhd.TrackID != 1 || trak.Mdia.Mdhd.Timescale != timescale {
		t.Errorf("track ID %d timescale %d, want 1 %d", trak.Tkhd.TrackID, trak.Mdia.Mdhd.Timescale, timescale)
	}
	if f.Init.Moov.Mvex == nil || len(f.Init.Moov.Mvex.Trexs) != 1 {
		t.Errorf("want mvex with one trex")
	}
}

// probeInit checks with ffprobe, when installed, that ffmpeg reads the codec and size.
func probeInit(t *testing.T, b []byte, i int, tc initCase) {
	t.Helper()
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe not installed")
	}
	path := filepath.Join(t.TempDir(), "init.mp4")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries",
		"stream=codec_name,width,height,sample_rate", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe case %d: %v", i, err)
	}
	var res struct {
		Streams []struct {
			CodecName  string `json:"codec_name"`
			Width      int    `json:"width"`
			Height     int    `json:"height"`
			SampleRate string `json:"sample_rate"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) != 1 {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	s := res.Streams[0]
	if s.CodecName != tc.codec || s.Width != tc.width || s.Height != tc.height || s.SampleRate != tc.sampleRate {
		t.Errorf("ffprobe = %+v, want %s %dx%d %s", s, tc.codec, tc.width, tc.height, tc.sampleRate)
	}
}

func TestInitSegmentMultiTrack(t *testing.T) {
	t.Parallel()
	v, a := initCases[0].track, initCases[2].track
	b, err := media.InitSegment([]*media.Track{&v, &a})
	if err != nil {
		t.Fatal(err)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for i, trak := range f.Init.Moov.Traks {
		if trak.Tkhd.TrackID != uint32(i+1) {
			t.Errorf("trak %d has ID %d", i, trak.Tkhd.TrackID)
		}
	}
	if got := f.Init.Moov.Traks[1].Mdia.Mdhd.Timescale; got != 48000 {
		t.Errorf("audio timescale %d", got)
	}
}

func TestInitSegmentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tracks []*media.Track
		want   error
	}{
		{"no tracks", nil, media.ErrTrackNotReady},
		{"unknown codec", []*media.Track{{ClockRate: 90000}}, media.ErrUnsupportedCodec},
		{"h264 without pps", []*media.Track{{Codec: media.CodecH264, ClockRate: 90000, SPS: h264SPS}}, media.ErrTrackNotReady},
		{"aac without config", []*media.Track{{Codec: media.CodecAAC, ClockRate: 48000}}, media.ErrTrackNotReady},
		{"mjpeg without size", []*media.Track{{Codec: media.CodecMJPEG, ClockRate: 90000}}, media.ErrTrackNotReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := media.InitSegment(tt.tracks); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

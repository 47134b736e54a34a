package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/media"
)

// allCodecTracks returns one track of each of the seven codecs, as a recorder builds them.
func allCodecTracks() []*media.Track {
	tracks := make([]*media.Track, len(initCases))
	for i, tc := range initCases {
		tr := tc.track
		tracks[i] = &tr
	}
	return tracks
}

// compareStored fails unless got equals want in every field InitSegment stores: codec,
// clock rate, parameter sets, AudioSpecificConfig, audio channels and video size.
func compareStored(t *testing.T, i int, got, want *media.Track, width, height int) {
	t.Helper()
	if got.Codec != want.Codec || got.ClockRate != want.ClockRate {
		t.Errorf("track %d: %v/%d, want %v/%d", i, got.Codec, got.ClockRate, want.Codec, want.ClockRate)
	}
	if !bytes.Equal(got.VPS, want.VPS) || !bytes.Equal(got.SPS, want.SPS) || !bytes.Equal(got.PPS, want.PPS) ||
		!bytes.Equal(got.AudioConfig, want.AudioConfig) {
		t.Errorf("track %d: config % x / % x / % x / % x", i, got.VPS, got.SPS, got.PPS, got.AudioConfig)
	}
	if !got.IsVideo() && got.Channels != want.Channels {
		t.Errorf("track %d: %d channels, want %d", i, got.Channels, want.Channels)
	}
	if got.Width != width || got.Height != height {
		t.Errorf("track %d: %dx%d, want %dx%d", i, got.Width, got.Height, width, height)
	}
	if got.Codec == media.CodecAAC && (got.SizeLength != 13 || got.IndexLength != 3 || got.IndexDeltaLength != 3) {
		t.Errorf("track %d: AU-header layout %d/%d/%d", i, got.SizeLength, got.IndexLength, got.IndexDeltaLength)
	}
}

func TestTracksFromInitRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tracks []*media.Track
		pts    []uint8
	}{
		{name: "all seven codecs", tracks: allCodecTracks(), pts: []uint8{96, 97, 98, 99, 0, 100, 26}},
	}
	wantPT := map[string]uint8{"pcmu": 0, "mjpeg": 26}
	for i, tc := range initCases {
		pt, ok := wantPT[tc.name]
		if !ok {
			pt = 96
		}
		tests = append(tests, struct {
			name   string
			tracks []*media.Track
			pts    []uint8
		}{name: tc.name, tracks: allCodecTracks()[i : i+1], pts: []uint8{pt}})
	}
	sizes := map[media.Codec][2]int{}
	for _, tc := range initCases {
		sizes[tc.track.Codec] = [2]int{tc.width, tc.height}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			init, err := media.InitSegment(tt.tracks)
			if err != nil {
				t.Fatal(err)
			}
			got, err := media.TracksFromInit(init)
			if err != nil {
				t.Fatalf("TracksFromInit: %v", err)
			}
			if len(got) != len(tt.tracks) {
				t.Fatalf("%d tracks, want %d", len(got), len(tt.tracks))
			}
			for i, g := range got {
				size := sizes[g.Codec]
				compareStored(t, i, g, tt.tracks[i], size[0], size[1])
				if g.PayloadType != tt.pts[i] || g.Control != "trackID="+strconv.Itoa(i) {
					t.Errorf("track %d: pt %d control %q, want %d trackID=%d", i, g.PayloadType, g.Control, tt.pts[i], i)
				}
			}
			again, err := media.InitSegment(got)
			if err != nil {
				t.Fatalf("InitSegment of recovered tracks: %v", err)
			}
			if !bytes.Equal(again, init) {
				t.Errorf("init segment of recovered tracks differs (%d vs %d bytes)", len(again), len(init))
			}
		})
	}
}

// renameEntry returns a copy of init with the first sample entry named from renamed to.
func renameEntry(t *testing.T, init []byte, from, to string) []byte {
	t.Helper()
	i := bytes.Index(init, []byte(from))
	if i < 0 {
		t.Fatalf("no %q in init", from)
	}
	b := bytes.Clone(init)
	copy(b[i:], to)
	return b
}

func TestTracksFromInitUnknownEntry(t *testing.T) {
	t.Parallel()
	tracks := allCodecTracks()
	init, err := media.InitSegment([]*media.Track{tracks[4], tracks[0]}) // PCMU, H.264
	if err != nil {
		t.Fatal(err)
	}
	got, err := media.TracksFromInit(renameEntry(t, init, "ulaw", "sowx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Codec != media.CodecUnknown || got[1].Codec != media.CodecH264 {
		t.Fatalf("got %v", got)
	}
	if got[0].PayloadType != 0 || got[0].Control != "trackID=0" || got[1].PayloadType != 96 || got[1].Control != "trackID=1" {
		t.Errorf("pt/control %d %q, %d %q", got[0].PayloadType, got[0].Control, got[1].PayloadType, got[1].Control)
	}
}

func TestTracksFromInitErrors(t *testing.T) {
	t.Parallel()
	pcmu, err := media.InitSegment(allCodecTracks()[4:5])
	if err != nil {
		t.Fatal(err)
	}
	ftypLen := int(binary.BigEndian.Uint32(pcmu))
	moof := append(binary.BigEndian.AppendUint32(nil, 8), "moof"...)
	tests := []struct {
		name string
		init []byte
		want error // nil: any error
	}{
		{name: "empty", init: nil},
		{name: "not boxes", init: []byte("hello, world")},
		{name: "ftyp only", init: pcmu[:ftypLen]},
		{name: "truncated moov", init: pcmu[:len(pcmu)-1]},
		{name: "moof before moov", init: append(bytes.Clone(moof), pcmu...)},
		{name: "box size below header", init: []byte{0, 0, 0, 4, 'f', 't', 'y', 'p'}},
		{name: "truncated largesize", init: []byte{0, 0, 0, 1, 'm', 'o', 'o', 'v', 0}},
		{name: "only unknown entries", init: renameEntry(t, pcmu, "ulaw", "sowx"), want: media.ErrNoSupportedMedia},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.TracksFromInit(tt.init)
			if err == nil {
				t.Fatalf("got %d tracks, want error", len(got))
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestTracksFromInitTrailingFragments checks that a whole fragmented file is read up to moov.
func TestTracksFromInitTrailingFragments(t *testing.T) {
	t.Parallel()
	init, err := media.InitSegment(allCodecTracks()[:1])
	if err != nil {
		t.Fatal(err)
	}
	b := append(bytes.Clone(init), 0, 0, 0, 8, 'm', 'o', 'o', 'f', 0, 0, 0, 0, 'm', 'd', 'a', 't', 1, 2)
	if got, err := media.TracksFromInit(b); err != nil || len(got) != 1 || got[0].Codec != media.CodecH264 {
		t.Errorf("got %v, %v", got, err)
	}
}

// ffmpegCapture is the init segment of the brief's ffmpeg command (libx264 320x240 25 fps,
// aac mono 44.1 kHz whose AudioSpecificConfig 1208 56E500 carries an explicit no-SBR
// extension, frag_keyframe+empty_moov), kept so that it is read even without ffmpeg.
const ffmpegCapture = "testdata/ffmpeg_h264_aac_init.mp4"

func TestTracksFromInitCapture(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(ffmpegCapture)
	if err != nil {
		t.Fatal(err)
	}
	got, err := media.TracksFromInit(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d tracks", len(got))
	}
	v, a := got[0], got[1]
	if v.Codec != media.CodecH264 || !v.Ready() || v.Width != 320 || v.Height != 240 || v.ClockRate != 12800 ||
		v.PayloadType != 96 || v.Control != "trackID=0" {
		t.Errorf("video = %+v", v)
	}
	if a.Codec != media.CodecAAC || !bytes.HasPrefix(a.AudioConfig, []byte{0x12, 0x08}) || a.Channels != 1 ||
		a.ClockRate != 44100 || a.PayloadType != 97 || a.Control != "trackID=1" {
		t.Errorf("audio = %+v", a)
	}
}

// ffmpegInit runs ffmpeg with args and the output file appended, and returns the init
// segment (everything before the first moof) of the fragmented output.
func ffmpegInit(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	out := filepath.Join(t.TempDir(), name)
	args = append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)
	cmd := exec.Command(ffmpeg, append(args, "-movflags", "frag_keyframe+empty_moov", out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for pos := 0; pos+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[pos:]))
		if string(b[pos+4:pos+8]) == "moof" {
			return b[:pos]
		}
		if size < 8 {
			break
		}
		pos += size
	}
	t.Fatalf("no moof in ffmpeg output")
	return nil
}

func TestTracksFromInitFFmpeg(t *testing.T) {
	t.Parallel()
	video := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"}
	sine := []string{"-f", "lavfi", "-i", "sine"}
	tests := []struct {
		name   string
		file   string
		args   []string
		want   []media.Track // compared on Codec, ClockRate, Channels, Width, Height, PayloadType
		config bool          // parameter sets / AudioSpecificConfig expected
	}{
		{name: "h264 aac", file: "out.mp4", args: concat(video, sine, "-t", "1", "-c:v", "libx264", "-c:a", "aac"),
			want: []media.Track{
				{Codec: media.CodecH264, ClockRate: 12800, Channels: 1, Width: 320, Height: 240, PayloadType: 96},
				{Codec: media.CodecAAC, ClockRate: 44100, Channels: 1, PayloadType: 97},
			}},
		{name: "h265 opus, 90 kHz video", file: "out.mp4", args: concat(video, sine, "-t", "1", "-c:v", "libx265",
			"-x265-params", "log-level=error", "-c:a", "libopus", "-video_track_timescale", "90000"),
			want: []media.Track{
				{Codec: media.CodecH265, ClockRate: 90000, Channels: 1, Width: 320, Height: 240, PayloadType: 96},
				{Codec: media.CodecOpus, ClockRate: 48000, Channels: 1, PayloadType: 97},
			}},
		{name: "mjpeg in mp4 (mp4v)", file: "out.mp4", args: concat(video, "-t", "1", "-c:v", "mjpeg",
			"-pix_fmt", "yuvj420p", "-video_track_timescale", "90000"),
			want: []media.Track{{Codec: media.CodecMJPEG, ClockRate: 90000, Channels: 1, Width: 320, Height: 240, PayloadType: 26}}},
		{name: "mjpeg pcm_mulaw in mov", file: "out.mov", args: concat(video, sine, "-t", "1", "-c:v", "mjpeg",
			"-pix_fmt", "yuvj420p", "-c:a", "pcm_mulaw", "-ar", "8000"),
			want: []media.Track{
				{Codec: media.CodecMJPEG, ClockRate: 12800, Channels: 1, Width: 320, Height: 240, PayloadType: 96},
				{Codec: media.CodecPCMU, ClockRate: 8000, Channels: 1, PayloadType: 0},
			}},
		{name: "pcm_alaw stereo in mov", file: "out.mov", args: concat(sine, "-t", "1", "-c:a", "pcm_alaw", "-ac", "2"),
			want: []media.Track{{Codec: media.CodecPCMA, ClockRate: 44100, Channels: 2, PayloadType: 96}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			init := ffmpegInit(t, tt.file, tt.args...)
			got, err := media.TracksFromInit(init)
			if err != nil {
				t.Fatalf("TracksFromInit: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d tracks, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Codec != w.Codec || g.ClockRate != w.ClockRate || g.Channels != w.Channels ||
					g.Width != w.Width || g.Height != w.Height || g.PayloadType != w.PayloadType {
					t.Errorf("track %d = %v/%d ch %d %dx%d pt %d, want %v/%d ch %d %dx%d pt %d", i,
						g.Codec, g.ClockRate, g.Channels, g.Width, g.Height, g.PayloadType,
						w.Codec, w.ClockRate, w.Channels, w.Width, w.Height, w.PayloadType)
				}
				if !g.Ready() {
					t.Errorf("track %d (%v) not ready", i, g.Codec)
				}
			}
			// What camvault re-encodes from ffmpeg's tracks reads back the same.
			again, err := media.InitSegment(got)
			if err != nil {
				t.Fatalf("InitSegment: %v", err)
			}
			back, err := media.TracksFromInit(again)
			if err != nil {
				t.Fatal(err)
			}
			for i := range back {
				compareStored(t, i, back[i], got[i], got[i].Width, got[i].Height)
			}
		})
	}
}

func concat(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, p)
		case []string:
			out = append(out, p...)
		}
	}
	return out
}

// FuzzTracksFromInit checks that no input panics, that the result is bounded (at most 32
// tracks, parameter sets no larger than the input) and that every ready track it returns
// can be written again by InitSegment and MarshalSDP, all within the allocation bound of
// parseAlloc. Crashers found:
//   - testdata/fuzz/FuzzTracksFromInit/hvcc-nalu-count: an hvcC whose numNalus runs past
//     the box made mp4ff's DecodeHEVCDecConfRec append a slice per count after its reader
//     ran out (1.3 MB from 710 bytes; up to ~3 MB per hvcC box). Fixed by
//     checkHvcCRecords, which refuses such records before mp4ff decodes the moov.
func FuzzTracksFromInit(f *testing.F) {
	all, err := media.InitSegment(allCodecTracks())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(all)
	for _, tr := range allCodecTracks() {
		b, err := media.InitSegment([]*media.Track{tr})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'v'})
	capture, err := os.ReadFile(ffmpegCapture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(capture)
	f.Fuzz(func(t *testing.T, b []byte) {
		alloctest.Check(t, parseAlloc, len(b), func() {
			tracks, err := media.TracksFromInit(b)
			if err != nil {
				return
			}
			if len(tracks) == 0 || len(tracks) > 32 {
				t.Fatalf("%d tracks", len(tracks))
			}
			var ready []*media.Track
			for _, tr := range tracks {
				if len(tr.SPS)+len(tr.PPS)+len(tr.VPS)+len(tr.AudioConfig) > len(b) {
					t.Fatalf("configuration larger than the input")
				}
				if tr.Ready() {
					ready = append(ready, tr)
				}
			}
			if len(ready) > 0 {
				if _, err := media.InitSegment(ready); err != nil {
					t.Fatalf("InitSegment of ready tracks: %v", err)
				}
			}
			_ = media.MarshalSDP(tracks, media.SDPOptions{ONVIF: true})
		})
	})
}

package media_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/camvault/camvault/media"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// sdpTracks returns one track of each codec as TracksFromSDP would give it, with payload
// types and controls set.
func sdpTracks() []*media.Track {
	return []*media.Track{
		{Control: "trackID=0", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000, Channels: 1,
			SPS: h264SPS, PPS: h264PPS, Width: 1280, Height: 720},
		{Control: "trackID=1", PayloadType: 97, Codec: media.CodecAAC, ClockRate: 48000, Channels: 2,
			AudioConfig: []byte{0x11, 0x90}, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3},
		{Control: "trackID=2", PayloadType: 98, Codec: media.CodecH265, ClockRate: 90000, Channels: 1,
			VPS: h265VPS, SPS: h265SPS, PPS: h265PPS, Width: 320, Height: 240},
		{Control: "trackID=3", PayloadType: 99, Codec: media.CodecOpus, ClockRate: 48000, Channels: 2},
		{Control: "trackID=4", PayloadType: 0, Codec: media.CodecPCMU, ClockRate: 8000, Channels: 1},
		{Control: "trackID=5", PayloadType: 100, Codec: media.CodecPCMA, ClockRate: 16000, Channels: 2},
		{Control: "trackID=6", PayloadType: 26, Codec: media.CodecMJPEG, ClockRate: 90000, Channels: 1},
		{Control: "trackID=7", PayloadType: 101, Codec: media.CodecAAC, ClockRate: 16000, Channels: 1,
			AudioConfig: []byte{0x14, 0x08}, SizeLength: 6, IndexLength: 2, IndexDeltaLength: 2},
	}
}

const sessionHeader = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=camvault\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n"

func TestMarshalSDP(t *testing.T) {
	t.Parallel()
	all := sdpTracks()
	tests := []struct {
		name   string
		tracks []*media.Track
		opts   media.SDPOptions
		want   string // whole body; lines joined with CRLF
	}{
		{name: "PL-H264-01 h264", tracks: all[0:1], want: sessionHeader +
			"m=video 0 RTP/AVP 96\r\na=control:trackID=0\r\na=rtpmap:96 H264/90000\r\n" +
			"a=fmtp:96 packetization-mode=1; profile-level-id=64001F; sprop-parameter-sets=" + h264SPSB64 + "," + h264PPSB64 + "\r\n" +
			"a=recvonly\r\n"},
		{name: "h264 without parameter sets", tracks: []*media.Track{{Control: "c", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000}},
			want: sessionHeader + "m=video 0 RTP/AVP 96\r\na=control:c\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=recvonly\r\n"},
		{name: "PL-AAC-01 aac hbr", tracks: all[1:2], want: sessionHeader +
			"m=audio 0 RTP/AVP 97\r\na=control:trackID=1\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n" +
			"a=fmtp:97 streamtype=5; profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1190\r\n" +
			"a=recvonly\r\n"},
		{name: "aac lbr layout kept", tracks: all[7:8], want: sessionHeader +
			"m=audio 0 RTP/AVP 101\r\na=control:trackID=7\r\na=rtpmap:101 MPEG4-GENERIC/16000/1\r\n" +
			"a=fmtp:101 streamtype=5; profile-level-id=1; mode=AAC-lbr; sizelength=6; indexlength=2; indexdeltalength=2; config=1408\r\n" +
			"a=recvonly\r\n"},
		{name: "PL-H265-01 h265", tracks: all[2:3], want: sessionHeader +
			"m=video 0 RTP/AVP 98\r\na=control:trackID=2\r\na=rtpmap:98 H265/90000\r\n" +
			"a=fmtp:98 sprop-vps=" + b64(h265VPS) + "; sprop-sps=" + b64(h265SPS) + "; sprop-pps=" + b64(h265PPS) + "\r\n" +
			"a=recvonly\r\n"},
		{name: "PL-OPUS-01 opus stereo", tracks: all[3:4], want: sessionHeader +
			"m=audio 0 RTP/AVP 99\r\na=control:trackID=3\r\na=rtpmap:99 opus/48000/2\r\na=fmtp:99 sprop-stereo=1\r\na=recvonly\r\n"},
		{name: "opus mono", tracks: []*media.Track{{Control: "o", PayloadType: 111, Codec: media.CodecOpus, ClockRate: 48000, Channels: 1}},
			want: sessionHeader + "m=audio 0 RTP/AVP 111\r\na=control:o\r\na=rtpmap:111 opus/48000/2\r\na=recvonly\r\n"},
		{name: "PL-G711-01 pcmu static", tracks: all[4:5], want: sessionHeader +
			"m=audio 0 RTP/AVP 0\r\na=control:trackID=4\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\n"},
		{name: "pcma 16 kHz stereo", tracks: all[5:6], want: sessionHeader +
			"m=audio 0 RTP/AVP 100\r\na=control:trackID=5\r\na=rtpmap:100 PCMA/16000/2\r\na=recvonly\r\n"},
		{name: "PL-JPEG-01 jpeg without size", tracks: all[6:7], want: sessionHeader +
			"m=video 0 RTP/AVP 26\r\na=control:trackID=6\r\na=rtpmap:26 JPEG/90000\r\na=recvonly\r\n"},
		{name: "jpeg framesize", tracks: []*media.Track{{Control: "j", PayloadType: 26, Codec: media.CodecMJPEG, ClockRate: 90000, Width: 640, Height: 480}},
			want: sessionHeader + "m=video 0 RTP/AVP 26\r\na=control:j\r\na=rtpmap:26 JPEG/90000\r\na=framesize:26 640-480\r\na=recvonly\r\n"},
		{name: "SDP-07 unknown skipped, missing control from index",
			tracks: []*media.Track{{Control: "meta", PayloadType: 107}, {PayloadType: 8, Codec: media.CodecPCMA, ClockRate: 8000, Channels: 1}},
			want:   sessionHeader + "m=audio 0 RTP/AVP 8\r\na=control:trackID=1\r\na=rtpmap:8 PCMA/8000\r\na=recvonly\r\n"},
		{name: "SDP-05 ONVIF-03 ranges, name and track references",
			tracks: []*media.Track{all[0], all[4], all[6], all[1]},
			opts: media.SDPOptions{SessionName: "cam1 archive", ONVIF: true,
				Ranges: []string{"npt=0-3600.000", "clock=20261125T101500Z-20261125T111500Z"}},
			want: "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam1 archive\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n" +
				"a=range:npt=0-3600.000\r\na=range:clock=20261125T101500Z-20261125T111500Z\r\n" +
				"m=video 0 RTP/AVP 96\r\na=control:trackID=0\r\na=rtpmap:96 H264/90000\r\n" +
				"a=fmtp:96 packetization-mode=1; profile-level-id=64001F; sprop-parameter-sets=" + h264SPSB64 + "," + h264PPSB64 + "\r\n" +
				"a=x-onvif-track:VIDEO001\r\na=recvonly\r\n" +
				"m=audio 0 RTP/AVP 0\r\na=control:trackID=4\r\na=rtpmap:0 PCMU/8000\r\na=x-onvif-track:AUDIO001\r\na=recvonly\r\n" +
				"m=video 0 RTP/AVP 26\r\na=control:trackID=6\r\na=rtpmap:26 JPEG/90000\r\na=x-onvif-track:VIDEO002\r\na=recvonly\r\n" +
				"m=audio 0 RTP/AVP 97\r\na=control:trackID=1\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n" +
				"a=fmtp:97 streamtype=5; profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1190\r\n" +
				"a=x-onvif-track:AUDIO002\r\na=recvonly\r\n"},
		{name: "SEC CR and LF cannot add lines",
			tracks: []*media.Track{{Control: "x\r\na=sendonly", PayloadType: 0, Codec: media.CodecPCMU, ClockRate: 8000, Channels: 1}},
			opts:   media.SDPOptions{SessionName: "a\r\nb=AS:1", Ranges: []string{"npt=0-\n1"}, MediaRange: "npt=0-\r\n2"},
			want: "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=ab=AS:1\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\na=range:npt=0-1\r\n" +
				"m=audio 0 RTP/AVP 0\r\na=control:xa=sendonly\r\na=range:npt=0-2\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\n"},
		{name: "no tracks", want: sessionHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := string(media.MarshalSDP(tt.tracks, tt.opts))
			if got != tt.want {
				t.Errorf("MarshalSDP =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestMarshalSDPRoundTrip checks TracksFromSDP(MarshalSDP(ts)) == ts, field by field.
func TestMarshalSDPRoundTrip(t *testing.T) {
	t.Parallel()
	tracks := sdpTracks()
	got, err := media.TracksFromSDP(media.MarshalSDP(tracks, media.SDPOptions{ONVIF: true, Ranges: []string{"npt=0-1.000"}}),
		media.SDPLimits{MaxMedia: len(tracks)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(tracks) {
		t.Fatalf("%d tracks, want %d", len(got), len(tracks))
	}
	for i := range tracks {
		if !reflect.DeepEqual(got[i], tracks[i]) {
			t.Errorf("track %d:\n got %+v\nwant %+v", i, got[i], tracks[i])
		}
	}
}

// TestInitToSDPRoundTrip checks the archive path: tracks read from an init segment are
// described by MarshalSDP and parsed back unchanged, except what SDP does not carry: the
// MJPEG size (a=framesize is not read by TracksFromSDP) and a mono Opus channel count.
func TestInitToSDPRoundTrip(t *testing.T) {
	t.Parallel()
	init, err := media.InitSegment(allCodecTracks())
	if err != nil {
		t.Fatal(err)
	}
	tracks, err := media.TracksFromInit(init)
	if err != nil {
		t.Fatal(err)
	}
	got, err := media.TracksFromSDP(media.MarshalSDP(tracks, media.SDPOptions{}), media.SDPLimits{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range tracks {
		w := *want
		if w.Codec == media.CodecMJPEG {
			w.Width, w.Height = 0, 0
		}
		if !reflect.DeepEqual(got[i], &w) {
			t.Errorf("track %d:\n got %+v\nwant %+v", i, got[i], &w)
		}
	}
}

func TestMarshalSDPGolden(t *testing.T) {
	t.Parallel()
	tracks, err := media.TracksFromSDP([]byte(referenceSDP), media.SDPLimits{})
	if err != nil {
		t.Fatal(err)
	}
	got := media.MarshalSDP(tracks, media.SDPOptions{
		SessionName: "cam1 archive",
		Ranges:      []string{"npt=0-3600.000", "clock=20261125T101500Z-20261125T111500Z"},
		MediaRange:  "npt=0-3600.000",
		ONVIF:       true,
	})
	golden := filepath.Join("testdata", "describe_h264_aac.sdp")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("MarshalSDP differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// TestMarshalSDPFFprobe checks that ffprobe reads the codecs of every medium and the
// duration of the npt range from an SDP file written by MarshalSDP with the ranges of an
// archive answer. No packet ever arrives: -listen_timeout ends the wait.
func TestMarshalSDPFFprobe(t *testing.T) {
	t.Parallel()
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe not installed")
	}
	tracks := sdpTracks()
	path := filepath.Join(t.TempDir(), "describe.sdp")
	if err := os.WriteFile(path, media.MarshalSDP(tracks, media.SDPOptions{ONVIF: true, Ranges: []string{"npt=0-10.000", "clock=20261125T101500Z-20261125T101510Z"}, MediaRange: "npt=0-10.000"}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-protocol_whitelist", "file,udp,rtp",
		"-listen_timeout", "0.1", "-analyzeduration", "1", "-probesize", "32",
		"-show_entries", "stream=codec_name,sample_rate,channels:format=duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var res struct {
		Streams []struct {
			CodecName  string `json:"codec_name"`
			SampleRate string `json:"sample_rate"`
			Channels   int    `json:"channels"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	if res.Format.Duration != "10.000000" {
		t.Errorf("ffprobe duration %q, want 10.000000 (SDP-05)", res.Format.Duration)
	}
	want := []string{"h264", "aac 48000 2", "hevc", "opus 48000 2", "pcm_mulaw 8000 1", "pcm_alaw 16000 2", "mjpeg", "aac 16000 1"}
	var got []string
	for _, s := range res.Streams {
		got = append(got, strings.TrimSpace(strings.Join([]string{s.CodecName, s.SampleRate, channelsString(s.Channels)}, " ")))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ffprobe streams = %q, want %q", got, want)
	}
}

func channelsString(n int) string {
	if n == 0 {
		return ""
	}
	return string(rune('0' + n))
}

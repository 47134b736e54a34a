package media_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/media"
)

// referenceSDP is the archive DESCRIBE answer of RTSP.md §14.1.
const referenceSDP = "v=0\r\n" +
	"o=- 3918622498 1 IN IP4 192.0.2.1\r\n" +
	"s=cam1 archive\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"t=0 0\r\n" +
	"a=control:*\r\n" +
	"a=range:npt=0-3600.000\r\n" +
	"m=video 0 RTP/AVP 96\r\n" +
	"a=control:trackID=0\r\n" +
	"a=rtpmap:96 H264/90000\r\n" +
	"a=fmtp:96 packetization-mode=1; profile-level-id=64001F; sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA\r\n" +
	"a=recvonly\r\n" +
	"m=audio 0 RTP/AVP 97\r\n" +
	"a=control:trackID=1\r\n" +
	"a=rtpmap:97 MPEG4-GENERIC/48000/2\r\n" +
	"a=fmtp:97 streamtype=5; profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1190\r\n" +
	"a=recvonly\r\n"

// sdpWith wraps media sections in a minimal session with LF line ends.
func sdpWith(media ...string) string {
	return "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n" + strings.Join(media, "\n") + "\n"
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func b64(parts ...[]byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Join(parts, nil))
}

type sdpCase struct {
	name    string
	sdp     string
	lim     media.SDPLimits
	want    []media.Track // compared on the fields set in want plus Codec
	wantErr error
}

func sdpCases() []sdpCase {
	h265Media := "m=video 0 RTP/AVP 98\na=rtpmap:98 H265/90000\na=fmtp:98 sprop-vps=" + b64(h265VPS) +
		"; sprop-sps=" + b64(h265SPS) + "; sprop-pps=" + b64(h265PPS)
	return []sdpCase{
		{name: "SDP-02 reference SDP", sdp: referenceSDP, want: []media.Track{
			{Control: "trackID=0", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000, Channels: 1,
				SPS: h264SPS, PPS: h264PPS, Width: 1280, Height: 720},
			{Control: "trackID=1", PayloadType: 97, Codec: media.CodecAAC, ClockRate: 48000, Channels: 2,
				AudioConfig: []byte{0x11, 0x90}, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3},
		}},
		{name: "PL-AAC-01 Hikvision mixed-case fmtp names", sdp: sdpWith("m=audio 0 RTP/AVP 104",
			"a=rtpmap:104 mpeg4-generic/16000/1",
			"a=fmtp:104 profile-level-id=15; streamtype=5; mode=AAC-hbr; config=1408;SizeLength=13; IndexLength=3; IndexDeltaLength=3; Profile=1;"),
			want: []media.Track{{PayloadType: 104, Codec: media.CodecAAC, ClockRate: 16000, Channels: 1,
				AudioConfig: []byte{0x14, 0x08}, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}}},
		{name: "SDP-08 fmtp before rtpmap, upper-case names, trailing blanks", sdp: sdpWith("m=video 0 RTP/AVP 96",
			"a=FMTP:96 Packetization-Mode=1;SPROP-PARAMETER-SETS="+h264SPSB64+","+h264PPSB64+";",
			"a=RTPMAP:96 h264/90000  ", "a=control:track1", "a=control:track2"),
			want: []media.Track{{Control: "track1", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000,
				SPS: h264SPS, PPS: h264PPS, Width: 1280, Height: 720}}},
		{name: "PL-H264-08 Annex-B prefixes inside sprop base64", sdp: sdpWith("m=video 0 RTP/AVP 96",
			"a=rtpmap:96 H264/90000", "a=fmtp:96 sprop-parameter-sets="+b64(annexB4, h264SPS, annexB4, h264PPS)),
			want: []media.Track{{PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000, SPS: h264SPS, PPS: h264PPS,
				Width: 1280, Height: 720}}},
		{name: "PL-GEN-02 unparsable SDP SPS ignored", sdp: sdpWith("m=video 0 RTP/AVP 96",
			"a=rtpmap:96 H264/90000", "a=fmtp:96 sprop-parameter-sets=Z/8=,"+h264PPSB64),
			want: []media.Track{{PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000, PPS: h264PPS}}},
		{name: "SDP-03 static payload types without rtpmap", sdp: sdpWith(
			"m=audio 0 RTP/AVP 0", "a=control:a", "m=audio 0 RTP/AVP 8", "m=video 0 RTP/AVP 26"),
			want: []media.Track{
				{Control: "a", PayloadType: 0, Codec: media.CodecPCMU, ClockRate: 8000, Channels: 1},
				{PayloadType: 8, Codec: media.CodecPCMA, ClockRate: 8000, Channels: 1},
				{PayloadType: 26, Codec: media.CodecMJPEG, ClockRate: 90000},
			}},
		{name: "PL-G711-01 PCMU at 16000", sdp: sdpWith("m=audio 0 RTP/AVP 97", "a=rtpmap:97 PCMU/16000"),
			want: []media.Track{{PayloadType: 97, Codec: media.CodecPCMU, ClockRate: 16000, Channels: 1}}},
		{name: "PL-OPUS-01 opus/48000/2", sdp: sdpWith("m=audio 0 RTP/AVP 111", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 sprop-stereo=0"),
			want: []media.Track{{PayloadType: 111, Codec: media.CodecOpus, ClockRate: 48000, Channels: 2}}},
		{name: "PL-H265-01 sprop-vps/sps/pps", sdp: sdpWith(h265Media),
			want: []media.Track{{PayloadType: 98, Codec: media.CodecH265, ClockRate: 90000,
				VPS: h265VPS, SPS: h265SPS, PPS: h265PPS, Width: 320, Height: 240}}},
		{name: "PL-JPEG-01 JPEG rtpmap", sdp: sdpWith("m=video 0 RTP/AVP 26", "a=rtpmap:26 JPEG/90000"),
			want: []media.Track{{PayloadType: 26, Codec: media.CodecMJPEG, ClockRate: 90000}}},
		{name: "unsupported medium kept as unknown", sdp: sdpWith("m=audio 0 RTP/AVP 0",
			"m=application 0 RTP/AVP 107", "a=rtpmap:107 vnd.onvif.metadata/90000", "a=control:meta"),
			want: []media.Track{
				{PayloadType: 0, Codec: media.CodecPCMU, ClockRate: 8000},
				{Control: "meta", PayloadType: 107, Codec: media.CodecUnknown, ClockRate: 90000},
			}},
		{name: "first supported format of a medium", sdp: sdpWith("m=audio 0 RTP/AVP 101 8", "a=rtpmap:101 telephone-event/8000"),
			want: []media.Track{{PayloadType: 8, Codec: media.CodecPCMA, ClockRate: 8000}}},
		{name: "SDP-08 camera session lines (no s= or t=, odd o=)", sdp: "v=0\no=cam 0x1A2B 1 IN IP4\nc=IN IP4 0.0.0.0\n" +
			"m=video 0 RTP/AVP/TCP 96\nc=IN IP4 0.0.0.0\nb=AS:5000\na=rtpmap:96 H264/90000",
			want: []media.Track{{PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000}}},
		{name: "no supported media", sdp: sdpWith("m=application 0 RTP/AVP 107", "a=rtpmap:107 vnd.onvif.metadata/90000"),
			wantErr: media.ErrNoSupportedMedia},
		{name: "no media", sdp: sdpWith(), wantErr: media.ErrMalformedSDP},
		{name: "RTSP-M-09 not sdp", sdp: "hello world\r\n", wantErr: media.ErrMalformedSDP},
		{name: "unsupported media only", sdp: sdpWith("m=video 0 RTP/AVP 34", "a=rtpmap:34 H263/90000"), wantErr: media.ErrNoSupportedMedia},
		{name: "SEC-12 too many media", sdp: sdpWith(strings.Repeat("m=audio 0 RTP/AVP 0\n", 9)), wantErr: media.ErrSDPLimit},
		{name: "SEC-12 media limit configurable", sdp: sdpWith("m=audio 0 RTP/AVP 0", "m=audio 0 RTP/AVP 8"),
			lim: media.SDPLimits{MaxMedia: 1}, wantErr: media.ErrSDPLimit},
		{name: "SEC-12 attribute too long", sdp: sdpWith("m=video 0 RTP/AVP 96", "a=rtpmap:96 H264/90000",
			"a=fmtp:96 sprop-parameter-sets="+strings.Repeat("A", 5000)), wantErr: media.ErrSDPLimit},
	}
}

func TestTracksFromSDP(t *testing.T) {
	t.Parallel()
	for _, tc := range sdpCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.TracksFromSDP([]byte(tc.sdp), tc.lim)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("TracksFromSDP: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d tracks, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				compareTrack(t, i, got[i], &w)
			}
		})
	}
}

// compareTrack compares the fields that are set in want (and always Codec, PayloadType
// and Control).
func compareTrack(t *testing.T, i int, g, w *media.Track) {
	t.Helper()
	if g.Codec != w.Codec || g.PayloadType != w.PayloadType || g.Control != w.Control {
		t.Errorf("track %d: %v pt %d control %q, want %v %d %q", i, g.Codec, g.PayloadType, g.Control, w.Codec, w.PayloadType, w.Control)
	}
	if w.ClockRate != 0 && g.ClockRate != w.ClockRate || w.Channels != 0 && g.Channels != w.Channels {
		t.Errorf("track %d: clock %d channels %d, want %d %d", i, g.ClockRate, g.Channels, w.ClockRate, w.Channels)
	}
	if !bytes.Equal(g.VPS, w.VPS) || !bytes.Equal(g.SPS, w.SPS) || !bytes.Equal(g.PPS, w.PPS) {
		t.Errorf("track %d: parameter sets % x / % x / % x", i, g.VPS, g.SPS, g.PPS)
	}
	if g.Width != w.Width || g.Height != w.Height {
		t.Errorf("track %d: size %dx%d, want %dx%d", i, g.Width, g.Height, w.Width, w.Height)
	}
	if w.Codec == media.CodecAAC && (!bytes.Equal(g.AudioConfig, w.AudioConfig) || g.SizeLength != w.SizeLength ||
		g.IndexLength != w.IndexLength || g.IndexDeltaLength != w.IndexDeltaLength) {
		t.Errorf("track %d: aac %+v", i, g)
	}
}

// hostileVPS is the sprop-vps of issue 9, defect 1: a VPS whose vps_extension_flag is set
// and whose extension carries huge counts. mp4ff v0.56.0 hevc.ParseVPSNALUnit loops over
// them appending ProfileTierLevel and RepFormat values after its reader has run dry, which
// took camvault serve to "fatal error: out of memory" within 3 s.
var hostileVPS = mustHex("40010c01ffff0408000003009e0800000300003c95980b7020200040000003004000000642")

// hostileVPSSDP is the media section of the defect-1 ANNOUNCE, with usable SPS and PPS.
func hostileVPSSDP() string {
	return sdpWith("m=video 0 RTP/AVP 96", "a=rtpmap:96 H265/90000",
		"a=fmtp:96 sprop-vps="+b64(hostileVPS)+"; sprop-sps="+b64(h265SPS)+"; sprop-pps="+b64(h265PPS))
}

// TestTracksFromSDPHostileVPS is the regression test of issue 9, defect 1: the SDP must parse
// within the allocation bound of its size, and the VPS must be dropped (it is multi-layer
// syntax that camvault refuses) while the SPS and PPS are kept. Not parallel: the
// allocation counter is process-wide. Before the fix it exhausted memory.
func TestTracksFromSDPHostileVPS(t *testing.T) {
	sdp := []byte(hostileVPSSDP())
	var tracks []*media.Track
	var err error
	alloctest.Check(t, parseAlloc, len(sdp), func() { tracks, err = media.TracksFromSDP(sdp, media.SDPLimits{}) })
	if err != nil {
		t.Fatal(err)
	}
	compareTrack(t, 0, tracks[0], &media.Track{PayloadType: 96, Codec: media.CodecH265, ClockRate: 90000,
		SPS: h265SPS, PPS: h265PPS, Width: 320, Height: 240})
	if tracks[0].Ready() {
		t.Error("track ready without a VPS")
	}
}

func TestTracksFromSDPH265DONLRejected(t *testing.T) {
	t.Parallel()
	tracks, err := media.TracksFromSDP([]byte(sdpWith("m=video 0 RTP/AVP 98", "a=rtpmap:98 H265/90000",
		"a=fmtp:98 sprop-max-don-diff=2")), media.SDPLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := media.NewDepacketizer(tracks[0], media.Limits{}, func(media.Unit) {}); !errors.Is(err, media.ErrUnsupportedCodec) {
		t.Errorf("PL-H265-04: NewDepacketizer err = %v, want ErrUnsupportedCodec", err)
	}
}

// FuzzTracksFromSDP checks that no description panics, that parsing stays within the
// allocation bound parseAlloc and that a successful parse respects the limits.
// Corpus: testdata/fuzz/FuzzTracksFromSDP/issue9-defect1-vps is the defect-1 ANNOUNCE body
// (an H.265 VPS whose extension drove mp4ff out of memory), fixed by the bounded checks of
// paramset.go. Crashers found by fuzzing: none so far.
func FuzzTracksFromSDP(f *testing.F) {
	for _, tc := range sdpCases() {
		f.Add([]byte(tc.sdp))
	}
	f.Add([]byte(hostileVPSSDP()))
	f.Fuzz(func(t *testing.T, b []byte) {
		alloctest.Check(t, parseAlloc, len(b), func() {
			lim := media.SDPLimits{MaxMedia: 4, MaxAttrBytes: 512}
			tracks, err := media.TracksFromSDP(b, lim)
			if err != nil {
				return
			}
			if len(tracks) == 0 || len(tracks) > lim.MaxMedia {
				t.Fatalf("%d tracks", len(tracks))
			}
			for _, tr := range tracks {
				if len(tr.SPS) > lim.MaxAttrBytes || len(tr.PPS) > lim.MaxAttrBytes || len(tr.VPS) > lim.MaxAttrBytes {
					t.Fatalf("parameter set beyond the attribute limit")
				}
				if tr.Ready() && tr.Codec != media.CodecMJPEG {
					if _, err := media.InitSegment([]*media.Track{tr}); err != nil {
						t.Fatalf("ready track %v: InitSegment: %v", tr.Codec, err)
					}
				}
			}
		})
	})
}

package media

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
)

// defaultSessionName is the s= value when SDPOptions.SessionName is empty.
const defaultSessionName = "camvault"

// SDPOptions are the session-level parts of a description written by [MarshalSDP].
type SDPOptions struct {
	// SessionName is the s= value. Defaults to "camvault".
	SessionName string
	// Ranges are session-level a=range values in order (SDP-05), for example
	// "npt=0-3600.000" and "clock=20261125T101500Z-20261125T111500Z". None if empty.
	Ranges []string
	// MediaRange, when set, is an a=range value written in every m= section
	// too, after its a=control (RFC 2326 App. C.1.5 allows both levels).
	MediaRange string
	// ONVIF adds a=x-onvif-track:<ref> to every medium (ONVIF-03): VIDEO001, VIDEO002, ...
	// for video and AUDIO001, ... for audio, numbered per kind in track order.
	ONVIF bool
}

// MarshalSDP writes a DESCRIBE answer for tracks (RTSP.md SDP-02..07), CRLF line ends:
//
//	v=0
//	o=- 0 0 IN IP4 127.0.0.1
//	s=<SessionName>
//	c=IN IP4 0.0.0.0
//	t=0 0
//	a=control:*
//	a=range:<each of Ranges>
//	m=<video|audio> 0 RTP/AVP <pt>      per track, in order
//	a=control:<Control>
//	a=range:<MediaRange>                when set
//	a=rtpmap:<pt> <encoding>/<clock>[/<channels>]
//	a=fmtp:<pt> <codec parameters>      when the codec has any
//	a=framesize:<pt> <w>-<h>            MJPEG with a known size
//	a=x-onvif-track:<ref>               with ONVIF
//	a=recvonly
//
// fmtp per codec: H.264 packetization-mode=1, profile-level-id (SPS bytes 1..3) and
// sprop-parameter-sets (PL-H264-01); H.265 sprop-vps/sps/pps (PL-H265-01); AAC
// mpeg4-generic with streamtype=5, profile-level-id=1, the track's AU-header layout
// (13/3/3 AAC-hbr when unset, AAC-lbr for 6/2/2) and config (PL-AAC-01); Opus always
// opus/48000/2, sprop-stereo=1 for 2 channels (PL-OPUS-01). PCMU, PCMA and JPEG have no
// fmtp. The payload type is the track's. Tracks with CodecUnknown are skipped. A track
// without Control gets "trackID=<index in tracks>" (SDP-07). CR and LF in SessionName,
// Ranges, MediaRange and Control are dropped so that no value can add a line.
//
// TracksFromSDP of the result gives back the tracks, except the MJPEG size (a=framesize
// is not read) and a mono Opus channel count (opus is always /2).
func MarshalSDP(tracks []*Track, opts SDPOptions) []byte {
	var w sdpWriter
	name := opts.SessionName
	if name == "" {
		name = defaultSessionName
	}
	w.line("v=0")
	w.line("o=- 0 0 IN IP4 127.0.0.1")
	w.line("s=", name)
	w.line("c=IN IP4 0.0.0.0")
	w.line("t=0 0")
	w.line("a=control:*")
	for _, r := range opts.Ranges {
		w.line("a=range:", r)
	}
	var video, audio int
	for i, t := range tracks {
		if t.Codec == CodecUnknown {
			continue
		}
		ref := ""
		if opts.ONVIF {
			if t.IsVideo() {
				video++
				ref = onvifTrackRef("VIDEO", video)
			} else {
				audio++
				ref = onvifTrackRef("AUDIO", audio)
			}
		}
		w.media(t, i, ref, opts.MediaRange)
	}
	return w.b
}

// onvifTrackRef returns an ONVIF TrackReference such as "VIDEO001".
func onvifTrackRef(kind string, n int) string {
	s := strconv.Itoa(n)
	if len(s) < 3 {
		s = strings.Repeat("0", 3-len(s)) + s
	}
	return kind + s
}

// sdpWriter appends CRLF-terminated SDP lines.
type sdpWriter struct {
	b []byte
}

// line appends the concatenated parts, without CR or LF, and CRLF.
func (w *sdpWriter) line(parts ...string) {
	for _, p := range parts {
		for i := range len(p) {
			if c := p[i]; c != '\r' && c != '\n' {
				w.b = append(w.b, c)
			}
		}
	}
	w.b = append(w.b, '\r', '\n')
}

// media appends the m= section of track t, which is tracks[index], with the
// a=range mediaRange when it is not "".
func (w *sdpWriter) media(t *Track, index int, onvifRef, mediaRange string) {
	kind := "audio"
	if t.IsVideo() {
		kind = "video"
	}
	pt := strconv.Itoa(int(t.PayloadType))
	control := t.Control
	if control == "" {
		control = "trackID=" + strconv.Itoa(index)
	}
	w.line("m=", kind, " 0 RTP/AVP ", pt)
	w.line("a=control:", control)
	if mediaRange != "" {
		w.line("a=range:", mediaRange)
	}
	w.line("a=rtpmap:", pt, " ", sdpRTPMap(t))
	if f := sdpFMTP(t); f != "" {
		w.line("a=fmtp:", pt, " ", f)
	}
	if t.Codec == CodecMJPEG && t.Width > 0 && t.Height > 0 {
		w.line("a=framesize:", pt, " ", strconv.Itoa(t.Width), "-", strconv.Itoa(t.Height))
	}
	if onvifRef != "" {
		w.line("a=x-onvif-track:", onvifRef)
	}
	w.line("a=recvonly")
}

// sdpRTPMap returns the a=rtpmap value after the payload type (SDP-03).
func sdpRTPMap(t *Track) string {
	clock := strconv.FormatUint(uint64(t.ClockRate), 10)
	channels := ""
	if t.Channels > 1 {
		channels = "/" + strconv.Itoa(int(t.Channels))
	}
	switch t.Codec {
	case CodecH264:
		return "H264/" + clock
	case CodecH265:
		return "H265/" + clock
	case CodecAAC:
		return "MPEG4-GENERIC/" + clock + "/" + strconv.Itoa(int(max(t.Channels, 1)))
	case CodecOpus:
		return "opus/48000/2"
	case CodecPCMU:
		return "PCMU/" + clock + channels
	case CodecPCMA:
		return "PCMA/" + clock + channels
	case CodecMJPEG:
		return "JPEG/" + clock
	}
	return ""
}

// sdpFMTP returns the a=fmtp value after the payload type, "" if the codec has none.
func sdpFMTP(t *Track) string {
	switch t.Codec {
	case CodecH264:
		return h264FMTP(t)
	case CodecH265:
		return joinFMTP(
			b64Param("sprop-vps", t.VPS),
			b64Param("sprop-sps", t.SPS),
			b64Param("sprop-pps", t.PPS))
	case CodecAAC:
		return aacFMTP(t)
	case CodecOpus:
		if t.Channels == 2 {
			return "sprop-stereo=1"
		}
	}
	return ""
}

// h264FMTP returns the H.264 parameters (RFC 6184 §8.1, PL-H264-01).
func h264FMTP(t *Track) string {
	profile := ""
	if len(t.SPS) >= 4 {
		profile = "profile-level-id=" + strings.ToUpper(hex.EncodeToString(t.SPS[1:4]))
	}
	var sets []string
	for _, ps := range [][]byte{t.SPS, t.PPS} {
		if len(ps) > 0 {
			sets = append(sets, base64.StdEncoding.EncodeToString(ps))
		}
	}
	sprop := ""
	if len(sets) > 0 {
		sprop = "sprop-parameter-sets=" + strings.Join(sets, ",")
	}
	return joinFMTP("packetization-mode=1", profile, sprop)
}

// aacFMTP returns the mpeg4-generic parameters (RFC 3640 §4.1, PL-AAC-01).
func aacFMTP(t *Track) string {
	size, index, delta := t.SizeLength, t.IndexLength, t.IndexDeltaLength
	if size == 0 {
		size, index, delta = 13, 3, 3
	}
	mode := "AAC-hbr"
	if size == 6 && index == 2 && delta == 2 {
		mode = "AAC-lbr"
	}
	config := ""
	if len(t.AudioConfig) > 0 {
		config = "config=" + strings.ToUpper(hex.EncodeToString(t.AudioConfig))
	}
	return joinFMTP("streamtype=5", "profile-level-id=1", "mode="+mode,
		"sizelength="+strconv.Itoa(size), "indexlength="+strconv.Itoa(index),
		"indexdeltalength="+strconv.Itoa(delta), config)
}

// b64Param returns "name=<base64 of b>", or "" when b is empty.
func b64Param(name string, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return name + "=" + base64.StdEncoding.EncodeToString(b)
}

// joinFMTP joins the non-empty parameters with "; " (SDP-04).
func joinFMTP(params ...string) string {
	var b strings.Builder
	for _, p := range params {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

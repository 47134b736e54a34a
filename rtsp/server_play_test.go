package rtsp_test

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// describe sends DESCRIBE as the reference clients do and checks the
// answer (RTSP-M-05/07, RTSP-URL-01).
func (c *client) describe(url string) *base.Response {
	c.t.Helper()
	return c.describeAt(url, strings.TrimRight(url, "/")+"/")
}

// describeAt is describe for a URL whose Content-Base is contentBase.
func (c *client) describeAt(url, contentBase string) *base.Response {
	c.t.Helper()
	resp := c.Do("DESCRIBE", url, []string{"Accept: application/sdp"}, "")
	rtsptest.ExpectStatus(c.t, resp, 200)
	if got, want := resp.Header.Get("Content-Base"), contentBase; got != want {
		c.t.Fatalf("Content-Base %q, want %q", got, want)
	}
	if resp.Header.Get("Content-Type") != "application/sdp" || string(resp.Body) != archiveSDP {
		c.t.Fatalf("DESCRIBE answer %q %q", resp.Header.Get("Content-Type"), resp.Body)
	}
	if resp.Header.Has("Session") {
		c.t.Fatal("DESCRIBE answer carries Session (RTSP-M-07)")
	}
	return resp
}

// setupPlayTCP sets up the two tracks over TCP at the given URLs and
// returns the session id.
func (c *client) setupPlayTCP(urls ...string) string {
	c.t.Helper()
	id := ""
	for i, u := range urls {
		hdr := []string{fmt.Sprintf("Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d", 2*i, 2*i+1)}
		if id != "" {
			hdr = append(hdr, "Session: "+id)
		}
		resp := c.Do("SETUP", u, hdr, "")
		rtsptest.ExpectStatus(c.t, resp, 200)
		want := fmt.Sprintf("RTP/AVP/TCP;unicast;interleaved=%d-%d;ssrc=%08X", 2*i, 2*i+1, 0x4F2A91C3+i)
		if got := resp.Header.Get("Transport"); got != want {
			c.t.Fatalf("Transport %q, want %q", got, want)
		}
		id = rtsptest.SessionID(c.t, resp)
	}
	return id
}

// rtpInfo is the RTP-Info the fake presentation yields for two streams.
func rtpInfo(url0, url1 string) string {
	return "url=" + url0 + ";seq=27811;rtptime=3450012312,url=" + url1 + ";seq=1204;rtptime=98112334"
}

// checkFrames checks burst frames per stream on channels 0 and 2, in
// sending order.
func checkFrames(t *testing.T, frames []rtsptest.Message, burst int) {
	t.Helper()
	if len(frames) != 2*burst {
		t.Fatalf("%d frames, want %d", len(frames), 2*burst)
	}
	for i, f := range frames {
		stream, n := i%2, i/2
		if int(f.Channel) != 2*stream || f.Payload[12] != byte(stream) || f.Payload[13] != byte(n) || len(f.Payload) != 1400 {
			t.Fatalf("frame %d: channel %d payload %x", i, f.Channel, f.Payload[:14])
		}
	}
}

// TestFFmpegPlayTCP replays ffmpeg playing an archive window over TCP:
// the control appended to the Content-Base, after the query (App. B #2),
// PLAY on the Content-Base with npt Range,
// RTP-Info byte for byte, media only after the PLAY response (RTSP-M-24),
// RTCP RR on the odd channel, PAUSE, resume, TEARDOWN.
func TestFFmpegPlayTCP(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	url := c.URL + "/archive/cam1?start=1764065700"
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", url, []string{"User-Agent: Lavf61.1.100"}, ""), 200)
	base := c.URL + "/archive/cam1/?start=1764065700"
	c.describeAt(url, base)
	dr := h.describeReqs()[0]
	if dr.Path != "archive/cam1" || dr.Query != "start=1764065700" || dr.URL != url || !dr.Peer.Addr().IsLoopback() {
		t.Fatalf("describe request %+v", dr)
	}
	u0, u1 := base+"/trackID=0", base+"/trackID=1"
	id := c.setupPlayTCP(u0, u1)
	p := h.presentation(t, 0)
	resp, early := c.Request("PLAY", base, []string{"Range: npt=0.000-", "Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if len(early) != 0 {
		t.Fatalf("%d frames before the PLAY response (RTSP-M-24)", len(early))
	}
	for k, v := range map[string]string{"Session": id, "Range": "npt=0.000-3600.000", "RTP-Info": rtpInfo(u0, u1)} {
		if got := resp.Header.Get(k); got != v {
			t.Fatalf("%s: %q\nwant %q", k, got, v)
		}
	}
	if pr := p.lastPlay(t); !reflect.DeepEqual(pr.Streams, []int{0, 1}) || !pr.RateControl || pr.Scale != 0 || pr.CSeq != uint32(c.CSeq) {
		t.Fatalf("play request %+v", pr)
	}
	checkFrames(t, c.Frames(6), 3)
	if err := p.lastPlay(t).Out.WriteRTCP(1, []byte(rtcpSR)); err != nil { // e.g. BYE at the end (RTSP-M-26)
		t.Fatal(err)
	}
	if f := c.Frames(1)[0]; f.Channel != 3 || string(f.Payload) != rtcpSR {
		t.Fatalf("RTCP frame on channel %d: %q", f.Channel, f.Payload)
	}
	c.Write(rtsptest.Frame(1, rtcpSR)) // RR on the odd channel refreshes (RTSP-SES-05)
	rtsptest.ExpectStatus(t, c.Do("GET_PARAMETER", base, []string{"Session: " + id}, ""), 200)
	resp, _ = c.Request("PAUSE", base, []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if resp.Header.Get("Range") != "npt=42.000-" {
		t.Fatalf("PAUSE Range %q", resp.Header.Get("Range"))
	}
	rtsptest.ExpectStatus(t, c.Do("PAUSE", base, []string{"Session: " + id}, ""), 200) // no-op in Ready
	resp, _ = c.Request("PLAY", base, []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if pr := p.lastPlay(t); pr.Range != nil {
		t.Fatalf("resume with Range %+v", pr.Range)
	}
	c.Frames(6)
	resp, _ = c.Request("TEARDOWN", base, []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if reason := p.waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("reason %v", reason)
	}
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200)
}

// TestSetupOutsidePresentation: a SETUP names a stream of a presentation
// or is refused (issue 12). GStreamer 1.22 resolved trackID=0 against the
// Content-Base camvault used to send, …/archive/cam1?start=T/, to
// …/archive/trackID=0, which SETUP accepted without looking at the path.
// Outside a session that path is no presentation (404); in a session a
// path outside its presentation is 404 Not In Presentation. The RFC 3986
// resolution of the Content-Base sent now is a stream of the presentation.
func TestSetupOutsidePresentation(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.describeAt(c.URL+"/archive/cam1?start=1764065700", c.URL+"/archive/cam1/?start=1764065700")
	tcp := "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"
	rtsptest.ExpectStatus(t, c.Do("SETUP", c.URL+"/archive/trackID=0", []string{tcp}, ""), 404)
	resp := c.Do("SETUP", c.URL+"/archive/cam1/trackID=0", []string{tcp}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	id := rtsptest.SessionID(t, resp)
	for _, u := range []string{c.URL + "/archive/trackID=1", c.URL + "/archive/cam2/trackID=1", c.URL + "/trackID=1"} {
		resp = c.Do("SETUP", u, []string{"Transport: RTP/AVP/TCP;unicast;interleaved=2-3", "Session: " + id}, "")
		if resp.StatusCode != 404 || resp.Reason != "Not In Presentation" {
			t.Errorf("SETUP %s in the session of archive/cam1: %d %q, want 404 Not In Presentation", u, resp.StatusCode, resp.Reason)
		}
	}
	rtsptest.ExpectStatus(t, c.Do("SETUP", c.URL+"/archive/cam1/trackID=1", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=2-3", "Session: " + id}, ""), 200)
}

// TestGStreamerPlayTCP: GStreamer up to 1.20 puts the control before the
// query (RTSP-URL-02), 1.22 resolves it against the Content-Base by RFC
// 3986, dropping the query; PLAY on the Content-Base; server-chosen channels, ONVIF replay headers echoed and a clock Range
// (ONVIF-04..08), SET_PARAMETER keepalive (A.3), PLAY in Playing is a seek.
func TestGStreamerPlayTCP(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	base := c.URL + "/archive/cam1/?start=1764065700&end=1764069300"
	c.describeAt(c.URL+"/archive/cam1?start=1764065700&end=1764069300", base)
	u0, u1 := c.URL+"/archive/cam1/trackID=0?start=1764065700&end=1764069300", c.URL+"/archive/cam1/trackID=1"
	onvif := "Require: onvif-replay"
	resp := c.Do("SETUP", u0, []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1", onvif}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	id := rtsptest.SessionID(t, resp)
	resp = c.Do("SETUP", u1, []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1", onvif, "Session: " + id}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	if got := resp.Header.Get("Transport"); got != "RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=4F2A91C4" {
		t.Fatalf("Transport %q (RTSP-TR-12)", got)
	}
	resp, early := c.Request("PLAY", base, []string{"Session: " + id, onvif,
		"Range: clock=20251125T101500Z-20251125T111500Z", "Rate-Control: no", "Frames: Intra/500", "Scale: 2", "Immediate: yes"})
	rtsptest.ExpectStatus(t, resp, 200)
	if len(early) != 0 {
		t.Fatal("frames before the PLAY response")
	}
	want := map[string]string{"Range": "clock=20251125T101500Z-20251125T111500Z", "Scale": "2.0", "Rate-Control": "no",
		"Frames": "intra/500", "RTP-Info": rtpInfo(u0, u1)}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Fatalf("%s: %q, want %q", k, got, v)
		}
	}
	pr := h.presentation(t, 0).lastPlay(t)
	if pr.RateControl || !pr.Immediate || pr.Frames != "intra/500" || pr.Scale != 2 || !reflect.DeepEqual(pr.Require, []string{"onvif-replay"}) {
		t.Fatalf("play request %+v", pr)
	}
	checkFrames(t, c.Frames(6), 3)
	rtsptest.ExpectStatus(t, c.Do("SET_PARAMETER", base, []string{"Session: " + id, onvif}, ""), 200)
	// RTSP-M-25: a Range in Playing seeks at once.
	resp, _ = c.Request("PLAY", base, []string{"Session: " + id, "Range: npt=120-"})
	rtsptest.ExpectStatus(t, resp, 200)
	if resp.Header.Get("Range") != "npt=120.000-3600.000" {
		t.Fatalf("seek Range %q", resp.Header.Get("Range"))
	}
	c.Frames(6)
}

// TestVLCPlayUDP replays Appendix A.2: DESCRIBE, two UDP SETUPs, PLAY on
// the base URL, media from the shared pair to client_port and
// client_port+1, seek by PAUSE + PLAY, TEARDOWN.
func TestVLCPlayUDP(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	base := c.URL + "/archive/cam1"
	ua := "User-Agent: LibVLC/3.0.20 (LIVE555 Streaming Media v2016.11.28)"
	resp := c.Do("OPTIONS", base, []string{ua}, "")
	if !strings.Contains(resp.Header.Get("Public"), "GET_PARAMETER") {
		t.Fatal("Public without GET_PARAMETER (RTSP-M-03)")
	}
	c.describe(base)
	srvRTP, srvRTCP := srv.UDPAddrs()
	peers := []udpPeer{newUDPPeer(t), newUDPPeer(t)}
	id := ""
	for i, p := range peers {
		hdr := []string{ua, fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d", port(p.rtp), port(p.rtcp))}
		if id != "" {
			hdr = append(hdr, "Session: "+id)
		}
		resp := c.Do("SETUP", fmt.Sprintf("%s/trackID=%d", base, i), hdr, "")
		rtsptest.ExpectStatus(t, resp, 200)
		want := fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d;server_port=%d-%d;ssrc=%08X", port(p.rtp), port(p.rtcp),
			srvRTP.(*net.UDPAddr).Port, srvRTCP.(*net.UDPAddr).Port, 0x4F2A91C3+i)
		if got := resp.Header.Get("Transport"); got != want {
			t.Fatalf("Transport %q\nwant %q", got, want)
		}
		if got := resp.Header.Get("Session"); !strings.HasSuffix(got, ";timeout=60") {
			t.Fatalf("Session %q", got)
		}
		id = rtsptest.SessionID(t, resp)
	}
	resp = c.Do("PLAY", base+"/", []string{ua, "Session: " + id, "Range: npt=0.000-"}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	if got, want := resp.Header.Get("RTP-Info"), rtpInfo(base+"/trackID=0", base+"/trackID=1"); got != want {
		t.Fatalf("RTP-Info %q\nwant %q", got, want)
	}
	if resp.Header.Get("Range") != "npt=0.000-3600.000" || rtsptest.SessionID(t, resp) != id {
		t.Fatalf("PLAY answer %v", resp.Header)
	}
	for i, p := range peers {
		for n := range 3 {
			b, from := readUDP(t, p.rtp)
			if from.Port != srvRTP.(*net.UDPAddr).Port || b[12] != byte(i) || b[13] != byte(n) {
				t.Fatalf("stream %d packet %d from %v: %x", i, n, from, b[:14])
			}
		}
	}
	pr := h.presentation(t, 0)
	if err := pr.lastPlay(t).Out.WriteRTCP(1, []byte(rtcpSR)); err != nil {
		t.Fatal(err)
	}
	if b, from := readUDP(t, peers[1].rtcp); string(b) != rtcpSR || from.Port != srvRTCP.(*net.UDPAddr).Port {
		t.Fatalf("RTCP %q from %v", b, from)
	}
	rtsptest.ExpectStatus(t, c.Do("PAUSE", base+"/", []string{"Session: " + id}, ""), 200)
	resp = c.Do("PLAY", base+"/", []string{"Session: " + id, "Range: npt=120.000-"}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	if resp.Header.Get("Range") != "npt=120.000-3600.000" {
		t.Fatalf("Range %q", resp.Header.Get("Range"))
	}
	out := pr.lastPlay(t).Out
	rtsptest.ExpectStatus(t, c.Do("TEARDOWN", base+"/", []string{"Session: " + id}, ""), 200)
	if reason := pr.waitClosed(t); !errors.Is(reason, rtsp.ErrTeardown) {
		t.Fatalf("reason %v", reason)
	}
	if err := out.WriteRTP(0, []byte(rtpPacket)); !errors.Is(err, rtsp.ErrSessionClosed) {
		t.Fatalf("WriteRTP after TEARDOWN: %v", err)
	}
}

func readUDP(t *testing.T, pc *net.UDPConn) ([]byte, *net.UDPAddr) {
	t.Helper()
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, from, err := pc.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n], from
}

// TestSetupWithoutDescribe: a SETUP no DESCRIBE covered calls Describe
// with the control stripped, in every client spelling (RTSP-URL-02).
func TestSetupWithoutDescribe(t *testing.T) {
	for _, tc := range []struct{ name, setup, query string }{
		{"ffmpeg after query", "/archive/cam1?start=1/trackID=0", "start=1"},
		{"GStreamer before query", "/archive/cam1/trackID=0?start=1", "start=1"},
		{"VLC base/control", "/archive/cam1/trackID=0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := ffmpegHandler()
			srv := startServer(t, rtsp.Config{Handler: h})
			c := dial(t, srv)
			resp := c.Do("SETUP", c.URL+tc.setup, []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, "")
			rtsptest.ExpectStatus(t, resp, 200)
			dr := h.describeReqs()
			if len(dr) != 1 || dr[0].Path != "archive/cam1" || dr[0].Query != tc.query {
				t.Fatalf("describe requests %+v", dr)
			}
			// The second track finds the same presentation.
			second := strings.Replace(tc.setup, "trackID=0", "trackID=1", 1)
			rtsptest.ExpectStatus(t, c.Do("SETUP", c.URL+second, []string{"Transport: RTP/AVP/TCP;unicast", "Session: " + rtsptest.SessionID(t, resp)}, ""), 200)
			if len(h.describeReqs()) != 1 {
				t.Fatal("described twice")
			}
		})
	}
}

// TestDescribeLifecycle: a newer DESCRIBE of the same URL closes the older
// unused presentation; unused ones close with the connection; one taken
// by a session is closed by its TEARDOWN only.
func TestDescribeLifecycle(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	c.describe(c.URL + "/archive/cam1")
	c.describe(c.URL + "/archive/cam1/")
	if !h.presentation(t, 0).isClosed() {
		t.Fatal("replaced presentation not closed")
	}
	c.describe(c.URL + "/archive/cam2")
	resp := c.Do("SETUP", c.URL+"/archive/cam1/trackID=0", []string{"Transport: RTP/AVP/TCP;unicast"}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	// RTSP-M-16: a SETUP of another presentation into this session.
	rtsptest.ExpectStatus(t, c.Do("SETUP", c.URL+"/archive/cam2/trackID=0", []string{"Transport: RTP/AVP/TCP;unicast", "Session: " + rtsptest.SessionID(t, resp)}, ""), 459)
	c.Conn.Close()
	for i := 1; i <= 2; i++ { // the session's and the unused one
		if reason := h.presentation(t, i).waitClosed(t); !errors.Is(reason, rtsp.ErrConnClosed) {
			t.Fatalf("presentation %d: %v", i, reason)
		}
	}
}

// TestPlayStatusCodes covers the refusals of the play side.
func TestPlayStatusCodes(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	arch := "/archive/cam1"
	ready := func(c *client) string {
		c.describe(c.URL + arch)
		return c.setupPlayTCP(c.URL+arch+"/trackID=0", c.URL+arch+"/trackID=1")
	}
	playing := func(c *client) string {
		id := ready(c)
		resp, _ := c.Request("PLAY", c.URL+arch, []string{"Session: " + id})
		rtsptest.ExpectStatus(c.t, resp, 200)
		return id
	}
	gap := func(c *client) string {
		c.describe(c.URL + "/archive/gap")
		resp := c.Do("SETUP", c.URL+"/archive/gap/trackID=0", []string{"Transport: RTP/AVP/TCP;unicast"}, "")
		return rtsptest.SessionID(c.t, resp)
	}
	tcp := "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"
	backchannel := "Require: www.onvif.org/ver20/backchannel"
	cases := []struct {
		name    string
		prep    func(c *client) string
		method  string
		path    string
		headers []string
		status  int
		check   map[string]string
	}{
		{"RTSP-M-06 Accept without sdp 406", nil, "DESCRIBE", arch, []string{"Accept: text/html, application/json"}, 406, nil},
		{"RTSP-M-06 Accept */* 200", nil, "DESCRIBE", arch, []string{"Accept: text/html, */*;q=0.1"}, 200, map[string]string{"Content-Base": "$U" + arch + "/"}},
		{"RTSP-URL-01 one trailing slash", nil, "DESCRIBE", arch + "//", nil, 200, map[string]string{"Content-Base": "$U" + arch + "/"}},
		{"RTSP-M-07 unknown path 404", nil, "DESCRIBE", "/cam1", nil, 404, nil},
		{"SEC-04 encoded slash 400", nil, "DESCRIBE", "/archive%2Fcam1", nil, 400, nil},
		{"RTSP-OPT-02 DESCRIBE backchannel 551", nil, "DESCRIBE", arch, []string{backchannel, "Require: onvif-replay"}, 551,
			map[string]string{"Unsupported": "www.onvif.org/ver20/backchannel"}},
		{"ONVIF-01 DESCRIBE onvif-replay 200", nil, "DESCRIBE", arch, []string{"Require: onvif-replay"}, 200, nil},
		{"RTSP-OPT-02 SETUP backchannel 551", nil, "SETUP", arch + "/trackID=0", []string{tcp, "Proxy-Require: " + "www.onvif.org/ver20/backchannel"}, 551,
			map[string]string{"Unsupported": "www.onvif.org/ver20/backchannel"}},
		{"RTSP-OPT-02 PLAY backchannel 551", ready, "PLAY", arch, []string{"Session: $S", backchannel}, 551, map[string]string{"Unsupported": "www.onvif.org/ver20/backchannel"}},
		{"RTSP-OPT-02 PAUSE backchannel 551", playing, "PAUSE", arch, []string{"Session: $S", backchannel}, 551, nil},
		{"RTSP-OPT-02 TEARDOWN backchannel 551", ready, "TEARDOWN", arch, []string{"Session: $S", backchannel}, 551, nil},
		{"RTSP-OPT-01 onvif-replay on a push URL 551", nil, "OPTIONS", "/cam1", []string{"Require: onvif-replay"}, 551, map[string]string{"Unsupported": "onvif-replay"}},
		{"RTSP-TR-06 multicast 461", nil, "SETUP", arch + "/trackID=0", []string{"Transport: RTP/AVP;multicast"}, 461, nil},
		{"RTSP-TR-09 UDP without client_port 461", nil, "SETUP", arch + "/trackID=0", []string{"Transport: RTP/AVP;unicast"}, 461, nil},
		{"RTSP-M-17 SETUP aggregate of two tracks 459", nil, "SETUP", arch, []string{tcp}, 459, nil},
		{"RTSP-M-17 SETUP aggregate of one track 200", nil, "SETUP", "/archive/single", []string{tcp}, 200, nil},
		{"SETUP unknown track 404", nil, "SETUP", arch + "/trackID=9", []string{tcp}, 404, nil},
		{"RTSP-M-16 SETUP in Playing 455", playing, "SETUP", arch + "/trackID=0", []string{tcp, "Session: $S"}, 455, nil},
		{"RTSP-M-16 re-SETUP in Ready 200", ready, "SETUP", arch + "/trackID=0", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=6-7", "Session: $S"}, 200,
			map[string]string{"Transport": "RTP/AVP/TCP;unicast;interleaved=6-7;ssrc=4F2A91C3"}},
		{"RTSP-M-18 mode=record on a play session 455", ready, "SETUP", arch + "/trackID=0", []string{tcp + ";mode=record", "Session: $S"}, 455, nil},
		{"RTSP-M-21 PLAY unknown session 454", ready, "PLAY", arch, []string{"Session: 0123456789abcdef"}, 454, nil},
		{"RTSP-M-21 PLAY track URL of two streams 460", ready, "PLAY", arch + "/trackID=1", []string{"Session: $S"}, 460, nil},
		{"RTSP-M-27 PAUSE track URL 460", playing, "PAUSE", arch + "/trackID=0", []string{"Session: $S"}, 460, nil},
		{"RTSP-M-34 TEARDOWN track URL 460", ready, "TEARDOWN", arch + "/trackID=0", []string{"Session: $S"}, 460, nil},
		{"RTSP-M-40 RECORD on a play session 405", ready, "RECORD", arch, []string{"Session: $S"}, 405, nil},
		{"RTSP-RNG-05 457 from the presentation", gap, "PLAY", "/archive/gap", []string{"Session: $S"}, 457, nil},
		{"RTSP-RNG-13 Scale 0 400", ready, "PLAY", arch, []string{"Session: $S", "Scale: 0"}, 400, nil},
		{"Scale syntax 400", ready, "PLAY", arch, []string{"Session: $S", "Scale: fast"}, 400, nil},
		{"Speed negative 400", ready, "PLAY", arch, []string{"Session: $S", "Speed: -2"}, 400, nil},
		{"ONVIF-06 Rate-Control maybe 400", ready, "PLAY", arch, []string{"Session: $S", "Rate-Control: maybe"}, 400, nil},
		{"ONVIF-07 Frames predicted/100 400", ready, "PLAY", arch, []string{"Session: $S", "Frames: predicted/100"}, 400, nil},
		{"ONVIF-08 Immediate soon 400", ready, "PLAY", arch, []string{"Session: $S", "Immediate: soon"}, 400, nil},
		{"RTSP-RNG-02 Range syntax 400", ready, "PLAY", arch, []string{"Session: $S", "Range: npt=abc-"}, 400, nil},
		{"RTSP-RNG-02 Range unit 501", ready, "PLAY", arch, []string{"Session: $S", "Range: frames=1-"}, 501, nil},
		{"RTSP-RNG-14 Speed echoed when honoured", ready, "PLAY", arch, []string{"Session: $S", "Speed: 2.5", "Scale: -1"}, 200,
			map[string]string{"Scale": "-1.0", "Session": "$S"}},
		{"RTSP-M-27 PAUSE in Ready 200", ready, "PAUSE", arch, []string{"Session: $S"}, 200, map[string]string{"Session": "$S"}},
		{"RTSP-M-36 GET_PARAMETER on a play session", playing, "GET_PARAMETER", arch + "/", []string{"Session: $S", "Require: onvif-replay"}, 200, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, srv)
			id := ""
			if tc.prep != nil {
				id = tc.prep(c)
			}
			var hdr []string
			for _, x := range tc.headers {
				hdr = append(hdr, strings.ReplaceAll(x, "$S", id))
			}
			resp, _ := c.Request(tc.method, c.URL+tc.path, hdr)
			rtsptest.ExpectStatus(t, resp, tc.status)
			for k, v := range tc.check {
				v = strings.ReplaceAll(strings.ReplaceAll(v, "$S", id), "$U", c.URL)
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			resp, _ = c.Request("OPTIONS", "*", nil)
			rtsptest.ExpectStatus(t, resp, 200)
		})
	}
}

// TestUDPPlayRTCPKeepalive covers RTSP-SES-05 and CLI-16: VLC sends no
// RTSP keepalive while playing, only RTCP RR from client_port+1; that
// keeps the session; without it the session expires.
//
// The verdicts do not depend on this machine's speed. The server must keep a session
// whose RRs reach it less than SessionTimeout+SessionGrace apart; the test waits until the
// server counted each RR, and blames the server for an expiry only when no RR was counted
// later than that minus one reap interval after the one before it was sent (a machine
// that stalled the test longer proves nothing, and the round is played again). An expiry
// never comes sooner than the timeout after the last RR was sent.
func TestUDPPlayRTCPKeepalive(t *testing.T) {
	const timeout, grace = time.Second, 100 * time.Millisecond
	for round := 1; ; round++ {
		judged := udpPlayRTCPKeepalive(t, timeout, grace)
		if judged {
			return
		}
		if round == 3 {
			t.Fatal("three rounds stalled: the keepalive could not be judged")
		}
		t.Logf("round %d stalled for longer than the session timeout: playing it again", round)
	}
}

// udpPlayRTCPKeepalive plays one round of TestUDPPlayRTCPKeepalive; it reports false when
// the test stalled too long between two RRs for the server to be judged.
func udpPlayRTCPKeepalive(t *testing.T, timeout, grace time.Duration) (judged bool) {
	t.Helper()
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h, SessionTimeout: timeout, SessionGrace: grace})
	c := dial(t, srv)
	base := c.URL + "/archive/single"
	c.Do("DESCRIBE", base, nil, "")
	p := newUDPPeer(t)
	resp := c.Do("SETUP", base+"/trackID=0", []string{fmt.Sprintf("Transport: RTP/AVP;unicast;client_port=%d-%d", port(p.rtp), port(p.rtcp))}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	id := rtsptest.SessionID(t, resp)
	sent := time.Now() // when the last request or RR counted was sent: PLAY refreshes too
	rtsptest.ExpectStatus(t, c.Do("PLAY", base+"/", []string{"Session: " + id}, ""), 200)
	_, srvRTCP := srv.UDPAddrs()
	pres := h.presentation(t, 0)
	// The latest an RR may be counted after the RR or request before it was sent, for the
	// server to be bound to keep the session: it sees a new RR at its next reap.
	bound := timeout + grace - rtsp.ReapInterval(srv)
	start := time.Now()
	for n := uint64(1); time.Since(start) < 2*(timeout+grace); n++ {
		prevSent := sent
		sent = time.Now()
		sendUDP(t, p.rtcp, srvRTCP, "\x81\xc9\x00\x01rr")
		rtsptest.WaitFor(t, "the server counts the RR or ends the session", func() bool {
			got, ok := rtsp.SessionRTCP(srv, id)
			return got >= n || !ok || pres.isClosed()
		})
		stalled := time.Since(prevSent) > bound
		if pres.isClosed() {
			if stalled {
				return false
			}
			t.Fatalf("closed after %v despite an RTCP RR counted every %v at most", time.Since(start), bound)
		}
		if stalled {
			return false // the session may expire any moment: no verdict
		}
		time.Sleep(200 * time.Millisecond) // pacing: an RR every 200 ms, as a player sends them
	}
	if reason := pres.waitClosed(t); !errors.Is(reason, rtsp.ErrSessionTimeout) {
		t.Fatalf("reason %v", reason)
	}
	if d := time.Since(sent); d < timeout+grace {
		t.Fatalf("expired %v after the last RR was sent, before the timeout and grace", d)
	}
	return true
}

// TestPresentationEndsItself: a playing presentation that ends itself (a
// live camera stopped) ends its session only: the connection goes on and
// may play again; one that ends as a slow client takes its connection.
func TestPresentationEndsItself(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	arch := "/archive/cam1"
	play := func(c *client, i int) *fakePres {
		c.describe(c.URL + arch)
		id := c.setupPlayTCP(c.URL+arch+"/trackID=0", c.URL+arch+"/trackID=1")
		resp, frames := c.Request("PLAY", c.URL+arch, []string{"Session: " + id})
		rtsptest.ExpectStatus(t, resp, 200)
		c.Frames(6 - len(frames)) // the presentation's burst of three per stream
		return h.presentation(t, i)
	}
	c := dial(t, srv)
	gone := errors.New("camera stopped")
	p := play(c, 0)
	p.end(gone)
	if err := p.waitClosed(t); !errors.Is(err, gone) {
		t.Fatalf("Close(%v), want the presentation's own reason", err)
	}
	play(c, 1) // the same connection plays again
	h.presentation(t, 1).end(rtsp.ErrSlowClient)
	if err := h.presentation(t, 1).waitClosed(t); !errors.Is(err, rtsp.ErrSlowClient) {
		t.Fatalf("Close(%v)", err)
	}
	c.ExpectClosed()
}

// TestTeardownAfterEnd: a TEARDOWN that crosses the end of its session (a
// live camera stopped, as GStreamer sends on the BYE) is answered 200; a
// second one, and one for a session torn down already, get 454.
func TestTeardownAfterEnd(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h})
	c := dial(t, srv)
	u := c.URL + "/archive/cam1"
	id := c.playArchive(u)
	p := h.presentation(t, 0)
	p.end(errors.New("camera stopped"))
	p.waitClosed(t)
	for _, want := range []int{200, 454} {
		resp, _ := c.Request("TEARDOWN", u, []string{"Session: " + id})
		rtsptest.ExpectStatus(t, resp, want)
	}
	id = c.playArchive(u)
	for _, want := range []int{200, 454} {
		resp, _ := c.Request("TEARDOWN", u, []string{"Session: " + id})
		rtsptest.ExpectStatus(t, resp, want)
	}
}

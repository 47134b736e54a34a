package rtsp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/headers"
)

// clientStreamSeeds are camera byte streams after PLAY: RTP and RTCP
// frames, a keepalive response, a server request, bad and empty frames.
var clientStreamSeeds = [][]byte{
	append([]byte{'$', 0, 0, 16}, 0x80, 96, 0, 1, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0x65, 1, 2, 3),
	append([]byte{'$', 1, 0, 28}, 0x80, 200, 0, 6, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 16),
	[]byte("RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n$\x00\x00\x0c\x80\x60\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01"),
	[]byte("SET_PARAMETER rtsp://c/ RTSP/1.0\r\nCSeq: 9\r\n\r\n"),
	[]byte("REDIRECT rtsp://c/ RTSP/1.0\r\nCSeq: 1\r\nLocation: rtsp://d:8554/x\r\nRange: clock=19960213T143205Z-\r\n\r\n"),
	[]byte("REDIRECT rtsp://c/ RTSP/1.0\r\nCSeq: 2\r\nLocation: ftp://d/x\r\n\r\n$\x00\x00\x0c\x80\x60\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01"),
	[]byte("RTSP/1.0 401 Unauthorized\r\nCSeq: 6\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n\r\n"),
	{'$', 0, 0, 0, '$', 7, 0, 2, 1, 2, '$', 0, 0xff, 0xff},
	{'$', 0, 0, 2, 0x80, 200},
}

// FuzzClientStream feeds a playing client arbitrary camera bytes, as Run's
// reader does: no panic, every packet delivered is 1 to 65535 bytes of a
// stream that exists, and the statistics and receiver reports stay
// consistent, all within rtsptest.ParseAlloc. No crasher found so far.
func FuzzClientStream(f *testing.F) {
	for _, s := range clientStreamSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var packets int
		check := func(stream int, pkt []byte) {
			if stream != 0 || len(pkt) == 0 || len(pkt) > maxClientFrame {
				t.Fatalf("delivered %d bytes of stream %d", len(pkt), stream)
			}
		}
		cfg := ClientConfig{URL: "rtsp://127.0.0.1/x",
			OnRTP:  func(s int, p []byte) { check(s, p); packets++ },
			OnRTCP: check}.WithDefaults()
		nc := discardConn{}
		c := &Client{cfg: cfg, log: cfg.Logger, nc: nc, src: &clientSource{nc: nc},
			streams: []*clientStream{{clockRate: 90000, channels: &headers.PortPair{RTP: 0, RTCP: 1}}}}
		c.br = bufio.NewReaderSize(bytes.NewReader(in), cfg.ReadBufferSize)
		c.routeChannels()
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() {
			for range 256 {
				if _, err := c.readNext(); err != nil {
					break
				}
			}
		})
		if st := c.Stats(); st.Packets != uint64(packets) {
			t.Fatalf("stats count %d packets, OnRTP got %d", st.Packets, packets)
		}
		rr := receiverReport(&c.streams[0].stats, 1, "camvault-x", time.Now())
		if len(rr)%4 != 0 || int(binary.BigEndian.Uint16(rr[2:])+1)*4 > len(rr) {
			t.Fatalf("bad receiver report % x", rr)
		}
	})
}

// FuzzScanSDP checks that the client's SDP scan never panics and returns
// usable clock rates within rtsptest.ParseAlloc. No crasher found so far.
func FuzzScanSDP(f *testing.F) {
	f.Add([]byte("v=0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n"))
	f.Add([]byte("m=audio 0 RTP/AVP 97\na=rtpmap:97 MPEG4-GENERIC/48000/2\na=control:rtsp://h/a\n"))
	f.Add([]byte("a=rtpmap:96 H264/0\r\nm=video\r\na=rtpmap:x\r\na=rtpmap:96 H264/99999999999\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var media []sdpMedia
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { _, media = scanSDP(in) })
		for _, m := range media {
			if m.clockRate == 0 {
				t.Fatalf("clock rate 0 in %+v", media)
			}
		}
	})
}

// FuzzParseClientSession checks that an accepted Session header gives an
// id that can be sent back as it is, within rtsptest.ParseAlloc. No crasher found
// so far.
func FuzzParseClientSession(f *testing.F) {
	for _, s := range []string{"12345678;timeout=60", " a!b ; timeout = x", ";", "", "a b;timeout=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var id string
		var timeout time.Duration
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { id, timeout, err = parseClientSession(in) })
		if err != nil {
			return
		}
		if id == "" || len(id) > headers.MaxSessionID || strings.ContainsAny(id, "; \t\r\n") || timeout < 0 {
			t.Fatalf("%q: id %q timeout %v", in, id, timeout)
		}
	})
}

// FuzzControlURL checks that track URL resolution never panics and that a
// fallback differs from the resolved URL, within rtsptest.ParseAlloc. No crasher
// found so far.
func FuzzControlURL(f *testing.F) {
	f.Add("rtsp://h/cam1", "trackID=0")
	f.Add("rtsp://h/live?ch=1", "/track1")
	f.Add("rtsp://h/", "rtsp://other/x")
	f.Add("%zz", "*")
	f.Fuzz(func(t *testing.T, base, control string) {
		var resolved, alt string
		alloctest.Check(t, rtsptest.ParseAlloc, len(base)+len(control), func() {
			resolved = resolveControl(base, control)
			alt = controlFallback(base, control, resolved)
		})
		if alt != "" && alt == resolved {
			t.Fatalf("fallback equals resolved %q", resolved)
		}
	})
}

// FuzzRedirectTarget checks the client's reading of a Location from a
// camera (a 301/302 answer, a REDIRECT request): no panic, and a target
// it accepts is an rtsp URL with a host and without userinfo that reads
// back the same, within rtsptest.ParseAlloc. No crasher found so far.
func FuzzRedirectTarget(f *testing.F) {
	f.Add("rtsp://h/cam1", "rtsp://node2:8554/cam1")
	f.Add("rtsp://h/live?ch=1", "/other?x=1#f")
	f.Add("rtsp://h/", "rtsp://u:p@[::1]:554/x")
	f.Add("rtsp://h/", "rtsps://h/x")
	f.Add("%zz", " ")
	f.Fuzz(func(t *testing.T, reqURL, location string) {
		var u *url.URL
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(reqURL)+len(location), func() { u, err = redirectTarget(reqURL, location) })
		if err != nil {
			if !errors.Is(err, ErrBadRedirect) {
				t.Fatalf("%q: error %v does not wrap ErrBadRedirect", location, err)
			}
			return
		}
		if u.Scheme != "rtsp" || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("%q: accepted %q", location, u)
		}
		if again, err := url.Parse(u.String()); err != nil || again.String() != u.String() {
			t.Fatalf("%q: %q does not read back (%v)", location, u, err)
		}
	})
}

// byeSeeds are compound RTCP packets with and without a BYE.
var byeSeeds = [][]byte{
	{0x80, 201, 0, 1, 0, 0, 0, 1, 0x81, 203, 0, 1, 0xde, 0xad, 0xbe, 0xef},
	{0x82, 203, 0, 3, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef, 3, 'e', 'n', 'd'},
	{0x81, 203, 0, 0},
	{0x9f, 203, 0, 1, 1, 2, 3, 4},
	{0x81, 203, 0xff, 0xff, 1, 2, 3, 4},
	{0x80, 200, 0, 6, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 16},
}

// FuzzByeFor: byeFor never panics or reads past a packet, and finds a BYE of 0xdeadbeef
// only in bytes that name it.
func FuzzByeFor(f *testing.F) {
	for _, s := range byeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if byeFor(pkt, 0xdeadbeef, false) && !bytes.Contains(pkt, []byte{0xde, 0xad, 0xbe, 0xef}) {
			t.Fatalf("a BYE of 0xdeadbeef found in % x", pkt)
		}
		if byeFor(pkt, 0xdeadbeef, false) && !byeFor(pkt, 0, true) {
			t.Fatalf("a BYE of 0xdeadbeef but none of any source in % x", pkt)
		}
	})
}

// TestByeFor: the sources a BYE names, inside compound packets.
func TestByeFor(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pkt       []byte
		any, mine bool
	}{
		{name: "rr then bye", pkt: byeSeeds[0], any: true, mine: true},
		{name: "two sources and a reason", pkt: byeSeeds[1], any: true, mine: true},
		{name: "no source", pkt: byeSeeds[2]},
		{name: "count past the length", pkt: byeSeeds[3], any: true},
		{name: "length past the packet", pkt: byeSeeds[4]},
		{name: "sender report", pkt: byeSeeds[5]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := byeFor(tc.pkt, 0, true); got != tc.any {
				t.Errorf("any source: %v, want %v", got, tc.any)
			}
			if got := byeFor(tc.pkt, 0xdeadbeef, false); got != tc.mine {
				t.Errorf("0xdeadbeef: %v, want %v", got, tc.mine)
			}
		})
	}
}

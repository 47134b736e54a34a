package playback_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/internal/rtspservertest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

// t0 is the wall-clock start of the test archive; frame i was captured at
// t0 + i*40ms and carries i in its slice payload.
var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

const (
	fps        = 25
	frameDur   = time.Second / fps
	archiveLen = 60 // seconds
)

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	testSPS = mustB64("Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=")
	testPPS = mustB64("aOvjyyLA")
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// writeArchive records frames [from, to) of the numbered test stream as
// camera's recording through the real recorder.
func writeArchive(t *testing.T, st *storage.Store, camera string, start time.Time, frames int) {
	t.Helper()
	clock := &fakeClock{now: start}
	r, err := recorder.New(recorder.Config{Now: clock.Now}, st)
	if err != nil {
		t.Fatal(err)
	}
	track := &media.Track{Control: "streamid=0", PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000,
		SPS: testSPS, PPS: testPPS, Width: 1280, Height: 720}
	rec, err := r.Open(camera, []*media.Track{track}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seq := uint16(0)
	for i := range frames {
		clock.now = start.Add(time.Duration(i) * frameDur)
		for _, p := range numberedFrame(i, &seq) {
			rec.WriteRTP(0, p)
		}
	}
	rec.Close()
	rec.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// numberedFrame returns the RTP packets of frame i of the test stream: a
// keyframe (with SPS and PPS) every second, the frame number in the slice.
func numberedFrame(i int, seq *uint16) [][]byte {
	ts := uint32(i * 3600)
	var out [][]byte
	send := func(marker bool, payload []byte) {
		*seq++
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: *seq, Timestamp: ts,
			SSRC: 1, Marker: marker}, Payload: payload}
		b, err := p.Marshal()
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	nal := []byte{0x41, 0x9a, byte(i >> 8), byte(i), 0x10, 0x20}
	if i%fps == 0 {
		nal[0] = 0x65
		send(false, testSPS)
		send(false, testPPS)
	}
	send(true, nal)
	return out
}

// handler routes archive DESCRIBEs to playback and refuses publishing.
type handler struct{ play *playback.Server }

func (h handler) Announce(context.Context, *rtsp.AnnounceRequest) (rtsp.Publication, error) {
	return nil, &base.Error{Status: 405, Reason: "test server does not record"}
}

func (h handler) Describe(ctx context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	return h.play.Describe(ctx, req)
}

// testServer runs a real RTSP server with playback over a 60 s archive of
// camera "cam" and, for gap tests, "gap": 10 s, a 20 s gap, 10 s.
func testServer(t *testing.T) string {
	t.Helper()
	st, err := storage.Open(storage.Config{Dir: t.TempDir(), Sync: storage.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	writeArchive(t, st, "cam", t0, archiveLen*fps)
	writeArchive(t, st, "gap", t0, 10*fps)
	writeArchive(t, st, "gap", t0.Add(30*time.Second), 10*fps)
	return serve(t, st)
}

// serve runs a real RTSP server with playback on st until the test ends,
// then closes st.
func serve(t *testing.T, st *storage.Store) string {
	t.Helper()
	play, err := playback.New(playback.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // registered first, so run after the server stopped
	srv := rtspservertest.Start(t, rtsp.Config{DisableUDP: true, Handler: handler{play}})
	return srv.Addr().String()
}

// client is the scripted player with the session it was given and what the tests of
// this package add.
type client struct {
	*rtsptest.Player
	t       *testing.T
	session string
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	return &client{Player: rtsptest.DialPlayer(t, addr), t: t}
}

func (c *client) url(path string) string { return c.URL + "/" + path }

// do sends a request, with the session once SETUP gave one and the header lines hdr
// ("Name: value"), and returns its response, skipping interleaved frames that arrive
// before it.
func (c *client) do(method, url string, hdr ...string) *base.Response {
	c.t.Helper()
	if c.session != "" {
		hdr = append([]string{"Session: " + c.session}, hdr...)
	}
	resp, _ := c.Request(method, url, hdr)
	if resp.Header.Get("Session") != "" {
		c.session = rtsptest.SessionID(c.t, resp)
	}
	return resp
}

// track returns the URL of control in the presentation d described, as RFC
// 3986 resolves it against the Content-Base (GStreamer).
func (c *client) track(d *base.Response, control string) string {
	c.t.Helper()
	cb, err := url.Parse(d.Header.Get("Content-Base"))
	if err != nil {
		c.t.Fatalf("Content-Base: %v", err)
	}
	return cb.ResolveReference(&url.URL{Path: control}).String()
}

// setup DESCRIBEs path and SETUPs its video track over TCP.
func (c *client) setup(path string, headers ...string) {
	c.t.Helper()
	d := c.do("DESCRIBE", c.url(path), append([]string{"Accept: application/sdp"}, headers...)...)
	if d.StatusCode != 200 {
		c.t.Fatalf("DESCRIBE %s: %d", path, d.StatusCode)
	}
	s := c.do("SETUP", c.track(d, "trackID=0"), append([]string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, headers...)...)
	if s.StatusCode != 200 {
		c.t.Fatalf("SETUP: %d", s.StatusCode)
	}
}

// received is one access unit as the client saw it.
type received struct {
	frame   int // number carried in the slice (-1 for parameter sets)
	key     bool
	seq     uint16
	ts      uint32
	ext     []byte // ONVIF extension body (12 bytes) of the AU's first packet
	arrived time.Time
}

// nextPacket reads the next interleaved frame: an RTCP compound packet
// (rtcp), or an RTP packet (p, and raw its bytes). A response, a broken RTP
// packet or nothing for rtsptest.Timeout fails the test.
func (c *client) nextPacket() (rtcp []byte, p *rtp.Packet, raw []byte) {
	c.t.Helper()
	m := c.Next()
	if m.Resp != nil {
		c.t.Fatalf("response %d while reading media", m.Resp.StatusCode)
	}
	if m.Channel%2 == 1 {
		return m.Payload, nil, nil
	}
	p = new(rtp.Packet)
	if err := p.Unmarshal(m.Payload); err != nil {
		c.t.Fatalf("RTP packet: %v", err)
	}
	return nil, p, m.Payload
}

// readAU reads packets until the end of the next access unit (marker bit), skipping
// RTCP; it reports bye after an RTCP BYE.
func (c *client) readAU() (au received, bye bool) {
	c.t.Helper()
	au = received{frame: -1}
	first := true
	for {
		rtcp, p, b := c.nextPacket()
		if p == nil {
			if hasBye(rtcp) {
				return au, true
			}
			continue
		}
		if first {
			au.seq, au.ts, au.arrived, first = p.SequenceNumber, p.Timestamp, time.Now(), false
			if p.Extension && p.ExtensionProfile == 0xABAC {
				au.ext = b[16:28]
			}
		}
		if n := len(p.Payload); n >= 4 && (p.Payload[0]&0x1f == 1 || p.Payload[0]&0x1f == 5) {
			au.frame = int(p.Payload[2])<<8 | int(p.Payload[3])
			au.key = p.Payload[0]&0x1f == 5
		}
		if p.Marker {
			return au, false
		}
	}
}

// mustAU reads the next access unit; an RTCP BYE before it fails the test.
func (c *client) mustAU() received {
	c.t.Helper()
	au, bye := c.readAU()
	if bye {
		c.t.Fatal("RTCP BYE before the access unit")
	}
	return au
}

// hasBye walks an RTCP compound packet (RTCP-01) and reports a BYE in it.
func hasBye(b []byte) bool {
	for len(b) >= 4 {
		if b[1] == 203 {
			return true
		}
		n := (int(binary.BigEndian.Uint16(b[2:4])) + 1) * 4
		if n > len(b) {
			return false
		}
		b = b[n:]
	}
	return false
}

// report is an RTCP sender report as the client saw it: the capture time it
// gives the RTP timestamp ts.
type report struct {
	ntp time.Time
	ts  uint32
}

// reportBefore reads up to the first RTP packet with sequence number seq
// (packets of an earlier play still in flight are skipped) and returns the
// last sender report that came before it and that packet's timestamp. No
// report before it fails the test. The rest of the packet's access unit is
// left unread.
func (c *client) reportBefore(seq uint16) (sr report, ts uint32) {
	c.t.Helper()
	seen := false
	for {
		rtcp, p, _ := c.nextPacket()
		if p == nil {
			if len(rtcp) >= 20 && rtcp[1] == 200 { // an SR leads its compound packet (RTCP-01)
				sr, seen = report{ntp: fmp4.NTPToTime(binary.BigEndian.Uint64(rtcp[8:16])), ts: binary.BigEndian.Uint32(rtcp[16:20])}, true
			}
			continue
		}
		if p.SequenceNumber != seq {
			continue
		}
		if !seen {
			c.t.Fatalf("RTP packet %d arrived before any sender report", seq)
		}
		return sr, p.Timestamp
	}
}

package playback_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/storage"
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
	srv, err := rtsp.NewServer(rtsp.Config{Address: "127.0.0.1:0", DisableUDP: true, Handler: handler{play}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
		st.Close()
	})
	return srv.Addr().String()
}

// client is a scripted RTSP player over one TCP connection.
type client struct {
	t       *testing.T
	addr    string
	c       net.Conn
	r       *bufio.Reader
	cseq    int
	session string
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, addr: addr, c: c, r: bufio.NewReaderSize(c, 1<<16)}
}

func (c *client) url(path string) string { return "rtsp://" + c.addr + "/" + path }

// response is a parsed RTSP response.
type response struct {
	status int
	phrase string
	header map[string]string
	body   string
}

// do sends a request and returns its response, skipping interleaved frames
// that arrive before it.
func (c *client) do(method, url string, headers ...string) response {
	c.t.Helper()
	c.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, c.cseq)
	if c.session != "" {
		fmt.Fprintf(&b, "Session: %s\r\n", c.session)
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		c.t.Fatal(err)
	}
	for {
		first, err := c.r.Peek(1)
		if err != nil {
			c.t.Fatalf("%s: %v", method, err)
		}
		if first[0] == '$' {
			if _, _, err := c.frame(); err != nil {
				c.t.Fatal(err)
			}
			continue
		}
		return c.readResponse(method)
	}
}

func (c *client) readResponse(method string) response {
	c.t.Helper()
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		c.t.Fatalf("%s: status line %q", method, line)
	}
	resp := response{header: map[string]string{}, phrase: strings.Join(f[2:], " ")}
	resp.status, _ = strconv.Atoi(f[1])
	for {
		h, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatal(err)
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		k, v, _ := strings.Cut(h, ":")
		resp.header[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	if n, _ := strconv.Atoi(resp.header["content-length"]); n > 0 {
		body := make([]byte, n)
		if _, err := io.ReadFull(c.r, body); err != nil {
			c.t.Fatal(err)
		}
		resp.body = string(body)
	}
	if s := resp.header["session"]; s != "" {
		c.session, _, _ = strings.Cut(s, ";")
	}
	return resp
}

// frame reads one interleaved frame.
func (c *client) frame() (int, []byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0] != '$' {
		return 0, nil, fmt.Errorf("expected an interleaved frame, got %q", h[0])
	}
	b := make([]byte, binary.BigEndian.Uint16(h[2:]))
	_, err := io.ReadFull(c.r, b)
	return int(h[1]), b, err
}

// setup DESCRIBEs path and SETUPs its video track over TCP.
func (c *client) setup(path string, headers ...string) {
	c.t.Helper()
	d := c.do("DESCRIBE", c.url(path), append([]string{"Accept: application/sdp"}, headers...)...)
	if d.status != 200 {
		c.t.Fatalf("DESCRIBE %s: %d", path, d.status)
	}
	base := d.header["content-base"]
	s := c.do("SETUP", base+"trackID=0", append([]string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, headers...)...)
	if s.status != 200 {
		c.t.Fatalf("SETUP: %d", s.status)
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

// readAU reads packets until the end of the next access unit (marker bit),
// skipping RTCP; it returns io.EOF after an RTCP BYE.
func (c *client) readAU(deadline time.Duration) (received, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(deadline))
	au := received{frame: -1}
	first := true
	for {
		ch, b, err := c.frame()
		if err != nil {
			return au, err
		}
		if ch%2 == 1 {
			if hasBye(b) {
				return au, io.EOF
			}
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(b); err != nil {
			return au, err
		}
		if first {
			au.seq, au.ts, au.arrived, first = p.SequenceNumber, p.Timestamp, time.Now(), false
			if p.Extension && p.ExtensionProfile == 0xABAC {
				au.ext = append([]byte(nil), b[16:28]...)
			}
		}
		if n := len(p.Payload); n >= 4 && (p.Payload[0]&0x1f == 1 || p.Payload[0]&0x1f == 5) {
			au.frame = int(p.Payload[2])<<8 | int(p.Payload[3])
			au.key = p.Payload[0]&0x1f == 5
		}
		if p.Marker {
			return au, nil
		}
	}
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

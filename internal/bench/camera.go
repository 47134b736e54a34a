package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// camera serves the bench clip as RTSP cameras for `bench pull`: each
// accepted connection is one camera that answers OPTIONS, DESCRIBE, SETUP
// (TCP interleaved or UDP) and PLAY, then sends the clip exactly as a
// `bench push` publisher does (sender.stream: one write per 20 ms tick over
// TCP, one datagram per packet over UDP), so that pulled and pushed cameras
// are measured with the same traffic. After the clip it stays silent until
// TEARDOWN or EOF. It notes when each camera was connected, described and
// played (timesOf), which bench live's on-demand phase reports.
type camera struct {
	ln    net.Listener
	sched *schedule
	t0    time.Time // camera k streams from t0 + ramp*k/n, or from PLAY if later
	ramp  time.Duration
	n     int
	ctx   context.Context // the bench's; stops streaming
	wg    sync.WaitGroup

	// mu guards conns, late, lastEnd, problems and times.
	mu       sync.Mutex
	conns    []net.Conn
	late     int
	lastEnd  time.Time // when the last stream started so far sends its last packet
	problems []string
	times    map[string]cameraTimes // by the URL described, without a trailing "/"
}

// cameraTimes is when a camera's connection was accepted, and when it was
// asked DESCRIBE and PLAY (zero until then).
type cameraTimes struct {
	accepted, describe, play time.Time
}

// startCamera listens on 127.0.0.1:0 and serves until close.
func startCamera(ctx context.Context, s *schedule, n int, t0 time.Time, ramp time.Duration) (*camera, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &camera{ln: ln, sched: s, t0: t0, ramp: ramp, n: n, ctx: ctx, times: map[string]cameraTimes{}}
	c.wg.Go(c.accept)
	return c, nil
}

// url is camera k's URL.
func (c *camera) url(k int) string {
	return fmt.Sprintf("rtsp://%s/cam-%03d", c.ln.Addr(), k)
}

func (c *camera) accept() {
	for k := 0; ; k++ {
		nc, err := c.ln.Accept()
		if err != nil {
			return
		}
		accepted := time.Now()
		c.mu.Lock()
		c.conns = append(c.conns, nc)
		c.mu.Unlock()
		c.wg.Go(func() { c.serve(nc, k, accepted) })
	}
}

// close stops listening, closes every connection and waits, and returns
// the streams that started after their slot and the failures.
func (c *camera) close() (late int, problems []string) {
	_ = c.ln.Close()
	c.mu.Lock()
	for _, nc := range c.conns {
		_ = nc.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
	return c.late, c.problems
}

func (c *camera) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// cameraConn is one connection to the camera: one camera k.
type cameraConn struct {
	*camera
	nc     net.Conn
	br     *bufio.Reader
	k      int
	s      sender
	rtcp   []*net.UDPConn // per stream, held open beside s.udp
	setups int
	skip   []byte
	times  cameraTimes
	url    string // described, without a trailing "/"
}

// serve answers one camera connection's requests until TEARDOWN or EOF.
func (c *camera) serve(nc net.Conn, k int, accepted time.Time) {
	defer nc.Close()
	cc := &cameraConn{camera: c, nc: nc, br: bufio.NewReaderSize(nc, readBufferSize), k: k,
		s: sender{sched: c.sched, tcp: nc}, times: cameraTimes{accepted: accepted}}
	var streaming sync.WaitGroup
	defer func() {
		streaming.Wait()
		closeUDP(cc.s.udp)
		closeUDP(cc.rtcp)
	}()
	for {
		var req base.Request
		if err := skipFrames(cc.br, &cc.skip); err != nil {
			return // EOF, or closed by close
		}
		if err := req.Unmarshal(cc.br, base.Limits{}); err != nil {
			return
		}
		at := time.Now()
		resp := cc.answer(&req)
		resp.Header.Set("CSeq", req.Header.Get("CSeq"))
		b, err := resp.Marshal()
		if err != nil {
			c.fail("camera %d: %v", k, err)
			return
		}
		if _, err := nc.Write(b); err != nil {
			return
		}
		switch {
		case req.Method == base.MethodDescribe:
			cc.url, cc.times.describe = strings.TrimSuffix(req.URL, "/"), at
			cc.noteTimes()
		case req.Method == base.MethodPlay && resp.StatusCode == base.StatusOK:
			cc.times.play = at
			cc.noteTimes()
			start := c.slot(k)
			streaming.Go(func() {
				if err := cc.s.stream(c.ctx, start); err != nil && c.ctx.Err() == nil {
					c.fail("camera %d: %v", k, err)
				}
			})
		case req.Method == base.MethodTeardown:
			return
		}
	}
}

// noteTimes records the connection's times under the URL it described.
func (cc *cameraConn) noteTimes() {
	if cc.url == "" {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.camera.times[cc.url] = cc.times
}

// timesOf returns the times of the last connection that described url.
func (c *camera) timesOf(url string) (cameraTimes, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.times[strings.TrimSuffix(url, "/")]
	return t, ok
}

// answer returns the response to one request.
func (cc *cameraConn) answer(req *base.Request) *base.Response {
	resp := &base.Response{StatusCode: base.StatusOK, Header: base.Header{}}
	switch req.Method {
	case base.MethodOptions:
		resp.Header.Set("Public", "OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN")
	case base.MethodDescribe:
		resp.Header.Set("Content-Base", req.URL+"/")
		resp.Header.Set("Content-Type", "application/sdp")
		resp.Body = cc.sched.sdp
	case base.MethodSetup:
		tr, status := cc.setup(req)
		resp.StatusCode = status
		if status == base.StatusOK {
			cc.setups++
			resp.Header.Set("Session", (&headers.Session{ID: "1", Timeout: 60 * time.Second}).Marshal())
			resp.Header.Set("Transport", tr.Marshal())
		}
	}
	return resp
}

// setup answers SETUP of the next stream: TCP echoes the interleaved
// channels, UDP connects a socket pair to the client's ports.
func (cc *cameraConn) setup(req *base.Request) (*headers.Transport, int) {
	tracks := cc.sched.clip.Tracks
	if cc.setups >= len(tracks) || !strings.HasSuffix(req.URL, "/"+tracks[cc.setups].Control) {
		return nil, base.StatusNotFound
	}
	var trs headers.Transports
	if err := trs.Unmarshal(req.Header.Get("Transport")); err != nil {
		return nil, base.StatusBadRequest
	}
	tr := trs[0]
	if tr.ClientPort == nil {
		return &tr, base.StatusOK
	}
	rtpConn, rtcpConn, err := listenUDPPair()
	if err != nil {
		return nil, base.StatusInternalServerError
	}
	cc.rtcp = append(cc.rtcp, rtcpConn)
	peer := cc.nc.RemoteAddr().(*net.TCPAddr)
	c, err := redialUDP(rtpConn, &net.UDPAddr{IP: peer.IP, Port: tr.ClientPort.RTP})
	if err != nil {
		return nil, base.StatusInternalServerError
	}
	cc.s.tcp = nil // media goes over UDP
	cc.s.udp = append(cc.s.udp, c)
	port := c.LocalAddr().(*net.UDPAddr).Port
	tr.ServerPort = &headers.PortPair{RTP: port, RTCP: port + 1}
	return &tr, base.StatusOK
}

// slot returns when camera k starts streaming: its place in the ramp, or
// now when PLAY came after it (counted as late).
func (c *camera) slot(k int) time.Time {
	start := c.t0.Add(c.ramp * time.Duration(k) / time.Duration(c.n))
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.After(start) {
		c.late++
		start = now
	}
	if end := start.Add(c.sched.clip.Duration); end.After(c.lastEnd) {
		c.lastEnd = end
	}
	return start
}

// streamsEnd returns when the last stream started so far ends: a late
// camera ends after the ramp's plan.
func (c *camera) streamsEnd() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastEnd
}

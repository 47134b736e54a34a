package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// benchCamera serves the bench clip as RTSP cameras for `bench pull`: each
// accepted connection is one camera that answers OPTIONS, DESCRIBE, SETUP
// (TCP interleaved or UDP) and PLAY, then sends the clip exactly as a
// `bench push` publisher does (benchPublisher.stream: one write per 20 ms
// tick over TCP, one datagram per packet over UDP), so that pulled and
// pushed cameras are measured with the same traffic. After the clip it
// stays silent until TEARDOWN or EOF.
type benchCamera struct {
	ln   net.Listener
	clip *benchClip
	t0   time.Time // camera k streams from t0 + ramp*k/n, or from PLAY if later
	ramp time.Duration
	n    int
	ctx  context.Context
	wg   sync.WaitGroup

	// mu guards conns, late and problems.
	mu       sync.Mutex
	conns    []net.Conn
	late     int
	problems []string
}

// startBenchCamera listens on 127.0.0.1:0 and serves until close.
func startBenchCamera(ctx context.Context, c *benchClip, n int, t0 time.Time, ramp time.Duration) (*benchCamera, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	bc := &benchCamera{ln: ln, clip: c, t0: t0, ramp: ramp, n: n, ctx: ctx}
	bc.wg.Go(bc.accept)
	return bc, nil
}

// url is camera k's URL.
func (bc *benchCamera) url(k int) string {
	return fmt.Sprintf("rtsp://%s/cam-%03d", bc.ln.Addr(), k)
}

func (bc *benchCamera) accept() {
	for k := 0; ; k++ {
		nc, err := bc.ln.Accept()
		if err != nil {
			return
		}
		bc.mu.Lock()
		bc.conns = append(bc.conns, nc)
		bc.mu.Unlock()
		bc.wg.Go(func() { bc.serve(nc, k) })
	}
}

// close stops listening, closes every connection and waits, and returns
// the streams that started after their slot and the failures.
func (bc *benchCamera) close() (late int, problems []string) {
	_ = bc.ln.Close()
	bc.mu.Lock()
	for _, nc := range bc.conns {
		_ = nc.Close()
	}
	bc.mu.Unlock()
	bc.wg.Wait()
	return bc.late, bc.problems
}

func (bc *benchCamera) fail(format string, args ...any) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	bc.problems = append(bc.problems, fmt.Sprintf(format, args...))
}

// serve answers one camera connection's requests until TEARDOWN or EOF.
func (bc *benchCamera) serve(nc net.Conn, k int) {
	defer nc.Close()
	p := &benchPublisher{conn: nc, r: newReader(nc), transport: "tcp", clip: bc.clip}
	var streaming sync.WaitGroup
	defer func() {
		streaming.Wait()
		for _, c := range append(p.udp, p.rtcp...) {
			_ = c.Close()
		}
	}()
	setups := 0
	for {
		method, uri, hdr, err := readBenchRequest(p.r)
		if err != nil {
			return // EOF, or closed by close
		}
		status, extra, body := 200, []string(nil), ""
		switch method {
		case "OPTIONS":
			extra = []string{"Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN"}
		case "DESCRIBE":
			extra, body = []string{"Content-Base: " + uri + "/", "Content-Type: application/sdp"}, string(bc.clip.sdp)
		case "SETUP":
			if status, extra = bc.setup(p, setups, uri, hdr["transport"]); status == 200 {
				setups++
			}
		}
		if err := writeBenchResponse(nc, status, hdr["cseq"], extra, body); err != nil {
			return
		}
		switch method {
		case "PLAY":
			start := bc.slot(k)
			streaming.Go(func() {
				if err := p.stream(bc.ctx, start); err != nil && bc.ctx.Err() == nil {
					bc.fail("camera %d: %v", k, err)
				}
			})
		case "TEARDOWN":
			return
		}
	}
}

// slot returns when camera k starts streaming: its place in the ramp, or
// now when PLAY came after it (counted as late).
func (bc *benchCamera) slot(k int) time.Time {
	start := bc.t0.Add(bc.ramp * time.Duration(k) / time.Duration(bc.n))
	if now := time.Now(); now.After(start) {
		bc.mu.Lock()
		bc.late++
		bc.mu.Unlock()
		return now
	}
	return start
}

// setup answers SETUP of stream i: TCP echoes the interleaved channels,
// UDP connects a socket pair to the client's ports.
func (bc *benchCamera) setup(p *benchPublisher, i int, uri, transport string) (int, []string) {
	if i >= len(bc.clip.tracks) || !strings.HasSuffix(uri, "/"+bc.clip.tracks[i].Control) {
		return 404, nil
	}
	session := "Session: 1;timeout=60"
	if !strings.Contains(transport, "client_port=") {
		return 200, []string{session, "Transport: " + transport}
	}
	p.transport = "udp"
	rtpConn, rtcpConn, err := listenUDPPair()
	if err != nil {
		return 500, nil
	}
	p.udp, p.rtcp = append(p.udp, rtpConn), append(p.rtcp, rtcpConn)
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	dst, err := strconv.Atoi(clientRTPPort(transport))
	if err != nil {
		return 400, nil
	}
	_ = rtpConn.Close()
	peer := p.conn.RemoteAddr().(*net.TCPAddr)
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, &net.UDPAddr{IP: peer.IP, Port: dst})
	if err != nil {
		return 500, nil
	}
	_ = c.SetWriteBuffer(1 << 20)
	p.udp[i] = c
	return 200, []string{session, fmt.Sprintf("Transport: %s;server_port=%d-%d", transport, port, port+1)}
}

// clientRTPPort returns the first port of client_port= in a Transport.
func clientRTPPort(transport string) string {
	for part := range strings.SplitSeq(transport, ";") {
		if v, ok := strings.CutPrefix(part, "client_port="); ok {
			rtp, _, _ := strings.Cut(v, "-")
			return rtp
		}
	}
	return ""
}

// readBenchRequest reads one request, skipping the client's interleaved
// RTCP; header names are lower-cased.
func readBenchRequest(r *bufio.Reader) (method, uri string, hdr map[string]string, err error) {
	for {
		b, err := r.Peek(4)
		if err != nil {
			return "", "", nil, err
		}
		if b[0] != '$' {
			break
		}
		if _, err := r.Discard(4 + int(binary.BigEndian.Uint16(b[2:]))); err != nil {
			return "", "", nil, err
		}
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", "", nil, err
	}
	f := strings.Fields(line)
	if len(f) != 3 {
		return "", "", nil, fmt.Errorf("bad request line %q", line)
	}
	hdr = map[string]string{}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", "", nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			hdr[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	if n, _ := strconv.Atoi(hdr["content-length"]); n > 0 {
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return "", "", nil, err
		}
	}
	return f[0], f[1], hdr, nil
}

// writeBenchResponse writes one response in one write.
func writeBenchResponse(w io.Writer, status int, cseq string, hdr []string, body string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "RTSP/1.0 %d %s\r\nCSeq: %s\r\n", status, benchReason(status), cseq)
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	_, err := io.WriteString(w, b.String())
	return err
}

func benchReason(status int) string {
	switch status {
	case 200:
		return "OK"
	case 404:
		return "Not Found"
	}
	return "Error"
}

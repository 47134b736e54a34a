package rtsptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// Player is a scripted RTSP client, playing or publishing: the test writes requests (or raw
// bytes) and reads responses and interleaved frames step by step. Its methods fail the test
// on an I/O or syntax error and must be called from the test goroutine.
type Player struct {
	// URL is the server's base URL, rtsp://host:port.
	URL string
	// Conn is the connection, for raw writes and closing.
	Conn net.Conn
	// Reader reads Conn, for raw reads.
	Reader *bufio.Reader
	// CSeq is the CSeq of the last request sent.
	CSeq int
	// ReadTimeout bounds each read, and the whole exchange of TryRequest. Zero means
	// Timeout.
	ReadTimeout time.Duration

	t   testing.TB
	buf []byte // frame buffer of Next, reused
}

// DialPlayer connects to addr (host:port) over TCP; the connection closes when the test ends.
func DialPlayer(t testing.TB, addr string) *Player {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return NewPlayer(t, nc, "rtsp://"+addr)
}

// NewPlayer plays over nc, a connection to the server at baseURL.
func NewPlayer(t testing.TB, nc net.Conn, baseURL string) *Player {
	return &Player{t: t, URL: baseURL, Conn: nc, Reader: bufio.NewReader(nc)}
}

// Write sends raw bytes.
func (p *Player) Write(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.Conn, s); err != nil {
		p.t.Fatal(err)
	}
}

// Read reads one response, failing the test after the read timeout.
func (p *Player) Read() *base.Response {
	p.t.Helper()
	p.setReadDeadline()
	resp, err := p.readResponse()
	if err != nil {
		p.t.Fatalf("read response: %v", err)
	}
	return resp
}

func (p *Player) readResponse() (*base.Response, error) {
	var resp base.Response
	if err := resp.Unmarshal(p.Reader, base.Limits{}); err != nil {
		return nil, err
	}
	return &resp, nil
}

// setReadDeadline bounds the reads that follow by ReadTimeout.
func (p *Player) setReadDeadline() {
	_ = p.Conn.SetReadDeadline(time.Now().Add(p.readTimeout()))
}

func (p *Player) readTimeout() time.Duration {
	if p.ReadTimeout > 0 {
		return p.ReadTimeout
	}
	return Timeout
}

// request returns a request with the next CSeq, the header lines hdr ("Name: value") and
// body.
func (p *Player) request(method, url string, hdr []string, body string) string {
	p.CSeq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, p.CSeq)
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	return b.String()
}

// send writes a request with the next CSeq, the header lines hdr ("Name: value") and body.
func (p *Player) send(method, url string, hdr []string, body string) {
	p.t.Helper()
	p.Write(p.request(method, url, hdr, body))
}

// checkCSeq fails the test unless resp echoes the CSeq of the last request (RTSP-MSG-05).
func (p *Player) checkCSeq(method string, resp *base.Response) {
	p.t.Helper()
	if got := resp.Header.Get("CSeq"); got != strconv.Itoa(p.CSeq) {
		p.t.Fatalf("%s: CSeq %q, want %d", method, got, p.CSeq)
	}
}

// Do sends method url with the header lines hdr ("Name: value") and body, and reads the
// response, which must come before any interleaved frame.
func (p *Player) Do(method, url string, hdr []string, body string) *base.Response {
	p.t.Helper()
	p.send(method, url, hdr, body)
	resp := p.Read()
	p.checkCSeq(method, resp)
	return resp
}

// TryRequest is Request with a body, for a peer the server may drop (an attacker, a
// flood): it returns the error of a write or read, or of a read timeout, instead of
// failing the test, discards the interleaved frames before the response and leaves its
// CSeq unchecked. The read timeout bounds the whole exchange.
func (p *Player) TryRequest(method, url string, hdr []string, body string) (*base.Response, error) {
	_ = p.Conn.SetDeadline(time.Now().Add(p.readTimeout()))
	if _, err := io.WriteString(p.Conn, p.request(method, url, hdr, body)); err != nil {
		return nil, err
	}
	for {
		m, err := p.next()
		if err != nil || m.Resp != nil {
			return m.Resp, err
		}
	}
}

// Message is one thing read from the server: a response, or an interleaved frame when Resp
// is nil.
type Message struct {
	Resp    *base.Response
	Channel byte
	Payload []byte
}

// Next reads a response or an interleaved frame (RTSP-MSG-09), failing the test after the
// read timeout.
func (p *Player) Next() Message {
	p.t.Helper()
	p.setReadDeadline()
	m, err := p.next()
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	return m
}

func (p *Player) next() (Message, error) {
	b, err := p.Reader.Peek(1)
	if err != nil {
		return Message{}, err
	}
	if b[0] != base.InterleavedMagic {
		resp, err := p.readResponse()
		return Message{Resp: resp}, err
	}
	if p.buf == nil {
		p.buf = make([]byte, 1<<16)
	}
	var f base.InterleavedFrame
	if err := f.Unmarshal(p.Reader, p.buf); err != nil {
		return Message{}, err
	}
	return Message{Channel: f.Channel, Payload: bytes.Clone(f.Payload)}, nil
}

// Request sends a request without body and returns its response and the interleaved
// frames that arrived before it.
func (p *Player) Request(method, url string, hdr []string) (*base.Response, []Message) {
	p.t.Helper()
	p.send(method, url, hdr, "")
	var frames []Message
	for {
		m := p.Next()
		if m.Resp != nil {
			p.checkCSeq(method, m.Resp)
			return m.Resp, frames
		}
		frames = append(frames, m)
	}
}

// Frames reads n interleaved frames; a response among them fails the test.
func (p *Player) Frames(n int) []Message {
	p.t.Helper()
	var out []Message
	for len(out) < n {
		m := p.Next()
		if m.Resp != nil {
			p.t.Fatalf("unexpected response %d", m.Resp.StatusCode)
		}
		out = append(out, m)
	}
	return out
}

// ExpectClosed fails the test unless the server closes the connection within the read
// timeout.
func (p *Player) ExpectClosed() {
	p.t.Helper()
	p.setReadDeadline()
	if _, err := p.Reader.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
		p.t.Fatalf("connection not closed: %v", err)
	}
}

// ExpectStatus fails t unless resp has status.
func ExpectStatus(t testing.TB, resp *base.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		b, _ := resp.Marshal()
		t.Fatalf("status %d, want %d\n%s", resp.StatusCode, status, b)
	}
}

// SessionID returns the id of the Session header of resp.
func SessionID(t testing.TB, resp *base.Response) string {
	t.Helper()
	var s headers.Session
	if err := s.Unmarshal(resp.Header.Get("Session")); err != nil {
		t.Fatalf("session header %q: %v", resp.Header.Get("Session"), err)
	}
	return s.ID
}

// Frame returns payload in an interleaved frame on channel ch, as raw bytes for Write.
func Frame(ch byte, payload string) string {
	f := base.InterleavedFrame{Channel: ch, Payload: []byte(payload)}
	b, err := f.Marshal()
	if err != nil {
		panic(err) // a payload over 64 KiB is a mistake in the test
	}
	return string(b)
}

package rtsptest

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tunnel is the client side of an RTSP-over-HTTP tunnel (RTSP-HT-01..04): a GET whose
// answer it reads and a POST whose body it writes. As a net.Conn (for NewPlayer), Read reads
// the GET's answer after its head and Write sends each call's bytes base64-encoded on the
// POST, as ffmpeg and GStreamer encode each message on its own.
type Tunnel struct {
	// Get and Post are the two connections; Post is nil until OpenPost.
	Get, Post net.Conn
	// Status and Header are the GET's answer.
	Status int
	Header textproto.MIMEHeader
	// GetReader reads Get after the answer's head.
	GetReader *bufio.Reader

	addr, target, cookie string
}

// DialTunnel opens the GET of a tunnel to addr for target ("/archive/cam") with cookie and
// the header lines hdr ("Name: value"), and reads its answer's head. The connections close
// when the test ends.
func DialTunnel(t testing.TB, addr, target, cookie string, hdr ...string) *Tunnel {
	t.Helper()
	nc := Dial(t, addr)
	tu := &Tunnel{Get: nc, GetReader: bufio.NewReader(nc), addr: addr, target: target, cookie: cookie}
	WriteString(t, nc, TunnelHead("GET", target, cookie, append([]string{"Accept: application/x-rtsp-tunnelled"}, hdr...)...))
	tu.Status, tu.Header = ReadHTTPHead(t, tu.GetReader)
	return tu
}

// OpenPost opens the tunnel's POST from a new connection to the same address with the
// header lines hdr, and writes body (base64 already, "" for none) right after its head, as
// live555 sends its first request.
func (tu *Tunnel) OpenPost(t testing.TB, body string, hdr ...string) {
	t.Helper()
	tu.Post = Dial(t, tu.addr)
	head := TunnelHead("POST", tu.target, tu.cookie, append([]string{"Content-Type: application/x-rtsp-tunnelled",
		"Content-Length: 32767", "Expires: Sun, 9 Jan 1972 00:00:00 GMT"}, hdr...)...)
	WriteString(t, tu.Post, head+body)
}

// TunnelHead returns the head of a tunnel request: method, target, the cookie and the
// header lines hdr.
func TunnelHead(method, target, cookie string, hdr ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.0\r\n", method, target)
	if cookie != "" {
		b.WriteString("x-sessioncookie: " + cookie + "\r\n")
	}
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Pragma: no-cache\r\nCache-Control: no-cache\r\n\r\n")
	return b.String()
}

// ReadHTTPHead reads the head of an HTTP answer: its status and header, within Timeout.
func ReadHTTPHead(t testing.TB, br *bufio.Reader) (int, textproto.MIMEHeader) {
	t.Helper()
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatalf("read http status line: %v", err)
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if err != nil || !strings.HasPrefix(proto, "HTTP/1.") {
		t.Fatalf("http status line %q", line)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("read http header: %v", err)
	}
	return status, h
}

// Dial connects to addr over TCP with a deadline of Timeout for the whole test's I/O unless
// changed; the connection closes when the test ends.
func Dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(Timeout))
	t.Cleanup(func() { _ = nc.Close() })
	return nc
}

// WriteString writes s to nc, failing the test on an error.
func WriteString(t testing.TB, nc net.Conn, s string) {
	t.Helper()
	if _, err := nc.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// Read reads the GET's answer body.
func (tu *Tunnel) Read(p []byte) (int, error) { return tu.GetReader.Read(p) }

// Write sends p base64-encoded on the POST.
func (tu *Tunnel) Write(p []byte) (int, error) {
	if _, err := tu.Post.Write([]byte(base64.StdEncoding.EncodeToString(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes both connections.
func (tu *Tunnel) Close() error {
	if tu.Post != nil {
		_ = tu.Post.Close() // the GET's error is the one that matters
	}
	return tu.Get.Close()
}

// LocalAddr returns the GET's local address.
func (tu *Tunnel) LocalAddr() net.Addr { return tu.Get.LocalAddr() }

// RemoteAddr returns the GET's remote address.
func (tu *Tunnel) RemoteAddr() net.Addr { return tu.Get.RemoteAddr() }

// SetDeadline sets the GET's read and the POST's write deadline.
func (tu *Tunnel) SetDeadline(d time.Time) error {
	_ = tu.SetWriteDeadline(d) // reported by the writes
	return tu.SetReadDeadline(d)
}

// SetReadDeadline bounds reads of the GET.
func (tu *Tunnel) SetReadDeadline(d time.Time) error { return tu.Get.SetReadDeadline(d) }

// SetWriteDeadline bounds writes to the POST.
func (tu *Tunnel) SetWriteDeadline(d time.Time) error {
	if tu.Post == nil {
		return nil
	}
	return tu.Post.SetWriteDeadline(d)
}

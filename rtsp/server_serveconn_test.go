package rtsp_test

import (
	"bufio"
	"errors"
	"net"
	"testing"

	"github.com/camvault/camvault/internal/rtspservertest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
)

// connPair returns both ends of a loopback TCP connection: the client's,
// and the one a server of another protocol (the HTTP API) accepted.
func connPair(t *testing.T) (client, accepted net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client = rtsptest.Dial(t, ln.Addr().String())
	if accepted, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	return client, accepted
}

// handOver plays the HTTP server: it reads a request head from the
// accepted end, then hands the connection to srv with the head (and what
// it buffered after it) as ConnOptions.Prefix.
func handOver(t *testing.T, srv *rtsp.Server, accepted net.Conn) {
	t.Helper()
	br := bufio.NewReader(accepted)
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			t.Fatal(err)
		}
		head = append(head, line...)
		if string(line) == "\r\n" {
			break
		}
	}
	rest, _ := br.Peek(br.Buffered())
	if err := srv.ServeConn(accepted, rtsp.ConnOptions{Prefix: append(head, rest...)}); err != nil {
		t.Fatal(err)
	}
}

// TestServeConnTunnel: a GET and a POST that another server accepted and
// read are served as if the RTSP port had accepted them.
func TestServeConnTunnel(t *testing.T) {
	srv := startServer(t, tunnelConfig(ffmpegHandler()))
	get, accepted := connPair(t)
	rtsptest.WriteString(t, get, rtsptest.TunnelHead("GET", "/archive/cam1", "handed", "Accept: application/x-rtsp-tunnelled"))
	handOver(t, srv, accepted)
	tu := &rtsptest.Tunnel{Get: get, GetReader: bufio.NewReader(get)}
	if status, _ := rtsptest.ReadHTTPHead(t, tu.GetReader); status != 200 {
		t.Fatalf("GET: %d", status)
	}
	post, accepted := connPair(t)
	rtsptest.WriteString(t, post, rtsptest.TunnelHead("POST", "/archive/cam1", "handed")+b64Options(srv.Addr().String())[:10])
	handOver(t, srv, accepted)
	rtsptest.WriteString(t, post, b64Options(srv.Addr().String())[10:])
	tu.Post = post
	p := rtsptest.NewPlayer(t, tu, "rtsp://"+srv.Addr().String())
	rtsptest.ExpectStatus(t, p.Read(), 200)
	if st := srv.Stats(); st.Connections != 2 {
		t.Fatalf("%d connections counted, want the GET and the POST", st.Connections)
	}
}

// TestServeConnWebSocket: a WebSocket's stream carries RTSP only: an HTTP
// head in it is a bad RTSP request, and media must stay in it (UDP 461).
func TestServeConnWebSocket(t *testing.T) {
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler()})
	client, accepted := connPair(t)
	if err := srv.ServeConn(accepted, rtsp.ConnOptions{WebSocket: true}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, client, "rtsp://"+srv.Addr().String())
	base := c.URL + "/archive/cam1"
	c.describe(base)
	rtsptest.ExpectStatus(t, c.Do("SETUP", base+"/trackID=0", []string{"Transport: RTP/AVP;unicast;client_port=5000-5001"}, ""), 461)
	c.setupPlayTCP(base+"/trackID=0", base+"/trackID=1")

	client, accepted = connPair(t)
	if err := srv.ServeConn(accepted, rtsp.ConnOptions{WebSocket: true}); err != nil {
		t.Fatal(err)
	}
	rtsptest.WriteString(t, client, rtsptest.TunnelHead("GET", "/", "x"))
	p := rtsptest.NewPlayer(t, client, "")
	rtsptest.ExpectStatus(t, p.Read(), 400)
	p.ExpectClosed()
}

// TestServeConnStopped: a server that does not run closes what it is
// handed and says so.
func TestServeConnStopped(t *testing.T) {
	srv, stop := rtspservertest.Run(t, rtsp.Config{Handler: ffmpegHandler()})
	stop()
	client, accepted := connPair(t)
	if err := srv.ServeConn(accepted, rtsp.ConnOptions{}); !errors.Is(err, rtsp.ErrServerClosed) {
		t.Fatalf("error %v, want ErrServerClosed", err)
	}
	rtsptest.NewPlayer(t, client, "").ExpectClosed()
	checkNoLeaks(t)
}

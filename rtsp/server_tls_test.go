package rtsp_test

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/internal/testcert"
	"github.com/camvault/camvault/rtsp"
)

// tlsConfig serves selfSigned.
func tlsConfig(t *testing.T) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{testcert.New(t, "camvault test")}}
}

// dialTLS connects to the RTSPS listener of srv.
func dialTLS(t *testing.T, srv *rtsp.Server, cfg *tls.Config) (*client, error) {
	t.Helper()
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", srv.TLSAddr().String(), cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { nc.Close() })
	return newClient(t, nc, "rtsps://"+srv.TLSAddr().String()), nil
}

// TestRTSPS covers SEC-08: a publisher records over RTSPS with its media
// interleaved in the TLS stream; UDP is refused there (media would travel
// in clear) while plain RTSP still offers it; TLS below 1.2 is refused.
func TestRTSPS(t *testing.T) {
	h := ffmpegHandler()
	srv := startServer(t, rtsp.Config{Handler: h, TLS: tlsConfig(t), TLSAddress: "127.0.0.1:0"})
	c, err := dialTLS(t, srv, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c.announce("cam1")
	rtsptest.ExpectStatus(t, c.Do("SETUP", c.URL+"/cam1/streamid=0", []string{"Transport: RTP/AVP;unicast;client_port=5000-5001;mode=record"}, ""), 461)
	id := c.setupTCP("cam1", "record")
	rtsptest.ExpectStatus(t, c.Do("RECORD", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	c.Write(rtsptest.Frame(0, rtpPacket))
	h.pub(0).waitPackets(t, 1)

	plain := dial(t, srv)
	plain.announce("cam2")
	plain.setupUDP(t, srv, "cam2", "record")

	if _, err := dialTLS(t, srv, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
}

// TestRTSPSOnly: with TLSOnly there is no plain listener and no UDP pair.
func TestRTSPSOnly(t *testing.T) {
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler(), TLS: tlsConfig(t), TLSAddress: "127.0.0.1:0", TLSOnly: true})
	if srv.Addr().String() != srv.TLSAddr().String() {
		t.Fatalf("Addr %v, TLSAddr %v", srv.Addr(), srv.TLSAddr())
	}
	if rtp, _ := srv.UDPAddrs(); rtp != nil {
		t.Fatal("UDP pair bound with TLSOnly")
	}
	c, err := dialTLS(t, srv, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200)
	if _, err := rtsp.NewServer(rtsp.Config{Handler: ffmpegHandler(), TLSOnly: true}); err == nil {
		t.Fatal("TLSOnly without TLS accepted")
	}
}

// TestRTSPSHandshakeTimeout: a client that connects and never says hello
// is closed after HandshakeTimeout (SEC-02).
func TestRTSPSHandshakeTimeout(t *testing.T) {
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler(), TLS: tlsConfig(t), TLSAddress: "127.0.0.1:0",
		HandshakeTimeout: 100 * time.Millisecond})
	nc, err := net.Dial("tcp", srv.TLSAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	newClient(t, nc, "").ExpectClosed()
}

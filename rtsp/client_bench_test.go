package rtsp_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// Burst shape of the client benchmarks: one video frame of a 3 Mbit/s
// 720p25 camera is about ten 1400-byte RTP packets.
const (
	benchBurstPackets = 10
	benchPacketSize   = 1400
	// benchWindow bounds the bursts in flight, so that UDP never overflows
	// the socket buffer and loses packets.
	benchWindow = 4
)

// benchBurst returns a burst of RTP packets of benchPacketSize bytes.
func benchBurst() [][]byte {
	pkts := make([][]byte, benchBurstPackets)
	for i := range pkts {
		pkts[i] = make([]byte, benchPacketSize)
		copy(pkts[i], rtsptest.RTP(0, 0))
	}
	return pkts
}

// benchCounter is the OnRTP of the benchmarks: it signals done once per
// burst, without allocating.
type benchCounter struct {
	n    int
	done chan struct{}
}

func (bc *benchCounter) onRTP(_ int, pkt []byte) {
	if len(pkt) != benchPacketSize {
		panic("short packet")
	}
	if bc.n++; bc.n%benchBurstPackets == 0 {
		bc.done <- struct{}{}
	}
}

// runBenchClient plays a camera over transport and measures the client's
// read → OnRTP path: each op is one burst of benchBurstPackets packets,
// sent by the camera with send (one write for TCP, one datagram per packet
// for UDP) and delivered to OnRTP.
func runBenchClient(b *testing.B, transport string) {
	cam := rtsptest.NewCamera(b)
	tokens := make(chan struct{}, 1<<20)
	stop := make(chan struct{})
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		u, err := benchHandshake(cc, transport)
		if err != nil {
			return err
		}
		defer u.close()
		send := benchSender(cc, u)
		for {
			select {
			case <-tokens:
				if err := send(); err != nil {
					return err
				}
			case <-stop:
				return untilTeardown(cc)
			}
		}
	})
	counter := &benchCounter{done: make(chan struct{}, benchWindow)}
	cfg := rtsp.ClientConfig{URL: cam.URL, Transport: transport, OnRTP: counter.onRTP}
	c, err := rtsp.Dial(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := make(chan error, 1)
	go func() { run <- c.Run(ctx) }()
	inFlight, timeout := 0, time.NewTimer(time.Hour)
	b.ReportAllocs()
	b.SetBytes(benchBurstPackets * benchPacketSize)
	start := time.Now()
	for b.Loop() {
		if inFlight == benchWindow {
			waitBurst(b, counter.done, timeout)
			inFlight--
		}
		tokens <- struct{}{}
		inFlight++
	}
	for ; inFlight > 0; inFlight-- {
		waitBurst(b, counter.done, timeout)
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*benchBurstPackets), "ns/packet")
	close(stop)
	cancel()
	<-run
	_ = c.Close()
	cam.Wait(b)
}

// waitBurst waits for one burst, failing after 5s; timeout is reused so
// that waiting allocates nothing.
func waitBurst(b *testing.B, done <-chan struct{}, timeout *time.Timer) {
	timeout.Reset(5 * time.Second)
	select {
	case <-done:
	case <-timeout.C:
		b.Fatal("burst not delivered")
	}
}

// benchCamUDP is the camera's UDP side: RTP is sent from rtp to dst.
type benchCamUDP struct {
	rtp, rtcp *net.UDPConn
	dst       netip.AddrPort
}

// benchHandshake answers OPTIONS, DESCRIBE, SETUP (one H.264 stream) and
// PLAY; for UDP it returns the camera's sockets.
func benchHandshake(cc *rtsptest.CameraConn, transport string) (*benchCamUDP, error) {
	const sdp = "v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n"
	var u *benchCamUDP
	for _, m := range []base.Method{base.MethodOptions, base.MethodDescribe, base.MethodSetup, base.MethodPlay} {
		req, err := cc.Expect(m)
		if err != nil {
			return nil, err
		}
		var hdr []string
		body := ""
		switch m {
		case base.MethodDescribe:
			body = sdp
		case base.MethodSetup:
			tr := req.Header.Get("Transport")
			if transport == "udp" {
				if u, err = benchListenUDP(tr); err != nil {
					return nil, err
				}
				tr += fmt.Sprintf(";server_port=%d-%d", u.rtp.LocalAddr().(*net.UDPAddr).Port, u.rtcp.LocalAddr().(*net.UDPAddr).Port)
			}
			hdr = []string{"Session", "1;timeout=60", "Transport", tr}
		}
		if err := cc.Reply(req, 200, body, hdr...); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// benchListenUDP opens the camera's sockets for a client Transport.
func benchListenUDP(tr string) (*benchCamUDP, error) {
	var t headers.Transport
	if err := t.Unmarshal(tr); err != nil || t.ClientPort == nil {
		return nil, fmt.Errorf("transport %q", tr)
	}
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	rtp, err := net.ListenUDP("udp", lo)
	if err != nil {
		return nil, err
	}
	rtcp, err := net.ListenUDP("udp", lo)
	if err != nil {
		_ = rtp.Close()
		return nil, err
	}
	return &benchCamUDP{rtp: rtp, rtcp: rtcp, dst: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(t.ClientPort.RTP))}, nil
}

func (u *benchCamUDP) close() {
	if u != nil {
		_ = u.rtp.Close()
		_ = u.rtcp.Close()
	}
}

// benchSender returns the camera's burst writer: all packets as one write
// of interleaved frames (TCP), or one datagram each (UDP). It allocates
// nothing per burst.
func benchSender(cc *rtsptest.CameraConn, u *benchCamUDP) func() error {
	var seq uint16
	pkts := benchBurst()
	if u != nil {
		return func() error {
			for _, p := range pkts {
				binary.BigEndian.PutUint16(p[2:], seq)
				seq++
				if _, err := u.rtp.WriteToUDPAddrPort(p, u.dst); err != nil {
					return err
				}
			}
			return nil
		}
	}
	var buf []byte
	for _, p := range pkts {
		buf = append(buf, '$', 0, byte(len(p)>>8), byte(len(p)))
		buf = append(buf, p...)
	}
	return func() error {
		for i := range pkts {
			binary.BigEndian.PutUint16(buf[i*(4+benchPacketSize)+4+2:], seq)
			seq++
		}
		_, err := cc.Conn.Write(buf)
		return err
	}
}

// BenchmarkClientReadTCP measures the client's interleaved read → OnRTP
// path over loopback TCP.
func BenchmarkClientReadTCP(b *testing.B) { runBenchClient(b, "tcp") }

// BenchmarkClientReadUDP measures the client's UDP read → OnRTP path over
// loopback.
func BenchmarkClientReadUDP(b *testing.B) { runBenchClient(b, "udp") }

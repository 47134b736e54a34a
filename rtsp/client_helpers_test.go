package rtsp_test

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// untilTeardown answers keepalives with 200 until TEARDOWN or EOF.
func untilTeardown(cc *rtsptest.CameraConn) error {
	_, err := cc.UntilTeardown()
	return err
}

// camSDP has a relative and an absolute control; %s is the absolute base.
const camSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\na=control:*\r\n" +
	"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n" +
	"m=audio 0 RTP/AVP 0\r\na=control:%s/abs1\r\n"

// playHandshake answers OPTIONS, DESCRIBE (camSDP under baseURL), SETUP
// per media (TCP) and PLAY, and returns the SETUP URLs.
func playHandshake(cc *rtsptest.CameraConn, baseURL string) ([]string, error) {
	setups, err := cc.Handshake(fmt.Sprintf(camSDP, baseURL), baseURL+"/", 2)
	return setupURLs(setups), err
}

// setupAndPlay answers n SETUP requests and PLAY, and returns the SETUP URLs.
func setupAndPlay(cc *rtsptest.CameraConn, n int) ([]string, error) {
	setups, err := cc.SetupAndPlay(n)
	return setupURLs(setups), err
}

func setupURLs(setups []*base.Request) []string {
	urls := make([]string, len(setups))
	for i, req := range setups {
		urls[i] = req.URL
	}
	return urls
}

// playUDP answers a UDP SETUP (which must not set mode=, CLI-22) with its
// Transport plus suffix, and PLAY; then a stranger at 127.0.0.2 sends an
// RTP packet that the client must drop (RTSP-TR-09, client side). It
// returns the client's RTP address.
func playUDP(cc *rtsptest.CameraConn, req *base.Request, suffix string) (*net.UDPAddr, error) {
	var tr headers.Transport
	if err := tr.Unmarshal(req.Header.Get("Transport")); err != nil || tr.ClientPort == nil || tr.Mode != headers.ModeUnset {
		return nil, fmt.Errorf("setup transport %q: %v", req.Header.Get("Transport"), err)
	}
	if err := cc.Reply(req, 200, "", "Session", "abc", "Transport", req.Header.Get("Transport")+suffix); err != nil {
		return nil, err
	}
	req, err := cc.Expect(base.MethodPlay)
	if err != nil {
		return nil, err
	}
	if err := cc.Reply(req, 200, ""); err != nil {
		return nil, err
	}
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tr.ClientPort.RTP}
	if stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}); err == nil {
		_, _ = stranger.WriteToUDP(rtsptest.RTP(99, 0), dst)
		_ = stranger.Close()
	}
	return dst, nil
}

// received collects the packets given to OnRTP.
type received struct {
	mu   sync.Mutex
	pkts []string // "stream:seq"
}

func (r *received) onRTP(stream int, pkt []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pkts = append(r.pkts, fmt.Sprintf("%d:%d", stream, int(pkt[2])<<8|int(pkt[3])))
}

func (r *received) get() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.pkts, " ")
}

// captureLogger returns a debug logger writing into a buffer.
func captureLogger() (*slog.Logger, *lockedBuffer) {
	var b lockedBuffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

// fastConfig has the shortest keepalive and report intervals that Validate accepts (1s), and
// timeouts long enough to outlast a few of them.
func fastConfig(url string) rtsp.ClientConfig {
	return rtsp.ClientConfig{
		URL: url, DialTimeout: time.Second, ResponseTimeout: time.Second,
		KeepaliveInterval: time.Second, ReceiverReportInterval: time.Second,
		MediaTimeout: 10 * time.Second,
	}
}

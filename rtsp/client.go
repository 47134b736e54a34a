package rtsp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/rtsp/base"
)

// Client defaults (RTSP.md §11.4).
const (
	DefaultClientDialTimeout            = 10 * time.Second
	DefaultClientResponseTimeout        = 10 * time.Second
	DefaultClientReceiverReportInterval = 5 * time.Second
	DefaultClientMediaTimeout           = 10 * time.Second
	DefaultClientReadBufferSize         = 128 << 10
	DefaultClientMaxRedirects           = 5
	// defaultSessionTimeout is assumed when Session has no timeout (CLI-24).
	defaultSessionTimeout = 60 * time.Second
	// maxKeepaliveInterval caps the derived keepalive interval (CLI-23).
	maxKeepaliveInterval = 30 * time.Second
	// teardownTimeout bounds the TEARDOWN write in Close.
	teardownTimeout = 2 * time.Second
	// minClientReadBuffer is the least ReadBufferSize: it holds the largest
	// interleaved frame ($, channel, 16-bit length, 65535 bytes) with room.
	minClientReadBuffer = 68 << 10
	// maxClientFrame is the largest interleaved frame payload (16-bit length)
	// and UDP datagram read.
	maxClientFrame = 0xffff
)

// Client errors. Errors returned by Dial and Run never contain credentials.
var (
	// ErrAuthFailed is returned when the camera refuses the credentials,
	// or asks for credentials that were not configured.
	ErrAuthFailed = errors.New("authentication failed")
	// ErrResponseTimeout is returned when a response does not arrive
	// within ClientConfig.ResponseTimeout.
	ErrResponseTimeout = errors.New("response timeout")
	// ErrClientClosed is returned by Run after Close.
	ErrClientClosed = errors.New("client closed")
	// ErrBye is returned by Run when the camera sent an RTCP BYE for a
	// stream's sender [3550 §6.6]: it ended the stream, so the session
	// ends (the caller reconnects as after any failure).
	ErrBye = errors.New("camera sent rtcp bye")
)

// ClientConfig configures a Client. The zero value of every field but URL
// is usable. The yaml tags are the keys of camvault's pull section, where
// one ClientConfig is the template of every pulled camera (package
// settings); the other fields are set per camera or shared with the server.
type ClientConfig struct {
	// URL is the camera's rtsp:// URL; it may carry user:password@.
	URL string `yaml:"-"`
	// Transport is "tcp" (interleaved, the default; CLI-22) or "udp": the
	// transport tried first. A camera that answers SETUP with 461
	// Unsupported Transport is set up over the other one (Client.Transport).
	Transport string `yaml:"-"`
	// Username and Password override the credentials of URL.
	Username, Password string `yaml:"-"`
	// DialTimeout bounds the TCP connect. Defaults to 10s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// ResponseTimeout bounds the wait for each response and each write.
	// Defaults to 10s.
	ResponseTimeout time.Duration `yaml:"response_timeout"`
	// KeepaliveInterval is the keepalive period; 0 means half the session
	// timeout, at most 30s (CLI-23).
	KeepaliveInterval time.Duration `yaml:"keepalive_interval"`
	// ReceiverReportInterval is the RTCP receiver report period per
	// stream. Defaults to 5s (RTCP-03).
	ReceiverReportInterval time.Duration `yaml:"receiver_report_interval"`
	// MediaTimeout ends Run when no RTP arrived for that long. Defaults to
	// 10s (CLI-24).
	MediaTimeout time.Duration `yaml:"-"`
	// ReadBufferSize is the connection's read buffer in bytes. Interleaved
	// frames are delivered from it without copying, so it holds at least
	// the largest frame: smaller values are raised to 68 KiB. A large one
	// takes a burst of packets in one read. Defaults to 128 KiB.
	ReadBufferSize int `yaml:"read_buffer" unit:"bytes"`
	// Limits bounds the responses read; zero fields take the defaults.
	Limits base.Limits `yaml:"-"`
	// MaxRedirects bounds the redirects followed in a row: the 301 and
	// 302 answers to OPTIONS, DESCRIBE, SETUP or PLAY (CLI-20) of one
	// Dial, and in Run the REDIRECT requests (RTSP-M-39) and the 3xx of
	// the handshakes they start, until an RTP packet arrives. Only rtsp://
	// targets are followed. Defaults to 5, at most 100; a negative value
	// follows none.
	MaxRedirects int `yaml:"-"`
	// RedirectCredentials sends the credentials to a redirect target on
	// another host or port than URL's. By default they are dropped there:
	// a target that asks for them fails with ErrAuthFailed. Credentials
	// in a Location are never used.
	RedirectCredentials bool `yaml:"-"`
	// OnRedirect, if set, is called on Run's goroutine each time a
	// REDIRECT request moved the client and it plays again at the new
	// location; SDP then returns the new description. It must not block.
	OnRedirect func(ClientRedirect) `yaml:"-"`
	// Logger receives lifecycle and per-request debug lines; nil discards.
	Logger *slog.Logger `yaml:"-"`
	// OnRTP and OnRTCP receive each packet of stream i (the index of its
	// m= line). They run on a reader goroutine and must not block; pkt is
	// valid only during the call. Either may be nil.
	OnRTP, OnRTCP func(stream int, pkt []byte) `yaml:"-"`
}

// LogValue logs the config without credentials.
func (c ClientConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", base.RedactURL(c.URL)), slog.String("transport", c.Transport))
}

// WithDefaults returns a copy of c with zero fields set to the defaults, as
// Dial applies them: Transport "tcp", a discarding Logger, and a
// ReadBufferSize of at least 68 KiB.
func (c ClientConfig) WithDefaults() ClientConfig {
	defaultStr(&c.Transport, "tcp")
	defaultNum(&c.DialTimeout, DefaultClientDialTimeout)
	defaultNum(&c.ResponseTimeout, DefaultClientResponseTimeout)
	defaultNum(&c.ReceiverReportInterval, DefaultClientReceiverReportInterval)
	defaultNum(&c.MediaTimeout, DefaultClientMediaTimeout)
	defaultNum(&c.ReadBufferSize, DefaultClientReadBufferSize)
	defaultNum(&c.MaxRedirects, DefaultClientMaxRedirects)
	c.ReadBufferSize = max(c.ReadBufferSize, minClientReadBuffer)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Limits = c.Limits.WithDefaults()
	return c
}

// DefaultClientConfig returns the default of every setting with a yaml tag.
func DefaultClientConfig() ClientConfig {
	c := ClientConfig{}.WithDefaults()
	c.Logger, c.Transport = nil, ""
	return c
}

// Validate checks the settings with a yaml tag, defaults applied, within
// the bounds an operator may set. Failures are *settings.FieldError. Dial
// fills the defaults and calls it, and checks the fields set per camera
// (URL, Transport) besides.
func (c *ClientConfig) Validate() error {
	var v settings.Check
	v.Duration("dial_timeout", c.DialTimeout, settings.MinTimeout, time.Hour)
	v.Duration("response_timeout", c.ResponseTimeout, settings.MinTimeout, time.Hour)
	if c.KeepaliveInterval != 0 { // 0: half the camera's session timeout
		v.Duration("keepalive_interval", c.KeepaliveInterval, time.Second, time.Hour)
	}
	v.Duration("receiver_report_interval", c.ReceiverReportInterval, time.Second, time.Minute)
	v.Bytes("read_buffer", int64(c.ReadBufferSize), minClientReadBuffer, 16<<20)
	return v.Err()
}

// checkCamera reports a URL, transport or media timeout that Dial cannot use.
func (c *ClientConfig) checkCamera() error {
	if c.Transport != "tcp" && c.Transport != "udp" {
		return fmt.Errorf("client config: transport %q: want tcp or udp", c.Transport)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "rtsp") || u.Host == "" {
		return fmt.Errorf("client config: url %q: want rtsp://host[:port]/path", base.RedactURL(c.URL))
	}
	if c.MediaTimeout < 0 {
		return errors.New("client config: negative media timeout")
	}
	if c.MaxRedirects > maxClientRedirects {
		return fmt.Errorf("client config: max redirects %d: at most %d", c.MaxRedirects, maxClientRedirects)
	}
	return nil
}

// Client is an RTSP 1.0 client that plays one camera stream (the puller
// side, RTSP.md §11.4). Dial connects and runs OPTIONS, DESCRIBE, SETUP
// and PLAY; Run reads media until it fails or ctx is done; Close tears
// down. Run and Close may be called from different goroutines.
type Client struct {
	cfg  ClientConfig
	log  *slog.Logger
	cred credentials // from ClientConfig or URL
	user string      // credentials sent to the current server (useCredentials)
	pass string
	url  *url.URL // the URL played now, without userinfo
	nc   net.Conn
	src  *clientSource // nc as br reads it
	br   *bufio.Reader

	// routes maps interleaved channels to streams; set after SETUP, read
	// by the goroutine reading nc.
	routes [256]clientRoute

	sdp       []byte
	transport string // "tcp" or "udp": ClientConfig.Transport until a 461
	control   string // aggregate URL: PLAY, keepalives, TEARDOWN
	streams   []*clientStream
	public    string // Public header of the OPTIONS response
	timeout   time.Duration

	// wmu serialises writes to nc and guards cseq, session and auth.
	wmu     sync.Mutex
	cseq    int
	session string
	auth    *clientAuth

	// mu guards closed, runDone, runStop, rx and the stats of every
	// stream.
	mu      sync.Mutex
	closed  bool
	runDone chan struct{}
	runStop context.CancelFunc // ends a running Run (Close)
	rx      ClientStats
}

// Dial connects to cfg.URL and starts playing: OPTIONS, DESCRIBE
// (authenticating on 401), SETUP of every media and PLAY, starting again
// at the Location of a 301 or 302 answer (ClientConfig.MaxRedirects).
// ctx bounds the whole handshake. Call Run to receive media and Close to
// release the client.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.checkCamera(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("client config: %w", err)
	}
	u, _ := url.Parse(cfg.URL) // checked by checkCamera
	c := &Client{cfg: cfg, transport: cfg.Transport, cred: credentialsOf(cfg, u)}
	u.User = nil
	hops := 0
	if err := c.connect(ctx, u, &hops); err != nil {
		return nil, err
	}
	return c, nil
}

// dialOnce connects to u and runs the handshake. When the server sent the
// client elsewhere (a 301 or 302 answer, or a REDIRECT request), it
// closes the connection and returns the target.
func (c *Client) dialOnce(ctx context.Context, u *url.URL) (*url.URL, error) {
	host := hostPort(u)
	c.log = c.cfg.Logger.With("peer", host)
	c.useCredentials(u)
	d := net.Dialer{Timeout: c.cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", base.RedactURL(u.String()), err)
	}
	c.nc, c.src = nc, &clientSource{nc: nc}
	c.br = bufio.NewReaderSize(c.src, c.cfg.ReadBufferSize)
	c.wmu.Lock()
	c.auth, c.session = nil, "" // a redirect target challenges anew
	c.wmu.Unlock()
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	err = c.handshake(u)
	stop()
	if err == nil {
		c.url = u
		return nil, nil
	}
	_ = nc.Close()
	c.closeUDP()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("dial %s: %w", base.RedactURL(u.String()), ctx.Err())
	}
	if r, ok := errors.AsType[*redirect](err); ok {
		return r.target, nil
	}
	return nil, err
}

// SDP returns the session description received by DESCRIBE. The caller
// must not modify it.
func (c *Client) SDP() []byte { return c.sdp }

// ClientStats counts the media a Client received.
type ClientStats struct {
	// Packets and Bytes count the RTP packets delivered to OnRTP and their
	// bytes (RTP headers included, interleaved headers and RTCP not).
	Packets, Bytes uint64
	// LastPacket is when the last of them arrived; zero before the first.
	LastPacket time.Time
}

// Stats returns what the client received so far. It is safe to call at
// any time, from any goroutine.
func (c *Client) Stats() ClientStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rx
}

// Transport returns the transport the client set up its streams with
// last, "tcp" or "udp": ClientConfig.Transport, or the other one when the
// camera answered 461 Unsupported Transport (CLI-22). A caller that
// reconnects passes it as the next ClientConfig.Transport.
func (c *Client) Transport() string { return c.transport }

// Close ends a running Run and waits for it to return, then sends
// TEARDOWN (without waiting for its response, bounded by a 2s write
// deadline) and closes the connection and the UDP sockets. It is safe to
// call more than once.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	done, stop := c.runDone, c.runStop
	c.mu.Unlock()
	if done != nil {
		stop()
		<-done
	}
	err := c.teardown()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// teardown sends TEARDOWN without waiting for its answer and closes the
// connection and the UDP sockets.
func (c *Client) teardown() error {
	if _, err := c.send(base.MethodTeardown, c.control, nil, teardownTimeout); err != nil {
		c.log.Debug("teardown not sent", "err", err)
	}
	err := c.nc.Close()
	c.closeUDP()
	return err
}

func (c *Client) closeUDP() {
	for _, s := range c.streams {
		if s.udp != nil {
			s.udp.close()
		}
	}
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// hasPublic reports whether the OPTIONS response listed method.
func (c *Client) hasPublic(m base.Method) bool {
	for p := range strings.SplitSeq(c.public, ",") {
		if strings.EqualFold(strings.TrimSpace(p), string(m)) {
			return true
		}
	}
	return false
}

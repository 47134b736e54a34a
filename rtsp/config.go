package rtsp

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/rtsp/base"
)

// Config configures a Server. NewServer copies it, applies the defaults to
// zero fields and calls Validate; the caller's struct is never modified.
// The yaml tags are the keys of camvault's rtsp section (package settings);
// an empty UDPRTPAddress there means DisableUDP.
type Config struct {
	// Address is the RTSP TCP listen address. Defaults to ":8554".
	Address string `yaml:"address"`
	// Listener, when set, is used instead of listening on Address (socket
	// activation, tests). The server closes it on shutdown.
	Listener net.Listener `yaml:"-"`

	// TLS, when set, serves RTSPS (rtsps://, SEC-08) on TLSAddress with
	// this configuration; its MinVersion is raised to TLS 1.2. Certificates
	// are the caller's: use GetCertificate to replace them while the server
	// runs. Media on an RTSPS connection is interleaved in the TLS stream:
	// SETUP asking for UDP there gets 461, since UDP media would travel in
	// clear.
	TLS *tls.Config `yaml:"-"`
	// TLSAddress is the RTSPS TCP listen address. Defaults to ":8322".
	TLSAddress string `yaml:"-"`
	// TLSListener, when set, is used instead of listening on TLSAddress
	// (tests); the server wraps it in TLS and closes it on shutdown.
	TLSListener net.Listener `yaml:"-"`
	// TLSOnly serves RTSPS alone: no plain RTSP listener and no UDP pair
	// are opened. It needs TLS.
	TLSOnly bool `yaml:"-"`

	// UDPRTPAddress is the RTP socket of the UDP pair that every UDP
	// session shares (RTSP-TR-10). Defaults to ":8000".
	UDPRTPAddress string `yaml:"udp_rtp_address"`
	// UDPRTCPAddress is the RTCP socket of the pair. Defaults to ":8001".
	UDPRTCPAddress string `yaml:"udp_rtcp_address"`
	// DisableUDP turns UDP transport off: no sockets are bound and SETUP
	// asking for UDP gets 461 (RTSP-TR-06).
	DisableUDP bool `yaml:"-"`
	// UDPReadBuffer is the kernel receive buffer of each UDP socket in
	// bytes, set with SetReadBuffer (the kernel may cap it at rmem_max).
	// Defaults to 64 MiB.
	UDPReadBuffer int `yaml:"udp_read_buffer" unit:"bytes"`

	// SessionTimeout is advertised as "Session: id;timeout=N"; a session
	// that is not recording expires after SessionTimeout+SessionGrace
	// without a request or RTCP (RTSP-SES-04). Defaults to 60s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// SessionGrace is added to SessionTimeout before expiry. Defaults to 10s.
	SessionGrace time.Duration `yaml:"-"`
	// UDPTeardownLinger is how long a UDP recording session keeps taking
	// media after its TEARDOWN was answered: publishers send their last RTP
	// datagrams and the TEARDOWN back to back, and the datagrams may still
	// be on their way. The session then closes once the RTP socket's reader
	// has read every datagram that arrived within the linger, however far
	// behind a lack of CPU left it (a marker datagram the server sends
	// itself; should the kernel drop it from a full socket, the media
	// timeout ends the session). Defaults to 250ms; a negative value does not
	// linger (camvault's file spells that 0s, as the zero value is the
	// default here).
	UDPTeardownLinger time.Duration `yaml:"udp_teardown_linger"`
	// RedirectGrace is how long a play session goes on after a REDIRECT
	// request was sent to its client (Redirector): a client that follows
	// it sends TEARDOWN before; one that does not has its session ended
	// with ErrRedirected, checked at the session reaper's pace (at most a
	// quarter of the grace late). Defaults to 5s.
	RedirectGrace time.Duration `yaml:"-"`
	// MediaTimeout closes a recording session that received no RTP or RTCP
	// for this long (RTSP-M-33). Defaults to 10s.
	MediaTimeout time.Duration `yaml:"media_timeout"`
	// HandshakeTimeout bounds the time from the first byte of a request to
	// its last (SEC-02). Defaults to 10s.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// IdleTimeout closes a connection that has no live session and sends
	// nothing for this long (SEC-02). Defaults to 60s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// WriteTimeout bounds each write to a connection (SEC-02) and how long
	// a play session's Output.WriteRTP waits for room in a full media
	// queue; either expiry drops the viewer with ErrSlowClient (SEC-07).
	// Defaults to 10s.
	WriteTimeout time.Duration `yaml:"write_timeout"`

	// MaxConnections bounds concurrent RTSP connections (SEC-03). When it
	// is reached, a new connection replaces the connection that has been
	// idle longest without a session; when every connection has a session
	// the new one is closed on accept. Defaults to 4096.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerAddress bounds the concurrent connections of one
	// peer IP address, with the same replacement rule, so that one host
	// cannot hold every slot (SEC-03). Defaults to 64.
	MaxConnectionsPerAddress int `yaml:"max_connections_per_address"`
	// MaxSessionsPerConnection bounds live sessions created by one
	// connection; more get 453 (SEC-03). Defaults to 4.
	MaxSessionsPerConnection int `yaml:"max_sessions_per_connection"`
	// ReadBufferSize is the per-connection read buffer in bytes. A whole
	// interleaved frame is read from it without copying, so it must hold
	// MaxPacketSize+4. A connection starts with 4 KiB and grows to this at
	// its first interleaved frame that does not fit. Defaults to 128 KiB.
	ReadBufferSize int `yaml:"read_buffer" unit:"bytes"`
	// WriteQueueSize is the number of messages a connection may have
	// waiting for its writer; the reader blocks when it is full, so a peer
	// that does not read stalls only itself until WriteTimeout. Defaults to 64.
	WriteQueueSize int `yaml:"-"`
	// MediaQueueSize is the number of interleaved RTP/RTCP packets of the
	// play sessions of one connection that may wait for its writer.
	// Responses overtake queued media (RTSP-IL-03). When the queue is full
	// Output.WriteRTP blocks up to WriteTimeout, so a slow viewer paces its
	// own sender and is dropped rather than buffered (SEC-07). A connection
	// holds at most this many packet buffers. Defaults to 256.
	MediaQueueSize int `yaml:"media_queue"`
	// TunnelTimeout bounds the wait of one half of an RTSP-over-HTTP tunnel
	// for the other (SEC-02, RTSP-HT-04): of a GET for its POST, of a
	// tunnel whose POST ended for a new one (Apple's connection
	// maintenance), and of a POST that came first for its GET. Defaults to
	// 10s.
	TunnelTimeout time.Duration `yaml:"tunnel_timeout"`
	// MaxPendingTunnels bounds the tunnel halves waiting for their other
	// half: GETs without a POST yet and POSTs without a GET. One more is
	// answered 503 and closed (SEC-03). Defaults to 256.
	MaxPendingTunnels int `yaml:"max_pending_tunnels"`
	// MaxPacketSize is the largest RTP/RTCP packet accepted, in bytes;
	// larger interleaved frames are skipped and larger datagrams dropped
	// (SEC-01). Defaults to 65535.
	MaxPacketSize int `yaml:"max_packet" unit:"bytes"`
	// Limits bounds request parsing; zero fields take the Limits defaults.
	Limits base.Limits `yaml:",inline"`

	// ServerName is sent in the Server header. Defaults to "camvault".
	ServerName string `yaml:"-"`
	// Access authenticates requests; nil serves everyone anonymously and
	// leaves every decision to the Handler.
	Access *Access `yaml:"-"`
	// Handler receives announced publications and describes
	// presentations for playback. Required.
	Handler Handler `yaml:"-"`
	// Logger receives the server's logs. Nil discards them.
	Logger *slog.Logger `yaml:"-"`
	// OnPlayStart, if set, is called once per successful PLAY when the
	// first RTP packet of its answer is queued to the connection (TCP) or
	// sent (UDP), with the request path ("archive/lobby") and the time
	// from the PLAY request read to that moment. It is called on the
	// goroutine that sends the session's media, so it must be quick and
	// must not block; a PLAY whose answer sends no RTP before the next
	// PLAY or the end of the session is not reported.
	OnPlayStart func(path string, d time.Duration) `yaml:"-"`
}

// Defaults of Config.
const (
	DefaultAddress                  = ":8554"
	DefaultTLSAddress               = ":8322"
	DefaultUDPRTPAddress            = ":8000"
	DefaultUDPRTCPAddress           = ":8001"
	DefaultUDPReadBuffer            = 64 << 20
	DefaultSessionTimeout           = 60 * time.Second
	DefaultSessionGrace             = 10 * time.Second
	DefaultUDPTeardownLinger        = 250 * time.Millisecond
	DefaultMediaTimeout             = 10 * time.Second
	DefaultRedirectGrace            = 5 * time.Second
	DefaultHandshakeTimeout         = 10 * time.Second
	DefaultIdleTimeout              = 60 * time.Second
	DefaultWriteTimeout             = 10 * time.Second
	DefaultMaxConnections           = 4096
	DefaultMaxConnectionsPerAddress = 64
	DefaultMaxSessionsPerConnection = 4
	DefaultReadBufferSize           = 128 << 10
	DefaultWriteQueueSize           = 64
	DefaultMediaQueueSize           = 256
	DefaultMaxPacketSize            = 65535
	DefaultTunnelTimeout            = 10 * time.Second
	DefaultMaxPendingTunnels        = 256
	DefaultServerName               = "camvault"
)

func defaultStr(v *string, d string) {
	if *v == "" {
		*v = d
	}
}

func defaultNum[T int | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// withDefaults returns a copy of c with zero fields set to the defaults.
func (c Config) withDefaults() Config {
	defaultStr(&c.Address, DefaultAddress)
	defaultStr(&c.TLSAddress, DefaultTLSAddress)
	if c.TLS != nil && c.TLS.MinVersion < tls.VersionTLS12 {
		c.TLS = c.TLS.Clone()
		c.TLS.MinVersion = tls.VersionTLS12
	}
	if c.TLSOnly {
		c.DisableUDP = true
	}
	defaultStr(&c.UDPRTPAddress, DefaultUDPRTPAddress)
	defaultStr(&c.UDPRTCPAddress, DefaultUDPRTCPAddress)
	defaultStr(&c.ServerName, DefaultServerName)
	defaultNum(&c.UDPReadBuffer, DefaultUDPReadBuffer)
	defaultNum(&c.SessionTimeout, DefaultSessionTimeout)
	defaultNum(&c.SessionGrace, DefaultSessionGrace)
	defaultNum(&c.UDPTeardownLinger, DefaultUDPTeardownLinger)
	c.UDPTeardownLinger = max(c.UDPTeardownLinger, 0) // negative: no linger
	defaultNum(&c.MediaTimeout, DefaultMediaTimeout)
	defaultNum(&c.RedirectGrace, DefaultRedirectGrace)
	defaultNum(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	defaultNum(&c.IdleTimeout, DefaultIdleTimeout)
	defaultNum(&c.WriteTimeout, DefaultWriteTimeout)
	defaultNum(&c.MaxConnections, DefaultMaxConnections)
	defaultNum(&c.MaxConnectionsPerAddress, DefaultMaxConnectionsPerAddress)
	defaultNum(&c.MaxSessionsPerConnection, DefaultMaxSessionsPerConnection)
	defaultNum(&c.ReadBufferSize, DefaultReadBufferSize)
	defaultNum(&c.WriteQueueSize, DefaultWriteQueueSize)
	defaultNum(&c.MediaQueueSize, DefaultMediaQueueSize)
	defaultNum(&c.MaxPacketSize, DefaultMaxPacketSize)
	defaultNum(&c.TunnelTimeout, DefaultTunnelTimeout)
	defaultNum(&c.MaxPendingTunnels, DefaultMaxPendingTunnels)
	c.Limits = c.Limits.WithDefaults()
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// DefaultConfig returns the default of every setting (the fields with a
// yaml tag); the wiring (Handler, Access, TLS, listeners) is left unset.
func DefaultConfig() Config {
	c := Config{}.withDefaults()
	c.Logger = nil
	return c
}

// Validate checks a configuration with defaults applied: each setting
// within the bounds an operator may set and the relations between them
// (the UDP port pair, a read buffer that holds the largest packet). An
// empty UDPRTPAddress, or DisableUDP, skips the UDP checks. Failures are
// *settings.FieldError named by the yaml keys; the wiring (Handler, Access,
// TLS) is NewServer's to check.
func (c *Config) Validate() error {
	var v settings.Check
	v.Count("media_queue", c.MediaQueueSize, 1, 1<<20)
	v.Duration("udp_teardown_linger", c.UDPTeardownLinger, 0, 10*time.Second)
	v.Address("address", c.Address)
	c.validateUDP(&v)
	v.Bytes("udp_read_buffer", int64(c.UDPReadBuffer), 64<<10, 1<<30)
	v.Duration("session_timeout", c.SessionTimeout, time.Second, settings.MaxTimeout)
	v.Duration("handshake_timeout", c.HandshakeTimeout, settings.MinTimeout, time.Hour)
	v.Duration("idle_timeout", c.IdleTimeout, time.Second, settings.MaxTimeout)
	v.Duration("write_timeout", c.WriteTimeout, settings.MinTimeout, time.Hour)
	v.Duration("media_timeout", c.MediaTimeout, MinMediaTimeout, time.Hour)
	v.Duration("redirect_grace", c.RedirectGrace, settings.MinTimeout, time.Hour)
	// A whole interleaved frame ($, channel, 16-bit length, packet) is read
	// from the read buffer, so it must hold the largest max_packet + 4.
	v.Bytes("read_buffer", int64(c.ReadBufferSize), 68<<10, 16<<20)
	v.Count("max_connections", c.MaxConnections, 1, 1<<20)
	v.Count("max_connections_per_address", c.MaxConnectionsPerAddress, 1, 1<<20)
	v.Count("max_sessions_per_connection", c.MaxSessionsPerConnection, 1, 1024)
	v.Duration("tunnel_timeout", c.TunnelTimeout, settings.MinTimeout, time.Hour)
	v.Count("max_pending_tunnels", c.MaxPendingTunnels, 1, 1<<20)
	v.Add(c.Limits.Validate())
	// An interleaved frame's length is 16 bits (RFC 2326 section 10.12), a
	// UDP datagram's payload less: 65535 holds any packet.
	v.Bytes("max_packet", int64(c.MaxPacketSize), 1<<10, 65535)
	return v.Err()
}

// MinMediaTimeout is the least MediaTimeout Validate accepts.
const MinMediaTimeout = settings.MinTimeout

// validateUDP checks the shared UDP port pair. With fixed ports, RTP is even
// and RTCP the next port, because a Transport header's server_port=RTP-RTCP
// is a range (RFC 2326 section 12.39, RFC 3550 section 11).
func (c *Config) validateUDP(v *settings.Check) {
	if c.DisableUDP || c.UDPRTPAddress == "" {
		return
	}
	if c.UDPRTCPAddress == "" {
		v.Fail("udp_rtcp_address", "must be set when %s is (%q)", settings.Key{"udp_rtp_address"}, c.UDPRTPAddress)
		return
	}
	rtp, ok1 := v.Address("udp_rtp_address", c.UDPRTPAddress)
	rtcp, ok2 := v.Address("udp_rtcp_address", c.UDPRTCPAddress)
	if !ok1 || !ok2 || (rtp == 0 && rtcp == 0) {
		return // invalid, or both ephemeral (tests)
	}
	if rtp%2 != 0 {
		v.Fail("udp_rtp_address", "RTP port must be even, got %d", rtp)
	}
	if rtcp != rtp+1 {
		v.Fail("udp_rtcp_address", "RTCP port must be the RTP port + 1 (%d), got %d", rtp+1, rtcp)
	}
}

// validateWiring checks what code, not the operator, sets.
func (c *Config) validateWiring() error {
	var errs []error
	if c.Handler == nil {
		errs = append(errs, errors.New("handler is required"))
	}
	if c.Access != nil && (c.Access.Auth == nil || c.Access.Credentials == nil) {
		errs = append(errs, errors.New("access needs auth and credentials"))
	}
	if c.TLSOnly && c.TLS == nil {
		errs = append(errs, errors.New("tls only needs a tls configuration"))
	}
	if c.SessionGrace < 0 || c.WriteQueueSize < 0 {
		errs = append(errs, errors.New("session grace and write queue size must not be negative"))
	}
	return errors.Join(errs...)
}

package rtsp

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/camvault/camvault/rtsp/base"
)

// Config configures a Server. NewServer copies it and applies the defaults
// to zero fields; the caller's struct is never modified.
type Config struct {
	// Address is the RTSP TCP listen address. Defaults to ":8554".
	Address string
	// Listener, when set, is used instead of listening on Address (socket
	// activation, tests). The server closes it on shutdown.
	Listener net.Listener

	// TLS, when set, serves RTSPS (rtsps://, SEC-08) on TLSAddress with
	// this configuration; its MinVersion is raised to TLS 1.2. Certificates
	// are the caller's: use GetCertificate to replace them while the server
	// runs. Media on an RTSPS connection is interleaved in the TLS stream:
	// SETUP asking for UDP there gets 461, since UDP media would travel in
	// clear.
	TLS *tls.Config
	// TLSAddress is the RTSPS TCP listen address. Defaults to ":8322".
	TLSAddress string
	// TLSListener, when set, is used instead of listening on TLSAddress
	// (tests); the server wraps it in TLS and closes it on shutdown.
	TLSListener net.Listener
	// TLSOnly serves RTSPS alone: no plain RTSP listener and no UDP pair
	// are opened. It needs TLS.
	TLSOnly bool

	// UDPRTPAddress is the RTP socket of the UDP pair that every UDP
	// session shares (RTSP-TR-10). Defaults to ":8000".
	UDPRTPAddress string
	// UDPRTCPAddress is the RTCP socket of the pair. Defaults to ":8001".
	UDPRTCPAddress string
	// DisableUDP turns UDP transport off: no sockets are bound and SETUP
	// asking for UDP gets 461 (RTSP-TR-06).
	DisableUDP bool
	// UDPReadBuffer is the kernel receive buffer of each UDP socket in
	// bytes, set with SetReadBuffer (the kernel may cap it at rmem_max).
	// Defaults to 64 MiB.
	UDPReadBuffer int

	// SessionTimeout is advertised as "Session: id;timeout=N"; a session
	// that is not recording expires after SessionTimeout+SessionGrace
	// without a request or RTCP (RTSP-SES-04). Defaults to 60s.
	SessionTimeout time.Duration
	// SessionGrace is added to SessionTimeout before expiry. Defaults to 10s.
	SessionGrace time.Duration
	// UDPTeardownLinger is how long a UDP recording session keeps taking
	// media after its TEARDOWN was answered: publishers send their last RTP
	// datagrams and the TEARDOWN back to back, and the datagrams may still
	// be queued in the socket. Defaults to 250ms.
	UDPTeardownLinger time.Duration
	// MediaTimeout closes a recording session that received no RTP or RTCP
	// for this long (RTSP-M-33). Defaults to 10s.
	MediaTimeout time.Duration
	// HandshakeTimeout bounds the time from the first byte of a request to
	// its last (SEC-02). Defaults to 10s.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection that has no live session and sends
	// nothing for this long (SEC-02). Defaults to 60s.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to a connection (SEC-02) and how long
	// a play session's Output.WriteRTP waits for room in a full media
	// queue; either expiry drops the viewer with ErrSlowClient (SEC-07).
	// Defaults to 10s.
	WriteTimeout time.Duration

	// MaxConnections bounds concurrent RTSP connections (SEC-03). When it
	// is reached, a new connection replaces the connection that has been
	// idle longest without a session; when every connection has a session
	// the new one is closed on accept. Defaults to 4096.
	MaxConnections int
	// MaxConnectionsPerAddress bounds the concurrent connections of one
	// peer IP address, with the same replacement rule, so that one host
	// cannot hold every slot (SEC-03). Defaults to 64.
	MaxConnectionsPerAddress int
	// MaxSessionsPerConnection bounds live sessions created by one
	// connection; more get 453 (SEC-03). Defaults to 4.
	MaxSessionsPerConnection int
	// ReadBufferSize is the per-connection read buffer in bytes. A whole
	// interleaved frame is read from it without copying, so it must hold
	// MaxPacketSize+4. A connection starts with 4 KiB and grows to this at
	// its first interleaved frame that does not fit. Defaults to 128 KiB.
	ReadBufferSize int
	// WriteQueueSize is the number of messages a connection may have
	// waiting for its writer; the reader blocks when it is full, so a peer
	// that does not read stalls only itself until WriteTimeout. Defaults to 64.
	WriteQueueSize int
	// MediaQueueSize is the number of interleaved RTP/RTCP packets of the
	// play sessions of one connection that may wait for its writer.
	// Responses overtake queued media (RTSP-IL-03). When the queue is full
	// Output.WriteRTP blocks up to WriteTimeout, so a slow viewer paces its
	// own sender and is dropped rather than buffered (SEC-07). A connection
	// holds at most this many packet buffers. Defaults to 256.
	MediaQueueSize int
	// MaxPacketSize is the largest RTP/RTCP packet accepted, in bytes;
	// larger interleaved frames are skipped and larger datagrams dropped
	// (SEC-01). Defaults to 65535.
	MaxPacketSize int
	// Limits bounds request parsing; zero fields take the Limits defaults.
	Limits base.Limits

	// ServerName is sent in the Server header. Defaults to "camvault".
	ServerName string
	// Access authenticates requests; nil serves everyone anonymously and
	// leaves every decision to the Handler.
	Access *Access
	// Handler receives announced publications and describes
	// presentations for playback. Required.
	Handler Handler
	// Logger receives the server's logs. Nil discards them.
	Logger *slog.Logger
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
	defaultNum(&c.MediaTimeout, DefaultMediaTimeout)
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
	c.Limits = c.Limits.WithDefaults()
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a configuration that cannot work. It expects defaults
// to have been applied.
func (c *Config) Validate() error {
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
	for _, d := range []time.Duration{c.SessionTimeout, c.SessionGrace, c.MediaTimeout, c.HandshakeTimeout, c.IdleTimeout, c.WriteTimeout} {
		if d < 0 {
			errs = append(errs, errors.New("timeouts must not be negative"))
			break
		}
	}
	if c.SessionTimeout < time.Second {
		errs = append(errs, errors.New("session timeout must be at least 1s"))
	}
	if c.MaxPacketSize < 12 || c.MaxPacketSize > 65535 {
		errs = append(errs, errors.New("max packet size must be in [12, 65535]"))
	}
	if c.ReadBufferSize < c.MaxPacketSize+base.InterleavedHeaderSize {
		errs = append(errs, errors.New("read buffer size must hold max packet size + 4"))
	}
	if c.MaxConnections < 0 || c.MaxConnectionsPerAddress < 0 || c.MaxSessionsPerConnection < 0 || c.WriteQueueSize < 0 || c.MediaQueueSize < 0 || c.UDPReadBuffer < 0 {
		errs = append(errs, errors.New("limits must not be negative"))
	}
	return errors.Join(errs...)
}

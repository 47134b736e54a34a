package main

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// rtspConfig is the RTSP server section (feeds rtsp.Config).
type rtspConfig struct {
	Address                  string   `yaml:"address"`
	UDPRTPAddress            string   `yaml:"udp_rtp_address"`  // "" disables UDP transport
	UDPRTCPAddress           string   `yaml:"udp_rtcp_address"` // ignored when UDPRTPAddress is ""
	UDPReadBuffer            Size     `yaml:"udp_read_buffer"`
	SessionTimeout           Duration `yaml:"session_timeout"`
	HandshakeTimeout         Duration `yaml:"handshake_timeout"`
	IdleTimeout              Duration `yaml:"idle_timeout"`
	WriteTimeout             Duration `yaml:"write_timeout"`
	MediaTimeout             Duration `yaml:"media_timeout"`
	ReadBuffer               Size     `yaml:"read_buffer"`
	MaxConnections           int      `yaml:"max_connections"`
	MaxConnectionsPerAddress int      `yaml:"max_connections_per_address"`
	MaxSessionsPerConnection int      `yaml:"max_sessions_per_connection"`
	MaxRequestLine           Size     `yaml:"max_request_line"`
	MaxURL                   Size     `yaml:"max_url"`
	MaxHeaderLine            Size     `yaml:"max_header_line"`
	MaxHeaderLines           int      `yaml:"max_header_lines"`
	MaxHeaderBytes           Size     `yaml:"max_header_bytes"`
	MaxBody                  Size     `yaml:"max_body"`
	MaxPacket                Size     `yaml:"max_packet"`
	MediaQueue               int      `yaml:"media_queue"`
	UDPTeardownLinger        Duration `yaml:"udp_teardown_linger"`
}

// tlsConfig is the RTSPS section (feeds rtsp.Config.TLS*). RTSPS is served when cert and key
// are set.
type tlsConfig struct {
	Address string `yaml:"address"`
	Cert    string `yaml:"cert"` // PEM certificate chain file
	Key     string `yaml:"key"`  // PEM private key file
	Only    bool   `yaml:"only"` // no plain RTSP (and so no UDP media)
}

// httpConfig is the HTTP management API section.
type httpConfig struct {
	Address string `yaml:"address"`
}

// defaultRTSPConfig returns the section's defaults: rtsp's.
func defaultRTSPConfig() rtspConfig {
	return rtspConfig{
		Address:                  rtsp.DefaultAddress,
		UDPRTPAddress:            rtsp.DefaultUDPRTPAddress,
		UDPRTCPAddress:           rtsp.DefaultUDPRTCPAddress,
		UDPReadBuffer:            rtsp.DefaultUDPReadBuffer,
		SessionTimeout:           Duration(rtsp.DefaultSessionTimeout),
		HandshakeTimeout:         Duration(rtsp.DefaultHandshakeTimeout),
		IdleTimeout:              Duration(rtsp.DefaultIdleTimeout),
		WriteTimeout:             Duration(rtsp.DefaultWriteTimeout),
		MediaTimeout:             Duration(rtsp.DefaultMediaTimeout),
		ReadBuffer:               rtsp.DefaultReadBufferSize,
		MaxConnections:           rtsp.DefaultMaxConnections,
		MaxConnectionsPerAddress: rtsp.DefaultMaxConnectionsPerAddress,
		MaxSessionsPerConnection: rtsp.DefaultMaxSessionsPerConnection,
		MaxRequestLine:           base.DefaultMaxRequestLine,
		MaxURL:                   base.DefaultMaxURL,
		MaxHeaderLine:            base.DefaultMaxHeaderLine,
		MaxHeaderLines:           base.DefaultMaxHeaders,
		MaxHeaderBytes:           base.DefaultMaxHeaderBytes,
		MaxBody:                  base.DefaultMaxBody,
		MaxPacket:                rtsp.DefaultMaxPacketSize,
		MediaQueue:               rtsp.DefaultMediaQueueSize,
		UDPTeardownLinger:        Duration(rtsp.DefaultUDPTeardownLinger),
	}
}

func (r *rtspConfig) validate(v *validator) {
	v.count("rtsp.media_queue", r.MediaQueue, 1, 1<<20)
	v.duration("rtsp.udp_teardown_linger", r.UDPTeardownLinger, 0, 10*time.Second)
	v.address("rtsp.address", r.Address)
	r.validateUDP(v)
	v.size("rtsp.udp_read_buffer", r.UDPReadBuffer, 64<<10, 1<<30)
	v.duration("rtsp.session_timeout", r.SessionTimeout, time.Second, maxTimeout)
	v.duration("rtsp.handshake_timeout", r.HandshakeTimeout, minTimeout, time.Hour)
	v.duration("rtsp.idle_timeout", r.IdleTimeout, time.Second, maxTimeout)
	v.duration("rtsp.write_timeout", r.WriteTimeout, minTimeout, time.Hour)
	v.duration("rtsp.media_timeout", r.MediaTimeout, minTimeout, time.Hour)
	// A whole interleaved frame ($, channel, 16-bit length, packet) is read from the read
	// buffer, so it must hold the largest max_packet + 4.
	v.size("rtsp.read_buffer", r.ReadBuffer, 68<<10, 16<<20)
	v.count("rtsp.max_connections", r.MaxConnections, 1, 1<<20)
	v.count("rtsp.max_connections_per_address", r.MaxConnectionsPerAddress, 1, 1<<20)
	v.count("rtsp.max_sessions_per_connection", r.MaxSessionsPerConnection, 1, 1024)
	v.size("rtsp.max_request_line", r.MaxRequestLine, 256, 64<<10)
	v.size("rtsp.max_url", r.MaxURL, 256, 64<<10)
	v.atMost("rtsp.max_url", r.MaxURL, "rtsp.max_request_line", r.MaxRequestLine)
	v.size("rtsp.max_header_line", r.MaxHeaderLine, 256, 64<<10)
	v.count("rtsp.max_header_lines", r.MaxHeaderLines, 1, 1024)
	v.size("rtsp.max_header_bytes", r.MaxHeaderBytes, 1<<10, 1<<20)
	v.atMost("rtsp.max_header_line", r.MaxHeaderLine, "rtsp.max_header_bytes", r.MaxHeaderBytes)
	v.size("rtsp.max_body", r.MaxBody, 1<<10, 16<<20)
	// An interleaved frame's length is 16 bits (RFC 2326 section 10.12), a UDP datagram's
	// payload less: 65535 holds any packet.
	v.size("rtsp.max_packet", r.MaxPacket, 1<<10, 65535)
}

// validateUDP checks the shared UDP port pair. udp_rtp_address "" disables UDP transport (and
// udp_rtcp_address is then ignored); otherwise both are set. With fixed ports, RTP is even and
// RTCP the next port, because a Transport header's server_port=RTP-RTCP is a range (RFC 2326
// section 12.39, RFC 3550 section 11).
func (r *rtspConfig) validateUDP(v *validator) {
	if r.UDPRTPAddress == "" {
		return
	}
	if r.UDPRTCPAddress == "" {
		v.fail("rtsp.udp_rtcp_address", "must be set when rtsp.udp_rtp_address is (%q)", r.UDPRTPAddress)
		return
	}
	rtp, ok1 := v.address("rtsp.udp_rtp_address", r.UDPRTPAddress)
	rtcp, ok2 := v.address("rtsp.udp_rtcp_address", r.UDPRTCPAddress)
	if !ok1 || !ok2 || (rtp == 0 && rtcp == 0) {
		return // invalid, or both ephemeral (tests)
	}
	if rtp%2 != 0 {
		v.fail("rtsp.udp_rtp_address", "RTP port must be even, got %d", rtp)
	}
	if rtcp != rtp+1 {
		v.fail("rtsp.udp_rtcp_address", "RTCP port must be the RTP port + 1 (%d), got %d", rtp+1, rtcp)
	}
}

func (t *tlsConfig) validate(v *validator) {
	v.address("tls.address", t.Address)
	if (t.Cert == "") != (t.Key == "") {
		v.fail("tls", "cert and key go together, got cert %q and key %q", t.Cert, t.Key)
	}
	if t.Only && t.Cert == "" {
		v.fail("tls.only", "needs tls.cert and tls.key")
	}
}

// rtspLimits bounds RTSP messages, of the server and of the pull client alike.
func (c *fileConfig) rtspLimits() base.Limits {
	r := c.RTSP
	return base.Limits{MaxRequestLine: int(r.MaxRequestLine), MaxURL: int(r.MaxURL),
		MaxHeaderLine: int(r.MaxHeaderLine), MaxHeaders: r.MaxHeaderLines,
		MaxHeaderBytes: int(r.MaxHeaderBytes), MaxBody: int(r.MaxBody)}
}

// rtspServerConfig returns the configuration of rtsp.NewServer.
func (c *fileConfig) rtspServerConfig(h rtsp.Handler, access *rtsp.Access, tlsConf *tls.Config, log *slog.Logger) rtsp.Config {
	r := c.RTSP
	return rtsp.Config{
		Address: r.Address, UDPRTPAddress: r.UDPRTPAddress, UDPRTCPAddress: r.UDPRTCPAddress,
		TLS: tlsConf, TLSAddress: c.TLS.Address, TLSOnly: c.TLS.Only,
		DisableUDP: r.UDPRTPAddress == "", UDPReadBuffer: int(r.UDPReadBuffer),
		SessionTimeout: time.Duration(r.SessionTimeout), MediaTimeout: time.Duration(r.MediaTimeout),
		HandshakeTimeout: time.Duration(r.HandshakeTimeout), IdleTimeout: time.Duration(r.IdleTimeout),
		WriteTimeout: time.Duration(r.WriteTimeout), MaxConnections: r.MaxConnections,
		MaxConnectionsPerAddress: r.MaxConnectionsPerAddress,
		MaxSessionsPerConnection: r.MaxSessionsPerConnection, ReadBufferSize: int(r.ReadBuffer),
		MaxPacketSize: int(r.MaxPacket), MediaQueueSize: r.MediaQueue,
		UDPTeardownLinger: time.Duration(r.UDPTeardownLinger),
		Limits:            c.rtspLimits(),
		Handler:           h, Access: access, Logger: log,
	}
}

package rtsp

import (
	"context"
	"testing"
)

// configTestHandler is a Handler for configurations that are never served.
type configTestHandler struct{}

func (configTestHandler) Announce(context.Context, *AnnounceRequest) (Publication, error) {
	return nil, nil
}
func (configTestHandler) Describe(context.Context, *DescribeRequest) (Presentation, error) {
	return nil, nil
}

// TestConfigDefaults: a zero Config takes the exported defaults, which camvault's
// configuration file documents (cmd/camvault TestDocumentedConfigIsDefault compares them), and
// they validate.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Handler: configTestHandler{}}.withDefaults()
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"Address", c.Address, DefaultAddress},
		{"TLSAddress", c.TLSAddress, DefaultTLSAddress},
		{"UDPRTPAddress", c.UDPRTPAddress, DefaultUDPRTPAddress},
		{"UDPRTCPAddress", c.UDPRTCPAddress, DefaultUDPRTCPAddress},
		{"UDPReadBuffer", c.UDPReadBuffer, DefaultUDPReadBuffer},
		{"SessionTimeout", c.SessionTimeout, DefaultSessionTimeout},
		{"SessionGrace", c.SessionGrace, DefaultSessionGrace},
		{"UDPTeardownLinger", c.UDPTeardownLinger, DefaultUDPTeardownLinger},
		{"MediaTimeout", c.MediaTimeout, DefaultMediaTimeout},
		{"HandshakeTimeout", c.HandshakeTimeout, DefaultHandshakeTimeout},
		{"IdleTimeout", c.IdleTimeout, DefaultIdleTimeout},
		{"WriteTimeout", c.WriteTimeout, DefaultWriteTimeout},
		{"MaxConnections", c.MaxConnections, DefaultMaxConnections},
		{"MaxConnectionsPerAddress", c.MaxConnectionsPerAddress, DefaultMaxConnectionsPerAddress},
		{"MaxSessionsPerConnection", c.MaxSessionsPerConnection, DefaultMaxSessionsPerConnection},
		{"ReadBufferSize", c.ReadBufferSize, DefaultReadBufferSize},
		{"WriteQueueSize", c.WriteQueueSize, DefaultWriteQueueSize},
		{"MediaQueueSize", c.MediaQueueSize, DefaultMediaQueueSize},
		{"MaxPacketSize", c.MaxPacketSize, DefaultMaxPacketSize},
		{"ServerName", c.ServerName, DefaultServerName},
	} {
		if f.got != f.want {
			t.Errorf("zero %s defaults to %v, want %v", f.name, f.got, f.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

// TestNegativeLingerIsZero: camvault passes udp_teardown_linger 0s as a negative linger (the
// zero value is the default); the server keeps it as no linger, within Validate's 0..10s.
func TestNegativeLingerIsZero(t *testing.T) {
	t.Parallel()
	c := Config{UDPTeardownLinger: -1}.withDefaults()
	if c.UDPTeardownLinger != 0 {
		t.Errorf("linger %v, want 0", c.UDPTeardownLinger)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

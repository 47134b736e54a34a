package main

import (
	"crypto/tls"
	"log/slog"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/rtsp"
)

// tlsConfig is the RTSPS section (feeds rtsp.Config.TLS*). RTSPS is served when cert and key
// are set; cmd loads them (and reloads them on SIGHUP), so the section is cmd's own.
type tlsConfig struct {
	Address string `yaml:"address"`
	Cert    string `yaml:"cert"` // PEM certificate chain file
	Key     string `yaml:"key"`  // PEM private key file
	Only    bool   `yaml:"only"` // no plain RTSP (and so no UDP media)
}

func (t *tlsConfig) validate(v *settings.Check) {
	v.Address("tls.address", t.Address)
	if (t.Cert == "") != (t.Key == "") {
		v.Fail("tls", "cert and key go together, got cert %q and key %q", t.Cert, t.Key)
	}
	if t.Only && t.Cert == "" {
		v.Fail("tls.only", "needs tls.cert and tls.key")
	}
}

// rtspServerConfig returns the configuration of rtsp.NewServer: the rtsp section, the tls
// section and the wiring. An empty udp_rtp_address in the file disables UDP transport, and
// udp_teardown_linger 0s does not linger, which the server spells as a negative linger (its zero
// value is its default).
func (c *fileConfig) rtspServerConfig(h rtsp.Handler, access *rtsp.Access, tlsConf *tls.Config, log *slog.Logger) rtsp.Config {
	r := c.RTSP
	r.DisableUDP = r.UDPRTPAddress == ""
	if r.UDPTeardownLinger == 0 {
		r.UDPTeardownLinger = -1
	}
	r.TLS, r.TLSAddress, r.TLSOnly = tlsConf, c.TLS.Address, c.TLS.Only
	r.Handler, r.Access, r.Logger = h, access, log
	return r
}

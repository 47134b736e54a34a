package main

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// certReloader holds the RTSPS certificate and key loaded from their files and replaces them on
// reload, so that SIGHUP renews a certificate without dropping a session: each new TLS
// handshake takes the current one.
type certReloader struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// newCertReloader loads certFile and keyFile, or returns nil when both are empty.
func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// reload reads the files again; on error the current certificate stays.
func (r *certReloader) reload() error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	r.cur.Store(&cert)
	return nil
}

// config returns the server TLS configuration: TLS 1.2 or later, the current certificate.
func (r *certReloader) config() *tls.Config {
	if r == nil {
		return nil
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.cur.Load(), nil
		},
	}
}

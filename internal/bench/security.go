package bench

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	rtspauth "github.com/camvault/camvault/rtsp/auth"

	"github.com/camvault/camvault/auth"
)

// The user of `bench push -auth`.
const (
	benchUser     = "bench"
	benchPassword = "bench-password"
)

// security is what -auth and -tls add to the camvault under test.
type security struct {
	conf    string // config lines
	tlsAddr string // RTSPS address, with -tls
	// token is benchUser's bearer token for the HTTP API and /metrics,
	// with -auth.
	token string
}

// securityConfig returns the config lines of -auth (a user who may
// publish every camera over RTSP, and use the API and read /metrics with a
// bearer token) and -tls (RTSPS on tlsAddr with a self-signed certificate
// written to dir).
func securityConfig(dir string, o serverOptions, tlsAddr string) (security, error) {
	var b strings.Builder
	var sec security
	if o.auth {
		md5, err := auth.DigestHA1(auth.DigestMD5, benchUser, rtspauth.DefaultRealm, benchPassword)
		if err != nil {
			return sec, err
		}
		sha, err := auth.DigestHA1(auth.DigestSHA256, benchUser, rtspauth.DefaultRealm, benchPassword)
		if err != nil {
			return sec, err
		}
		token, hash, err := auth.NewToken(rand.Reader)
		if err != nil {
			return sec, err
		}
		sec.token = token
		fmt.Fprintf(&b, "users:\n  - name: %s\n    digest_md5: %s\n    digest_sha256: %s\n    tokens: [%q]\n"+
			"    permissions: [{action: publish, cameras: [\"*\"]}, {action: api}, {action: metrics}]\n",
			benchUser, md5, sha, hash)
	}
	if o.tls {
		cert, key, err := writeCert(dir)
		if err != nil {
			return sec, err
		}
		sec.tlsAddr = tlsAddr
		fmt.Fprintf(&b, "tls:\n  address: %q\n  cert: %q\n  key: %q\n", tlsAddr, cert, key)
	}
	sec.conf = b.String()
	return sec, nil
}

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1 and
// its key to dir.
func writeCert(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "camvault bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

package bench

import (
	"crypto/tls"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/camvault/camvault/auth"
	rtspauth "github.com/camvault/camvault/rtsp/auth"
)

func TestServerConfig(t *testing.T) {
	t.Parallel()
	addrs := serverAddrs{rtsp: "127.0.0.1:4000", udpPort: 5000, http: "127.0.0.1:4001", https: "127.0.0.1:4002", rtsps: "127.0.0.1:4003"}
	got := serverConfig("/tmp/b/data", addrs, 10, "storage: {sync: none}")
	want := "data_dir: /tmp/b/data\nlog: {level: warn}\nhttp: {address: \"127.0.0.1:4001\", tls_address: \"127.0.0.1:4002\"}\n" +
		"rtsp:\n  address: \"127.0.0.1:4000\"\n" +
		"  udp_rtp_address: \"127.0.0.1:5000\"\n  udp_rtcp_address: \"127.0.0.1:5001\"\n" +
		"  max_connections: 74\n  max_connections_per_address: 74\nstorage: {sync: none}\n"
	if got != want {
		t.Errorf("serverConfig =\n%s\nwant\n%s", got, want)
	}
}

func TestSecurityConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sec, err := securityConfig(dir, serverOptions{}, "127.0.0.1:4003")
	if err != nil || sec != (security{}) {
		t.Fatalf("no -auth, no -tls: %+v, %v", sec, err)
	}
	const tlsAddr = "127.0.0.1:4003"
	sec, err = securityConfig(dir, serverOptions{auth: true, tls: true}, tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	conf := sec.conf
	if sec.tlsAddr != tlsAddr || !strings.HasPrefix(sec.token, auth.TokenPrefix) {
		t.Errorf("RTSPS address %q, token %q", sec.tlsAddr, sec.token)
	}
	md5, _ := auth.DigestHA1(auth.DigestMD5, benchUser, rtspauth.DefaultRealm, benchPassword)
	sha, _ := auth.DigestHA1(auth.DigestSHA256, benchUser, rtspauth.DefaultRealm, benchPassword)
	for _, line := range []string{
		"users:\n  - name: bench\n", "    digest_md5: " + md5 + "\n", "    digest_sha256: " + sha + "\n",
		"    tokens: [" + strconv.Quote(auth.TokenHash(sec.token)) + "]\n",
		"    permissions: [{action: publish, cameras: [\"*\"]}, {action: api}, {action: metrics}]\n",
		"tls:\n  address: " + strconv.Quote(tlsAddr) + "\n",
	} {
		if !strings.Contains(conf, line) {
			t.Errorf("config lacks %q:\n%s", line, conf)
		}
	}
	cert, key := dir+"/cert.pem", dir+"/key.pem"
	if !strings.Contains(conf, "  cert: "+strconv.Quote(cert)+"\n  key: "+strconv.Quote(key)+"\n") {
		t.Errorf("config does not name %s and %s:\n%s", cert, key, conf)
	}
	if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
		t.Errorf("written certificate: %v", err)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v, %v", fi, err)
	}
}

func TestPullCamerasConf(t *testing.T) {
	t.Parallel()
	conf, names := pullCamerasConf(2, "udp", func(k int) string { return "rtsp://127.0.0.1:9/cam-" + strconv.Itoa(k) })
	want := "cameras:\n  pull-000: {url: \"rtsp://127.0.0.1:9/cam-0\", transport: udp}\n" +
		"  pull-001: {url: \"rtsp://127.0.0.1:9/cam-1\", transport: udp}\n"
	if conf != want || len(names) != 2 || names[0] != "pull-000" || names[1] != "pull-001" {
		t.Errorf("pullCamerasConf = %q, %q", conf, names)
	}
}

func TestServerRTPPort(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int // -1: error
	}{
		{"RTP/AVP;unicast;client_port=5000-5001;server_port=8000-8001", 8000},
		{"RTP/AVP/UDP;unicast;server_port=9002-9003;ssrc=1234ABCD;mode=record", 9002},
		{"RTP/AVP;unicast;client_port=5000-5001", -1},
		{"RTP/AVP;unicast;server_port=x", -1},
		{"", -1},
	} {
		got, err := serverRTPPort(tc.in)
		if tc.want < 0 && err == nil || tc.want >= 0 && (err != nil || got != tc.want) {
			t.Errorf("serverRTPPort(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestListenUDPPair(t *testing.T) {
	t.Parallel()
	a, b, err := listenUDPPair()
	if err != nil {
		t.Fatal(err)
	}
	defer closeUDP([]*net.UDPConn{a, b})
	pa, pb := a.LocalAddr().(*net.UDPAddr).Port, b.LocalAddr().(*net.UDPAddr).Port
	if pa%2 != 0 || pb != pa+1 {
		t.Errorf("ports %d and %d, want an even/odd pair", pa, pb)
	}
}

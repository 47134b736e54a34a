//go:build interop

package interop

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// remotePeer is a network namespace that this test process made, joined to the host's by a
// veth pair with a /30 of its own: hostIP is the host's end, peerIP the namespace's. What
// dials from the namespace reaches camvault from an address that is not loopback, as a
// camera or browser elsewhere on the network would. Cleanup deletes the namespace, and the
// pair with it; no traffic leaves the machine.
type remotePeer struct {
	hostIP, peerIP string
	ns             *os.File // /run/netns/NAME, for setns
}

// newRemotePeer makes the namespace; it needs root and ip(8), which CI has.
func newRemotePeer(t *testing.T) *remotePeer {
	t.Helper()
	needTool(t, "ip")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("a network namespace needs root")
		}
		t.Skip("a network namespace needs root")
	}
	removeStaleNamespaces(t)
	// Names and the /30 come from the pid, so that test processes running at once (several
	// clones of the repository) do not meet.
	pid := os.Getpid()
	name, hostIf, nsIf := fmt.Sprintf("%s%d", netnsPrefix, pid), fmt.Sprintf("cvh%d", pid), fmt.Sprintf("cvn%d", pid)
	n := pid % (1 << 14)
	p := &remotePeer{hostIP: fmt.Sprintf("10.213.%d.%d", n>>6, n&63*4+1), peerIP: fmt.Sprintf("10.213.%d.%d", n>>6, n&63*4+2)}
	ipCmd := func(args ...string) {
		t.Helper()
		if out, err := run(t, 10*time.Second, "ip", args...); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ipCmd("netns", "add", name)
	t.Cleanup(func() {
		if out, err := run(t, 10*time.Second, "ip", "netns", "del", name); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	ipCmd("link", "add", hostIf, "type", "veth", "peer", "name", nsIf, "netns", name)
	ipCmd("addr", "add", p.hostIP+"/30", "dev", hostIf)
	ipCmd("link", "set", hostIf, "up")
	ipCmd("-n", name, "addr", "add", p.peerIP+"/30", "dev", nsIf)
	ipCmd("-n", name, "link", "set", nsIf, "up")
	f, err := os.Open(filepath.Join("/run/netns", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	p.ns = f
	return p
}

// netnsPrefix starts the name of every namespace newRemotePeer makes; the pid follows.
const netnsPrefix = "camvault-test-"

// removeStaleNamespaces deletes the namespaces (and their veth pairs and routes) of test
// processes that died before their cleanup ran (a timeout's panic, a kill).
func removeStaleNamespaces(t *testing.T) {
	t.Helper()
	entries, _ := os.ReadDir("/run/netns") // absent before the first namespace
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), netnsPrefix))
		if !strings.HasPrefix(e.Name(), netnsPrefix) || err != nil || unix.Kill(pid, 0) != unix.ESRCH {
			continue
		}
		if out, err := run(t, 10*time.Second, "ip", "netns", "del", e.Name()); err != nil {
			t.Logf("ip netns del %s (stale): %v\n%s", e.Name(), err, out)
		} else {
			t.Logf("deleted the stale namespace %s", e.Name())
		}
	}
}

// dial connects to addr from inside the namespace. The socket is made on an OS thread that
// joined the namespace and is never given back to other goroutines (it ends with this
// goroutine), so nothing else runs in the namespace.
func (p *remotePeer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread exits with the goroutine
		if err := unix.Setns(int(p.ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{nil, fmt.Errorf("setns: %w", err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		done <- result{c, err}
	}()
	r := <-done
	if r.err == nil {
		if got := r.c.LocalAddr().(*net.TCPAddr).IP.String(); got != p.peerIP {
			r.c.Close()
			return nil, fmt.Errorf("dialled from %s, not the namespace's %s", got, p.peerIP)
		}
	}
	return r.c, r.err
}

// client returns an HTTP client whose connections start in the namespace; with certFile it
// trusts that certificate only (testcert names it localhost).
func (p *remotePeer) client(t *testing.T, certFile string) *http.Client {
	t.Helper()
	tr := &http.Transport{DialContext: p.dial, DisableKeepAlives: true}
	if certFile != "" {
		pem, err := os.ReadFile(certFile)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// rtspStatus sends one RTSP request from the namespace and returns the status line.
func (p *remotePeer) rtspStatus(t *testing.T, addr, request string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := p.dial(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

// TestRemotePeer asks camvault from a network namespace, a peer that is not loopback by its
// socket address (the unit tests fake that address). Without users every route of the HTTP
// API refuses it (401, problem+json) but /healthz, and RTSP refuses it DESCRIBE; with users,
// credentials from there are refused over plain HTTP and accepted over HTTPS.
func TestRemotePeer(t *testing.T) {
	t.Parallel()
	peer := newRemotePeer(t)
	const window = "start=2026-03-29T10:00:00Z&end=2026-03-29T11:00:00Z&unit=hour&tz=UTC"
	t.Run("no users", func(t *testing.T) {
		s := startServerLater(t, "")
		s.listenOn(peer.hostIP)
		s.start()
		t.Cleanup(s.stop)
		c := peer.client(t, "")
		routes := []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /api/v1/openapi.json", "GET /api/v1/cameras",
			"GET /api/v1/cameras/cam1", "GET /api/v1/cameras/cam1/recordings", "GET /api/v1/cameras/cam1/summary",
			"GET /api/v1/cameras/cam1/export.mp4", "GET /api/v1/cameras/cam1/export.m4s", "GET /api/v1/sessions",
			"DELETE /api/v1/sessions/1", "GET /api/v1/holds", "POST /api/v1/holds", "DELETE /api/v1/holds/1",
			"GET /api/v1/retention/dry-run", "POST /api/v1/retention/dry-run", "GET /api/v1/storage"}
		for _, route := range routes {
			method, path, _ := strings.Cut(route, " ")
			req, err := http.NewRequest(method, "http://"+s.http+path+"?"+window, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", route, err)
			}
			resp.Body.Close()
			want := http.StatusUnauthorized
			if route == "GET /healthz" {
				want = http.StatusOK
			}
			if resp.StatusCode != want || want != http.StatusOK && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s from %s: %s (%s), want %d", route, peer.peerIP, resp.Status, resp.Header.Get("Content-Type"), want)
			}
		}
		if got := peer.rtspStatus(t, s.rtsp, "DESCRIBE rtsp://"+s.rtsp+"/cam1 RTSP/1.0\r\nCSeq: 1\r\n\r\n"); !strings.HasPrefix(got, "RTSP/1.0 401") {
			t.Errorf("RTSP DESCRIBE from %s: %q, want 401", peer.peerIP, got)
		}
	})
	t.Run("users", func(t *testing.T) {
		s, _ := tlsServerLater(t, usersYAML(t, []testUser{{"apiuser", "api", "*"}}))
		s.listenOn(peer.hostIP)
		s.start()
		t.Cleanup(s.stop)
		for _, tc := range []struct {
			name, url string
			user      bool
			want      int
		}{
			{"Basic over plain HTTP", "http://" + s.http, true, http.StatusUnauthorized},
			{"anonymous over HTTPS", "https://" + s.https, false, http.StatusUnauthorized},
			{"Basic over HTTPS", "https://" + s.https, true, http.StatusOK},
		} {
			req, err := http.NewRequest(http.MethodGet, tc.url+"/api/v1/cameras", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.user {
				req.SetBasicAuth("apiuser", reverse("apiuser"))
			}
			resp, err := peer.client(t, s.cert).Do(req)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s from %s: %s, want %d", tc.name, peer.peerIP, resp.Status, tc.want)
			}
		}
	})
}

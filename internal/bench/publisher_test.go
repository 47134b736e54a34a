package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/internal/rtspservertest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	rtspauth "github.com/camvault/camvault/rtsp/auth"
	"github.com/camvault/camvault/rtsp/base"
)

// recordingHandler is the rtsp.Handler of the publisher tests: it takes
// every ANNOUNCE (of an authenticated user when needUser) and keeps what
// each publication receives.
type recordingHandler struct {
	needUser bool
	mu       sync.Mutex
	reqs     []*rtsp.AnnounceRequest
	pubs     []*recordedPub
}

func (h *recordingHandler) Announce(_ context.Context, req *rtsp.AnnounceRequest) (rtsp.Publication, error) {
	if h.needUser && req.User == "" {
		return nil, &base.Error{Status: base.StatusUnauthorized, Reason: "authentication required"}
	}
	tracks := testClip(1, time.Millisecond).Tracks
	p := &recordedPub{controls: []string{tracks[0].Control, tracks[1].Control}, closed: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reqs, h.pubs = append(h.reqs, req), append(h.pubs, p)
	return p, nil
}

func (h *recordingHandler) Describe(context.Context, *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	return nil, &base.Error{Status: base.StatusNotFound, Reason: "no playback here"}
}

// recordedPub keeps the packets of one publication.
type recordedPub struct {
	controls []string
	closed   chan struct{} // closed by Close

	mu      sync.Mutex // guards the fields below
	tcp     bool
	packets []Packet // Stream and a copy of Data
	reason  error
}

func (p *recordedPub) Controls() []string { return p.controls }

func (p *recordedPub) Record(info rtsp.RecordInfo) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tcp = info.TCP
	return nil
}

func (p *recordedPub) RTP(stream int, data []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.packets = append(p.packets, Packet{Stream: stream, Data: bytes.Clone(data)})
}

func (p *recordedPub) RTCP(int, []byte) {}

func (p *recordedPub) Close(reason error) {
	p.mu.Lock()
	p.reason = reason
	p.mu.Unlock()
	close(p.closed)
}

// benchCredentials knows the bench user.
type benchCredentials struct{}

func (benchCredentials) DigestHA1(user, algorithm string) (string, bool) {
	alg := auth.DigestMD5
	if algorithm == rtspauth.AlgorithmSHA256 {
		alg = auth.DigestSHA256
	}
	ha1, err := auth.DigestHA1(alg, user, rtspauth.DefaultRealm, benchPassword)
	return ha1, err == nil && user == benchUser
}

func (benchCredentials) CheckPassword(_ context.Context, user, password string) bool {
	return user == benchUser && password == benchPassword
}

// TestPublisher pushes a synthetic clip with the bench publisher to a real
// rtsp.Server and checks what the server's handler got: the announced
// path, SDP and user, the transport, and every packet in order on its
// stream.
func TestPublisher(t *testing.T) {
	for _, tc := range []struct {
		name      string
		transport string
		auth, tls bool
	}{
		{"tcp", "tcp", false, false},
		{"udp", "udp", false, false},
		{"tcp+auth", "tcp", true, false},
		{"tls+auth", "tcp", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &recordingHandler{needUser: tc.auth}
			cfg := rtsp.Config{Handler: h}
			if tc.auth {
				sa, err := rtspauth.NewServer(rtspauth.ServerConfig{})
				if err != nil {
					t.Fatal(err)
				}
				cfg.Access = &rtsp.Access{Auth: sa, Credentials: benchCredentials{}}
			}
			if tc.tls {
				cert, key, err := writeCert(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				pair, err := tls.LoadX509KeyPair(cert, key)
				if err != nil {
					t.Fatal(err)
				}
				cfg.TLS, cfg.TLSAddress = &tls.Config{Certificates: []tls.Certificate{pair}}, "127.0.0.1:0"
			}
			srv := rtspservertest.Start(t, cfg)
			sched := mustSchedule(t, testClip(20, 2*time.Millisecond), defaultTick)
			p := &publisher{addr: srv.Addr().String(), camera: "bench-0000", transport: tc.transport, sched: sched}
			if tc.auth {
				p.user, p.password = benchUser, benchPassword
			}
			if tc.tls {
				p.addr, p.tls = srv.TLSAddr().String(), true
			}
			ctx := context.Background()
			if err := p.connect(ctx); err != nil {
				p.close()
				t.Fatal(err)
			}
			err := p.stream(ctx, time.Now())
			p.close()
			if err != nil {
				t.Fatal(err)
			}
			checkPublication(t, h, sched.clip, tc.transport == "tcp", tc.auth)
		})
	}
}

// checkPublication checks the one publication h received.
func checkPublication(t *testing.T, h *recordingHandler, c *Clip, tcp, authenticated bool) {
	t.Helper()
	h.mu.Lock()
	if len(h.pubs) != 1 {
		h.mu.Unlock()
		t.Fatalf("%d publications, want 1", len(h.pubs))
	}
	req, pub := h.reqs[0], h.pubs[0]
	h.mu.Unlock()
	rtsptest.Receive(t, "publication closed after TEARDOWN", pub.closed)
	if req.Path != "bench-0000" || !bytes.Equal(req.SDP, c.SDP()) || req.UserAgent != userAgent || !req.Peer.Addr().IsLoopback() {
		t.Errorf("ANNOUNCE %+v", req)
	}
	if want := map[bool]string{true: benchUser}[authenticated]; req.User != want {
		t.Errorf("ANNOUNCE user %q, want %q", req.User, want)
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if !errors.Is(pub.reason, rtsp.ErrTeardown) || pub.tcp != tcp {
		t.Errorf("publication: tcp %v, closed by %v; want tcp %v, TEARDOWN", pub.tcp, pub.reason, tcp)
	}
	if len(pub.packets) != len(c.Packets) {
		t.Fatalf("%d packets received, want %d", len(pub.packets), len(c.Packets))
	}
	for i, p := range pub.packets {
		if p.Stream != c.Packets[i].Stream || !bytes.Equal(p.Data, c.Packets[i].Data) {
			t.Fatalf("packet %d: stream %d, %d bytes; want stream %d, %d bytes", i,
				p.Stream, len(p.Data), c.Packets[i].Stream, len(c.Packets[i].Data))
		}
	}
}

// TestPublisherRefused checks that a publisher without credentials gets
// the server's 401 as an error.
func TestPublisherRefused(t *testing.T) {
	sa, err := rtspauth.NewServer(rtspauth.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	srv := rtspservertest.Start(t, rtsp.Config{Handler: &recordingHandler{needUser: true},
		Access: &rtsp.Access{Auth: sa, Credentials: benchCredentials{}}})
	p := &publisher{addr: srv.Addr().String(), camera: "bench-0000", transport: "tcp",
		sched: mustSchedule(t, testClip(1, time.Millisecond), 0)}
	err = p.connect(context.Background())
	p.close()
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("401")) {
		t.Errorf("connect without credentials: %v, want a 401", err)
	}
}

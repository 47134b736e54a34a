package api_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/camvault/camvault/api"
)

const peerToken = "0123456789abcdef0123456789abcdef"

// testOwners is a cluster's ownership as api.LivePeers reads it: camera to the other node
// that owns it.
type testOwners struct {
	mu    sync.Mutex
	nodes map[string]api.PeerNode
}

func (o *testOwners) LiveOwner(camera string) (api.PeerNode, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, ok := o.nodes[camera]
	return n, ok
}

func (o *testOwners) set(camera string, n api.PeerNode, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ok {
		o.nodes[camera] = n
	} else {
		delete(o.nodes, camera)
	}
}

// TestPeerLiveAuth: the peer live endpoint answers 401 to anything but the node's peer
// token (no token, a user's credentials, another token), 426 without the upgrade once the
// token is right, and is not there (404) on a server without a peer token.
func TestPeerLiveAuth(t *testing.T) {
	f := newFixtureDeps(t, func(d *api.Deps) { d.PeerToken = peerToken })
	newLiveCamera(t, f.doorLive).frames(1)
	addr, _ := f.serve(t)
	const target = "/cluster/v1/cameras/door/live.ws"
	for _, rq := range []request{{target: target, tls: true}, {target: target, tls: true, user: "viewer", password: "view"},
		{target: target, tls: true, bearer: f.token}, {target: target, tls: true, bearer: peerToken + "x"}} {
		if a := f.do(rq); a.code != http.StatusUnauthorized || !strings.Contains(a.header.Get("WWW-Authenticate"), "camvault cluster") {
			t.Errorf("%+v: %d %q, want 401 with a Bearer challenge", rq, a.code, a.header.Get("WWW-Authenticate"))
		}
	}
	if a := f.do(request{target: target, bearer: peerToken}); a.code != http.StatusUpgradeRequired {
		t.Errorf("the peer token without the upgrade: %d, want 426", a.code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+"/cluster/v1/cameras/door/live.ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + peerToken}}, Subprotocols: []string{"camvault.live.v1"}})
	if err != nil {
		t.Fatalf("the peer token: %v", err)
	}
	readStart(t, conn)
	conn.Close(websocket.StatusNormalClosure, "")

	plain := newFixture(t)
	if a := plain.do(request{target: "/cluster/v1/cameras/door/live.ws", tls: true, user: "ops", password: "pw"}); a.code != http.StatusNotFound {
		t.Errorf("without a peer token: %d, want 404", a.code)
	}
}

// TestRelayedLiveView: a node that does not own door relays its live view from the owner
// (another server, reached through its peer live endpoint): the read right is checked
// here, the stream arrives as the owner sends it, the view counts against this node's
// http.max_live_viewers, and it ends with 1001 "camera moved" when the owner changes and
// with 1000 "camera stopped" when the camera stops on the owner. An owner that cannot be
// reached is a 502.
func TestRelayedLiveView(t *testing.T) {
	owner := newFixtureDeps(t, func(d *api.Deps) { d.PeerToken = peerToken })
	ownerAddr, _ := owner.serve(t)
	node0 := api.PeerNode{Name: "node0", URL: "http://" + ownerAddr, Token: peerToken}
	owners := &testOwners{nodes: map[string]api.PeerNode{
		"door":    node0,
		"lobby-1": {Name: "node2", URL: "http://127.0.0.1:1", Token: peerToken}, // nothing listens there
	}}
	f := newFixtureDeps(t, func(d *api.Deps) { d.LivePeers = owners }, func(c *api.Config) { c.MaxLiveViewers = 1 })
	addr, _ := f.serve(t)
	cam := newLiveCamera(t, owner.doorLive)
	cam.frames(5)

	if _, resp, err := dialLive(t, addr, "door", "player", "play"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("without the read right: %v %v, want 403", err, resp)
	}
	if _, resp, err := dialLive(t, addr, "lobby-1", "viewer", "view"); err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("an owner that cannot be reached: %v %v, want 502", err, resp)
	}
	conn, resp, err := dialLive(t, addr, "door", "viewer", "view")
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer conn.CloseNow()
	if m := readStart(t, conn); m.MIME != `video/mp4; codecs="avc1.64001F,mp4a.40.2"` {
		t.Errorf("description %+v", m)
	}
	for i := range 4 {
		if s := readFragment(t, conn); s.TrackID != 1 || s.DTS != uint64(i) || s.Key != (i == 0) {
			t.Fatalf("cached frame %d: %+v", i, s)
		}
	}
	cam.frames(3)
	for n := 0; n < 3; {
		if s := readFragment(t, conn); s.TrackID == 1 {
			if want := uint64(4 + 3600*n); s.DTS != want {
				t.Fatalf("live frame %d: dts %d, want %d", n, s.DTS, want)
			}
			n++
		}
	}
	if second, resp, err := dialLive(t, addr, "door", "viewer", "view"); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("over this node's max_live_viewers: %v %v, want 503", err, resp)
		if second != nil {
			second.CloseNow()
		}
	}

	conn.Close(websocket.StatusNormalClosure, "") // the browser leaves: both views end
	if ended := f.waitEnded(t, 1); !slices.Equal(ended, []string{api.LiveEndClient}) {
		t.Errorf("this node's LiveEnded %q, want client", ended)
	}
	if ended := owner.waitEnded(t, 1); !slices.Equal(ended, []string{api.LiveEndClient}) {
		t.Errorf("the owner's LiveEnded %q, want client", ended)
	}
	conn, resp, err = dialLive(t, addr, "door", "viewer", "view")
	if err != nil {
		t.Fatalf("dial again: %v (%v)", err, resp)
	}
	defer conn.CloseNow()
	readStart(t, conn)
	owners.set("door", api.PeerNode{}, false) // door moves here
	if ce := readClose(t, conn); ce.Code != websocket.StatusGoingAway || ce.Reason != "camera moved" {
		t.Errorf("after the owner changed: %v, want 1001 camera moved", ce)
	}
	if ended := f.waitEnded(t, 2); ended[1] != api.LiveEndMoved {
		t.Errorf("this node's LiveEnded %q, want moved second", ended)
	}
	if ended := owner.waitEnded(t, 2); ended[1] != api.LiveEndClient {
		t.Errorf("the owner's LiveEnded %q, want client second", ended)
	}

	owners.set("door", node0, true) // and back
	conn, resp, err = dialLive(t, addr, "door", "viewer", "view")
	if err != nil {
		t.Fatalf("dial again: %v (%v)", err, resp)
	}
	defer conn.CloseNow()
	readStart(t, conn)
	owner.doorLive.Close()
	if ce := readClose(t, conn); ce.Code != websocket.StatusNormalClosure || ce.Reason != "camera stopped" {
		t.Errorf("after the camera stopped on its owner: %v, want 1000 camera stopped", ce)
	}
	if ended := f.waitEnded(t, 3); ended[2] != api.LiveEndCamera {
		t.Errorf("this node's LiveEnded %q, want camera third", ended)
	}
	if ended := owner.waitEnded(t, 3); ended[2] != api.LiveEndCamera {
		t.Errorf("the owner's LiveEnded %q, want camera third", ended)
	}
}

// TestRelayedLiveViewSlowBrowser: a browser that stops reading a relayed view is dropped by
// the relay once a write has waited http.live_write_timeout (slow); the owner, whose view
// the relay kept reading, sees its viewer leave.
func TestRelayedLiveViewSlowBrowser(t *testing.T) {
	owner := newFixtureDeps(t, func(d *api.Deps) { d.PeerToken = peerToken })
	ownerAddr, _ := owner.serve(t)
	owners := &testOwners{nodes: map[string]api.PeerNode{"door": {Name: "node0", URL: "http://" + ownerAddr, Token: peerToken}}}
	f := newFixtureDeps(t, func(d *api.Deps) { d.LivePeers = owners }, func(c *api.Config) { c.LiveWriteTimeout = 300 * time.Millisecond })
	addr, _ := f.serve(t)
	cam := newLiveCamera(t, owner.doorLive)
	cam.size = 60000
	cam.frames(1)
	conn := dialSlow(t, addr)
	defer conn.CloseNow()
	f.feedUntilEnded(cam)
	if ended := f.waitEnded(t, 1); !slices.Equal(ended, []string{api.LiveEndSlow}) {
		t.Fatalf("the relay's LiveEnded %q, want slow", ended)
	}
	if ended := owner.waitEnded(t, 1); !slices.Equal(ended, []string{api.LiveEndClient}) {
		t.Errorf("the owner's LiveEnded %q, want client", ended)
	}
}

// readClose reads until the view closes and returns its close frame's code and reason.
func readClose(t *testing.T, conn *websocket.Conn) websocket.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := conn.Read(ctx)
		if err == nil {
			continue
		}
		ce, ok := errors.AsType[websocket.CloseError](err)
		if !ok {
			t.Fatalf("the view ended without a close frame: %v", err)
		}
		return ce
	}
}

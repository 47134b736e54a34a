package rtsp

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestTunnelOwnerAdmits is the owner rule of a POST joining a tunnel
// (RTSP-HT-04, SEC-08).
func TestTunnelOwnerAdmits(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for _, tc := range []struct {
		name      string
		get, post tunnelOwner
		want      bool
	}{
		{"anonymous, same address", tunnelOwner{ip: a}, tunnelOwner{ip: a}, true},
		{"anonymous, other address", tunnelOwner{ip: a}, tunnelOwner{ip: b}, false},
		{"same user, other address", tunnelOwner{user: "u", ip: a}, tunnelOwner{user: "u", ip: b}, true},
		{"other user", tunnelOwner{user: "u", ip: a}, tunnelOwner{user: "v", ip: a}, false},
		{"user post on an anonymous get", tunnelOwner{ip: a}, tunnelOwner{user: "u", ip: a}, false},
		{"anonymous post on a user's get, same address", tunnelOwner{user: "u", ip: a}, tunnelOwner{ip: a}, true},
		{"tls on one half only", tunnelOwner{ip: a, tls: true}, tunnelOwner{ip: a}, false},
		{"tls on both", tunnelOwner{user: "u", ip: a, tls: true}, tunnelOwner{user: "u", ip: b, tls: true}, true},
	} {
		if got := tc.get.admits(tc.post); got != tc.want {
			t.Errorf("%s: admits %v, want %v", tc.name, got, tc.want)
		}
	}
}

// testTunnel returns a tunnel of cookie for the table, over nothing.
func testTunnel(tt *tunnelTable, cookie string, owner tunnelOwner) *tunnelConn {
	return newTunnelConn(discardConn{}, nil, cookie, owner, tt, time.Second, func() {})
}

func testPost(owner tunnelOwner) *postHalf { return newPostHalf(discardConn{}, nil, owner) }

// attached reports whether the table handed h to a tunnel.
func attached(h *postHalf) bool {
	select {
	case <-h.attached:
		return true
	default:
		return false
	}
}

// TestTunnelTable walks the table through pairing, its refusals and its
// bound on pending halves.
func TestTunnelTable(t *testing.T) {
	me := tunnelOwner{ip: netip.MustParseAddr("192.0.2.1")}
	other := tunnelOwner{ip: netip.MustParseAddr("192.0.2.2")}
	tt := newTunnelTable(2)
	checkSize := func(entries, pending int) {
		t.Helper()
		if e, p := tt.size(); e != entries || p != pending {
			t.Fatalf("%d entries, %d pending; want %d, %d", e, p, entries, pending)
		}
	}

	g := testTunnel(tt, "a", me)
	if err := tt.addGet(g); err != nil {
		t.Fatal(err)
	}
	if err := tt.addGet(testTunnel(tt, "a", me)); !errors.Is(err, errTunnelDuplicate) {
		t.Fatalf("second GET: %v", err)
	}
	checkSize(1, 1)
	if err := tt.addPost("a", testPost(other)); !errors.Is(err, errTunnelForeign) {
		t.Fatalf("POST of another address: %v", err)
	}
	p1 := testPost(me)
	if err := tt.addPost("a", p1); err != nil || !attached(p1) || <-g.posts != p1 {
		t.Fatalf("POST: %v, attached %v", err, attached(p1))
	}
	checkSize(1, 0)
	p2 := testPost(me) // the client replaces its POST before the server saw the first end
	if err := tt.addPost("a", p2); err != nil || attached(p2) {
		t.Fatalf("second POST: %v, attached %v", err, attached(p2))
	}
	if err := tt.addPost("a", testPost(me)); !errors.Is(err, errTunnelDuplicate) {
		t.Fatalf("third POST: %v", err)
	}
	tt.postEnded(g)
	if !attached(p2) || <-g.posts != p2 {
		t.Fatal("the waiting POST did not take the ended one's place")
	}

	early := testPost(me) // a POST before its GET
	if err := tt.addPost("b", early); err != nil {
		t.Fatal(err)
	}
	checkSize(2, 1)
	if err := tt.addGet(testTunnel(tt, "c", me)); err != nil {
		t.Fatal(err)
	}
	if err := tt.addGet(testTunnel(tt, "d", me)); !errors.Is(err, errTunnelsFull) {
		t.Fatalf("third pending half: %v", err)
	}
	if err := tt.addPost("e", testPost(me)); !errors.Is(err, errTunnelsFull) {
		t.Fatalf("fourth pending half: %v", err)
	}
	gb := testTunnel(tt, "b", other) // the GET of another client meets the early POST
	if err := tt.addGet(gb); err != nil {
		t.Fatal(err)
	}
	<-early.done
	if attached(early) || !errors.Is(early.err, errTunnelForeign) {
		t.Fatalf("early POST of another owner: attached %v, %v", attached(early), early.err)
	}
	if tt.dropWaiting("b", early) {
		t.Fatal("a refused POST was still waiting")
	}
	checkSize(3, 2) // a (paired), b and c (GETs without POST)

	waiting := testPost(other)
	if err := tt.addPost("b", waiting); err != nil || !attached(waiting) {
		t.Fatalf("owner's POST: %v", err)
	}
	<-gb.posts
	late := testPost(other)
	if err := tt.addPost("b", late); err != nil {
		t.Fatal(err)
	}
	tt.remove(gb) // the GET goes: the POST waiting for its turn is refused
	<-late.done
	if !errors.Is(late.err, errNoGet) {
		t.Fatalf("POST of a gone GET: %v", late.err)
	}
	tt.remove(g)
	tt.remove(g) // twice: no harm
	checkSize(1, 1)

	lonely := testPost(me)
	if err := tt.addPost("f", lonely); err != nil {
		t.Fatal(err)
	}
	if !tt.dropWaiting("f", lonely) {
		t.Fatal("a POST waiting for its GET was not dropped")
	}
	checkSize(1, 1)
}

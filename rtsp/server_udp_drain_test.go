package rtsp

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestDrainTarget(t *testing.T) {
	for _, tc := range []struct{ local, want string }{
		{"0.0.0.0:8000", "127.0.0.1:8000"},
		{"[::]:8000", "127.0.0.1:8000"}, // dual-stack wildcard: loopback reaches it
		{"127.0.0.1:8000", "127.0.0.1:8000"},
		{"[::ffff:192.0.2.7]:8000", "192.0.2.7:8000"},
		{"192.0.2.7:9000", "192.0.2.7:9000"},
		{"[2001:db8::1]:8000", "[2001:db8::1]:8000"},
	} {
		if got := drainTarget(netip.MustParseAddrPort(tc.local)); got.String() != tc.want {
			t.Errorf("drainTarget(%s) = %s, want %s", tc.local, got, tc.want)
		}
	}
}

// TestUDPDrainMarkers: each waiter runs when the reader gets to its marker,
// behind the datagrams that arrived before it, and not before; other
// sources are not markers.
func TestUDPDrainMarkers(t *testing.T) {
	for _, bind := range []string{"127.0.0.1:0", "[::]:0"} {
		t.Run(bind, func(t *testing.T) {
			sock, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(bind)))
			if err != nil {
				t.Fatal(err)
			}
			defer sock.Close()
			d, err := newUDPDrain(sock.LocalAddr().(*net.UDPAddr).AddrPort())
			if err != nil {
				t.Fatal(err)
			}
			defer d.close()
			peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			var ran []int
			send := func() {
				if _, err := peer.WriteToUDPAddrPort([]byte("media"), d.dst); err != nil {
					t.Fatal(err)
				}
			}
			send()
			d.after(func() { ran = append(ran, 1) })
			send()
			d.after(func() { ran = append(ran, 2) })
			var got []string
			buf := make([]byte, 64)
			_ = sock.SetReadDeadline(time.Now().Add(10 * time.Second)) // fails the test, never paces it
			for len(ran) < 2 {
				n, src, err := sock.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("after %v, waiters run %v: %v", got, ran, err)
				}
				src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
				if d.marker(src, buf[:n]) {
					got = append(got, "marker")
					continue
				}
				got = append(got, string(buf[:n]))
				if want := len(got) / 2; len(ran) != want {
					t.Fatalf("after %v, waiters run %v", got, ran)
				}
			}
			if want := "[media marker media marker]"; fmt.Sprint(got) != want || fmt.Sprint(ran) != "[1 2]" {
				t.Errorf("read %v and ran %v, want %s and [1 2]", got, ran, want)
			}
		})
	}
}

// TestUDPDrainSendFails: a marker that cannot be sent runs its waiter at once.
func TestUDPDrainSendFails(t *testing.T) {
	d, err := newUDPDrain(netip.MustParseAddrPort("127.0.0.1:9"))
	if err != nil {
		t.Fatal(err)
	}
	d.close()
	ran := false
	d.after(func() { ran = true })
	if !ran || len(d.waiting) != 0 {
		t.Errorf("ran %v, %d waiting", ran, len(d.waiting))
	}
}

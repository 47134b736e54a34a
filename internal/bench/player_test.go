package bench

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// serverScript plays camvault for rtsptest.Camera, its archive or a live
// camera: it answers every request 200 (DESCRIBE with the clip's SDP and a
// Content-Base, SETUP with a session, PLAY with the header lines playHdr),
// writes media after the PLAY response, and returns after TEARDOWN, or
// right after PLAY with hangUp. Requests go to reqs.
func serverScript(sdp, media []byte, hangUp bool, reqs chan<- *base.Request, playHdr ...string) func(*rtsptest.CameraConn) error {
	return func(cc *rtsptest.CameraConn) error {
		for {
			req, err := cc.Read()
			if err != nil {
				return err
			}
			reqs <- req
			var body string
			var hdr []string
			switch req.Method {
			case base.MethodDescribe:
				body, hdr = string(sdp), []string{"Content-Base", req.URL + "/"}
			case base.MethodSetup:
				hdr = []string{"Session", "s1;timeout=60"}
			case base.MethodPlay:
				hdr = playHdr
			}
			if err := cc.Reply(req, base.StatusOK, body, hdr...); err != nil || req.Method == base.MethodTeardown {
				return err
			}
			if req.Method != base.MethodPlay {
				continue
			}
			if _, err := cc.Conn.Write(media); err != nil || hangUp {
				return err
			}
		}
	}
}

// frames returns packets as interleaved frames on their channels.
func frames(t *testing.T, channels []uint8, packets ...[]byte) []byte {
	t.Helper()
	var out []byte
	for i, p := range packets {
		b, err := (&base.InterleavedFrame{Channel: channels[i], Payload: p}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// rtcpPacket returns an RTCP packet of type pt with n words after the header.
func rtcpPacket(pt uint8, n int) []byte {
	b := make([]byte, 4+4*n)
	b[0], b[1], b[3] = 0x80, pt, byte(n)
	return b
}

// TestPlayerPlayAll checks the player's requests and its counts: video
// frames by marker bit, sequence gaps, and the end at a BYE per stream.
func TestPlayerPlayAll(t *testing.T) {
	c := testClip(1, time.Millisecond)
	media := frames(t, []uint8{0, 0, 2, 0, 1, 0, 2, 3, 1},
		rtpPacket(96, 1, 0, false, 100), rtpPacket(96, 2, 0, true, 50), // frame 1
		rtpPacket(97, 10, 0, true, 20),
		rtpPacket(96, 3, 3600, true, 80), // frame 2
		rtcpPacket(200, 6),               // a sender report
		rtpPacket(96, 5, 7200, true, 80), // frame 3, after a gap
		rtpPacket(97, 11, 0, true, 20),
		append(rtcpPacket(200, 6), rtcpPacket(203, 1)...), // SR + BYE
		rtcpPacket(203, 1))
	reqs := make(chan *base.Request, 16)
	cam := rtsptest.NewCamera(t)
	cam.Serve(serverScript(c.SDP(), media, false, reqs))

	p := newPlayer(cam.Addr, "archive/src")
	if err := p.open(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	gotFrames, gaps, err := p.playAll(10 * time.Second)
	p.close()
	if err != nil || gotFrames != 3 || gaps != 1 {
		t.Errorf("playAll = %d frames, %d gaps, %v; want 3, 1", gotFrames, gaps, err)
	}
	cam.Wait(t)
	close(reqs)
	baseURL := "rtsp://" + cam.Addr + "/archive/src"
	want := []string{
		"DESCRIBE " + baseURL + " application/sdp",
		"SETUP " + baseURL + "/trackID=0 RTP/AVP/TCP;unicast;interleaved=0-1",
		"SETUP " + baseURL + "/trackID=1 RTP/AVP/TCP;unicast;interleaved=2-3",
		"PLAY " + baseURL + "/ npt=0.000-",
		"TEARDOWN " + baseURL + "/ ",
	}
	var got []string
	for r := range reqs {
		v := r.Header.Get("Accept") + r.Header.Get("Transport") + r.Header.Get("Range")
		got = append(got, string(r.Method)+" "+r.URL+" "+v)
		if r.Method != base.MethodDescribe && r.Method != base.MethodSetup && r.Header.Get("Session") != "s1" {
			t.Errorf("%s without the session", r.Method)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests\n%q\nwant\n%q", got, want)
	}
}

// TestPlayerFirstPacket checks seek timing: PLAY with a clock Range ends
// at the first RTP packet, RTCP before it does not count, and TEARDOWN is
// answered while media still arrives.
func TestPlayerFirstPacket(t *testing.T) {
	c := testClip(1, time.Millisecond)
	media := frames(t, []uint8{1, 0, 0, 2}, rtcpPacket(200, 6), rtpPacket(96, 1, 0, false, 1400),
		rtpPacket(96, 2, 0, true, 3000), rtpPacket(97, 3, 0, true, 20))
	reqs := make(chan *base.Request, 16)
	cam := rtsptest.NewCamera(t)
	cam.Serve(serverScript(c.SDP(), media, false, reqs))

	p := newPlayer(cam.Addr, "archive/idx-001")
	if err := p.open(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 500e6, time.UTC)
	if _, err := p.playUntilFirstPacket(&headers.Range{Unit: headers.RangeClock, Start: &headers.RangePoint{Clock: at}}); err != nil {
		t.Fatal(err)
	}
	p.close()
	cam.Wait(t)
	close(reqs)
	var methods []base.Method
	for r := range reqs {
		methods = append(methods, r.Method)
		if r.Method == base.MethodPlay && r.Header.Get("Range") != "clock=20261101T000000.5Z-" {
			t.Errorf("PLAY Range %q", r.Header.Get("Range"))
		}
	}
	want := []base.Method{base.MethodDescribe, base.MethodSetup, base.MethodPlay, base.MethodTeardown}
	if !slices.Equal(methods, want) {
		t.Errorf("requests %v, want %v (one SETUP)", methods, want)
	}
}

// TestPlayerStreamEnds checks that a connection closed in the middle of a
// frame, before the BYEs, is an error and not a clean end.
func TestPlayerStreamEnds(t *testing.T) {
	reqs := make(chan *base.Request, 16)
	media := frames(t, []uint8{0}, rtpPacket(96, 1, 0, true, 100))[:50]
	cam := rtsptest.NewCamera(t)
	cam.Serve(serverScript(testClip(1, time.Millisecond).SDP(), media, true, reqs))
	p := newPlayer(cam.Addr, "archive/src")
	if err := p.open(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	_, _, err := p.playAll(10 * time.Second)
	p.rc.close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("playAll of a cut stream: %v, want unexpected EOF", err)
	}
	if r := cam.Next(t); r.Err != nil {
		t.Errorf("script: %v", r.Err)
	}
}

func TestCountBye(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		pkt  []byte
		want int
	}{
		{"bye", rtcpPacket(203, 1), 1},
		{"sr+bye", append(rtcpPacket(200, 6), rtcpPacket(203, 1)...), 1},
		{"sr", rtcpPacket(200, 6), 0},
		{"truncated compound", append(rtcpPacket(200, 6), 0x80), 0},
		{"length past the end", append(rtcpPacket(200, 9)[:8], rtcpPacket(203, 1)...), 0},
		{"short", []byte{0x80, 203}, 0},
	} {
		if got := countBye(tc.pkt); got != tc.want {
			t.Errorf("%s: countBye = %d, want %d", tc.name, got, tc.want)
		}
	}
}

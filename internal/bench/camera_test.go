package bench

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// TestCamera plays the scripted camera with rtsp.Client, the client
// camvault pulls with: OPTIONS, DESCRIBE, SETUP of both streams and PLAY
// must succeed over TCP and UDP, and every packet of the clip must arrive
// in order on its stream.
func TestCamera(t *testing.T) {
	for _, transport := range []string{"tcp", "udp"} {
		t.Run(transport, func(t *testing.T) {
			sched := mustSchedule(t, testClip(20, 2*time.Millisecond), defaultTick)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// A start slot long past: the camera streams at PLAY and counts it late.
			cam, err := startCamera(ctx, sched, 1, time.Now().Add(-time.Hour), 0)
			if err != nil {
				t.Fatal(err)
			}
			got, all := collectRTP(len(sched.clip.Packets))
			c, err := rtsp.Dial(ctx, rtsp.ClientConfig{URL: cam.url(0), Transport: transport, OnRTP: got.add})
			if err != nil {
				cam.close()
				t.Fatal(err)
			}
			runErr := make(chan error, 1)
			go func() { runErr <- c.Run(ctx) }()
			select {
			case <-all:
			case err := <-runErr:
				t.Errorf("client stopped: %v", err)
			case <-time.After(10 * time.Second):
				t.Error("packets missing after 10s")
			}
			_ = c.Close()
			if err := <-runErr; err != nil && !errors.Is(err, rtsp.ErrClientClosed) {
				t.Errorf("Run: %v", err)
			}
			late, problems := cam.close()
			if late != 1 || len(problems) != 0 {
				t.Errorf("camera: %d late, problems %q; want 1 late", late, problems)
			}
			if !bytes.Equal(c.SDP(), sched.sdp) || c.Transport() != transport {
				t.Errorf("client: transport %s, SDP\n%s", c.Transport(), c.SDP())
			}
			got.check(t, sched.clip)
			ct, ok := cam.timesOf(cam.url(0) + "/")
			if !ok || ct.accepted.IsZero() || ct.describe.Before(ct.accepted) || ct.play.Before(ct.describe) {
				t.Errorf("camera times %+v, %v; want accepted <= DESCRIBE <= PLAY", ct, ok)
			}
		})
	}
}

// rtpLog collects the packets a client receives.
type rtpLog struct {
	want int
	all  chan struct{} // closed when want packets arrived

	mu      sync.Mutex // guards packets
	packets []Packet
}

func collectRTP(want int) (*rtpLog, <-chan struct{}) {
	l := &rtpLog{want: want, all: make(chan struct{})}
	return l, l.all
}

func (l *rtpLog) add(stream int, pkt []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.packets = append(l.packets, Packet{Stream: stream, Data: bytes.Clone(pkt)})
	if len(l.packets) == l.want {
		close(l.all)
	}
}

// check compares each stream's packets with the clip's.
func (l *rtpLog) check(t *testing.T, c *Clip) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for stream := range c.Tracks {
		var got, want [][]byte
		for _, p := range l.packets {
			if p.Stream == stream {
				got = append(got, p.Data)
			}
		}
		for _, p := range c.Packets {
			if p.Stream == stream {
				want = append(want, p.Data)
			}
		}
		if len(got) != len(want) {
			t.Errorf("stream %d: %d packets, want %d", stream, len(got), len(want))
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("stream %d packet %d differs", stream, i)
				break
			}
		}
	}
}

// TestCameraRefusesUnknownStream checks SETUP of a control the clip does
// not have.
func TestCameraRefusesUnknownStream(t *testing.T) {
	sched := mustSchedule(t, testClip(1, time.Millisecond), 0)
	cam, err := startCamera(context.Background(), sched, 1, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cam.close()
	rc, err := dialRTSP(context.Background(), cam.ln.Addr().String(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	h := base.Header{}
	h.Set("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")
	if _, err := rc.do(base.MethodSetup, cam.url(0)+"/trackID=7", h, nil); err == nil {
		t.Error("SETUP of an unknown stream succeeded")
	}
	if _, err := rc.do(base.MethodSetup, cam.url(0)+"/streamid=0", h, nil); err != nil {
		t.Errorf("SETUP of stream 0: %v", err)
	}
	if rc.session != "1" {
		t.Errorf("session %q, want 1", rc.session)
	}
}

// TestCameraSlot checks the ramp: camera k of n starts at t0+ramp*k/n,
// or at PLAY when that is later (counted late), and streamsEnd follows the
// last stream's end, a late one's too.
func TestCameraSlot(t *testing.T) {
	const dur = 6 * time.Second
	t0 := time.Now().Add(time.Hour)
	c := &camera{t0: t0, ramp: 10 * time.Second, n: 4, sched: &schedule{clip: &Clip{Duration: dur}}}
	if got := c.slot(2); !got.Equal(t0.Add(5 * time.Second)) {
		t.Errorf("slot(2) = %v, want t0+5s", got.Sub(t0))
	}
	if got := c.slot(0); !got.Equal(t0) || c.late != 0 {
		t.Errorf("slot(0) = %v, late %d; want t0, 0", got.Sub(t0), c.late)
	}
	if got := c.streamsEnd(); !got.Equal(t0.Add(5*time.Second + dur)) {
		t.Errorf("streamsEnd = t0%+v, want the end of slot 2's stream, t0+11s", got.Sub(t0))
	}
	c.t0 = time.Now().Add(-time.Hour)
	got := c.slot(0)
	if time.Since(got) > time.Minute || c.late != 1 {
		t.Errorf("late slot = %v ago, late %d", time.Since(got), c.late)
	}
	if end := c.streamsEnd(); !end.Equal(t0.Add(5*time.Second + dur)) {
		t.Errorf("streamsEnd = t0%+v after an earlier late stream, want t0+11s", end.Sub(t0))
	}
	c.t0, c.lastEnd = time.Now().Add(-time.Hour), time.Time{}
	got = c.slot(1)
	if end := c.streamsEnd(); !end.Equal(got.Add(dur)) || c.late != 2 {
		t.Errorf("streamsEnd = %v after the late start, want start+%v; late %d", end.Sub(got), dur, c.late)
	}
}

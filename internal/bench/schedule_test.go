package bench

import (
	"bufio"
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp/base"
)

// TestSchedule checks that batches group the packets due within a tick and
// that their interleaved form decodes back to the packets, stream i on
// channel 2i.
func TestSchedule(t *testing.T) {
	t.Parallel()
	c := testClip(10, 8*time.Millisecond) // frames at 0, 8, 16 ... 72 ms
	for _, tc := range []struct {
		tick    time.Duration
		batches int
	}{
		{0, 10},                     // one per access unit
		{defaultTick, 4},            // 0-19, 20-39, 40-59, 60-79 ms
		{100 * time.Millisecond, 1}, // everything at once
	} {
		s := mustSchedule(t, c, tc.tick)
		if len(s.batches) != tc.batches {
			t.Fatalf("tick %v: %d batches, want %d", tc.tick, len(s.batches), tc.batches)
		}
		var got []Packet
		for i, b := range s.batches {
			if i > 0 && b.at <= s.batches[i-1].at {
				t.Errorf("tick %v: batch %d at %v after %v", tc.tick, i, b.at, s.batches[i-1].at)
			}
			br := bufio.NewReader(bytes.NewReader(b.interleaved))
			buf := make([]byte, maxFrame)
			for j := range b.datagrams {
				var f base.InterleavedFrame
				if err := f.Unmarshal(br, buf); err != nil {
					t.Fatalf("tick %v batch %d frame %d: %v", tc.tick, i, j, err)
				}
				if int(f.Channel) != 2*b.streams[j] || !bytes.Equal(f.Payload, b.datagrams[j]) {
					t.Fatalf("tick %v batch %d frame %d: channel %d, want %d", tc.tick, i, j, f.Channel, 2*b.streams[j])
				}
				got = append(got, Packet{Stream: b.streams[j], Data: b.datagrams[j]})
			}
			if br.Buffered() != 0 {
				t.Errorf("tick %v batch %d: %d bytes after the frames", tc.tick, i, br.Buffered())
			}
		}
		if len(got) != len(c.Packets) {
			t.Fatalf("tick %v: %d packets, want %d", tc.tick, len(got), len(c.Packets))
		}
		for i, p := range got {
			if p.Stream != c.Packets[i].Stream || !bytes.Equal(p.Data, c.Packets[i].Data) {
				t.Fatalf("tick %v: packet %d differs", tc.tick, i)
			}
		}
	}
}

// TestClipSDP checks that the announced SDP is media.MarshalSDP's and
// describes the clip's tracks.
func TestClipSDP(t *testing.T) {
	t.Parallel()
	c := testClip(1, time.Millisecond)
	tracks, err := media.TracksFromSDP(c.SDP(), media.SDPLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tracks) != 2 || tracks[0].Codec != media.CodecH264 || tracks[1].Codec != media.CodecAAC ||
		tracks[0].Control != "streamid=0" || tracks[1].Control != "streamid=1" {
		t.Errorf("tracks of the clip SDP: %+v", tracks)
	}
}

// discardConn is a net.Conn that accepts every write.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

// TestWriteBatchAllocs keeps the per-packet path of 500 publishers free of
// allocations.
func TestWriteBatchAllocs(t *testing.T) {
	s := mustSchedule(t, testClip(10, 8*time.Millisecond), defaultTick)
	snd := sender{sched: s, tcp: discardConn{}}
	if n := testing.AllocsPerRun(100, func() {
		for i := range s.batches {
			if err := snd.writeBatch(&s.batches[i]); err != nil {
				t.Fatal(err)
			}
		}
	}); n != 0 {
		t.Errorf("writeBatch: %v allocations per clip", n)
	}
}

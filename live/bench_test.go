package live_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/live"
	"github.com/camvault/camvault/rtsp"
)

// discard is an Output that counts packets.
type discard struct{ n atomic.Int64 }

func (d *discard) WriteRTP(int, []byte) error  { d.n.Add(1); return nil }
func (d *discard) WriteRTCP(int, []byte) error { d.n.Add(1); return nil }

// BenchmarkFanOut measures one camera packet relayed to n viewers: the
// hub's copy and queueing on the source's goroutine, and each viewer's
// sender handing it to its Output. One op is one packet to all viewers.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("viewers=%d", n), func(b *testing.B) {
			r, err := live.New(live.Config{})
			if err != nil {
				b.Fatal(err)
			}
			w, err := r.Open("cam", testTracks(), ingest.Feed{TCP: true})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			cam := &camera{w: w}
			cam.frames(gopFrames) // a group of pictures in the cache
			outs := make([]*discard, n)
			for i := range outs {
				outs[i] = &discard{}
				pres, err := r.Describe(b.Context(), &rtsp.DescribeRequest{Path: "cam"})
				if err != nil {
					b.Fatal(err)
				}
				defer pres.Close(rtsp.ErrTeardown)
				resp, err := pres.Play(&rtsp.PlayRequest{Streams: []int{0}, Out: outs[i]})
				if err != nil {
					b.Fatal(err)
				}
				resp.Start()
			}
			pkt := rtpPacket(96, 0, 0, videoSSRC, true, append([]byte{0x41, 1}, make([]byte, 1200)...))
			// A keyframe every 50 frames of 8 packets keeps the cached group
			// (and the pool's working set) at its real size.
			const keyEvery = 50 * 8
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			b.ResetTimer()
			for i := range b.N {
				pkt[2], pkt[3] = byte(i>>8), byte(i)
				ts := uint32(i/8) * frameTicks // a frame of eight packets
				pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
				pkt[12] = 0x41
				if i%keyEvery == 0 {
					pkt[12] = 0x65
				}
				w.WriteRTP(0, pkt)
				if i%64 == 63 {
					// Let the senders keep up, as a camera's pace would.
					for _, o := range outs {
						for o.n.Load() < int64(i-512) {
							runtime.Gosched()
						}
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/packet/viewer")
		})
	}
}

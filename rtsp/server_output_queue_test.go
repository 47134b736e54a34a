package rtsp

import (
	"testing"
	"time"
)

// TestMediaQueueReusesHotBuffers: a viewer that keeps up (one frame in
// flight at a time) touches one buffer of the queue's 256, so a play
// connection's memory is what it has in flight, not its bound.
func TestMediaQueueReusesHotBuffers(t *testing.T) {
	q := newMediaQueue(256)
	q.fill()
	pkt := make([]byte, 1400)
	for range 1000 {
		<-q.tokens
		fb := q.take()
		fb.fill(0, pkt)
		q.queue <- fb
		q.put(<-q.queue)
	}
	used := 0
	for _, fb := range q.free {
		if cap(fb.b) > 0 {
			used++
		}
	}
	if used != 1 || len(q.free) != 256 || len(q.tokens) != 256 {
		t.Fatalf("%d buffers with memory, %d free, %d tokens; want 1, 256, 256", used, len(q.free), len(q.tokens))
	}
}

// TestMediaQueueTrimsAfterBurst: a burst that used every buffer (a live
// viewer's start) keeps, after the next trim, only the buffers used since.
func TestMediaQueueTrimsAfterBurst(t *testing.T) {
	q := newMediaQueue(256)
	q.fill()
	pkt := make([]byte, 1400)
	send := func(depth int) {
		for range depth {
			<-q.tokens
			fb := q.take()
			fb.fill(0, pkt)
			q.queue <- fb
		}
		for range depth {
			q.put(<-q.queue)
		}
	}
	withMemory := func() (n int) {
		for _, fb := range q.free {
			if cap(fb.b) > 0 {
				n++
			}
		}
		return n
	}
	now := time.Now()
	q.trim(now)
	send(256) // the burst
	q.trim(now.Add(time.Second))
	if n := withMemory(); n != 256 {
		t.Fatalf("%d buffers with memory right after the burst, want 256 (trims wait %v)", n, trimEvery)
	}
	q.trim(now.Add(trimEvery))
	send(3) // steady play: three in flight
	q.trim(now.Add(2 * trimEvery))
	if n := withMemory(); n != 3 {
		t.Fatalf("%d buffers keep memory after steady play, want the 3 it used", n)
	}
}

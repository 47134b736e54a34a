package rtsp

import "testing"

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

package live

import (
	"context"
	"encoding/binary"
	"log/slog"
	"sync"
	"time"

	"github.com/camvault/camvault/rtsp"
)

// viewer is one PLAY of a live presentation: a bounded queue that the hub
// fills and one goroutine that drains it into the session's Output.
type viewer struct {
	limit    int           // queue bound in bytes
	delay    time.Duration // Config.BatchDelay
	setUp    []bool        // by source track: the client set up its stream
	toStream []int         // by source track: the viewer's stream index
	wantKey  bool          // the key track is set up: skipping ends at a keyframe
	camera   string
	moved    func(ctx context.Context, camera string) (string, bool) // Config.Moved
	redirect rtsp.Redirector                                         // nil: not an RTSP viewer
	log      *slog.Logger
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}

	// Owned by the sending goroutine.
	batch   []entry
	pkts    []rtsp.Packet
	scratch []byte

	// mu guards the fields below.
	mu        sync.Mutex
	q         ring
	qBytes    int
	skipping  bool      // sent nothing until the next keyframe
	skipSince time.Time // when it fell behind; zero while waiting for the first keyframe
	unwoken   int       // packets queued since the sender was last woken by offer
	woken     time.Time // when offer last woke the sender
	skips     uint64    // times it fell behind
	dropped   uint64    // packets not sent to it
	gone      [][]byte  // the source ended: BYEs to send after the queue, by source track
	finished  bool      // the queue and the BYEs were sent after the source ended
}

// sendBatch is how many queued packets the sender takes at a time.
const sendBatch = 64

// maxKeptScratch bounds the copy buffer a viewer keeps once it has sent no
// retimed packet in a batch.
const maxKeptScratch = 2048

func newViewer(h *hub, streams []int) *viewer {
	v := &viewer{limit: h.r.cfg.ViewerQueueBytes, delay: h.r.cfg.BatchDelay, camera: h.camera,
		moved: h.r.cfg.Moved, log: h.log, setUp: make([]bool, len(h.tracks)), toStream: h.toStream,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		batch: make([]entry, sendBatch), pkts: make([]rtsp.Packet, 0, sendBatch)}
	for _, s := range streams {
		if s >= 0 && s < len(h.toTrack) {
			v.setUp[h.toTrack[s]] = true
		}
	}
	v.wantKey = h.key >= 0 && v.setUp[h.key]
	return v
}

// pushLocked queues e, taking a reference; v.mu is held.
func (v *viewer) pushLocked(e entry) {
	e.p.ref()
	v.q.push(e)
	v.qBytes += e.p.size()
}

// signal wakes the sender if it sleeps.
func (v *viewer) signal() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// maxUnwoken bounds the packets queued for a viewer without waking its
// sender, for a camera that never marks the end of a frame.
const maxUnwoken = 32

// offer queues p unless v skips or its queue is full, in which case it
// starts to skip. The sender is woken at the end of a video frame (end),
// for a viewer without the key track, or when p arrives BatchDelay or more
// after the last wake: a frame's packets, and the audio between frames,
// then go out with one write. Called with the hub locked.
func (v *viewer) offer(p *packet, end bool, now time.Time) {
	if !v.setUp[p.track] {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	fits := v.qBytes+p.size() <= v.limit
	if v.skipping && (v.wantKey || !fits) {
		v.dropped++
		return
	}
	if !fits {
		v.skipping, v.skipSince = true, time.Now()
		v.skips++
		v.dropped++
		return
	}
	v.skipping, v.skipSince = false, time.Time{}
	v.pushLocked(entry{p: p, ts: p.ts})
	if end || !v.wantKey || v.unwoken >= maxUnwoken || now.Sub(v.woken) >= v.delay {
		v.unwoken, v.woken = 0, now
		v.signal()
		return
	}
	v.unwoken++
}

// resume ends a skip at a keyframe: v gets the keyframe's access unit so
// far (gop) if it fits. It reports whether it resumed. Called with the hub
// locked.
func (v *viewer) resume(gop []*packet) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.skipping || !v.wantKey {
		return false
	}
	n := 0
	for _, p := range gop {
		n += p.size()
	}
	if v.qBytes+n > v.limit {
		return false
	}
	for _, p := range gop {
		v.pushLocked(entry{p: p, ts: p.ts})
	}
	v.skipping, v.skipSince = false, time.Time{}
	v.signal()
	return true
}

// sourceGone tells v that the camera's recording ended. Called with the
// hub locked.
func (v *viewer) sourceGone(byes [][]byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.gone = byes
	v.signal()
}

// run sends the queue until stop, an Output error, or the end of the
// source (after the BYEs).
func (v *viewer) run(out Output) {
	defer close(v.done)
	for {
		select {
		case <-v.wake:
		case <-v.stop:
			return
		}
		for {
			select {
			case <-v.stop:
				return
			default:
			}
			v.mu.Lock()
			n := v.q.popInto(v.batch)
			for _, e := range v.batch[:n] {
				v.qBytes -= e.p.size()
			}
			if n == 0 && v.skipping {
				// Caught up: no longer behind, only waiting for a keyframe
				// (which may be longer away than WriteTimeout).
				v.skipSince = time.Time{}
			}
			gone := v.gone
			v.mu.Unlock()
			if n == 0 {
				if gone != nil {
					if !v.moveOn() {
						v.bye(out, gone)
					}
					return
				}
				break
			}
			if err := v.send(out, v.batch[:n]); err != nil {
				return // the server ends the session (ErrSlowClient) or has ended it
			}
		}
	}
}

// send writes entries and releases them: in one call when out takes
// batches (a frame's packets then cost one hand-off and one socket write).
func (v *viewer) send(out Output, es []entry) error {
	var err error
	if pw, ok := out.(rtsp.PacketWriter); ok {
		err = pw.WritePackets(v.packets(es))
		clear(v.pkts)
	} else {
		for _, e := range es {
			if err = v.write(out, e); err != nil {
				break
			}
		}
	}
	for i, e := range es {
		e.p.release()
		es[i] = entry{}
	}
	return err
}

// packets returns es as rtsp packets; retimed ones are copies in scratch.
func (v *viewer) packets(es []entry) []rtsp.Packet {
	n := 0
	for _, e := range es {
		if e.retimed {
			n += len(e.p.b)
		}
	}
	if cap(v.scratch) < n || n == 0 && cap(v.scratch) > maxKeptScratch {
		// Retimed packets come in the start burst only: a viewer does not
		// keep the burst's copies for good.
		v.scratch = make([]byte, 0, n)
	}
	v.scratch = v.scratch[:0]
	v.pkts = v.pkts[:0]
	for _, e := range es {
		b := e.p.b
		if e.retimed {
			at := len(v.scratch)
			v.scratch = append(v.scratch, b...)
			b = v.scratch[at:len(v.scratch):len(v.scratch)]
			binary.BigEndian.PutUint32(b[4:], e.ts)
		}
		v.pkts = append(v.pkts, rtsp.Packet{Stream: v.toStream[e.p.track], RTCP: e.p.rtcp, Data: b})
	}
	return v.pkts
}

func (v *viewer) write(out Output, e entry) error {
	s := v.toStream[e.p.track]
	if e.p.rtcp {
		return out.WriteRTCP(s, e.p.b)
	}
	b := e.p.b
	if e.retimed {
		v.scratch = append(v.scratch[:0], b...)
		binary.BigEndian.PutUint32(v.scratch[4:], e.ts)
		b = v.scratch
	}
	return out.WriteRTP(s, b)
}

// moveOn sends the viewer where its camera went (Config.Moved) with a
// REDIRECT request, and reports whether it did. The session then ends by
// the client's TEARDOWN or the server's redirect grace, not by Ended.
func (v *viewer) moveOn() bool {
	if v.moved == nil || v.redirect == nil {
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-v.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	loc, ok := v.moved(ctx, v.camera)
	if !ok {
		return false
	}
	if err := v.redirect.Redirect(loc, nil); err != nil {
		v.log.Warn("live viewer not redirected", "to", loc, "err", err)
		return false
	}
	v.log.Info("live viewer redirected: the camera moved", "to", loc)
	return true
}

// bye sends an RTCP BYE on every set-up stream that had media, and marks
// v finished.
func (v *viewer) bye(out Output, byes [][]byte) {
	for k, b := range byes {
		if b != nil && v.setUp[k] {
			_ = out.WriteRTCP(v.toStream[k], b) // the session ends next either way
		}
	}
	v.mu.Lock()
	v.finished = true
	v.mu.Unlock()
}

// halt stops the sender (if started) and releases the queue.
func (v *viewer) halt(started bool) {
	close(v.stop)
	if started {
		<-v.done
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for n := v.q.popInto(v.batch); n > 0; n = v.q.popInto(v.batch) {
		for i, e := range v.batch[:n] {
			e.p.release()
			v.batch[i] = entry{}
		}
	}
	v.qBytes = 0
}

// lag returns how long v has been skipping because it fell behind, zero
// if it is not behind.
func (v *viewer) lag(now time.Time) time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.skipping || v.skipSince.IsZero() {
		return 0
	}
	return now.Sub(v.skipSince)
}

// stats returns how often v fell behind and how many packets it missed.
func (v *viewer) stats() (skips, dropped uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.skips, v.dropped
}

func (v *viewer) isFinished() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.finished
}

package rtsp

import (
	"bufio"
	"time"
)

// writeBufferSize is the connection writer's buffer: interleaved frames
// queued back to back go out in few writes.
const writeBufferSize = 32 << 10

// outMsg is a marshalled response. written, if not nil, is closed once the
// response has been handed to the socket.
type outMsg struct {
	b       []byte
	written chan struct{}
}

// send queues a marshalled response for the writer.
func (c *conn) send(m outMsg) error {
	select {
	case c.out <- m:
		return nil
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
}

// connWriter is the writer goroutine's state.
type connWriter struct {
	c       *conn
	bw      *bufio.Writer
	timeout time.Duration
	setAt   time.Time // when the write deadline was last moved
}

// writeLoop writes responses and interleaved media until the response
// queue is closed and drained or a write fails. Responses go before queued
// media (RTSP-IL-03); a media frame is only written after every response
// queued before it (RTSP-M-24: PLAY queues its response, then starts the
// sender). Everything buffered is flushed whenever both queues are empty.
func (c *conn) writeLoop() error {
	w := &connWriter{c: c, bw: bufio.NewWriterSize(c.nc, writeBufferSize), timeout: c.srv.cfg.WriteTimeout}
	for {
		var fb *frameBuf
		select {
		case m, ok := <-c.out:
			if !ok {
				return w.flush()
			}
			if err := w.response(m); err != nil {
				return err
			}
			continue
		case fb = <-c.media.queue:
		default:
			if err := w.flush(); err != nil {
				return err
			}
			select {
			case <-c.ctx.Done():
				return c.ctx.Err()
			case m, ok := <-c.out:
				if !ok {
					return nil
				}
				if err := w.response(m); err != nil {
					return err
				}
				continue
			case fb = <-c.media.queue:
			}
		}
		if done, err := w.responses(); done || err != nil {
			return err
		}
		err := w.write(fb.b)
		c.media.written(fb)
		if err != nil {
			return err
		}
	}
}

// responses writes the queued responses; done reports the queue closed.
func (w *connWriter) responses() (done bool, err error) {
	for {
		select {
		case m, ok := <-w.c.out:
			if !ok {
				return true, w.flush()
			}
			if err := w.response(m); err != nil {
				return false, err
			}
		default:
			return false, nil
		}
	}
}

// response writes one response and flushes it if someone waits for it.
func (w *connWriter) response(m outMsg) error {
	if err := w.write(m.b); err != nil {
		return err
	}
	if m.written == nil {
		return nil
	}
	err := w.flush()
	close(m.written)
	return err
}

func (w *connWriter) write(b []byte) error {
	w.deadline()
	_, err := w.bw.Write(b)
	return err
}

func (w *connWriter) flush() error {
	if w.bw.Buffered() == 0 {
		return nil
	}
	w.deadline()
	return w.bw.Flush()
}

// deadline moves the write deadline to WriteTimeout from now, at most
// every WriteTimeout/8, so that a steady media flow does not reset it per
// packet: a write may then fail after 7/8 of WriteTimeout.
func (w *connWriter) deadline() {
	now := time.Now()
	if now.Sub(w.setAt) < w.timeout/8 {
		return
	}
	w.setAt = now
	_ = w.c.nc.SetWriteDeadline(now.Add(w.timeout)) // a failure shows in Write
}

// runAfter calls the hook a handler left for after its response: PLAY
// starts the sender once the response is queued, or written when it waits
// on one (RTSP-M-24).
func (c *conn) runAfter() error {
	f, written := c.after, c.afterWritten
	c.after, c.afterWritten = nil, nil
	if f == nil {
		return nil
	}
	if written != nil {
		select {
		case <-written:
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
	}
	f()
	return nil
}

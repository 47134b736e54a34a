package rtsp

import (
	"errors"
	"strconv"
	"sync"

	"github.com/camvault/camvault/rtsp/base"
)

// maxPendingRequests bounds the requests a connection remembers while
// waiting for their responses; the oldest is forgotten beyond it (its
// late response then counts as unexpected).
const maxPendingRequests = 8

// errConnDone is returned when a request is sent on a connection whose
// writer stopped.
var errConnDone = errors.New("connection closed")

// serverRequests are the requests a connection sends to its client
// (RTSP-MSG-12): REDIRECT. They are queued by the goroutines of the
// connection's sessions, while the reader goroutine reads the answers and
// closes the response queue in the end.
type serverRequests struct {
	// sendMu orders queueing with closing the queue, and guards closed.
	// A sender holds it while the queue is full: the reader never takes
	// it but to close, once it stopped reading.
	sendMu sync.Mutex
	closed bool // conn.out is closed: nothing more may be queued

	mu      sync.Mutex       // guards the fields below; never held while blocking
	cseq    uint32           // CSeq of the last request sent, per connection
	pending []pendingRequest // sent and not answered, oldest first
}

// pendingRequest is a request waiting for its response.
type pendingRequest struct {
	cseq   string
	method base.Method
	ss     *session
}

// request queues a request to the client, with the connection's next CSeq
// and the headers h, behind the responses already queued. ss is the
// session it concerns, for the log of its answer.
func (c *conn) request(m base.Method, uri string, h base.Header, ss *session) error {
	r := &c.reqs
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	if r.closed {
		return errConnDone
	}
	cseq := r.expect(m, ss)
	h.Set("CSeq", cseq)
	req := base.Request{Method: m, URL: uri, Header: h}
	b, err := req.Marshal()
	if err != nil {
		return err
	}
	// Waiting here while the queue is full is bounded: the writer drains
	// it, or fails within WriteTimeout and cancels the connection.
	if err := c.send(outMsg{b: b}); err != nil {
		return errConnDone
	}
	return nil
}

// expect assigns the next CSeq to a request of method m about ss and
// remembers it until answered.
func (r *serverRequests) expect(m base.Method, ss *session) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cseq++
	cseq := strconv.FormatUint(uint64(r.cseq), 10)
	if len(r.pending) == maxPendingRequests {
		r.pending = append(r.pending[:0], r.pending[1:]...)
	}
	r.pending = append(r.pending, pendingRequest{cseq: cseq, method: m, ss: ss})
	return cseq
}

// closeOut closes the response queue once the reader stops, so that the
// writer ends; no request is queued after it.
func (c *conn) closeOut() {
	c.reqs.sendMu.Lock()
	defer c.reqs.sendMu.Unlock()
	c.reqs.closed = true
	close(c.out)
}

// answered removes and returns the request whose CSeq is cseq, or the
// oldest one for a response without CSeq: ffmpeg answers a REDIRECT with
// "RTSP/1.0 501 Not Implemented" and nothing else.
func (r *serverRequests) answered(cseq string) (pendingRequest, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, p := range r.pending {
		if p.cseq == cseq || cseq == "" {
			r.pending = append(r.pending[:i], r.pending[i+1:]...)
			return p, true
		}
	}
	return pendingRequest{}, false
}

// readResponse reads a client's response (RTSP-MSG-09): the answer to a
// request the server sent, which is logged, or an unexpected one, which
// is counted. Neither changes anything: a client may answer a REDIRECT as
// it likes (RTSP-MSG-12). A response that cannot be parsed loses the
// framing and ends the connection, as a request would.
func (c *conn) readResponse() error {
	var resp base.Response
	if err := resp.Unmarshal(c.br, c.srv.cfg.Limits); err != nil {
		return err
	}
	p, ok := c.reqs.answered(resp.Header.Get("CSeq"))
	if !ok {
		c.srv.countUnexpectedResponse()
		c.log.Debug("rtsp unexpected response", "status", resp.StatusCode)
		return nil
	}
	p.ss.log.Debug("rtsp request answered", "method", string(p.method), "status", resp.StatusCode)
	return nil
}

package rtsp

import (
	"bufio"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/camvault/camvault/rtsp/tunnel"
)

// Why a tunnel's reads end, besides its POST's own errors.
var (
	// errNoPost: no POST came within Config.TunnelTimeout, after the GET
	// or after the previous POST ended.
	errNoPost = errors.New("no tunnel post")
	// errGetData: the client sent bytes on the GET connection, which
	// carries only the server's side (a POST on the GET's connection:
	// live555's CVE-2019-6256 and CVE-2019-7314).
	errGetData = errors.New("data on the tunnel get connection")
)

// postHalf is the POST of a tunnel: its connection, owned by the POST's
// own conn goroutine, which waits on done, and its base64 body.
type postHalf struct {
	nc       net.Conn
	owner    tunnelOwner
	body     *tunnel.Decoder // reads the POST connection's buffered reader
	attached chan struct{}   // closed by the table when a tunnel has it
	done     chan struct{}   // closed by finish
	once     sync.Once
	err      error // why it ended, set before done is closed
}

func newPostHalf(nc net.Conn, br *bufio.Reader, owner tunnelOwner) *postHalf {
	return &postHalf{nc: nc, owner: owner, body: tunnel.NewDecoder(br),
		attached: make(chan struct{}), done: make(chan struct{})}
}

// finish ends the POST's part in its tunnel (or its refusal) once: its
// conn goroutine returns and closes the connection.
func (h *postHalf) finish(err error) {
	h.once.Do(func() {
		h.err = err
		close(h.done)
	})
}

// tunnelConn is the net.Conn of an RTSP connection tunnelled in HTTP
// (RTSP-HT-02..04): Write goes to the GET's connection, Read decodes the
// body of the POST handed to it by the tunnel table, waiting up to
// Config.TunnelTimeout for one whenever it has none. A watcher goroutine
// reads the GET's connection, which the client must leave silent, and ends
// the connection (cancel) when it closes or sends anything. Read and the
// deadline setters are called by the connection's reader goroutine, Write
// and SetWriteDeadline by its writer, Close by either or by an AfterFunc.
type tunnelConn struct {
	get     net.Conn
	getBR   *bufio.Reader // the GET connection's reader, which the watcher reads
	cookie  string
	owner   tunnelOwner
	table   *tunnelTable
	timeout time.Duration
	cancel  func() // ends the RTSP connection
	posts   chan *postHalf
	closed  chan struct{}
	watched chan struct{} // closed when the watcher returns
	once    sync.Once

	mu       sync.Mutex // guards post, deadline, watching, shut and why
	post     *postHalf  // the POST being read, nil between POSTs
	deadline time.Time  // read deadline, applied to every POST
	watching bool       // the watcher was started
	shut     bool       // Close ran: a POST taken now is let go at once
	why      error      // errGetData when the watcher ended the connection for it
}

func newTunnelConn(get net.Conn, getBR *bufio.Reader, cookie string, owner tunnelOwner, table *tunnelTable,
	timeout time.Duration, cancel func()) *tunnelConn {
	return &tunnelConn{get: get, getBR: getBR, cookie: cookie, owner: owner, table: table, timeout: timeout,
		cancel: cancel, posts: make(chan *postHalf, 1), closed: make(chan struct{}), watched: make(chan struct{})}
}

// watch starts the watcher of the GET connection.
func (t *tunnelConn) watch() {
	t.mu.Lock()
	t.watching = true
	t.mu.Unlock()
	go func() { // waited for by Close
		defer close(t.watched)
		if _, err := t.getBR.ReadByte(); err == nil {
			t.mu.Lock()
			t.why = errGetData
			t.mu.Unlock()
		}
		t.cancel()
	}()
}

// reason returns errGetData when the client sent data on the GET's
// connection, else nil.
func (t *tunnelConn) reason() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.why
}

// Read decodes the body of the current POST, taking the next one when it
// ends. A decoding error (tunnel.ErrBase64) ends the connection.
func (t *tunnelConn) Read(p []byte) (int, error) {
	for {
		h, err := t.current()
		if err != nil {
			return 0, err
		}
		n, err := h.body.Read(p)
		switch {
		case n > 0 || err == nil:
			return n, nil
		case errors.Is(err, tunnel.ErrBase64), errors.Is(err, os.ErrDeadlineExceeded):
			return 0, err
		}
		t.dropPost(h, err)
	}
}

// current returns the POST being read, waiting for one when there is none
// until the timeout, the read deadline or Close.
func (t *tunnelConn) current() (*postHalf, error) {
	t.mu.Lock()
	h, deadline := t.post, t.deadline
	t.mu.Unlock()
	if h != nil {
		return h, nil
	}
	wait := t.timeout
	expired := errNoPost
	if !deadline.IsZero() && time.Until(deadline) < wait {
		wait, expired = time.Until(deadline), os.ErrDeadlineExceeded
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case h = <-t.posts:
	case <-timer.C:
		return nil, expired
	case <-t.closed:
		return nil, net.ErrClosed
	}
	t.mu.Lock()
	if t.shut { // Close ran while the POST was taken: Close did not see it
		t.mu.Unlock()
		h.finish(net.ErrClosed)
		return nil, net.ErrClosed
	}
	t.post = h
	_ = h.nc.SetReadDeadline(t.deadline) // a failure shows in the next read
	t.mu.Unlock()
	return h, nil
}

// dropPost lets the ended POST h go; the table may then hand another.
func (t *tunnelConn) dropPost(h *postHalf, err error) {
	t.mu.Lock()
	t.post = nil
	t.mu.Unlock()
	h.finish(err)
	t.table.postEnded(t)
}

// Write writes to the GET's connection.
func (t *tunnelConn) Write(p []byte) (int, error) { return t.get.Write(p) }

// Close closes both connections, forgets the tunnel and waits for the
// watcher. It is idempotent.
func (t *tunnelConn) Close() error {
	var err error
	t.once.Do(func() {
		close(t.closed)
		err = t.get.Close()
		t.table.remove(t)
		t.mu.Lock()
		h, watching := t.post, t.watching
		t.post, t.shut = nil, true
		t.mu.Unlock()
		if h != nil {
			h.finish(net.ErrClosed)
		}
		select { // handed over but never read: the table hands no more
		case h := <-t.posts:
			h.finish(net.ErrClosed)
		default:
		}
		if watching {
			<-t.watched
		}
	})
	return err
}

// LocalAddr returns the GET connection's local address.
func (t *tunnelConn) LocalAddr() net.Addr { return t.get.LocalAddr() }

// RemoteAddr returns the GET connection's peer address.
func (t *tunnelConn) RemoteAddr() net.Addr { return t.get.RemoteAddr() }

// SetDeadline sets both deadlines.
func (t *tunnelConn) SetDeadline(d time.Time) error {
	_ = t.SetReadDeadline(d) // never fails
	return t.SetWriteDeadline(d)
}

// SetReadDeadline bounds reads of the current POST and of those to come,
// and the waits for them.
func (t *tunnelConn) SetReadDeadline(d time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.deadline = d
	if t.post != nil {
		return t.post.nc.SetReadDeadline(d)
	}
	return nil
}

// SetWriteDeadline bounds writes to the GET's connection.
func (t *tunnelConn) SetWriteDeadline(d time.Time) error { return t.get.SetWriteDeadline(d) }

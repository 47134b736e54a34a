package playback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/camvault/camvault/storage"
)

// Stats are playback's counters for /metrics. Counters only grow.
type Stats struct {
	// RemoteReads counts inits and fragments read from Config.Remote.
	RemoteReads uint64
	// RemoteReadFailures counts reads from Config.Remote that failed or
	// timed out: the fragment (or, for an init, its segment) was skipped.
	RemoteReadFailures uint64
	// RemoteListFailures counts listings of Config.Remote that failed: the
	// presentation went on without those hours' objects.
	RemoteListFailures uint64
	// RemoteReadWaits counts remote reads a sender had to wait for (not
	// done ahead): the first of each PLAY, and any that read-ahead did not
	// hide.
	RemoteReadWaits uint64
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// failures reports a presentation's failed requests to Config.Remote:
// every one is counted, the first of each kind is logged.
type failures struct {
	s   *Server
	log *slog.Logger

	// mu guards listLogged and readLogged.
	mu         sync.Mutex
	listLogged bool
	readLogged bool
}

func (f *failures) list(err error, from, to time.Time) {
	f.s.count(func(st *Stats) { st.RemoteListFailures++ })
	if f.once(&f.listLogged) {
		f.log.Warn("object store listing failed; playing without its segments there", "from", from, "to", to, "err", err)
	}
}

func (f *failures) read(err error, r readReq) {
	f.s.count(func(st *Stats) { st.RemoteReadFailures++ })
	if f.once(&f.readLogged) {
		f.log.Warn("object store read failed; skipping what it held (logged once per presentation)",
			"key", r.key, "offset", r.off, "bytes", r.n, "err", err)
	}
}

// listFailed reports whether a listing failed.
func (f *failures) listFailed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.listLogged
}

func (f *failures) once(logged *bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	first := !*logged
	*logged = true
	return first
}

// readReq is one ranged read of an object.
type readReq struct {
	key    string
	off, n int64
}

// fragmentReq returns the read of fragment fr of remote segment seg.
func fragmentReq(seg *storage.SegmentInfo, fr storage.Fragment) readReq {
	return readReq{key: seg.Upload.Key, off: fr.Offset, n: fr.Size}
}

// initReq returns the read of a remote segment's ftyp+moov: the bytes before
// its first fragment.
func initReq(seg *storage.SegmentInfo) (readReq, error) {
	if len(seg.Fragments) == 0 || seg.Fragments[0].Offset <= 0 {
		return readReq{}, fmt.Errorf("playback: segment %s has no fragment to find its init by", seg.Upload.Key)
	}
	return readReq{key: seg.Upload.Key, off: 0, n: seg.Fragments[0].Offset}, nil
}

// readAt does one read, bounded by the read timeout.
func (tl *timeline) readAt(ctx context.Context, r readReq) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, tl.timeout)
	defer cancel()
	b, err := tl.remote.ReadAt(ctx, r.key, r.off, r.n)
	if err == nil && int64(len(b)) != r.n {
		err = fmt.Errorf("playback: read %s at %d: %d bytes, want %d", r.key, r.off, len(b), r.n)
	}
	return b, err
}

// cachedInit returns the init of a remote segment read before.
func (tl *timeline) cachedInit(key string) ([]byte, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	b, ok := tl.inits[key]
	return b, ok
}

func (tl *timeline) keepInit(key string, b []byte) {
	tl.mu.Lock()
	tl.inits[key] = b
	tl.mu.Unlock()
}

// fetch is one read started ahead.
type fetch struct {
	req  readReq
	done chan struct{}
	b    []byte
	err  error
}

// fetcher reads a play's remote inits and fragments ahead of the sender, at
// most depth at a time beyond the one being sent. The sender goroutine owns
// it; the reads run in goroutines that wait ends (they end with the play's
// context).
type fetcher struct {
	tl    *timeline
	ctx   context.Context
	depth int
	// waited is called when get must wait for its read.
	waited func()
	wg     sync.WaitGroup
	queue  []*fetch // started and not taken, in the order asked
}

// ahead starts the reads of reqs that are not started yet, while fewer than
// depth are pending.
func (f *fetcher) ahead(reqs []readReq) {
	for _, r := range reqs {
		if len(f.queue) >= f.depth {
			return
		}
		if slices.ContainsFunc(f.queue, func(p *fetch) bool { return p.req == r }) {
			continue
		}
		p := &fetch{req: r, done: make(chan struct{})}
		f.queue = append(f.queue, p)
		f.wg.Go(func() {
			defer close(p.done)
			p.b, p.err = f.tl.readAt(f.ctx, r)
		})
	}
}

// get returns the bytes of r, read ahead or now, and starts the reads of
// next (see ahead) before it waits. Reads asked before r and not taken are
// dropped (the cursor moved past them).
func (f *fetcher) get(r readReq, next []readReq) ([]byte, error) {
	i := slices.IndexFunc(f.queue, func(p *fetch) bool { return p.req == r })
	if i < 0 {
		f.queue = f.queue[:0]
		f.ahead([]readReq{r}) // depth is at least 1
		i = 0
	}
	p := f.queue[i]
	f.queue = slices.Delete(f.queue, 0, i+1)
	f.ahead(next)
	select {
	case <-p.done:
	default:
		f.waited()
		<-p.done // the read ends by its timeout or the play's end at the latest
	}
	return p.b, p.err
}

// wait waits for the reads still running.
func (f *fetcher) wait() {
	f.queue = nil
	f.wg.Wait()
}

// errSkipped says a remote read failed and what it held was skipped.
var errSkipped = errors.New("remote read failed")

package export

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/storage"
)

// Server answers export requests from a Store. It is safe for concurrent
// use: each request reads the index and the files on its own.
type Server struct {
	store *storage.Store
	opt   Options
	log   *slog.Logger
	slots chan struct{} // one token per export being served
}

// New returns a Server over store. opt is copied; zero fields take their
// defaults and the result is validated.
func New(store *storage.Store, opt Options) (*Server, error) {
	if store == nil {
		return nil, errors.New("export: no store")
	}
	opt.setDefaults()
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	return &Server{store: store, opt: opt, log: opt.Logger.With("component", "export"),
		slots: make(chan struct{}, opt.MaxConcurrent)}, nil
}

// Formats of ServeExport.
const (
	// FormatMP4 is a progressive MP4: ftyp and moov first, then one mdat;
	// seekable, served with Range support.
	FormatMP4 = "mp4"
	// FormatFMP4 is a fragmented MP4 streamed as it is read.
	FormatFMP4 = "fmp4"
)

// Response headers besides the standard ones.
const (
	// HeaderGaps lists the collapsed gaps of the window as comma-separated
	// RFC 3339 "from/to" pairs, at most maxGapsListed of them.
	HeaderGaps = "X-Camvault-Gaps"
	// HeaderGapCount is the number of gaps, listed or not.
	HeaderGapCount = "X-Camvault-Gap-Count"
	// HeaderStart is the wall-clock time (RFC 3339) of the export's media
	// time 0 after its edit list: the window's start, or the first recorded
	// instant after it (mp4); the first keyframe (fmp4).
	HeaderStart = "X-Camvault-Start"
)

// maxGapsListed bounds HeaderGaps (about 100 bytes a gap).
const maxGapsListed = 32

// etagVersion changes whenever the bytes of an export of the same
// recordings would change, so old ETags stop matching.
const etagVersion = "cv1"

// ServeExport answers one export request for camera's recordings in
// [start, end): format "mp4" (progressive, moov first) or "fmp4"
// (fragmented, streamed as read). The caller has authenticated the request,
// checked the right and validated camera; start < end are parsed. It writes
// the whole response itself on success; on an error before the first byte
// it writes nothing and returns an *Error whose HTTPStatus says 400, 404,
// 409 or 500, or 503 with a RetryAfter while Options.MaxConcurrent exports
// run. A failure after the first byte (a client gone, a file that became
// unreadable) cuts the response short, is logged and returns nil.
func (s *Server) ServeExport(w http.ResponseWriter, r *http.Request, camera string, start, end time.Time, format string) error {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		return fail(fmt.Errorf("%w: at most %d at once", ErrBusy, s.opt.MaxConcurrent))
	}
	if !end.After(start) {
		return fail(fmt.Errorf("%w: end %s is not after start %s", ErrBadRequest, stamp(end), stamp(start)))
	}
	if d := end.Sub(start); d > s.opt.MaxDuration {
		return fail(fmt.Errorf("%w: window of %s is longer than %s", ErrBadRequest, d, s.opt.MaxDuration))
	}
	switch format {
	case FormatMP4:
		return fail(s.serveMP4(w, r, camera, start, end))
	case FormatFMP4:
		return fail(s.serveFMP4(w, r, camera, start, end))
	default:
		return fail(fmt.Errorf("%w: format %q (want %q or %q)", ErrBadRequest, format, FormatMP4, FormatFMP4))
	}
}

// serveMP4 plans the progressive MP4 from the fragment headers and serves
// it through http.ServeContent.
func (s *Server) serveMP4(w http.ResponseWriter, r *http.Request, camera string, start, end time.Time) error {
	parts, err := s.selectParts(camera, start, end)
	if err != nil {
		return err
	}
	if last := &parts[len(parts)-1]; last.open && end.After(last.end()) {
		redirectEnd(w, r, last.end())
		return nil
	}
	pl, err := s.buildPlan(camera, parts, start, end)
	if err != nil {
		return err
	}
	head := pl.header()
	h := w.Header()
	setCommon(h, camera, start, end, gapsOf(parts), pl.start)
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", etag(head, pl))
	b := newBody(s.store, pl, head)
	rw := &refusalWriter{ResponseWriter: w}
	http.ServeContent(rw, r, "", time.Time{}, b)
	switch rw.refused {
	case http.StatusPreconditionFailed:
		return ErrPrecondition
	case http.StatusRequestedRangeNotSatisfiable:
		return ErrRange
	}
	if b.err != nil {
		s.log.Warn("export cut short", "camera", camera, "err", b.err)
		return nil
	}
	s.log.Debug("export served", "camera", camera, "format", FormatMP4, "bytes", b.size, "samples", pl.count)
	return nil
}

// redirectEnd answers 302 to r's URL with its end parameter set to end: the
// last written fragment's end when the window reaches into a segment still
// being written. That URL names bytes that no longer change as the segment
// grows, so a player's later Range requests (sent without If-Range) read the
// same file as its first.
func redirectEnd(w http.ResponseWriter, r *http.Request, end time.Time) {
	u := *r.URL
	q := u.Query()
	q.Set("end", stamp(end))
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.RequestURI(), http.StatusFound)
}

// etag is a strong validator of a progressive export: a hash of its header
// (times, sizes and chunk offsets of every sample) and of where each mdat
// byte comes from.
func etag(head []byte, pl *plan) string {
	h := sha256.New()
	h.Write([]byte(etagVersion))
	h.Write(head)
	var b [24]byte
	for _, e := range pl.extents {
		h.Write([]byte(pl.files[e.file]))
		binary.BigEndian.PutUint64(b[0:], uint64(e.src))
		binary.BigEndian.PutUint64(b[8:], uint64(e.dst))
		binary.BigEndian.PutUint64(b[16:], uint64(e.n))
		h.Write(b[:])
	}
	return `"` + etagVersion + "-" + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

// setCommon sets the headers both formats share.
func setCommon(h http.Header, camera string, start, end time.Time, gaps []gap, mediaStart time.Time) {
	const basic = "20060102T150405Z"
	h.Set("Content-Type", "video/mp4")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s_%s_%s.mp4"`,
		camera, start.UTC().Format(basic), end.UTC().Format(basic)))
	h.Set(HeaderStart, stamp(mediaStart))
	if len(gaps) == 0 {
		return
	}
	var sb strings.Builder
	for i, g := range gaps[:min(len(gaps), maxGapsListed)] {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(stamp(g.from) + "/" + stamp(g.to))
	}
	h.Set(HeaderGaps, sb.String())
	h.Set(HeaderGapCount, strconv.Itoa(len(gaps)))
}

// refusalWriter passes http.ServeContent's answer through, except a 412 or
// 416: it keeps that status (and the headers, Content-Range among them) but
// writes nothing, so that ServeExport returns it as an *Error and its caller
// answers in its own error format.
type refusalWriter struct {
	http.ResponseWriter
	refused int // 0, 412 or 416
}

func (w *refusalWriter) WriteHeader(code int) {
	if code == http.StatusPreconditionFailed || code == http.StatusRequestedRangeNotSatisfiable {
		w.refused = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *refusalWriter) Write(b []byte) (int, error) {
	if w.refused != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps the underlying writer's ReadFrom, if any, for the body.
func (w *refusalWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.refused != 0 {
		return io.Copy(io.Discard, r)
	}
	return io.Copy(w.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *refusalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

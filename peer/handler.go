package peer

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/storage"
)

// Store is what Handler reads: a *storage.Store.
type Store interface {
	Segments(camera string, from, to time.Time, seek bool) ([]storage.SegmentInfo, error)
	ReadAt(file string, p []byte, off int64) (int, error)
}

// Paths of the endpoints. PathPrefix is where a node mounts Handler.
const (
	PathPrefix   = "/cluster/v1/"
	segmentsPath = PathPrefix + "segments/"
	readPath     = PathPrefix + "read/"
)

// Longest windows of a listing, with seek tables (playback lists at most a day at once) and
// without (the spans API lists at most 31 days).
const (
	maxSeekWindow = 48 * time.Hour
	maxSpanWindow = 32 * 24 * time.Hour
)

// Handler serves this node's not-uploaded segments to the other nodes (see the package
// doc). Every request must carry "Authorization: Bearer TOKEN" with this node's token;
// anything else gets 401 before any lookup.
type Handler struct {
	cfg   Config
	store Store
	token []byte
	mux   *http.ServeMux
	log   *slog.Logger
}

// NewHandler builds the handler over store; token is this node's peer token (as published
// in its node record), at least 16 bytes.
func NewHandler(cfg Config, store Store, token string) (*Handler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(token) < 16 {
		return nil, errors.New("peer: token shorter than 16 bytes")
	}
	h := &Handler{cfg: cfg, store: store, token: []byte(token), mux: http.NewServeMux(),
		log: cfg.Logger.With("component", "peer")}
	h.mux.HandleFunc("GET "+segmentsPath+"{camera}", h.handleSegments)
	h.mux.HandleFunc("GET "+readPath+"{camera}/{start}", h.handleRead)
	return h, nil
}

// ServeHTTP checks the token, then serves the endpoint.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		h.log.Debug("peer request refused: no valid token", "peer", r.RemoteAddr, "path", r.URL.Path)
		w.Header().Set("WWW-Authenticate", `Bearer realm="camvault cluster"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(h.cfg.RequestTimeout)) // best effort: a test recorder has none
	h.mux.ServeHTTP(w, r)
}

// authorized compares the bearer token in constant time.
func (h *Handler) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), h.token) == 1
}

// handleSegments answers the listing of a camera's not-uploaded segments in [from, to).
func (h *Handler) handleSegments(w http.ResponseWriter, r *http.Request) {
	camera := r.PathValue("camera")
	from, err1 := unixParam(r, "from")
	to, err2 := unixParam(r, "to")
	seek := r.URL.Query().Get("fragments") != "0"
	longest := maxSeekWindow
	if !seek {
		longest = maxSpanWindow
	}
	if err := errors.Join(storage.ValidCamera(camera), err1, err2); err != nil || !to.After(from) || to.Sub(from) > longest {
		http.Error(w, "bad camera or window", http.StatusBadRequest)
		return
	}
	segs, err := h.store.Segments(camera, from, to, seek)
	if err != nil {
		h.fail(w, "listing", camera, err)
		return
	}
	var l Listing
	for _, s := range segs {
		if s.Upload.State == storage.UploadDone {
			continue
		}
		if seek {
			s.Bytes = Committed(&s)
		}
		l.Segments = append(l.Segments, s)
	}
	if len(l.Segments) > h.cfg.MaxSegments {
		http.Error(w, fmt.Sprintf("more than %d segments: ask a shorter window", h.cfg.MaxSegments), http.StatusBadRequest)
		return
	}
	b, err := MarshalListing(l)
	if err != nil {
		h.fail(w, "listing", camera, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b) // the peer went away: it retries or goes without
}

// handleRead answers n bytes at off of a segment, all within its committed fragments.
func (h *Handler) handleRead(w http.ResponseWriter, r *http.Request) {
	camera := r.PathValue("camera")
	start, err1 := unixParam(r, "start")
	off, err2 := strconv.ParseInt(r.URL.Query().Get("off"), 10, 64)
	n, err3 := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
	if err := errors.Join(storage.ValidCamera(camera), err1, err2, err3); err != nil || off < 0 || n <= 0 || n > h.cfg.MaxReadBytes {
		http.Error(w, "bad camera, start or range", http.StatusBadRequest)
		return
	}
	segs, err := h.store.Segments(camera, start, start.Add(time.Nanosecond), true)
	if err != nil {
		h.fail(w, "read", camera, err)
		return
	}
	i := 0
	for i < len(segs) && !segs[i].Start.Equal(start) {
		i++
	}
	if i == len(segs) {
		http.Error(w, "no such segment", http.StatusNotFound)
		return
	}
	if off > Committed(&segs[i])-n {
		http.Error(w, "range beyond the committed fragments", http.StatusRequestedRangeNotSatisfiable)
		return
	}
	buf := make([]byte, n)
	if _, err := h.store.ReadAt(segs[i].File, buf, off); err != nil {
		h.fail(w, "read", camera, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	_, _ = w.Write(buf) // the peer went away: its read fails there
}

// fail answers 500 for a local failure, logged without paths in the answer.
func (h *Handler) fail(w http.ResponseWriter, what, camera string, err error) {
	h.log.Warn("peer request failed", "what", what, "camera", camera, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// Committed returns the end of s's last fragment in its seek table: the bytes that may be
// read (an open segment's file may hold a fragment being written beyond it).
func Committed(s *storage.SegmentInfo) int64 {
	if n := len(s.Fragments); n > 0 {
		return s.Fragments[n-1].Offset + s.Fragments[n-1].Size
	}
	return 0
}

// unixParam parses query parameter name as Unix nanoseconds, after 1970.
func unixParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		v = r.PathValue(name)
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ns <= 0 {
		return time.Time{}, fmt.Errorf("%s: not Unix nanoseconds: %q", name, v)
	}
	return time.Unix(0, ns).UTC(), nil
}

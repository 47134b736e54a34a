package api

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/storage"
)

// Deps are the parts of camvault the API reads and commands, each behind an
// interface declared here and adapted by cmd/camvault. A nil source makes
// its routes answer 503 "not available"; Authority is required.
type Deps struct {
	// Authority holds the users and rights. Required.
	Authority *auth.Authority
	// Limiter delays (refuses without checking) the credentials of an
	// address that failed too often; shared with RTSP. Nil: no limit.
	Limiter *auth.Limiter
	// Cameras lists the cameras with their live state.
	Cameras CameraSource
	// Archive answers spans, summaries, usage and holds from the index.
	Archive Archive
	// Retention runs the retention dry-run (a *storage.Store fits).
	Retention RetentionRunner
	// Exporter serves the MP4 exports.
	Exporter Exporter
	// Sessions lists and kicks the RTSP sessions and pulls.
	Sessions Sessions
	// Live relays live cameras to the web page's live views (a
	// *live.Relay).
	Live LiveSource
	// Metrics is served at /metrics to callers with the metrics right.
	Metrics http.Handler
	// Cluster serves the other nodes of a cluster under ClusterPathPrefix (package peer's
	// endpoints). It authenticates its callers itself: the users and rights of Authority
	// do not apply. Nil: those paths are 404.
	Cluster http.Handler
	// LivePeers, in a cluster, names the other node that owns a camera: a live view
	// (live.ws) of such a camera is relayed from that node's peer live endpoint, after this
	// node checked the caller's read right. Nil: every live view is served from Live.
	LivePeers LivePeers
	// PeerToken is this node's peer token, as its node record publishes it (at least 16
	// bytes). Set, GET ClusterPathPrefix+"cameras/{camera}/live.ws" serves a camera's live
	// view from Live to the other nodes' relays, which present it as a bearer token (the
	// users and rights of Authority do not apply); anything else gets 401. Empty: no such
	// endpoint.
	PeerToken string
	// Tunnels serves RTSP tunnelled in HTTP and in WebSocket on this port:
	// the connections of tunnel requests are handed to it. Nil: such
	// requests are answered as any other (404).
	Tunnels Tunnels
	// ObserveHTTP, when set, is called once per request with the route
	// (the ServeMux pattern, "unmatched" for none), the status and the
	// time taken.
	ObserveHTTP func(route string, code int, d time.Duration)
	// AuthFailure, when set, is called with "http" for each refused
	// credential.
	AuthFailure func(protocol string)
	// LiveStarted and LiveEnded, when set, are called as a live view's
	// WebSocket opens and closes; reason is one of the LiveEnd constants.
	LiveStarted func()
	LiveEnded   func(reason string)
	// Now returns the time; nil is time.Now.
	Now func() time.Time
}

// LivePeers tells which other node of a cluster serves a camera live; cmd adapts the
// cluster's ownership to it. Called concurrently, once per live view and then once per
// second while a relayed view runs.
type LivePeers interface {
	// LiveOwner returns the node that owns camera when it is another live node that
	// publishes its HTTP URL and peer token; ok is false when this node owns camera, or
	// nobody (then the view is served here, if at all).
	LiveOwner(camera string) (n PeerNode, ok bool)
}

// PeerNode is another node as a relayed live view reaches it.
type PeerNode struct {
	// Name is the node's name in the cluster; it identifies the owner while a view runs.
	Name string
	// URL is the node's HTTP base URL ("http://10.0.0.2:8080").
	URL string
	// Token is the node's peer token, sent as a bearer token.
	Token string
}

// ErrNotFound is returned by Archive.RemoveHold and Sessions.Kick for an
// unknown id; the API answers 404.
var ErrNotFound = errors.New("not found")

// ErrNotKickable is returned by Sessions.Kick for a session that cannot be
// ended from the API (a scheduled pull); the API answers 409.
var ErrNotKickable = errors.New("session cannot be kicked")

// Archive is the recorded archive as the API reads it, in storage's types;
// *storage.Store implements it. Storage's refusals (ErrInvalidCamera,
// ErrInvalidRange, ErrInvalidHold, ErrTooManyHolds, ErrNotFound) are answered
// with 400, 409 and 404. Methods are called concurrently.
type Archive interface {
	// Spans returns camera's continuous recordings overlapping
	// [from, to), clipped to it, joined across gaps up to gapTolerance,
	// oldest first: the first limit of them at most (limit > 0), found
	// without building the rest.
	Spans(camera string, from, to time.Time, gapTolerance time.Duration, limit int) ([]storage.Span, error)
	// Summaries returns one bucket per unit of loc's calendar covering
	// [from, to), oldest first.
	Summaries(camera string, from, to time.Time, unit storage.SummaryUnit, loc *time.Location) ([]storage.Summary, error)
	// Usage returns every camera's usage.
	Usage() ([]storage.Usage, error)
	// IndexSize is the index file's size in bytes.
	IndexSize() (int64, error)
	// DiskSpace returns the free and total bytes of the data directory's
	// file system.
	DiskSpace() (free, total int64, err error)
	// WriteRate is the recent write rate in bytes per second.
	WriteRate() float64
	// Ready returns nil when the store is open and its index writable.
	Ready() error
	// AddHold stores h (its ID and Created are set by the store) and
	// returns it as stored.
	AddHold(h storage.StoredHold) (storage.StoredHold, error)
	// RemoveHold removes the hold id, or returns ErrNotFound (this
	// package's or storage's).
	RemoveHold(id string) error
	// Holds returns camera's holds ("": every camera's).
	Holds(camera string) ([]storage.StoredHold, error)
}

// RetentionRunner runs a retention pass; the API only ever asks for a dry
// run (dryRun true). *storage.Store implements it.
type RetentionRunner interface {
	RunRetention(now time.Time, dryRun bool) (storage.RetentionReport, error)
}

// Exporter serves an export of camera's [start, end) in format "mp4"
// (progressive, seekable) or "fmp4" (fragmented, streamed). A returned
// error that has an HTTPStatus() int method becomes a problem with that
// status when nothing was written yet, with a Retry-After when it also has
// a RetryAfter() time.Duration method that returns more than 0.
type Exporter interface {
	ServeExport(w http.ResponseWriter, r *http.Request, camera string, start, end time.Time, format string) error
}

// Tunnels takes over the connections of RTSP over HTTP (a GET or POST with
// an x-sessioncookie, RTSP-HT-01) and RTSP over WebSocket (subprotocol
// rtsp.onvif.org) from the HTTP server; cmd adapts the RTSP server to it.
// Methods are called concurrently and return at once: the connection is
// theirs from then on, also when they refuse it (they close it and say
// why).
type Tunnels interface {
	// ServeHTTPTunnel serves nc, hijacked after the head of a tunnel GET or
	// POST was read: head is that head written again followed by the bytes
	// the HTTP server had read after it, to be read before nc. tls reports
	// HTTPS.
	ServeHTTPTunnel(nc net.Conn, head []byte, tls bool) error
	// ServeWebSocket serves nc, the binary messages of an accepted
	// WebSocket as one byte stream, as an RTSP connection. tls reports
	// HTTPS.
	ServeWebSocket(nc net.Conn, tls bool) error
}

// Session is one RTSP session or pull.
type Session struct {
	// ID identifies the session for Kick.
	ID string
	// Kind is "rtsp" for a session of the RTSP server, "pull" for a
	// pulled camera.
	Kind string
	// Mode is "record" (a publisher or a pull) or "play" (a viewer).
	Mode string
	// Camera is the camera the session is about ("" when not known yet);
	// Path is its RTSP path.
	Camera, Path string
	// Peer is the remote address; User the authenticated user ("" for
	// anonymous).
	Peer, User string
	// Transport is "tcp" or "udp".
	Transport string
	// TLS reports RTSPS.
	TLS bool
	// Started is when the session began.
	Started time.Time
	// Playing reports a session in PLAY or RECORD.
	Playing bool
	// BytesIn and BytesOut count the media bytes received and sent.
	BytesIn, BytesOut uint64
}

// Sessions lists and ends sessions. Methods are called concurrently.
type Sessions interface {
	// Sessions returns a snapshot of every session.
	Sessions() []Session
	// Kick ends session id: ErrNotFound when there is none,
	// ErrNotKickable when it cannot be ended.
	Kick(id string) error
}

// CameraSource lists the cameras known to the configuration, the pulls,
// the recorder and the archive, with their live state.
type CameraSource interface {
	// Cameras returns every camera at now, sorted by name.
	Cameras(now time.Time) ([]Camera, error)
	// Camera returns the camera called name at now, as Cameras would list
	// it; ok is false for a camera none of them knows. It costs one
	// camera's lookups, not the list's.
	Camera(name string, now time.Time) (cam Camera, ok bool, err error)
}

// Camera is one camera as the API shows it.
type Camera struct {
	Name string
	// Source is "push" or "pull".
	Source string
	// URL is a pulled camera's URL; the API strips its credentials before
	// answering.
	URL   string
	State CameraState
	// LastError is the last failure (without credentials) and
	// LastErrorTime when it happened; NextRetry is when a backing-off
	// camera connects again.
	LastError     string
	LastErrorTime time.Time
	NextRetry     time.Time
	// Tracks describes the recorded tracks, one string each
	// ("H264 1280x720").
	Tracks []string
	// Bitrate is the recent recorded bitrate in bits per second (0:
	// unknown).
	Bitrate float64
	// LastFragment is the end of the newest recorded fragment.
	LastFragment time.Time
	// Schedule lists the recording windows from now on (a pull's
	// schedule); AlwaysOn reports a camera without a schedule.
	Schedule []Window
	AlwaysOn bool
	// Retention is the camera's retention policy.
	Retention RetentionPolicy
	// Owner is, in a cluster, the node that owns the camera (records it
	// and serves it live); empty outside a cluster or while nobody does.
	Owner string
}

// Window is a recording window [Start, End).
type Window struct {
	Start, End time.Time
}

// RetentionPolicy is a camera's retention rules; zero means no limit.
type RetentionPolicy struct {
	MaxAge, MinAge time.Duration
	MaxBytes       int64
}

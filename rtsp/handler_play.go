package rtsp

import (
	"net/netip"

	"github.com/camvault/camvault/rtsp/headers"
)

// DescribeRequest describes a DESCRIBE, or a SETUP for play that no earlier
// DESCRIBE on the connection covered.
type DescribeRequest struct {
	// URL is the Request-URI as sent, userinfo removed. For a SETUP without
	// DESCRIBE it is the SETUP Request-URI; Path and Query then leave out
	// the control ("trackID=0").
	URL string
	// Path is the percent-decoded path without leading or trailing "/",
	// query stripped: "archive/cam1". Encoded separators and control
	// characters were refused with 400 (SEC-04).
	Path string
	// Query is the raw query without "?", cut at its first "/" (ffmpeg
	// appends "/" and "/trackID=N" after the query, RTSP-URL-02).
	Query string
	// Peer is the address of the client's RTSP connection.
	Peer netip.AddrPort
	// User is the authenticated sender of the request (Config.Access), ""
	// for an anonymous one. A refusal with status 401 gets the challenges.
	User string
	// UserAgent is the User-Agent header, "" if absent.
	UserAgent string
	// Require lists the option tags of Require and Proxy-Require. The
	// server answers 551 for the tags the returned Presentation does not
	// support (Presentation.Supports) and then closes it.
	Require []string
}

// Presentation is one playable presentation (an archive window) for one
// client session. The server calls its methods from the connection's
// reader goroutine, except Close, which may also come from the session
// reaper or the server shutdown; Close is never called concurrently with
// itself.
type Presentation interface {
	// SDP returns the DESCRIBE body; the server adds Content-Type,
	// Content-Base and Content-Length (RTSP-M-05).
	SDP() []byte
	// Controls returns the a=control of every media in SDP order
	// ("trackID=0", ...); SETUP URLs are matched against them
	// (RTSP-URL-02). Called once, right after Describe.
	Controls() []string
	// Supports reports whether the option tag may appear in Require
	// ("onvif-replay"); any other tag is answered 551 with Unsupported
	// (RTSP-OPT-01).
	Supports(tag string) bool
	// Play is called for PLAY in Ready or Playing (a Range in Playing is an
	// immediate seek, RTSP-M-25, ONVIF-08). It must not send anything: the
	// server writes the 200 response and then calls the response's Start.
	// An *Error gives the status of a refusal (457 for a range outside the
	// recording), a *RedirectError a 301 or 302 after which the session
	// ends with the client's TEARDOWN or Config.RedirectGrace
	// (ErrRedirected); other errors become 500.
	Play(req *PlayRequest) (*PlayResponse, error)
	// Pause is called for PAUSE in Playing; it returns the pause point for
	// the Range header (a zero Range is left out).
	Pause() (headers.Range, error)
	// Close ends the presentation: TEARDOWN (ErrTeardown), session timeout
	// (ErrSessionTimeout), a viewer too slow to read (ErrSlowClient), the
	// connection closed (ErrConnClosed), shutdown (ErrServerClosed), a
	// panic (ErrPanic), Server.Kick (ErrKicked), or another error when a
	// presentation that never got a session is refused (551) or replaced
	// by a newer DESCRIBE of the same URL. It is called exactly once for every Presentation Describe
	// returned. After it returns the Output fails with ErrSessionClosed.
	Close(reason error)
}

// SSRCReporter may be implemented by a Presentation whose streams have a
// fixed SSRC: SETUP replies then carry "ssrc=" (RTSP-M-19). It is called
// on the connection's reader goroutine.
type SSRCReporter interface {
	// SSRC returns the SSRC of stream i, or false if it has none yet.
	SSRC(stream int) (uint32, bool)
}

// PlayRequest is a PLAY as passed to Presentation.Play.
type PlayRequest struct {
	// Range is the Range header, nil when absent (start or resume).
	Range *headers.Range
	// Scale is the Scale header, 0 when absent; "Scale: 0" was answered
	// 400 (RTSP-RNG-13).
	Scale float64
	// Speed is the Speed header (> 0), 0 when absent (RTSP-RNG-14).
	Speed float64
	// RateControl is the ONVIF Rate-Control header; true when absent
	// (ONVIF-06).
	RateControl bool
	// Frames is the ONVIF Frames header in lower case ("intra",
	// "intra/500", "predicted", "all"), "" when absent (ONVIF-07).
	Frames string
	// Immediate is "Immediate: yes" (ONVIF-08).
	Immediate bool
	// CSeq is the CSeq of this PLAY; its low byte goes into the ONVIF
	// replay header extension (ONVIF-09).
	CSeq uint32
	// Require lists the option tags of this PLAY's Require and
	// Proxy-Require (all of them supported, e.g. "onvif-replay").
	Require []string
	// Streams lists the indexes of the set-up streams, in SETUP order.
	Streams []int
	// Out is where the session's media goes; valid until Close.
	Out Output
	// Redirect sends the session's client elsewhere with a REDIRECT
	// request (a camera that moved to another node); valid until Close.
	// Nil when the PlayRequest does not come from a Server.
	Redirect Redirector
}

// PlayResponse is what Presentation.Play answers; the server builds the
// 200 response from it (RTSP-M-23).
type PlayResponse struct {
	// Range is the actual start (and end) in the unit of the request.
	Range headers.Range
	// Scale is echoed when non-zero.
	Scale float64
	// Speed is echoed when non-zero.
	Speed float64
	// RateControl is echoed when non-empty ("yes" or "no").
	RateControl string
	// Frames is echoed when non-empty (e.g. "intra" when Scale > 2).
	Frames string
	// Streams holds one entry per set-up stream, in the order of
	// PlayRequest.Streams; the server writes RTP-Info from them with url =
	// the SETUP Request-URI of each stream (RTSP-RNG-10).
	Streams []StreamStart
	// Start, if not nil, is called once by the server after the response
	// is queued (TCP) or written (UDP), so that no media of the new range
	// precedes it (RTSP-M-24). It is called on the reader goroutine and
	// must not block.
	Start func()
}

// StreamStart is the RTP-Info of one stream: the sequence number of the
// first packet sent after the PLAY and the RTP timestamp of the Range start.
type StreamStart struct {
	// Seq is the sequence number of the first packet after the PLAY.
	Seq uint16
	// RTPTime is the RTP timestamp of the reported Range start.
	RTPTime uint32
	// Unknown says that neither is known yet (a live stream that has sent
	// no packet): RTP-Info then names the stream's url only.
	Unknown bool
}

// Output sends one play session's media. One goroutine at a time sends;
// Close may run concurrently.
type Output interface {
	// WriteRTP sends one RTP packet of stream i; pkt is copied before the
	// call returns. On TCP it is queued on the connection's bounded media
	// queue (Config.MediaQueueSize); while the queue is full it blocks, at
	// most Config.WriteTimeout, then returns ErrSlowClient and the session
	// and its connection are closed. On UDP it is sent from the shared
	// server RTP socket to the RTSP peer's IP at client_port. After the
	// session ends it returns ErrSessionClosed.
	WriteRTP(stream int, pkt []byte) error
	// WriteRTCP is WriteRTP for RTCP: the odd interleaved channel, or the
	// server RTCP socket to client_port+1.
	WriteRTCP(stream int, pkt []byte) error
}

// Packet is one RTP or RTCP packet of a stream, for PacketWriter.
type Packet struct {
	Stream int
	RTCP   bool
	Data   []byte
}

// PacketWriter is implemented by the server's Output: WritePackets sends
// packets in order, as WriteRTP and WriteRTCP would one by one, but over
// TCP it queues them in as few frame buffers as hold them (up to
// MaxBatchBytes each), so that a frame's packets cost one queue hand-off
// and one socket write. Each buffer counts as one entry of the media
// queue. The packets are copied before it returns.
type PacketWriter interface {
	WritePackets(ps []Packet) error
}

// MaxBatchBytes bounds a frame buffer of WritePackets: a queued buffer
// holds at most this much, or one packet larger than it.
const MaxBatchBytes = 16 << 10

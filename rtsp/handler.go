package rtsp

import (
	"context"
	"net/netip"
)

// Handler is implemented by ingest (push) and playback (archive).
// Its methods are called from connection reader goroutines, concurrently
// for different connections.
type Handler interface {
	// Announce is called for ANNOUNCE with a valid application/sdp body.
	// path is the URL path without leading "/", query stripped. It returns
	// the publication or an error (an *Error gives the status; other errors
	// become 500). ctx is cancelled when the connection closes.
	Announce(ctx context.Context, req *AnnounceRequest) (Publication, error)
	// Describe is called for DESCRIBE, and for SETUP without mode=record
	// on a URL that no earlier DESCRIBE on this connection produced a
	// presentation for. Errors are as for Announce (an *Error gives the
	// status, e.g. 404 for an unknown path). ctx is cancelled when the
	// connection closes.
	Describe(ctx context.Context, req *DescribeRequest) (Presentation, error)
}

// AnnounceRequest describes an ANNOUNCE.
type AnnounceRequest struct {
	// Path is the URL path without the leading "/" and without a trailing
	// "/", percent-decoded, query stripped (RTSP-MSG-10).
	Path string
	// SDP is the request body; the handler owns it.
	SDP []byte
	// Peer is the address of the publisher's RTSP connection.
	Peer netip.AddrPort
	// User is the authenticated sender of the ANNOUNCE (Config.Access), ""
	// for an anonymous one. A refusal with status 401 gets the challenges.
	User string
	// UserAgent is the User-Agent header, "" if absent.
	UserAgent string
}

// Publication is one publisher's announced presentation.
type Publication interface {
	// Controls returns the a=control value of every announced media, in SDP
	// order; the server matches SETUP URLs against them (RTSP-URL-02/05).
	// It is called once, right after Announce.
	Controls() []string
	// Record is called once when RECORD succeeds (all streams set up). An
	// error refuses RECORD.
	Record(info RecordInfo) error
	// RTP and RTCP deliver one packet of stream i. data is valid only
	// during the call. Called from the connection reader goroutine (TCP) or
	// the UDP reader goroutines (UDP): for a UDP publication, RTP and RTCP
	// may be called concurrently from two goroutines. They are called only
	// between a successful Record and Close. A TCP publication may block
	// in them to hold its publisher back (RecordInfo.TCP); a UDP one must
	// not.
	RTP(stream int, data []byte)
	RTCP(stream int, data []byte)
	// Close ends the publication (TEARDOWN, session timeout, media timeout,
	// connection closed, server shutdown, Server.Kick); reason is one of
	// ErrTeardown, ErrSessionTimeout, ErrMediaTimeout, ErrConnClosed,
	// ErrServerClosed, ErrPanic or ErrKicked. Called exactly once, never
	// concurrently with itself; no RTP/RTCP after it returns.
	Close(reason error)
}

// RecordInfo describes a publication that starts recording.
type RecordInfo struct {
	// TCP says that the streams are interleaved on the RTSP connection:
	// RTP and RTCP are then delivered by that connection's reader
	// goroutine, and a Publication that blocks in RTP stops the server
	// reading that connection only (the publisher's socket buffer fills and
	// TCP slows it down). Otherwise (UDP) they come from the server's UDP
	// readers, which serve every UDP publisher: RTP and RTCP must then
	// never block.
	TCP bool
}

// Ender is implemented by a Publication or a Presentation that can end
// before its client stops: a publication replaced by the same publisher
// reconnecting, or a recording that stopped itself (over its memory
// budget, timestamps racing ahead); a live presentation whose camera went
// away, or whose viewer stayed too far behind. While the session records
// or plays, the server asks Ended at every reaper tick (at most a second
// apart) and ends the session when it returns an error, which Close then
// receives; the client's connection is closed with it.
type Ender interface {
	Ended() error
}

// ended returns why the publication or presentation v ended itself, or nil.
func ended(v any) error {
	if e, ok := v.(Ender); ok {
		return e.Ended()
	}
	return nil
}

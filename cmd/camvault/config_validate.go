package main

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/storage"
)

// Bounds of the validated values. They catch typos (a size in the wrong unit, a timeout of
// 10ns) rather than encode tuning advice; the defaults sit well inside them.
const (
	minTimeout = 100 * time.Millisecond
	maxTimeout = 24 * time.Hour
)

// fieldError is a validation failure of the value at key (the YAML key path, such as
// ["rtsp", "max_url"]).
type fieldError struct {
	key []string
	err error
}

func (e *fieldError) Error() string { return strings.Join(e.key, ".") + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// validate checks every value and the relations between them. It returns nil or all failures
// joined (errors.Join of *fieldError), so an operator fixes a file in one pass.
func (c *fileConfig) validate() error {
	var v validator
	if c.DataDir == "" || strings.ContainsRune(c.DataDir, 0) {
		v.fail("data_dir", "must be a directory path, got %q", c.DataDir)
	}
	v.oneOf("log.format", c.Log.Format, "text", "json")
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	c.RTSP.validate(&v)
	c.TLS.validate(&v)
	v.address("http.address", c.HTTP.Address)
	c.Recorder.validate(&v)
	// A pull held back for rtsp.media_timeout would end with "no rtp" and
	// reconnect. Each value's own range is checked above.
	w, mt := c.Recorder.BackpressureWait, c.RTSP.MediaTimeout
	if w > 0 && w <= Duration(time.Minute) && mt >= Duration(minTimeout) && w >= mt {
		v.fail("recorder.backpressure_wait", "must be below rtsp.media_timeout (%s), got %s", c.RTSP.MediaTimeout, w)
	}
	v.count("ingest.max_sdp_media", c.Ingest.MaxSDPMedia, 1, 32)
	v.size("ingest.max_sdp_line", c.Ingest.MaxSDPLine, 256, 64<<10)
	c.Pull.validate(&v)
	v.oneOf("storage.sync", c.Storage.Sync, "fragment", "segment", "none")
	v.count("storage.write_queue", c.Storage.WriteQueue, 1, 1<<20)
	v.duration("storage.index_timeout", c.Storage.IndexTimeout, minTimeout, time.Hour)
	v.count("storage.read_files", c.Storage.ReadFiles, 1, 1<<16)
	v.duration("storage.read_idle", c.Storage.ReadIdle, time.Second, 24*time.Hour)
	v.size("storage.index_reserve", c.Storage.IndexReserve, 1<<20, 1<<30)
	v.size("storage.reclaim_min", c.Storage.ReclaimMin, 64<<10, 1<<30)
	v.count("storage.report_paths", c.Storage.ReportPaths, 1, 1<<20)
	v.count("playback.max_sessions", c.Playback.MaxSessions, 1, 1<<16)
	v.duration("playback.sender_report_interval", c.Playback.SenderReportInterval, time.Second, time.Minute)
	v.size("playback.max_payload", c.Playback.MaxPayload, 256, 1460)
	c.Retention.validate(&v)
	c.validateAuth(&v)
	for _, name := range slices.Sorted(maps.Keys(c.Cameras)) {
		if err := storage.ValidCamera(name); err != nil {
			v.errs = append(v.errs, &fieldError{key: []string{"cameras", name}, err: err})
			continue
		}
		validateCamera(&v, name, c.Cameras[name])
	}
	return errors.Join(v.errs...)
}

func (r *rtspConfig) validate(v *validator) {
	v.count("rtsp.media_queue", r.MediaQueue, 1, 1<<20)
	v.duration("rtsp.udp_teardown_linger", r.UDPTeardownLinger, 0, 10*time.Second)
	v.address("rtsp.address", r.Address)
	r.validateUDP(v)
	v.size("rtsp.udp_read_buffer", r.UDPReadBuffer, 64<<10, 1<<30)
	v.duration("rtsp.session_timeout", r.SessionTimeout, time.Second, maxTimeout)
	v.duration("rtsp.handshake_timeout", r.HandshakeTimeout, minTimeout, time.Hour)
	v.duration("rtsp.idle_timeout", r.IdleTimeout, time.Second, maxTimeout)
	v.duration("rtsp.write_timeout", r.WriteTimeout, minTimeout, time.Hour)
	v.duration("rtsp.media_timeout", r.MediaTimeout, minTimeout, time.Hour)
	// A whole interleaved frame ($, channel, 16-bit length, packet) is read from the read
	// buffer, so it must hold the largest max_packet + 4.
	v.size("rtsp.read_buffer", r.ReadBuffer, 68<<10, 16<<20)
	v.count("rtsp.max_connections", r.MaxConnections, 1, 1<<20)
	v.count("rtsp.max_connections_per_address", r.MaxConnectionsPerAddress, 1, 1<<20)
	v.count("rtsp.max_sessions_per_connection", r.MaxSessionsPerConnection, 1, 1024)
	v.size("rtsp.max_request_line", r.MaxRequestLine, 256, 64<<10)
	v.size("rtsp.max_url", r.MaxURL, 256, 64<<10)
	v.atMost("rtsp.max_url", r.MaxURL, "rtsp.max_request_line", r.MaxRequestLine)
	v.size("rtsp.max_header_line", r.MaxHeaderLine, 256, 64<<10)
	v.count("rtsp.max_header_lines", r.MaxHeaderLines, 1, 1024)
	v.size("rtsp.max_header_bytes", r.MaxHeaderBytes, 1<<10, 1<<20)
	v.atMost("rtsp.max_header_line", r.MaxHeaderLine, "rtsp.max_header_bytes", r.MaxHeaderBytes)
	v.size("rtsp.max_body", r.MaxBody, 1<<10, 16<<20)
	// An interleaved frame's length is 16 bits (RFC 2326 section 10.12), a UDP datagram's
	// payload less: 65535 holds any packet.
	v.size("rtsp.max_packet", r.MaxPacket, 1<<10, 65535)
}

// validateUDP checks the shared UDP port pair. udp_rtp_address "" disables UDP transport (and
// udp_rtcp_address is then ignored); otherwise both are set. With fixed ports, RTP is even and
// RTCP the next port, because a Transport header's server_port=RTP-RTCP is a range (RFC 2326
// section 12.39, RFC 3550 section 11).
func (r *rtspConfig) validateUDP(v *validator) {
	if r.UDPRTPAddress == "" {
		return
	}
	if r.UDPRTCPAddress == "" {
		v.fail("rtsp.udp_rtcp_address", "must be set when rtsp.udp_rtp_address is (%q)", r.UDPRTPAddress)
		return
	}
	rtp, ok1 := v.address("rtsp.udp_rtp_address", r.UDPRTPAddress)
	rtcp, ok2 := v.address("rtsp.udp_rtcp_address", r.UDPRTCPAddress)
	if !ok1 || !ok2 || (rtp == 0 && rtcp == 0) {
		return // invalid, or both ephemeral (tests)
	}
	if rtp%2 != 0 {
		v.fail("rtsp.udp_rtp_address", "RTP port must be even, got %d", rtp)
	}
	if rtcp != rtp+1 {
		v.fail("rtsp.udp_rtcp_address", "RTCP port must be the RTP port + 1 (%d), got %d", rtp+1, rtcp)
	}
}

func (r *recorderConfig) validate(v *validator) {
	v.duration("recorder.fragment_duration", r.FragmentDuration, 10*time.Millisecond, time.Minute)
	v.duration("recorder.max_fragment_duration", r.MaxFragmentDuration, 10*time.Millisecond, time.Minute)
	v.notBelow("recorder.max_fragment_duration", r.MaxFragmentDuration, "recorder.fragment_duration", r.FragmentDuration)
	v.duration("recorder.segment_duration", r.SegmentDuration, 10*time.Millisecond, maxTimeout)
	v.notBelow("recorder.segment_duration", r.SegmentDuration, "recorder.fragment_duration", r.FragmentDuration)
	v.duration("recorder.clock_tolerance", r.ClockTolerance, minTimeout, time.Hour)
	v.size("recorder.max_unit_size", r.MaxUnitSize, 64<<10, 256<<20)
	v.size("recorder.max_param_set_size", r.MaxParamSetSize, 256, 64<<10)
	v.count("recorder.clock_race_limit", r.ClockRaceLimit, 1, 1000)
	v.duration("recorder.clock_race_window", r.ClockRaceWindow, time.Second, 24*time.Hour)
	v.size("recorder.max_fragment_size", r.MaxFragmentSize, 64<<10, 1<<30)
	v.atMost("recorder.max_unit_size", r.MaxUnitSize, "recorder.max_fragment_size", r.MaxFragmentSize)
	v.size("recorder.max_camera_buffer", r.MaxCameraBuffer, 64<<10, 4<<30)
	v.atMost("recorder.max_fragment_size", r.MaxFragmentSize, "recorder.max_camera_buffer", r.MaxCameraBuffer)
	v.size("recorder.max_buffer", r.MaxBuffer, 1<<20, 1<<40)
	v.atMost("recorder.max_camera_buffer", r.MaxCameraBuffer, "recorder.max_buffer", r.MaxBuffer)
	v.duration("recorder.storage_retry", r.StorageRetry, minTimeout, time.Hour)
	v.duration("recorder.backpressure_wait", r.BackpressureWait, 0, time.Minute)
}

// validator collects field errors.
type validator struct {
	errs []error
}

func (v *validator) fail(key, format string, args ...any) {
	v.errs = append(v.errs, &fieldError{key: strings.Split(key, "."), err: fmt.Errorf(format, args...)})
}

func (v *validator) oneOf(key, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		v.fail(key, "must be one of %s, got %q", strings.Join(allowed, ", "), got)
	}
}

func (v *validator) count(key string, got, lo, hi int) {
	if got < lo || got > hi {
		v.fail(key, "must be between %d and %d, got %d", lo, hi, got)
	}
}

func (v *validator) duration(key string, got Duration, lo, hi time.Duration) {
	if time.Duration(got) < lo || time.Duration(got) > hi {
		v.fail(key, "must be between %s and %s, got %s", Duration(lo), Duration(hi), got)
	}
}

func (v *validator) size(key string, got, lo, hi Size) {
	if got < lo || got > hi {
		v.fail(key, "must be between %s and %s, got %s", lo, hi, got)
	}
}

// notBelow checks got >= the value of minKey.
func (v *validator) notBelow(key string, got Duration, minKey string, minimum Duration) {
	if got < minimum {
		v.fail(key, "must be at least %s (%s), got %s", minKey, minimum, got)
	}
}

// atMost checks got <= the value of maxKey.
func (v *validator) atMost(key string, got Size, maxKey string, maximum Size) {
	if got > maximum {
		v.fail(key, "must be at most %s (%s), got %s", maxKey, maximum, got)
	}
}

// address checks a listen address "host:port" with a numeric port ("" host listens on every
// interface, port 0 picks a free one) and returns the port.
func (v *validator) address(key, addr string) (port int, ok bool) {
	_, p, err := net.SplitHostPort(addr)
	if err == nil {
		port, err = strconv.Atoi(p)
		if err == nil && (port < 0 || port > 65535) {
			err = errors.New("port out of range")
		}
	}
	if err != nil {
		v.fail(key, "must be a listen address such as \":8554\" or \"127.0.0.1:8554\", got %q", addr)
		return 0, false
	}
	return port, true
}

func (t *tlsConfig) validate(v *validator) {
	v.address("tls.address", t.Address)
	if (t.Cert == "") != (t.Key == "") {
		v.fail("tls", "cert and key go together, got cert %q and key %q", t.Cert, t.Key)
	}
	if t.Only && t.Cert == "" {
		v.fail("tls.only", "needs tls.cert and tls.key")
	}
}

package rtsp_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// statusCase sends one request after an optional preparation and checks
// the status and some headers.
type statusCase struct {
	name    string
	prep    func(c *client) string // returns the session id, if any
	method  string
	path    string // appended to the base URL; "*" is sent as is
	headers []string
	body    string
	status  int
	check   map[string]string // header -> exact value
}

func announced(c *client) string { c.announce("cam1"); return "" }

func setUp(c *client) string { c.announce("cam1"); return c.setupTCP("cam1", "record") }

func recording(c *client) string {
	id := setUp(c)
	rtsptest.ExpectStatus(c.t, c.Do("RECORD", c.URL+"/cam1", []string{"Session: " + id}, ""), 200)
	return id
}

func halfSetUp(c *client) string {
	c.announce("cam1")
	resp := c.Do("SETUP", c.URL+"/cam1/streamid=0", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"}, "")
	rtsptest.ExpectStatus(c.t, resp, 200)
	return rtsptest.SessionID(c.t, resp)
}

const sdpType = "Content-Type: application/sdp"

var statusCases = []statusCase{
	{name: "RTSP-M-01 OPTIONS on unknown URL", method: "OPTIONS", path: "/nothing", status: 200},
	{name: "RTSP-M-02 OPTIONS keepalive", prep: setUp, method: "OPTIONS", path: "/cam1", headers: []string{"Session: $S"}, status: 200},
	{name: "RTSP-M-02 OPTIONS unknown session 454", method: "OPTIONS", path: "*", headers: []string{"Session: deadbeefdeadbeef"}, status: 454},
	{name: "RTSP-MSG-05 missing CSeq 400", method: "OPTIONS", path: "*", headers: []string{"CSeq:"}, status: 400},
	{name: "RTSP-MSG-01 star with SETUP 400", method: "SETUP", path: "*", status: 400},
	{name: "RTSP-MSG-02 rtspu 501", method: "OPTIONS", path: "rtspu://h/a", status: 501},
	{name: "RTSP-M-40 unknown method 501", method: "FLY", path: "/cam1", status: 501},
	{name: "RTSP-M-39 REDIRECT 405 with Allow", method: "REDIRECT", path: "/cam1", status: 405,
		check: map[string]string{"Allow": "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, GET_PARAMETER, SET_PARAMETER"}},
	{name: "RTSP-M-07 DESCRIBE 404", method: "DESCRIBE", path: "/cam1", headers: []string{"Accept: application/sdp"}, status: 404},
	{name: "RTSP-M-09 ANNOUNCE without Content-Length 411", method: "ANNOUNCE", path: "/cam1", headers: []string{sdpType}, status: 411},
	{name: "RTSP-M-09 ANNOUNCE text/plain 415", method: "ANNOUNCE", path: "/cam1", headers: []string{"Content-Type: text/plain"}, body: ffmpegSDP, status: 415},
	{name: "RTSP-M-09 ANNOUNCE without Content-Type 415", method: "ANNOUNCE", path: "/cam1", body: ffmpegSDP, status: 415},
	{name: "RTSP-M-09 ANNOUNCE empty body 400", method: "ANNOUNCE", path: "/cam1", headers: []string{sdpType, "Content-Length: 0"}, status: 400},
	{name: "SEC-04 ANNOUNCE encoded slash 400", method: "ANNOUNCE", path: "/a%2Fb", headers: []string{sdpType}, body: ffmpegSDP, status: 400},
	{name: "RTSP-M-09 ANNOUNCE with charset 200", method: "ANNOUNCE", path: "/cam1", headers: []string{"Content-Type: application/SDP; charset=utf-8"}, body: ffmpegSDP, status: 200},
	{name: "RTSP-M-10 ANNOUNCE with unknown Session tolerated", method: "ANNOUNCE", path: "/cam1", headers: []string{sdpType, "Session: 12345678"}, body: ffmpegSDP, status: 200},
	{name: "RTSP-M-12 second ANNOUNCE 455", prep: announced, method: "ANNOUNCE", path: "/cam1", headers: []string{sdpType}, body: ffmpegSDP, status: 455},
	{name: "RTSP-M-12 ANNOUNCE on record session 455", prep: setUp, method: "ANNOUNCE", path: "/cam1", headers: []string{sdpType, "Session: $S"}, body: ffmpegSDP, status: 455},
	{name: "RTSP-M-14 SETUP without Transport 400", prep: announced, method: "SETUP", path: "/cam1/streamid=0", status: 400},
	{name: "RTSP-M-14 SETUP bad Transport 400", prep: announced, method: "SETUP", path: "/cam1/streamid=0", headers: []string{"Transport: RTP/AVP;client_port=x"}, status: 400},
	{name: "RTSP-TR-06 multicast 461", prep: announced, method: "SETUP", path: "/cam1/streamid=0", headers: []string{"Transport: RTP/AVP;multicast;mode=record"}, status: 461},
	{name: "RTSP-TR-06 SAVP 461", prep: announced, method: "SETUP", path: "/cam1/streamid=0", headers: []string{"Transport: RTP/SAVP/TCP;unicast;interleaved=0-1;mode=record"}, status: 461},
	{name: "RTSP-TR-06 UDP without client_port 461", prep: announced, method: "SETUP", path: "/cam1/streamid=0", headers: []string{"Transport: RTP/AVP;unicast;mode=record"}, status: 461},
	{name: "RTSP-TR-06 mixing UDP into a TCP session 461", prep: halfSetUp, method: "SETUP", path: "/cam1/streamid=1",
		headers: []string{"Transport: RTP/AVP;unicast;client_port=5000-5001;mode=record", "Session: $S"}, status: 461},
	{name: "RTSP-M-18 SETUP record without ANNOUNCE 455", method: "SETUP", path: "/cam1/streamid=0", headers: []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"}, status: 455},
	{name: "RTSP-M-18 SETUP play after ANNOUNCE 455", prep: announced, method: "SETUP", path: "/cam1/streamid=0", headers: []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, status: 455,
		check: map[string]string{"Allow": "OPTIONS, DESCRIBE, SETUP, TEARDOWN, GET_PARAMETER, SET_PARAMETER"}},
	{name: "SETUP play without presentation 404", method: "SETUP", path: "/cam1/trackID=0", headers: []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, status: 404},
	{name: "RTSP-M-17 SETUP on aggregate of two streams 459", prep: announced, method: "SETUP", path: "/cam1", headers: []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"}, status: 459},
	{name: "RTSP-URL-02 SETUP unknown track 404", prep: announced, method: "SETUP", path: "/cam1/streamid=7", headers: []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"}, status: 404},
	{name: "RTSP-M-16 SETUP unknown session 454", prep: announced, method: "SETUP", path: "/cam1/streamid=0", headers: []string{"Transport: RTP/AVP/TCP;interleaved=0-1;mode=record", "Session: 0123456789abcdef"}, status: 454},
	{name: "RTSP-M-16 SETUP while recording 455", prep: recording, method: "SETUP", path: "/cam1/streamid=0", headers: []string{"Transport: RTP/AVP/TCP;interleaved=4-5;mode=record", "Session: $S"}, status: 455,
		check: map[string]string{"Allow": "OPTIONS, DESCRIBE, RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"}},
	{name: "RTSP-M-16 re-SETUP in ready-record 200", prep: setUp, method: "SETUP", path: "/cam1/streamid=0", headers: []string{"Transport: RTP/AVP/TCP;interleaved=6-7;mode=record", "Session: $S"}, status: 200,
		check: map[string]string{"Transport": "RTP/AVP/TCP;unicast;interleaved=6-7;mode=record"}},
	{name: "RTSP-M-30 RECORD without SETUP of every stream 455", prep: halfSetUp, method: "RECORD", path: "/cam1", headers: []string{"Session: $S"}, status: 455},
	{name: "RTSP-M-30 RECORD without session 454", method: "RECORD", path: "/cam1", status: 454},
	{name: "RTSP-M-30 RECORD announced without session 455", prep: announced, method: "RECORD", path: "/cam1", status: 455},
	{name: "RTSP-M-31 RECORD with clock Range 200", prep: setUp, method: "RECORD", path: "/cam1", headers: []string{"Session: $S", "Range: clock=20261125T101500Z-"}, status: 200},
	{name: "RECORD while recording 200", prep: recording, method: "RECORD", path: "/cam1", headers: []string{"Session: $S"}, status: 200},
	{name: "RTSP-M-21 PLAY without session 454", method: "PLAY", path: "/cam1", status: 454},
	{name: "RTSP-M-40 PLAY on record session 405", prep: recording, method: "PLAY", path: "/cam1", headers: []string{"Session: $S"}, status: 405,
		check: map[string]string{"Allow": "OPTIONS, DESCRIBE, RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"}},
	{name: "RTSP-M-27 PAUSE without session 454", method: "PAUSE", path: "/cam1", status: 454},
	{name: "RTSP-M-27 PAUSE recording 200", prep: recording, method: "PAUSE", path: "/cam1", headers: []string{"Session: $S"}, status: 200},
	{name: "RTSP-M-34 TEARDOWN announced 200", prep: announced, method: "TEARDOWN", path: "/cam1", status: 200},
	{name: "RTSP-M-34 TEARDOWN nothing 454", method: "TEARDOWN", path: "/cam1", status: 454},
	{name: "RTSP-M-36 GET_PARAMETER ping", method: "GET_PARAMETER", path: "*", status: 200},
	{name: "RTSP-M-37 GET_PARAMETER unknown name 451", prep: setUp, method: "GET_PARAMETER", path: "/cam1", headers: []string{"Session: $S", "Content-Type: text/parameters"},
		body: "position\r\nscale\r\n", status: 451, check: map[string]string{"Content-Type": "text/parameters"}},
	{name: "RTSP-M-38 SET_PARAMETER unknown 451", method: "SET_PARAMETER", path: "/cam1", body: "barparam: barstuff\r\n", status: 451},
	{name: "RTSP-M-38 SET_PARAMETER empty 200", prep: setUp, method: "SET_PARAMETER", path: "/cam1", headers: []string{"Session: $S"}, status: 200},
	{name: "RTSP-OPT-01 Require 551", method: "SETUP", path: "/archive/cam1/trackID=0", headers: []string{"Require: funky-feature", "Proxy-Require: www.onvif.org/ver20/backchannel"}, status: 551,
		check: map[string]string{"Unsupported": "funky-feature, www.onvif.org/ver20/backchannel"}},
	{name: "RTSP-OPT-03 Timestamp echoed", method: "OPTIONS", path: "*", headers: []string{"Timestamp: 12.5 0.1"}, status: 200, check: map[string]string{"Timestamp": "12.5 0.1"}},
	{name: "RTSP-MSG-02 version 505", method: "OPTIONS", path: "* RTSP/2.0\r\nX: y", status: 505},
}

// TestStatusCodes covers the status codes of RTSP.md §1.1 the push server uses.
func TestStatusCodes(t *testing.T) {
	srv := startServer(t, rtsp.Config{Handler: ffmpegHandler()})
	for _, tc := range statusCases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, srv)
			id := ""
			if tc.prep != nil {
				id = tc.prep(c)
			}
			url := tc.path
			if strings.HasPrefix(url, "/") {
				url = c.URL + url
			}
			var hdr []string
			for _, h := range tc.headers {
				hdr = append(hdr, strings.ReplaceAll(h, "$S", id))
			}
			resp := c.doRaw(tc.method, url, hdr, tc.body)
			rtsptest.ExpectStatus(t, resp, tc.status)
			for k, v := range tc.check {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if resp.Header.Get("Server") != "camvault" || resp.Header.Get("Date") == "" {
				t.Error("missing Server or Date (RTSP-MSG-07)")
			}
			// The connection survives every status of this table.
			rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200)
		})
	}
}

// doRaw is do without the CSeq check, and where a "CSeq:" header line
// replaces the generated one.
func (c *client) doRaw(method, url string, headers []string, body string) *base.Response {
	c.t.Helper()
	c.CSeq++
	var b strings.Builder
	b.WriteString(method + " " + url)
	if !strings.Contains(url, " RTSP/") {
		b.WriteString(" RTSP/1.0")
	}
	b.WriteString("\r\n")
	custom := false
	for _, h := range headers {
		custom = custom || strings.HasPrefix(h, "CSeq:")
		if h != "CSeq:" {
			b.WriteString(h + "\r\n")
		}
	}
	if !custom {
		b.WriteString("CSeq: 77\r\n")
	}
	if body != "" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n" + body)
	c.Write(b.String())
	resp := c.Read()
	if !custom && resp.Header.Get("CSeq") != "77" {
		c.t.Fatalf("CSeq %q", resp.Header.Get("CSeq"))
	}
	return resp
}

// TestHandlerErrors: an *Error gives the status, other errors 500.
func TestHandlerErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{&base.Error{Status: 403, Reason: "camera not allowed"}, 403},
		{&base.Error{Status: 503, Reason: "busy"}, 503},
		{errors.New("disk on fire"), 500},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			srv := startServer(t, rtsp.Config{Handler: &fakeHandler{err: tc.err}})
			c := dial(t, srv)
			rtsptest.ExpectStatus(t, c.Do("ANNOUNCE", c.URL+"/cam1", []string{sdpType}, ffmpegSDP), tc.status)
			rtsptest.ExpectStatus(t, c.Do("OPTIONS", "*", nil, ""), 200)
		})
	}
}

// TestMaxSessionsPerConnection covers SEC-03: 453 beyond the cap.
func TestMaxSessionsPerConnection(t *testing.T) {
	h := &fakeHandler{controls: []string{"streamid=0"}}
	srv := startServer(t, rtsp.Config{Handler: h, MaxSessionsPerConnection: 1})
	c := dial(t, srv)
	for i, want := range []int{200, 453} {
		rtsptest.ExpectStatus(t, c.Do("ANNOUNCE", c.URL+"/cam"+strconv.Itoa(i), []string{sdpType}, ffmpegSDP), 200)
		rtsptest.ExpectStatus(t, c.Do("SETUP", c.URL+"/cam"+strconv.Itoa(i)+"/streamid=0", []string{"Transport: RTP/AVP/TCP;unicast;mode=record"}, ""), want)
	}
}

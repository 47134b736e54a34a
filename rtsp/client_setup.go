package rtsp

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// maxClientStreams bounds the m= lines a client sets up.
const maxClientStreams = 16

// clientStream is one m= line of the played presentation.
type clientStream struct {
	url       string            // resolved control URL, the SETUP target
	altURL    string            // the track URL a refused SETUP is retried with, or ""
	clockRate uint32            // from a=rtpmap; 90000 for video, 8000 otherwise
	channels  *headers.PortPair // interleaved channels (TCP)
	udp       *clientUDP
	stats     receiverStats // guarded by Client.mu
}

// handshake runs OPTIONS, DESCRIBE, SETUP and PLAY on a fresh connection
// (CLI-20). A redirect on the way is a *redirect error.
func (c *Client) handshake(u *url.URL) error {
	uri := u.String()
	resp, err := c.do(base.MethodOptions, uri, nil)
	if err != nil {
		return err
	}
	c.public = resp.Header.Get("Public")
	resp, err = c.do(base.MethodDescribe, uri, base.Header{"Accept": {"application/sdp"}})
	if err != nil {
		return err
	}
	if err := checkStatus(base.MethodDescribe, uri, resp); err != nil {
		return err
	}
	if err := c.parseDescription(uri, resp); err != nil {
		return err
	}
	for i := range c.streams {
		if err := c.setup(i); err != nil {
			return err
		}
	}
	c.routeChannels()
	return c.play()
}

func checkStatus(m base.Method, uri string, resp *base.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &base.Error{Status: resp.StatusCode, Reason: string(m) + " " + base.RedactURL(uri), Phrase: resp.Reason}
}

// setup sets up stream i (CLI-22, CLI-21). A 461 Unsupported Transport
// moves the client to the other transport, for this stream and the next
// ones, logged once; a 404, 454 or 459 retries once with the stream's
// fallback track URL (controlFallback).
func (c *Client) setup(i int) error {
	s := c.streams[i]
	err := c.setupTransports(i, s.url)
	if s.altURL == "" || !hasStatus(err, base.StatusNotFound, base.StatusSessionNotFound, base.StatusAggregateOperationNotAllowed) {
		return err
	}
	c.log.Debug("setup refused, retrying with the other track url", "err", err, "path", base.RedactURL(s.altURL))
	if err := c.setupTransports(i, s.altURL); err != nil {
		return err
	}
	s.url = s.altURL
	return nil
}

// setupTransports sets up stream i at uri over c.transport, and over the
// other transport when the camera answers 461.
func (c *Client) setupTransports(i int, uri string) error {
	err := c.setupOnce(i, uri, c.transport)
	if !hasStatus(err, base.StatusUnsupportedTransport) {
		return err
	}
	other := "udp"
	if c.transport == "udp" {
		other = "tcp"
	}
	c.log.Info("camera refused transport, using the other", "transport", c.transport, "fallback", other)
	c.transport = other
	return c.setupOnce(i, uri, other)
}

// setupOnce sends one SETUP of stream i at uri over transport, without
// mode= (CLI-22). On failure the stream is left without transport.
func (c *Client) setupOnce(i int, uri, transport string) error {
	s := c.streams[i]
	tr := headers.Transport{Profile: "RTP/AVP"}
	if transport == "udp" {
		local, err := c.localAddr()
		if err != nil {
			return err
		}
		if s.udp, err = listenClientUDP(local); err != nil {
			return fmt.Errorf("setup stream %d: %w", i, err)
		}
		tr.ClientPort = &headers.PortPair{RTP: s.udp.rtpPort(), RTCP: s.udp.rtpPort() + 1}
	} else {
		tr.Lower = headers.LowerTCP
		tr.Interleaved = &headers.PortPair{RTP: 2 * i, RTCP: 2*i + 1}
		s.channels = tr.Interleaved
	}
	err := c.sendSetup(s, uri, tr)
	if err != nil {
		if s.udp != nil {
			s.udp.close()
		}
		s.udp, s.channels = nil, nil
		return fmt.Errorf("setup stream %d: %w", i, err)
	}
	return nil
}

func (c *Client) sendSetup(s *clientStream, uri string, tr headers.Transport) error {
	resp, err := c.do(base.MethodSetup, uri, base.Header{"Transport": {tr.Marshal()}})
	if err != nil {
		return err
	}
	if err := checkStatus(base.MethodSetup, uri, resp); err != nil {
		return err
	}
	return c.applySetup(s, resp)
}

// hasStatus reports whether err is an *Error with one of the statuses.
func hasStatus(err error, statuses ...int) bool {
	var e *base.Error
	return errors.As(err, &e) && slices.Contains(statuses, e.Status)
}

// applySetup takes the session and the server's transport choice.
func (c *Client) applySetup(s *clientStream, resp *base.Response) error {
	id, timeout, err := parseClientSession(resp.Header.Get("Session"))
	if err != nil {
		return err
	}
	c.wmu.Lock()
	c.session = id
	c.wmu.Unlock()
	c.timeout = cmp.Or(timeout, defaultSessionTimeout)
	var tr headers.Transport
	if err := tr.Unmarshal(resp.Header.Get("Transport")); err != nil {
		return fmt.Errorf("transport header: %w", err)
	}
	if s.udp == nil {
		if tr.Lower != headers.LowerTCP {
			return errors.New("server did not accept tcp interleaved transport")
		}
		if tr.Interleaved != nil { // else the server took the requested pair
			s.channels = tr.Interleaved
		}
		return nil
	}
	return s.udp.setServer(c.nc.RemoteAddr(), tr, c.log)
}

// parseClientSession reads a SETUP response's Session header more
// leniently than Session.Unmarshal (CLI-24): the id is what precedes the
// first ";", of any printable characters, and a missing, zero or
// malformed timeout is 0 (the caller assumes 60s).
func parseClientSession(v string) (id string, timeout time.Duration, err error) {
	idPart, params, _ := strings.Cut(v, ";")
	id = strings.TrimSpace(idPart)
	if id == "" || len(id) > headers.MaxSessionID || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", 0, fmt.Errorf("session header %q: bad session id", truncate(v, 64))
	}
	for p := range strings.SplitSeq(params, ";") {
		k, val, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "timeout") {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n > 0 && n <= 1<<20 {
			timeout = time.Duration(n) * time.Second
		}
	}
	return id, timeout, nil
}

// truncate returns at most n bytes of s.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (c *Client) localAddr() (netip.Addr, error) {
	ta, ok := c.nc.LocalAddr().(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, errors.New("udp transport needs a tcp connection")
	}
	return ta.AddrPort().Addr().Unmap(), nil
}

// play sends PLAY on the aggregate URL.
func (c *Client) play() error {
	resp, err := c.do(base.MethodPlay, c.control, base.Header{"Range": {"npt=0.000-"}})
	if err != nil {
		return err
	}
	if err := checkStatus(base.MethodPlay, c.control, resp); err != nil {
		return err
	}
	c.log.Debug("camera playing", "path", base.RedactURL(c.control))
	return nil
}

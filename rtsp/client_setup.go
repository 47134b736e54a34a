package rtsp

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// maxClientStreams bounds the m= lines a client sets up.
const maxClientStreams = 16

// clientStream is one m= line of the played presentation.
type clientStream struct {
	url       string    // resolved control URL, the SETUP target
	clockRate uint32    // from a=rtpmap; 90000 for video, 8000 otherwise
	channels  *PortPair // interleaved channels (TCP)
	udp       *clientUDP
	stats     receiverStats // guarded by Client.mu
}

// handshake runs OPTIONS, DESCRIBE, SETUP and PLAY on a fresh connection
// (CLI-20). It returns the redirect target of DESCRIBE, if any.
func (c *Client) handshake(u *url.URL) (*url.URL, error) {
	uri := u.String()
	resp, err := c.do(MethodOptions, uri, nil)
	if err != nil {
		return nil, err
	}
	c.public = resp.Header.Get("Public")
	resp, err = c.do(MethodDescribe, uri, Header{"Accept": {"application/sdp"}})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == 301 || resp.StatusCode == 302 {
		next, err := u.Parse(resp.Header.Get("Location"))
		if err != nil || next.Scheme != "rtsp" {
			return nil, fmt.Errorf("describe %s: bad redirect location", RedactURL(uri))
		}
		return next, nil
	}
	if err := checkStatus(MethodDescribe, uri, resp); err != nil {
		return nil, err
	}
	if err := c.parseDescription(uri, resp); err != nil {
		return nil, err
	}
	for i := range c.streams {
		if err := c.setup(i); err != nil {
			return nil, err
		}
	}
	return nil, c.play()
}

func checkStatus(m Method, uri string, resp *Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &Error{Status: resp.StatusCode, Reason: string(m) + " " + RedactURL(uri), Phrase: resp.Reason}
}

// parseDescription keeps the SDP and resolves every control URL against
// Content-Base, else Content-Location, else the request URL (RTSP-URL,
// CLI-21).
func (c *Client) parseDescription(reqURL string, resp *Response) error {
	c.sdp = resp.Body
	base := reqURL
	for _, h := range []string{"Content-Base", "Content-Location"} {
		if v := strings.TrimSpace(resp.Header.Get(h)); v != "" {
			base = resolveControl(reqURL, v)
			break
		}
	}
	session, media := scanSDP(resp.Body)
	if len(media) == 0 {
		return errors.New("describe: sdp has no media")
	}
	if len(media) > maxClientStreams {
		return fmt.Errorf("describe: more than %d media", maxClientStreams)
	}
	c.control = resolveControl(base, session)
	c.streams = c.streams[:0]
	for _, m := range media {
		c.streams = append(c.streams, &clientStream{url: resolveControl(base, m.control), clockRate: m.clockRate})
	}
	return nil
}

// sdpMedia is what the client needs of an m= section.
type sdpMedia struct {
	control   string
	clockRate uint32
}

// scanSDP returns the session-level control and the media of an SDP. It
// reads lines only, tolerating what strict parsers refuse (SDP-08).
func scanSDP(b []byte) (session string, media []sdpMedia) {
	for line := range bytes.Lines(b) {
		s := strings.TrimRight(string(line), "\r\n \t")
		switch {
		case strings.HasPrefix(s, "m="):
			rate := uint32(8000)
			if strings.HasPrefix(s, "m=video") {
				rate = 90000
			}
			media = append(media, sdpMedia{clockRate: rate})
		case strings.HasPrefix(s, "a=control:"):
			v := strings.TrimSpace(s[len("a=control:"):])
			if len(media) == 0 {
				session = v
			} else {
				media[len(media)-1].control = v
			}
		case strings.HasPrefix(s, "a=rtpmap:") && len(media) > 0:
			_, enc, _ := strings.Cut(s, " ")
			parts := strings.Split(enc, "/")
			if len(parts) >= 2 {
				if r, err := strconv.ParseUint(parts[1], 10, 32); err == nil && r > 0 {
					media[len(media)-1].clockRate = uint32(r)
				}
			}
		}
	}
	return session, media
}

// resolveControl resolves a control attribute against base: "" and "*"
// mean base itself, an absolute URL is used verbatim, a path starting with
// "/" replaces the path, and anything else is appended after a slash, as
// ffmpeg and live555 do (RTSP-URL-01/02): with a query in base this gives
// path?q/c, which the camvault server and the common cameras accept.
func resolveControl(base, control string) string {
	switch {
	case control == "" || control == "*":
		return base
	case strings.HasPrefix(strings.ToLower(control), "rtsp://") || strings.HasPrefix(strings.ToLower(control), "rtsps://"):
		return control
	case strings.HasPrefix(control, "/"):
		if b, err := url.Parse(base); err == nil {
			if r, err := b.Parse(control); err == nil {
				return r.String()
			}
		}
	}
	if strings.HasSuffix(base, "/") {
		return base + control
	}
	return base + "/" + control
}

// setup sends SETUP for stream i over the configured transport, without
// mode= (CLI-22).
func (c *Client) setup(i int) error {
	s := c.streams[i]
	tr := Transport{Profile: "RTP/AVP"}
	if c.cfg.Transport == "udp" {
		local, err := c.localAddr()
		if err != nil {
			return err
		}
		if s.udp, err = listenClientUDP(local); err != nil {
			return fmt.Errorf("setup stream %d: %w", i, err)
		}
		tr.ClientPort = &PortPair{RTP: s.udp.rtpPort(), RTCP: s.udp.rtpPort() + 1}
	} else {
		tr.Lower = LowerTCP
		tr.Interleaved = &PortPair{RTP: 2 * i, RTCP: 2*i + 1}
		s.channels = tr.Interleaved
	}
	resp, err := c.do(MethodSetup, s.url, Header{"Transport": {tr.Marshal()}})
	if err != nil {
		return err
	}
	if err := checkStatus(MethodSetup, s.url, resp); err != nil {
		return err
	}
	if err := c.applySetup(s, resp); err != nil {
		return fmt.Errorf("setup stream %d: %w", i, err)
	}
	return nil
}

// applySetup takes the session and the server's transport choice.
func (c *Client) applySetup(s *clientStream, resp *Response) error {
	var sess Session
	if err := sess.Unmarshal(resp.Header.Get("Session")); err != nil {
		return fmt.Errorf("session header: %w", err)
	}
	c.wmu.Lock()
	c.session = sess.ID
	c.wmu.Unlock()
	c.timeout = sess.Timeout
	if c.timeout <= 0 {
		c.timeout = defaultSessionTimeout
	}
	var tr Transport
	if err := tr.Unmarshal(resp.Header.Get("Transport")); err != nil {
		return fmt.Errorf("transport header: %w", err)
	}
	if s.udp == nil {
		if tr.Lower != LowerTCP {
			return errors.New("server did not accept tcp interleaved transport")
		}
		if tr.Interleaved != nil { // else the server took the requested pair
			s.channels = tr.Interleaved
		}
		return nil
	}
	if tr.ServerPort == nil {
		return errors.New("server sent no server_port")
	}
	return s.udp.setServer(c.nc.RemoteAddr(), *tr.ServerPort)
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
	resp, err := c.do(MethodPlay, c.control, Header{"Range": {"npt=0.000-"}})
	if err != nil {
		return err
	}
	if err := checkStatus(MethodPlay, c.control, resp); err != nil {
		return err
	}
	c.log.Info("camera playing", "path", RedactURL(c.control))
	return nil
}

//go:build interop

package interop

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// liveViewer is a raw RTSP player of a live camera's video over TCP interleaved
// (channels 0 and 1). Unlike rtsptest.Player it returns errors rather than failing the
// test, so that many play at once, each in a goroutine of its own.
type liveViewer struct {
	conn    net.Conn
	r       *bufio.Reader
	url     string
	cseq    int
	session string
	buf     []byte // the packet Next returns, reused
}

// dialLiveViewer connects to camvault at addr, describes camera and sets up its video
// stream; every read and write must be done by deadline.
func dialLiveViewer(addr, camera string, deadline time.Time) (*liveViewer, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(deadline) // a fresh connection: cannot fail
	v := &liveViewer{conn: c, r: bufio.NewReader(c), url: "rtsp://" + addr + "/" + camera, buf: make([]byte, 1<<16)}
	if _, err := v.do("DESCRIBE", v.url, "Accept: application/sdp"); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := v.do("SETUP", v.url+"/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
	if err != nil {
		c.Close()
		return nil, err
	}
	var s headers.Session
	if err := s.Unmarshal(resp.Header.Get("Session")); err != nil {
		c.Close()
		return nil, fmt.Errorf("SETUP session: %w", err)
	}
	v.session = s.ID
	return v, nil
}

// do sends a request and reads its response, which must come before any interleaved
// frame and be 200.
func (v *liveViewer) do(method, url string, hdr ...string) (*base.Response, error) {
	v.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, v.cseq)
	if v.session != "" {
		fmt.Fprintf(&b, "Session: %s\r\n", v.session)
	}
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(v.conn, b.String()); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	var resp base.Response
	if err := resp.Unmarshal(v.r, base.Limits{}); err != nil {
		return nil, fmt.Errorf("%s response: %w", method, err)
	}
	if resp.StatusCode != base.StatusOK {
		return nil, fmt.Errorf("%s: status %d", method, resp.StatusCode)
	}
	return &resp, nil
}

// play sends PLAY and returns when it was written and the video stream's RTP-Info.
func (v *liveViewer) play() (time.Time, headers.RTPInfoEntry, error) {
	at := time.Now()
	resp, err := v.do("PLAY", v.url)
	if err != nil {
		return at, headers.RTPInfoEntry{}, err
	}
	var info headers.RTPInfo
	if err := info.Unmarshal(resp.Header.Get("RTP-Info")); err != nil || len(info) != 1 {
		return at, headers.RTPInfoEntry{}, fmt.Errorf("RTP-Info %q: %v", resp.Header.Get("RTP-Info"), err)
	}
	return at, info[0], nil
}

// next reads the next interleaved frame; the packet is valid until the next call.
func (v *liveViewer) next() (channel byte, pkt []byte, err error) {
	var f base.InterleavedFrame
	if err := f.Unmarshal(v.r, v.buf); err != nil {
		return 0, nil, err
	}
	return f.Channel, f.Payload, nil
}

func (v *liveViewer) close() { v.conn.Close() }

// rtpPacket is what the live tests read of an RTP packet.
type rtpPacket struct {
	seq     uint16
	ts      uint32
	payload []byte
}

// parseRTPPacket reads an RTP packet's header, CSRCs and extension (RFC 3550 §5.1, §5.3.1).
func parseRTPPacket(b []byte) (rtpPacket, error) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return rtpPacket{}, fmt.Errorf("not an RTP packet: % x", b[:min(len(b), 12)])
	}
	off := 12 + 4*int(b[0]&0x0F)
	if b[0]&0x10 != 0 && len(b) >= off+4 {
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	} else if b[0]&0x10 != 0 {
		off = len(b) + 1
	}
	if off > len(b) {
		return rtpPacket{}, fmt.Errorf("RTP header beyond the packet: % x", b)
	}
	return rtpPacket{seq: binary.BigEndian.Uint16(b[2:]), ts: binary.BigEndian.Uint32(b[4:]), payload: b[off:]}, nil
}

// startsKeyUnit reports whether an H.264 RTP payload (RFC 6184 §5.6-5.8) starts the access
// unit of a keyframe: an SPS or an IDR slice alone, first in a STAP-A, or in the first
// fragment of an FU-A.
func startsKeyUnit(p []byte) bool {
	const sps, idr, stapA, fuA = 7, 5, 24, 28
	if len(p) < 2 {
		return false
	}
	typ := p[0] & 0x1F
	switch typ {
	case stapA:
		if len(p) < 4 {
			return false
		}
		typ = p[3] & 0x1F
	case fuA:
		if p[1]&0x80 == 0 {
			return false
		}
		typ = p[1] & 0x1F
	}
	return typ == sps || typ == idr
}

// hasBye reports whether a compound RTCP packet holds a BYE (RFC 3550 §6.6).
func hasBye(b []byte) bool {
	for len(b) >= 4 {
		if b[1] == 203 {
			return true
		}
		n := 4 * (int(binary.BigEndian.Uint16(b[2:])) + 1)
		if n > len(b) {
			return false
		}
		b = b[n:]
	}
	return false
}

package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

// maxFrame is the largest interleaved frame payload.
const maxFrame = 0xffff

// player is a minimal RTSP player over TCP interleaved.
type player struct {
	addr    string // RTSP server host:port
	path    string // URL path asked for
	rc      *rtspConn
	control string // aggregate URL after DESCRIBE: PLAY and TEARDOWN
	streams int
	buf     []byte // one interleaved frame
}

func newPlayer(addr, path string) *player {
	return &player{addr: addr, path: path}
}

// open runs DESCRIBE and SETUP (all streams, or only the first).
func (p *player) open(ctx context.Context, all bool) error {
	rc, err := dialRTSP(ctx, p.addr, false)
	if err != nil {
		return err
	}
	p.rc = rc
	baseURL := "rtsp://" + p.addr + "/" + p.path
	h := base.Header{}
	h.Set("Accept", "application/sdp")
	resp, err := rc.do(base.MethodDescribe, baseURL, h, nil)
	if err != nil {
		return err
	}
	if cb := resp.Header.Get("Content-Base"); cb != "" {
		baseURL = strings.TrimSuffix(cb, "/")
	}
	n := strings.Count(string(resp.Body), "\nm=")
	if !all {
		n = 1
	}
	for i := range n {
		tr := headers.Transport{Profile: "RTP/AVP", Lower: headers.LowerTCP, Interleaved: &headers.PortPair{RTP: 2 * i, RTCP: 2*i + 1}}
		h := base.Header{}
		h.Set("Transport", tr.Marshal())
		if _, err := rc.do(base.MethodSetup, fmt.Sprintf("%s/trackID=%d", baseURL, i), h, nil); err != nil {
			return err
		}
	}
	p.streams, p.control = n, baseURL+"/"
	return nil
}

// play sends PLAY with a Range and sets the read deadline of the media.
func (p *player) play(r *headers.Range, limit time.Duration) error {
	h := base.Header{}
	h.Set("Range", r.Marshal())
	if _, err := p.rc.do(base.MethodPlay, p.control, h, nil); err != nil {
		return err
	}
	_ = p.rc.nc.SetReadDeadline(time.Now().Add(limit))
	if p.buf == nil {
		p.buf = make([]byte, maxFrame)
	}
	return nil
}

// readFrame reads the next interleaved frame into p.buf.
func (p *player) readFrame() (base.InterleavedFrame, error) {
	var f base.InterleavedFrame
	if err := f.Unmarshal(p.rc.br, p.buf); err != nil {
		return f, fmt.Errorf("media stream: %w", err)
	}
	return f, nil
}

// playUntilFirstPacket plays r and returns the time from PLAY to the first
// RTP packet.
func (p *player) playUntilFirstPacket(r *headers.Range) (time.Duration, error) {
	t0 := time.Now()
	if err := p.play(r, requestTimeout); err != nil {
		return 0, err
	}
	for {
		f, err := p.readFrame()
		if err != nil {
			return 0, err
		}
		if f.Channel%2 == 0 {
			return time.Since(t0), nil
		}
	}
}

// playAll plays the window from its start and reads until every stream got
// RTCP BYE; it counts video frames (marker bits) and sequence gaps.
func (p *player) playAll(limit time.Duration) (frames, gaps int, err error) {
	if err := p.play(&headers.Range{Unit: headers.RangeNPT, Start: &headers.RangePoint{}}, limit); err != nil {
		return 0, 0, err
	}
	lastSeq := make([]int, p.streams)
	for i := range lastSeq {
		lastSeq[i] = -1
	}
	byes := 0
	for byes < p.streams {
		f, err := p.readFrame()
		if err != nil {
			return frames, gaps, err
		}
		ch, pkt := int(f.Channel), f.Payload
		if ch%2 == 1 {
			byes += countBye(pkt)
			continue
		}
		if len(pkt) < 12 || ch/2 >= p.streams {
			continue
		}
		seq := int(binary.BigEndian.Uint16(pkt[2:4]))
		if last := lastSeq[ch/2]; last >= 0 && seq != (last+1)&0xffff {
			gaps++
		}
		lastSeq[ch/2] = seq
		if ch == 0 && pkt[1]&0x80 != 0 {
			frames++
		}
	}
	return frames, gaps, nil
}

// countBye returns 1 when an RTCP compound packet holds a BYE [3550 §6.6],
// 0 otherwise.
func countBye(b []byte) int {
	for len(b) >= 4 {
		if b[1] == 203 {
			return 1
		}
		n := (int(binary.BigEndian.Uint16(b[2:4])) + 1) * 4
		if n > len(b) {
			break
		}
		b = b[n:]
	}
	return 0
}

// close sends TEARDOWN and closes the connection.
func (p *player) close() {
	if p.rc == nil {
		return
	}
	if p.control != "" {
		_ = p.rc.nc.SetReadDeadline(time.Time{})
		_, _ = p.rc.do(base.MethodTeardown, p.control, nil, nil) // the session ends with the connection anyway
	}
	p.rc.close()
}

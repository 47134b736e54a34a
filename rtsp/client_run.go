package rtsp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/camvault/camvault/rtsp/base"
)

// Run reads media and responses until ctx is done, the camera fails, or
// no RTP arrives for MediaTimeout (ErrMediaTimeout). Meanwhile it sends
// keepalives (GET_PARAMETER if the camera lists it, else OPTIONS) without
// waiting for their replies, and an RTCP receiver report per stream every
// ReceiverReportInterval (CLI-23, RTCP-03). A REDIRECT request from the
// server is answered 200 and followed (RTSP-M-39): TEARDOWN, then the
// whole handshake at its Location, then media again, reported to
// ClientConfig.OnRedirect; the new description must have the same media
// (count and clock rates), else Run fails. It owns one reader goroutine
// for the connection and one per UDP socket, and waits for all of them
// before returning. Run may be called once.
func (c *Client) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	c.mu.Lock()
	if c.closed || c.runDone != nil {
		c.mu.Unlock()
		return ErrClientClosed
	}
	c.runDone, c.runStop = make(chan struct{}), stop
	c.mu.Unlock()
	defer close(c.runDone)

	hops, seen := 0, uint64(0)
	for {
		err := c.runOnce(ctx)
		r, ok := errors.AsType[*redirect](err)
		if !ok || c.isClosed() {
			return err
		}
		if n := c.Stats().Packets; n != seen { // media flowed since the last move
			hops, seen = 0, n
		}
		if err := c.move(ctx, r, &hops); err != nil {
			if c.isClosed() {
				return ErrClientClosed
			}
			return err
		}
	}
}

// runOnce reads the current connection until it fails, ctx is done or
// the server redirects the client (a *redirect error).
func (c *Client) runOnce(ctx context.Context) error {
	readErr := make(chan error, 1+2*len(c.streams))
	var wg sync.WaitGroup
	wg.Go(func() { readErr <- c.readLoop() })
	for i, s := range c.streams {
		if s.udp != nil {
			wg.Go(func() { readErr <- c.readUDP(i, s.udp.rtp, false) })
			wg.Go(func() { readErr <- c.readUDP(i, s.udp.rtcp, true) })
		}
	}
	err := c.loop(ctx, readErr)
	c.stopReaders()
	wg.Wait()
	if c.isClosed() {
		return ErrClientClosed
	}
	return err
}

// stopReaders unblocks every reader without closing the sockets, so that
// Close can still send TEARDOWN.
func (c *Client) stopReaders() {
	past := time.Unix(1, 0)
	_ = c.nc.SetReadDeadline(past)
	for _, s := range c.streams {
		if s.udp != nil {
			_ = s.udp.rtp.SetReadDeadline(past)
			_ = s.udp.rtcp.SetReadDeadline(past)
		}
	}
}

func (c *Client) loop(ctx context.Context, readErr <-chan error) error {
	keepalive := time.NewTicker(c.keepaliveInterval())
	defer keepalive.Stop()
	reports := time.NewTicker(c.cfg.ReceiverReportInterval)
	defer reports.Stop()
	// The media watchdog compares a packet counter between ticks instead of
	// being woken per packet: a goroutine switch per RTP packet doubled the
	// CPU of pulled cameras.
	watch := time.NewTicker(max(c.cfg.MediaTimeout/4, time.Millisecond))
	defer watch.Stop()
	seen, lastChange := c.Stats().Packets, time.Now()
	ssrc, cname := newReporter()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			if r, ok := errors.AsType[*redirect](err); ok {
				return r
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("camera closed the connection: %w", ErrConnClosed)
			}
			return fmt.Errorf("read from camera: %w", err)
		case now := <-watch.C:
			if n := c.Stats().Packets; n != seen {
				seen, lastChange = n, now
			} else if now.Sub(lastChange) >= c.cfg.MediaTimeout {
				return fmt.Errorf("no rtp for %v: %w", c.cfg.MediaTimeout, ErrMediaTimeout)
			}
		case <-keepalive.C:
			if err := c.keepalive(); err != nil {
				return err
			}
		case <-reports.C:
			if err := c.sendReports(ssrc, cname); err != nil {
				return err
			}
		}
	}
}

// keepaliveInterval is the configured interval, else half the session
// timeout, at most 30s (CLI-23).
func (c *Client) keepaliveInterval() time.Duration {
	if c.cfg.KeepaliveInterval > 0 {
		return c.cfg.KeepaliveInterval
	}
	return max(min(c.timeout/2, maxKeepaliveInterval), time.Second)
}

func (c *Client) keepalive() error {
	m := base.MethodOptions
	if c.hasPublic(base.MethodGetParameter) {
		m = base.MethodGetParameter
	}
	if _, err := c.send(m, c.control, nil, c.cfg.ResponseTimeout); err != nil {
		return fmt.Errorf("keepalive: %w", err)
	}
	return nil
}

// newReporter returns a random SSRC and CNAME for the client's reports.
func newReporter() (uint32, string) {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return binary.BigEndian.Uint32(b[:4]), "camvault-" + hex.EncodeToString(b[4:])
}

// sendReports sends one RR+SDES per stream: on the odd interleaved
// channel, or from the RTCP socket to the server's RTCP port.
func (c *Client) sendReports(ssrc uint32, cname string) error {
	now := time.Now()
	for i, s := range c.streams {
		c.mu.Lock()
		pkt := receiverReport(&s.stats, ssrc, cname, now)
		c.mu.Unlock()
		if err := c.writeRTCP(s, pkt); err != nil {
			return fmt.Errorf("receiver report stream %d: %w", i, err)
		}
	}
	return nil
}

func (c *Client) writeRTCP(s *clientStream, pkt []byte) error {
	if s.udp != nil {
		if !s.udp.rtcpDst.IsValid() {
			return nil // no server_port
		}
		_, err := s.udp.rtcp.WriteToUDPAddrPort(pkt, s.udp.rtcpDst)
		return err
	}
	f := base.InterleavedFrame{Channel: uint8(s.channels.RTCP), Payload: pkt}
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	return c.write(b)
}

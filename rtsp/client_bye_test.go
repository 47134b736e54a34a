package rtsp_test

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
)

// rtcpBye returns a compound RTCP packet, an empty RR then a BYE of ssrc, as a camera
// sends when its stream ends [3550 §6.6].
func rtcpBye(ssrc uint32) []byte {
	b := []byte{0x80, 201, 0, 1, 0, 0, 0, 1} // RR, no report block
	b = append(b, 0x81, 203, 0, 1)
	return binary.BigEndian.AppendUint32(b, ssrc)
}

// TestClientRTCPBye: a BYE of another source is only delivered; a BYE of the stream's
// sender ends Run with ErrBye (the camera ended the stream), and Close still sends
// TEARDOWN.
func TestClientRTCPBye(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		if _, err := playHandshake(cc, cam.URL); err != nil {
			return err
		}
		for _, f := range []struct {
			ch  byte
			pkt []byte
		}{{0, rtsptest.RTP(1, 0)}, {1, rtcpBye(0x01020304)}, {0, rtsptest.RTP(2, 3000)}, {1, rtcpBye(0xdeadbeef)}} {
			if err := cc.WriteFrame(f.ch, f.pkt); err != nil {
				return err
			}
		}
		return untilTeardown(cc)
	})
	cfg := fastConfig(cam.URL)
	cfg.KeepaliveInterval, cfg.ReceiverReportInterval, cfg.MediaTimeout = time.Minute, time.Minute, time.Minute
	var rtcp int
	cfg.OnRTCP = func(int, []byte) { rtcp++ }
	c, err := rtsp.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitRun(t, runClient(t.Context(), c)); !errors.Is(err, rtsp.ErrBye) {
		t.Errorf("Run: %v, want ErrBye", err)
	}
	if st := c.Stats(); st.Packets != 2 || rtcp != 2 {
		t.Errorf("%d RTP and %d RTCP packets delivered, want 2 and 2", st.Packets, rtcp)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	cam.Wait(t)
	checkNoLeaks(t)
}

package rtsptest_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/camvault/camvault/internal/leaktest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/base"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// TestPlayerPlaysCamera runs the two peers against each other: the player's handshake is
// answered by the camera's, the camera's RTP reaches the player in an interleaved frame
// before the answer to a keepalive, and TEARDOWN ends the camera's script.
func TestPlayerPlaysCamera(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	const sdp = "v=0\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n"
	errNoTeardown := errors.New("no teardown")
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		setups, err := cc.Handshake(sdp, cam.URL+"/", 1)
		if err != nil {
			return err
		}
		if setups[0].URL != cam.URL+"/trackID=0" {
			return errors.New("setup url " + setups[0].URL)
		}
		if err := cc.WriteFrame(0, rtsptest.RTP(7, 90000)); err != nil {
			return err
		}
		if teardown, err := cc.UntilTeardown(); err != nil || !teardown {
			return errors.Join(err, errNoTeardown)
		}
		return nil
	})
	p := rtsptest.DialPlayer(t, cam.Addr)
	rtsptest.ExpectStatus(t, p.Do("OPTIONS", cam.URL, nil, ""), 200)
	resp := p.Do("DESCRIBE", cam.URL, []string{"Accept: application/sdp"}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	if string(resp.Body) != sdp || resp.Header.Get("Content-Base") != cam.URL+"/" {
		t.Fatalf("describe answer %q, content-base %q", resp.Body, resp.Header.Get("Content-Base"))
	}
	resp = p.Do("SETUP", cam.URL+"/trackID=0", []string{"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, "")
	rtsptest.ExpectStatus(t, resp, 200)
	id := rtsptest.SessionID(t, resp)
	if id != rtsptest.CameraSession {
		t.Fatalf("session %q", id)
	}
	rtsptest.ExpectStatus(t, p.Do("PLAY", cam.URL+"/", []string{"Session: " + id}, ""), 200)
	resp, frames := p.Request("GET_PARAMETER", cam.URL+"/", []string{"Session: " + id})
	rtsptest.ExpectStatus(t, resp, 200)
	if len(frames) != 1 || frames[0].Channel != 0 || !bytes.Equal(frames[0].Payload, rtsptest.RTP(7, 90000)) {
		t.Fatalf("frames before the keepalive answer: %+v", frames)
	}
	p.Write("TEARDOWN " + cam.URL + "/ RTSP/1.0\r\nCSeq: 9\r\nSession: " + id + "\r\n\r\n")
	cam.Wait(t)
	p.ExpectClosed() // the camera closes the connection after its script
}

// TestCameraReportsScriptError checks that Next carries a failing script's error and its
// connection number, and that Frame builds what base decodes.
func TestCameraReportsScriptError(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		_, err := cc.Expect(base.MethodDescribe)
		return err
	})
	p := rtsptest.DialPlayer(t, cam.Addr)
	p.Write(rtsptest.Frame(1, "rr") + "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
	r := cam.Next(t)
	if r.Conn != 0 || r.Err == nil || r.String() != "0 got OPTIONS, want DESCRIBE" {
		t.Fatalf("result %v", r)
	}
}

// TestPlayerTryRequest checks that TryRequest skips the frames before its response and
// returns an error, not a failed test, when the server closes the connection.
func TestPlayerTryRequest(t *testing.T) {
	cam := rtsptest.NewCamera(t)
	cam.Serve(func(cc *rtsptest.CameraConn) error {
		req, err := cc.Expect(base.MethodOptions)
		if err != nil {
			return err
		}
		if err := cc.WriteFrame(1, []byte("rtcp")); err != nil {
			return err
		}
		if err := cc.Reply(req, 200, ""); err != nil {
			return err
		}
		_, err = cc.Expect(base.MethodDescribe) // then hang up without an answer
		return err
	})
	p := rtsptest.DialPlayer(t, cam.Addr)
	resp, err := p.TryRequest("OPTIONS", "*", nil, "")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("CSeq") != "1" {
		t.Fatalf("OPTIONS: %+v, %v", resp, err)
	}
	if resp, err := p.TryRequest("DESCRIBE", cam.URL, []string{"Accept: application/sdp"}, ""); err == nil {
		t.Fatalf("DESCRIBE answered %d on a closed connection", resp.StatusCode)
	}
	cam.Wait(t)
}

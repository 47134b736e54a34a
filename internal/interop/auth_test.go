//go:build interop

package interop

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/auth"
)

// authUsers is the users section of the auth tests: "pub" may publish
// cameras named auth*, "view" may replay every camera.
func authUsers(t *testing.T) string {
	t.Helper()
	return usersYAML(t, []testUser{{"pub", "publish", "auth*"}, {"view", "playback", "*"}})
}

// testUser is a user of a test config with one permission; its password
// is its name reversed.
type testUser struct{ name, action, cameras string }

// usersYAML returns the users section for users, with every kind of hash.
func usersYAML(t *testing.T, users []testUser) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("users:\n")
	for _, u := range users {
		pw := reverse(u.name)
		md5, err := auth.DigestHA1(auth.DigestMD5, u.name, "camvault", pw)
		if err != nil {
			t.Fatal(err)
		}
		sha, err := auth.DigestHA1(auth.DigestSHA256, u.name, "camvault", pw)
		if err != nil {
			t.Fatal(err)
		}
		h, err := auth.HashPassword(pw, auth.DefaultArgon2Params(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  - name: %s\n    password_argon2id: %q\n    digest_md5: %s\n    digest_sha256: %s\n"+
			"    permissions: [{action: %s, cameras: [%q]}]\n", u.name, h.String(), md5, sha, u.action, u.cameras)
	}
	return b.String()
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// withUser puts user:password into a base URL ("rtsp://host:port").
func withUser(base, user, password string) string {
	scheme, rest, _ := strings.Cut(base, "://")
	return scheme + "://" + user + ":" + password + "@" + rest
}

// unauthorized reports whether a client's output says it got 401.
func unauthorized(out string) bool {
	return strings.Contains(out, "401") || strings.Contains(out, "Unauthorized")
}

// TestAuthMatrix covers issue 9: {ffmpeg, GStreamer} x {push, archive
// play} x {no credentials, wrong password, right password} over RTSP and
// RTSPS. Without or with wrong credentials the client is refused with 401
// and nothing is recorded or played; with the right ones the push records
// every frame and the play decodes from the seek point.
func TestAuthMatrix(t *testing.T) {
	t.Parallel()
	needTool(t, "ffmpeg", "ffprobe", "gst-launch-1.0", "/usr/bin/python3")
	needGstElement(t, "rtspclientsink", "rtspsrc", "x264enc", "avdec_h264", "appsink")
	// Every client here runs from 127.0.0.1: the failure limiter, which
	// would slow the later runs after the wrong passwords, is set out of
	// the way (TestBruteForceIsSlowed covers it).
	s, tlsBase := tlsServerLater(t, "auth:\n  failure_threshold: 1000\n"+authUsers(t))
	recordArchive(t, s.dir, "cam", numberedClip(t, 45), archiveStart)
	s.start()
	t.Cleanup(s.stop)
	script := seekScript(t)
	pushed := map[string]time.Time{}
	for _, base := range []string{"rtsp://" + s.rtsp, tlsBase} {
		scheme, _, _ := strings.Cut(base, ":")
		for _, creds := range []struct{ name, user, pw string }{{"none", "", ""}, {"wrong", "pub", "nope"}, {"right", "pub", "bup"}} {
			url := base
			if creds.user != "" {
				url = withUser(base, creds.user, creds.pw)
			}
			cam := "auth" + scheme + creds.name
			t.Run(scheme+"/ffmpeg push/"+creds.name, func(t *testing.T) {
				start, out, err := ffmpegPush(t, url+"/"+cam+"ff", "tcp", false, x264Baseline)
				authOutcome(t, creds.name, out, err)
				if err == nil {
					pushed[cam+"ff"] = start
				}
			})
			t.Run(scheme+"/gstreamer push/"+creds.name, func(t *testing.T) {
				start := time.Now()
				r, err := gstPublish(t, 2*time.Minute,
					"videotestsrc", "is-live=true", fmt.Sprintf("num-buffers=%d", clipFrames), "!",
					fmt.Sprintf("video/x-raw,width=640,height=360,framerate=%d/1", clipFPS), "!",
					"x264enc", "tune=zerolatency", "speed-preset=ultrafast", fmt.Sprintf("key-int-max=%d", clipFPS), "!",
					"video/x-h264,profile=baseline", "!", "h264parse", "!",
					"rtspclientsink", "location="+base+"/"+cam+"gst", "protocols=tcp", "tls-validation-flags=0",
					"user-id="+creds.user, "user-pw="+creds.pw)
				if err != nil && gstTeardownCancelled(err, r) {
					err = nil
				}
				authOutcome(t, creds.name, r.summary(), err)
				if err == nil {
					pushed[cam+"gst"] = start
				}
			})
		}
		for _, creds := range []struct{ name, user, pw string }{{"none", "", ""}, {"wrong", "view", "nope"}, {"right", "view", "weiv"}} {
			t.Run(scheme+"/ffmpeg play/"+creds.name, func(t *testing.T) {
				url := base
				if creds.user != "" {
					url = withUser(base, creds.user, creds.pw)
				}
				if creds.name == "right" {
					frames := decodeGray(t, time.Minute, "-ss", "30", "-i", url+"/archive/cam", "-t", "2")
					checkSeekFrames(t, frames, 30*numberedFPS, 2*numberedFPS)
					return
				}
				out, err := run(t, time.Minute, "ffmpeg", "-nostdin", "-v", "error", "-i", url+"/archive/cam", "-t", "2", "-f", "null", "-")
				authOutcome(t, creds.name, out, err)
			})
			t.Run(scheme+"/gstreamer play/"+creds.name, func(t *testing.T) {
				extra := "tls-validation-flags=0"
				if creds.user != "" {
					extra += " user-id=" + creds.user + " user-pw=" + creds.pw
				}
				if creds.name == "right" {
					gstSeek(t, s, base+"/archive/cam", "tcp", extra)
					return
				}
				out, _ := run(t, time.Minute, "/usr/bin/python3", script, base+"/archive/cam", "tcp", "25", extra)
				if !unauthorized(out) || !strings.Contains(out, "first=-1 pts=-1 frames=0") {
					t.Fatalf("gstreamer played or failed otherwise:\n%s", out)
				}
			})
		}
	}
	for cam := range pushed {
		s.waitPublisherGone(cam)
	}
	s.stop()
	for cam, start := range pushed {
		checkRecording(t, s, cam, pushCase{video: "h264"}, start)
	}
	for _, cam := range []string{"authrtspnoneff", "authrtspwrongff", "authrtspsnonegst", "authrtspswronggst"} {
		if segs := s.segments(cam); len(segs) != 0 {
			t.Errorf("refused publisher %s recorded %d segments", cam, len(segs))
		}
	}
	if len(pushed) != 4 {
		t.Errorf("%d pushes with the right password recorded, want 4", len(pushed))
	}
}

// authOutcome checks a client run: refused with 401 without or with wrong
// credentials, successful with the right ones.
func authOutcome(t *testing.T, creds, out string, err error) {
	t.Helper()
	switch {
	case creds == "right" && err != nil:
		t.Fatalf("refused with the right password: %v\n%s", err, out)
	case creds != "right" && err == nil:
		t.Fatalf("accepted with %s credentials:\n%s", creds, out)
	case creds != "right" && !unauthorized(out):
		t.Fatalf("refused without a 401:\n%s", out)
	}
}

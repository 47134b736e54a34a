//go:build interop

package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/storage"
)

// build is one build of cmd/camvault, made once per test run.
type build struct {
	once sync.Once
	path string
	err  error
}

var (
	raceBuild  build // with -race: the default, so that races in camvault fail the tests
	plainBuild build // without -race: for measuring memory as users see it
)

// camvaultBinary builds cmd/camvault with -race once per test run.
func camvaultBinary(t *testing.T) string { return raceBuild.get(t, "-race") }

// camvaultPlainBinary builds cmd/camvault without -race once per test run.
func camvaultPlainBinary(t *testing.T) string { return plainBuild.get(t) }

func (b *build) get(t *testing.T, flags ...string) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "camvault-interop-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "camvault")
		args := append(append([]string{"build"}, flags...), "-o", b.path, "github.com/camvault/camvault/cmd/camvault")
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// remove deletes the build's directory, if it was made.
func (b *build) remove() {
	if b.path != "" {
		_ = os.RemoveAll(filepath.Dir(b.path)) // a temporary directory: nothing to report
	}
}

// needTool skips (outside CI) or fails (in CI) when a tool is missing.
func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", name, err)
			}
			t.Skipf("%s not installed", name)
		}
	}
}

// needGstElement skips or fails when a GStreamer element is missing.
func needGstElement(t *testing.T, names ...string) {
	t.Helper()
	needTool(t, "gst-inspect-1.0")
	for _, name := range names {
		if err := exec.Command("gst-inspect-1.0", "--exists", name).Run(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("GStreamer element %s is required in CI", name)
			}
			t.Skipf("GStreamer element %s not installed", name)
		}
	}
}

// freePorts returns a free TCP port and a free even/odd UDP port pair on
// 127.0.0.1.
func freePorts(t *testing.T) (tcp, udp int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp = l.Addr().(*net.TCPAddr).Port
	l.Close()
	for range 100 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		a, err1 := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		b, err2 := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + 1})
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		if err1 == nil && err2 == nil {
			return tcp, p
		}
	}
	t.Fatal("no free UDP port pair")
	return 0, 0
}

// server is one camvault process.
type server struct {
	t       *testing.T
	dir     string
	rtsp    string // host:port
	http    string // host:port of the HTTP API, learnt from the serving log line at each start
	https   string // host:port of HTTPS, the same way; "" when not served
	cert    string // the PEM certificate of RTSPS and HTTPS (tlsServerLater); "" without
	cmd     *exec.Cmd
	logs    *rtsptest.SyncBuffer
	exited  chan struct{}
	config  string
	extra   string
	udpPort int
	bin     string // the camvault binary; "" for camvaultBinary
	host    string // the address every listener binds: 127.0.0.1 unless listenOn changed it
	// httpPort is the HTTP API's port when fixed before the start (fixHTTPPort); 0 binds :0.
	httpPort int
}

// startServer runs camvault with a fresh data directory. extraYAML is
// appended to the generated config file.
func startServer(t *testing.T, extraYAML string) *server {
	t.Helper()
	s := startServerLater(t, extraYAML)
	s.start()
	t.Cleanup(func() { s.stop() })
	return s
}

// startServerLater prepares a data directory, ports and config; s.start
// runs camvault.
func startServerLater(t *testing.T, extraYAML string) *server {
	t.Helper()
	s := &server{t: t, dir: t.TempDir(), extra: extraYAML, host: "127.0.0.1"}
	tcp, udp := freePorts(t)
	s.rtsp, s.udpPort = net.JoinHostPort(s.host, strconv.Itoa(tcp)), udp
	s.config = filepath.Join(t.TempDir(), "camvault.yaml")
	s.writeConfig(extraYAML)
	return s
}

// writeConfig (re)writes the config file with extraYAML appended; the next start reads it.
func (s *server) writeConfig(extraYAML string) {
	s.t.Helper()
	s.extra = extraYAML
	conf := fmt.Sprintf("data_dir: %s\nhttp: {address: \"%[2]s:%[7]d\", tls_address: \"%[2]s:0\"}\nrtsp:\n  address: %[3]q\n  udp_rtp_address: \"%[2]s:%[4]d\"\n  udp_rtcp_address: \"%[2]s:%[5]d\"\n%[6]s",
		s.dir, s.host, s.rtsp, s.udpPort, s.udpPort+1, extraYAML, s.httpPort)
	if err := os.WriteFile(s.config, []byte(conf), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// fixHTTPPort picks the HTTP API's port before the start, so that the config can name it
// (a cluster node's http_url), and returns the API's host:port. A start retried on other
// ports (portAttempts) keeps it.
func (s *server) fixHTTPPort() string {
	s.t.Helper()
	s.httpPort, _ = freePorts(s.t)
	s.http = net.JoinHostPort(s.host, strconv.Itoa(s.httpPort))
	return s.http
}

// listenOn makes every listener of the next start bind host (an IPv4 address) instead of
// 127.0.0.1, on the same ports.
func (s *server) listenOn(host string) {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.rtsp)
	s.host, s.rtsp = host, net.JoinHostPort(host, port)
	s.writeConfig(s.extra)
}

// portAttempts bounds the starts of a camvault whose ports another test took between
// freePorts and camvault's bind (the harness must name the RTSP and UDP ports in advance).
const portAttempts = 3

func (s *server) start() {
	s.t.Helper()
	for attempt := 1; s.launch() && attempt < portAttempts; attempt++ {
		tcp, udp := freePorts(s.t)
		s.t.Logf("a port of camvault was taken before it bound it; again on %d and %d", tcp, udp)
		s.rtsp, s.udpPort = net.JoinHostPort(s.host, strconv.Itoa(tcp)), udp
		s.writeConfig(s.extra)
	}
	s.waitReady()
	s.http = s.logValue("camvault serving", "http")
	if s.https = s.logValue("camvault serving", "https"); s.https == "<nil>" {
		s.https = ""
	}
}

// launch runs camvault and reports whether it exited at once because one of its ports was
// taken ("address already in use"); otherwise it returns once camvault answers or has exited for
// another reason, which waitReady then reports.
func (s *server) launch() (portTaken bool) {
	s.t.Helper()
	s.logs = &rtsptest.SyncBuffer{}
	bin := s.bin
	if bin == "" {
		bin = camvaultBinary(s.t)
	}
	s.cmd = exec.Command(bin, "serve", "-config", s.config)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan struct{})
	s.exited = exited
	go func() {
		_ = s.cmd.Wait()
		close(exited)
	}()
	rtsptest.WaitWithin(s.t, 20*time.Second, "camvault answers OPTIONS or exits", func() bool {
		select {
		case <-exited:
			portTaken = strings.Contains(s.logs.String(), "address already in use")
			return true
		default:
		}
		resp, err := rawRequest(s.rtsp, "OPTIONS rtsp://"+s.rtsp+"/ RTSP/1.0\r\nCSeq: 1\r\n\r\n")
		return err == nil && strings.HasPrefix(resp, "RTSP/1.0 200")
	})
	return portTaken
}

// logValue waits for the log line with msg and returns the value of its key (text handler:
// key=value, the value unquoted here only when it needs no quotes, as addresses do).
func (s *server) logValue(msg, key string) string {
	s.t.Helper()
	var value string
	s.waitFor(20*time.Second, fmt.Sprintf("log line %q with %s=", msg, key), func() bool {
		for line := range strings.Lines(s.logs.String()) {
			if !strings.Contains(line, "msg="+strconv.Quote(msg)) {
				continue
			}
			for field := range strings.FieldsSeq(line) {
				if v, ok := strings.CutPrefix(field, key+"="); ok {
					value = v
					return true
				}
			}
		}
		return false
	})
	return value
}

// waitReady polls until OPTIONS gets 200 (no fixed sleep).
func (s *server) waitReady() {
	s.t.Helper()
	s.waitFor(20*time.Second, "camvault answers OPTIONS", func() bool {
		resp, err := rawRequest(s.rtsp, "OPTIONS rtsp://"+s.rtsp+"/ RTSP/1.0\r\nCSeq: 1\r\n\r\n")
		return err == nil && strings.HasPrefix(resp, "RTSP/1.0 200")
	})
}

// waitFor polls cond until it holds (rtsptest.WaitWithin), failing with camvault's log after
// timeout or as soon as camvault exits.
func (s *server) waitFor(timeout time.Duration, what string, cond func() bool) {
	s.t.Helper()
	done := false
	defer func() {
		if !done { // WaitWithin failed the test: show why camvault did not get there
			s.t.Logf("camvault log:\n%s", s.logs)
		}
	}()
	rtsptest.WaitWithin(s.t, timeout, what, func() bool {
		select {
		case <-s.exited:
			s.t.Fatalf("camvault exited while waiting: %s", what)
		default:
		}
		return cond()
	})
	done = true
}

// stop ends camvault with SIGTERM (segments get sealed) and waits.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("camvault did not stop in time:\n%s", s.logs)
	}
	if strings.Contains(s.logs.String(), "DATA RACE") || strings.Contains(s.logs.String(), "panic:") {
		s.t.Errorf("camvault log shows a race or panic:\n%s", s.logs)
	}
}

// kill ends camvault with SIGKILL, as a crash would.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// rawRequest sends one RTSP request and returns the whole response head.
func rawRequest(addr, req string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil || line == "\r\n" || line == "\n" {
			return b.String(), err
		}
	}
}

// segments opens the stopped server's index and lists a camera's segments.
func (s *server) segments(camera string) []storage.SegmentInfo {
	s.t.Helper()
	st, err := storage.Open(storage.Config{Dir: s.dir, IndexTimeout: 5 * time.Second})
	if err != nil {
		s.t.Fatal(err)
	}
	defer st.Close()
	infos, err := st.Segments(camera, time.Time{}, time.Time{}, true)
	if err != nil {
		s.t.Fatal(err)
	}
	return infos
}

// run runs a command with a timeout and returns its combined output.
func run(t *testing.T, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// probe is what ffprobe says of a recorded segment.
type probe struct {
	Streams []struct {
		CodecName    string `json:"codec_name"`
		CodecType    string `json:"codec_type"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		NbReadFrames string `json:"nb_read_frames"`
		SampleRate   string `json:"sample_rate"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"` // seconds
	} `json:"format"`
}

func ffprobe(t *testing.T, file string) probe {
	t.Helper()
	out, err := run(t, time.Minute, "ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_name,codec_type,width,height,nb_read_frames,sample_rate:format=duration", "-of", "json", file)
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", file, err, out)
	}
	var p probe
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	return p
}

// videoFrames returns the number of video frames ffprobe decodes.
func (p probe) stream(kind string) (codec string, w, h, frames int, ok bool) {
	for _, s := range p.Streams {
		if s.CodecType == kind {
			n, _ := strconv.Atoi(s.NbReadFrames)
			return s.CodecName, s.Width, s.Height, n, true
		}
	}
	return "", 0, 0, 0, false
}

// decodeClean decodes the file with ffmpeg and fails on any error output.
func decodeClean(t *testing.T, file string) {
	t.Helper()
	out, err := run(t, 2*time.Minute, "ffmpeg", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("ffmpeg decode of %s: %v\n%s", filepath.Base(file), err, out)
	}
}

// firstVideoFrameIsKey checks that the first decoded video frame is a keyframe.
func firstVideoFrameIsKey(t *testing.T, file string) {
	t.Helper()
	out, err := run(t, time.Minute, "ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
		"-show_entries", "frame=key_frame,pict_type", "-of", "csv=p=0", file)
	if err != nil {
		t.Fatalf("ffprobe frames: %v\n%s", err, out)
	}
	if first := strings.SplitN(strings.TrimSpace(out), "\n", 2)[0]; !strings.HasPrefix(first, "1") {
		t.Errorf("first video frame of %s is %q, want a keyframe", filepath.Base(file), first)
	}
}

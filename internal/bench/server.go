package bench

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/camvault/camvault/rtsp/base"
)

const (
	// readyTimeout bounds the wait for the camvault under test to answer
	// OPTIONS.
	readyTimeout = 20 * time.Second
	// readyPoll is the pause between readiness probes.
	readyPoll = 50 * time.Millisecond
	// stopTimeout bounds camvault's shutdown after SIGTERM.
	stopTimeout = 60 * time.Second
	// rssInterval is the RSS sampling period.
	rssInterval = 500 * time.Millisecond
	// logTailBytes is how much of camvault's log a failure shows.
	logTailBytes = 4000
)

// serverOptions are the flags about the camvault under test that every
// benchmark has.
type serverOptions struct {
	exe   string // the camvault binary; "" runs this executable
	pprof string
	// extraConf is appended to the generated config (push -server-config,
	// pull's cameras).
	extraConf string
	auth      bool // a user who may publish every camera
	tls       bool // RTSPS on a second port
}

func (o *serverOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.pprof, "pprof", "", "pass -pprof `address` to the camvault under test")
	fs.StringVar(&o.exe, "camvault", "", "the camvault `binary` under test; defaults to this executable")
}

// server is the camvault process under test.
type server struct {
	cmd      *exec.Cmd
	addr     string
	tlsAddr  string // RTSPS, with serverOptions.tls
	httpAddr string // plain HTTP (API, /metrics), on loopback
	token    string // bearer token of benchUser for the API, with serverOptions.auth
	logf     *os.File
	exited   chan struct{} // closed when the process has been waited for
}

// serverAddrs are the loopback listen addresses of the camvault under test.
type serverAddrs struct {
	rtsp    string
	udpPort int // the even port of the shared RTP/RTCP pair
	http    string
	https   string // bound only when RTSPS has a certificate (-tls)
	rtsps   string // used only with -tls
}

// freeServerAddrs picks free loopback addresses for a camvault under test.
func freeServerAddrs() (serverAddrs, error) {
	var a serverAddrs
	tcp, err := freeTCPAddrs(4)
	if err != nil {
		return a, err
	}
	a.rtsp, a.http, a.https, a.rtsps = tcp[0], tcp[1], tcp[2], tcp[3]
	a.udpPort, err = freeUDPPair()
	return a, err
}

// startServer writes a config for a fresh data directory in dir allowing
// maxConns connections, starts camvault and waits until it answers.
func startServer(ctx context.Context, dir string, maxConns int, o serverOptions) (*server, error) {
	addrs, err := freeServerAddrs()
	if err != nil {
		return nil, err
	}
	conf := serverConfig(filepath.Join(dir, "data"), addrs, maxConns, o.extraConf)
	sec, err := securityConfig(dir, o, addrs.rtsps)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "camvault.yaml")
	if err := os.WriteFile(cfgPath, []byte(conf+sec.conf), 0o644); err != nil {
		return nil, err
	}
	exe := o.exe
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	logf, err := os.Create(filepath.Join(dir, "camvault.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "-config", cfgPath}
	if o.pprof != "" {
		args = append(args, "-pprof", o.pprof)
	}
	s := &server{cmd: exec.Command(exe, args...), addr: addrs.rtsp, tlsAddr: sec.tlsAddr, httpAddr: addrs.http, token: sec.token,
		logf: logf, exited: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { // waited for by kill
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

// serverConfig is the camvault config of a bench round: data in data, the
// listeners on a, logging warnings only, and room for maxConns connections
// from the one loopback address.
func serverConfig(data string, a serverAddrs, maxConns int, extra string) string {
	return fmt.Sprintf("data_dir: %s\nlog: {level: warn}\nhttp: {address: %q, tls_address: %q}\nrtsp:\n  address: %q\n  udp_rtp_address: \"127.0.0.1:%d\"\n"+
		"  udp_rtcp_address: \"127.0.0.1:%d\"\n  max_connections: %d\n  max_connections_per_address: %d\n%s\n",
		data, a.http, a.https, a.rtsp, a.udpPort, a.udpPort+1, maxConns+64, maxConns+64, extra)
}

// freeTCPAddr returns a loopback address that was free a moment ago.
func freeTCPAddr() (string, error) {
	addrs, err := freeTCPAddrs(1)
	if err != nil {
		return "", err
	}
	return addrs[0], nil
}

// freeTCPAddrs returns n distinct loopback addresses that were free a
// moment ago: all are held at once, so none is handed out twice.
func freeTCPAddrs(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// freeUDPPair returns the even port of a UDP pair that was free a moment ago.
func freeUDPPair() (int, error) {
	rtpConn, rtcpConn, err := listenUDPPair()
	if err != nil {
		return 0, err
	}
	defer closeUDP([]*net.UDPConn{rtpConn, rtcpConn})
	return rtpConn.LocalAddr().(*net.UDPAddr).Port, nil
}

// waitReady polls with OPTIONS until camvault answers 200.
func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if rc, err := dialRTSP(ctx, s.addr, false); err == nil {
			_, err = rc.do(base.MethodOptions, "rtsp://"+s.addr+"/", nil, nil)
			rc.close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("camvault exited:\n%s", s.logTail())
		case <-ctx.Done():
		case <-time.After(readyPoll):
		}
	}
	return fmt.Errorf("camvault not ready:\n%s", s.logTail())
}

// usage is what measureUsage saw between two instants.
type usage struct {
	cpu, benchCPU time.Duration // CPU time of camvault (/proc), of the bench (rusage)
	wall          time.Duration
	rss           int64 // camvault's peak resident set
}

// measure samples the CPU use of camvault (and of the bench) between from
// and to, and camvault's peak RSS every half second until to. CPU is in
// cores: CPU time over wall time.
func (s *server) measure(ctx context.Context, from, to time.Time) (cpu, benchCPU float64, rss int64) {
	u := s.measureUsage(ctx, from, to)
	return cores(u.cpu, u.wall), cores(u.benchCPU, u.wall), u.rss
}

// measureUsage is measure in CPU time.
func (s *server) measureUsage(ctx context.Context, from, to time.Time) usage {
	pid := s.cmd.Process.Pid
	_ = sleepUntil(ctx, from)
	c0, _ := procCPU(pid)
	b0, w0 := selfCPU(), time.Now()
	var u usage
	for time.Now().Before(to) && ctx.Err() == nil {
		if r, err := procRSS(pid); err == nil {
			u.rss = max(u.rss, r)
		}
		_ = sleepUntil(ctx, time.Now().Add(min(rssInterval, max(time.Until(to), 0))))
	}
	c1, _ := procCPU(pid)
	u.cpu, u.benchCPU, u.wall = c1-c0, selfCPU()-b0, time.Since(w0)
	return u
}

// stop sends SIGTERM and waits for camvault to exit.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
		s.kill()
		return fmt.Errorf("camvault did not stop within %v", stopTimeout)
	}
}

// kill kills camvault if it still runs, waits for it and closes its log.
func (s *server) kill() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.logf.Close()
}

// logTail returns the end of camvault's log.
func (s *server) logTail() string { return logTail(s.logf.Name()) }

// logTail returns the last logTailBytes of the file at path.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
	}
	return string(b)
}

package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/camvault/camvault/internal/weed"
)

// The bucket and static credentials of the bench's weed.
const (
	weedBucket    = "camvault-bench"
	weedAccessKey = "camvault-bench"
	weedSecretKey = "camvault-bench-secret"
	weedRegion    = "us-east-1"
)

const (
	// weedReadyTimeout bounds the wait for weed to store a first object
	// (about 5 s on an idle machine).
	weedReadyTimeout = 90 * time.Second
	// weedVolumeMB and weedVolumes size weed's store: 64 GiB, more than a
	// round writes (200 cameras at 3 Mbit/s write 4.5 GB a minute).
	weedVolumeMB = 1024
	weedVolumes  = 64
)

// weedServer is the S3 server of a tiered round: `weed mini` in a
// directory of its own, on free loopback ports.
type weedServer struct {
	cmd      *exec.Cmd
	endpoint string
	ports    weed.Ports
	data     string // weed's data directory
	log      *os.File
	exited   chan struct{} // closed when the process has been waited for
}

// startWeed starts bin (weed.Find's when "") with its log in dir and its
// data in a new directory under dataParent (dir when ""), and waits until
// it stores an object in weedBucket. stop removes the data.
func startWeed(ctx context.Context, bin, dir, dataParent string) (*weedServer, error) {
	if bin == "" {
		var err error
		if bin, err = weed.Find(); err != nil {
			return nil, fmt.Errorf("bench push -tier: %w", err)
		}
	}
	addrs, err := freeTCPAddrs(len(weed.Ports{}))
	if err != nil {
		return nil, err
	}
	w := &weedServer{exited: make(chan struct{})}
	for i, a := range addrs {
		_, port, _ := net.SplitHostPort(a) // freeTCPAddrs's are host:port
		w.ports[i], _ = strconv.Atoi(port)
	}
	w.endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(w.ports.S3()))
	if w.log, err = os.Create(filepath.Join(dir, "weed.log")); err != nil {
		return nil, err
	}
	if dataParent == "" {
		dataParent = dir
	}
	if w.data, err = os.MkdirTemp(dataParent, "camvault-bench-weed-"); err != nil {
		w.log.Close()
		return nil, err
	}
	cfg := weed.Config{Dir: w.data, Ports: w.ports, VolumeSizeMB: weedVolumeMB, MaxVolumes: weedVolumes}
	w.cmd = exec.Command(bin, cfg.Args()...)
	w.cmd.Env = weed.Env(weedAccessKey, weedSecretKey)
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the bench
	if err := w.cmd.Start(); err != nil {
		w.log.Close()
		return nil, fmt.Errorf("start weed: %w", err)
	}
	go func() { // waited for by stop
		_ = w.cmd.Wait() // a killed weed's status says nothing
		close(w.exited)
	}()
	if err := w.waitReady(ctx); err != nil {
		w.stop()
		return nil, err
	}
	return w, nil
}

// waitReady waits until weed stores an object in weedBucket, which it
// makes (weed.WaitReady).
func (w *weedServer) waitReady(ctx context.Context) error {
	c, err := minio.New(w.endpoint, &minio.Options{Creds: credentials.NewStaticV4(weedAccessKey, weedSecretKey, ""),
		Region: weedRegion, MaxRetries: 1})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, weedReadyTimeout)
	defer cancel()
	if err := weed.WaitReady(ctx, c, weedBucket, weedRegion, w.exited); err != nil {
		return fmt.Errorf("%w (waited at most %v)\n%s", err, weedReadyTimeout, logTail(w.log.Name()))
	}
	return nil
}

// cpu returns weed's CPU time so far.
func (w *weedServer) cpu() time.Duration {
	d, _ := procCPU(w.cmd.Process.Pid) // 0 once it exited: the round then shows none
	return d
}

// stop kills weed (it takes many seconds to stop on SIGTERM, and its data
// goes with the round), waits for it, removes its data and the unix sockets
// it leaves in /tmp, and closes its log.
func (w *weedServer) stop() {
	_ = w.cmd.Process.Kill() // it may have exited already
	<-w.exited
	_ = weed.RemoveSockets(&w.ports) // leftovers harm no one: weed's sockets are named by port
	_ = os.RemoveAll(w.data)         // best effort, as the round's directory
	w.log.Close()
}

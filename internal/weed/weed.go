// Package weed knows how to run SeaweedFS's weed as a one-process S3
// server on loopback: where the binary is (the CAMVAULT_WEED environment
// variable, weed on PATH, then where scripts/test.sh builds it) and the
// command line of `weed mini` with every port given. It starts nothing
// itself: the tests (internal/s3test) and `camvault bench push -tier`
// own their processes.
package weed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// Version is the SeaweedFS module version scripts/test.sh builds.
const Version = "v0.0.0-20261109003541-7506e5f91cd6"

// Ports are the ten loopback ports of one `weed mini`: master, volume,
// filer, S3 and admin servers, each with its gRPC port.
type Ports [10]int

// S3 returns the port of the S3 API.
func (p *Ports) S3() int { return p[6] }

// CachePath returns where scripts/test.sh builds weed:
// $XDG_CACHE_HOME/camvault/weed-{Version}/weed (~/.cache/... by default).
func CachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "camvault", "weed-"+Version, "weed"), nil
}

// Find returns the weed binary to run: CAMVAULT_WEED, then weed on PATH,
// then CachePath; or an error saying where it looked.
func Find() (string, error) {
	if p := os.Getenv("CAMVAULT_WEED"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p, nil
	}
	p, err := CachePath()
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no weed: CAMVAULT_WEED unset, none on PATH, none at %s (scripts/test.sh builds it): %w", p, err)
}

// Defaults of Config: small volumes, enough for tests.
const (
	DefaultVolumeSizeMB = 64
	DefaultMaxVolumes   = 32
)

// Config is one `weed mini`'s data directory, ports and volume limits.
type Config struct {
	// Dir holds the data.
	Dir   string
	Ports Ports
	// VolumeSizeMB is the size limit of a volume in MB. Defaults to 64.
	VolumeSizeMB int
	// MaxVolumes is how many volumes the volume server holds: with
	// VolumeSizeMB, what the server can store. Defaults to 32 (2 GiB).
	MaxVolumes int
}

// Args is the command line of `weed mini` (master, volume, filer, S3 and
// an admin server in one process): every port given (mini's defaults are
// fixed ports), bound to loopback, no Iceberg, Lance or WebDAV, no
// telemetry, and no pre-stop wait; logs go to stderr (glog would write
// files to /tmp). `weed server -filer -s3` needs fewer ports but twice as
// long to accept its first object (about 10 s against 5 s); both hold
// writes for about 15 s after a restart (the master's warm-up of three
// 5-second pulses).
func (c *Config) Args() []string {
	p := func(i int) string { return strconv.Itoa(c.Ports[i]) }
	size, volumes := c.VolumeSizeMB, c.MaxVolumes
	if size <= 0 {
		size = DefaultVolumeSizeMB
	}
	if volumes <= 0 {
		volumes = DefaultMaxVolumes
	}
	return []string{"-logtostderr", "mini", "-dir=" + c.Dir, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + p(0), "-master.port.grpc=" + p(1), "-volume.port=" + p(2), "-volume.port.grpc=" + p(3),
		"-filer.port=" + p(4), "-filer.port.grpc=" + p(5), "-s3.port=" + p(6), "-s3.port.grpc=" + p(7),
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
		"-admin.port=" + p(8), "-admin.port.grpc=" + p(9), "-admin.port.legacy=0",
		"-master.volumeSizeLimitMB=" + strconv.Itoa(size), "-volume.max=" + strconv.Itoa(volumes), "-volume.preStopSeconds=0"}
}

// Env returns the environment of a weed whose S3 API accepts the static
// credentials accessKey and secretKey: this process's, with them added.
func Env(accessKey, secretKey string) []string {
	return append(os.Environ(), "AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secretKey)
}

// RemoveSockets removes the unix sockets a stopped weed left in /tmp for
// its ports; it returns the failures other than a socket already gone.
func RemoveSockets(ports *Ports) error {
	var errs []error
	for _, port := range ports {
		for _, pat := range []string{"/tmp/seaweedfs-*-%d.sock", "/tmp/seaweedfs-*-grpc-%d.sock"} {
			matches, _ := filepath.Glob(fmt.Sprintf(pat, port)) // the pattern is well formed
			for _, m := range matches {
				if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

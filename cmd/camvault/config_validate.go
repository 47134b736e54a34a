package main

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/storage"
)

// Bounds of the validated values. They catch typos (a size in the wrong unit, a timeout of
// 10ns) rather than encode tuning advice; the defaults sit well inside them.
const (
	minTimeout = 100 * time.Millisecond
	maxTimeout = 24 * time.Hour
)

// fieldError is a validation failure of the value at key (the YAML key path, such as
// ["rtsp", "max_url"]).
type fieldError struct {
	key []string
	err error
}

func (e *fieldError) Error() string { return strings.Join(e.key, ".") + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// validate checks every value and the relations between them. It returns nil or all failures
// joined (errors.Join of *fieldError), so an operator fixes a file in one pass.
func (c *fileConfig) validate() error {
	var v validator
	if c.DataDir == "" || strings.ContainsRune(c.DataDir, 0) {
		v.fail("data_dir", "must be a directory path, got %q", c.DataDir)
	}
	v.oneOf("log.format", c.Log.Format, "text", "json")
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	c.RTSP.validate(&v)
	c.TLS.validate(&v)
	v.address("http.address", c.HTTP.Address)
	c.Recorder.validate(&v)
	// A pull held back for rtsp.media_timeout would end with "no rtp" and
	// reconnect. Each value's own range is checked above.
	w, mt := c.Recorder.BackpressureWait, c.RTSP.MediaTimeout
	if w > 0 && w <= Duration(time.Minute) && mt >= Duration(minTimeout) && w >= mt {
		v.fail("recorder.backpressure_wait", "must be below rtsp.media_timeout (%s), got %s", c.RTSP.MediaTimeout, w)
	}
	c.Ingest.validate(&v)
	c.Pull.validate(&v)
	c.Storage.validate(&v)
	c.Playback.validate(&v)
	c.Retention.validate(&v)
	c.validateAuth(&v)
	for _, name := range slices.Sorted(maps.Keys(c.Cameras)) {
		if err := storage.ValidCamera(name); err != nil {
			v.errs = append(v.errs, &fieldError{key: []string{"cameras", name}, err: err})
			continue
		}
		validateCamera(&v, name, c.Cameras[name])
	}
	return errors.Join(v.errs...)
}

// validator collects field errors.
type validator struct {
	errs []error
}

func (v *validator) fail(key, format string, args ...any) {
	v.errs = append(v.errs, &fieldError{key: strings.Split(key, "."), err: fmt.Errorf(format, args...)})
}

func (v *validator) oneOf(key, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		v.fail(key, "must be one of %s, got %q", strings.Join(allowed, ", "), got)
	}
}

func (v *validator) count(key string, got, lo, hi int) {
	if got < lo || got > hi {
		v.fail(key, "must be between %d and %d, got %d", lo, hi, got)
	}
}

func (v *validator) duration(key string, got Duration, lo, hi time.Duration) {
	if time.Duration(got) < lo || time.Duration(got) > hi {
		v.fail(key, "must be between %s and %s, got %s", Duration(lo), Duration(hi), got)
	}
}

func (v *validator) size(key string, got, lo, hi Size) {
	if got < lo || got > hi {
		v.fail(key, "must be between %s and %s, got %s", lo, hi, got)
	}
}

// notBelow checks got >= the value of minKey.
func (v *validator) notBelow(key string, got Duration, minKey string, minimum Duration) {
	if got < minimum {
		v.fail(key, "must be at least %s (%s), got %s", minKey, minimum, got)
	}
}

// atMost checks got <= the value of maxKey.
func (v *validator) atMost(key string, got Size, maxKey string, maximum Size) {
	if got > maximum {
		v.fail(key, "must be at most %s (%s), got %s", maxKey, maximum, got)
	}
}

// address checks a listen address "host:port" with a numeric port ("" host listens on every
// interface, port 0 picks a free one) and returns the port.
func (v *validator) address(key, addr string) (port int, ok bool) {
	_, p, err := net.SplitHostPort(addr)
	if err == nil {
		port, err = strconv.Atoi(p)
		if err == nil && (port < 0 || port > 65535) {
			err = errors.New("port out of range")
		}
	}
	if err != nil {
		v.fail(key, "must be a listen address such as \":8554\" or \"127.0.0.1:8554\", got %q", addr)
		return 0, false
	}
	return port, true
}

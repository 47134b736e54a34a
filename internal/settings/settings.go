// Package settings is what every package's Config shares so that camvault's configuration file
// can be composed from them: a validation error that names its field by the file's key
// (FieldError), the checks that produce it (Check), and the text forms of spans and byte counts
// (ParseDuration, FormatDuration, ParseSize, FormatSize), and of instants in archive URLs and HTTP
// parameters (ParseTime).
//
// The contract of a package Config, which cmd/camvault relies on:
//
//   - Each field the operator may set has a yaml tag: the key in the package's section of the
//     file. A byte count also has the tag unit:"bytes", so that the file may write it with a
//     unit ("64KiB"); a time.Duration field accepts "30d" and "2w" without a tag. Fields set by
//     code (loggers, handlers, clocks) are tagged yaml:"-".
//   - DefaultConfig (or DefaultLimits ...) returns the complete defaults: every tagged field
//     set. The file is decoded over them, so a key the file sets to 0 stays 0 (see below for
//     the fields whose zero value is a default).
//   - Validate checks a filled config: the range of each field and the relations between
//     them, returning nil or every failure joined, each a *FieldError whose Path is the field's
//     key relative to the Config. cmd/camvault prefixes the section (Prefix) and points each
//     error at its line in the file.
//   - The constructor copies the config, fills zero fields with the defaults (Go callers may
//     pass partial configs) and calls Validate, so a Go caller gets the operator's bounds too:
//     rtsp.NewServer, rtsp.Dial, rtspauth.NewServer, storage.Open (and Check, Reindex),
//     playback.New, recorder.New, ingest.NewPush, ingest.NewPull, auth.New and
//     auth.NewLimiter. What a constructor needs beyond that (a handler, a URL) it checks
//     privately. A field whose range starts at 0 but whose zero value is its default takes a
//     negative value for 0 from Go, which the constructor makes 0; cmd/camvault translates the
//     file's 0 (rtsp.udp_teardown_linger, recorder.backpressure_wait).
//
// The package is a leaf: it imports only the standard library, and nothing that does I/O, so
// the pure RTSP wire packages may use it.
package settings

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds of the timeouts that packages validate. They catch typos (a timeout of 10ns, of ten
// years) rather than encode tuning advice; the defaults sit well inside them.
const (
	MinTimeout = 100 * time.Millisecond
	MaxTimeout = 24 * time.Hour
)

// FieldError is a validation failure of one configuration field. Path names the field as the
// configuration file spells it, with sequence indexes as decimal strings: ["max_url"],
// ["users", "0", "permissions", "1", "action"].
type FieldError struct {
	Path []string
	Err  error
}

// Error implements error: "path.to.key: message".
func (e *FieldError) Error() string { return strings.Join(e.Path, ".") + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// Key names another field inside a FieldError's message ("must be at most max_request_line");
// Prefix prefixes it together with the error's Path, so the message keeps naming the right key
// once the Config is a section of a larger file.
type Key []string

// String joins the key with dots.
func (k Key) String() string { return strings.Join(k, ".") }

// message is a FieldError's text, kept as format and arguments so that Prefix can rewrite the
// Key arguments.
type message struct {
	format string
	args   []any
}

func (m *message) Error() string { return fmt.Sprintf(m.format, m.args...) }

// Errorf returns a *FieldError at the dotted key whose message is fmt.Sprintf(format, args...);
// arguments of type Key are prefixed with the Path by Prefix.
func Errorf(key, format string, args ...any) error {
	return &FieldError{Path: strings.Split(key, "."), Err: &message{format: format, args: args}}
}

// Prefix returns err with every *FieldError joined in it moved under prefix: its Path and the
// Keys its message names. Any other error becomes a *FieldError at prefix. It returns nil for
// a nil err.
func Prefix(err error, prefix ...string) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range Split(err) {
		fe, ok := e.(*FieldError)
		if !ok {
			out = append(out, &FieldError{Path: slices.Clone(prefix), Err: e})
			continue
		}
		inner := fe.Err
		if m, ok := inner.(*message); ok {
			args := slices.Clone(m.args)
			for i, a := range args {
				if k, ok := a.(Key); ok {
					args[i] = Key(slices.Concat(prefix, k))
				}
			}
			inner = &message{format: m.format, args: args}
		}
		out = append(out, &FieldError{Path: slices.Concat(prefix, fe.Path), Err: inner})
	}
	return errors.Join(out...)
}

// Split returns the errors joined in err (errors.Join, nested joins flattened), or err alone;
// nil for nil.
func Split(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, Split(e)...)
	}
	return out
}

// Check collects the failures of one Validate. Keys are dotted, relative to the Config. Its
// messages are the ones an operator reads next to the key in the file: "must be between 1s and
// 1h, got 0s", with spans and byte counts in the file's units.
type Check struct {
	errs []error
}

// Err returns nil or every failure joined.
func (c *Check) Err() error { return errors.Join(c.errs...) }

// Add adds the failures joined in err (typically a nested Config's Validate) under prefix,
// which may be empty.
func (c *Check) Add(err error, prefix ...string) {
	c.errs = append(c.errs, Split(Prefix(err, prefix...))...)
}

// Fail adds a failure at key; Key arguments name other fields.
func (c *Check) Fail(key, format string, args ...any) {
	c.errs = append(c.errs, Errorf(key, format, args...))
}

// Count checks lo <= got <= hi.
func (c *Check) Count(key string, got, lo, hi int) {
	if got < lo || got > hi {
		c.Fail(key, "must be between %d and %d, got %d", lo, hi, got)
	}
}

// Duration checks lo <= got <= hi.
func (c *Check) Duration(key string, got, lo, hi time.Duration) {
	if got < lo || got > hi {
		c.Fail(key, "must be between %s and %s, got %s", FormatDuration(lo), FormatDuration(hi), FormatDuration(got))
	}
}

// Bytes checks lo <= got <= hi for a byte count.
func (c *Check) Bytes(key string, got, lo, hi int64) {
	if got < lo || got > hi {
		c.Fail(key, "must be between %s and %s, got %s", FormatSize(lo), FormatSize(hi), FormatSize(got))
	}
}

// NotBelow checks that the span got is at least the value of the field minKey.
func (c *Check) NotBelow(key string, got time.Duration, minKey string, minimum time.Duration) {
	if got < minimum {
		c.Fail(key, "must be at least %s (%s), got %s", keyOf(minKey), FormatDuration(minimum), FormatDuration(got))
	}
}

// AtMost checks that the byte count got is at most the value of the field maxKey.
func (c *Check) AtMost(key string, got int64, maxKey string, maximum int64) {
	if got > maximum {
		c.Fail(key, "must be at most %s (%s), got %s", keyOf(maxKey), FormatSize(maximum), FormatSize(got))
	}
}

// OneOf checks that got is one of allowed.
func (c *Check) OneOf(key, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		c.Fail(key, "must be one of %s, got %q", strings.Join(allowed, ", "), got)
	}
}

// Address checks a listen address "host:port" with a numeric port ("" host listens on every
// interface, port 0 picks a free one) and returns the port.
func (c *Check) Address(key, addr string) (port int, ok bool) {
	p, ok := listenPort(addr)
	if ok {
		var err error
		port, err = strconv.Atoi(p)
		ok = err == nil && port >= 0 && port <= 65535
	}
	if !ok {
		c.Fail(key, "must be a listen address such as \":8554\" or \"127.0.0.1:8554\", got %q", addr)
		return 0, false
	}
	return port, true
}

// listenPort returns the port of "host:port" or "[ipv6]:port", as net.SplitHostPort splits
// it (this package does no I/O, so it does not import net).
func listenPort(addr string) (string, bool) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", false
	}
	host := addr[:i]
	if strings.HasPrefix(host, "[") {
		return addr[i+1:], strings.HasSuffix(host, "]") && !strings.ContainsAny(host[1:len(host)-1], "[]")
	}
	return addr[i+1:], !strings.ContainsAny(host, ":[]")
}

// keyOf splits a dotted key.
func keyOf(dotted string) Key { return Key(strings.Split(dotted, ".")) }

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/storage"
)

// documentedConfig is the example file that must load to exactly the built-in defaults.
const documentedConfig = "../../configs/camvault.yaml"

// writeConfig writes body to a file in a fresh temporary directory and returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "camvault.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	full := `
data_dir: /var/lib/camvault
log: { format: json, level: debug }
rtsp:
  address: "127.0.0.1:554"
  udp_rtp_address: ""
  udp_rtcp_address: ""
  udp_read_buffer: 4MiB
  session_timeout: 2m
  handshake_timeout: 5s
  idle_timeout: 1d
  write_timeout: 1.5s
  media_timeout: 30s
  read_buffer: 128KiB
  max_connections: 100
  max_connections_per_address: 10
  max_sessions_per_connection: 2
  max_request_line: 8KiB
  max_url: 8KiB
  max_header_line: 4KiB
  max_header_lines: 32
  max_header_bytes: 32KiB
  max_body: 1MiB
  max_packet: 1500
http: { address: "127.0.0.1:8080" }
ingest: { takeover: true, allow_unknown_cameras: false }
recorder:
  fragment_duration: 2s
  max_fragment_duration: 2s
  segment_duration: 1h
  clock_tolerance: 1s
  max_unit_size: 16MiB
  max_fragment_size: 16MiB
  storage_retry: 30s
  backpressure_wait: 0s
storage: { sync: segment, write_queue: 8, index_timeout: 1m }
cameras:
  frontdoor: {}
  lobby.cam-2:
`
	wantFull := defaultConfig()
	wantFull.DataDir = "/var/lib/camvault"
	wantFull.Log = logConfig{Format: "json", Level: "debug"}
	r := &wantFull.RTSP // changed keys only: the rest keep the packages' defaults
	r.Address, r.UDPRTPAddress, r.UDPRTCPAddress, r.UDPReadBuffer = "127.0.0.1:554", "", "", 4<<20
	r.SessionTimeout, r.HandshakeTimeout = 2*time.Minute, 5*time.Second
	r.IdleTimeout, r.WriteTimeout = day, 1500*time.Millisecond
	r.MediaTimeout, r.ReadBufferSize = 30*time.Second, 128<<10
	r.MaxConnections, r.MaxConnectionsPerAddress, r.MaxSessionsPerConnection = 100, 10, 2
	r.Limits.MaxRequestLine, r.Limits.MaxURL, r.Limits.MaxHeaderLine, r.Limits.MaxHeaders = 8<<10, 8<<10, 4<<10, 32
	r.Limits.MaxHeaderBytes, r.Limits.MaxBody, r.MaxPacketSize = 32<<10, 1<<20, 1500
	wantFull.HTTP.Address = "127.0.0.1:8080"
	wantFull.Ingest.TakeOver, wantFull.Ingest.AllowUnknown = true, false
	rc := &wantFull.Recorder
	rc.FragmentDuration, rc.MaxFragmentDuration = 2*time.Second, 2*time.Second
	rc.SegmentDuration, rc.ClockTolerance = time.Hour, time.Second
	rc.MaxUnitBytes, rc.MaxFragmentBytes = 16<<20, 16<<20
	rc.StorageRetry, rc.BackpressureWait = 30*time.Second, 0
	wantFull.Storage.Sync, wantFull.Storage.WriteQueue, wantFull.Storage.IndexTimeout = storage.SyncSegment, 8, time.Minute
	wantFull.Cameras = map[string]cameraConfig{"frontdoor": {}, "lobby.cam-2": {}}

	partial := defaultConfig()
	partial.Recorder.SegmentDuration = 30 * time.Minute

	for _, tc := range []struct {
		name string
		body string // "-" means no file (path "")
		want *fileConfig
		errs []string // substrings that the error must all contain
	}{
		{name: "no file", body: "-", want: defaultConfig()},
		{name: "empty file", body: "", want: defaultConfig()},
		{name: "comments only", body: "# nothing here\n", want: defaultConfig()},
		{name: "document marker only", body: "---\n", want: defaultConfig()},
		{name: "full file", body: full, want: wantFull},
		{name: "one key overrides one default", body: "recorder:\n  segment_duration: 30m\n", want: partial},
		{name: "empty section keeps defaults", body: "rtsp:\ncameras:\n", want: defaultConfig()},
		{name: "quoted duration", body: "recorder:\n  segment_duration: \"30m\"\n", want: partial},
		{name: "size as YAML integer", body: "rtsp:\n  max_body: 65536\n", want: defaultConfig()},
		{
			name: "unknown key names its line",
			body: "rtsp:\n  address: \":8554\"\n  max_bodyy: 1KiB\n",
			errs: []string{`camvault.yaml:3:3: unknown field "max_bodyy"`},
		},
		{
			name: "unknown top-level key",
			body: "data_dir: ./data\nretentions: {}\n",
			errs: []string{`camvault.yaml:2:1: unknown field "retentions"`},
		},
		{
			name: "unknown key under a camera",
			body: "cameras:\n  frontdoor:\n    uri: rtsp://x\n",
			errs: []string{`camvault.yaml:3:5: unknown field "uri"`},
		},
		{
			name: "duplicate key",
			body: "data_dir: a\ndata_dir: b\n",
			errs: []string{`camvault.yaml:2:1: mapping key "data_dir" already defined`},
		},
		{
			name: "bad duration names its line",
			body: "recorder:\n  fragment_duration: 1s\n  segment_duration: 10 minutes\n",
			errs: []string{`camvault.yaml:3:21: invalid duration "10 minutes"`},
		},
		{
			name: "duration without unit",
			body: "rtsp:\n  session_timeout: 60\n",
			errs: []string{`camvault.yaml:2:20: invalid duration "60": missing unit`},
		},
		{
			name: "duration given a mapping",
			body: "rtsp:\n  session_timeout: {s: 1}\n",
			errs: []string{"camvault.yaml:2:20: want a scalar value, got mapping"},
		},
		{
			name: "bad size names its line",
			body: "rtsp:\n  read_buffer: 64KB/s\n",
			errs: []string{`camvault.yaml:2:16: invalid size "64KB/s"`},
		},
		{
			name: "wrong type",
			body: "rtsp:\n  max_connections: many\n",
			errs: []string{"camvault.yaml:2:20: want an integer, got a string"},
		},
		{
			name: "bool given a number",
			body: "ingest:\n  takeover: 2\n",
			errs: []string{"camvault.yaml:2:13: want true or false, got an integer"},
		},
		{
			name: "syntax error",
			body: "rtsp:\n  address: \":8554\n",
			errs: []string{"camvault.yaml:2:"},
		},
		{
			name: "two documents",
			body: "data_dir: a\n---\ndata_dir: b\n",
			errs: []string{"want one YAML document, found 2"},
		},
		{
			name: "not a mapping",
			body: "- data_dir\n",
			errs: []string{"camvault.yaml:1:1: "},
		},
		{
			name: "validation failure names its line",
			body: "recorder:\n  fragment_duration: 2s\n  max_fragment_duration: 1s\n",
			errs: []string{"camvault.yaml:3:26: recorder.max_fragment_duration: must be at least recorder.fragment_duration (2s), got 1s"},
		},
		{
			name: "all validation failures at once",
			body: "log: { format: xml }\nstorage:\n  sync: always\n  write_queue: 0\n",
			errs: []string{
				`camvault.yaml:1:16: log.format: must be one of text, json, got "xml"`,
				`camvault.yaml:3:9: storage.sync: must be one of fragment, segment, none, got "always"`,
				"camvault.yaml:4:16: storage.write_queue: must be between 1 and 1048576, got 0",
			},
		},
		{
			name: "validation failure from a default has no line",
			body: "recorder:\n  fragment_duration: 30s\n",
			errs: []string{"camvault.yaml: recorder.max_fragment_duration: must be at least recorder.fragment_duration (30s), got 5s"},
		},
		{
			name: "segment shorter than fragment",
			body: "recorder:\n  segment_duration: 500ms\n",
			errs: []string{"camvault.yaml:2:21: recorder.segment_duration: must be at least recorder.fragment_duration (1s), got 500ms"},
		},
		{
			name: "negative size",
			body: "storage:\n  index_reserve: -1\n",
			errs: []string{`camvault.yaml:2:18: invalid size "-1"`},
		},
		{
			name: "bad enumerated value names its key",
			body: "storage:\n  sync: always\n",
			errs: []string{`camvault.yaml:2:9: storage.sync: must be one of fragment, segment, none, got "always"`},
		},
		{
			name: "key of an inlined package config",
			body: "pull:\n  dial_timeout: 1d2h\n",
			errs: []string{"camvault.yaml:2:17: pull.dial_timeout: must be between 100ms and 1h, got 1d2h"},
		},
		{
			name: "reserved camera name",
			body: "cameras:\n  archive: {}\n",
			errs: []string{`camvault.yaml:2:12: cameras.archive: invalid camera name: "archive" is reserved for archive URLs`},
		},
		{
			name: "invalid camera name",
			body: "cameras:\n  \"front door\":\n",
			errs: []string{`camvault.yaml:2:3: cameras.front door: invalid camera name "front door"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkLoadConfig(t, tc.body, tc.want, tc.errs)
		})
	}
}

// checkLoadConfig loads body as a config file ("-" means no file) and
// checks the result against want, or, when errs is not empty, that the
// error has one line per element of errs and contains each of them.
func checkLoadConfig(t *testing.T, body string, want *fileConfig, errs []string) {
	t.Helper()
	path := ""
	if body != "-" {
		path = writeConfig(t, body)
	}
	got, err := loadConfig(path)
	if len(errs) > 0 {
		if err == nil {
			t.Fatalf("no error, want %q", errs)
		}
		for _, want := range errs {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, want)
			}
		}
		if strings.Count(err.Error(), "\n") != len(errs)-1 {
			t.Errorf("want %d error lines, got\n%v", len(errs), err)
		}
		return
	}
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loadConfig =\n%+v\nwant\n%+v", got, want)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("loadConfig of a missing file: %v, want os.ErrNotExist", err)
	}
}

func TestLoadConfigTooLarge(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "# "+strings.Repeat("x", maxConfigFileSize)+"\n")
	if _, err := loadConfig(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("loadConfig of a huge file: %v", err)
	}
}

// TestLoadConfigErrorTypes checks that callers can still reach the underlying errors.
func TestLoadConfigErrorTypes(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(writeConfig(t, "bogus: 1\n"))
	if _, ok := errors.AsType[yaml.Error](err); !ok {
		t.Errorf("unknown key error %v does not wrap a yaml.Error", err)
	}
	_, err = loadConfig(writeConfig(t, "storage: { sync: always }\n"))
	if _, ok := errors.AsType[*settings.FieldError](err); !ok {
		t.Errorf("validation error %v does not wrap a *settings.FieldError", err)
	}
}

// TestDocumentedConfigIsDefault keeps configs/camvault.yaml and the code in step: the file
// loads to exactly defaultConfig() and comments every key; TestEverySettingIsDocumented checks
// that it sets every key of the schema.
func TestDocumentedConfigIsDefault(t *testing.T) {
	t.Parallel()
	got, err := loadConfig(documentedConfig)
	if err != nil {
		t.Fatalf("loadConfig(%s): %v", documentedConfig, err)
	}
	if want := defaultConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from defaultConfig():\n got %+v\nwant %+v", documentedConfig, got, want)
	}

	data, err := os.ReadFile(documentedConfig)
	if err != nil {
		t.Fatal(err)
	}
	keyLine := regexp.MustCompile(`^\s*[a-z_]+:`)
	for i, line := range strings.Split(string(data), "\n") {
		if keyLine.MatchString(line) && !strings.Contains(line, "#") {
			t.Errorf("%s:%d: key without a comment: %s", documentedConfig, i+1, line)
		}
	}
}

// TestDocumentedDefaultsMatchValues: in configs/camvault.yaml, the "default X" a key's comment
// states is the value on its line, so that a changed default cannot leave its comment behind.
func TestDocumentedDefaultsMatchValues(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(documentedConfig)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^\s*([a-z_]+):\s+(\S+)\s+#.*?\bdefault (\S+)`)
	checked := 0
	for i, l := range strings.Split(string(data), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		value, stated := m[2], strings.TrimRight(m[3], ".,:;")
		if value != stated {
			t.Errorf("%s:%d: %s is %s, its comment says default %s", documentedConfig, i+1, m[1], value, stated)
		}
		checked++
	}
	if checked < 50 {
		t.Errorf("checked only %d keys; did the comment format change?", checked)
	}
}

// TestDefaultConfigRoundTrips checks that the defaults written back as YAML (durations and
// sizes in Go's forms, which the file accepts too) load back to the same configuration.
func TestDefaultConfigRoundTrips(t *testing.T) {
	t.Parallel()
	b, err := yaml.Marshal(defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"udp_read_buffer: 67108864", "segment_duration: 10m0s", "sync: fragment"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("marshalled defaults lack %q:\n%s", want, b)
		}
	}
	got, err := loadConfig(writeConfig(t, string(b)))
	if err != nil || !reflect.DeepEqual(got, defaultConfig()) {
		t.Errorf("marshalled defaults load back as %+v, %v", got, err)
	}
}

func TestDefaultConfigIsFresh(t *testing.T) {
	t.Parallel()
	a := defaultConfig()
	a.Cameras["x"] = cameraConfig{}
	a.RTSP.Address = ":1"
	if b := defaultConfig(); len(b.Cameras) != 0 || b.RTSP.Address != ":8554" {
		t.Fatalf("defaultConfig shares state between calls: %+v", b)
	}
}

func TestApplyFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		file string // "" means no file
		args []string
		want func(c *fileConfig)
		err  string
		err2 string // a second error line, if any
	}{
		{name: "no flags", want: func(*fileConfig) {}},
		{
			name: "every override",
			args: []string{"-data", "/srv/cv", "-rtsp", ":554", "-http", "127.0.0.1:9090", "-log-format", "json"},
			want: func(c *fileConfig) {
				c.DataDir, c.RTSP.Address, c.HTTP.Address, c.Log.Format = "/srv/cv", ":554", "127.0.0.1:9090", "json"
			},
		},
		{
			name: "flag overrides file",
			file: "data_dir: /from/file\nrtsp: { address: \":1554\" }\n",
			args: []string{"-rtsp", ":2554"},
			want: func(c *fileConfig) { c.DataDir, c.RTSP.Address = "/from/file", ":2554" },
		},
		{name: "bad flag value names the flag", args: []string{"-log-format", "xml"}, err: `flag -log-format: log.format: must be one of text, json, got "xml"`},
		{name: "bad address", args: []string{"-rtsp", "8554"}, err: "flag -rtsp: rtsp.address: must be a listen address"},
		{name: "empty data dir", args: []string{"-data", ""}, err: "flag -data: data_dir: must be a directory path"},
		{
			name: "file error is positioned, flag error is not",
			file: "\nstorage: { sync: always }\n",
			args: []string{"-http", "x"},
			err:  "flag -http: http.address: must be a listen address",
			err2: "camvault.yaml:2:18: storage.sync: must be one of",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			registerConfigFlags(fs)
			args := tc.args
			if tc.file != "" {
				args = append([]string{"-config", writeConfig(t, tc.file)}, args...)
			}
			if err := fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			got, err := configFromFlags(fs)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.err2) {
					t.Fatalf("error %v, want one containing %q and %q", err, tc.err, tc.err2)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaultConfig()
			if tc.file != "" {
				if want, err = loadConfig(fs.Lookup("config").Value.String()); err != nil {
					t.Fatal(err)
				}
			}
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	newLogger(logConfig{Format: "json", Level: "warn"}, &buf).Info("hidden")
	newLogger(logConfig{Format: "json", Level: "warn"}, &buf).Warn("camera reconnecting", "camera", "frontdoor")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("json handler wrote %q: %v", buf.String(), err)
	}
	if rec["msg"] != "camera reconnecting" || rec["camera"] != "frontdoor" {
		t.Errorf("json record %v", rec)
	}

	buf.Reset()
	l := newLogger(defaultConfig().Log, &buf)
	l.Debug("hidden")
	l.Info("segment sealed", "segment", "x")
	if got := buf.String(); !strings.Contains(got, `level=INFO msg="segment sealed" segment=x`) || strings.Contains(got, "hidden") {
		t.Errorf("text handler wrote %q", got)
	}

	buf.Reset()
	newLogger(logConfig{Format: "text", Level: "debug"}, &buf).Debug("shown")
	if !strings.Contains(buf.String(), "msg=shown") {
		t.Errorf("debug level wrote %q", buf.String())
	}
}

// TestBackpressureWaitReachesRecorder checks the one translation of
// recorder.backpressure_wait: the file's 0s means never wait, which the
// recorder spells as a negative wait (its zero value is its default).
func TestBackpressureWaitReachesRecorder(t *testing.T) {
	c := defaultConfig()
	if got := c.recorderConfig(nil).BackpressureWait; got != 3*time.Second {
		t.Errorf("default: %v, want 3s", got)
	}
	c.Recorder.BackpressureWait = 0
	if got := c.recorderConfig(nil).BackpressureWait; got >= 0 {
		t.Errorf("0s: %v, want negative (never wait)", got)
	}
}

// TestZeroFromFileStaysZero: each key whose documented range starts at 0, set to 0 in the file,
// reaches its package as 0 or as the negative value that the package's constructor keeps as 0
// (its own zero value being its default), never as the default.
func TestZeroFromFileStaysZero(t *testing.T) {
	t.Parallel()
	cases := []struct {
		key, yaml string
		zero      func(c *fileConfig) bool
	}{
		{"rtsp.udp_teardown_linger", "rtsp: {udp_teardown_linger: 0s}", func(c *fileConfig) bool {
			return c.rtspServerConfig(nil, nil, nil, nil).UDPTeardownLinger < 0
		}},
		{"recorder.backpressure_wait", "recorder: {backpressure_wait: 0s}", func(c *fileConfig) bool {
			return c.recorderConfig(nil).BackpressureWait < 0
		}},
		{"pull.keepalive_interval", "pull: {keepalive_interval: 0s}", func(c *fileConfig) bool {
			return c.pullConfig(nil, nil, nil).Client.KeepaliveInterval == 0
		}},
		{"retention.max_age", "retention: {max_age: 0}", func(c *fileConfig) bool { return c.retention().Default.MaxAge == 0 }},
		{"retention.min_age", "retention: {min_age: 0}", func(c *fileConfig) bool { return c.retention().Default.MinAge == 0 }},
		{"retention.max_bytes", "retention: {max_bytes: 0}", func(c *fileConfig) bool { return c.retention().Default.MaxBytes == 0 }},
		{"retention.min_free", "retention: {min_free: 0}", func(c *fileConfig) bool {
			r := c.retention()
			return r.MinFreeBytes == 0 && r.MinFreePercent == 0
		}},
	}
	for _, tc := range cases {
		c, err := loadConfig(writeConfig(t, tc.yaml+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.key, err)
		}
		if !tc.zero(c) {
			t.Errorf("%s: 0 in the file does not reach its package as 0", tc.key)
		}
	}
}

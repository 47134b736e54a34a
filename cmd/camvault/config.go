package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage"
)

// fileConfig is the configuration file schema. Every field has a built-in default
// (defaultConfig), so no file is needed; configs/camvault.yaml documents each key line by line
// and must load to exactly defaultConfig() (TestDocumentedConfigIsDefault).
type fileConfig struct {
	DataDir   string                  `yaml:"data_dir"`
	Log       logConfig               `yaml:"log"`
	RTSP      rtspConfig              `yaml:"rtsp"`
	TLS       tlsConfig               `yaml:"tls"`
	HTTP      httpConfig              `yaml:"http"`
	Ingest    ingestConfig            `yaml:"ingest"`
	Pull      pullConfig              `yaml:"pull"`
	Recorder  recorderConfig          `yaml:"recorder"`
	Storage   storageConfig           `yaml:"storage"`
	Playback  playbackConfig          `yaml:"playback"`
	Retention retentionConfig         `yaml:"retention"`
	Cameras   map[string]cameraConfig `yaml:"cameras"`
	Auth      authConfig              `yaml:"auth"`
	Users     []auth.UserConfig       `yaml:"users"`
	Anonymous *auth.AnonymousConfig   `yaml:"anonymous"`
}

// logConfig selects the slog handler built by newLogger.
type logConfig struct {
	Format string `yaml:"format"` // text | json
	Level  string `yaml:"level"`  // debug | info | warn | error
}

// rtspConfig is the RTSP server section (feeds rtsp.Config).
type rtspConfig struct {
	Address                  string   `yaml:"address"`
	UDPRTPAddress            string   `yaml:"udp_rtp_address"`  // "" disables UDP transport
	UDPRTCPAddress           string   `yaml:"udp_rtcp_address"` // ignored when UDPRTPAddress is ""
	UDPReadBuffer            Size     `yaml:"udp_read_buffer"`
	SessionTimeout           Duration `yaml:"session_timeout"`
	HandshakeTimeout         Duration `yaml:"handshake_timeout"`
	IdleTimeout              Duration `yaml:"idle_timeout"`
	WriteTimeout             Duration `yaml:"write_timeout"`
	MediaTimeout             Duration `yaml:"media_timeout"`
	ReadBuffer               Size     `yaml:"read_buffer"`
	MaxConnections           int      `yaml:"max_connections"`
	MaxConnectionsPerAddress int      `yaml:"max_connections_per_address"`
	MaxSessionsPerConnection int      `yaml:"max_sessions_per_connection"`
	MaxRequestLine           Size     `yaml:"max_request_line"`
	MaxURL                   Size     `yaml:"max_url"`
	MaxHeaderLine            Size     `yaml:"max_header_line"`
	MaxHeaderLines           int      `yaml:"max_header_lines"`
	MaxHeaderBytes           Size     `yaml:"max_header_bytes"`
	MaxBody                  Size     `yaml:"max_body"`
	MaxPacket                Size     `yaml:"max_packet"`
	MediaQueue               int      `yaml:"media_queue"`
	UDPTeardownLinger        Duration `yaml:"udp_teardown_linger"`
}

// tlsConfig is the RTSPS section (feeds rtsp.Config.TLS*). RTSPS is served when cert and key
// are set.
type tlsConfig struct {
	Address string `yaml:"address"`
	Cert    string `yaml:"cert"` // PEM certificate chain file
	Key     string `yaml:"key"`  // PEM private key file
	Only    bool   `yaml:"only"` // no plain RTSP (and so no UDP media)
}

// httpConfig is the HTTP management API section.
type httpConfig struct {
	Address string `yaml:"address"`
}

// ingestConfig is the live-source section (feeds ingest.Config).
type ingestConfig struct {
	Takeover            bool `yaml:"takeover"`              // a new publisher replaces a busy camera's
	AllowUnknownCameras bool `yaml:"allow_unknown_cameras"` // false: only names under cameras
	MaxSDPMedia         int  `yaml:"max_sdp_media"`
	MaxSDPLine          Size `yaml:"max_sdp_line"`
}

// recorderConfig is the recording section (feeds recorder.Config).
type recorderConfig struct {
	FragmentDuration    Duration `yaml:"fragment_duration"`
	MaxFragmentDuration Duration `yaml:"max_fragment_duration"`
	SegmentDuration     Duration `yaml:"segment_duration"`
	ClockTolerance      Duration `yaml:"clock_tolerance"`
	ClockRaceLimit      int      `yaml:"clock_race_limit"`
	ClockRaceWindow     Duration `yaml:"clock_race_window"`
	MaxUnitSize         Size     `yaml:"max_unit_size"`
	MaxParamSetSize     Size     `yaml:"max_param_set_size"`
	MaxFragmentSize     Size     `yaml:"max_fragment_size"`
	MaxCameraBuffer     Size     `yaml:"max_camera_buffer"`
	MaxBuffer           Size     `yaml:"max_buffer"`
	StorageRetry        Duration `yaml:"storage_retry"`
	BackpressureWait    Duration `yaml:"backpressure_wait"` // 0: never hold a source back
}

// storageConfig is the disk and index section (feeds storage.Config).
type storageConfig struct {
	Sync         string   `yaml:"sync"` // fragment | segment | none
	WriteQueue   int      `yaml:"write_queue"`
	IndexTimeout Duration `yaml:"index_timeout"`
	ReadFiles    int      `yaml:"read_files"`
	ReadIdle     Duration `yaml:"read_idle"`
	IndexReserve Size     `yaml:"index_reserve"`
	ReclaimMin   Size     `yaml:"reclaim_min"`
	ReportPaths  int      `yaml:"report_paths"`
}

// playbackConfig is the archive playback section (feeds playback.Config).
type playbackConfig struct {
	MaxSessions          int      `yaml:"max_sessions"`
	SenderReportInterval Duration `yaml:"sender_report_interval"`
	MaxPayload           Size     `yaml:"max_payload"`
}

// cameraConfig holds per-camera settings. A camera with a url is pulled; one without is a
// pushed camera and takes no pull settings.
type cameraConfig struct {
	URL       string         `yaml:"url"`       // rtsp://[user:pass@]host[:port]/path
	Transport string         `yaml:"transport"` // tcp (default) | udp
	Schedule  scheduleConfig `yaml:"schedule"`  // always (default) | list of {cron, duration}
	// Retention overrides the retention section for this camera (pushed or pulled).
	Retention *cameraRetention `yaml:"retention"`
}

// defaultConfig returns the built-in configuration: the one used with no file, and the base
// that a file's keys are decoded over. Each call returns a fresh value. Every value a package
// uses comes from that package's Default constants; only the settings of cmd itself (log,
// http, the retention loop) are defined here.
func defaultConfig() *fileConfig {
	return &fileConfig{
		DataDir: defaultDataDir,
		Log:     logConfig{Format: "text", Level: "info"},
		RTSP: rtspConfig{
			Address:                  rtsp.DefaultAddress,
			UDPRTPAddress:            rtsp.DefaultUDPRTPAddress,
			UDPRTCPAddress:           rtsp.DefaultUDPRTCPAddress,
			UDPReadBuffer:            rtsp.DefaultUDPReadBuffer,
			SessionTimeout:           Duration(rtsp.DefaultSessionTimeout),
			HandshakeTimeout:         Duration(rtsp.DefaultHandshakeTimeout),
			IdleTimeout:              Duration(rtsp.DefaultIdleTimeout),
			WriteTimeout:             Duration(rtsp.DefaultWriteTimeout),
			MediaTimeout:             Duration(rtsp.DefaultMediaTimeout),
			ReadBuffer:               rtsp.DefaultReadBufferSize,
			MaxConnections:           rtsp.DefaultMaxConnections,
			MaxConnectionsPerAddress: rtsp.DefaultMaxConnectionsPerAddress,
			MaxSessionsPerConnection: rtsp.DefaultMaxSessionsPerConnection,
			MaxRequestLine:           rtsp.DefaultMaxRequestLine,
			MaxURL:                   rtsp.DefaultMaxURL,
			MaxHeaderLine:            rtsp.DefaultMaxHeaderLine,
			MaxHeaderLines:           rtsp.DefaultMaxHeaders,
			MaxHeaderBytes:           rtsp.DefaultMaxHeaderBytes,
			MaxBody:                  rtsp.DefaultMaxBody,
			MaxPacket:                rtsp.DefaultMaxPacketSize,
			MediaQueue:               rtsp.DefaultMediaQueueSize,
			UDPTeardownLinger:        Duration(rtsp.DefaultUDPTeardownLinger),
		},
		TLS:  tlsConfig{Address: rtsp.DefaultTLSAddress},
		HTTP: httpConfig{Address: defaultHTTPAddress},
		Ingest: ingestConfig{Takeover: false, AllowUnknownCameras: true,
			MaxSDPMedia: media.DefaultSDPMaxMedia, MaxSDPLine: media.DefaultSDPMaxAttrBytes},
		Pull: defaultPullConfig(),
		Recorder: recorderConfig{
			FragmentDuration:    Duration(recorder.DefaultFragmentDuration),
			MaxFragmentDuration: Duration(recorder.DefaultMaxFragmentDuration),
			SegmentDuration:     Duration(recorder.DefaultSegmentDuration),
			ClockTolerance:      Duration(recorder.DefaultClockTolerance),
			ClockRaceLimit:      recorder.DefaultClockRaceLimit,
			ClockRaceWindow:     Duration(recorder.DefaultClockRaceWindow),
			MaxUnitSize:         recorder.DefaultMaxUnitBytes,
			MaxParamSetSize:     recorder.DefaultMaxParamSetBytes,
			MaxFragmentSize:     recorder.DefaultMaxFragmentBytes,
			MaxCameraBuffer:     recorder.DefaultMaxRecordingBuffer,
			MaxBuffer:           recorder.DefaultMaxBuffer,
			StorageRetry:        Duration(recorder.DefaultStorageRetry),
			BackpressureWait:    Duration(recorder.DefaultBackpressureWait),
		},
		Storage: storageConfig{
			Sync:         storage.DefaultSync.String(),
			WriteQueue:   storage.DefaultWriteQueue,
			IndexTimeout: Duration(storage.DefaultIndexTimeout),
			ReadFiles:    storage.DefaultReadFiles,
			ReadIdle:     Duration(storage.DefaultReadIdle),
			IndexReserve: storage.DefaultIndexReserve,
			ReclaimMin:   storage.DefaultReclaimMin,
			ReportPaths:  storage.DefaultReportPaths,
		},
		Playback: playbackConfig{
			MaxSessions:          playback.DefaultMaxSessions,
			SenderReportInterval: Duration(playback.DefaultSenderReportInterval),
			MaxPayload:           playback.DefaultMaxPayload,
		},
		Retention: retentionConfig{
			MinFree:   FreeSpace{Percent: defaultMinFreePercent},
			Interval:  Duration(defaultRetentionInterval),
			BatchSize: storage.DefaultRetentionBatchSize,
		},
		Cameras: map[string]cameraConfig{},
		Auth:    defaultAuthConfig(),
		Users:   []auth.UserConfig{},
	}
}

// Defaults of the settings that belong to cmd itself.
const (
	defaultDataDir           = "./data"
	defaultHTTPAddress       = ":8080"
	defaultMinFreePercent    = 5
	defaultRetentionInterval = time.Minute
)

// maxConfigFileSize bounds the config file read into memory.
const maxConfigFileSize = 1 << 20

// loadConfig returns the built-in defaults overlaid with the YAML file at path ("" means no
// file), validated. Decoding is strict: an unknown or duplicate key, a value of the wrong type
// and a bad duration or size are errors that name the file, line and column. Validation errors
// name the key, and its position when the file sets it; all of them are reported at once.
func loadConfig(path string) (*fileConfig, error) {
	cfg, src, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	if err := src.locate(cfg.validate()); err != nil {
		return nil, err
	}
	return cfg, nil
}

// configSource is the parsed file a configuration came from, used to point errors at lines.
// The zero value (no file) locates nothing.
type configSource struct {
	path string
	body ast.Node // the document's top-level mapping, nil for an empty file
}

// readConfig decodes the file at path over the defaults without validating.
func readConfig(path string) (*fileConfig, *configSource, error) {
	cfg := defaultConfig()
	src := &configSource{path: path}
	if path == "" {
		return cfg, src, nil
	}
	data, err := readFileLimited(path, maxConfigFileSize)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, nil, src.wrap(err)
	}
	switch {
	case len(file.Docs) > 1:
		return nil, nil, fmt.Errorf("%s: want one YAML document, found %d", path, len(file.Docs))
	case len(file.Docs) == 0 || file.Docs[0].Body == nil:
		return cfg, src, nil // empty or comments only: all defaults
	}
	src.body = file.Docs[0].Body
	if err := yaml.NodeToValue(src.body, cfg, yaml.Strict()); err != nil {
		return nil, nil, src.wrap(err)
	}
	if cfg.Cameras == nil { // "cameras:" with no value
		cfg.Cameras = map[string]cameraConfig{}
	}
	if cfg.Users == nil { // "users:" with no value
		cfg.Users = []auth.UserConfig{}
	}
	return cfg, src, nil
}

// readFileLimited reads a whole file, refusing one larger than limit bytes.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// configError is a problem in the configuration, at a position of the file when known.
type configError struct {
	path         string // file name, "" for defaults and flags
	line, column int    // 1-based; 0 when unknown
	err          error
}

func (e *configError) Error() string {
	var b strings.Builder
	if e.path != "" {
		b.WriteString(e.path)
		if e.line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.line, e.column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.err.Error())
	return b.String()
}

func (e *configError) Unwrap() error { return e.err }

// wrap turns a decoding error into a single-line configError that names the file and the
// position: the YAML library's own errors span several lines with a source excerpt.
func (s *configSource) wrap(err error) error {
	if ce, ok := errors.AsType[*configError](err); ok {
		return &configError{path: s.path, line: ce.line, column: ce.column, err: ce.err}
	}
	if ye, ok := errors.AsType[yaml.Error](err); ok {
		msg := ye.GetMessage()
		if te, ok := errors.AsType[*yaml.TypeError](err); ok && te.DstType != nil && te.SrcType != nil {
			msg = "want " + kindName(te.DstType) + ", got " + kindName(te.SrcType) // not Go field names
		}
		ce := &configError{path: s.path, err: &yamlError{msg: msg, err: err}}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			ce.line, ce.column = tk.Position.Line, tk.Position.Column
		}
		return ce
	}
	return &configError{path: s.path, err: err}
}

// kindName names a Go type as its YAML value.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a sequence"
	default:
		return t.String()
	}
}

// yamlError keeps the YAML library's error for errors.As while printing only its message.
type yamlError struct {
	msg string
	err error
}

func (e *yamlError) Error() string { return e.msg }
func (e *yamlError) Unwrap() error { return e.err }

// locate points each *fieldError joined in err at the file position of its key, when the
// file sets that key. It returns nil for a nil err.
func (s *configSource) locate(err error) error {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		if _, ok := errors.AsType[*flagError](e); ok {
			out = append(out, e) // the value came from the command line, not the file
			continue
		}
		ce := &configError{path: s.path, err: e}
		if fe, ok := errors.AsType[*fieldError](e); ok {
			ce.line, ce.column = s.position(fe.key)
		}
		out = append(out, ce)
	}
	return errors.Join(out...)
}

// position returns the position of the value at key in the file, or zeros when the file does
// not set it.
func (s *configSource) position(key []string) (line, column int) {
	n := s.body
	for _, k := range key {
		n = childNode(n, k)
		if n == nil {
			return 0, 0
		}
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line, tk.Position.Column
	}
	return 0, 0
}

// childNode returns the node under key k of a mapping, or the element at
// index k (decimal) of a sequence, or nil.
func childNode(n ast.Node, k string) ast.Node {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return mappingValue(n, k)
	}
	i, err := strconv.Atoi(k)
	if err != nil || i < 0 || i >= len(seq.Values) {
		return nil
	}
	return seq.Values[i]
}

// mappingValue returns the value node under key k of mapping n, or nil. For an empty value
// ("key:") it returns the key node, so the position still points at the right line.
func mappingValue(n ast.Node, k string) ast.Node {
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	}
	for _, mv := range values {
		if mv.Key == nil || mv.Key.GetToken() == nil || mv.Key.GetToken().Value != k {
			continue
		}
		if _, isNull := mv.Value.(*ast.NullNode); mv.Value == nil || isNull {
			return mv.Key
		}
		return mv.Value
	}
	return nil
}

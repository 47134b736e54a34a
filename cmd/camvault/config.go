package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/api/export"
	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/cluster"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/live"
	"github.com/camvault/camvault/peer"
	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/tier"
)

// fileConfig is the configuration file schema. It composes the packages' configurations:
//
//   - Each package section is the package's own Config type (rtsp.Config, recorder.Config,
//     ...): its yaml tags are the file's keys, its DefaultConfig the defaults the file is
//     decoded over, and its Validate the ranges, with errors naming the key (package
//     internal/settings states the contract). A section that several package configs share
//     inlines them (auth: rtspauth.ServerConfig, auth.Config and auth.LimiterConfig).
//   - cmd holds only what is its own: log, tls (the certificate files it loads and
//     reloads), retention and cameras, plus the few translations from the file's words to the
//     packages' (an empty rtsp.udp_rtp_address disables UDP, backpressure_wait 0s never waits)
//     and the relations across packages (recorder.backpressure_wait below rtsp.media_timeout).
//   - Decoding: the file is parsed, normalize rewrites spans ("30d") and byte counts
//     ("64KiB", fields tagged unit:"bytes") into what the YAML decoder reads, walking the file
//     and the Go types together, and the YAML library decodes strictly over the defaults.
//     Validation errors (*settings.FieldError) are prefixed with their section and pointed at
//     the key's line by configSource.locate.
//   - Adding a setting touches the package (the tagged field, its default, its range in
//     Validate) and configs/camvault.yaml, which documents it: TestDocumentedConfigIsDefault
//     fails until the file sets it to exactly the package's default, and
//     TestEverySettingIsDocumented names any key the file lacks or any it has too many.
//
// Every field has a built-in default, so no file is needed; configs/camvault.yaml documents each
// key line by line and must load to exactly defaultConfig().
type fileConfig struct {
	DataDir   string                  `yaml:"data_dir"`
	Log       logConfig               `yaml:"log"`
	RTSP      rtsp.Config             `yaml:"rtsp"`
	TLS       tlsConfig               `yaml:"tls"`
	HTTP      api.Config              `yaml:"http"`
	Export    export.Options          `yaml:"export"`
	Ingest    ingest.PushConfig       `yaml:"ingest"`
	Pull      ingest.PullConfig       `yaml:"pull"`
	Recorder  recorder.Config         `yaml:"recorder"`
	Storage   storage.Config          `yaml:"storage"`
	Playback  playback.Config         `yaml:"playback"`
	Live      live.Config             `yaml:"live"`
	Cluster   cluster.Config          `yaml:"cluster"`
	Tier      tier.Config             `yaml:"tier"`
	Peer      peer.Config             `yaml:"peer"`
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

// cameraConfig holds per-camera settings. A camera with a url is pulled; one without is a
// pushed camera and takes no pull settings.
type cameraConfig struct {
	URL       string         `yaml:"url"`       // rtsp://[user:pass@]host[:port]/path
	Transport string         `yaml:"transport"` // tcp (default) | udp
	Schedule  scheduleConfig `yaml:"schedule"`  // always (default) | list of {cron, duration}
	// OnDemand marks a pulled camera that is never recorded, only pulled while viewers watch it.
	OnDemand bool `yaml:"on_demand"`
	// Retention overrides the retention section for this camera (pushed or pulled).
	Retention *cameraRetention `yaml:"retention"`
}

// defaultConfig returns the built-in configuration: the one used with no file, and the base
// that a file's keys are decoded over. Each call returns a fresh value. Every package section
// is its package's DefaultConfig; only the settings of cmd itself (log, tls files, the
// retention loop) are defined here.
func defaultConfig() *fileConfig {
	return &fileConfig{
		DataDir:  defaultDataDir,
		Log:      logConfig{Format: "text", Level: "info"},
		RTSP:     rtsp.DefaultConfig(),
		TLS:      tlsConfig{Address: rtsp.DefaultTLSAddress},
		HTTP:     api.DefaultConfig(),
		Export:   export.DefaultOptions(),
		Ingest:   ingest.DefaultPushConfig(),
		Pull:     ingest.DefaultPullConfig(),
		Recorder: recorder.DefaultConfig(),
		Storage:  storage.DefaultConfig(),
		Playback: playback.DefaultConfig(),
		Live:     live.DefaultConfig(),
		Cluster:  defaultClusterConfig(),
		Tier:     tier.DefaultConfig(),
		Peer:     peer.DefaultConfig(),
		Retention: retentionConfig{
			MinFree:   FreeSpace{Percent: defaultMinFreePercent},
			Interval:  defaultRetentionInterval,
			BatchSize: storage.DefaultRetentionBatchSize,
		},
		Cameras: map[string]cameraConfig{},
		Auth:    defaultAuthConfig(),
		Users:   []auth.UserConfig{},
	}
}

// defaultClusterConfig is cluster.DefaultConfig with its lists empty rather than nil, as they
// load from a file.
func defaultClusterConfig() cluster.Config {
	c := cluster.DefaultConfig()
	c.Endpoints = []string{}
	return c
}

// Defaults of the settings that belong to cmd itself.
const (
	defaultDataDir           = "./data"
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
	// invalid are the values decoding took out (see normalize), positioned; locate reports
	// them with the validation errors.
	invalid []error
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
	invalid, err := normalize(src.body, reflect.TypeFor[fileConfig](), nil)
	if err != nil {
		return nil, nil, src.wrap(err)
	}
	src.invalid = invalid
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

// locate points each *settings.FieldError joined in err at the file position of its key, when the
// file sets that key. It returns nil for a nil err.
func (s *configSource) locate(err error) error {
	errs := append(slices.Clone(s.invalid), settings.Split(err)...)
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		if _, ok := errors.AsType[*flagError](e); ok {
			out = append(out, e) // the value came from the command line, not the file
			continue
		}
		ce := &configError{path: s.path, err: e}
		if pe, ok := e.(*configError); ok { // positioned by normalize
			ce.line, ce.column, ce.err = pe.line, pe.column, pe.err
		} else if fe, ok := errors.AsType[*settings.FieldError](e); ok {
			ce.line, ce.column = s.position(fe.Path)
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
	for _, mv := range mappingEntries(n) {
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

// mappingEntries returns the key-value entries of mapping n (the parser gives a mapping of one
// entry as the entry itself), or nil when n is not a mapping.
func mappingEntries(n ast.Node) []*ast.MappingValueNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}
	}
	return nil
}

package main

import (
	"errors"
	"flag"
	"strings"

	"github.com/camvault/camvault/internal/settings"
)

// configFlagKeys maps each flag that overrides the file to the YAML key it sets.
var configFlagKeys = map[string]string{
	"data":       "data_dir",
	"rtsp":       "rtsp.address",
	"http":       "http.address",
	"log-format": "log.format",
}

// registerConfigFlags defines -config, -data, -rtsp, -http and -log-format on fs, the flags
// shared by serve and the maintenance subcommands. The override flags have no default of their
// own: only a flag given on the command line overrides the file (see applyFlags).
func registerConfigFlags(fs *flag.FlagSet) {
	fs.String("config", "", "YAML configuration `file` (default: built-in defaults only)")
	def := defaultConfig()
	fs.String("data", "", "data `directory`, overrides data_dir (default "+def.DataDir+")")
	fs.String("rtsp", "", "RTSP listen `address`, overrides rtsp.address (default "+def.RTSP.Address+")")
	fs.String("http", "", "HTTP listen `address`, overrides http.address (default "+def.HTTP.Address+")")
	fs.String("log-format", "", "log `format` text or json, overrides log.format (default "+def.Log.Format+")")
}

// applyFlags copies the override flags that were set on the command line (fs.Visit) into cfg,
// then validates cfg. fs must have been parsed; flags it does not define are ignored. An error
// about a value that came from a flag names the flag.
func applyFlags(cfg *fileConfig, fs *flag.FlagSet) error {
	fromFlag := map[string]string{} // YAML key -> flag name
	fs.Visit(func(f *flag.Flag) {
		key, ok := configFlagKeys[f.Name]
		if !ok {
			return
		}
		fromFlag[key] = f.Name
		v := f.Value.String()
		switch f.Name {
		case "data":
			cfg.DataDir = v
		case "rtsp":
			cfg.RTSP.Address = v
		case "http":
			cfg.HTTP.Address = v
		case "log-format":
			cfg.Log.Format = v
		}
	})
	err := cfg.validate()
	if err == nil || len(fromFlag) == 0 {
		return err
	}
	var out []error
	for _, e := range settings.Split(err) {
		if fe, ok := errors.AsType[*settings.FieldError](e); ok {
			if name, ok := fromFlag[strings.Join(fe.Path, ".")]; ok {
				e = &flagError{name: name, err: e}
			}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// flagError is a validation failure of a value given by a command-line flag.
type flagError struct {
	name string
	err  error
}

func (e *flagError) Error() string { return "flag -" + e.name + ": " + e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// configFromFlags loads the file named by -config (built-in defaults when unset), applies the
// override flags and validates: the whole of "decode, defaults, validate" for a subcommand.
// fs must have been parsed and define the flags of registerConfigFlags.
func configFromFlags(fs *flag.FlagSet) (*fileConfig, error) {
	var path string
	if f := fs.Lookup("config"); f != nil {
		path = f.Value.String()
	}
	cfg, src, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	if err := src.locate(applyFlags(cfg, fs)); err != nil {
		return nil, err
	}
	return cfg, nil
}

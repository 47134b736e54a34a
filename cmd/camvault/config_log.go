package main

import (
	"io"
	"log/slog"
)

// newLogger builds the process's only slog handler (STYLE.md "Logging"): text by default, JSON
// when cfg.Format is "json", at cfg.Level (debug, info, warn or error; anything else is info,
// validate refuses it first).
func newLogger(cfg logConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

package main

import (
	"log/slog"
	"time"

	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/storage"
)

type playbackConfig struct {
	MaxSessions          int      `yaml:"max_sessions"`
	SenderReportInterval Duration `yaml:"sender_report_interval"`
	MaxPayload           Size     `yaml:"max_payload"`
}

func defaultPlaybackConfig() playbackConfig {
	return playbackConfig{
		MaxSessions:          playback.DefaultMaxSessions,
		SenderReportInterval: Duration(playback.DefaultSenderReportInterval),
		MaxPayload:           playback.DefaultMaxPayload,
	}
}

func (p *playbackConfig) validate(v *validator) {
	v.count("playback.max_sessions", p.MaxSessions, 1, 1<<16)
	v.duration("playback.sender_report_interval", p.SenderReportInterval, time.Second, time.Minute)
	v.size("playback.max_payload", p.MaxPayload, 256, 1460)
}

// playbackConfig is the archive playback section (feeds playback.Config).

func (c *fileConfig) playbackConfig(store *storage.Store, log *slog.Logger) playback.Config {
	p := c.Playback
	return playback.Config{Store: store, MaxSessions: p.MaxSessions,
		SenderReportInterval: time.Duration(p.SenderReportInterval), MaxPayload: int(p.MaxPayload), Logger: log}
}

// defaultPlaybackConfig returns the section's defaults: playback's.

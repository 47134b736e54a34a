package main

import (
	"log/slog"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/media"
)

// ingestConfig is the live-source section (feeds ingest.Config).
type ingestConfig struct {
	Takeover            bool `yaml:"takeover"`              // a new publisher replaces a busy camera's
	AllowUnknownCameras bool `yaml:"allow_unknown_cameras"` // false: only names under cameras
	MaxSDPMedia         int  `yaml:"max_sdp_media"`
	MaxSDPLine          Size `yaml:"max_sdp_line"`
}

// defaultIngestConfig returns the section's defaults: media's SDP limits; any camera may push.
func defaultIngestConfig() ingestConfig {
	return ingestConfig{Takeover: false, AllowUnknownCameras: true,
		MaxSDPMedia: media.DefaultSDPMaxMedia, MaxSDPLine: media.DefaultSDPMaxAttrBytes}
}

func (i *ingestConfig) validate(v *validator) {
	v.count("ingest.max_sdp_media", i.MaxSDPMedia, 1, 32)
	v.size("ingest.max_sdp_line", i.MaxSDPLine, 256, 64<<10)
}

// pushConfig returns the configuration of ingest.NewPush: every camera of the file is known,
// and those with a url are pulled, so no one may push to them.
func (c *fileConfig) pushConfig(s ingest.Sink, log *slog.Logger) ingest.PushConfig {
	pc := ingest.PushConfig{Sink: s, TakeOver: c.Ingest.Takeover, AllowUnknown: c.Ingest.AllowUnknownCameras, Logger: log,
		SDP: c.sdpLimits()}
	for name, cam := range c.Cameras {
		pc.Cameras = append(pc.Cameras, name)
		if cam.URL != "" {
			pc.Pulled = append(pc.Pulled, name)
		}
	}
	return pc
}

// sdpLimits bounds the descriptions of pushed and pulled cameras alike.
func (c *fileConfig) sdpLimits() media.SDPLimits {
	return media.SDPLimits{MaxMedia: c.Ingest.MaxSDPMedia, MaxAttrBytes: int(c.Ingest.MaxSDPLine),
		MaxParamSetBytes: int(c.Recorder.MaxParamSetSize)}
}

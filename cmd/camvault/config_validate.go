package main

import (
	"maps"
	"slices"
	"strings"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage"
)

// validate checks every value and the relations between them: each package section with its
// package's Validate, under the section's key, and cmd's own sections here. It returns nil or
// all failures joined (errors.Join of *settings.FieldError), so an operator fixes a file in one
// pass.
func (c *fileConfig) validate() error {
	var v settings.Check
	if c.DataDir == "" || strings.ContainsRune(c.DataDir, 0) {
		v.Fail("data_dir", "must be a directory path, got %q", c.DataDir)
	}
	v.OneOf("log.format", c.Log.Format, "text", "json")
	v.OneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.Add(c.RTSP.Validate(), "rtsp")
	c.TLS.validate(&v)
	v.Add(c.HTTP.Validate(), "http")
	v.Add(c.Export.Validate(), "export")
	v.Add(c.Recorder.Validate(), "recorder")
	// A pull held back for rtsp.media_timeout would end with "no rtp" and reconnect. Each
	// value's own range is checked by its package; outside it, its own error says enough.
	w, mt := c.Recorder.BackpressureWait, c.RTSP.MediaTimeout
	if w > 0 && w <= recorder.MaxBackpressureWait && mt >= rtsp.MinMediaTimeout && w >= mt {
		v.Fail("recorder.backpressure_wait", "must be below %s (%s), got %s",
			settings.Key{"rtsp", "media_timeout"}, settings.FormatDuration(mt), settings.FormatDuration(w))
	}
	v.Add(c.Ingest.Validate(), "ingest")
	v.Add(c.Pull.Validate(), "pull")
	v.Add(c.Storage.Validate(), "storage")
	v.Add(c.Playback.Validate(), "playback")
	v.Add(c.Live.Validate(), "live")
	v.Add(c.Cluster.Validate(), "cluster")
	v.Add(c.Peer.Validate(), "peer")
	if c.Tier.Enabled() || c.Tier.Endpoint != "" || c.Tier.Bucket != "" {
		v.Add(c.Tier.Validate(), "tier") // half a tier section is an error; none is tiering off
	}
	c.Retention.validate(&v)
	c.validateAuth(&v)
	for _, name := range slices.Sorted(maps.Keys(c.Cameras)) {
		if err := storage.ValidCamera(name); err != nil {
			v.Add(err, "cameras", name)
			continue
		}
		validateCamera(&v, name, c.Cameras[name])
	}
	return v.Err()
}

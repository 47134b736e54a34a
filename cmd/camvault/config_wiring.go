package main

import (
	"log/slog"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/live"
	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// The configurations of the package constructors: each package section as decoded, with the
// wiring (logger, sink, store) and the settings that one section shares with another.

// pushConfig returns the configuration of ingest.NewPush: every camera of the file is known,
// and those with a url are pulled, so no one may push to them.
func (c *fileConfig) pushConfig(s, live ingest.Sink, log *slog.Logger) ingest.PushConfig {
	pc := c.Ingest
	pc.Sink, pc.Live, pc.Logger = s, live, log
	pc.SDP.MaxParamSetBytes = c.Recorder.MaxParamSetBytes
	pc.Cameras, pc.Pulled = nil, nil
	for name, cam := range c.Cameras {
		pc.Cameras = append(pc.Cameras, name)
		if cam.URL != "" {
			pc.Pulled = append(pc.Pulled, name)
		}
	}
	return pc
}

// pullConfig returns the configuration of ingest.NewPull. Pulled cameras share the RTSP
// message limits and the media timeout of the rtsp section, and the SDP limits of the ingest
// section.
func (c *fileConfig) pullConfig(s, live ingest.Sink, log *slog.Logger) ingest.PullConfig {
	pc := c.Pull
	pc.Sink, pc.Live, pc.Logger = s, live, log
	pc.Client.MediaTimeout, pc.Client.Limits = c.RTSP.MediaTimeout, c.RTSP.Limits
	pc.SDP = c.Ingest.SDP
	pc.SDP.MaxParamSetBytes = c.Recorder.MaxParamSetBytes
	return pc
}

// recorderConfig returns the configuration of recorder.New. The file's backpressure_wait 0s
// never waits, which the recorder spells as a negative wait (its zero value is its default).
func (c *fileConfig) recorderConfig(log *slog.Logger) recorder.Config {
	rc := c.Recorder
	rc.Logger = log
	if rc.BackpressureWait == 0 {
		rc.BackpressureWait = -1
	}
	return rc
}

// storageConfig returns the configuration of storage.Open, Check and Reindex.
func (c *fileConfig) storageConfig(log *slog.Logger) storage.Config {
	sc := c.Storage
	sc.Dir, sc.Logger = c.DataDir, log
	return sc
}

// liveConfig returns the configuration of live.New.
func (c *fileConfig) liveConfig(log *slog.Logger) live.Config {
	lc := c.Live
	lc.Logger = log
	return lc
}

// playbackConfig returns the configuration of playback.New.
func (c *fileConfig) playbackConfig(store *storage.Store, log *slog.Logger) playback.Config {
	pc := c.Playback
	pc.Store, pc.Logger = store, log
	return pc
}

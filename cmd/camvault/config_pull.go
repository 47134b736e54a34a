package main

import (
	"log/slog"
	"time"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/rtsp"
)

// pullConfig is the section of the cameras that camvault pulls (feeds
// ingest.PullConfig and the rtsp.ClientConfig of every camera). Their media
// timeout is rtsp.media_timeout, as for pushes.
type pullConfig struct {
	BackoffMin             Duration `yaml:"backoff_min"`
	BackoffMax             Duration `yaml:"backoff_max"`
	DialTimeout            Duration `yaml:"dial_timeout"`
	ResponseTimeout        Duration `yaml:"response_timeout"`
	KeepaliveInterval      Duration `yaml:"keepalive_interval"` // 0: half the camera's session timeout, at most 30s
	ReceiverReportInterval Duration `yaml:"receiver_report_interval"`
	ReadBuffer             Size     `yaml:"read_buffer"`
}

func defaultPullConfig() pullConfig {
	return pullConfig{
		BackoffMin:             Duration(ingest.DefaultBackoffMin),
		BackoffMax:             Duration(ingest.DefaultBackoffMax),
		DialTimeout:            Duration(rtsp.DefaultClientDialTimeout),
		ResponseTimeout:        Duration(rtsp.DefaultClientResponseTimeout),
		ReceiverReportInterval: Duration(rtsp.DefaultClientReceiverReportInterval),
		ReadBuffer:             rtsp.DefaultClientReadBufferSize,
	}
}

func (p *pullConfig) validate(v *validator) {
	v.duration("pull.backoff_min", p.BackoffMin, minTimeout, time.Hour)
	v.duration("pull.backoff_max", p.BackoffMax, minTimeout, 24*time.Hour)
	v.notBelow("pull.backoff_max", p.BackoffMax, "pull.backoff_min", p.BackoffMin)
	v.duration("pull.dial_timeout", p.DialTimeout, minTimeout, time.Hour)
	v.duration("pull.response_timeout", p.ResponseTimeout, minTimeout, time.Hour)
	if p.KeepaliveInterval != 0 {
		v.duration("pull.keepalive_interval", p.KeepaliveInterval, time.Second, time.Hour)
	}
	v.duration("pull.receiver_report_interval", p.ReceiverReportInterval, time.Second, time.Minute)
	v.size("pull.read_buffer", p.ReadBuffer, 68<<10, 16<<20)
}

// pullConfig returns the configuration of ingest.Pull.
func (c *fileConfig) pullConfig(s ingest.Sink, log *slog.Logger) ingest.PullConfig {
	p := c.Pull
	return ingest.PullConfig{Sink: s, Logger: log,
		BackoffMin: time.Duration(p.BackoffMin), BackoffMax: time.Duration(p.BackoffMax),
		Client: rtsp.ClientConfig{
			DialTimeout: time.Duration(p.DialTimeout), ResponseTimeout: time.Duration(p.ResponseTimeout),
			KeepaliveInterval:      time.Duration(p.KeepaliveInterval),
			ReceiverReportInterval: time.Duration(p.ReceiverReportInterval),
			MediaTimeout:           time.Duration(c.RTSP.MediaTimeout), ReadBufferSize: int(p.ReadBuffer),
			Limits: c.rtspLimits()},
		SDP: c.sdpLimits()}
}

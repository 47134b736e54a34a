package ingest

import (
	"time"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
)

// DefaultPushConfig returns the default of every setting of PushConfig: any
// camera may push, one publisher per camera, media's SDP limits.
func DefaultPushConfig() PushConfig {
	return PushConfig{AllowUnknown: true, SDP: media.DefaultSDPLimits()}
}

// Validate checks the settings with a yaml tag, defaults applied, within
// the bounds an operator may set. Failures are *settings.FieldError.
func (c *PushConfig) Validate() error { return c.SDP.Validate() }

// DefaultPullConfig returns the default of every setting of PullConfig,
// its client template's included.
func DefaultPullConfig() PullConfig {
	return PullConfig{BackoffMin: DefaultBackoffMin, BackoffMax: DefaultBackoffMax, OnDemandLinger: DefaultOnDemandLinger,
		Client: rtsp.DefaultClientConfig()}
}

// Validate checks the settings with a yaml tag, defaults applied, within
// the bounds an operator may set: the backoff and the client template.
// Failures are *settings.FieldError. NewPull fills the defaults and calls
// it.
func (c *PullConfig) Validate() error {
	var v settings.Check
	v.Duration("backoff_min", c.BackoffMin, 100*time.Millisecond, time.Hour)
	v.Duration("backoff_max", c.BackoffMax, 100*time.Millisecond, 24*time.Hour)
	v.NotBelow("backoff_max", c.BackoffMax, "backoff_min", c.BackoffMin)
	v.Duration("on_demand_linger", c.OnDemandLinger, time.Second, time.Hour)
	v.Add(c.Client.Validate())
	return v.Err()
}

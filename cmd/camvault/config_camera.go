package main

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/internal/settings"
)

// scheduleConfig is a pulled camera's schedule: the word "always" or a list
// of rules {cron: "0 8 * * 1-5", duration: 10h}; cron may start with
// CRON_TZ=Zone. An absent schedule means always.
type scheduleConfig struct {
	Always bool
	Rules  []ruleConfig
}

type ruleConfig struct {
	Cron     string        `yaml:"cron"`
	Duration time.Duration `yaml:"duration"`
}

// UnmarshalYAML accepts "always" or a sequence of rules (strictly decoded).
func (s *scheduleConfig) UnmarshalYAML(n ast.Node) error {
	if n.Type() == ast.StringType {
		text, err := scalarText(n)
		if err == nil && text != "always" {
			err = fmt.Errorf("schedule must be \"always\" or a list of {cron, duration}, got %q", text)
		}
		s.Always = err == nil
		return positioned(n, err)
	}
	var rules []ruleConfig
	if _, err := normalize(n, reflect.TypeFor[[]ruleConfig](), nil); err != nil {
		return err // a rule has no enumerated values
	}
	if err := yaml.NodeToValue(n, &rules, yaml.Strict()); err != nil {
		return err
	}
	*s = scheduleConfig{Rules: rules}
	return nil
}

// schedule converts to the ingest form; no rules means always.
func (s scheduleConfig) schedule() ingest.Schedule {
	if len(s.Rules) == 0 {
		return ingest.Schedule{Always: true}
	}
	out := ingest.Schedule{}
	for _, r := range s.Rules {
		out.Rules = append(out.Rules, ingest.Rule{Cron: r.Cron, Duration: r.Duration})
	}
	return out
}

// validateCamera checks one camera's pull settings.
func validateCamera(v *settings.Check, name string, c cameraConfig) {
	key := "cameras." + name
	validateCameraRetention(v, key+".retention", c.Retention)
	if c.URL == "" {
		if c.Transport != "" || c.Schedule.Always || len(c.Schedule.Rules) > 0 || c.OnDemand {
			v.Fail(key, "transport, schedule and on_demand are for pulled cameras, which need a url")
		}
		return
	}
	if c.OnDemand && (c.Schedule.Always || len(c.Schedule.Rules) > 0) {
		v.Fail(key+".on_demand", "an on-demand camera is never recorded: it takes no schedule")
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Scheme != "rtsp" || u.Host == "" || strings.ContainsAny(c.URL, " \r\n") {
		v.Fail(key+".url", "must be rtsp://host[:port]/path, got %q", redactedURL(c.URL))
	}
	if c.Transport != "" {
		v.OneOf(key+".transport", c.Transport, "tcp", "udp")
	}
	if err := c.Schedule.schedule().Validate(); err != nil {
		v.Fail(key+".schedule", "%v", err)
	}
}

// redactedURL hides credentials in a URL for error messages.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if strings.Contains(raw, "@") {
			return "(unparsable URL with credentials)"
		}
		return raw
	}
	u.User = url.User("redacted")
	return u.String()
}

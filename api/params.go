package api

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/internal/settings"
)

// parseSpan parses a span parameter: seconds as a decimal number ("2.5")
// or a Go duration ("2500ms"), 0 to limit.
func parseSpan(v string, limit time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%q is neither seconds nor a duration such as 2s", v)
		}
		if f < 0 || f > limit.Seconds() {
			return 0, fmt.Errorf("%q is outside 0 to %v", v, limit)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d < 0 || d > limit {
		return 0, fmt.Errorf("%q is outside 0 to %v", v, limit)
	}
	return d, nil
}

// query is a request's query parameters, checked against the names a
// route accepts.
type query struct{ v url.Values }

// parseQuery parses r's query and refuses a parameter not in allowed or
// given twice.
func parseQuery(r *http.Request, allowed ...string) (query, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return query{}, errStatus(http.StatusBadRequest, "malformed query")
	}
	for k, vals := range v {
		if !slices.Contains(allowed, k) {
			takes := "none"
			if len(allowed) > 0 {
				takes = strings.Join(allowed, ", ")
			}
			return query{}, errStatus(http.StatusBadRequest, fmt.Sprintf("unknown parameter %q (this route takes %s)", k, takes))
		}
		if len(vals) > 1 {
			return query{}, errStatus(http.StatusBadRequest, fmt.Sprintf("parameter %q given %d times", k, len(vals)))
		}
	}
	return query{v: v}, nil
}

// get returns parameter name, "" when absent.
func (q query) get(name string) string { return q.v.Get(name) }

// window parses the required start and end parameters: end after start.
func (q query) window() (start, end time.Time, err error) {
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"start", &start}, {"end", &end}} {
		v := q.get(p.name)
		if v == "" {
			return start, end, errStatus(http.StatusBadRequest, p.name+" is required (RFC 3339 or Unix seconds)")
		}
		if *p.t, err = settings.ParseInstant(v); err != nil {
			return start, end, errStatus(http.StatusBadRequest, p.name+": "+err.Error())
		}
	}
	if !end.After(start) {
		return start, end, errStatus(http.StatusBadRequest, "end must be after start")
	}
	return start, end, nil
}

// location parses the tz parameter: an IANA zone name, or def when absent.
func (q query) location(def *time.Location) (*time.Location, error) {
	name := q.get("tz")
	if name == "" {
		return def, nil
	}
	if len(name) > 64 || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return nil, errStatus(http.StatusBadRequest, "tz: not a time zone name")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errStatus(http.StatusBadRequest, fmt.Sprintf("tz: unknown time zone %q", name))
	}
	return loc, nil
}

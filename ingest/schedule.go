package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// MaxRuleDuration is the longest window one Rule may open. It bounds how far
// Schedule.Active searches back for a window that is still open.
const MaxRuleDuration = 7 * 24 * time.Hour

// mergeHorizon bounds how far Active follows a chain of overlapping windows
// back and forth from the instant asked about. A longer merged window is
// reported clipped to it; Run re-evaluates at the clipped end and carries on
// without a close and reopen.
const mergeHorizon = 31 * 24 * time.Hour

// scheduleRecheck is the longest Run sleeps before it looks at the clock
// again, so that a stepped wall clock (NTP, suspend) is noticed within it.
const scheduleRecheck = time.Minute

// Rule is one schedule rule: a cron expression at which a window opens, and
// how long the window stays open.
//
// Cron has five fields (minute, hour, day of month, month, day of week) as
// parsed by robfig/cron/v3's standard parser, optionally preceded by
// "CRON_TZ=Zone " or "TZ=Zone " with an IANA zone name; descriptors such as
// "@daily" are accepted, "@every" is not. Without a zone the rule is read in
// the server's local time zone (time.Local).
//
// Duration is elapsed time, not wall-clock time: "0 22 * * *" with 10h opens
// at 22:00 and closes ten real hours later, which is 08:00 local on an
// ordinary night, 09:00 on the night clocks go forward and 07:00 on the night
// they go back.
type Rule struct {
	// Cron is the cron expression at which a window opens.
	Cron string
	// Duration is how long each window stays open; more than zero and at
	// most MaxRuleDuration.
	Duration time.Duration
}

// Schedule says when a pulled camera records: always, or in the windows its
// rules open. Windows of different rules (or of one rule) that overlap or
// touch merge into one.
//
// Daylight-saving time follows robfig/cron, read as a person reading the
// rule expects:
//   - a rule opens at its wall-clock time in its zone on every day that has
//     that time, so "0 8 * * *" opens at 08:00 local on the days clocks
//     change too;
//   - a time that does not exist (02:30 in Europe/Berlin or America/New_York
//     on the spring-forward day) is skipped: the rule does not fire that day;
//   - a time that happens twice (01:30 in America/New_York, 02:30 in
//     Europe/Berlin on the fall-back day) opens one window, at its first
//     occurrence. robfig/cron would fire twice; the second firing is dropped.
//
// The zero Schedule is invalid; see Validate. Methods on Schedule do not
// modify it and may be called concurrently.
type Schedule struct {
	// Always records all the time; Rules must then be empty.
	Always bool
	// Rules open the recording windows when Always is false.
	Rules []Rule
}

// Window is a half-open interval [Start, End) in which recording is wanted.
// For an Always schedule both are zero, meaning unbounded.
type Window struct {
	// Start is the first instant of the window.
	Start time.Time
	// End is the first instant after the window.
	End time.Time
}

// Validate reports the first problem in s: neither or both of Always and
// Rules, a cron expression that does not parse, uses "@every", names an
// unknown time zone or never fires, or a duration that is not in
// (0, MaxRuleDuration].
func (s Schedule) Validate() error {
	_, err := s.compile()
	return err
}

// Active returns the merged window containing t, if any. That includes a
// window that opened before t (even before the process started) and is still
// open at t. Times in the returned window are in t's location. An invalid
// schedule has no windows.
func (s Schedule) Active(t time.Time) (Window, bool) {
	c, err := s.compile()
	if err != nil {
		return Window{}, false
	}
	return c.active(t)
}

// Next returns the next merged window that starts after t; when t is inside
// a window, that is the one after it. It reports false for an Always or
// invalid schedule and when no rule fires in the next five years.
func (s Schedule) Next(t time.Time) (Window, bool) {
	c, err := s.compile()
	if err != nil {
		return Window{}, false
	}
	return c.next(t)
}

// Run calls onChange(true, w) when a window w opens, at once if one is open
// when Run starts, and onChange(false, w) when it closes, until ctx is done.
// It returns s.Validate's error, or nil when ctx is done; it does not call
// onChange(false, w) for a window still open then. onChange runs on Run's
// goroutine and delays the next change while it runs. Run reads time.Now and
// sleeps with time.NewTimer, so it runs under testing/synctest.
func (s Schedule) Run(ctx context.Context, onChange func(open bool, w Window)) error {
	c, err := s.compile()
	if err != nil {
		return err
	}
	if s.Always {
		onChange(true, Window{})
		<-ctx.Done()
		return nil
	}
	var cur Window
	open := false
	for {
		now := time.Now()
		var wake time.Time
		if w, ok := c.active(now); ok {
			if !open {
				open, cur = true, w
				onChange(true, w)
			}
			cur.End, wake = w.End, w.End
		} else {
			if open {
				open = false
				onChange(false, cur)
			}
			if w, ok := c.next(now); ok {
				wake = w.Start
			}
		}
		if !sleepUntil(ctx, now, wake) {
			return nil
		}
	}
}

// sleepUntil waits until wake (at most scheduleRecheck; forever-ish when
// wake is zero) and reports false when ctx is done first.
func sleepUntil(ctx context.Context, now, wake time.Time) bool {
	d := scheduleRecheck
	if !wake.IsZero() {
		d = min(wake.Sub(now), d)
	}
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// compiledRule is a parsed Rule.
type compiledRule struct {
	spec *cron.SpecSchedule
	loc  *time.Location
	dur  time.Duration
}

// compiledSchedule is a parsed Schedule.
type compiledSchedule struct {
	rules  []compiledRule
	maxDur time.Duration
}

func (s Schedule) compile() (compiledSchedule, error) {
	switch {
	case s.Always && len(s.Rules) > 0:
		return compiledSchedule{}, errors.New("ingest: schedule: always and rules exclude each other")
	case s.Always:
		return compiledSchedule{}, nil
	case len(s.Rules) == 0:
		return compiledSchedule{}, errors.New("ingest: schedule: neither always nor any rule")
	}
	var c compiledSchedule
	for i, r := range s.Rules {
		cr, err := compileRule(r)
		if err != nil {
			return compiledSchedule{}, fmt.Errorf("ingest: schedule rule %d (%q): %w", i+1, r.Cron, err)
		}
		c.rules = append(c.rules, cr)
		c.maxDur = max(c.maxDur, cr.dur)
	}
	return c, nil
}

func compileRule(r Rule) (compiledRule, error) {
	if r.Duration <= 0 {
		return compiledRule{}, fmt.Errorf("duration %v is not positive", r.Duration)
	}
	if r.Duration > MaxRuleDuration {
		return compiledRule{}, fmt.Errorf("duration %v is over the maximum of %v", r.Duration, MaxRuleDuration)
	}
	loc, expr, err := splitZone(r.Cron)
	if err != nil {
		return compiledRule{}, err
	}
	if strings.HasPrefix(expr, "@every") {
		return compiledRule{}, errors.New("@every is not supported; use a cron expression")
	}
	spec, err := parseCron(expr)
	if err != nil {
		return compiledRule{}, err
	}
	spec.Location = loc
	cr := compiledRule{spec: spec, loc: loc, dur: r.Duration}
	if cr.nextFiring(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return compiledRule{}, errors.New("never fires")
	}
	return cr, nil
}

// splitZone takes the optional "CRON_TZ=Zone " or "TZ=Zone " prefix off
// expr. robfig/cron slices out of range on a prefix without a space, so the
// zone is never left to it.
func splitZone(expr string) (*time.Location, string, error) {
	expr = strings.TrimSpace(expr)
	zone, rest, ok := cutZone(expr)
	if !ok {
		return time.Local, expr, nil
	}
	if zone == "" || rest == "" {
		return nil, "", errors.New("a time zone prefix needs a zone and a cron expression after it")
	}
	if _, _, again := cutZone(rest); again {
		return nil, "", errors.New("more than one time zone prefix")
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, "", fmt.Errorf("unknown time zone %q: %w", zone, err)
	}
	return loc, rest, nil
}

// cutZone splits "CRON_TZ=Zone rest" or "TZ=Zone rest" into zone and rest.
func cutZone(expr string) (zone, rest string, ok bool) {
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if after, found := strings.CutPrefix(expr, p); found {
			zone, rest, _ = strings.Cut(after, " ")
			return zone, strings.TrimSpace(rest), true
		}
	}
	return "", "", false
}

// parseCron parses a five-field expression or descriptor. It recovers from a
// panic in robfig/cron so that no configuration text can crash camvault.
func parseCron(expr string) (spec *cron.SpecSchedule, err error) {
	defer func() {
		if p := recover(); p != nil {
			spec, err = nil, fmt.Errorf("cron parser failed: %v", p)
		}
	}()
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, err
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("unsupported cron schedule %T", s)
	}
	return spec, nil
}

// nextFiring returns the first firing of r after t, or zero when there is
// none in five years. A wall-clock time that the fall-back of daylight-saving
// time repeats fires only at its first occurrence.
func (r compiledRule) nextFiring(t time.Time) time.Time {
	for {
		f := r.spec.Next(t.In(r.loc))
		if f.IsZero() || !repeatedWallClock(f.In(r.loc)) {
			return f
		}
		t = f
	}
}

// repeatedWallClock reports whether the wall-clock time of f already
// happened once before, in the hour(s) a fall-back of the clock repeats.
func repeatedWallClock(f time.Time) bool {
	_, off := f.Zone()
	_, offBefore := f.Add(-12 * time.Hour).Zone()
	if offBefore <= off {
		return false
	}
	p := f.Add(-time.Duration(offBefore-off) * time.Second).In(f.Location())
	return p.Year() == f.Year() && p.YearDay() == f.YearDay() &&
		p.Hour() == f.Hour() && p.Minute() == f.Minute() && p.Second() == f.Second()
}

// windows appends to ws[:0] the merged windows of the firings in [lo, hi], sorted, and
// returns the result; Active's searches pass one buffer to every call. A rule's
// firings come in order and its windows all last r.dur, so each is merged into the
// rule's previous window as it comes: an every-minute rule with week-long windows
// keeps one window here, not 10,080.
func (c compiledSchedule) windows(ws []Window, lo, hi time.Time) []Window {
	ws = ws[:0]
	for _, r := range c.rules {
		first := len(ws)
		for f := r.nextFiring(lo.Add(-time.Second)); !f.IsZero() && !f.After(hi); f = r.nextFiring(f) {
			if f.Before(lo) {
				continue
			}
			if n := len(ws); n > first && !f.After(ws[n-1].End) {
				ws[n-1].End = f.Add(r.dur)
				continue
			}
			ws = append(ws, Window{Start: f, End: f.Add(r.dur)})
		}
	}
	return mergeWindows(ws)
}

// mergeWindows sorts ws and merges those that overlap or touch.
func mergeWindows(ws []Window) []Window {
	slices.SortFunc(ws, func(a, b Window) int { return a.Start.Compare(b.Start) })
	out := ws[:0]
	for _, w := range ws {
		if n := len(out); n > 0 && !w.Start.After(out[n-1].End) {
			if w.End.After(out[n-1].End) {
				out[n-1].End = w.End
			}
			continue
		}
		out = append(out, w)
	}
	return out
}

// containing returns the window of ws that contains t.
func containing(ws []Window, t time.Time) (Window, bool) {
	for _, w := range ws {
		if !t.Before(w.Start) && t.Before(w.End) {
			return w, true
		}
	}
	return Window{}, false
}

func (c compiledSchedule) active(t time.Time) (Window, bool) {
	if len(c.rules) == 0 {
		return Window{}, true // always
	}
	lo := t.Add(-c.maxDur)
	ws := c.windows(nil, lo, t)
	w, ok := containing(ws, t)
	if !ok {
		return Window{}, false
	}
	// Follow windows that open before lo and reach the start.
	for w.Start.Add(-c.maxDur).Before(lo) && t.Sub(w.Start) < mergeHorizon {
		lo = w.Start.Add(-c.maxDur)
		ws = c.windows(ws, lo, w.Start.Add(-time.Nanosecond))
		if n := len(ws); n > 0 && !ws[n-1].End.Before(w.Start) {
			w.Start = ws[n-1].Start
		}
	}
	// Follow windows that open in the window after t and reach past it.
	for hi := t; hi.Before(w.End) && w.End.Sub(t) < mergeHorizon; {
		end := w.End
		ws = c.windows(ws, hi.Add(time.Nanosecond), w.End)
		for _, x := range ws {
			if x.End.After(end) {
				end = x.End
			}
		}
		hi, w.End = w.End, end
	}
	return Window{Start: w.Start.In(t.Location()), End: w.End.In(t.Location())}, true
}

func (c compiledSchedule) next(t time.Time) (Window, bool) {
	if len(c.rules) == 0 {
		return Window{}, false // always
	}
	from := t
	if w, ok := c.active(t); ok {
		from = w.End
	}
	var first time.Time
	for _, r := range c.rules {
		if f := r.nextFiring(from); !f.IsZero() && (first.IsZero() || f.Before(first)) {
			first = f
		}
	}
	if first.IsZero() {
		return Window{}, false
	}
	return c.active(first.In(t.Location()))
}

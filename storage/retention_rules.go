package storage

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// camRules is one camera's policy in the index's terms (Unix ns) at the
// pass's time.
type camRules struct {
	oldBefore  int64 // a segment ending before this is past MaxAge; MinInt64: no MaxAge
	youngAfter int64 // a segment ending after this is younger than MinAge; MaxInt64: no MinAge
	maxBytes   int64 // 0: no MaxBytes
	holds      []Hold
	// tiered: segments not uploaded are kept from MaxAge and MaxBytes.
	tiered bool
	// uploadedOldBefore: an uploaded segment ending before this is past
	// UploadedMaxAge; MinInt64: none (or not tiered).
	uploadedOldBefore int64
}

// rules compiles camera's policy at the planner's time.
func (p *planner) rules(camera []byte) camRules {
	pol := p.pol.policy(camera)
	r := camRules{oldBefore: math.MinInt64, youngAfter: math.MaxInt64, maxBytes: max(pol.MaxBytes, 0),
		holds: pol.Holds, tiered: p.pol.Tiered, uploadedOldBefore: math.MinInt64}
	if stored := p.stored[string(camera)]; len(stored) > 0 {
		r.holds = append(slices.Clip(pol.Holds), stored...)
	}
	if pol.MaxAge > 0 {
		r.oldBefore = unixNano(p.now.Add(-pol.MaxAge), math.MinInt64)
	}
	if pol.MinAge > 0 {
		r.youngAfter = unixNano(p.now.Add(-pol.MinAge), math.MaxInt64)
	}
	if pol.UploadedMaxAge > 0 && r.tiered {
		r.uploadedOldBefore = unixNano(p.now.Add(-pol.UploadedMaxAge), math.MinInt64)
	}
	return r
}

// noRules reports whether the per-camera rules can delete nothing.
func (r *camRules) noRules() bool {
	return r.oldBefore == math.MinInt64 && r.maxBytes == 0 && r.uploadedOldBefore == math.MinInt64
}

// reason says which per-camera rule deletes segment h (value v), if any,
// with the camera over MaxBytes or not. Under tiering a segment not
// uploaded yet (or whose value does not say) waits for its upload.
func (r *camRules) reason(h segHead, v []byte, over bool) (DeleteReason, bool) {
	up := UploadNone
	if r.tiered {
		var ok bool
		if up, ok = uploadStateOf(v); !ok || up == UploadNone {
			return 0, false
		}
	}
	switch {
	case h.end < r.oldBefore:
		return ReasonMaxAge, true
	case over:
		return ReasonMaxBytes, true
	case up == UploadDone && h.end < r.uploadedOldBefore:
		return ReasonUploadedMaxAge, true
	}
	return 0, false
}

// verdict says whether a segment may go, or which protection keeps it.
type verdict uint8

const (
	deletable verdict = iota
	keptOpen
	keptHeld
	keptYoung
	numVerdicts
)

// verdict classifies a segment; with ignoreMinAge a young one may go.
func (r *camRules) verdict(h segHead, ignoreMinAge bool) verdict {
	switch {
	case h.state != StateSealed:
		return keptOpen
	case r.held(h):
		return keptHeld
	case h.end > r.youngAfter && !ignoreMinAge:
		return keptYoung
	}
	return deletable
}

// held reports whether the segment [start, end) overlaps a hold.
func (r *camRules) held(h segHead) bool {
	for i := range r.holds {
		from := unixNano(r.holds[i].From, math.MinInt64)
		to := unixNano(r.holds[i].To, math.MaxInt64)
		if h.start < to && h.end > from {
			return true
		}
	}
	return false
}

var (
	minUnixNano = time.Unix(0, math.MinInt64)
	maxUnixNano = time.Unix(0, math.MaxInt64)
)

// unixNano returns t in Unix ns, clamped to int64's range; a zero t gives
// zero.
func unixNano(t time.Time, zero int64) int64 {
	switch {
	case t.IsZero():
		return zero
	case t.Before(minUnixNano):
		return math.MinInt64
	case t.After(maxUnixNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// keptStats counts the segments a pressure pass had to leave, by
// protection, for the Unmet reason.
type keptStats struct {
	n     [numVerdicts]int
	bytes [numVerdicts]int64
}

func (k *keptStats) add(v verdict, bytes int64) {
	k.n[v]++
	k.bytes[v] += bytes
}

// String says what was left and why, for Unmet.
func (k *keptStats) String() string {
	if k.n[keptOpen]+k.n[keptHeld]+k.n[keptYoung] == 0 {
		return "the index lists no other segment"
	}
	return fmt.Sprintf("nothing else may be deleted: %d segments (%s) held, %d (%s) younger than min age, %d open",
		k.n[keptHeld], iecBytes(k.bytes[keptHeld]), k.n[keptYoung], iecBytes(k.bytes[keptYoung]), k.n[keptOpen])
}

// iecBytes formats n bytes for people: "512 B", "1.5 GiB".
func iecBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

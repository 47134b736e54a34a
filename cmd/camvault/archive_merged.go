package main

import (
	"context"
	"slices"
	"time"

	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/tier"
)

// tieredArchive is the API's archive when segments are tiered to object storage: recording
// spans are the union of this node's index and the segments every node uploaded (a killed
// node's archive, a camera that moved), so the web timeline and the spans API show the
// camera's whole recorded time on any node. Summaries, usage and holds stay the node's own.
type tieredArchive struct {
	*storage.Store
	tier    *tier.Tier
	timeout time.Duration // bounds the object store's answer (tier.request_timeout)
}

// remoteSpanHours bounds the object-store part of a spans query: the hours before its end
// that are listed (tier lists per hour, never the bucket).
const remoteSpanHours = 31 * 24 * time.Hour

// Spans implements api.Archive: the local spans and the uploaded segments overlapping
// [from, to), joined across gaps up to gapTolerance. An open bound, or a window longer than
// remoteSpanHours, lists the store for the remoteSpanHours before its end only.
func (a tieredArchive) Spans(camera string, from, to time.Time, gapTolerance time.Duration, limit int) ([]storage.Span, error) {
	local, err := a.Store.Spans(camera, from, to, gapTolerance, 0)
	if err != nil {
		return nil, err
	}
	rto := to
	if rto.IsZero() {
		rto = time.Now()
	}
	rfrom := from
	if rfrom.IsZero() || rto.Sub(rfrom) > remoteSpanHours {
		rfrom = rto.Add(-remoteSpanHours)
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	remote, err := a.tier.Segments(ctx, camera, rfrom, rto)
	if err != nil {
		return nil, err
	}
	all := local
	for _, s := range remote {
		sp := storage.Span{Start: s.Start, End: s.End}
		if !from.IsZero() && sp.Start.Before(from) {
			sp.Start = from
		}
		if !to.IsZero() && sp.End.After(to) {
			sp.End = to
		}
		if sp.End.After(sp.Start) {
			all = append(all, sp)
		}
	}
	return joinSpans(all, gapTolerance, limit), nil
}

// joinSpans sorts spans and joins those that overlap or are at most gap apart; limit > 0
// keeps the first limit.
func joinSpans(spans []storage.Span, gap time.Duration, limit int) []storage.Span {
	slices.SortFunc(spans, func(a, b storage.Span) int { return a.Start.Compare(b.Start) })
	gap = max(gap, 0)
	var out []storage.Span
	for _, sp := range spans {
		if n := len(out); n > 0 && !sp.Start.After(out[n-1].End.Add(gap)) {
			if sp.End.After(out[n-1].End) {
				out[n-1].End = sp.End
			}
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, sp)
	}
	return out
}

package tier

import (
	"context"
	"time"

	"github.com/camvault/camvault/storage"
)

// RemoteSegments is Segments as package playback asks for it (its Remote
// interface, with ReadAt): the segments' infos alone, each with its seek
// table, an empty File and the object key in Upload.Key. With it a *Tier
// is a playback.Remote, and tier need not import playback.
func (t *Tier) RemoteSegments(ctx context.Context, camera string, from, to time.Time) ([]storage.SegmentInfo, error) {
	segs, err := t.Segments(ctx, camera, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]storage.SegmentInfo, len(segs))
	for i := range segs {
		out[i] = segs[i].SegmentInfo
	}
	return out, nil
}

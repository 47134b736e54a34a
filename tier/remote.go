package tier

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/camvault/camvault/storage"
)

// maxWindowHours bounds the hours one Segments call reads (93 days).
const maxWindowHours = 93 * 24

// Segment is a segment in the object store.
type Segment struct {
	// SegmentInfo has the segment's times, size, tracks, revision and
	// seek table; File is empty and Upload.Key is the object key.
	storage.SegmentInfo
	// Node is the node that uploaded it.
	Node string
}

// Segments returns camera's segments in the object store that overlap
// [from, to), oldest first, with their seek tables, from the manifests of
// the hours from SegmentLookback before from up to to: one LIST and one
// GET per node for each hour, never a scan of the bucket. Segments of other
// nodes are included. A manifest that does not decode fails the call.
func (t *Tier) Segments(ctx context.Context, camera string, from, to time.Time) ([]Segment, error) {
	if err := storage.ValidCamera(camera); err != nil {
		return nil, err
	}
	first := from.Add(-t.cfg.SegmentLookback).UTC().Truncate(time.Hour)
	if from.IsZero() || to.IsZero() || !to.After(from) || to.Sub(first) > maxWindowHours*time.Hour {
		return nil, fmt.Errorf("tier: segments of %s: window %v to %v is empty, open or longer than %d hours", camera, from, to, maxWindowHours)
	}
	var out []Segment
	for h := first; h.Before(to); h = h.Add(time.Hour) {
		ms, err := t.hourManifests(ctx, camera, h)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			for i := range m.Segments {
				s := &m.Segments[i]
				if s.Start.Before(to) && s.End.After(from) {
					out = append(out, Segment{SegmentInfo: s.info(camera), Node: m.Node})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Segment) int { return a.Start.Compare(b.Start) })
	return slices.CompactFunc(out, func(a, b Segment) bool { return a.Upload.Key == b.Upload.Key }), nil
}

// hourManifests lists and reads the manifests of camera's hour h.
func (t *Tier) hourManifests(ctx context.Context, camera string, h time.Time) ([]*manifest, error) {
	keys, err := t.list(ctx, hourPrefix(t.cfg.Prefix, camera, h)+manifestPrefix, true)
	if err != nil {
		return nil, err
	}
	var out []*manifest
	for _, k := range keys {
		m, err := t.getManifest(ctx, k, camera)
		if err != nil {
			return nil, err
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// list returns the keys under prefix; without recursive, the next level
// of "directories" (ending in "/") and objects.
func (t *Tier) list(ctx context.Context, prefix string, recursive bool) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
	defer cancel()
	var keys []string
	for obj := range t.mc.ListObjects(ctx, t.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: recursive}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}

// ReadAt returns n bytes of object key from offset off: one ranged GET.
// Playback reads one fragment with it (Fragment.Offset and Size of a
// Segment). key must be a segment key under the prefix; n is at most
// MaxReadBytes. Reading beyond the object's end is an error.
func (t *Tier) ReadAt(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if !strings.HasPrefix(key, t.cfg.Prefix) || !strings.HasSuffix(key, ".mp4") || off < 0 || n <= 0 || n > t.cfg.MaxReadBytes {
		return nil, fmt.Errorf("tier: read %q at %d+%d: not a segment key or not within 1 to %d bytes", key, off, n, t.cfg.MaxReadBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
	defer cancel()
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, off+n-1); err != nil {
		return nil, err
	}
	obj, err := t.mc.GetObject(ctx, t.cfg.Bucket, key, opts)
	if err != nil {
		return nil, fmt.Errorf("tier: read %s: %w", key, err)
	}
	defer obj.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(obj, buf); err != nil {
		return nil, fmt.Errorf("tier: read %s at %d+%d: %w", key, off, n, err)
	}
	return buf, nil
}

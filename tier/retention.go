package tier

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/camvault/camvault/storage"
)

// RetentionReport says what an object retention pass did.
type RetentionReport struct {
	// Deleted counts the segment objects removed; Held those a hold kept
	// although past their max age.
	Deleted, Held int
	// Took is the pass's wall-clock duration.
	Took time.Duration
}

// retentionLoop runs RunRetention every RetentionInterval while some
// camera has a max age, until ctx ends.
func (t *Tier) retentionLoop(ctx context.Context) {
	if t.cfg.MaxAge <= 0 && len(t.cfg.CameraMaxAge) == 0 {
		return
	}
	tick := time.NewTicker(t.cfg.RetentionInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := t.RunRetention(ctx, t.cfg.Now()); err != nil && ctx.Err() == nil {
			t.log.Warn("object retention pass failed; the next one retries", "err", err)
		}
	}
}

// RunRetention deletes the objects of segments that ended more than their
// camera's max age before now, except those that overlap a hold of the
// store (configured or stored), and rewrites the manifests that listed
// them. It walks each camera's day and hour prefixes (LIST with a
// delimiter) and reads only hours that ended before the cutoff, of every
// node: objects no manifest lists (an upload cut between object and
// manifest) go with their hour unless a hold overlaps it. Cameras are
// found by listing the prefix one level deep.
func (t *Tier) RunRetention(ctx context.Context, now time.Time) (RetentionReport, error) {
	begin := time.Now()
	var rep RetentionReport
	cams, err := t.list(ctx, t.cfg.Prefix, false)
	if err != nil {
		return rep, err
	}
	for _, cp := range cams {
		cam := strings.TrimSuffix(strings.TrimPrefix(cp, t.cfg.Prefix), "/")
		age := t.cfg.maxAge(cam)
		if !strings.HasSuffix(cp, "/") || storage.ValidCamera(cam) != nil || age <= 0 {
			continue
		}
		if err := t.expireCamera(ctx, cam, now.Add(-age), &rep); err != nil {
			return rep, err
		}
	}
	rep.Took = time.Since(begin)
	if rep.Deleted > 0 {
		t.mu.Lock()
		t.stats.DeletedObjects += uint64(rep.Deleted)
		t.mu.Unlock()
		t.log.Info("object retention pass", "deleted", rep.Deleted, "held", rep.Held, "dur", rep.Took)
	}
	return rep, nil
}

// expireCamera applies cutoff to camera's hours that ended before it.
func (t *Tier) expireCamera(ctx context.Context, camera string, cutoff time.Time, rep *RetentionReport) error {
	holds, err := t.holds(camera)
	if err != nil {
		return err
	}
	cp := cameraPrefix(t.cfg.Prefix, camera)
	days, err := t.list(ctx, cp, false)
	if err != nil {
		return err
	}
	for _, day := range days {
		if d, err := time.Parse("2006-01-02/", strings.TrimPrefix(day, cp)); err != nil || !d.Before(cutoff) {
			continue
		}
		hours, err := t.list(ctx, day, false)
		if err != nil {
			return err
		}
		for _, hp := range hours {
			if h, ok := hourOf(cp, hp); ok && !h.Add(time.Hour).After(cutoff) {
				if err := t.expireHour(ctx, camera, hp, h, cutoff, holds, rep); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// expireHour deletes an hour's segments that ended before cutoff and no
// hold covers, and rewrites its manifests.
func (t *Tier) expireHour(ctx context.Context, camera, hp string, hour, cutoff time.Time, holds []storage.Hold, rep *RetentionReport) error {
	keys, err := t.list(ctx, hp, true)
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(strings.TrimPrefix(k, hp), manifestPrefix) {
			continue
		}
		mu := t.manifestLock(k)
		mu.Lock()
		err := t.expireManifest(ctx, k, camera, cutoff, holds, listed, rep)
		mu.Unlock()
		if err != nil {
			return err
		}
	}
	if held(holds, hour, hour.Add(time.Hour+t.cfg.SegmentLookback)) {
		return nil
	}
	for _, k := range keys {
		if !listed[k] && !strings.HasPrefix(strings.TrimPrefix(k, hp), manifestPrefix) {
			if err := t.remove(ctx, k); err != nil {
				return err
			}
			rep.Deleted++
		}
	}
	return nil
}

// expireManifest removes a manifest's expired segments and rewrites it;
// listed collects the keys it lists (kept or deleted).
func (t *Tier) expireManifest(ctx context.Context, mkey, camera string, cutoff time.Time, holds []storage.Hold,
	listed map[string]bool, rep *RetentionReport) error {
	m, err := t.getManifest(ctx, mkey, camera)
	if err != nil || m == nil {
		return err
	}
	kept := m.Segments[:0]
	for _, s := range m.Segments {
		listed[s.Key] = true
		switch {
		case !s.End.Before(cutoff):
			kept = append(kept, s)
		case held(holds, s.Start, s.End):
			kept = append(kept, s)
			rep.Held++
		default:
			if err := t.remove(ctx, s.Key); err != nil {
				return err
			}
			rep.Deleted++
		}
	}
	if len(kept) == len(m.Segments) && len(kept) > 0 {
		return nil
	}
	m.Segments = kept
	return t.putManifest(ctx, mkey, m)
}

func (t *Tier) remove(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
	defer cancel()
	if err := t.mc.RemoveObject(ctx, t.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("remove %s: %w", key, err)
	}
	return nil
}

// holds returns camera's holds: its configured ones (the store's
// retention policy) and the stored ones.
func (t *Tier) holds(camera string) ([]storage.Hold, error) {
	pol := t.store.Retention()
	p, ok := pol.Cameras[camera]
	if !ok {
		p = pol.Default
	}
	out := append([]storage.Hold(nil), p.Holds...)
	stored, err := t.store.Holds(camera)
	if err != nil {
		return nil, fmt.Errorf("tier: holds of %s: %w", camera, err)
	}
	for _, h := range stored {
		out = append(out, storage.Hold{From: h.From, To: h.To, Reason: h.Reason})
	}
	return out, nil
}

// held reports whether [start, end) overlaps a hold (a zero From or To is
// open on that side).
func held(holds []storage.Hold, start, end time.Time) bool {
	for _, h := range holds {
		from, to := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
		if !h.From.IsZero() {
			from = h.From
		}
		if !h.To.IsZero() {
			to = h.To
		}
		if start.Before(to) && end.After(from) {
			return true
		}
	}
	return false
}

package bench

import (
	"fmt"
	"time"

	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// benchClock drives the recorder when the bench writes an archive.
type benchClock struct{ now time.Time }

func (c *benchClock) Now() time.Time { return c.now }

// recordClip writes the clip as camera's recording from start through the
// real recorder, with a clock that follows the clip instead of waiting.
func recordClip(st *storage.Store, camera string, c *Clip, start time.Time) error {
	clock := &benchClock{now: start}
	r, err := recorder.New(recorder.Config{Now: clock.Now}, st)
	if err != nil {
		return err
	}
	rec, err := r.Open(camera, c.Tracks, recorder.OpenOptions{})
	if err != nil {
		return err
	}
	for _, p := range c.Packets {
		clock.now = start.Add(p.At)
		rec.WriteRTP(p.Stream, p.Data)
	}
	rec.Close()
	rec.Wait()
	return r.Close()
}

// syntheticIndex fills the index with days of 10-minute segments of 1 s
// fragments for cameras idx-000...; every entry points at the fragments of
// the real segment src (cycled), so any seek lands on playable data.
func syntheticIndex(st *storage.Store, src storage.SegmentInfo, cameras, days int, end time.Time) (int, error) {
	const segLen = 10 * time.Minute
	perSeg := int(segLen / time.Second)
	total := 0
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	batch := make([]storage.SegmentInfo, 0, 500)
	for c := range cameras {
		camera := fmt.Sprintf("idx-%03d", c)
		for t := start; t.Before(end); t = t.Add(segLen) {
			seg := storage.SegmentInfo{Camera: camera, Start: t, End: t.Add(segLen), File: src.File,
				Bytes: src.Bytes, State: storage.StateSealed, Tracks: src.Tracks,
				Fragments: make([]storage.Fragment, perSeg)}
			for k := range perSeg {
				f := src.Fragments[k%len(src.Fragments)]
				f.Start, f.Duration = t.Add(time.Duration(k)*time.Second), time.Second
				seg.Fragments[k] = f
			}
			batch = append(batch, seg)
			total += perSeg
			if len(batch) == cap(batch) {
				if err := st.PutSealed(batch); err != nil {
					return total, err
				}
				batch = batch[:0]
			}
		}
	}
	return total, st.PutSealed(batch)
}

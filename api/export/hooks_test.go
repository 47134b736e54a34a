package export

import (
	"io"
	"time"
)

// PlanBody plans the progressive export of camera's [start, end) and returns
// its size and a function that writes the whole body to w in 32 KiB reads,
// as http.ServeContent does: for benchmarks of the body alone.
func PlanBody(s *Server, camera string, start, end time.Time) (int64, func(w io.Writer) error, error) {
	parts, err := s.selectParts(camera, start, end)
	if err != nil {
		return 0, nil, err
	}
	pl, err := s.buildPlan(camera, parts, start, end)
	if err != nil {
		return 0, nil, err
	}
	head := pl.header()
	buf := make([]byte, 32<<10)
	size := int64(len(head)) + pl.mdatSize
	return size, func(w io.Writer) error {
		_, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{newBody(s.store, pl, head)}, buf)
		return err
	}, nil
}

// PresizedSamples returns the sample capacity that planning camera's
// [start, end) reserves up front, all tracks together.
func PresizedSamples(s *Server, camera string, start, end time.Time) (int, error) {
	parts, err := s.selectParts(camera, start, end)
	if err != nil {
		return 0, err
	}
	tracks := parts[0].tracks
	pl := &plan{tracks: tracks, samples: make([][]sample, len(tracks)), chunks: make([][]chunk, len(tracks)),
		maxSamples: s.opt.MaxSamples}
	tl := newTimeline(tracks, end)
	fr := fragReader{store: s.store}
	first := parts[0].frags[0]
	tl.enterPart(first.Start)
	if _, err := fr.header(parts[0].file, first); err != nil {
		return 0, err
	}
	if err := tl.fragment(first, &fr.p); err != nil {
		return 0, err
	}
	frags := 0
	for i := range parts {
		frags += len(parts[i].frags)
	}
	pl.presize(tl, &fr, frags)
	n := 0
	for _, ss := range pl.samples {
		n += cap(ss)
	}
	return n, nil
}

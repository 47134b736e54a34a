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

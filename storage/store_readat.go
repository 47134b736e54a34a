package storage

import "fmt"

// ReadAt reads len(p) bytes of file (SegmentInfo.File) at offset off into p,
// through the same cache of open files as ReadFragment (Config.ReadFiles,
// Config.ReadIdle), so a hit does not allocate. It reads all of p or fails:
// n is len(p) with a nil error, or 0 with an error (a range beyond the end of
// the file is an error). It is for callers that serve byte ranges of
// segments, such as an MP4 export reading sample data; safe for concurrent
// use.
func (s *Store) ReadAt(file string, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("storage: read %s: negative offset %d", file, off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := s.files.readAt(file, p, off); err != nil {
		return 0, fmt.Errorf("storage: read %s: %w", file, err)
	}
	return len(p), nil
}

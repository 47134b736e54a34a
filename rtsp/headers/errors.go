package headers

import "errors"

// ErrRangeUnit is returned by Range.Unmarshal for a unit other than npt,
// clock and smpte*; RTSP 1.0 answers it with 501 (RTSP-RNG-02).
var ErrRangeUnit = errors.New("unknown range unit")

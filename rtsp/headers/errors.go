package headers

import (
	"errors"

	"github.com/camvault/camvault/rtsp/base"
)

// ErrRangeUnit is returned by Range.Unmarshal for a unit other than npt,
// clock and smpte*; RTSP 1.0 answers it with 501 (RTSP-RNG-02).
var ErrRangeUnit = errors.New("unknown range unit")

// malformed wraps a syntax error in a header value as a 400, as base does
// for the message around it.
func malformed(what string) error {
	return base.NewError(base.StatusBadRequest, what, base.ErrMalformed)
}

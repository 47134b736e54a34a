package fmp4

import "errors"

// ErrMalformed is wrapped by every error of ParseFragment and
// ParseFragmentHeader: the bytes are not a fragment the reader accepts.
var ErrMalformed = errors.New("malformed fragment")

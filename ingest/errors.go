package ingest

import "errors"

// ErrReplaced ends the RTSP session of a publisher whose camera was taken
// over by another session: the same publisher reconnecting, or another one
// with TakeOver set.
var ErrReplaced = errors.New("replaced by another session of the camera")

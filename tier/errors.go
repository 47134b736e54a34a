package tier

import "errors"

// ErrFenced is what Config.Verify wraps when the segment's revision no
// longer owns its camera: the segment is never uploaded.
var ErrFenced = errors.New("tier: revision no longer owns the camera")

// errGone: the segment's index entry or file went away (local retention
// under disk pressure) before it was uploaded; nothing to retry.
var errGone = errors.New("tier: segment gone from the local store")

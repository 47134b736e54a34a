package storage

import "time"

// Observer is told about each fragment written: once per fragment, never
// per packet. Config.Observer sets it; metrics implement it.
type Observer interface {
	// FragmentWritten reports a fragment of bytes that camera's segment
	// now holds: write is how long its write call took (a retry after a
	// full disk included), sync how long its fdatasync took (zero unless
	// the policy is SyncFragment). It runs on the camera's writer
	// goroutine, after the fragment entered the seek table: it must return
	// quickly and must not call back into the Store's write path.
	FragmentWritten(camera string, bytes int, write, sync time.Duration)
}

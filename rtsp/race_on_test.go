//go:build race

package rtsp

// raceEnabled: the race detector makes sync.Pool drop a quarter of what it
// is given, so allocation counts of pooled paths are not steady.
const raceEnabled = true

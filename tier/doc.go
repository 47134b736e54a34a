// Package tier uploads sealed segments to S3-compatible object storage,
// keeps the upload queue, reads remote segments back, and applies the
// objects' own retention. It knows package storage; it never knows RTSP or
// the cluster: the cluster's check of a fencing revision comes in as
// Config.Verify, and the node name as Config.Node.
//
// # Keys
//
// A segment object's key is
//
//	{prefix}{camera}/{YYYY-MM-DD}/{HH}/{HHMMSS.mmm}Z_{node}_r{rev}.mp4
//
// with the segment's start in UTC (date, hour, and time of day to the
// millisecond, as the local file name), the uploading node's name, and the
// segment's fencing revision (0 without a cluster; for a segment recorded
// in doubt, the positive revision Verify confirmed it under: a negative
// revision never reaches a key or a manifest). The object is the
// local file's header and whole fragments, byte for byte, so a seek table
// offset is an offset into the object. Its user metadata repeats camera,
// node, start, end and revision.
//
// # Manifests
//
// Each node keeps one manifest per camera and hour in which it uploaded,
// next to the objects:
//
//	{prefix}{camera}/{YYYY-MM-DD}/{HH}/manifest_{node}.json
//
// JSON: version (1), camera, node, hour, and segments, each with key,
// start, end, bytes, revision, tracks and fragments. A fragment is
// [start µs after the segment's start, duration µs, byte offset, size,
// key 0|1], so playback can range-read one fragment (ReadAt). A segment is
// listed under the hour it starts in; Segments reads the hours from
// SegmentLookback before a window's start to its end: per hour one LIST of
// the manifest_ prefix and one GET per node that uploaded there, never a
// listing of the bucket. Manifests from the store are untrusted: sizes are
// bounded and every key must lie under the camera's prefix.
//
// Only the node named in a manifest writes it (serialized per manifest in
// the process), except object retention, which rewrites the manifests of
// hours that ended before the cutoff, of every node.
//
// # The upload queue
//
// The queue is the local index: a sealed segment with no upload mark
// (storage.PendingUploads) waits for upload, so it survives restarts and
// can never disagree with the index. Run scans it every ScanInterval (or at
// Kick) and hands segments to Concurrency upload goroutines; recording
// never waits for them. One attempt asks Verify, uploads the object,
// merges the segment into its hour's manifest and marks the index
// (storage.MarkUpload); each step may be repeated after a crash. A failed
// attempt is retried with exponential backoff (RetryMin to RetryMax, equal
// jitter) until it works: while the store is unreachable recording goes
// on, and the queue catches up afterwards. The first failure of an outage
// is logged, and its end; retries are counted, not logged. Verify
// refusing a revision (ErrFenced) marks the segment UploadRefused: it
// stays local and is counted and logged.
//
// # Retention
//
// Local copies are storage's: with storage.Retention.Tiered, MaxAge and
// MaxBytes wait for the upload, and UploadedMaxAge releases uploaded
// copies. Objects are this package's: RunRetention deletes segments older
// than their camera's MaxAge unless a hold of the store covers them.
package tier

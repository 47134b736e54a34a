// Package storage owns camvault's recordings on disk: segment files of
// fragmented MP4 under {data}/recordings and their time index in the bbolt
// database {data}/index.db.
//
// A segment file is ftyp+moov (the init), a camvault metadata box, then
// fragments. Every fragment is written as prft+moof+mdat with one write call,
// so a file is always a sequence of whole fragments followed by at most one
// torn one. The prft box carries the wall-clock time of the fragment's decode
// start on the reference track; with the file name it is enough to rebuild the
// index from the files alone (Reindex). Fragments are encoded and decoded by
// package storage/fmp4 alone: the recorder writes with it, playback reads
// with it, and repair, reindex and Check scan files with its header reader.
//
// The index has one bucket per camera. Keys are segment start times (8-byte
// big-endian Unix nanoseconds); values hold the file, start, end, size,
// tracks, state (open or sealed) and, once sealed, the seek table: one entry
// per fragment with its wall-clock start, duration, byte offset and size, and
// whether it begins with a keyframe. Open segments keep their seek table in
// memory; a crash leaves them open and Open repairs them: a torn last fragment
// is cut off and the end time set from the last whole fragment.
//
// Sealed entries end with their fragment count and the count before each
// 15-minute mark of Unix time, so that Spans, Summaries and Usage answer
// from the entries alone: they read start, end and size at fixed offsets
// and open a seek table only for a segment without counts. Holds added at
// run time (AddHold) live in the top-level "holds" bucket, beside
// "cameras" (no code that walks camera buckets sees them), and are mirrored
// to recordings/.camvault-holds so that a rebuild from the files keeps
// them; retention honours them like configured holds.
//
// index.db and recordings/.camvault-id carry the same random data directory
// ID, so Open refuses an index restored from a backup or a recordings disk
// that is not this index's (or not mounted) instead of fitting one to the
// other. At start-up Open also rebuilds a missing or corrupt index from the
// files, removes entries whose file is gone and adopts files the index does
// not know; it never deletes a file to make the two agree. Check verifies a
// stopped data directory entry by entry and fragment by fragment, and
// repairs what is safe.
//
// Writes go through a bounded queue served by a few writer goroutines, so a
// slow disk never blocks a network reader unless its caller asks to be held
// back (Segment.AppendWait, for a TCP source); a segment's operations always
// run in order on one writer. Fragment buffers come from a pool of size classes
// (Store.BufferOf) that the garbage collector may trim; Segment.Append takes
// a buffer and the writer gives it back once written.
//
// A segment may carry a fencing revision (CreateRevision; 0 without a
// cluster), kept in its entry and in its metadata box, and an upload mark
// (MarkUpload) set by the uploader of package tier: the sealed entries
// without a mark are the upload queue (PendingUploads). Entries with either
// use value version 2, which keeps version 1's head; entries and boxes
// without them are written exactly as before both existed.
//
// Retention (SetRetention, RunRetention, Reclaim) is driven by the index,
// never by a directory walk: per camera MaxAge, MinAge, MaxBytes and hold
// spans, and a store-wide free-space floor that takes the oldest sealed
// segments of all cameras first. With Retention.Tiered, MaxAge and MaxBytes
// wait for a segment's upload, and UploadedMaxAge releases uploaded copies. A pass plans in one read transaction, then
// deletes in batches: the index entries in one write transaction, then their
// files, with no transaction open. Open segments, held spans and files the
// index does not know are never deleted.
//
// storage knows nothing of RTSP or RTP: it stores bytes with times. Files are
// opened only through an os.Root on the data directory, and camera names pass
// ValidCamera before they become path elements.
package storage

// Package fmp4 is camvault's codec for the fragments of its segment files:
// one writer (AppendFragment, AppendFragmentHeader) and one reader
// (ParseFragment, ParseFragmentHeader) shared by the recorder, playback,
// crash repair, reindex and Check. AppendMoof writes the same fragment
// without its prft, for the browser's live view (api/liveview).
//
// A fragment is written as
//
//	prft | moof{ mfhd, traf{tfhd, tfdt, trun}... } | mdat{track 1 data, track 2 data, ...}
//
// with tfhd default-base-is-moof, tfdt and trun version 1 (64-bit decode
// times, signed composition offsets) and a prft (ISO/IEC 14496-12 §8.16.5)
// that ties the reference track's decode time to the wall clock. The reader
// accepts that and the layouts other fMP4 muxers commonly write.
//
// The package is pure: functions over bytes, no I/O, no logging, no
// goroutines (cmd/camvault's TestDependencies and TestWireNoGoroutines keep
// it so). It knows nothing of segment files (their init, metadata box
// and index live in package storage) nor of codecs (sample entries live in
// package media). The reader is fed files that a crash may have cut or a
// disk may have garbled: it is bounded (maxFragmentSamples, box sizes checked
// against their enclosing box) and fuzzed (FuzzParseFragment).
package fmp4

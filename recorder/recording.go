package recorder

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

// Recording is one camera's recording. WriteRTP, WriteRTCP and Close may be
// called from different goroutines; they are serialized internally. A
// recording ends when Close is called or by itself, when its input breaks
// a limit (see Err); Done tells either.
//
// A recording opened with OpenOptions.Backpressure may block in WriteRTP
// for up to Config.BackpressureWait while storage is behind (its write
// queue full, or the recording's budget held by fragments not yet
// written); Close, Stats and State wait for it meanwhile, Err, Done and
// Recorder.CameraStats do not. Close itself never waits for the queue: it
// drops the last fragment if there is no room.
type Recording struct {
	r            *Recorder
	camera       string
	log          *slog.Logger
	tracks       []*track
	ref          *track        // the track whose keyframes cut fragments
	done         chan struct{} // closed when the recording has ended
	backpressure bool          // WriteRTP may wait for room in the write queue

	// mu guards everything below (and the tracks' state).
	mu        sync.Mutex
	closed    bool
	err       error // why the recording ended itself; read without mu after done is closed
	pkt       rtp.Packet
	seg       *storage.Segment
	segRev    int64 // the fencing revision seg was created under (Config.Fence)
	lastRev   int64 // the last revision Config.Fence reported as surely owned
	segStart  int64 // wall ns of the segment's first fragment
	segOrigin int64 // wall ns of media time zero in the segment
	sealed    []*storage.Segment
	fragOpen  bool
	fragStart int64 // reference-track RTP time (unwrapped) of the open fragment's first unit
	segPTS    int64 // reference-track RTP time of the segment's first unit
	fragBytes int
	fragSeq   uint32
	frozen    bool // the wall-clock anchors are in use by a written fragment
	rotate    bool // seal the segment at the next reference keyframe
	queueFull bool // a fragment was dropped: restart at a keyframe
	closing   bool // Close is flushing: do not wait for the write queue
	// clockShift (ns) is added to the server clock while the camera's
	// archive already reaches past it (the clock stepped back): the
	// recording then continues after the archive instead of overlapping it.
	clockShift int64
	// stepShift is the part of clockShift that follows a server clock
	// observed stepping back; media time may run ahead of the unshifted
	// clock by that much more than ClockTolerance.
	stepShift int64
	raceStart int64 // wall ns when the current ClockRaceWindow began
	raceCount int   // re-anchors for media time ahead within it
	tf        []fmp4.TrackFragment
	stats     Stats
	warns     [numWarnKinds]warnLimit

	// Memory budget (budget.go).
	queue       []queuedFragment // handed to storage, maybe not written yet
	queuedBytes int
	granted     int // bytes of Config.MaxBuffer reserved by this recording

	// Storage failure handling (recording_storage.go).
	state       RecordingState
	stateErr    error  // the latest storage error, in StateStorageError
	segHanded   int    // fragments handed to seg
	failedAt    int64  // wall ns when the current outage began
	retryAt     int64  // wall ns from which a keyframe may start a segment again
	outageDrops uint64 // fragments dropped in the current outage

	// Published stats (camera_stats.go).
	book          *cameraEntry // where publish writes; set by Open
	lastFragEnd   int64        // wall ns: end of the last fragment handed to storage
	tracksChanged bool         // a segment started: describe the tracks again
}

// Stats counts a recording's work.
type Stats struct {
	Fragments        uint64        // fragments handed to storage
	Frames           uint64        // reference-track units in the fragments handed to storage
	FragmentsLost    uint64        // fragments dropped because the write queue was full (after waiting, if delayed)
	FragmentsDelayed uint64        // fragments that waited for room in a full write queue (OpenOptions.Backpressure)
	Blocked          time.Duration // wall time WriteRTP spent waiting for storage (OpenOptions.Backpressure)
	FragmentsDropped uint64        // fragments not recorded because storage failed
	StorageErrors    uint64        // storage outages (entries into StateStorageError)
	Segments         uint64        // segments started
	TimelineBreaks   uint64        // re-anchors after clock or timestamp jumps
	Bytes            uint64        // fragment bytes handed to storage
	Buffered         uint64        // bytes held now: the open fragment and fragments queued to storage
	PeakBuffered     uint64        // the largest Buffered seen
}

func newRecording(r *Recorder, camera string, mts []*media.Track, opt OpenOptions) (*Recording, error) {
	rec := &Recording{r: r, camera: camera, log: r.log.With("camera", camera), done: make(chan struct{}),
		backpressure: opt.Backpressure && r.cfg.BackpressureWait > 0}
	lim := media.Limits{MaxUnitBytes: r.cfg.MaxUnitBytes, MaxParamSetBytes: r.cfg.MaxParamSetBytes}
	for i, mt := range mts {
		if mt.Codec == media.CodecUnknown {
			rec.tracks = append(rec.tracks, nil)
			continue
		}
		t := &track{idx: i, media: mt, clock: int64(mt.ClockRate), video: mt.IsVideo()}
		dep, err := media.NewDepacketizer(mt, lim, func(u media.Unit) { rec.onUnit(t, u) })
		if err != nil {
			return nil, fmt.Errorf("track %d (%v): %w", i, mt.Codec, err)
		}
		t.dep = dep
		t.lastDur = uint32(mt.ClockRate / 25) // until a real delta is seen
		rec.tracks = append(rec.tracks, t)
		if rec.ref == nil || t.video && !rec.ref.video {
			rec.ref = t
		}
	}
	if rec.ref == nil {
		return nil, ErrNoTracks
	}
	return rec, nil
}

// WriteRTP records one RTP packet of track i (the SDP media index). b is
// only read during the call.
func (rec *Recording) WriteRTP(i int, b []byte) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.closed || i < 0 || i >= len(rec.tracks) || rec.tracks[i] == nil {
		return
	}
	t := rec.tracks[i]
	t.stats.Packets++
	if err := rec.pkt.Unmarshal(b); err != nil {
		t.stats.Dropped++
		return
	}
	t.stats.Bytes += uint64(len(rec.pkt.Payload))
	if rec.pkt.PayloadType != t.media.PayloadType {
		t.stats.Dropped++
		return
	}
	switch {
	case !t.started || !t.recorded && rec.pkt.SSRC != t.ssrc:
		// Until the track has recorded a unit its source is provisional:
		// datagrams that reached it before the publisher's own (a latch
		// undone by the rtsp server) must not fix the SSRC.
		t.started, t.ssrc, t.seqInit = true, rec.pkt.SSRC, false
		t.dep.Reset()
	case rec.pkt.SSRC == t.ssrc:
		t.candRun = 0
	case !rec.checkSSRC(t, &rec.pkt):
		return
	}
	if !rec.checkSeq(t, rec.pkt.SequenceNumber) {
		t.stats.Dropped++
		t.stats.Late++
		return
	}
	if err := t.dep.Push(&rec.pkt); err != nil {
		t.stats.Dropped++
	}
}

// onUnit receives a depacketized unit; it runs inside WriteRTP.
func (rec *Recording) onUnit(t *track, u media.Unit) {
	if rec.closed {
		return // the recording ended itself on an earlier unit of this packet
	}
	if t.needKey && !u.Key {
		t.stats.UnitsSkipped++
		return
	}
	t.needKey = false
	now := rec.now() // the one clock read per unit
	ext, jump := t.unwrap(u.PTS)
	t.countMedia(ext, jump)
	if jump {
		rec.warn(warnTimestampJump, "timestamp jump; starting a new timeline", slog.Int("track", t.idx))
		if !rec.reanchor() {
			return
		}
		now = rec.now()
		ext, _ = t.unwrap(u.PTS)
	}
	if !t.haveAnchor {
		t.haveAnchor, t.anchorTS, t.anchorWall = true, ext, now
	} else if ahead := rec.ahead(t, ext, now); ahead > int64(rec.r.cfg.ClockTolerance) {
		if !rec.clockAhead(t, ahead) {
			return
		}
		now = rec.now()
		ext, _ = t.unwrap(u.PTS)
		t.haveAnchor, t.anchorTS, t.anchorWall = true, ext, now
		t.raceLast = ext // the next unit's advance counts from here
	}
	if t == rec.ref {
		if !rec.onRefUnit(t, ext, u, now) {
			t.stats.UnitsSkipped++
			return
		}
	} else if !rec.fragOpen {
		t.stats.UnitsSkipped++ // before the first reference keyframe
		return
	}
	rec.addUnit(t, ext, u)
}

// ahead returns how far (ns) media time ext of t runs ahead of the server
// clock, given now as rec.now reads it: of clockShift, only the part that
// followed a clock step back counts as server time.
func (rec *Recording) ahead(t *track, ext, now int64) int64 {
	return t.wallOf(ext) - (now - rec.clockShift + rec.stepShift)
}

// clockAhead re-anchors a timeline whose media time ran ahead of the server
// clock by ahead ns. It reports whether the recording goes on.
func (rec *Recording) clockAhead(t *track, ahead int64) bool {
	rec.warn(warnClockAhead, "media time runs ahead of the server clock; starting a new timeline",
		slog.Int("track", t.idx), slog.Duration("drift", time.Duration(ahead)))
	return rec.reanchorAhead(true)
}

// reanchor breaks the timeline after a timestamp jump and counts it
// toward ClockRaceLimit; it reports whether the recording goes on.
func (rec *Recording) reanchor() bool { return rec.reanchorAhead(false) }

// reanchorAhead breaks the timeline and counts the re-anchor within
// ClockRaceWindow. More than ClockRaceLimit of them end the recording with
// ErrClockRacing: timestamp jumps always, media time ahead of the clock
// only when, over the window, some track's media time has also outrun the
// server clock by more than ClockTolerance. A process that stalled and
// then read the queued media in a burst sees its sources run ahead for a
// moment, but over the window their media time kept to the clock: those
// re-anchors split segments and end nothing.
func (rec *Recording) reanchorAhead(ahead bool) bool {
	rec.breakTimeline()
	now := unixNS(rec.r.cfg.Now())
	if now-rec.raceStart > int64(rec.r.cfg.ClockRaceWindow) {
		rec.raceStart, rec.raceCount = now, 0
		for _, t := range rec.tracks {
			if t != nil {
				t.raceMedia = 0
			}
		}
	}
	rec.raceCount++
	if rec.raceCount > rec.r.cfg.ClockRaceLimit && (!ahead || rec.raceExcess(now) > int64(rec.r.cfg.ClockTolerance)) {
		rec.endSelf(ErrClockRacing)
		return false
	}
	return true
}

// raceExcess returns how far (ns) the media time of the track that ran
// furthest outran the server clock since the race window began.
func (rec *Recording) raceExcess(now int64) int64 {
	var most int64
	for _, t := range rec.tracks {
		if t != nil {
			most = max(most, t.raceMedia)
		}
	}
	return most - (now - rec.raceStart)
}

// onRefUnit decides where fragments and segments end. It reports whether
// the unit is to be kept.
func (rec *Recording) onRefUnit(t *track, ext int64, u media.Unit, now int64) bool {
	if u.Key && rec.seg != nil && rec.fragOpen {
		if drift := now - t.wallOf(ext); absDur(drift) > int64(rec.r.cfg.ClockTolerance) {
			rec.warn(warnClockDrift, "media time and server clock disagree; starting a new timeline",
				slog.Duration("drift", time.Duration(drift)))
			rec.breakTimeline()
			ext, _ = t.unwrap(u.PTS)
			t.haveAnchor, t.anchorTS, t.anchorWall = true, ext, rec.now()
		}
	}
	if !rec.fragOpen {
		if !u.Key {
			return false
		}
		rec.startFragment(ext)
		rec.segPTS = ext
		return true
	}
	// Cut decisions use media time: it does not move when a sender report
	// refines the wall-clock anchor.
	age := time.Duration(ticksToNS(ext-rec.fragStart, t.clock))
	segAge := time.Duration(ticksToNS(ext-rec.segPTS, t.clock))
	if u.Key && (u.ParamsChanged || rec.rotate || segAge >= rec.r.cfg.SegmentDuration) && rec.seg != nil {
		rec.flushFragment()
		rec.sealSegment()
		rec.startFragment(ext)
		rec.segPTS = ext
		return true
	}
	cut := u.Key && age >= rec.r.cfg.FragmentDuration ||
		age >= rec.r.cfg.MaxFragmentDuration || rec.fragBytes >= rec.r.cfg.MaxFragmentBytes
	if cut {
		rec.flushFragment()
		if rec.queueFull && !u.Key {
			return false
		}
		rec.startFragment(ext)
	}
	return true
}

// addUnit appends a unit to the open fragment, within the memory budget:
// a recording that would exceed it ends itself, unless it may hold its
// source back and storage writes what it queued in time.
func (rec *Recording) addUnit(t *track, ext int64, u media.Unit) {
	cost := len(u.Data) + unitOverhead
	res := rec.charge(cost)
	if res != charged && rec.chargeAfterWrites(cost) {
		res = charged // a TCP source waited for storage to write
	}
	switch res {
	case overRecording:
		rec.endSelf(ErrOverBudget)
		return
	case overProcess:
		rec.dropOpenFragment()
		return
	}
	off := rec.appendData(t, u.Data)
	t.pend = append(t.pend, pending{pts: ext, off: off, size: len(u.Data), dur: u.Duration, key: u.Key})
	rec.fragBytes += cost
	t.stats.Units++
	t.recorded = true
}

// now is the server clock (Unix ns) as the recording uses it: shifted
// forwards while the camera's archive reaches past it.
func (rec *Recording) now() int64 { return unixNS(rec.r.cfg.Now()) + rec.clockShift }

func (rec *Recording) startFragment(ext int64) {
	rec.fragOpen, rec.fragStart, rec.fragBytes, rec.queueFull = true, ext, 0, false
}

// breakTimeline ends the current segment and forgets every track's clock
// mapping; the next reference keyframe starts a new segment.
func (rec *Recording) breakTimeline() {
	if rec.fragOpen {
		rec.flushFragment()
	}
	rec.sealSegment()
	rec.fragOpen, rec.frozen, rec.clockShift, rec.stepShift = false, false, 0, 0
	rec.stats.TimelineBreaks++
	for _, t := range rec.tracks {
		if t != nil {
			t.resetTimeline()
			rec.clearFragment(t)
		}
	}
}

func (rec *Recording) sealSegment() {
	if rec.seg == nil {
		return
	}
	rec.seg.Seal()
	rec.sealed = append(rec.sealed, rec.seg)
	rec.seg, rec.rotate = nil, false
}

// Close writes the open fragment, seals the segment and ends the recording
// (Done is closed; Err stays nil unless it had ended itself before). It
// does not wait for the disk; Wait does.
func (rec *Recording) Close() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.closed {
		return
	}
	if rec.fragOpen {
		rec.closing = true
		rec.flushFragment()
	}
	rec.sealSegment()
	rec.finish(nil)
	rec.logStopped(slog.LevelInfo, "recording stopped")
}

// endSelf ends the recording because of err: the open fragment is dropped
// (it is what broke the limit), the segment is sealed with the fragments
// handed before, and one Warn line says why.
func (rec *Recording) endSelf(err error) {
	rec.fragOpen = false
	for _, t := range rec.tracks {
		if t != nil {
			rec.clearFragment(t)
		}
	}
	rec.fragBytes = 0
	rec.sealSegment()
	rec.finish(err)
	rec.logStopped(slog.LevelWarn, "recording ended", slog.Any("err", err))
}

// finish marks the recording ended and gives its camera back.
func (rec *Recording) finish(err error) {
	rec.closed, rec.err = true, err
	rec.retire()
	rec.publish(true) // before release: the camera's next recording publishes after
	rec.r.release(rec)
	close(rec.done)
}

func (rec *Recording) logStopped(level slog.Level, msg string, attrs ...slog.Attr) {
	var lost, dropped, foreign uint64
	for _, t := range rec.tracks {
		if t != nil {
			lost, dropped, foreign = lost+t.stats.Lost, dropped+t.stats.Dropped, foreign+t.stats.ForeignSSRC
		}
	}
	attrs = append(attrs,
		slog.Uint64("segments", rec.stats.Segments), slog.Uint64("fragments", rec.stats.Fragments),
		slog.Uint64("bytes", rec.stats.Bytes), slog.Uint64("lost", lost), slog.Uint64("dropped", dropped),
		slog.Uint64("foreign_ssrc", foreign), slog.Uint64("fragments_dropped", rec.stats.FragmentsDropped),
		slog.Uint64("fragments_lost", rec.stats.FragmentsLost),
		slog.Uint64("fragments_delayed", rec.stats.FragmentsDelayed), slog.Duration("blocked", rec.stats.Blocked),
		slog.Uint64("timeline_breaks", rec.stats.TimelineBreaks))
	rec.log.LogAttrs(context.Background(), level, msg, attrs...)
}

// Done returns a channel that is closed when the recording has ended, by
// Close or by itself; Err then says which.
func (rec *Recording) Done() <-chan struct{} { return rec.done }

// Err returns why the recording ended itself: ErrOverBudget or
// ErrClockRacing. It is nil while the recording runs and after it was
// ended by Close. It never waits for rec.mu, which a WriteRTP held back
// by a full write queue keeps (RTSP's reaper asks it of every session).
func (rec *Recording) Err() error {
	select {
	case <-rec.done:
		return rec.err // set before done was closed, and never again
	default:
		return nil
	}
}

// Wait blocks until every segment of a closed recording is sealed on disk.
func (rec *Recording) Wait() {
	rec.mu.Lock()
	segs := append([]*storage.Segment(nil), rec.sealed...)
	rec.mu.Unlock()
	for _, s := range segs {
		<-s.Done()
	}
}

// Stats returns the recording's counters and those of each track (nil for
// tracks that are not recorded).
func (rec *Recording) Stats() (Stats, []*TrackStats) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.retire()
	ts := make([]*TrackStats, len(rec.tracks))
	for i, t := range rec.tracks {
		if t != nil {
			s := t.stats
			ts[i] = &s
		}
	}
	st := rec.stats
	st.Buffered = uint64(rec.fragBytes + rec.queuedBytes)
	return st, ts
}

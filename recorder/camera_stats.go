package recorder

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/camvault/camvault/media"
)

// CameraStats is one camera's recording counters since the Recorder started: the sum over its
// recordings, ended and active.
//
// An active recording publishes its counters once per fragment it flushes and once more when
// it ends, so while it runs the packet counts lag by up to one fragment; once it has ended
// they are exact.
type CameraStats struct {
	Camera string
	// Active says a recording of the camera is open now; Since is when it opened (zero when
	// none is).
	Active bool
	Since  time.Time
	// Tracks describes the active (or the last) recording's tracks: the codec, then the size
	// of a video track ("H264 1280x720", or "H264" before it is known) or the clock rate and
	// channels of an audio track ("AAC 48000/2").
	Tracks []string
	// Packets counts the RTP packets received on all tracks; Bytes the payload bytes of those
	// that parsed as RTP.
	Packets, Bytes uint64
	// Lost counts sequence numbers never received; Late the packets dropped as late,
	// duplicate or far out of sequence.
	Lost, Late uint64
	// Dropped counts the other packets dropped: malformed, of a wrong payload type or of a
	// foreign SSRC, or refused by the depacketizer.
	Dropped uint64
	// Frames counts the reference track's access units (video frames; for an audio-only
	// camera, audio units) in fragments handed to storage.
	Frames uint64
	// Fragments counts the fragments handed to storage, and FragmentBytes their bytes.
	Fragments     uint64
	FragmentBytes uint64
	// FragmentsDropped counts the fragments lost because the write queue was full (or the
	// process memory budget ran out) or storage failed.
	FragmentsDropped uint64
	// Segments counts the segments started.
	Segments uint64
	// LastFragment is the wall-clock end of the last fragment handed to storage (zero when
	// none was).
	LastFragment time.Time
	// Bitrate is the rate of fragment bytes handed to storage over about the last 10 s, in
	// bits/s, as of the Recorder's clock when the stats were read.
	Bitrate float64
	// Buffered is the media the active recording held in memory at its last publish, in
	// bytes: its open fragment and the fragments queued to storage and not written yet.
	Buffered uint64
	// StorageError says the active recording is in StateStorageError.
	StorageError bool
}

// add adds the counters of o (those that sum over recordings) to s.
func (s *CameraStats) add(o *CameraStats) {
	s.Packets += o.Packets
	s.Bytes += o.Bytes
	s.Lost += o.Lost
	s.Late += o.Late
	s.Dropped += o.Dropped
	s.Frames += o.Frames
	s.Fragments += o.Fragments
	s.FragmentBytes += o.FragmentBytes
	s.FragmentsDropped += o.FragmentsDropped
	s.Segments += o.Segments
}

// CameraStats returns the stats of every camera recorded since the Recorder was created,
// sorted by camera name. It never waits for a recording, not even one that is held back by
// storage in WriteRTP; it may be called from any goroutine. Like storage's counters, the
// Recorder keeps every camera it has recorded (about 1 KiB each) until it is dropped.
func (r *Recorder) CameraStats() []CameraStats {
	now := unixNS(r.cfg.Now())
	b := &r.book
	b.mu.Lock()
	out := make([]CameraStats, 0, len(b.cams))
	for _, e := range b.cams {
		out = append(out, e.snapshot(now))
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(a, b CameraStats) int { return strings.Compare(a.Camera, b.Camera) })
	return out
}

// Camera returns the stats of the camera called name, and false when the Recorder has not
// recorded it. Like CameraStats, it never waits for a recording.
func (r *Recorder) Camera(name string) (CameraStats, bool) {
	now := unixNS(r.cfg.Now())
	b := &r.book
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.cams[name]
	if !ok {
		return CameraStats{}, false
	}
	return e.snapshot(now), true
}

// cameraBook keeps the published stats of every camera. Recordings write it once per
// fragment, with their own mu held; readers take only book.mu, which is never held while
// waiting for anything, so a scrape never queues behind a recording held back by storage.
type cameraBook struct {
	mu   sync.Mutex
	cams map[string]*cameraEntry // guarded by mu, as is every entry
}

// cameraEntry is one camera in the book.
type cameraEntry struct {
	name    string
	rec     *Recording  // the open recording, which publishes into live; nil when none
	since   int64       // Unix ns when rec opened
	tracks  []string    // never modified once published: a new description is a new slice
	ended   CameraStats // the sum over the camera's ended recordings
	live    CameraStats // rec's own counters as it last published them
	lastEnd int64       // Unix ns: end of the last fragment handed to storage
	rate    rateWindow
}

// open registers rec as the camera's open recording; r.mu is held (Open checked that no
// other recording of the camera is open).
func (b *cameraBook) open(rec *Recording, now int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cams == nil {
		b.cams = make(map[string]*cameraEntry)
	}
	e := b.cams[rec.camera]
	if e == nil {
		e = &cameraEntry{name: rec.camera}
		b.cams[rec.camera] = e
	}
	e.rec, e.since, e.tracks, e.live = rec, now, rec.describeTracks(), CameraStats{}
	e.rate.add(now, e.ended.FragmentBytes)
	rec.book = e
}

// publish copies rec's counters into the book: once per fragment, and with ended set when
// the recording ends (its counters then join the camera's totals). rec.mu is held.
func (rec *Recording) publish(ended bool) {
	e := rec.book
	if e == nil {
		return
	}
	live := rec.counters()
	now := unixNS(rec.r.cfg.Now())
	b := &rec.r.book
	b.mu.Lock()
	defer b.mu.Unlock()
	if e.rec != rec {
		return
	}
	e.live = live
	e.lastEnd = max(e.lastEnd, rec.lastFragEnd)
	e.rate.add(now, e.ended.FragmentBytes+live.FragmentBytes)
	if rec.tracksChanged {
		e.tracks, rec.tracksChanged = rec.describeTracks(), false
	}
	if ended {
		e.ended.add(&live)
		e.rec, e.since, e.live = nil, 0, CameraStats{}
	}
}

// counters returns the recording's own CameraStats counters; rec.mu is held.
func (rec *Recording) counters() CameraStats {
	var c CameraStats
	for _, t := range rec.tracks {
		if t == nil {
			continue
		}
		s := &t.stats
		c.Packets += s.Packets
		c.Bytes += s.Bytes
		c.Lost += s.Lost
		c.Late += s.Late
		c.Dropped += s.Dropped - s.Late + s.ForeignSSRC
	}
	c.Frames = rec.stats.Frames
	c.Fragments = rec.stats.Fragments
	c.FragmentBytes = rec.stats.Bytes
	c.FragmentsDropped = rec.stats.FragmentsLost + rec.stats.FragmentsDropped
	c.Segments = rec.stats.Segments
	c.Buffered = uint64(rec.fragBytes + rec.queuedBytes)
	c.StorageError = rec.state == StateStorageError
	return c
}

// snapshot returns the entry's stats as of now (Unix ns); book.mu is held.
func (e *cameraEntry) snapshot(now int64) CameraStats {
	s := e.ended
	s.Camera = e.name
	s.Tracks = slices.Clone(e.tracks)
	s.Buffered, s.StorageError = 0, false
	if e.rec != nil {
		s.add(&e.live)
		s.Active, s.Since = true, time.Unix(0, e.since)
		s.Buffered, s.StorageError = e.live.Buffered, e.live.StorageError
	}
	if e.lastEnd != 0 {
		s.LastFragment = time.Unix(0, e.lastEnd)
	}
	s.Bitrate = e.rate.bitrate(now)
	return s
}

// describeTracks describes the recorded tracks as CameraStats.Tracks does. It reads the
// tracks' parameters, so it runs where the depacketizers may change them: in Open, before
// any packet, or with rec.mu held.
func (rec *Recording) describeTracks() []string {
	var out []string
	for _, t := range rec.tracks {
		if t != nil {
			out = append(out, describeTrack(t.media))
		}
	}
	return out
}

func describeTrack(mt *media.Track) string {
	name := mt.Codec.String()
	switch {
	case mt.IsVideo() && mt.Width > 0 && mt.Height > 0:
		return name + " " + strconv.Itoa(mt.Width) + "x" + strconv.Itoa(mt.Height)
	case mt.IsVideo():
		return name
	}
	return name + " " + strconv.FormatUint(uint64(mt.ClockRate), 10) + "/" + strconv.Itoa(int(mt.Channels))
}

// rateWindow keeps the last few (time, cumulative bytes) samples of a camera, one per
// published fragment, to tell its bitrate over about the last rateSpan.
type rateWindow struct {
	at    [rateSamples]int64  // Unix ns
	bytes [rateSamples]uint64 // cumulative fragment bytes at at
	next  int                 // where the next sample goes
	n     int                 // samples kept
}

const (
	// rateSpan is the span Bitrate is measured over.
	rateSpan = 10 * time.Second
	// rateSamples is how many samples are kept: with fragments of 1 s (the default), the
	// last 32 s; with shorter fragments the span shrinks to what they cover.
	rateSamples = 32
)

func (w *rateWindow) add(at int64, bytes uint64) {
	w.at[w.next], w.bytes[w.next] = at, bytes
	w.next = (w.next + 1) % rateSamples
	w.n = min(w.n+1, rateSamples)
}

// bitrate returns the bits/s from the newest sample at or before now-rateSpan (else the
// oldest) to now.
func (w *rateWindow) bitrate(now int64) float64 {
	if w.n == 0 {
		return 0
	}
	newest := (w.next + rateSamples - 1) % rateSamples
	base := (w.next + rateSamples - w.n) % rateSamples // the oldest
	for k := range w.n {
		i := (newest + rateSamples - k) % rateSamples
		if w.at[i] <= now-int64(rateSpan) {
			base = i
			break
		}
	}
	if now <= w.at[base] {
		return 0
	}
	return float64(w.bytes[newest]-w.bytes[base]) * 8 / time.Duration(now-w.at[base]).Seconds()
}

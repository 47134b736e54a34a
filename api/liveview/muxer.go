package liveview

import (
	"fmt"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage/fmp4"
)

// maxSampleSeconds bounds a sample's duration taken from the distance to
// the next unit of its track. A longer distance is a gap (the relay
// skipped, the camera paused): the held sample keeps the duration of the
// one before (or its payload's), and the timeline has a gap there.
const maxSampleSeconds = 3

// fragmentHeaderSize is the size of the moof and mdat header of a fragment
// of one sample of one track (fmp4.MoofSize).
var fragmentHeaderSize = fmp4.MoofSize([]fmp4.TrackFragment{{Samples: make([]fmp4.Sample, 1)}})

// Muxer writes the fragmented MP4 of a browser's live view: an init
// segment for its tracks, then one fragment per unit, each unit held until
// the next unit of its track gives its duration (see the package comment).
// It does no I/O and is not safe for concurrent use.
type Muxer struct {
	tracks []*media.Track
	mt     []muxTrack // by track index
	seq    uint32     // the last fragment's mfhd sequence number
}

// muxTrack is one track's state: its held unit.
type muxTrack struct {
	// bufs[cur] holds fragmentHeaderSize reserved bytes, then the held
	// unit's data; the header is written in front of it when the unit goes
	// out, so a unit is copied once. The other buffer holds the fragment
	// last returned, still being sent while the next unit is copied.
	bufs     [2][]byte
	cur      int
	held     bool
	dts      int64
	cto      int32
	key      bool
	dur      uint32 // the held unit's payload duration, 0 if the payload gives none
	lastDur  uint32 // the duration of the sample sent before
	maxDur   int64  // maxSampleSeconds in ticks
	fragment [1]fmp4.TrackFragment
	sample   [1]fmp4.Sample
}

// NewMuxer returns a muxer of tracks, which become MP4 tracks 1, 2, ...
// in that order. The tracks' parameter sets are read when Init is called
// (a depacketizer may set them meanwhile); each must be a codec that
// codecString knows.
func NewMuxer(tracks []*media.Track) *Muxer {
	m := &Muxer{tracks: tracks, mt: make([]muxTrack, len(tracks))}
	for i, t := range tracks {
		mt := &m.mt[i]
		for j := range mt.bufs {
			mt.bufs[j] = make([]byte, fragmentHeaderSize, fragmentHeaderSize+64<<10)
		}
		mt.maxDur = int64(t.ClockRate) * maxSampleSeconds
		mt.fragment[0].TrackID = uint32(i + 1)
	}
	return m
}

// Ready reports whether every track has what its sample entry and codecs
// string need (media.Track.Ready).
func (m *Muxer) Ready() bool {
	for _, t := range m.tracks {
		if !t.Ready() {
			return false
		}
	}
	return true
}

// Init returns the MSE type of the tracks with their codecs parameter
// ("video/mp4; codecs=\"avc1.42C01E,mp4a.40.2\"") and their init segment
// (ftyp and moov with mvex), from the tracks' current parameters. Units
// held from before are sent after it; a browser takes a new init segment
// between fragments when parameters change.
func (m *Muxer) Init() (mime string, init []byte, err error) {
	if mime, err = mimeType(m.tracks); err != nil {
		return "", nil, fmt.Errorf("live view codecs: %w", err)
	}
	if init, err = media.InitSegment(m.tracks); err != nil {
		return "", nil, fmt.Errorf("live view: %w", err)
	}
	return mime, init, nil
}

// Add takes unit u of track k with its decode time dts (ticks of the
// track's clock rate on the view's timeline, more than the previous one of
// the track) and composition offset cto, and returns the fragment of the
// unit of track k that it held before, nil if none. u.Data is copied. The
// returned bytes are valid until the next Add of track k; in steady state
// Add does not allocate.
func (m *Muxer) Add(k int, dts int64, cto int32, u media.Unit) []byte {
	mt := &m.mt[k]
	var out []byte
	if mt.held {
		out = m.fragment(mt, dts-mt.dts)
		mt.cur ^= 1
	}
	mt.bufs[mt.cur] = append(mt.bufs[mt.cur][:fragmentHeaderSize], u.Data...)
	mt.held, mt.dts, mt.cto, mt.key, mt.dur = true, dts, cto, u.Key, u.Duration
	return out
}

// fragment writes the header of mt's held unit in front of its data, with
// the duration next (the distance to the track's next unit) unless that is
// a gap, and returns the whole fragment.
func (m *Muxer) fragment(mt *muxTrack, next int64) []byte {
	dur := uint32(next)
	if next <= 0 || next > mt.maxDur {
		dur = max(mt.dur, mt.lastDur, 1)
	}
	mt.lastDur = dur
	m.seq++
	buf := mt.bufs[mt.cur]
	data := buf[fragmentHeaderSize:]
	mt.sample[0] = fmp4.Sample{Duration: dur, CTO: mt.cto, Size: uint32(len(data)), Key: mt.key}
	f := &mt.fragment[0]
	f.BaseDecodeTime, f.Samples, f.Data = uint64(mt.dts), mt.sample[:], data
	fmp4.AppendMoof(buf[:0], m.seq, mt.fragment[:])
	mt.held = false
	return buf
}

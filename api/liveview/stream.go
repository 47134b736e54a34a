package liveview

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/media"
)

// ErrNoPlayableTrack is returned by NewStream for a camera none of whose
// tracks a browser plays from MP4; the error's text names them.
var ErrNoPlayableTrack = errors.New("no track plays in a browser")

// Sink receives what a Stream writes. The slices are valid only during the
// call; an error ends the Stream (its WriteRTP and WriteRTCP return it).
type Sink interface {
	// Init is called before the first fragment, and again when a track's
	// parameters change, with the MSE type (see Muxer.Init) and the init
	// segment.
	Init(mime string, init []byte) error
	// Fragment is called with each fragment: moof and mdat of one unit.
	Fragment(b []byte) error
}

// Config configures a Stream.
type Config struct {
	// Tracks are the live camera's tracks by stream index
	// (live.Subscription.Tracks). They are copied: the depacketizers set
	// parameter sets that arrive in-band.
	Tracks []*media.Track
	// Sink receives the init segments and fragments. Required.
	Sink Sink
	// Limits bound the depacketizers; zero fields take media's defaults.
	Limits media.Limits
	// Now returns the arrival time of a packet. Nil is time.Now.
	Now func() time.Time
}

// Stream turns one live viewer's RTP into fragmented MP4 for a Sink: its
// WriteRTP and WriteRTCP make it a live.Output. It is not safe for
// concurrent use.
type Stream struct {
	sink    Sink
	now     func() time.Time
	mux     *Muxer
	in      []*input // by stream index; nil for a stream not played
	played  []string
	skipped []string
	pkt     rtp.Packet // reused by WriteRTP
	origin  origin
	started bool  // the first init segment went out
	err     error // the Sink's first error
}

// input is one played stream.
type input struct {
	k       int // the Muxer's track index
	track   *media.Track
	dep     media.Depacketizer
	video   bool
	waitKey bool // drop units until a keyframe: at the start and after a loss
	seen    bool
	seq     uint16 // the last RTP sequence number
	clock   clock
	at      time.Time // arrival of the packet being pushed
}

// NewStream returns the Stream of a live viewer of cfg.Tracks: the first
// H.264 or H.265 video and the first AAC or Opus audio track are played,
// the others skipped. It returns an error wrapping ErrNoPlayableTrack when
// no track is played.
func NewStream(cfg Config) (*Stream, error) {
	if cfg.Sink == nil {
		return nil, errors.New("live view: no sink")
	}
	s := &Stream{sink: cfg.Sink, now: cfg.Now, in: make([]*input, len(cfg.Tracks))}
	if s.now == nil {
		s.now = time.Now
	}
	var tracks []*media.Track
	var haveVideo, haveAudio bool
	for i, src := range cfg.Tracks {
		t := *src
		desc := describe(&t)
		ok, why := playable(t.Codec)
		switch {
		case !ok:
			s.skipped = append(s.skipped, desc+": "+why)
			continue
		case t.IsVideo() && haveVideo, !t.IsVideo() && haveAudio:
			s.skipped = append(s.skipped, desc+": one video and one audio track are played")
			continue
		}
		haveVideo, haveAudio = haveVideo || t.IsVideo(), haveAudio || !t.IsVideo()
		in := &input{k: len(tracks), track: &t, video: t.IsVideo(), waitKey: t.IsVideo(), clock: clock{rate: t.ClockRate}}
		dep, err := media.NewDepacketizer(in.track, cfg.Limits, func(u media.Unit) { s.unit(in, u) })
		if err != nil {
			s.skipped = append(s.skipped, desc+": "+err.Error())
			continue
		}
		in.dep = dep
		s.in[i] = in
		tracks = append(tracks, in.track)
		s.played = append(s.played, desc)
	}
	if len(tracks) == 0 {
		return nil, fmt.Errorf("%w (%s)", ErrNoPlayableTrack, strings.Join(s.skipped, "; "))
	}
	s.mux = NewMuxer(tracks)
	return s, nil
}

// describe names a track for the page: "H264 1280x720", "AAC 48000 Hz".
func describe(t *media.Track) string {
	switch {
	case t.IsVideo() && t.Width > 0:
		return fmt.Sprintf("%v %dx%d", t.Codec, t.Width, t.Height)
	case !t.IsVideo() && t.ClockRate > 0:
		return fmt.Sprintf("%v %d Hz", t.Codec, t.ClockRate)
	}
	return t.Codec.String()
}

// Played describes the played tracks ("H264 640x360", "AAC 48000 Hz").
func (s *Stream) Played() []string { return s.played }

// Skipped describes the tracks not played, each with why ("PCMU 8000 Hz:
// browsers do not play G.711 from MP4").
func (s *Stream) Skipped() []string { return s.skipped }

// WriteRTP takes one RTP packet of stream i (live.Output). Malformed
// packets and units are dropped (the recorder counts them); a video track
// that lost packets waits for its next keyframe. It returns the Sink's
// error once the Sink failed.
func (s *Stream) WriteRTP(i int, b []byte) error {
	if s.err != nil {
		return s.err
	}
	if i < 0 || i >= len(s.in) || s.in[i] == nil {
		return nil
	}
	in := s.in[i]
	if err := s.pkt.Unmarshal(b); err != nil {
		return nil //nolint:nilerr // a malformed packet is dropped, not the viewer
	}
	if in.seen && s.pkt.SequenceNumber != in.seq+1 {
		in.lost()
	}
	in.seen, in.seq, in.at = true, s.pkt.SequenceNumber, s.now()
	if err := in.dep.Push(&s.pkt); err != nil && s.err == nil {
		in.lost() // the unit was dropped: later frames would refer to it
	}
	return s.err
}

// lost restarts the input after a loss: the partial unit is dropped and
// video waits for a keyframe.
func (in *input) lost() {
	in.dep.Reset()
	in.waitKey = in.video
}

// WriteRTCP takes one RTCP packet of stream i (live.Output): a sender
// report places the track on the timeline.
func (s *Stream) WriteRTCP(i int, b []byte) error {
	if s.err != nil {
		return s.err
	}
	if i >= 0 && i < len(s.in) && s.in[i] != nil {
		s.in[i].clock.senderReport(b)
	}
	return nil
}

// unit takes one depacketized unit: the init segment goes out once every
// track is ready (and again when parameters change), then the unit's
// track's held unit as a fragment.
func (s *Stream) unit(in *input, u media.Unit) {
	if s.err != nil {
		return
	}
	if in.waitKey {
		if !u.Key {
			return
		}
		in.waitKey = false
	}
	fresh := !s.started
	if fresh {
		if !s.mux.Ready() {
			in.waitKey = in.video
			return
		}
		if s.err = s.init(); s.err != nil {
			return
		}
		s.started = true
	}
	dts, cto, ok := in.clock.times(u.PTS, in.at, &s.origin)
	if !ok {
		return
	}
	if f := s.mux.Add(in.k, dts, cto, u); f != nil {
		if s.err = s.sink.Fragment(f); s.err != nil {
			return
		}
	}
	if u.ParamsChanged && !fresh {
		s.err = s.init()
	}
}

// init sends the Muxer's init segment.
func (s *Stream) init() error {
	mime, init, err := s.mux.Init()
	if err != nil {
		return err
	}
	return s.sink.Init(mime, init)
}

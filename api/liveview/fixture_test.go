package liveview_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/mediatest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage/fmp4"
)

// Parameter sets of real encoders (package mediatest): x264 High 3.1
// 1280x720, x264 Baseline 3.0 640x480, and x265 Main 4:4:4 (RExt).
var (
	h264SPS, h264PPS   = mediatest.H264SPS, mediatest.H264PPS
	h264SPS2, h264PPS2 = mediatest.H264SPS2, mediatest.H264PPS2
	h265VPS, h265SPS   = mediatest.H265VPS, mediatest.H265SPS
	h265PPS            = mediatest.H265PPS
	// aacLC is the AudioSpecificConfig of AAC-LC, 48 kHz, stereo.
	aacLC = []byte{0x11, 0x90}
)

// h264Track is a Ready H.264 track; withParams false leaves out the
// parameter sets (they come in-band with the first keyframe).
func h264Track(withParams bool) *media.Track {
	t := &media.Track{Codec: media.CodecH264, ClockRate: 90000, PayloadType: 96}
	if withParams {
		t.SPS, t.PPS = h264SPS, h264PPS
	}
	return t
}

func aacTrack() *media.Track {
	return &media.Track{Codec: media.CodecAAC, ClockRate: 48000, Channels: 2, PayloadType: 97, AudioConfig: aacLC,
		SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
}

func pcmuTrack() *media.Track {
	return &media.Track{Codec: media.CodecPCMU, ClockRate: 8000, Channels: 1, PayloadType: 0}
}

// avcc returns a sample of one NAL unit of the given header byte and size,
// 4-byte length-prefixed; its bytes after the header carry tag.
func avcc(header byte, size int, tag byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(size))
	b = append(b, header)
	return append(b, bytes.Repeat([]byte{tag}, size-1)...)
}

// idr and pFrame are H.264 samples: an IDR slice and a non-IDR slice.
func idr(size int, tag byte) []byte    { return avcc(0x65, size, tag) }
func pFrame(size int, tag byte) []byte { return avcc(0x41, size, tag) }

// fragment is a parsed fragment of one sample.
type fragment struct {
	track    uint32
	dts      uint64
	duration uint32
	cto      int32
	key      bool
	data     []byte
}

// parseFragment reads a fragment of one sample, as the Muxer writes it.
func parseFragment(t testing.TB, b []byte) fragment {
	t.Helper()
	var p fmp4.ParsedFragment
	if err := fmp4.ParseFragment(b, &p); err != nil {
		t.Fatalf("parse fragment: %v", err)
	}
	if len(p.Samples) != 1 || !p.Wall.IsZero() {
		t.Fatalf("fragment of %d samples, prft %v; want one sample and no prft", len(p.Samples), p.Wall)
	}
	s := p.Samples[0]
	return fragment{track: s.TrackID, dts: s.DTS, duration: s.Duration, cto: s.CTO, key: s.Key, data: bytes.Clone(s.Data)}
}

// sink records what a Stream writes, in order.
type sink struct {
	events []event
	err    error // returned by every call once set
}

// event is one Sink call: an init (mime set) or a fragment.
type event struct {
	mime string
	init []byte
	frag []byte
}

func (s *sink) Init(mime string, init []byte) error {
	s.events = append(s.events, event{mime: mime, init: bytes.Clone(init)})
	return s.err
}

func (s *sink) Fragment(b []byte) error {
	s.events = append(s.events, event{frag: bytes.Clone(b)})
	return s.err
}

// fakeClock is a Stream's Now.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

package live

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/camvault/camvault/media"
)

// TestWakeAtFrameEnd: the hub wakes a viewer's sender at the end of a
// video frame, not per packet, so that the frame's packets and the audio
// queued before its end go out with one write (Config.BatchDelay); a
// viewer of audio alone is woken for every packet.
func TestWakeAtFrameEnd(t *testing.T) {
	r, err := New(Config{BatchDelay: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := newHub(r, "cam", []*media.Track{
		{PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000},
		{PayloadType: 97, Codec: media.CodecAAC, ClockRate: 48000, Channels: 1, AudioConfig: []byte{0x11, 0x88}, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3},
	})
	both, audio := newViewer(h, []int{0, 1}), newViewer(h, []int{1})
	for _, v := range []*viewer{both, audio} {
		if _, ok := h.join(v, nil); !ok {
			t.Fatal("join failed")
		}
		<-v.wake // join wakes it
	}
	woken := func(v *viewer) bool {
		select {
		case <-v.wake:
			return true
		default:
			return false
		}
	}
	pkt := func(pt byte, seq uint16, marker bool, payload ...byte) []byte {
		b := []byte{0x80, pt, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9}
		if marker {
			b[1] |= 0x80
		}
		binary.BigEndian.PutUint16(b[2:], seq)
		return append(b, payload...)
	}
	h.rtp(0, pkt(96, 1, false, 0x7c, 0x85, 0)) // a keyframe: resumes both
	h.rtp(0, pkt(96, 2, true, 0x7c, 0x45, 0))
	woken(both)
	h.rtp(0, pkt(96, 3, false, 0x7c, 0x81, 0)) // a P-frame, audio in between
	h.rtp(1, pkt(97, 1, true, 0, 16, 0, 8, 1))
	if woken(both) {
		t.Fatal("woken before the end of the video frame")
	}
	if !woken(audio) {
		t.Fatal("an audio-only viewer was not woken by an audio packet")
	}
	h.rtp(0, pkt(96, 4, true, 0x7c, 0x41, 0))
	if !woken(both) {
		t.Fatal("not woken at the end of the video frame")
	}
	if n := both.q.size; n != 5 {
		t.Fatalf("%d packets queued, want 5", n)
	}
	for range maxUnwoken + 1 {
		h.rtp(0, pkt(96, 5, false, 0x41, 0))
	}
	if !woken(both) {
		t.Fatalf("not woken after %d packets without a frame end", maxUnwoken+1)
	}
	both.halt(false)
	audio.halt(false)
	h.close()
}

package ingest_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/storage"
)

const sdpH264 = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\n" +
	"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
	"a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA\r\n" +
	"a=control:streamid=0\r\n"

// fakeSink records what Push asks of the recorder.
type fakeSink struct {
	mu      sync.Mutex
	opened  []string
	feeds   []ingest.Feed
	writers []*testWriter
}

func (s *fakeSink) ValidCamera(name string) error { return storage.ValidCamera(name) }

func (s *fakeSink) Open(camera string, tracks []*media.Track, feed ingest.Feed) (ingest.Writer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := newTestWriter(camera)
	s.opened = append(s.opened, camera)
	s.feeds = append(s.feeds, feed)
	s.writers = append(s.writers, w)
	return w, nil
}

func announce(p *ingest.Push, path, sdp string) (rtsp.Publication, error) {
	return announceFrom(p, "127.0.0.1:5000", path, sdp)
}

// announceFrom announces path as a publisher at peer.
func announceFrom(p *ingest.Push, peer, path, sdp string) (rtsp.Publication, error) {
	return p.Announce(context.Background(), &rtsp.AnnounceRequest{Path: path, SDP: []byte(sdp),
		Peer: netip.MustParseAddrPort(peer)})
}

// ended returns what the server's check of a publication would find.
func ended(pub rtsp.Publication) error { return pub.(rtsp.Ender).Ended() }

func statusOf(err error) int {
	var re *base.Error
	if errors.As(err, &re) {
		return re.Status
	}
	return 0
}

func TestAnnounceRefusals(t *testing.T) {
	p, err := ingest.NewPush(ingest.PushConfig{Sink: &fakeSink{}, Cameras: []string{"known", "lobby"}, Pulled: []string{"lobby"}})
	if err != nil {
		t.Fatal(err)
	}
	open, err := ingest.NewPush(ingest.PushConfig{Sink: &fakeSink{}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		push   *ingest.Push
		path   string
		sdp    string
		status int
	}{
		{"invalid name", open, "../etc", sdpH264, 400},
		{"name with slash", open, "a/b", sdpH264, 400},
		{"reserved archive", open, "archive", sdpH264, 405},
		{"archive subpath", open, "archive/cam1", sdpH264, 405},
		{"unknown camera when listed", p, "other", sdpH264, 403},
		{"pulled camera", p, "lobby", sdpH264, 403},
		{"garbage sdp", open, "cam", "not an sdp", 400},
		{"no supported media", open, "cam", "v=0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 34\r\na=rtpmap:34 H263/90000\r\n", 415},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := announce(tc.push, tc.path, tc.sdp)
			if got := statusOf(err); got != tc.status {
				t.Errorf("status %d (%v), want %d", got, err, tc.status)
			}
		})
	}
	if _, err := announce(p, "known", sdpH264); err != nil {
		t.Errorf("configured camera refused: %v", err)
	}
}

// TestSecondPublisherRefused: another publisher of a recording camera gets
// 503 at RECORD, and the camera is free again once the first is gone.
func TestSecondPublisherRefused(t *testing.T) {
	sink := &fakeSink{}
	p, _ := ingest.NewPush(ingest.PushConfig{Sink: sink})
	first, err := announceFrom(p, "127.0.0.1:5000", "cam", sdpH264)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Record(rtsp.RecordInfo{}); err != nil {
		t.Fatal(err)
	}
	second, err := announceFrom(p, "127.0.0.2:5000", "cam", sdpH264)
	if err != nil {
		t.Fatalf("announce of a busy camera: %v (the camera is reserved at RECORD)", err)
	}
	if err := second.Record(rtsp.RecordInfo{}); statusOf(err) != 503 {
		t.Fatalf("second publisher: %v, want 503", err)
	}
	first.RTP(0, []byte{1})
	first.Close(rtsp.ErrTeardown)
	// Once the first is gone, the camera is free again, even for a retried RECORD.
	if err := second.Record(rtsp.RecordInfo{}); err != nil {
		t.Fatalf("after the first left: %v", err)
	}
	second.Close(rtsp.ErrTeardown)
	if sink.writers[0].packets != 1 || !sink.writers[0].closed || ended(first) != nil {
		t.Errorf("first writer: %+v, ended %v", sink.writers[0], ended(first))
	}
}

// TestRecordFeed checks that a publication tells the sink how its packets
// arrive: only a TCP publisher's recording may hold its reader back (issue
// 9, item 8).
func TestRecordFeed(t *testing.T) {
	for _, tcp := range []bool{true, false} {
		sink := &fakeSink{}
		p, _ := ingest.NewPush(ingest.PushConfig{Sink: sink})
		pub, err := announce(p, "cam", sdpH264)
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Record(rtsp.RecordInfo{TCP: tcp}); err != nil {
			t.Fatal(err)
		}
		if sink.feeds[0].TCP != tcp {
			t.Errorf("RecordInfo{TCP: %v} opened Feed %+v", tcp, sink.feeds[0])
		}
		pub.Close(rtsp.ErrTeardown)
	}
}

// TestAnnounceHoldsNoCamera covers issue 9 row 7: a client that announces
// and never records holds nothing.
func TestAnnounceHoldsNoCamera(t *testing.T) {
	p, _ := ingest.NewPush(ingest.PushConfig{Sink: &fakeSink{}})
	squatter, err := announceFrom(p, "127.0.0.66:4000", "cam", sdpH264)
	if err != nil {
		t.Fatal(err)
	}
	camera, _ := announceFrom(p, "127.0.0.1:5000", "cam", sdpH264)
	if err := camera.Record(rtsp.RecordInfo{}); err != nil {
		t.Fatalf("camera refused while a squatter announced: %v", err)
	}
	if err := squatter.Record(rtsp.RecordInfo{}); statusOf(err) != 503 {
		t.Fatalf("squatter RECORD: %v, want 503", err)
	}
	squatter.Close(rtsp.ErrConnClosed)
	if ended(camera) != nil {
		t.Fatal("camera session ended by the squatter")
	}
}

// TestSamePublisherReplacesItself covers issue 9 row 14: a camera that
// reconnects (the same address) while its dead session has not timed out
// replaces it at once; the old session is told to end, and its late Close
// does not free the camera from the new one.
func TestSamePublisherReplacesItself(t *testing.T) {
	sink := &fakeSink{}
	p, _ := ingest.NewPush(ingest.PushConfig{Sink: sink})
	old, _ := announceFrom(p, "127.0.0.1:5000", "cam", sdpH264)
	if err := old.Record(rtsp.RecordInfo{}); err != nil {
		t.Fatal(err)
	}
	again, _ := announceFrom(p, "127.0.0.1:5002", "cam", sdpH264)
	if err := again.Record(rtsp.RecordInfo{}); err != nil {
		t.Fatalf("reconnecting camera refused: %v", err)
	}
	if !sink.writers[0].closed || !errors.Is(ended(old), ingest.ErrReplaced) || ended(again) != nil {
		t.Fatalf("old writer closed %v, old ended %v, new ended %v", sink.writers[0].closed, ended(old), ended(again))
	}
	old.Close(rtsp.ErrSessionTimeout)
	other, _ := announceFrom(p, "127.0.0.2:5000", "cam", sdpH264)
	if err := other.Record(rtsp.RecordInfo{}); statusOf(err) != 503 {
		t.Fatalf("another publisher after the old session closed: %v, want 503", err)
	}
}

// TestSameUserReplacesItself: an authenticated publisher is the same one
// at any address, and another user at the old address is not.
func TestSameUserReplacesItself(t *testing.T) {
	sink := &fakeSink{}
	p, _ := ingest.NewPush(ingest.PushConfig{Sink: sink})
	as := func(user, peer string) rtsp.Publication {
		pub, err := p.Announce(context.Background(), &rtsp.AnnounceRequest{Path: "cam", SDP: []byte(sdpH264),
			Peer: netip.MustParseAddrPort(peer), User: user})
		if err != nil {
			t.Fatal(err)
		}
		return pub
	}
	old := as("door", "127.0.0.1:5000")
	if err := old.Record(rtsp.RecordInfo{}); err != nil {
		t.Fatal(err)
	}
	if err := as("other", "127.0.0.1:5002").Record(rtsp.RecordInfo{}); statusOf(err) != 503 {
		t.Fatalf("another user at the same address: %v, want 503", err)
	}
	if err := as("", "127.0.0.1:5004").Record(rtsp.RecordInfo{}); statusOf(err) != 503 {
		t.Fatalf("anonymous at the same address: %v, want 503", err)
	}
	if err := as("door", "127.0.0.7:5000").Record(rtsp.RecordInfo{}); err != nil {
		t.Fatalf("the same user from a new address: %v", err)
	}
	if !errors.Is(ended(old), ingest.ErrReplaced) {
		t.Fatal("old session not ended")
	}
}

// TestSecondPublisherTakesOver: with TakeOver, another publisher replaces
// the current one, whose session is told to end (issue 9 row 8: the
// replaced publisher sees an error).
func TestSecondPublisherTakesOver(t *testing.T) {
	sink := &fakeSink{}
	p, _ := ingest.NewPush(ingest.PushConfig{Sink: sink, TakeOver: true})
	first, _ := announceFrom(p, "127.0.0.1:5000", "cam", sdpH264)
	if err := first.Record(rtsp.RecordInfo{}); err != nil {
		t.Fatal(err)
	}
	second, err := announceFrom(p, "127.0.0.2:5000", "cam", sdpH264)
	if err != nil {
		t.Fatalf("takeover refused: %v", err)
	}
	if err := second.Record(rtsp.RecordInfo{}); err != nil {
		t.Fatal(err)
	}
	if !sink.writers[0].closed || !errors.Is(ended(first), ingest.ErrReplaced) {
		t.Error("first recording not closed and ended on takeover")
	}
	// The replaced publisher's packets go nowhere and it cannot record again.
	first.RTP(0, []byte{1})
	second.RTP(0, []byte{1})
	first.Close(rtsp.ErrConnClosed)
	if sink.writers[0].packets != 0 || sink.writers[1].packets != 1 {
		t.Errorf("packets: first %d, second %d", sink.writers[0].packets, sink.writers[1].packets)
	}
}

// TestRecordingEndedEndsSession: a recording that ends by itself (over its
// budget) ends its publisher's session with the reason.
func TestRecordingEndedEndsSession(t *testing.T) {
	sink := &fakeSink{}
	p, _ := ingest.NewPush(ingest.PushConfig{Sink: sink})
	pub, _ := announce(p, "cam", sdpH264)
	if err := pub.Record(rtsp.RecordInfo{}); err != nil {
		t.Fatal(err)
	}
	if ended(pub) != nil {
		t.Fatal("ended while recording")
	}
	over := errors.New("over budget")
	sink.writers[0].end(over)
	if !errors.Is(ended(pub), over) {
		t.Fatalf("ended %v, want %v", ended(pub), over)
	}
}

package recorder_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"iter"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// openAlloc is the allocation bound of FuzzAnnounceOpen: opening a recording costs a fixed
// amount (init segment, segment file, index transaction, fragment buffers), each packet its
// copy and unit; 8 MiB + 512 bytes per input byte covers both with a wide margin. The
// defect-1 VPS of issue 9 allocated gigabytes.
var openAlloc = alloctest.Bound{Base: 8 << 20, PerByte: 512}

// maxFuzzPackets bounds the RTP packets one input may send.
const maxFuzzPackets = 64

// FuzzAnnounceOpen drives what an ANNOUNCE leads to: SDP bytes through
// media.TracksFromSDP, recorder Open over a real store, RTP packets derived from the
// second input, then Close and Wait. No input may panic or allocate beyond the bound.
// Seeds: an H.264 camera, and the defect-1 ANNOUNCE of issue 9 (an H.265 VPS whose
// extension drove mp4ff out of memory). Crashers found: none so far.
func FuzzAnnounceOpen(f *testing.F) {
	h264 := "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;" +
		" sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA\r\na=control:streamid=0\r\n" +
		"m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n" +
		"a=fmtp:97 mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1190\r\n"
	vps, err := hex.DecodeString("40010c01ffff0408000003009e0800000300003c95980b7020200040000003004000000642")
	if err != nil {
		f.Fatal(err)
	}
	h265 := "v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\na=fmtp:96 sprop-vps=" +
		base64.StdEncoding.EncodeToString(vps) +
		"; sprop-sps=QgEBBAgAAAMAnggAAAMAADyQAUEB4ssrNJJleAtwICAAQAAAAwBAAAAGQg==; sprop-pps=RAHBcoYMRiQ=\r\n"
	h264Packets := fuzzRTP(0, 0b11, 0x65, 0x88, 0x84) // IDR, marker
	h264Packets = append(h264Packets, fuzzRTP(0, 0b11, 0x41, 0x9a, 0x01)...)
	h264Packets = append(h264Packets, fuzzRTP(1, 0b11, 0x00, 0x10, 0x00, 0x30, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c)...)
	f.Add([]byte(h264), h264Packets)
	goodVPS, err := base64.StdEncoding.DecodeString("QAEMAf//BAgAAAMAnggAAAMAADyVmAk=")
	if err != nil {
		f.Fatal(err)
	}
	// The hostile SDP VPS is dropped; a good one in-band makes the track ready.
	f.Add([]byte(h265), append(fuzzRTP(0, 0b10, goodVPS...), fuzzRTP(0, 0b01, 0x26, 0x01, 0xaf, 0x05, 0x38)...))

	store, err := storage.Open(storage.Config{Dir: f.TempDir(), Sync: storage.SyncNone})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		if err := store.Close(); err != nil {
			f.Error(err)
		}
	})
	// The clock moves an hour per input, so that no recording starts inside another's span.
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	rec, err := recorder.New(recorder.Config{Now: clock}, store)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = rec.Close() }) // Close always returns nil
	f.Fuzz(func(t *testing.T, sdp, packets []byte) {
		now.Add(int64(time.Hour))
		alloctest.Check(t, openAlloc, len(sdp)+len(packets), func() { announceOpen(t, rec, sdp, packets) })
	})
}

// announceOpen parses sdp, opens a recording of its tracks, writes the packets of
// fuzzPacketsOf and closes the recording, waiting for its segments.
func announceOpen(t *testing.T, rec *recorder.Recorder, sdp, packets []byte) {
	tracks, err := media.TracksFromSDP(sdp, media.SDPLimits{})
	if err != nil {
		return
	}
	r, err := rec.Open("fuzz", tracks, recorder.OpenOptions{})
	if err != nil {
		return
	}
	for i, b := range fuzzPacketsOf(packets, len(tracks)) {
		r.WriteRTP(i, b)
	}
	r.Close()
	r.Wait()
}

// fuzzRTP encodes one packet in the fuzzPacketsOf format: track, flags (bit 0 marker,
// bit 1 new timestamp), payload length and payload.
func fuzzRTP(track, flags byte, payload ...byte) []byte {
	b := []byte{track, flags}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}

// fuzzPacketsOf yields the track index and marshalled RTP packet of each record of b
// (see fuzzRTP), at most maxFuzzPackets of them, with increasing sequence numbers and a
// timestamp that advances 3000 ticks when flag bit 1 is set.
func fuzzPacketsOf(b []byte, tracks int) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		var ts uint32
		for seq := uint16(1); len(b) >= 4 && seq <= maxFuzzPackets; seq++ {
			track, flags := int(b[0])%tracks, b[1]
			n := min(int(binary.BigEndian.Uint16(b[2:4])), len(b)-4)
			if flags&2 != 0 {
				ts += 3000
			}
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96 + uint8(track), SequenceNumber: seq,
				Timestamp: ts, SSRC: 1 + uint32(track), Marker: flags&1 != 0}, Payload: b[4 : 4+n]}
			b = b[4+n:]
			raw, err := p.Marshal()
			if err != nil || !yield(track, raw) {
				return
			}
		}
	}
}

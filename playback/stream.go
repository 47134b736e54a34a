package playback

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage/fmp4"
)

// ONVIF replay extension flags (ONVIF-10), in byte 8 of the extension body.
const (
	flagClean         = 0x80 // C: the access unit is a clean point (keyframe)
	flagEnd           = 0x40 // E: last access unit before a gap or the end of footage
	flagDiscontinuity = 0x20 // D: does not follow the previous access unit in time
	flagTerminal      = 0x10 // T: last access unit of this playback
)

// onvifProfile is the header extension profile of ONVIF replay (ONVIF-09).
const onvifProfile = 0xABAC

// stream is the RTP state of one track of a presentation. It lives as long
// as the presentation: sequence numbers and timestamps continue across
// PLAYs (RTSP-RNG-09).
type stream struct {
	idx   int
	track *media.Track // the packetizer reads its parameter sets
	pz    *media.Packetizer
	clock int64
	ssrc  uint32

	// Owned by the current play's sender goroutine.
	nextTS   uint32 // the timestamp the next PLAY starts at
	sent     bool   // a packet went out since the last sender report
	packets  uint32
	octets   uint32
	lastTS   uint32
	lastWall time.Time // capture time of the last frame sent
	srAt     time.Time // when the last sender report went out
	scratch  []byte    // packet with the ONVIF extension inserted
	batch    []byte    // packets gathered for one PacketWriter call, back to back
	ends     []int     // where each packet in batch ends
	ps       []rtsp.Packet
	rtcp     []byte

	// The parameter sets of the SDP answer.
	sdpVPS, sdpSPS, sdpPPS []byte
}

func newStream(idx int, t *media.Track, maxPayload int) (*stream, error) {
	own := *t // the packetizer's copy: segment changes update its parameter sets
	st := &stream{idx: idx, track: &own, clock: int64(t.ClockRate), ssrc: randomUint32(),
		nextTS: randomUint32()}
	pz, err := media.NewPacketizer(st.track, media.PacketizerConfig{PayloadType: t.PayloadType, SSRC: st.ssrc,
		InitialSeq: uint16(randomUint32()), MaxPayload: maxPayload})
	if err != nil {
		return nil, err
	}
	st.pz = pz
	st.sdpVPS, st.sdpSPS, st.sdpPPS = t.VPS, t.SPS, t.PPS
	pz.SetParamsInBand(false) // the SDP carries them
	return st, nil
}

// setParams takes the parameter sets of the segment being played. While
// they equal the ones the SDP announced nothing is sent in-band (see
// media.Packetizer.SetParamsInBand); once they differ, they go before every
// keyframe so that decoders follow the change (PL-H264-10).
func (st *stream) setParams(t *media.Track) {
	if t.Codec != st.track.Codec {
		return
	}
	st.track.VPS, st.track.SPS, st.track.PPS = t.VPS, t.SPS, t.PPS
	st.track.Width, st.track.Height = t.Width, t.Height
	st.pz.SetParamsInBand(!bytes.Equal(t.VPS, st.sdpVPS) || !bytes.Equal(t.SPS, st.sdpSPS) || !bytes.Equal(t.PPS, st.sdpPPS))
}

// frame is one access unit to send.
type frame struct {
	data  []byte
	ts    uint32
	wall  time.Time // capture time (ONVIF NTP, RTCP SR)
	key   bool
	flags byte // ONVIF flags other than C
}

// send packetizes and writes one access unit. With onvif, its first packet
// carries the replay extension (ONVIF-09).
//
// When out takes batches (rtsp.PacketWriter), the unit's packets are
// gathered and written with one call per rtsp.MaxBatchBytes: one hand-off
// to the connection's writer and one socket write rather than one each.
func (st *stream) send(out rtsp.Output, f frame, onvif bool, cseq byte) error {
	var werr error
	first := true
	pw, batched := out.(rtsp.PacketWriter)
	err := st.pz.Packetize(f.ts, f.data, f.key, func(pkt []byte) {
		if werr != nil {
			return
		}
		if onvif && first {
			pkt = st.withExtension(pkt, f, cseq)
		}
		first = false
		st.packets++
		st.octets += uint32(len(pkt) - 12)
		if !batched {
			werr = out.WriteRTP(st.idx, pkt)
			return
		}
		if len(st.batch)+len(pkt) > rtsp.MaxBatchBytes {
			werr = st.flush(pw)
		}
		st.batch = append(st.batch, pkt...)
		st.ends = append(st.ends, len(st.batch))
	})
	if batched {
		if ferr := st.flush(pw); werr == nil {
			werr = ferr
		}
	}
	if err != nil {
		return werr // a unit the packetizer refuses is skipped, not fatal
	}
	st.sent, st.lastTS, st.lastWall = true, f.ts, f.wall
	return werr
}

// flush writes the gathered packets.
func (st *stream) flush(pw rtsp.PacketWriter) error {
	if len(st.ends) == 0 {
		return nil
	}
	st.ps = st.ps[:0]
	start := 0
	for _, end := range st.ends {
		st.ps = append(st.ps, rtsp.Packet{Stream: st.idx, Data: st.batch[start:end]})
		start = end
	}
	err := pw.WritePackets(st.ps)
	clear(st.ps)
	st.batch, st.ends = st.batch[:0], st.ends[:0]
	return err
}

// withExtension returns pkt with the ONVIF replay extension inserted after
// the 12-byte header:
//
//	| 0xABAC | length = 3 | NTP seconds | NTP fraction | C E D T 0000 | CSeq | 0 0 |
func (st *stream) withExtension(pkt []byte, f frame, cseq byte) []byte {
	flags := f.flags
	if f.key {
		flags |= flagClean
	}
	b := append(st.scratch[:0], pkt[:12]...)
	b[0] |= 0x10 // X
	b = binary.BigEndian.AppendUint16(b, onvifProfile)
	b = binary.BigEndian.AppendUint16(b, 3)
	b = binary.BigEndian.AppendUint64(b, fmp4.NTPTime(f.wall))
	b = append(b, flags, cseq, 0, 0)
	b = append(b, pkt[12:]...)
	st.scratch = b
	return b
}

// cname is the SDES CNAME of every stream (RFC 3550 §6.5.1).
const cname = "camvault"

// senderReport writes an RTCP SR (RTCP-05/06) mapping the last timestamp
// sent to its capture time, when one is due, as a compound packet with an
// SDES CNAME (RTCP-01).
func (st *stream) senderReport(out rtsp.Output, now time.Time, every time.Duration) error {
	if !st.sent || (!st.srAt.IsZero() && now.Sub(st.srAt) < every) {
		return nil
	}
	return st.report(out, st.lastTS, st.lastWall, now)
}

// report writes an SR and SDES CNAME mapping timestamp ts to the capture
// time wall. A play sends one just before its first packet of each stream,
// mapping that packet's timestamp: the client then knows the wall clock of
// a new position (a seek, a resume) with its first frame, not one timer
// period later.
func (st *stream) report(out rtsp.Output, ts uint32, wall, now time.Time) error {
	st.srAt, st.sent = now, false
	st.rtcp = st.appendSDES(st.appendSR(st.rtcp[:0], ts, wall))
	return out.WriteRTCP(st.idx, st.rtcp)
}

// bye writes SR, SDES and BYE in one compound packet (RTSP-M-26). A lone
// BYE is 8 bytes, and ffmpeg drops RTP/RTCP packets shorter than 12 bytes
// unread, so it would never see the end.
func (st *stream) bye(out rtsp.Output) error {
	b := st.appendSDES(st.appendSR(st.rtcp[:0], st.lastTS, st.lastWall))
	b = append(b, 0x81, 203, 0, 1)
	b = binary.BigEndian.AppendUint32(b, st.ssrc)
	st.rtcp = b
	return out.WriteRTCP(st.idx, b)
}

// SR: |V=2|P|RC=0| PT=200 | length=6 | SSRC | NTP (64) | RTP ts | packets | octets |
// NTP is the capture time wall of the instant that RTP timestamp ts stands for.
func (st *stream) appendSR(b []byte, ts uint32, wall time.Time) []byte {
	b = append(b, 0x80, 200, 0, 6)
	b = binary.BigEndian.AppendUint32(b, st.ssrc)
	b = binary.BigEndian.AppendUint64(b, fmp4.NTPTime(wall))
	b = binary.BigEndian.AppendUint32(b, ts)
	b = binary.BigEndian.AppendUint32(b, st.packets)
	return binary.BigEndian.AppendUint32(b, st.octets)
}

// SDES: |V=2|P|SC=1| PT=202 | length | SSRC | CNAME=1 | len | text | 0 | pad to 32 bits |
func (st *stream) appendSDES(b []byte) []byte {
	n := 4 + 4 + 2 + len(cname) + 1
	n = (n + 3) &^ 3
	b = append(b, 0x81, 202)
	b = binary.BigEndian.AppendUint16(b, uint16(n/4-1))
	b = binary.BigEndian.AppendUint32(b, st.ssrc)
	b = append(b, 1, byte(len(cname)))
	b = append(b, cname...)
	for pad := n - (4 + 4 + 2 + len(cname)); pad > 0; pad-- {
		b = append(b, 0)
	}
	return b
}

package media_test

import (
	"encoding/base64"
	"encoding/binary"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/internal/mediatest"
)

// Parameter sets used across tests (package mediatest): h264SPS/h264PPS are the
// sprop-parameter-sets of the RTSP.md §14.1 reference SDP (1280x720); the H.265 ones come
// from a 320x240 libx265 clip; h264SPS2 is a different SPS (Baseline, 640x480) for
// parameter-change tests.
var (
	h264SPS  = mediatest.H264SPS
	h264PPS  = mediatest.H264PPS
	h265VPS  = mediatest.H265VPS
	h265SPS  = mediatest.H265SPS
	h265PPS  = mediatest.H265PPS
	h264SPS2 = mediatest.H264SPS2
	h264PPS2 = mediatest.H264PPS2
)

const (
	h264SPSB64 = mediatest.H264SPSBase64
	h264PPSB64 = mediatest.H264PPSBase64
)

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// pkt builds an RTP packet.
func pkt(seq uint16, ts uint32, marker bool, payload ...[]byte) *rtp.Packet {
	var p []byte
	for _, b := range payload {
		p = append(p, b...)
	}
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, Marker: marker, SequenceNumber: seq, Timestamp: ts, PayloadType: 96},
		Payload: p,
	}
}

// avcc joins NAL units as 4-byte length-prefixed units, the Unit.Data format.
func avcc(nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	return b
}

// seq returns n bytes 0, 1, 2, ... after the given prefix.
func seqBytes(prefix []byte, n int) []byte {
	b := append([]byte(nil), prefix...)
	for i := range n {
		b = append(b, byte(i))
	}
	return b
}

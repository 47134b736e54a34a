package media_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/pion/rtp"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/media"
)

// h264Frame returns an IDR access unit of about size bytes: an SEI then one IDR slice.
func h264Frame(size int) []byte {
	return avcc(h264SEI, seqBytes([]byte{0x65}, size-len(h264SEI)-9))
}

// h265Frame returns an IDR_W_RADL access unit of about size bytes in one NAL unit.
func h265Frame(size int) []byte {
	return avcc(seqBytes([]byte{0x26, 0x01}, size-6))
}

// h264Units returns a GOP: a key unit of keySize bytes, then n-1 P frames of pSize bytes,
// 3000 ticks apart.
func h264Units(keySize, pSize, n int) []media.Unit {
	units := []media.Unit{{PTS: 1000, Data: h264Frame(keySize), Key: true}}
	for i := 1; i < n; i++ {
		slice := seqBytes([]byte{0x41, byte(i)}, pSize-6)
		units = append(units, media.Unit{PTS: 1000 + uint32(i)*3000, Data: avcc(slice)})
	}
	return units
}

// firstPayloads returns the payloads of the first n packets.
func firstPayloads(packets []*rtp.Packet, n int) [][]byte {
	var out [][]byte
	for _, p := range packets[:min(n, len(packets))] {
		out = append(out, p.Payload)
	}
	return out
}

func TestPacketizeH264RoundTrip(t *testing.T) {
	t.Parallel()
	stapA := append([]byte{0x78}, append(u16(h264SPS), u16(h264PPS)...)...)
	multi := []media.Unit{
		{PTS: 0, Data: avcc(h264SEI, h264IDR, seqBytes([]byte{0x65}, 4000)), Key: true},
		{PTS: 3000, Data: avcc(h264Slice, seqBytes([]byte{0x01}, 2000))},
	}
	runRoundTrips(t, []rtCase{
		{name: "PL-H264-10 15 KB key frame FU-A at 1400, STAP-A SPS PPS first",
			track: h264Ready, cfg: media.PacketizerConfig{PayloadType: 96, SSRC: 0xCAFE, InitialSeq: 100},
			units: h264Units(15000, 1200, 5),
			check: func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
				if !bytes.Equal(packets[0].Payload, stapA) {
					t.Errorf("first payload % x, want the STAP-A % x", packets[0].Payload, stapA)
				}
				// RTSP.md §15.1: FU-A of an IDR, 7C 85 first, 7C 05 middle, 7C 45 last.
				if p := packets[2].Payload; p[0] != 0x7C || p[1] != 0x85 {
					t.Errorf("IDR first FU-A header % x", p[:2])
				}
				if p := packets[3].Payload; p[0] != 0x7C || p[1] != 0x05 || len(p) != 1400 {
					t.Errorf("IDR middle FU-A header % x, %d bytes", p[:2], len(p))
				}
			}},
		{name: "PL-H264-08 depacketizer learns SPS PPS from the injected STAP-A",
			track: h264Ready, dep: &h264Track, units: h264Units(3000, 500, 3),
			check: func(t *testing.T, _ []*rtp.Packet, dep *media.Track) {
				if !bytes.Equal(dep.SPS, h264SPS) || !bytes.Equal(dep.PPS, h264PPS) || dep.Width != 1280 {
					t.Errorf("depacketizer track: %+v", dep)
				}
			}},
		{name: "SPS PPS sent again before every key unit",
			track: h264Ready, units: append(h264Units(3000, 500, 2), h264Units(3000, 500, 2)...),
			check: func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
				n := 0
				for _, p := range packets {
					if bytes.Equal(p.Payload, stapA) {
						n++
					}
				}
				if n != 2 {
					t.Errorf("%d STAP-A, want 2", n)
				}
			}},
		{name: "PL-H264-03 several NAL units per AU", track: h264Ready, units: multi},
		{name: "RTP-10 sequence wraps at 65535", track: h264Ready,
			cfg: media.PacketizerConfig{InitialSeq: 65530}, units: h264Units(15000, 3000, 3)},
		{name: "RTP-11 max payload 3: one byte per FU-A", track: h264Ready,
			cfg: media.PacketizerConfig{MaxPayload: 3, InitialSeq: 65000}, units: h264Units(1500, 300, 2)},
		{name: "SPS larger than max payload goes as FU-A, PPS single", track: h264Ready,
			cfg: media.PacketizerConfig{MaxPayload: 20}, units: h264Units(500, 100, 2),
			check: func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
				p := firstPayloads(packets, 3)
				if p[0][0] != 0x7C || p[0][1] != 0x87 || p[1][0] != 0x7C || p[1][1] != 0x47 || !bytes.Equal(p[2], h264PPS) {
					t.Errorf("SPS not in FU-A: % x", p)
				}
			}},
		{name: "max payload 256", track: h264Ready,
			cfg: media.PacketizerConfig{MaxPayload: 256}, units: h264Units(15000, 1460, 4)},
		{name: "max payload 1460", track: h264Ready,
			cfg: media.PacketizerConfig{MaxPayload: 1460}, units: h264Units(15000, 1460, 4)},
		{name: "NAL unit exactly max payload is single", track: h264Ready,
			cfg:   media.PacketizerConfig{MaxPayload: 100},
			units: []media.Unit{{PTS: 9, Data: avcc(seqBytes([]byte{0x41}, 99), seqBytes([]byte{0x41}, 100))}},
			check: func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
				if len(packets) != 3 || len(packets[0].Payload) != 100 || packets[1].Payload[0] != 0x5C {
					t.Errorf("%d packets", len(packets))
				}
			}},
		{name: "track without parameter sets sends none", track: h264Track, units: h264Units(2000, 100, 2),
			check: func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
				if packets[0].Payload[0]&0x1F == 24 {
					t.Error("STAP-A without parameter sets")
				}
			}},
	})
}

func TestPacketizeH265RoundTrip(t *testing.T) {
	t.Parallel()
	ap := append([]byte{0x60, 0x01}, append(u16(h265VPS), append(u16(h265SPS), u16(h265PPS)...)...)...)
	trail := func(pts uint32, n int) media.Unit {
		return media.Unit{PTS: pts, Data: avcc(seqBytes([]byte{0x02, 0x01}, n))}
	}
	cra := media.Unit{PTS: 9000, Data: avcc(h265CRA, seqBytes([]byte{0x2A, 0x01}, 3000)), Key: true}
	units := []media.Unit{{PTS: 0, Data: h265Frame(15000), Key: true}, trail(3000, 1398), trail(6000, 1399), cra}
	runRoundTrips(t, []rtCase{
		{name: "PL-H265-03 15 KB IRAP as FU, AP with VPS SPS PPS first", track: h265Ready,
			cfg: media.PacketizerConfig{PayloadType: 97, InitialSeq: 65533}, units: units,
			check: func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
				if !bytes.Equal(packets[0].Payload, ap) {
					t.Errorf("first payload % x, want the AP % x", packets[0].Payload, ap)
				}
				// RTSP.md §15.2: FU of an IDR_W_RADL: 62 01 | 93 first, 13 middle, 53 last.
				p := firstPayloads(packets, 3)
				if !bytes.HasPrefix(p[1], []byte{0x62, 0x01, 0x93}) || !bytes.HasPrefix(p[2], []byte{0x62, 0x01, 0x13}) {
					t.Errorf("FU headers % x / % x", p[1][:3], p[2][:3])
				}
			}},
		{name: "PL-H265-05 depacketizer learns VPS SPS PPS from the AP", track: h265Ready, dep: &h265Track,
			units: units,
			check: func(t *testing.T, _ []*rtp.Packet, dep *media.Track) {
				if !dep.Ready() || !bytes.Equal(dep.VPS, h265VPS) || dep.Width != 320 {
					t.Errorf("depacketizer track: %+v", dep)
				}
			}},
		{name: "RTP-11 max payload 4: one byte per FU", track: h265Ready,
			cfg: media.PacketizerConfig{MaxPayload: 4}, units: []media.Unit{{Data: h265Frame(700), Key: true}, trail(3000, 50)}},
		{name: "parameter sets too large for an AP go one by one", track: h265Ready,
			cfg: media.PacketizerConfig{MaxPayload: 40}, units: units,
			check: func(t *testing.T, packets []*rtp.Packet, _ *media.Track) {
				if !bytes.Equal(packets[0].Payload, h265VPS) {
					t.Errorf("first payload % x, want the VPS", packets[0].Payload)
				}
			}},
	})
}

// h264RoundTrips reports whether the depacketizer gives unit back unchanged: valid AVCC
// whose NAL units it keeps (no parameter sets, AUD, filler, Annex-B start codes) and
// whose count is within the default limit. It also reports whether Packetize must accept it.
func h264RoundTrips(unit []byte) (roundTrips, accepted bool) {
	if len(unit) == 0 {
		return false, false
	}
	roundTrips, n := true, 0
	for len(unit) > 0 {
		if len(unit) < 4 {
			return false, false
		}
		l := binary.BigEndian.Uint32(unit)
		if l == 0 || uint64(l) > uint64(len(unit)-4) {
			return false, false
		}
		nal := unit[4 : 4+l]
		switch typ := nal[0] & 0x1F; {
		case typ == 0 || typ >= 24:
			return false, false
		case typ == 7 || typ == 8 || typ == 9 || typ == 12 || bytes.Contains(nal, []byte{0, 0, 1}):
			roundTrips = false
		}
		unit = unit[4+l:]
		n++
	}
	return roundTrips && n <= media.DefaultMaxNALUs, true
}

// hasIDR reports whether a valid AVCC unit holds an IDR slice.
func hasIDR(unit []byte) bool {
	for len(unit) > 4 {
		l := binary.BigEndian.Uint32(unit)
		if unit[4]&0x1F == 5 {
			return true
		}
		unit = unit[4+l:]
	}
	return false
}

// FuzzPacketizeH264 packetizes arbitrary bytes as an H.264 unit: Packetize must not panic,
// must accept exactly the well-formed AVCC units (and emit nothing otherwise), must keep
// the header invariants of packetizeAll, and the depacketizer must return a unit it keeps
// unchanged byte for byte, all within the allocation bound parseAlloc. Crashers found:
// none so far.
func FuzzPacketizeH264(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input byte by byte.
	for _, u := range h264Units(300, 60, 2) {
		f.Add(u.Data, uint16(0), u.Key)
		f.Add(u.Data, uint16(97), u.Key)
	}
	f.Add(avcc(h264SEI, h264IDR, h264Slice), uint16(1), true)
	f.Add(avcc(h264AUD, h264SPS, h264PPS, h264IDR), uint16(30), true)
	f.Add(append(annexB4, h264IDR...), uint16(1400), false)
	f.Add([]byte{0, 0, 0, 2, 0x7C, 0x85}, uint16(5), false)
	f.Fuzz(func(t *testing.T, unit []byte, maxPayload uint16, key bool) {
		alloctest.Check(t, parseAlloc, len(unit), func() {
			cfg := media.PacketizerConfig{PayloadType: 96, SSRC: 7, MaxPayload: 3 + int(maxPayload)%1500,
				InitialSeq: 65535 - uint16(len(unit)%5)}
			tr := h264Ready
			p, err := media.NewPacketizer(&tr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			emitted := 0
			err = p.Packetize(1, unit, key, func([]byte) { emitted++ })
			roundTrips, accepted := h264RoundTrips(unit)
			if (err == nil) != accepted || (err != nil && emitted != 0) {
				t.Fatalf("err = %v after %d packets, accepted %v", err, emitted, accepted)
			}
			if !roundTrips {
				return
			}
			units := []media.Unit{{PTS: 1, Data: unit, Key: key}}
			pz := packetizeAll(t, &tr, cfg, units)
			checkMarkers(t, pz, units, markerLastOfUnit)
			dep := h264Ready
			got, _ := depacketize(t, &dep, media.Limits{}, pz.packets)
			compareRoundTrip(t, got, []media.Unit{{PTS: 1, Data: unit, Key: hasIDR(unit)}})
		})
	})
}

func BenchmarkPacketizeH264(b *testing.B) {
	frame := h264Units(15000, 0, 1)[0].Data
	b.Run("15KB P frame", func(b *testing.B) {
		benchPacketize(b, h264Ready, media.PacketizerConfig{}, frame, false)
	})
	b.Run("15KB key frame with STAP-A", func(b *testing.B) {
		benchPacketize(b, h264Ready, media.PacketizerConfig{}, frame, true)
	})
}

func BenchmarkPacketizeH265(b *testing.B) {
	benchPacketize(b, h265Ready, media.PacketizerConfig{}, h265Frame(15000), true)
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/media"
)

// benchClip is a pre-encoded clip turned into RTP once, shared read-only by
// every bench session: per-tick batches of interleaved frames (TCP) and the
// same packets as datagrams (UDP).
type benchClip struct {
	sdp         []byte
	tracks      []*media.Track
	videoFrames int
	duration    time.Duration
	bytes       int64
	batches     []batch
}

// batch is the packets due at one send time.
type batch struct {
	at          time.Duration
	interleaved []byte   // "$ ch len packet" frames back to back
	datagrams   [][]byte // RTP packets, for UDP
	streams     []int    // stream index of each datagram
}

// benchTick groups packets so that a session makes one write per tick.
const benchTick = 20 * time.Millisecond

// ensureClip returns the path of a cached H.264+AAC fMP4 clip of the given
// length, encoding it with ffmpeg the first time.
func ensureClip(ctx context.Context, dir string, seconds int, bitrate string) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("camvault-bench-720p25-%s-%ds.mp4", bitrate, seconds))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp := path + ".tmp.mp4"
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", fmt.Sprint(seconds), "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
		"-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate, "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "96k", "-ac", "2", "-movflags", "frag_keyframe+empty_moov+default_base_moof", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("encode bench clip: %v\n%s", err, out)
	}
	return path, os.Rename(tmp, path)
}

// loadClip reads a fragmented MP4 with one H.264 and one AAC track and
// packetizes it into send batches.
func loadClip(path string) (*benchClip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mf, err := mp4.DecodeFile(f)
	if err != nil {
		return nil, fmt.Errorf("decode clip: %w", err)
	}
	if mf.Init == nil || len(mf.Init.Moov.Traks) != 2 {
		return nil, fmt.Errorf("clip must be fragmented MP4 with two tracks")
	}
	c := &benchClip{}
	var pkts []timedPacket
	for i, trak := range mf.Init.Moov.Traks {
		t, err := clipTrack(trak, i)
		if err != nil {
			return nil, err
		}
		c.tracks = append(c.tracks, t)
		p, frames, dur, err := packetizeTrack(mf, trak, t, i)
		if err != nil {
			return nil, err
		}
		if t.IsVideo() {
			c.videoFrames, c.duration = frames, dur
		}
		pkts = append(pkts, p...)
	}
	c.sdp = clipSDP(c.tracks)
	c.batches = makeBatches(pkts)
	for _, p := range pkts {
		c.bytes += int64(len(p.data))
	}
	return c, nil
}

func clipTrack(trak *mp4.TrakBox, i int) (*media.Track, error) {
	stsd := trak.Mdia.Minf.Stbl.Stsd
	control := fmt.Sprintf("streamid=%d", i)
	switch {
	case stsd.AvcX != nil && stsd.AvcX.AvcC != nil:
		avcc := stsd.AvcX.AvcC
		return &media.Track{Control: control, PayloadType: 96, Codec: media.CodecH264, ClockRate: 90000,
			SPS: avcc.SPSnalus[0], PPS: avcc.PPSnalus[0], Width: int(stsd.AvcX.Width), Height: int(stsd.AvcX.Height)}, nil
	case stsd.Mp4a != nil && stsd.Mp4a.Esds != nil:
		asc := stsd.Mp4a.Esds.DecConfigDescriptor.DecSpecificInfo.DecConfig
		return &media.Track{Control: control, PayloadType: 97, Codec: media.CodecAAC,
			ClockRate: trak.Mdia.Mdhd.Timescale, Channels: stsd.Mp4a.ChannelCount, AudioConfig: asc,
			SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}, nil
	}
	return nil, fmt.Errorf("clip track %d is neither H.264 nor AAC", i)
}

type timedPacket struct {
	at     time.Duration
	stream int
	data   []byte
}

// packetizeTrack turns a track's samples into RTP packets sent at their
// decode times (video in decode order, as an encoder sends).
func packetizeTrack(mf *mp4.File, trak *mp4.TrakBox, t *media.Track, stream int) ([]timedPacket, int, time.Duration, error) {
	pz, err := media.NewPacketizer(t, media.PacketizerConfig{PayloadType: t.PayloadType,
		SSRC: 0x10000000 + uint32(stream), InitialSeq: uint16(1000 * (stream + 1)), MaxPayload: 1400})
	if err != nil {
		return nil, 0, 0, err
	}
	ts := int64(trak.Mdia.Mdhd.Timescale)
	var trex *mp4.TrexBox
	for _, tx := range mf.Init.Moov.Mvex.Trexs {
		if tx.TrackID == trak.Tkhd.TrackID {
			trex = tx
		}
	}
	if trex == nil {
		return nil, 0, 0, fmt.Errorf("clip track %d has no trex", trak.Tkhd.TrackID)
	}
	var out []timedPacket
	frames, end := 0, int64(0)
	for _, seg := range mf.Segments {
		for _, frag := range seg.Fragments {
			samples, err := frag.GetFullSamples(trex)
			if err != nil {
				return nil, 0, 0, err
			}
			for _, s := range samples {
				if s.Size == 0 {
					continue
				}
				// RTP time is in the track's clock rate, the file's in its
				// timescale (ffmpeg writes 12800 for 25 fps video).
				rtpTS := int64(s.PresentationTime()) * int64(t.ClockRate) / ts
				at := time.Duration(int64(s.DecodeTime) * int64(time.Second) / ts)
				err := pz.Packetize(uint32(rtpTS), s.Data, s.IsSync(), func(pkt []byte) {
					out = append(out, timedPacket{at: at, stream: stream, data: bytes.Clone(pkt)})
				})
				if err != nil {
					return nil, 0, 0, err
				}
				frames++
				end = max(end, int64(s.DecodeTime)+int64(s.Dur))
			}
		}
	}
	return out, frames, time.Duration(end * int64(time.Second) / ts), nil
}

// makeBatches groups packets by send tick.
func makeBatches(pkts []timedPacket) []batch {
	sort.SliceStable(pkts, func(i, j int) bool { return pkts[i].at < pkts[j].at })
	var out []batch
	for _, p := range pkts {
		at := p.at.Truncate(benchTick)
		if len(out) == 0 || out[len(out)-1].at != at {
			out = append(out, batch{at: at})
		}
		b := &out[len(out)-1]
		b.interleaved = append(b.interleaved, '$', byte(2*p.stream), 0, 0)
		binary.BigEndian.PutUint16(b.interleaved[len(b.interleaved)-2:], uint16(len(p.data)))
		b.interleaved = append(b.interleaved, p.data...)
		b.datagrams = append(b.datagrams, p.data)
		b.streams = append(b.streams, p.stream)
	}
	return out
}

// clipSDP is the ANNOUNCE body a publisher such as ffmpeg would send.
func clipSDP(tracks []*media.Track) []byte {
	var b bytes.Buffer
	b.WriteString("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=camvault bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n")
	for _, t := range tracks {
		switch t.Codec {
		case media.CodecH264:
			fmt.Fprintf(&b, "m=video 0 RTP/AVP %d\r\na=rtpmap:%d H264/90000\r\n", t.PayloadType, t.PayloadType)
			fmt.Fprintf(&b, "a=fmtp:%d packetization-mode=1; sprop-parameter-sets=%s,%s; profile-level-id=%s\r\n",
				t.PayloadType, base64.StdEncoding.EncodeToString(t.SPS), base64.StdEncoding.EncodeToString(t.PPS),
				hex.EncodeToString(t.SPS[1:4]))
		case media.CodecAAC:
			fmt.Fprintf(&b, "m=audio 0 RTP/AVP %d\r\na=rtpmap:%d MPEG4-GENERIC/%d/%d\r\n", t.PayloadType, t.PayloadType, t.ClockRate, t.Channels)
			fmt.Fprintf(&b, "a=fmtp:%d profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=%s\r\n",
				t.PayloadType, hex.EncodeToString(t.AudioConfig))
		}
		fmt.Fprintf(&b, "a=control:%s\r\n", t.Control)
	}
	return b.Bytes()
}

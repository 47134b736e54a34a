// Package clip turns a pre-encoded fragmented MP4 into RTP packets with send
// times, once, for the load generator (camvault bench) and for tests that
// need recordings of known content. It also encodes such clips with ffmpeg.
package clip

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/media"
)

// Packet is one RTP packet of the clip and when it is due, from the start.
type Packet struct {
	At     time.Duration
	Stream int
	Data   []byte
}

// Clip is a clip ready to be sent: tracks (as an ANNOUNCE would describe
// them) and all packets in send order.
type Clip struct {
	Tracks      []*media.Track
	Packets     []Packet
	VideoFrames int
	Duration    time.Duration
	Bytes       int64
}

// Spec describes a clip to encode.
type Spec struct {
	Seconds int
	FPS     int    // default 25
	Size    string // default "1280x720"
	Bitrate string // e.g. "3M"; "" encodes at a high fixed quality instead
	// NumberedFrames draws each frame's number into its luma: the left half
	// holds seconds*4, the right half (frame in second)*10 (see FrameNumber).
	NumberedFrames bool
	Audio          bool // an AAC 48 kHz stereo track
}

// Encode writes the clip as fragmented MP4 (a keyframe every second) to path.
func Encode(ctx context.Context, path string, s Spec) error {
	if s.FPS == 0 {
		s.FPS = 25
	}
	if s.Size == "" {
		s.Size = "1280x720"
	}
	src := fmt.Sprintf("testsrc2=size=%s:rate=%d", s.Size, s.FPS)
	if s.NumberedFrames {
		src = fmt.Sprintf("color=c=gray:size=%s:rate=%d,format=yuv420p,"+
			"geq=lum='if(lt(X,W/2),trunc(N/%d)*4,mod(N,%d)*10)':cb=128:cr=128", s.Size, s.FPS, s.FPS, s.FPS)
	}
	args := []string{"-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", src}
	if s.Audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
	}
	args = append(args, "-t", fmt.Sprint(s.Seconds), "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
		"-g", fmt.Sprint(s.FPS), "-sc_threshold", "0", "-pix_fmt", "yuv420p") // a keyframe exactly every second
	if s.Bitrate != "" {
		args = append(args, "-b:v", s.Bitrate, "-maxrate", s.Bitrate, "-bufsize", s.Bitrate)
	} else {
		args = append(args, "-qp", "12")
	}
	if s.Audio {
		args = append(args, "-c:a", "aac", "-b:a", "96k", "-ac", "2")
	}
	args = append(args, "-movflags", "frag_keyframe+empty_moov+default_base_moof", path)
	if out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("encode clip: %v\n%s", err, out)
	}
	return nil
}

// FrameNumber reads the number a NumberedFrames clip drew into a decoded
// 8-bit luma frame of width w.
func FrameNumber(gray []byte, w, h, fps int) int {
	left := int(gray[(h/2)*w+w/4])
	right := int(gray[(h/2)*w+3*w/4])
	return (left+2)/4*fps + (right+5)/10
}

// Load reads a fragmented MP4 with an H.264 track and optionally an AAC
// track and packetizes it: video in decode order at decode times.
func Load(path string) (*Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mf, err := mp4.DecodeFile(f)
	if err != nil {
		return nil, fmt.Errorf("decode clip: %w", err)
	}
	if mf.Init == nil || len(mf.Init.Moov.Traks) == 0 {
		return nil, fmt.Errorf("clip must be fragmented MP4")
	}
	c := &Clip{}
	for i, trak := range mf.Init.Moov.Traks {
		t, err := trackOf(trak, i)
		if err != nil {
			return nil, err
		}
		c.Tracks = append(c.Tracks, t)
		frames, dur, err := c.packetize(mf, trak, t, i)
		if err != nil {
			return nil, err
		}
		if t.IsVideo() {
			c.VideoFrames, c.Duration = frames, dur
		}
	}
	sort.SliceStable(c.Packets, func(i, j int) bool { return c.Packets[i].At < c.Packets[j].At })
	for _, p := range c.Packets {
		c.Bytes += int64(len(p.Data))
	}
	return c, nil
}

func trackOf(trak *mp4.TrakBox, i int) (*media.Track, error) {
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

// packetize appends a track's packets; RTP time is in the track's clock
// rate, the file's in its timescale (ffmpeg writes 12800 for 25 fps video).
func (c *Clip) packetize(mf *mp4.File, trak *mp4.TrakBox, t *media.Track, stream int) (int, time.Duration, error) {
	pz, err := media.NewPacketizer(t, media.PacketizerConfig{PayloadType: t.PayloadType,
		SSRC: 0x10000000 + uint32(stream), InitialSeq: uint16(1000 * (stream + 1))})
	if err != nil {
		return 0, 0, err
	}
	ts := int64(trak.Mdia.Mdhd.Timescale)
	var trex *mp4.TrexBox
	for _, tx := range mf.Init.Moov.Mvex.Trexs {
		if tx.TrackID == trak.Tkhd.TrackID {
			trex = tx
		}
	}
	if trex == nil {
		return 0, 0, fmt.Errorf("clip track %d has no trex", trak.Tkhd.TrackID)
	}
	frames, end := 0, int64(0)
	for _, seg := range mf.Segments {
		for _, frag := range seg.Fragments {
			samples, err := frag.GetFullSamples(trex)
			if err != nil {
				return 0, 0, err
			}
			for _, s := range samples {
				if s.Size == 0 {
					continue
				}
				rtpTS := int64(s.PresentationTime()) * int64(t.ClockRate) / ts
				at := time.Duration(int64(s.DecodeTime) * int64(time.Second) / ts)
				err := pz.Packetize(uint32(rtpTS), s.Data, s.IsSync(), func(pkt []byte) {
					c.Packets = append(c.Packets, Packet{At: at, Stream: stream, Data: bytes.Clone(pkt)})
				})
				if err != nil {
					return 0, 0, err
				}
				frames++
				end = max(end, int64(s.DecodeTime)+int64(s.Dur))
			}
		}
	}
	return frames, time.Duration(end * int64(time.Second) / ts), nil
}

// SDP is the ANNOUNCE body a publisher such as ffmpeg would send.
func (c *Clip) SDP() []byte {
	var b bytes.Buffer
	b.WriteString("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=camvault clip\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n")
	for _, t := range c.Tracks {
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

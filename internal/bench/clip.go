package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/media"
)

// Packet is one RTP packet of a clip and when it is due.
type Packet struct {
	// At is the packet's send time from the start of the clip: its access
	// unit's decode time.
	At time.Duration
	// Stream is the index of the packet's track in Clip.Tracks.
	Stream int
	// Data is the whole RTP packet.
	Data []byte
}

// Clip is a clip ready to be sent: its tracks (as an ANNOUNCE describes
// them) and all its RTP packets in send order. It is read-only once
// loaded and may be shared by any number of goroutines.
type Clip struct {
	// Tracks are the clip's tracks; their Control is "streamid=<index>".
	Tracks []*media.Track
	// Packets are every track's packets, sorted by At.
	Packets []Packet
	// VideoFrames is the number of video access units.
	VideoFrames int
	// Duration is the video track's duration.
	Duration time.Duration
	// Bytes is the total size of the RTP packets.
	Bytes int64
}

// ClipSpec describes a clip for EncodeClip.
type ClipSpec struct {
	// Seconds is the clip's length.
	Seconds int
	// FPS is the video frame rate. Defaults to 25.
	FPS int
	// Size is the video size, WxH. Defaults to "1280x720".
	Size string
	// Bitrate is the video bitrate, e.g. "3M"; "" encodes at a high fixed
	// quality instead.
	Bitrate string
	// Video is the lavfi video source graph. Defaults to ffmpeg's testsrc2
	// pattern at Size and FPS.
	Video string
	// Audio adds an AAC 48 kHz stereo track (a 440 Hz sine).
	Audio bool
	// GOP is the number of frames from one keyframe to the next. Defaults
	// to FPS: a keyframe every second.
	GOP int
}

// EncodeClip runs ffmpeg to write the clip as fragmented MP4 to path:
// H.264 with a keyframe exactly every GOP frames (every second by
// default), and AAC with Audio.
func EncodeClip(ctx context.Context, path string, s ClipSpec) error {
	if s.FPS == 0 {
		s.FPS = 25
	}
	if s.GOP == 0 {
		s.GOP = s.FPS
	}
	if s.Size == "" {
		s.Size = "1280x720"
	}
	if s.Video == "" {
		s.Video = fmt.Sprintf("testsrc2=size=%s:rate=%d", s.Size, s.FPS)
	}
	if out, err := exec.CommandContext(ctx, "ffmpeg", encodeArgs(path, s)...).CombinedOutput(); err != nil {
		return fmt.Errorf("encode clip: %w\n%s", err, out)
	}
	return nil
}

// encodeArgs returns ffmpeg's arguments for EncodeClip with defaults applied.
func encodeArgs(path string, s ClipSpec) []string {
	args := []string{"-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", s.Video}
	if s.Audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
	}
	args = append(args, "-t", fmt.Sprint(s.Seconds), "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
		"-g", fmt.Sprint(s.GOP), "-sc_threshold", "0", "-pix_fmt", "yuv420p") // a keyframe exactly every GOP frames
	if s.Bitrate != "" {
		args = append(args, "-b:v", s.Bitrate, "-maxrate", s.Bitrate, "-bufsize", s.Bitrate)
	} else {
		args = append(args, "-qp", "12")
	}
	if s.Audio {
		args = append(args, "-c:a", "aac", "-b:a", "96k", "-ac", "2")
	}
	return append(args, "-movflags", "frag_keyframe+empty_moov+default_base_moof", path)
}

// benchFPS is the frame rate of the bench clip.
const benchFPS = 25

// benchClipPath is where the bench caches its clip of the given length,
// bitrate and GOP (in frames) in dir.
func benchClipPath(dir string, seconds int, bitrate string, gop int) string {
	name := fmt.Sprintf("camvault-bench-720p25-%s-%ds", bitrate, seconds)
	if gop != benchFPS {
		name += fmt.Sprintf("-g%d", gop)
	}
	return filepath.Join(dir, name+".mp4")
}

// clipOptions are the flags that choose the bench clip; every benchmark has them.
type clipOptions struct {
	duration time.Duration
	bitrate  string
	cacheDir string
	gop      time.Duration // keyframe interval; 0 is a second (bench live and play have -gop)
}

// register adds -duration (described by durationUsage), -bitrate and -cache to fs.
func (o *clipOptions) register(fs *flag.FlagSet, durationUsage string) {
	fs.DurationVar(&o.duration, "duration", time.Minute, durationUsage)
	fs.StringVar(&o.bitrate, "bitrate", "3M", "video bitrate of the 720p25 H.264+AAC clip")
	fs.StringVar(&o.cacheDir, "cache", os.TempDir(), "directory where the encoded clip is cached")
}

// load returns the path of the clip and the clip, encoding it on first use.
func (o *clipOptions) load(ctx context.Context) (string, *Clip, error) {
	path, err := ensureClip(ctx, o.cacheDir, int(o.duration.Seconds()), o.bitrate, o.gopFrames())
	if err != nil {
		return "", nil, err
	}
	c, err := LoadClip(path)
	return path, c, err
}

// gopFrames is the keyframe interval in frames of the clip.
func (o *clipOptions) gopFrames() int {
	if o.gop <= 0 {
		return benchFPS
	}
	return int(o.gop * benchFPS / time.Second)
}

// schedule is load, with the clip's packets grouped by tick.
func (o *clipOptions) schedule(ctx context.Context, tick time.Duration) (string, *schedule, error) {
	path, c, err := o.load(ctx)
	if err != nil {
		return "", nil, err
	}
	s, err := newSchedule(c, tick)
	return path, s, err
}

// ensureClip returns the path of the bench's cached H.264+AAC 720p25 clip
// of the given length, bitrate and GOP (frames), encoding it with ffmpeg
// the first time.
func ensureClip(ctx context.Context, dir string, seconds int, bitrate string, gop int) (string, error) {
	path := benchClipPath(dir, seconds, bitrate, gop)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp := path + ".tmp.mp4"
	if err := EncodeClip(ctx, tmp, ClipSpec{Seconds: seconds, FPS: benchFPS, Bitrate: bitrate, Audio: true, GOP: gop}); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// LoadClip reads a fragmented MP4 with an H.264 track and optionally an
// AAC track and packetizes it: video in decode order at decode times.
func LoadClip(path string) (*Clip, error) {
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
		return nil, errors.New("clip must be fragmented MP4")
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

// SDP returns the description of the clip's tracks that a publisher
// announces and a camera answers DESCRIBE with.
func (c *Clip) SDP() []byte {
	return media.MarshalSDP(c.Tracks, media.SDPOptions{SessionName: "camvault clip"})
}

package ingest

import (
	"context"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/camvault/camvault/rtsp"
)

// PullState is where a pulled camera is in its life.
type PullState uint8

// Pulled camera states.
const (
	// PullIdle: outside its schedule, or Pull is not running.
	PullIdle PullState = iota
	// PullConnecting: dialling, authenticating, DESCRIBE, SETUP or PLAY,
	// or opening the recording.
	PullConnecting
	// PullRecording: media flows into the recording.
	PullRecording
	// PullBackingOff: the last session failed; the camera is dialled again
	// at CameraState.NextRetry.
	PullBackingOff
	// PullLive: connected for live viewers only, outside the camera's
	// recording windows (or an on-demand camera); nothing is recorded.
	PullLive
)

// String returns "idle", "connecting", "recording", "backing-off" or
// "live".
func (s PullState) String() string {
	switch s {
	case PullIdle:
		return "idle"
	case PullConnecting:
		return "connecting"
	case PullRecording:
		return "recording"
	case PullBackingOff:
		return "backing-off"
	case PullLive:
		return "live"
	}
	return "PullState(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns String, for JSON and logs.
func (s PullState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// CameraState is a snapshot of one pulled camera, as Pull.States and
// Pull.Camera report it. It holds no credentials.
type CameraState struct {
	// Name is the camera name.
	Name string
	// State is the camera's state, entered at Since.
	State PullState
	Since time.Time
	// LastError is the last failure, without credentials; it is kept after
	// a later success. LastErrorTime is when it happened.
	LastError     string
	LastErrorTime time.Time
	// NextRetry is when a backing-off camera connects again; zero in the
	// other states.
	NextRetry time.Time
	// Transport is what the camera is pulled over: "tcp" or "udp" as
	// configured, or the other one once the camera refused that with 461.
	Transport string
	// Connects counts the sessions that reached PLAY and opened a
	// recording.
	Connects uint64
	// Packets and Bytes count the RTP packets received over all sessions
	// and their bytes; LastPacket is when the last one arrived.
	Packets, Bytes uint64
	LastPacket     time.Time
}

// States returns a snapshot of every camera, sorted by name.
func (p *Pull) States() []CameraState {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]CameraState, 0, len(p.cams))
	for _, pc := range p.cams {
		out = append(out, pc.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Camera returns a snapshot of the camera called name, if Pull has it.
func (p *Pull) Camera(name string) (CameraState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pc, ok := p.cams[name]
	if !ok {
		return CameraState{}, false
	}
	return pc.snapshot(), true
}

// snapshot is pc's state with the counters of its running session;
// Pull.mu is held.
func (pc *pullCam) snapshot() CameraState {
	st := pc.state
	if pc.client != nil {
		addStats(&st, pc.client.Stats())
	}
	return st
}

func addStats(st *CameraState, cs rtsp.ClientStats) {
	st.Packets += cs.Packets
	st.Bytes += cs.Bytes
	if cs.LastPacket.After(st.LastPacket) {
		st.LastPacket = cs.LastPacket
	}
}

// setState moves pc to state and logs the change in one line: at Warn for
// backing-off (with the error and the delay), at Debug for the retry after
// a back-off (the back-off line announced it), at Info otherwise. A
// non-nil err (already without credentials) becomes LastError; next is
// NextRetry.
func (p *Pull) setState(pc *pullCam, state PullState, err error, next time.Time, attrs ...slog.Attr) {
	now := time.Now()
	p.mu.Lock()
	s := &pc.state
	prev, changed := s.State, s.State != state
	if changed {
		s.State, s.Since = state, now
	}
	if err != nil {
		s.LastError, s.LastErrorTime = err.Error(), now
	}
	s.NextRetry = next
	p.mu.Unlock()
	if !changed {
		return
	}
	level := slog.LevelInfo
	switch {
	case state == PullBackingOff:
		level = slog.LevelWarn
		attrs = append(attrs, slog.Any("err", err), slog.Duration("dur", next.Sub(now)))
	case state == PullConnecting && prev == PullBackingOff:
		level = slog.LevelDebug
	}
	attrs = append(attrs, slog.String("state", state.String()))
	pc.log.LogAttrs(context.Background(), level, "camera state", attrs...)
}

// startSession marks pc recording (or live only) over client c, which
// States then reads the counters of, and counts the connect.
func (p *Pull) startSession(pc *pullCam, c *rtsp.Client, tracks string, recording bool) {
	p.mu.Lock()
	pc.client = c
	pc.state.Connects++
	pc.state.Transport = c.Transport()
	p.mu.Unlock()
	state := PullLive
	if recording {
		state = PullRecording
	}
	p.setState(pc, state, nil, time.Time{}, slog.String("tracks", tracks), slog.String("transport", c.Transport()))
}

// endSession adds the counters of pc's finished session to its totals.
func (p *Pull) endSession(pc *pullCam) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc.client != nil {
		addStats(&pc.state, pc.client.Stats())
		pc.client = nil
	}
}

// transport is the transport pc's next session tries first.
func (p *Pull) transport(pc *pullCam) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return pc.state.Transport
}

package metrics_test

import (
	"maps"
	"testing"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/api/metrics"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
)

// sink adapts the recorder to ingest.Sink, as cmd/camvault does.
type sink struct{ r *recorder.Recorder }

func (s sink) ValidCamera(name string) error { return s.r.ValidCamera(name) }

func (s sink) Open(camera string, tracks []*media.Track, feed ingest.Feed) (ingest.Writer, error) {
	return s.r.Open(camera, tracks, recorder.OpenOptions{Backpressure: feed.TCP})
}

// TestPulledCameraHasSeries configures a pulled camera that has not run yet: it has every
// per-camera series, idle and at zero, beside a pushed camera that recorded.
func TestPulledCameraHasSeries(t *testing.T) {
	f := newFixture(t, metrics.Sources{})
	pull, err := ingest.NewPull(ingest.PullConfig{Sink: sink{f.rec}})
	if err != nil {
		t.Fatal(err)
	}
	pull.Update([]ingest.PullCamera{{Name: "lobby", URL: "rtsp://127.0.0.1:8554/lobby",
		Schedule: ingest.Schedule{Always: true}}})
	m, err := metrics.New(metrics.Sources{Store: f.store, Recorder: f.rec, Pull: pull})
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	f.record(t, "door", 1)
	fams := gather(t, m)
	if got, want := values(fams["camvault_camera_state"]), map[string]float64{"camera=door": 0, "camera=lobby": 0}; !maps.Equal(got, want) {
		t.Errorf("state %v, want %v", got, want)
	}
	if got := values(fams["camvault_camera_recorded_frames_total"]); got["camera=lobby"] != 0 || got["camera=door"] != 25 {
		t.Errorf("frames %v, want 25 for door and 0 for lobby", got)
	}
	rec := f.open(t, "lobby") // what the pull opens once connected
	defer rec.Close()
	if got := values(gather(t, m)["camvault_camera_state"]); got["camera=lobby"] != float64(api.StateRecording) {
		t.Errorf("state %v while lobby records, want %d", got, api.StateRecording)
	}
}

package metrics_test

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/camvault/camvault/api/metrics"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// clock is the recorder's wall clock: the test moves it as it sends media.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// fixture is a real Store in a temporary directory, a real Recorder on it and the metrics
// of both.
type fixture struct {
	store *storage.Store
	rec   *recorder.Recorder
	clock *clock
	m     *metrics.Metrics
}

// newFixture opens the store and the recorder and builds the metrics of src with them;
// everything is closed at the end of tb.
func newFixture(tb testing.TB, src metrics.Sources) *fixture {
	tb.Helper()
	store, err := storage.Open(storage.Config{Dir: tb.TempDir(), Sync: storage.SyncNone})
	if err != nil {
		tb.Fatal(err)
	}
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixNano())
	rec, err := recorder.New(recorder.Config{Now: c.Now}, store)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		rec.Close()
		if err := store.Close(); err != nil {
			tb.Error(err)
		}
	})
	src.Store, src.Recorder = store, rec
	m, err := metrics.New(src)
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{store: store, rec: rec, clock: c, m: m}
}

// cameraSDP is what a camera sending one H.264 track announces.
const cameraSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=camera\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n" +
	"a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1; " +
	"sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA\r\na=control:streamid=0\r\n"

// h264Track returns the track of cameraSDP.
func h264Track(tb testing.TB) *media.Track {
	tb.Helper()
	tracks, err := media.TracksFromSDP([]byte(cameraSDP), media.SDPLimits{})
	if err != nil || len(tracks) != 1 {
		tb.Fatalf("tracks %v: %v", tracks, err)
	}
	return tracks[0]
}

// record sends seconds of 25 fps H.264 with a keyframe a second as a new recording of
// camera (see send); it closes the recording, waits until storage wrote it and returns the
// frames sent.
func (f *fixture) record(tb testing.TB, camera string, seconds int) int {
	tb.Helper()
	rec := f.open(tb, camera)
	frames := f.send(tb, rec, seconds)
	rec.Close()
	rec.Wait()
	return frames
}

// open opens a recording of camera with one H.264 track.
func (f *fixture) open(tb testing.TB, camera string) *recorder.Recording {
	tb.Helper()
	rec, err := f.rec.Open(camera, []*media.Track{h264Track(tb)}, recorder.OpenOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return rec
}

// send sends seconds of 25 fps H.264 with a keyframe a second into rec (see sendMedia); it
// returns the frames sent.
func (f *fixture) send(tb testing.TB, rec *recorder.Recording, seconds int) int {
	tb.Helper()
	frames, err := f.sendMedia(rec, seconds)
	if err != nil {
		tb.Fatal(err)
	}
	return frames
}

// sendMedia sends seconds of 25 fps H.264 with a keyframe a second, packetized by media's
// Packetizer, into rec, moving the clock with the media; it returns the frames sent. It may
// run on a goroutine of its own.
func (f *fixture) sendMedia(rec *recorder.Recording, seconds int) (int, error) {
	tracks, err := media.TracksFromSDP([]byte(cameraSDP), media.SDPLimits{})
	if err != nil {
		return 0, err
	}
	pk, err := media.NewPacketizer(tracks[0], media.PacketizerConfig{PayloadType: 96, SSRC: 7})
	if err != nil {
		return 0, err
	}
	unit := make([]byte, 4+2000)
	binary.BigEndian.PutUint32(unit, uint32(len(unit)-4))
	emit := func(p []byte) { rec.WriteRTP(0, p) }
	frames := seconds * 25
	for i := range frames {
		unit[4] = 0x41 // a non-IDR slice
		if i%25 == 0 {
			unit[4] = 0x65 // an IDR slice
		}
		if err := pk.Packetize(uint32(i*3600), unit, i%25 == 0, emit); err != nil {
			return 0, err
		}
		f.clock.advance(40 * time.Millisecond)
	}
	return frames, nil
}

// observeWrites tells the metrics' storage observer about every fragment storage wrote for
// camera, as storage will once it calls the observer itself: 2 ms writes and 5 ms fsyncs.
func (f *fixture) observeWrites(camera string) {
	obs := f.m.StorageObserver()
	for range f.store.Counters(camera).FragmentsWritten {
		obs.FragmentWritten(camera, 1000, 2*time.Millisecond, 5*time.Millisecond)
	}
}

// gather returns the registry's families by name.
func gather(tb testing.TB, m *metrics.Metrics) map[string]*dto.MetricFamily {
	tb.Helper()
	fams, err := m.Gatherer().Gather()
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// values returns the values of the family's series by their labels ("camera=cam1"; more
// labels are joined with commas, sorted); a histogram's value is its sample count.
func values(fam *dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	if fam == nil {
		return out
	}
	for _, m := range fam.GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		sort.Strings(labels)
		var v float64
		switch {
		case m.Counter != nil:
			v = m.GetCounter().GetValue()
		case m.Gauge != nil:
			v = m.GetGauge().GetValue()
		case m.Histogram != nil:
			v = float64(m.GetHistogram().GetSampleCount())
		default:
			panic(fmt.Sprintf("%s: unexpected metric type", fam.GetName()))
		}
		out[strings.Join(labels, ",")] = v
	}
	return out
}

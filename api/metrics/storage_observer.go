package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// StorageObserver feeds the per-camera write and fsync latency histograms. Storage calls
// FragmentWritten once per fragment (it implements storage.Observer); the histograms forget a
// camera at the first scrape after every source has forgotten it.
type StorageObserver struct {
	write, sync *prometheus.HistogramVec

	// mu guards cams, the cameras with series in the histograms, and their observers (looked
	// up once per camera, not per fragment). Observations take it shared, pruning exclusively,
	// so no observation goes to a series that was just deleted.
	mu   sync.RWMutex
	cams map[string]cameraObservers
}

// cameraBuckets are the buckets, in seconds, of the per-camera latency histograms: fewer
// than latencyBuckets, as every camera has its own series of each.
var cameraBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .5, 2.5}

type cameraObservers struct{ write, sync prometheus.Observer }

// NewStorageObserver returns an observer for storage.Config.Observer, made before the Store is
// opened (the metrics read the Store), and handed to New in Sources.StorageObserver.
func NewStorageObserver() *StorageObserver {
	return &StorageObserver{
		write: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "camvault_camera_write_duration_seconds",
			Help:    "Time storage took to write one fragment of the camera, in seconds.",
			Buckets: cameraBuckets,
		}, []string{"camera"}),
		sync: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "camvault_camera_fsync_duration_seconds",
			Help:    "Time storage took to fsync one fragment of the camera, in seconds (only when it syncs per fragment).",
			Buckets: cameraBuckets,
		}, []string{"camera"}),
		cams: make(map[string]cameraObservers),
	}
}

// FragmentWritten records that a fragment of camera was written in write and synced in
// sync; a zero sync (storage did not sync this fragment) is not observed. Its size is not
// used: storage counts the bytes it writes itself (CameraCounters.BytesWritten).
func (o *StorageObserver) FragmentWritten(camera string, _ int, write, sync time.Duration) {
	o.mu.RLock()
	obs, ok := o.cams[camera]
	if ok {
		obs.observe(write, sync)
		o.mu.RUnlock()
		return
	}
	o.mu.RUnlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	obs, ok = o.cams[camera]
	if !ok {
		obs = cameraObservers{write: o.write.WithLabelValues(camera), sync: o.sync.WithLabelValues(camera)}
		o.cams[camera] = obs
	}
	obs.observe(write, sync)
}

func (c cameraObservers) observe(write, sync time.Duration) {
	c.write.Observe(write.Seconds())
	if sync > 0 {
		c.sync.Observe(sync.Seconds())
	}
}

// prune deletes the series of the cameras that known does not hold.
func (o *StorageObserver) prune(known map[string]*cameraRow) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for name := range o.cams {
		if _, ok := known[name]; !ok {
			o.write.DeleteLabelValues(name)
			o.sync.DeleteLabelValues(name)
			delete(o.cams, name)
		}
	}
}

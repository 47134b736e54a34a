package metrics

import (
	"sync"
	"time"
)

// StorageObserver feeds the per-camera write and fsync latency histograms. Storage calls
// FragmentWritten once per fragment (it implements storage.Observer); the histograms forget a
// camera at the first scrape after every source has forgotten it.
type StorageObserver struct {
	// mu guards cams, the cameras with histograms. Observations take it shared, pruning
	// exclusively, so no observation goes to a camera that was just forgotten.
	mu   sync.RWMutex
	cams map[string]*cameraLatency
}

// cameraLatency are one camera's histograms.
type cameraLatency struct{ write, sync latencyHistogram }

// NewStorageObserver returns an observer for storage.Config.Observer, made before the Store is
// opened (the metrics read the Store), and handed to New in Sources.StorageObserver.
func NewStorageObserver() *StorageObserver {
	return &StorageObserver{cams: make(map[string]*cameraLatency)}
}

// FragmentWritten records that a fragment of camera was written in write and synced in
// sync; a zero sync (storage did not sync this fragment) is not observed. Its size is not
// used: storage counts the bytes it writes itself (CameraCounters.BytesWritten).
func (o *StorageObserver) FragmentWritten(camera string, _ int, write, sync time.Duration) {
	o.mu.RLock()
	l, ok := o.cams[camera]
	if ok {
		l.observe(write, sync)
		o.mu.RUnlock()
		return
	}
	o.mu.RUnlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	l, ok = o.cams[camera]
	if !ok {
		now := time.Now()
		l = new(cameraLatency)
		l.write.created, l.sync.created = now, now
		o.cams[camera] = l
	}
	l.observe(write, sync)
}

func (l *cameraLatency) observe(write, sync time.Duration) {
	l.write.observe(write)
	if sync > 0 {
		l.sync.observe(sync)
	}
}

// latency returns camera's histograms, nil when storage never reported a fragment of it.
func (o *StorageObserver) latency(camera string) *cameraLatency {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.cams[camera]
}

// prune forgets the cameras that known does not hold.
func (o *StorageObserver) prune(known map[string]*cameraRow) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for name := range o.cams {
		if _, ok := known[name]; !ok {
			delete(o.cams, name)
		}
	}
}

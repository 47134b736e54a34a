package tier

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/camvault/camvault/storage"
)

// Tier uploads a Store's sealed segments and reads them back. New builds
// it, Run uploads until its context ends; Segments, ReadAt, RunRetention
// and Stats may be called from any goroutine, with or without Run.
type Tier struct {
	cfg   Config
	store *storage.Store
	mc    *minio.Client
	log   *slog.Logger
	kick  chan struct{}
	// manifests serializes the read-modify-write of each of this node's
	// manifests (striped by key).
	manifests [64]sync.Mutex

	// mu guards inflight and stats.
	mu       sync.Mutex
	inflight map[segmentID]struct{}
	stats    Stats
	down     time.Time // when the store began failing; zero while it works
}

// segmentID names a segment of the local store.
type segmentID struct {
	camera string
	start  int64
}

// Stats are the counters for /metrics. Counters only grow.
type Stats struct {
	// UploadedObjects and UploadedBytes count segment objects published.
	UploadedObjects, UploadedBytes uint64
	// Failures counts failed upload attempts (each retry counts).
	Failures uint64
	// Refused counts segments that Verify refused (ErrFenced).
	Refused uint64
	// DeletedObjects counts objects object retention removed.
	DeletedObjects uint64
	// Queue and QueueBytes are the sealed segments, and their bytes, that
	// waited for upload at the last scan: the whole backlog from each
	// camera's scan position on (storage.Store.UploadBacklog), not only the
	// ScanBatch a scan takes; in flight ones included. OldestPending is how
	// long ago the oldest of them ended (0 when none).
	Queue         int
	QueueBytes    int64
	OldestPending time.Duration
	// Unreachable reports that the last request to the store failed.
	Unreachable bool
}

// New builds a Tier for store. cfg must be Enabled; its secret file is
// read now.
func New(cfg Config, store *storage.Store) (*Tier, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SecretKeyFile != "" {
		b, err := os.ReadFile(cfg.SecretKeyFile)
		if err != nil {
			return nil, fmt.Errorf("tier: secret key file: %w", err)
		}
		cfg.SecretKey = strings.TrimRight(string(b), "\r\n")
	}
	tr, err := transport(&cfg)
	if err != nil {
		return nil, err
	}
	mc, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.TLS, Region: cfg.Region, Transport: tr,
		MaxRetries: 1, // Run retries with its own backoff
	})
	if err != nil {
		return nil, fmt.Errorf("tier: client: %w", err)
	}
	return &Tier{cfg: cfg, store: store, mc: mc, log: cfg.Logger.With("component", "tier"),
		kick: make(chan struct{}, 1), inflight: map[segmentID]struct{}{}}, nil
}

// transport returns the HTTP transport, with CAFile's roots when set.
func transport(cfg *Config) (http.RoundTripper, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = cfg.RequestTimeout
	if cfg.CAFile == "" {
		return tr, nil
	}
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("tier: CA file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tier: CA file %s holds no PEM certificate", cfg.CAFile)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return tr, nil
}

// Stats returns a copy of the counters.
func (t *Tier) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Kick makes Run scan the index now (after a seal, say); it never blocks.
func (t *Tier) Kick() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// Run uploads sealed segments until ctx ends, and applies object
// retention every RetentionInterval; it returns when its goroutines have
// ended (an upload under way is abandoned and retried at the next Run).
// Uploads run on Concurrency goroutines of their own: recording never
// waits for them. Run returns nil.
func (t *Tier) Run(ctx context.Context) error {
	t.log.Info("tiering started", "config", t.cfg)
	jobs := make(chan storage.SegmentInfo, t.cfg.Concurrency)
	var wg sync.WaitGroup
	for range t.cfg.Concurrency {
		wg.Go(func() {
			for info := range jobs {
				t.upload(ctx, &info)
				t.mu.Lock()
				delete(t.inflight, segmentID{info.Camera, info.Start.UnixNano()})
				t.mu.Unlock()
			}
		})
	}
	wg.Go(func() { t.retentionLoop(ctx) })
	t.scanLoop(ctx, jobs)
	close(jobs)
	wg.Wait()
	return nil
}

// scanLoop reads the upload queue from the index every ScanInterval or
// Kick, until ctx ends.
func (t *Tier) scanLoop(ctx context.Context, jobs chan<- storage.SegmentInfo) {
	tick := time.NewTicker(t.cfg.ScanInterval)
	defer tick.Stop()
	resume := map[string]time.Time{}
	rescanned := time.Now()
	for {
		if time.Since(rescanned) >= t.cfg.RescanInterval {
			clear(resume)
			rescanned = time.Now()
		}
		t.scan(ctx, jobs, resume)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.kick:
		}
	}
}

// scan queues the pending segments of every camera that fit in jobs
// (it never blocks: the rest waits for the next scan) and updates the
// queue's stats. resume holds each camera's scan start (PendingUploads).
func (t *Tier) scan(ctx context.Context, jobs chan<- storage.SegmentInfo, resume map[string]time.Time) {
	cams, err := t.store.Cameras()
	if err != nil {
		t.log.Warn("tier scan: cameras", "err", err)
		return
	}
	var total storage.UploadBacklog
	for _, cam := range cams {
		pending, next, err := t.store.PendingUploads(cam, resume[cam], t.cfg.ScanBatch)
		if err != nil {
			t.log.Warn("tier scan", "camera", cam, "err", err)
			continue
		}
		resume[cam] = next
		for i := range pending {
			t.offer(ctx, jobs, &pending[i])
		}
		b, err := t.store.UploadBacklog(cam, next)
		if err != nil {
			t.log.Warn("tier scan: backlog", "camera", cam, "err", err)
			continue
		}
		total.Segments += b.Segments
		total.Bytes += b.Bytes
		if !b.OldestEnd.IsZero() && (total.OldestEnd.IsZero() || b.OldestEnd.Before(total.OldestEnd)) {
			total.OldestEnd = b.OldestEnd
		}
	}
	t.mu.Lock()
	t.stats.Queue, t.stats.QueueBytes, t.stats.OldestPending = total.Segments, total.Bytes, 0
	if !total.OldestEnd.IsZero() {
		t.stats.OldestPending = max(t.cfg.Now().Sub(total.OldestEnd), 0)
	}
	t.mu.Unlock()
}

// offer queues info unless it is in flight or jobs is full.
func (t *Tier) offer(ctx context.Context, jobs chan<- storage.SegmentInfo, info *storage.SegmentInfo) {
	id := segmentID{info.Camera, info.Start.UnixNano()}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.inflight[id]; ok || ctx.Err() != nil {
		return
	}
	select {
	case jobs <- *info:
		t.inflight[id] = struct{}{}
	default:
	}
}

// upload publishes one segment, retrying with backoff until it is done,
// refused, gone, or ctx ends.
func (t *Tier) upload(ctx context.Context, info *storage.SegmentInfo) {
	wait := t.cfg.RetryMin
	for {
		err := t.uploadOnce(ctx, info)
		switch {
		case err == nil:
			t.reachable()
			return
		case ctx.Err() != nil:
			return
		case errors.Is(err, ErrFenced):
			t.refuse(info, err)
			return
		case errors.Is(err, errGone):
			t.log.Debug("segment gone before upload", "camera", info.Camera, "segment", info.File, "err", err)
			return
		}
		t.unreachable(err)
		// Equal jitter: half the backoff plus a random part of the other half.
		d := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		wait = min(wait*2, t.cfg.RetryMax)
	}
}

// refuse marks a segment whose revision lost its camera: it stays local.
func (t *Tier) refuse(info *storage.SegmentInfo, why error) {
	t.mu.Lock()
	t.stats.Refused++
	t.mu.Unlock()
	t.log.Warn("segment not uploaded: its revision no longer owns the camera; it stays local",
		"camera", info.Camera, "segment", info.File, "revision", info.Revision, "err", why)
	err := t.store.MarkUpload(info.Camera, info.Start, storage.UploadMark{State: storage.UploadRefused, At: t.cfg.Now()})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.log.Error("mark segment refused", "camera", info.Camera, "segment", info.File, "err", err)
	}
}

// unreachable counts a failed attempt and logs the first of an outage.
func (t *Tier) unreachable(err error) {
	t.mu.Lock()
	t.stats.Failures++
	t.stats.Unreachable = true
	first := t.down.IsZero()
	if first {
		t.down = time.Now()
	}
	t.mu.Unlock()
	if first {
		t.log.Warn("object store failing; segments stay queued and are retried", "err", err)
	}
}

// reachable logs the end of an outage.
func (t *Tier) reachable() {
	t.mu.Lock()
	since := t.down
	t.down, t.stats.Unreachable = time.Time{}, false
	t.mu.Unlock()
	if !since.IsZero() {
		t.log.Info("object store works again; the upload queue catches up", "dur", time.Since(since).Round(time.Millisecond))
	}
}

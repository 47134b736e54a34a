package tier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"strconv"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/camvault/camvault/storage"
)

// uploadOnce is one attempt: Verify, the segment object, its manifest
// entry, then the index mark. Every step may be repeated: the key is fixed
// by the segment, and the manifest entry is replaced by key.
func (t *Tier) uploadOnce(ctx context.Context, info *storage.SegmentInfo) error {
	pub, err := t.publishedRevision(ctx, info)
	if err != nil {
		return err
	}
	key := objectKey(t.cfg.Prefix, info.Camera, info.Start, t.cfg.Node, pub.Revision)
	if err := t.putSegment(ctx, &pub, key); err != nil {
		return err
	}
	if err := t.addToManifest(ctx, &pub, key); err != nil {
		return err
	}
	t.mu.Lock()
	t.stats.UploadedObjects++
	t.stats.UploadedBytes += uint64(info.Bytes)
	t.mu.Unlock()
	err = t.store.MarkUpload(info.Camera, info.Start, storage.UploadMark{State: storage.UploadDone, Key: key, At: t.cfg.Now()})
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %w", errGone, err)
	}
	return err
}

// publishedRevision asks Verify under which revision info may be published
// and returns info with that revision: a segment recorded in doubt (negative
// revision) is published under the positive revision that confirmed it, so
// that no object key or manifest ever holds a negative revision. The local
// index keeps the revision the segment was recorded under.
func (t *Tier) publishedRevision(ctx context.Context, info *storage.SegmentInfo) (storage.SegmentInfo, error) {
	pub := *info
	if t.cfg.Verify == nil {
		return pub, nil
	}
	vctx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
	rev, err := t.cfg.Verify(vctx, info.Camera, info.Revision)
	cancel()
	switch {
	case err != nil:
		return pub, fmt.Errorf("verify revision %d: %w", info.Revision, err)
	case rev < 0:
		return pub, fmt.Errorf("verify revision %d: confirmed as %d: %w", info.Revision, rev, ErrFenced)
	}
	pub.Revision = rev
	return pub, nil
}

// putSegment uploads the segment file's whole fragments as key.
func (t *Tier) putSegment(ctx context.Context, info *storage.SegmentInfo, key string) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.UploadTimeout)
	defer cancel()
	body := io.NewSectionReader(fileReader{t.store, info.File}, 0, info.Bytes)
	_, err := t.mc.PutObject(ctx, t.cfg.Bucket, key, body, info.Bytes, minio.PutObjectOptions{
		ContentType: "video/mp4", PartSize: uint64(t.cfg.PartSize),
		UserMetadata: map[string]string{"camera": info.Camera, "node": t.cfg.Node,
			"start": info.Start.UTC().Format(time.RFC3339Nano), "end": info.End.UTC().Format(time.RFC3339Nano),
			"revision": strconv.FormatInt(info.Revision, 10)},
	})
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", errGone, err)
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// fileReader reads a segment file of the store.
type fileReader struct {
	s    *storage.Store
	file string
}

func (r fileReader) ReadAt(p []byte, off int64) (int, error) { return r.s.ReadAt(r.file, p, off) }

// addToManifest adds the segment to this node's manifest of its hour.
func (t *Tier) addToManifest(ctx context.Context, info *storage.SegmentInfo, key string) error {
	mkey := manifestKey(t.cfg.Prefix, info.Camera, info.Start, t.cfg.Node)
	mu := t.manifestLock(mkey)
	mu.Lock()
	defer mu.Unlock()
	m, err := t.getManifest(ctx, mkey, info.Camera)
	if err != nil {
		return err
	}
	if m == nil {
		m = &manifest{Version: manifestVersion, Camera: info.Camera, Node: t.cfg.Node,
			Hour: info.Start.UTC().Truncate(time.Hour)}
	}
	m.put(segmentOf(info, key))
	return t.putManifest(ctx, mkey, m)
}

// manifestLock returns the stripe that serializes the changes of mkey.
func (t *Tier) manifestLock(mkey string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(mkey))
	return &t.manifests[h.Sum32()%uint32(len(t.manifests))]
}

// getManifest reads and checks a manifest; nil, nil when there is none.
func (t *Tier) getManifest(ctx context.Context, mkey, camera string) (*manifest, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
	defer cancel()
	obj, err := t.mc.GetObject(ctx, t.cfg.Bucket, mkey, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", mkey, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, t.cfg.MaxManifestBytes+1))
	switch {
	case minio.ToErrorResponse(err).Code == minio.NoSuchKey:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get %s: %w", mkey, err)
	case int64(len(b)) > t.cfg.MaxManifestBytes:
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", errManifest, mkey, t.cfg.MaxManifestBytes)
	}
	return decodeManifest(b, t.cfg.Prefix, camera)
}

// putManifest writes m as mkey, or removes mkey when m lists nothing.
func (t *Tier) putManifest(ctx context.Context, mkey string, m *manifest) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
	defer cancel()
	if len(m.Segments) == 0 {
		if err := t.mc.RemoveObject(ctx, t.cfg.Bucket, mkey, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("remove %s: %w", mkey, err)
		}
		return nil
	}
	b, err := m.encode()
	if err != nil {
		return err
	}
	_, err = t.mc.PutObject(ctx, t.cfg.Bucket, mkey, bytes.NewReader(b), int64(len(b)),
		minio.PutObjectOptions{ContentType: "application/json"})
	if err != nil {
		return fmt.Errorf("put %s: %w", mkey, err)
	}
	return nil
}

package tier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/camvault/camvault/storage"
)

// manifestVersion is the layout of the manifests this build writes and
// reads.
const manifestVersion = 1

// Bounds of a decoded manifest: what one node can record in one hour of
// one camera, with room to spare.
const (
	maxManifestSegments  = 4096
	maxSegmentFragments  = 1 << 16
	maxManifestTracks    = 16
	maxManifestStringLen = 1024
	// maxFragmentMicros bounds a fragment's start offset and duration.
	maxFragmentMicros = int64(48 * time.Hour / time.Microsecond)
)

// manifest is one node's list of one camera's segments that start in one
// hour, with their seek tables (see the package doc).
type manifest struct {
	Version  int               `json:"version"`
	Camera   string            `json:"camera"`
	Node     string            `json:"node"`
	Hour     time.Time         `json:"hour"`
	Segments []manifestSegment `json:"segments"`
}

// manifestSegment is one segment object. Fragments are
// [start µs after Start, duration µs, offset, size, key 0|1].
type manifestSegment struct {
	Key       string     `json:"key"`
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
	Bytes     int64      `json:"bytes"`
	Revision  int64      `json:"revision"`
	Tracks    []string   `json:"tracks,omitempty"`
	Fragments [][5]int64 `json:"fragments"`
}

// errManifest wraps every reason decodeManifest refuses a manifest.
var errManifest = errors.New("tier: bad manifest")

// segmentOf returns the manifest entry of a sealed segment uploaded as key.
func segmentOf(info *storage.SegmentInfo, key string) manifestSegment {
	ms := manifestSegment{Key: key, Start: info.Start.UTC(), End: info.End.UTC(), Bytes: info.Bytes,
		Revision: info.Revision, Tracks: info.Tracks, Fragments: make([][5]int64, len(info.Fragments))}
	for i, f := range info.Fragments {
		k := int64(0)
		if f.Key {
			k = 1
		}
		ms.Fragments[i] = [5]int64{f.Start.Sub(info.Start).Microseconds(), f.Duration.Microseconds(), f.Offset, f.Size, k}
	}
	return ms
}

// info returns the entry as a storage.SegmentInfo with its seek table; its
// Upload mark names the object.
func (ms *manifestSegment) info(camera string) storage.SegmentInfo {
	info := storage.SegmentInfo{Camera: camera, Start: ms.Start, End: ms.End, Bytes: ms.Bytes,
		State: storage.StateSealed, Tracks: ms.Tracks, Revision: ms.Revision,
		Upload:    storage.UploadMark{State: storage.UploadDone, Key: ms.Key},
		Fragments: make([]storage.Fragment, len(ms.Fragments))}
	for i, f := range ms.Fragments {
		info.Fragments[i] = storage.Fragment{Start: ms.Start.Add(time.Duration(f[0]) * time.Microsecond),
			Duration: time.Duration(f[1]) * time.Microsecond, Offset: f[2], Size: f[3], Key: f[4] == 1}
	}
	return info
}

// put adds or replaces (same key) a segment, keeping start order.
func (m *manifest) put(ms manifestSegment) {
	m.Segments = slices.DeleteFunc(m.Segments, func(s manifestSegment) bool { return s.Key == ms.Key })
	i, _ := slices.BinarySearchFunc(m.Segments, ms.Start, func(s manifestSegment, t time.Time) int { return s.Start.Compare(t) })
	m.Segments = slices.Insert(m.Segments, i, ms)
}

func (m *manifest) encode() ([]byte, error) { return json.Marshal(m) }

// decodeManifest parses and checks a manifest read from the store: the
// bytes are untrusted. It must be of camera, and every key must lie under
// camera's prefix (a manifest never points at another camera's objects).
func decodeManifest(b []byte, prefix, camera string) (*manifest, error) {
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", errManifest, err)
	}
	if err := m.check(prefix, camera); err != nil {
		return nil, fmt.Errorf("%w: %w", errManifest, err)
	}
	return &m, nil
}

func (m *manifest) check(prefix, camera string) error {
	switch {
	case m.Version != manifestVersion:
		return fmt.Errorf("version %d", m.Version)
	case m.Camera != camera:
		return fmt.Errorf("camera %q, want %q", m.Camera, camera)
	case storage.ValidCamera(m.Node) != nil:
		return fmt.Errorf("node %q", m.Node)
	case len(m.Segments) > maxManifestSegments:
		return fmt.Errorf("%d segments", len(m.Segments))
	}
	for i := range m.Segments {
		if err := m.Segments[i].check(cameraPrefix(prefix, camera)); err != nil {
			return fmt.Errorf("segment %d: %w", i, err)
		}
	}
	return nil
}

func (ms *manifestSegment) check(under string) error {
	switch {
	case !strings.HasPrefix(ms.Key, under) || len(ms.Key) > maxManifestStringLen || strings.Contains(ms.Key, ".."):
		return fmt.Errorf("key %.80q not under %q", ms.Key, under)
	case ms.End.Before(ms.Start) || ms.Bytes < 0:
		return fmt.Errorf("span %v-%v, %d bytes", ms.Start, ms.End, ms.Bytes)
	case len(ms.Tracks) > maxManifestTracks || len(ms.Fragments) > maxSegmentFragments:
		return fmt.Errorf("%d tracks, %d fragments", len(ms.Tracks), len(ms.Fragments))
	}
	for _, f := range ms.Fragments {
		if f[0] < 0 || f[1] < 0 || f[0] > maxFragmentMicros || f[1] > maxFragmentMicros || f[2] < 0 || f[3] <= 0 || f[2] > ms.Bytes-f[3] || f[4]&^1 != 0 {
			return fmt.Errorf("fragment %v outside the object", f)
		}
	}
	return nil
}

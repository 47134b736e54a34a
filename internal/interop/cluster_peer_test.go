//go:build interop

package interop

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/camvault/camvault/internal/clip"
	"github.com/camvault/camvault/internal/s3test"
)

// peerSegmentDuration is the recorder's segment duration in TestClusterArchiveOfOpenSegment:
// long enough that the open segment is not sealed and uploaded while the test plays it (its
// play ends about 8 s after the segment began).
const peerSegmentDuration = 15 * time.Second

// TestClusterArchiveOfOpenSegment: ffmpeg pushes a numbered clip to node0, which records and
// tiers it; while the push goes on, node1, which knows the camera only through the cluster,
// shows its spans up to a few seconds before now, and ffmpeg plays archive/cam from node1
// across the end of the last uploaded segment into node0's open segment (read from node0
// over its peer endpoints): the frames run on, one after the other, past everything the
// object store holds.
func TestClusterArchiveOfOpenSegment(t *testing.T) {
	etcd, s3, clipPath := tieredClusterFixture(t, 40)
	nodes := make([]*server, 2)
	for i := range nodes {
		s := startServerLater(t, "")
		s.fixHTTPPort()
		s.writeConfig(clusterYAML(etcd, i, s) + tierYAML(s3, "") + fmt.Sprintf("recorder:\n  segment_duration: %v\n", peerSegmentDuration))
		s.start()
		t.Cleanup(s.stop)
		nodes[i] = s
	}
	push := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-re", "-i", clipPath,
		"-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", "rtsp://"+nodes[0].rtsp+"/cam")
	if err := push.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = push.Process.Kill() // it may have ended: nothing to kill then
		_ = push.Wait()
	})
	client := s3.Client()
	var up []uploadedSegment
	nodes[0].waitFor(60*time.Second, "the first segment of cam uploaded", func() bool {
		up = uploadedSegments(t, client, "cam")
		return len(up) > 0
	})
	first, upEnd := up[0].Start, up[len(up)-1].End

	// node1's spans reach into node0's open segment, a few seconds before now.
	var rec recordingsOut
	var asked time.Time
	nodes[1].waitFor(30*time.Second, "node1's spans of cam 3 s past the last upload", func() bool {
		asked = time.Now()
		nodes[1].getJSON("/api/v1/cameras/cam/recordings?"+window(first.Add(-time.Minute), asked.Add(time.Minute)), &rec)
		return len(rec.Spans) > 0 && rec.Spans[len(rec.Spans)-1].End.After(upEnd.Add(3*time.Second))
	})
	if behind := asked.Sub(rec.Spans[len(rec.Spans)-1].End); behind > 3*time.Second {
		t.Errorf("node1's spans end %v before the question", behind)
	}
	// node1's camera list shows cam, pushed to node0 only, with its owner.
	var list struct {
		Cameras []struct{ Name, Owner string }
	}
	nodes[1].getJSON("/api/v1/cameras", &list)
	if !slices.Contains(list.Cameras, struct{ Name, Owner string }{"cam", "node0"}) {
		t.Errorf("node1's cameras: %+v, want cam owned by node0", list.Cameras)
	}
	if got := uploadedSegments(t, client, "cam"); !got[len(got)-1].End.Equal(upEnd) {
		t.Fatalf("a segment was uploaded during the test (ends %v, was %v): segment_duration %v is too short for this machine", got[len(got)-1].End, upEnd, peerSegmentDuration)
	}

	// ffmpeg plays from a second before the end of the last upload to the window's end.
	from := upEnd.Add(-time.Second).Truncate(time.Second)
	frames := decodeGray(t, time.Minute, "-rtsp_transport", "tcp", "-i",
		"rtsp://"+nodes[1].rtsp+"/archive/cam?start="+from.UTC().Format(time.RFC3339), "-t", "10")
	if got := uploadedSegments(t, client, "cam"); !got[len(got)-1].End.Equal(upEnd) {
		t.Fatalf("a segment was uploaded while ffmpeg played (ends %v, was %v): segment_duration %v is too short for this machine", got[len(got)-1].End, upEnd, peerSegmentDuration)
	}
	if len(frames) == 0 {
		t.Fatal("no frame decoded")
	}
	n0 := clip.FrameNumber(frames[0], numberedW, numberedH, numberedFPS)
	for i, f := range frames {
		if n := clip.FrameNumber(f, numberedW, numberedH, numberedFPS); n != n0+i {
			t.Fatalf("frame %d is number %d, want %d: an instant skipped or played twice", i, n, n0+i)
		}
	}
	last := n0 + len(frames) - 1
	upLast := int(upEnd.Sub(first) * numberedFPS / time.Second) // the last frame the object store holds
	t.Logf("frames %d to %d; the object store ends at frame %d", n0, last, upLast)
	if last < upLast+numberedFPS {
		t.Errorf("the play ends at frame %d, not a second past the object store's last (%d)", last, upLast)
	}
}

// uploadedSegment is a segment in a node's manifest.
type uploadedSegment struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// uploadedSegments returns camera's uploaded segments, from every node's manifests (tier's
// per-hour objects), sorted by start.
func uploadedSegments(t *testing.T, client *minio.Client, camera string) []uploadedSegment {
	t.Helper()
	var out []uploadedSegment
	for o := range client.ListObjects(t.Context(), s3test.Bucket, minio.ListObjectsOptions{Prefix: camera + "/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if !strings.Contains(o.Key, "/manifest_") {
			continue
		}
		obj, err := client.GetObject(t.Context(), s3test.Bucket, o.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Segments []uploadedSegment }
		err = json.NewDecoder(obj).Decode(&m)
		obj.Close()
		if err != nil {
			t.Fatalf("manifest %s: %v", o.Key, err)
		}
		out = append(out, m.Segments...)
	}
	slices.SortFunc(out, func(a, b uploadedSegment) int { return a.Start.Compare(b.Start) })
	return out
}

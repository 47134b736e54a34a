//go:build interop

package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/camvault/camvault/cluster"
	"github.com/camvault/camvault/internal/bench"
	"github.com/camvault/camvault/internal/clip"
	"github.com/camvault/camvault/internal/etcdtest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/internal/s3test"
	"github.com/camvault/camvault/storage"
)

// Outages of TestClusterOutages, as the issue states them.
const (
	etcdOutage = 30 * time.Second
	s3Outage   = 60 * time.Second
)

// TestClusterOutages: etcd stopped for 30 s and the S3 server for 60 s while a node of a
// cluster records a pulled camera and tiers it: recording goes on with no gap and no lost
// fragment, and once both are back every segment sealed meanwhile is uploaded.
func TestClusterOutages(t *testing.T) {
	needGstElement(t, "x264enc", "rtph264pay")
	etcd := etcdtest.Start(t)
	s3 := s3test.New(t)
	cam := startGstCamera(t, "", "")
	s := startServerLater(t, "")
	s.writeConfig(clusterYAML(etcd, 0, s) + tierYAML(s3, "  retry_min: 200ms\n  retry_max: 2s\n  request_timeout: 2s\n") +
		fmt.Sprintf("recorder:\n  segment_duration: 5s\ncameras:\n  lobby:\n    url: rtsp://%s/h264\n", cam))
	s.start()
	t.Cleanup(s.stop)
	client := s3.Client()
	objects := func() []string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var keys []string
		for o := range client.ListObjects(ctx, s3test.Bucket, minio.ListObjectsOptions{Prefix: "lobby/", Recursive: true}) {
			if o.Err == nil && strings.HasSuffix(o.Key, ".mp4") {
				keys = append(keys, o.Key)
			}
		}
		return keys
	}
	rtsptest.WaitWithin(t, 60*time.Second, "a first segment uploaded", func() bool { return len(objects()) > 0 })

	down := time.Now()
	etcd.Stop()
	s3.Stop()
	s.waitLogLine(clusterLeaseTTL+10*time.Second, `msg="etcd unreachable"`)
	waitUntil(t, down.Add(etcdOutage))
	etcd.Start()
	s.waitLogLine(20*time.Second, `msg="etcd reachable again"`)
	waitUntil(t, down.Add(s3Outage))
	s3.Start()
	back := time.Now()
	// Every segment sealed by now is uploaded once the queue catches up.
	rtsptest.WaitWithin(t, 90*time.Second, "the segments sealed during the outages uploaded", func() bool {
		for _, k := range objects() {
			if start, ok := objectStart(k); ok && start.After(back) {
				return true
			}
		}
		return false
	})
	s.stop()
	if logs := s.logs.String(); !strings.Contains(logs, " fragments_lost=0 ") || !strings.Contains(logs, " lost=0 ") {
		t.Errorf("the recording lost something:\n%s", grepLines(logs, "recording stopped"))
	}
	infos := s.segments("lobby")
	uploaded := map[string]bool{}
	for _, k := range objects() {
		uploaded[k] = true
	}
	var doubt int
	for i, info := range infos {
		if i > 0 {
			if gap := info.Start.Sub(infos[i-1].End); gap > 200*time.Millisecond {
				t.Errorf("a gap of %v at %v between segments", gap, info.Start)
			}
		}
		if info.Revision < 0 {
			doubt++
		}
		if i == len(infos)-1 || info.End.After(back) {
			continue // sealed at the stop, or after the queue caught up
		}
		if info.Upload.State != storage.UploadDone || !uploaded[info.Upload.Key] {
			t.Errorf("segment %v-%v (revision %d) not uploaded: %v %q", info.Start, info.End, info.Revision, info.Upload.State, info.Upload.Key)
		}
	}
	t.Logf("%d segments, %d recorded in doubt while etcd was away; %d objects", len(infos), doubt, len(uploaded))
	if doubt == 0 {
		t.Errorf("no segment was recorded in doubt during the etcd outage")
	}
}

// tierYAML is the tier section of the tests' nodes on s3, scanning for sealed segments every
// 200 ms, with extra keys appended.
func tierYAML(s3 *s3test.Server, extra string) string {
	return fmt.Sprintf("tier:\n  endpoint: %s\n  bucket: %s\n  access_key: %s\n  secret_key: %s\n  scan_interval: 200ms\n%s",
		s3.Endpoint, s3test.Bucket, s3test.AccessKey, s3test.SecretKey, extra)
}

// waitUntil waits until the wall clock reaches at: the outage lengths are what is tested.
func waitUntil(t *testing.T, at time.Time) {
	t.Helper()
	timer := time.NewTimer(time.Until(at))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.Context().Done():
		t.Fatal("test ended while waiting")
	}
}

// objectStart parses the start time out of a segment object's key
// ({camera}/{YYYY-MM-DD}/{HH}/{HHMMSS.mmm}Z_{node}_r{rev}.mp4).
func objectStart(key string) (time.Time, bool) {
	parts := strings.Split(key, "/")
	if len(parts) < 4 {
		return time.Time{}, false
	}
	name, _, _ := strings.Cut(parts[len(parts)-1], "Z_")
	t, err := time.Parse("2006-01-02 150405.000", parts[len(parts)-3]+" "+name)
	return t, err == nil
}

// grepLines returns the lines of logs that contain s.
func grepLines(logs, s string) string {
	var b strings.Builder
	for line := range strings.Lines(logs) {
		if strings.Contains(line, s) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// tieredClusterFixture starts etcd and the S3 server of a tiered cluster test and encodes a
// numbered clip of seconds for ffmpeg to push; it returns the clip's path.
func tieredClusterFixture(t *testing.T, seconds int) (*etcdtest.Server, *s3test.Server, string) {
	t.Helper()
	needTool(t, "ffmpeg")
	etcd := etcdtest.Start(t)
	s3 := s3test.New(t)
	clipPath := filepath.Join(t.TempDir(), "numbered.mp4")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := bench.EncodeClip(ctx, clipPath, clip.Numbered(seconds, numberedFPS, fmt.Sprintf("%dx%d", numberedW, numberedH))); err != nil {
		t.Fatal(err)
	}
	return etcd, s3, clipPath
}

// TestClusterArchiveOfDeadNode: a camera pushed to one node of a cluster is recorded and
// tiered there; after that node is killed (kill -9), the archive plays through another node
// from the object store, and ffmpeg's -ss lands on the right numbered frame. The spans API of
// the survivor shows a pulled camera's recording by the dead node, then its own.
func TestClusterArchiveOfDeadNode(t *testing.T) {
	etcd, s3, clipPath := tieredClusterFixture(t, 12)
	// A pulled camera that the assignment gives to node0 while node1 lives.
	cam := startGstCamera(t, "", "")
	lobby := ""
	for i := 0; lobby == ""; i++ {
		c := fmt.Sprintf("lobby%d", i)
		if cluster.Assign([]string{c}, []cluster.Member{{Name: "node0", Capacity: cluster.DefaultCapacity},
			{Name: "node1", Capacity: cluster.DefaultCapacity}})[c] == "node0" {
			lobby = c
		}
	}
	pulled := fmt.Sprintf("cameras:\n  %s:\n    url: rtsp://%s/h264\n", lobby, cam)
	nodes := make([]*server, 2)
	for i := range nodes {
		s := startServerLater(t, "")
		s.writeConfig(clusterYAML(etcd, i, s) + tierYAML(s3, "") + "recorder:\n  segment_duration: 4s\n" + pulled)
		s.start()
		t.Cleanup(s.stop)
		nodes[i] = s
	}
	if _, out, err := ffmpegPushFile(t, "rtsp://"+nodes[0].rtsp+"/cam", "tcp", clipPath); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	client := s3.Client()
	nodes[0].waitFor(60*time.Second, "the three segments of the push uploaded", func() bool {
		n := 0
		for o := range client.ListObjects(t.Context(), s3test.Bucket, minio.ListObjectsOptions{Prefix: "cam/", Recursive: true}) {
			if o.Err == nil && strings.HasSuffix(o.Key, ".mp4") && strings.Contains(o.Key, "_node0_r") {
				n++
			}
		}
		return n >= 3
	})
	var uploadedFrom time.Time // the start of node0's first uploaded segment of the pulled camera
	nodes[0].waitFor(60*time.Second, "a segment of "+lobby+" uploaded", func() bool {
		for o := range client.ListObjects(t.Context(), s3test.Bucket, minio.ListObjectsOptions{Prefix: lobby + "/", Recursive: true}) {
			if start, ok := objectStart(o.Key); ok && o.Err == nil && strings.Contains(o.Key, "_node0_r") {
				if uploadedFrom.IsZero() || start.Before(uploadedFrom) {
					uploadedFrom = start
				}
			}
		}
		return !uploadedFrom.IsZero()
	})
	nodes[0].kill()
	waitAssigned(t, nodes, []string{lobby}, 0)
	nodes[1].waitFragments(lobby, 2)
	// The spans API of the survivor shows the dead node's uploaded recording too.
	var rec recordingsOut
	nodes[1].getJSON("/api/v1/cameras/"+lobby+"/recordings?"+window(uploadedFrom.Add(-time.Minute), time.Now().Add(time.Minute)), &rec)
	if len(rec.Spans) == 0 || rec.Spans[0].Start.Sub(uploadedFrom).Abs() > time.Second {
		t.Errorf("node1's spans of %s: %+v; want the first to start at node0's first upload, %v", lobby, rec.Spans, uploadedFrom)
	}
	for _, g := range rec.Gaps {
		if d := g.End.Sub(g.Start); d > 4*time.Second+clusterLeaseTTL+5*time.Second {
			t.Errorf("a gap of %v in %s's merged spans (an open segment of the killed node, then the failover)", d, lobby)
		}
	}
	frames := decodeGray(t, time.Minute, "-rtsp_transport", "tcp", "-ss", "4",
		"-i", "rtsp://"+nodes[1].rtsp+"/archive/cam", "-t", "5")
	checkSeekFrames(t, frames, 4*numberedFPS, 5*numberedFPS)
}

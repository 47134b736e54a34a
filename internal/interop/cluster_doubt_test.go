//go:build interop

package interop

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/camvault/camvault/internal/etcdtest"
	"github.com/camvault/camvault/internal/s3test"
	"github.com/camvault/camvault/storage"
)

// TestClusterPushInDoubt (issue 13, failure semantics): ffmpeg pushes a new camera to a
// node while etcd is stopped. The node records it at once, in doubt, under the negated etcd
// revision its view was up to date with (-X); once etcd is back the node claims the camera
// (an owner key naming it, at revision R > X), seals the segment in doubt and records on
// under R, with no gap and no lost fragment. etcd's history shows nobody owned the camera
// from X to R, so no other node could have recorded it meanwhile: the segments recorded in
// doubt are uploaded under R, and no object key holds a negative revision.
func TestClusterPushInDoubt(t *testing.T) {
	needTool(t, "ffmpeg", "etcd")
	etcd := etcdtest.Start(t)
	s3 := s3test.New(t)
	s := startServerLater(t, "")
	s.writeConfig(clusterYAML(etcd, 0, s) + tierYAML(s3, "  retry_min: 200ms\n  retry_max: 2s\n") +
		"recorder:\n  segment_duration: 3s\n")
	s.start()
	t.Cleanup(s.stop)
	s.waitLogLine(30*time.Second, `msg=registered`)

	etcd.Stop()
	s.waitLogLine(clusterLeaseTTL+10*time.Second, `msg="lease in doubt`)
	clip := encodedClip(t, 20, false, x264Baseline)
	pushed := make(chan error, 1)
	go func() {
		_, out, err := ffmpegPushFile(t, "rtsp://"+s.rtsp+"/door", "tcp", clip)
		if err != nil {
			err = fmt.Errorf("push: %v: %s", err, out)
		}
		pushed <- err
	}()
	s.waitLogLine(30*time.Second, `msg="pushed camera recorded without a claim`, "camera=door")
	// Two segments in doubt sealed (rotated) while etcd is away.
	s.waitLogLines(30*time.Second, 2, `msg="segment sealed"`, "camera=door")
	etcd.Start()
	s.waitLogLine(30*time.Second, `msg="camera gained"`, "camera=door")
	claim, err := strconv.ParseInt(s.logValue("camera gained", "revision"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	raw := etcdtest.NewClient(t, etcd.Endpoint())
	resp, err := raw.Get(t.Context(), "/camvault/owners/door")
	if err != nil || len(resp.Kvs) != 1 || resp.Kvs[0].ModRevision != claim || !strings.Contains(string(resp.Kvs[0].Value), `"node0"`) {
		t.Fatalf("owner key of door: %v, %v; want node0's at revision %d", resp, err, claim)
	}
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	client := s3.Client()
	objects := func() map[string]bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys := map[string]bool{}
		for o := range client.ListObjects(ctx, s3test.Bucket, minio.ListObjectsOptions{Prefix: "door/", Recursive: true}) {
			if o.Err == nil && strings.HasSuffix(o.Key, ".mp4") {
				keys[o.Key] = true
			}
		}
		return keys
	}
	s.waitPublisherGone("door")
	s.waitLogLine(30*time.Second, `msg="recording stopped"`, "camera=door")
	s.waitFor(60*time.Second, "every segment of door uploaded", func() bool {
		uploaded := map[time.Time]bool{}
		for k := range objects() {
			if start, ok := objectStart(k); ok {
				uploaded[start] = true
			}
		}
		for line := range strings.Lines(grepLines(s.logs.String(), `msg="segment started"`)) {
			if !strings.Contains(line, " camera=door ") {
				continue
			}
			_, v, _ := strings.Cut(line, " start=")
			start, err := time.Parse(time.RFC3339Nano, strings.Fields(v)[0])
			if err != nil || !uploaded[start.Truncate(time.Millisecond)] {
				return false
			}
		}
		return true
	})
	s.stop()
	logs := s.logs.String()
	if n := strings.Count(grepLines(logs, `msg="recording started"`), "camera=door"); n != 1 {
		t.Errorf("door's recording started %d times, want once", n)
	}
	if stopped := grepLines(logs, `msg="recording stopped"`); !strings.Contains(stopped, " fragments_lost=0 ") || !strings.Contains(stopped, " lost=0 ") {
		t.Errorf("the recording lost something:\n%s", stopped)
	}
	checkPushInDoubt(t, s.segments("door"), objects(), claim)
}

// checkPushInDoubt checks the segments of TestClusterPushInDoubt: in doubt under one
// negative revision -X with 0 < X < claim, then under claim; contiguous; every one uploaded
// under claim.
func checkPushInDoubt(t *testing.T, infos []storage.SegmentInfo, uploaded map[string]bool, claim int64) {
	t.Helper()
	var doubt int
	for i, info := range infos {
		t.Logf("segment %v-%v revision %d upload %v %s", info.Start.Format("15:04:05.000"), info.End.Format("15:04:05.000"),
			info.Revision, info.Upload.State, info.Upload.Key)
		switch {
		case info.Revision < 0 && (info.Revision != infos[0].Revision || -info.Revision >= claim):
			t.Errorf("segment %d in doubt under %d, want one revision -X, 0 < X < %d", i, info.Revision, claim)
		case info.Revision < 0:
			doubt++
		case info.Revision != claim:
			t.Errorf("segment %d under %d, want the claim's %d", i, info.Revision, claim)
		}
		if i > 0 {
			if gap := info.Start.Sub(infos[i-1].End); gap > 200*time.Millisecond || gap < 0 {
				t.Errorf("a gap of %v at %v between segments", gap, info.Start)
			}
			if infos[i-1].Revision > 0 && info.Revision < 0 {
				t.Errorf("segment %d in doubt after a claimed one", i)
			}
		}
		// The object of each segment, under the claim's revision; its mark in the index may
		// still be missing when the node stopped right after the upload (a restart uploads
		// it again under the same key).
		want := fmt.Sprintf("_node0_r%d.mp4", claim)
		key := ""
		for k := range uploaded {
			if start, ok := objectStart(k); ok && start.Equal(info.Start.UTC().Truncate(time.Millisecond)) {
				key = k
			}
		}
		if !strings.HasSuffix(key, want) || info.Upload.State == storage.UploadDone && info.Upload.Key != key ||
			info.Upload.State != storage.UploadDone && info.Upload.State != storage.UploadNone {
			t.Errorf("segment %d (revision %d) not uploaded under %s: object %q, mark %v %q", i, info.Revision, want, key, info.Upload.State, info.Upload.Key)
		}
	}
	for k := range uploaded {
		if strings.Contains(k, "_r-") {
			t.Errorf("object %s has a negative revision", k)
		}
	}
	if doubt < 2 {
		t.Errorf("%d segments recorded in doubt, want at least 2 (rotated while etcd was away)", doubt)
	}
}

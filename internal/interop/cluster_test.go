//go:build interop

package interop

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/camvault/camvault/cluster"
	"github.com/camvault/camvault/internal/etcdtest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/internal/s3test"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage"
)

// clusterLeaseTTL is the nodes' lease: a killed node's cameras must record again elsewhere
// within it plus 5 s (issue 13).
const clusterLeaseTTL = 2 * time.Second

// clusterYAML is the cluster section of node i of the tests' clusters, served at s. Its
// http_url is s's HTTP API when its port was fixed (fixHTTPPort), else a port nobody serves.
func clusterYAML(etcd *etcdtest.Server, i int, s *server) string {
	httpURL := "http://127.0.0.1:9"
	if s.httpPort != 0 {
		httpURL = "http://" + s.http
	}
	return fmt.Sprintf("cluster:\n  endpoints: [%s]\n  node: node%d\n  rtsp_url: rtsp://%s\n  http_url: %s\n  lease_ttl: %v\n  fence_margin: 500ms\n",
		etcd.Endpoint(), i, s.rtsp, httpURL, clusterLeaseTTL)
}

// pulledCameras returns a cameras section of n cameras named prefix0.. pulled from the
// GStreamer camera at cam, and their names.
func pulledCameras(cam, prefix string, n int) (string, []string) {
	var yaml strings.Builder
	yaml.WriteString("cameras:\n")
	var names []string
	for i := range n {
		name := fmt.Sprintf("%s%d", prefix, i)
		names = append(names, name)
		fmt.Fprintf(&yaml, "  %s:\n    url: rtsp://%s/h264\n", name, cam)
	}
	return yaml.String(), names
}

// startClusterNodes starts n camvault nodes of one cluster on etcd, each pulling its share of
// the cameras in camerasYAML (a cameras: section).
func startClusterNodes(t *testing.T, etcd *etcdtest.Server, n int, camerasYAML string) []*server {
	t.Helper()
	nodes := clusterNodes(t, etcd, n, camerasYAML, false)
	for _, s := range nodes {
		s.start()
		t.Cleanup(s.stop)
	}
	return nodes
}

// clusterNodes prepares n camvault nodes of one cluster on etcd, each with camerasYAML (a
// cameras: section), without starting them; with fixHTTP, their HTTP ports are fixed, so that
// their http_url (the peer endpoints) is served.
func clusterNodes(t *testing.T, etcd *etcdtest.Server, n int, camerasYAML string, fixHTTP bool) []*server {
	t.Helper()
	nodes := make([]*server, n)
	for i := range nodes {
		s := startServerLater(t, "")
		if fixHTTP {
			s.fixHTTPPort()
		}
		s.writeConfig(clusterYAML(etcd, i, s) + camerasYAML)
		nodes[i] = s
	}
	return nodes
}

// ownerNow returns the index of the node but skip that owns camera and records it now: its
// log's last "camera gained" or "camera lost" line for camera is a gain, with "recording
// started" after it; -1 if none.
func ownerNow(nodes []*server, camera string, skip int) int {
	for i, s := range nodes {
		if i == skip {
			continue
		}
		owned, recording := false, false
		for line := range strings.Lines(s.logs.String()) {
			if !slices.Contains(strings.Fields(line), "camera="+camera) {
				continue
			}
			switch {
			case strings.Contains(line, `msg="camera gained"`):
				owned, recording = true, false
			case strings.Contains(line, `msg="camera lost"`):
				owned = false
			case strings.Contains(line, `msg="recording started"`):
				recording = true
			}
		}
		if owned && recording {
			return i
		}
	}
	return -1
}

// waitAssigned waits until every camera is recorded by the node that the cluster's
// assignment gives it among the nodes but skip (equal capacities), and returns the owners.
func waitAssigned(t *testing.T, nodes []*server, cams []string, skip int) map[string]int {
	t.Helper()
	var members []cluster.Member
	for i := range nodes {
		if i != skip {
			members = append(members, cluster.Member{Name: fmt.Sprintf("node%d", i), Capacity: cluster.DefaultCapacity})
		}
	}
	want := cluster.Assign(cams, members)
	owner := map[string]int{}
	rtsptest.WaitWithin(t, 60*time.Second, "every camera recording on its assigned node", func() bool {
		for _, c := range cams {
			owner[c] = ownerNow(nodes, c, skip)
			if owner[c] < 0 || fmt.Sprintf("node%d", owner[c]) != want[c] {
				return false
			}
		}
		return true
	})
	return owner
}

// TestClusterFailover: three nodes share twelve pulled cameras (GStreamer RTSP server), each
// recorded by exactly one node under its fencing revision, while ffmpeg pushes a camera to each
// node (claimed by it); kill -9 of a node that records some
// makes them record on the survivors within the lease TTL + 5 s, and no camera's segments from
// different nodes overlap in time.
func TestClusterFailover(t *testing.T) {
	needTool(t, "etcd")
	needGstElement(t, "x264enc", "rtph264pay")
	etcd := etcdtest.Start(t)
	cam := startGstCamera(t, "", "")
	yaml, cams := pulledCameras(cam, "cam", 12)
	nodes := startClusterNodes(t, etcd, 3, yaml)

	// Three pushed cameras, one per node, pushing all along (ffmpeg, real time).
	clip := encodedClip(t, 20, false, x264Baseline)
	pushed := make(chan error, len(nodes))
	for i, s := range nodes {
		go func() {
			_, out, err := ffmpegPushFile(t, fmt.Sprintf("rtsp://%s/pushed%d", s.rtsp, i), "tcp", clip)
			if err != nil {
				err = fmt.Errorf("push to node%d: %v: %s", i, err, out)
			}
			pushed <- err
		}()
	}
	for i, s := range nodes {
		s.waitLogLine(30*time.Second, `msg="camera gained"`, fmt.Sprintf("camera=pushed%d", i))
		s.waitFragments(fmt.Sprintf("pushed%d", i), 2)
	}

	owner := waitAssigned(t, nodes, cams, -1)
	victim := owner[cams[0]]
	var moved []string
	for _, c := range cams {
		if owner[c] == victim {
			moved = append(moved, c)
		}
	}
	for _, c := range moved {
		nodes[victim].waitFragments(c, 2)
	}
	killed := time.Now()
	nodes[victim].kill()
	took := map[string]time.Duration{}
	rtsptest.WaitWithin(t, clusterLeaseTTL+20*time.Second, "the killed node's cameras recording elsewhere", func() bool {
		for _, c := range moved {
			if _, ok := took[c]; !ok && ownerNow(nodes, c, victim) >= 0 {
				took[c] = time.Since(killed)
			}
		}
		return len(took) == len(moved)
	})
	waitAssigned(t, nodes, cams, victim)
	for _, c := range moved {
		t.Logf("%s recording again %v after the kill", c, took[c].Round(time.Millisecond))
		if took[c] > clusterLeaseTTL+5*time.Second {
			t.Errorf("%s recording again %v after the kill, want at most %v", c, took[c], clusterLeaseTTL+5*time.Second)
		}
	}
	for _, c := range moved {
		nodes[ownerNow(nodes, c, victim)].waitFragments(c, 2)
	}
	t.Logf("killed node%d", victim)
	for i, s := range nodes {
		// No outage here: a lease in doubt is a keepalive answered too late (doubt flicker).
		t.Logf("node%d: %d leases in doubt, %d confirmed", i, strings.Count(s.logs.String(), `msg="lease in doubt`),
			strings.Count(s.logs.String(), `msg="lease confirmed`))
	}
	for range nodes {
		if err := <-pushed; err != nil {
			t.Logf("%v", err) // the push to the killed node fails with it
		}
	}
	for i, s := range nodes {
		if i != victim {
			s.stop()
		}
	}
	for i, s := range nodes {
		infos := s.segments(fmt.Sprintf("pushed%d", i))
		if len(infos) == 0 {
			t.Errorf("node%d recorded nothing of the camera pushed to it:\n%s", i, grepLines(s.logs.String(), fmt.Sprintf("pushed%d", i)))
		}
		for _, info := range infos {
			if info.Revision <= 0 {
				t.Errorf("pushed%d on node%d: segment at %v under revision %d, want its claim's", i, i, info.Start, info.Revision)
			}
		}
	}

	for _, c := range cams {
		type seg struct {
			node int
			info storage.SegmentInfo
		}
		var all []seg
		for i, s := range nodes {
			for _, info := range s.segments(c) {
				if info.Revision > 0 {
					all = append(all, seg{i, info})
					continue
				}
				// Written after the node stopped owning the camera (the end of the fragment
				// in progress when a reassignment released it): kept locally under the
				// negated revision, never as the owner's, and only that one fragment.
				t.Logf("%s on node%d: %v segment at %v under revision %d", c, i, info.End.Sub(info.Start), info.Start, info.Revision)
				if d := info.End.Sub(info.Start); info.Revision == 0 || d > 5*time.Second {
					t.Errorf("%s on node%d: segment at %v of %v under revision %d, want the owner's revision", c, i, info.Start, d, info.Revision)
				}
			}
		}
		slices.SortFunc(all, func(a, b seg) int { return a.info.Start.Compare(b.info.Start) })
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			if a.node != b.node && b.info.Start.Before(a.info.End) {
				t.Errorf("%s: node%d's segment %v-%v (r%d) overlaps node%d's %v-%v (r%d)", c,
					a.node, a.info.Start, a.info.End, a.info.Revision, b.node, b.info.Start, b.info.End, b.info.Revision)
			}
			if a.node != b.node && a.info.Revision >= b.info.Revision {
				t.Errorf("%s: ownership moved from node%d (r%d) to node%d (r%d) without a higher revision", c,
					a.node, a.info.Revision, b.node, b.info.Revision)
			}
			if gap := b.info.Start.Sub(a.info.End); a.node != b.node && gap > clusterLeaseTTL+5*time.Second {
				t.Errorf("%s: gap of %v between node%d and node%d", c, gap, a.node, b.node)
			}
		}
	}
}

// TestClusterRedirects: a live viewer and a publisher of a camera that another node owns are
// sent there with 302 and the owner's URL.
func TestClusterRedirects(t *testing.T) {
	needTool(t, "etcd")
	needGstElement(t, "x264enc", "rtph264pay")
	etcd := etcdtest.Start(t)
	cam := startGstCamera(t, "", "")
	nodes := startClusterNodes(t, etcd, 2, fmt.Sprintf("cameras:\n  lobby:\n    url: rtsp://%s/h264\n", cam))
	own := waitAssigned(t, nodes, []string{"lobby"}, -1)["lobby"]
	other := 1 - own
	want := "Location: rtsp://" + nodes[own].rtsp + "/lobby"
	resp, err := rawRequest(nodes[other].rtsp, "DESCRIBE rtsp://"+nodes[other].rtsp+"/lobby RTSP/1.0\r\nCSeq: 1\r\n\r\n")
	if err != nil || !strings.HasPrefix(resp, "RTSP/1.0 302") || !strings.Contains(resp, want) {
		t.Fatalf("DESCRIBE of lobby on the other node: %q, %v; want 302 with %q", resp, err, want)
	}
	resp, err = rawRequest(nodes[own].rtsp, "DESCRIBE rtsp://"+nodes[own].rtsp+"/lobby RTSP/1.0\r\nCSeq: 1\r\n\r\n")
	if err != nil || !strings.HasPrefix(resp, "RTSP/1.0 200") {
		t.Fatalf("DESCRIBE of lobby on its owner: %q, %v; want 200", resp, err)
	}
}

// movingCamera returns a camera name that the assignment gives to one of the first two of
// three equal nodes while they are alone, and to the third once it joins.
func movingCamera(t *testing.T) string {
	t.Helper()
	two := []cluster.Member{{Name: "node0", Capacity: cluster.DefaultCapacity}, {Name: "node1", Capacity: cluster.DefaultCapacity}}
	three := append(slices.Clone(two), cluster.Member{Name: "node2", Capacity: cluster.DefaultCapacity})
	for i := range 1000 {
		c := fmt.Sprintf("moving%d", i)
		if cluster.Assign([]string{c}, three)[c] == "node2" {
			return c
		}
	}
	t.Fatal("no camera name moves to node2")
	return ""
}

// movingCameraCluster starts node0 and node1 of a three-node cluster (their HTTP ports fixed
// with fixHTTP) pulling one GStreamer camera whose name moves to node2 when it joins (not
// started); it returns the nodes, the camera and the node that records it.
func movingCameraCluster(t *testing.T, fixHTTP bool) (nodes []*server, camera string, first int) {
	t.Helper()
	needGstElement(t, "x264enc", "rtph264pay")
	etcd := etcdtest.Start(t)
	cam := startGstCamera(t, "", "")
	c := movingCamera(t)
	nodes = clusterNodes(t, etcd, 3, fmt.Sprintf("cameras:\n  %s:\n    url: rtsp://%s/h264\n", c, cam), fixHTTP)
	for _, s := range nodes[:2] {
		s.start()
		t.Cleanup(s.stop)
	}
	return nodes, c, waitAssigned(t, nodes, []string{c}, 2)[c]
}

// TestClusterLiveViewerFollowsMove: a live viewer of a pulled camera (camvault's own RTSP
// client) gets a REDIRECT when a joining node takes the camera over, follows it to the new
// owner and receives the camera's media from there.
func TestClusterLiveViewerFollowsMove(t *testing.T) {
	nodes, c, first := movingCameraCluster(t, false)

	var mu sync.Mutex
	var moves []rtsp.ClientRedirect
	var packets, after int
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	client, err := rtsp.Dial(ctx, rtsp.ClientConfig{URL: "rtsp://" + nodes[first].rtsp + "/" + c, Transport: "tcp",
		OnRedirect: func(r rtsp.ClientRedirect) {
			mu.Lock()
			moves = append(moves, r)
			mu.Unlock()
		},
		OnRTP: func(int, []byte) {
			mu.Lock()
			packets++
			if len(moves) > 0 {
				after++
			}
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	runErr := make(chan error, 1)
	go func() { runErr <- client.Run(ctx) }()
	received := func(what string, cond func() bool) {
		t.Helper()
		rtsptest.WaitWithin(t, 60*time.Second, what, func() bool {
			select {
			case err := <-runErr:
				t.Fatalf("the viewer stopped: %v", err)
			default:
			}
			mu.Lock()
			defer mu.Unlock()
			return cond()
		})
	}
	received("live packets from the first owner", func() bool { return packets > 50 })

	nodes[2].start()
	t.Cleanup(nodes[2].stop)
	waitAssigned(t, nodes, []string{c}, -1)
	received("a REDIRECT followed and packets from the new owner", func() bool { return len(moves) > 0 && after > 50 })
	mu.Lock()
	defer mu.Unlock()
	if want := "rtsp://" + nodes[2].rtsp + "/" + c; len(moves) != 1 || moves[0].To != want {
		t.Fatalf("moves %+v, want one to %s", moves, want)
	}
	nodes[first].waitLogLine(10*time.Second, `msg="live viewer redirected: the camera moved"`, "camera="+c)
}

// TestClusterPartition: a node paused (SIGSTOP) past its lease loses its cameras to the
// others; resumed, it learns so, and nothing it commits after the resume is indexed under the
// revision it held (its segments under that revision all end before the resume). It then
// rejoins and the assignment gives it its share back, under revisions above the takeover's.
func TestClusterPartition(t *testing.T) {
	needGstElement(t, "x264enc", "rtph264pay")
	etcd := etcdtest.Start(t)
	cam := startGstCamera(t, "", "")
	yaml, cams := pulledCameras(cam, "part", 4)
	nodes := startClusterNodes(t, etcd, 2, yaml)
	owner := waitAssigned(t, nodes, cams, -1)
	paused := owner[cams[0]]
	var held []string
	for _, c := range cams {
		if owner[c] == paused {
			held = append(held, c)
			nodes[paused].waitFragments(c, 2)
		}
	}
	p := nodes[paused].cmd.Process
	pausedAt := time.Now()
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumeOnce := sync.OnceFunc(func() { _ = p.Signal(syscall.SIGCONT) })
	t.Cleanup(resumeOnce)
	other := 1 - paused
	rtsptest.WaitWithin(t, clusterLeaseTTL+20*time.Second, "the paused node's cameras recording on the other", func() bool {
		for _, c := range held {
			if ownerNow([]*server{nodes[other]}, c, -1) < 0 {
				return false
			}
		}
		return true
	})
	for _, c := range held {
		nodes[other].waitFragments(c, 2)
	}
	resumed := time.Now()
	resumeOnce()
	for _, c := range held {
		nodes[paused].waitLogLine(20*time.Second, `msg="camera lost"`, "camera="+c)
	}
	for _, s := range nodes {
		s.stop()
	}
	for _, c := range held {
		// The revision the paused node held, and the one the other node took over with.
		var heldRev, takenRev int64
		for _, info := range nodes[paused].segments(c) {
			if info.Start.Before(pausedAt) {
				heldRev = max(heldRev, info.Revision)
			}
		}
		for _, info := range nodes[other].segments(c) {
			if info.Start.Before(resumed) {
				takenRev = max(takenRev, info.Revision)
			}
		}
		if heldRev <= 0 || takenRev <= heldRev {
			t.Fatalf("%s: held under revision %d, taken over under %d: want 0 < held < taken", c, heldRev, takenRev)
		}
		for _, info := range nodes[paused].segments(c) {
			switch {
			case info.Revision == heldRev && info.End.After(resumed):
				t.Errorf("%s: the paused node indexed %v-%v under its old revision %d after it resumed at %v", c,
					info.Start, info.End, info.Revision, resumed)
			case info.Revision > 0 && info.End.After(resumed) && info.Revision <= takenRev:
				t.Errorf("%s: the paused node recorded %v-%v under revision %d after it resumed, not above the takeover's %d",
					c, info.Start, info.End, info.Revision, takenRev)
			case info.Revision <= 0:
				t.Logf("%s: the paused node kept %v-%v in doubt (revision %d)", c, info.Start, info.End, info.Revision)
			}
		}
	}
}

// TestClusterScript: scripts/cluster.sh starts etcd, the S3 server, simulated cameras and
// three nodes that share the cameras out, reports who records what, and stops everything it
// started.
func TestClusterScript(t *testing.T) {
	needTool(t, "etcd", "curl")
	if _, err := s3test.FindWeed(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	env := append(os.Environ(), "CLUSTER_DIR="+dir, fmt.Sprintf("CLUSTER_PORT=%d", freeRange(t, 80)))
	script := func(args ...string) string {
		cmd := exec.Command("bash", append([]string{"../../scripts/cluster.sh"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cluster.sh %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			script("stop")
		}
	})
	t.Log(script("start", "3"))
	var status string
	rtsptest.WaitWithin(t, 60*time.Second, "every camera recorded by one node", func() bool {
		status = script("status")
		for k := range 3 {
			if strings.Count(status, fmt.Sprintf(" cam%d", k)) != 1 {
				return false
			}
		}
		return true
	})
	t.Log(status)
	var pids []int
	for _, name := range []string{"etcd", "weed", "cameras", "node0", "node1", "node2"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".pid"))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		pids = append(pids, pid)
	}
	t.Log(script("stop"))
	stopped = true
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("pid %d still runs after stop", pid)
		}
	}
}

// freeRange returns the first of n consecutive loopback TCP ports that were free a moment ago,
// below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768 and up by default):
// a port there may become the local end of any outgoing connection between this check and the
// script's bind (weed's own gRPC connections took one, and etcd could not listen).
func freeRange(t *testing.T, n int) int {
	t.Helper()
	const lo, hi = 10000, 32768
	start := lo + rand.IntN(hi-lo-n)
	for i := 0; i < (hi-lo)/n; i++ {
		base := lo + (start-lo+i*n)%(hi-lo-n)
		free := true
		for p := base; p < base+n && free; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/camvault/camvault/cluster"
	"github.com/camvault/camvault/internal/etcdtest"
)

// TestMembers: nodes register under their lease with their URLs and capacity, see each
// other, and a node that stops leaves the list at once (it revokes its lease).
func TestMembers(t *testing.T) {
	t.Parallel()
	etcd := etcdtest.Start(t)
	a := startNode(t, etcd.Endpoint(), "a", nodeOptions{capacity: 100})
	b := startNode(t, etcd.Endpoint(), "b", nodeOptions{capacity: 300})
	names := func(n *testNode) []string {
		var out []string
		for _, m := range n.Members() {
			out = append(out, m.Name)
		}
		return out
	}
	waitFor(t, "a and b see each other", func() bool {
		return slices.Equal(names(a), []string{"a", "b"}) && slices.Equal(names(b), []string{"a", "b"})
	})
	mb := a.Members()[1]
	if mb.Capacity != 300 || mb.RTSPURL != "rtsp://b.test:8554" || mb.HTTPURL != "http://b.test:8080" || mb.Started.IsZero() {
		t.Errorf("a sees b as %+v", mb)
	}
	if a.State() != cluster.StateLive {
		t.Errorf("a: state %v", a.State())
	}
	startNode(t, etcd.Endpoint(), "c", nodeOptions{})
	waitFor(t, "a sees c", func() bool { return slices.Contains(names(a), "c") })
	if m := a.Members()[2]; m.Capacity != cluster.DefaultCapacity {
		t.Errorf("c's default capacity: %+v", m)
	}
	// A second node with c's name waits while c's lease lives.
	dup := startNode(t, etcd.Endpoint(), "c", nodeOptions{})
	if _, err := dup.Claim(t.Context(), "x"); !errors.Is(err, cluster.ErrUnavailable) {
		t.Errorf("claim by a node whose name is taken: %v, want ErrUnavailable", err)
	}
}

// TestClaimRace: two nodes claim the same free cameras at the same time: exactly one wins
// each, the other learns the winner's URLs and revision, and Verify agrees with etcd.
func TestClaimRace(t *testing.T) {
	t.Parallel()
	etcd := etcdtest.Start(t)
	a := startNode(t, etcd.Endpoint(), "a", nodeOptions{})
	b := startNode(t, etcd.Endpoint(), "b", nodeOptions{})
	waitFor(t, "both live", func() bool { return a.State() == cluster.StateLive && b.State() == cluster.StateLive })
	for _, cam := range cameras(20) {
		type result struct {
			n   *testNode
			rev int64
			err error
		}
		results := make(chan result, 2)
		var start sync.WaitGroup
		start.Add(1)
		for _, n := range []*testNode{a, b} {
			go func() {
				start.Wait()
				rev, err := n.Claim(t.Context(), cam)
				results <- result{n, rev, err}
			}()
		}
		start.Done()
		r1, r2 := <-results, <-results
		if (r1.err == nil) == (r2.err == nil) {
			t.Fatalf("%s: %s got %d, %v; %s got %d, %v: want exactly one winner", cam, r1.n.name, r1.rev, r1.err, r2.n.name, r2.rev, r2.err)
		}
		win, lose := r1, r2
		if r1.err != nil {
			win, lose = r2, r1
		}
		var owned *cluster.OwnedError
		if !errors.As(lose.err, &owned) || owned.Owner.Node != win.n.name || owned.Owner.Revision != win.rev ||
			owned.Owner.RTSPURL != "rtsp://"+win.n.name+".test:8554" {
			t.Fatalf("%s: loser's error %v, want owned by %s at %d", cam, lose.err, win.n.name, win.rev)
		}
		if rev, ok := win.n.Fence(cam); !ok || rev != win.rev {
			t.Fatalf("%s: winner's Fence %d, %v", cam, rev, ok)
		}
		if _, ok := lose.n.Fence(cam); ok {
			t.Fatalf("%s: loser's Fence is ok", cam)
		}
		if err := lose.n.Verify(t.Context(), cam, win.rev); err != nil {
			t.Fatalf("%s: Verify of the winner's revision: %v", cam, err)
		}
		if err := lose.n.Verify(t.Context(), cam, win.rev-1); !errors.Is(err, cluster.ErrNotOwner) {
			t.Fatalf("%s: Verify of another revision: %v", cam, err)
		}
		// Claiming again is idempotent for the winner.
		if rev, err := win.n.Claim(t.Context(), cam); err != nil || rev != win.rev {
			t.Fatalf("%s: second claim by the winner: %d, %v", cam, rev, err)
		}
		e := win.n.waitEvent(t, "gained "+cam, kind(cluster.EventGained))
		if e.Camera != cam || e.Revision != win.rev {
			t.Fatalf("winner's event %+v", e)
		}
	}
	waitFor(t, "a's view of the owners", func() bool {
		o, ok := a.Owner("cam-019")
		return ok && o.Revision == owners(t, etcdtest.NewClient(t, etcd.Endpoint()))["cam-019"]
	})
	if _, err := a.Claim(t.Context(), "../etc"); !errors.Is(err, cluster.ErrInvalidName) {
		t.Errorf("claim of a bad name: %v", err)
	}
}

// TestTakeover: a forced, fenced handover. The old owner's Fence turns false, its Release
// cannot delete the new owner's key, and only the new revision verifies.
func TestTakeover(t *testing.T) {
	t.Parallel()
	raw, a, b := startPair(t)
	old, err := a.Claim(t.Context(), "door")
	if err != nil {
		t.Fatal(err)
	}
	var owned *cluster.OwnedError
	if _, err := b.Claim(t.Context(), "door"); !errors.As(err, &owned) || owned.Owner.HTTPURL != "http://a.test:8080" {
		t.Fatalf("b's claim: %v, want owned by a", err)
	}
	rev, err := b.Takeover(t.Context(), "door")
	if err != nil || rev <= old {
		t.Fatalf("takeover: %d, %v (old revision %d)", rev, err, old)
	}
	e := a.waitEvent(t, "lost door", kind(cluster.EventLost))
	if e.Camera != "door" || e.Revision != old {
		t.Fatalf("a's event %+v", e)
	}
	if _, ok := a.Fence("door"); ok {
		t.Fatal("a's Fence is ok after the takeover")
	}
	if err := a.Release(t.Context(), "door"); err != nil {
		t.Fatal(err)
	}
	if got := owners(t, raw)["door"]; got != rev {
		t.Fatalf("after a's release the owner key is at %d, want b's %d", got, rev)
	}
	if err := a.Verify(t.Context(), "door", old); !errors.Is(err, cluster.ErrNotOwner) {
		t.Fatalf("Verify of the old revision: %v", err)
	}
	if err := a.Verify(t.Context(), "door", rev); err != nil {
		t.Fatalf("Verify of the new revision: %v", err)
	}
	// Taking over what it owns returns its revision; releasing frees the camera.
	if r, err := b.Takeover(t.Context(), "door"); err != nil || r != rev {
		t.Fatalf("takeover of its own camera: %d, %v", r, err)
	}
	if err := b.Release(t.Context(), "door"); err != nil {
		t.Fatal(err)
	}
	if _, ok := owners(t, raw)["door"]; ok {
		t.Fatal("owner key left after the owner's release")
	}
	if r, err := a.Claim(t.Context(), "door"); err != nil || r <= rev {
		t.Fatalf("claim after release: %d, %v", r, err)
	}
}

// runPulled starts names as nodes pulling cams, with the exclusive check installed, and
// waits until every camera is owned. It returns the nodes in order.
func runPulled(t *testing.T, endpoints []string, names []string, cams []string, x *exclusive) []*testNode {
	t.Helper()
	nodes := make([]*testNode, len(names))
	for i, name := range names {
		nodes[i] = startNode(t, endpoints[i], name, nodeOptions{pulled: cams, onGained: x.onGained(name)})
		x.add(nodes[i])
	}
	waitFor(t, "every camera owned once, as assigned", func() bool {
		return assignedAndOwned(nodes, cams)
	})
	return nodes
}

// assignedAndOwned reports whether every camera is owned by exactly the node Assign gives
// it among the nodes.
func assignedAndOwned(nodes []*testNode, cams []string) bool {
	var ms []cluster.Member
	owner := map[string]string{}
	for _, n := range nodes {
		ms = append(ms, cluster.Member{Name: n.name, Capacity: cluster.DefaultCapacity})
		for c := range n.Owned() {
			if owner[c] != "" {
				return false
			}
			owner[c] = n.name
		}
	}
	return maps.Equal(owner, cluster.Assign(cams, ms))
}

// TestFailover: a node cut off from etcd past its lease TTL (its proxy blocks: the same
// for etcd as a kill -9 or a SIGSTOP) turns its Fence false before any other node can
// claim its cameras; the survivors record them within TTL + 5 s. When it comes back it
// learns its lease expired, reports every camera lost, registers again and gets its share
// back by the assignment, under new revisions. A node that stops hands its cameras over at
// once.
func TestFailover(t *testing.T) {
	t.Parallel()
	etcd := etcdtest.Start(t)
	proxy := etcdtest.NewProxy(t, etcd.Endpoint())
	cams := cameras(300)
	x := &exclusive{}
	nodes := runPulled(t, []string{etcd.Endpoint(), etcd.Endpoint(), proxy.Endpoint()}, []string{"a", "b", "c"}, cams, x)
	a, b, c := nodes[0], nodes[1], nodes[2]
	before := c.Owned()
	if len(before) == 0 {
		t.Fatalf("c owns none of %d cameras", len(cams))
	}

	proxy.Block()
	blocked := time.Now()
	c.waitEvent(t, "in doubt", kind(cluster.EventInDoubt))
	waitFor(t, "a and b own c's cameras", func() bool { return assignedAndOwned([]*testNode{a, b}, cams) })
	failover := time.Since(blocked)
	t.Logf("c's %d cameras recorded by a and b %v after c was cut off (TTL %v)", len(before), failover, testTTL)
	if failover > testTTL+5*time.Second {
		t.Errorf("failover took %v, more than TTL + 5 s", failover)
	}
	for cam := range before {
		if _, ok := c.Fence(cam); ok {
			t.Errorf("c's Fence is ok for %s after it moved", cam)
		}
	}
	if c.State() != cluster.StateInDoubt {
		t.Errorf("c's state while cut off: %v", c.State())
	}

	proxy.Unblock()
	for range before {
		e := c.waitEvent(t, "lost", kind(cluster.EventLost))
		if e.Revision != before[e.Camera] {
			t.Errorf("c lost %s at %d, owned it at %d", e.Camera, e.Revision, before[e.Camera])
		}
	}
	c.waitEvent(t, "registered again", kind(cluster.EventRegistered))
	waitFor(t, "c back with its share", func() bool { return assignedAndOwned(nodes, cams) })
	for cam, rev := range c.Owned() {
		if rev <= before[cam] {
			t.Errorf("c owns %s again at %d, not after its old revision %d", cam, rev, before[cam])
		}
	}

	// b stops: its lease is revoked, its cameras move at once (well inside a TTL).
	bOwned := b.Owned()
	stopped := time.Now()
	b.stop()
	waitFor(t, "a and c own b's cameras", func() bool { return assignedAndOwned([]*testNode{a, c}, cams) })
	handover := time.Since(stopped)
	t.Logf("b's %d cameras recorded by a and c %v after b stopped", len(bOwned), handover)
	if handover >= testTTL {
		t.Errorf("b's cameras moved %v after it stopped: the lease expired rather than being revoked", handover)
	}
	x.check(t)
}

// TestEtcdDown: etcd stops for everyone. The nodes keep what they own (in doubt: Fence is
// not ok, nothing new is claimed), log it once, and when etcd is back with their leases
// alive nothing has moved: same owners, same revisions, Fence ok again.
func TestEtcdDown(t *testing.T) {
	t.Parallel()
	etcd := etcdtest.Start(t)
	raw := etcdtest.NewClient(t, etcd.Endpoint())
	cams := cameras(8)
	x := &exclusive{}
	nodes := runPulled(t, []string{etcd.Endpoint(), etcd.Endpoint()}, []string{"a", "b"}, cams, x)
	a, b := nodes[0], nodes[1]
	pushed, err := a.Claim(t.Context(), "pushed")
	if err != nil {
		t.Fatal(err)
	}
	keys := owners(t, raw)
	held := map[string]map[string]int64{"a": a.Owned(), "b": b.Owned()}
	// Drop the events so far: from here on only in doubt and confirmed may come.
	for _, n := range nodes {
		for len(n.events) > 0 {
			<-n.events
		}
	}

	logged := map[string]int{}
	for _, n := range nodes {
		logged[n.name] = n.logs.count("etcd unreachable") + n.logs.count("etcd reachable again")
	}
	etcd.Stop()
	for _, n := range nodes {
		n.waitEvent(t, "in doubt", kind(cluster.EventInDoubt))
		if n.State() != cluster.StateInDoubt {
			t.Errorf("%s: state %v while etcd is down", n.name, n.State())
		}
		for cam := range held[n.name] {
			if _, ok := n.Fence(cam); ok {
				t.Errorf("%s: Fence of %s is ok while in doubt", n.name, cam)
			}
		}
		if !maps.Equal(n.Owned(), held[n.name]) {
			t.Errorf("%s: owns %v while etcd is down, owned %v", n.name, n.Owned(), held[n.name])
		}
	}
	if _, err := b.Claim(t.Context(), "new"); !errors.Is(err, cluster.ErrUnavailable) {
		t.Errorf("claim while in doubt: %v, want ErrUnavailable", err)
	}

	// etcd stays down for three lease TTLs: longer than any lease lives. etcd extends every
	// lease when it starts, so the outage's length does not matter (the is 30 s).
	<-time.After(3 * testTTL)
	etcd.Start()
	for _, n := range nodes {
		e := n.waitEvent(t, "confirmed", func(e cluster.Event) bool { return e.Kind != cluster.EventInDoubt })
		if e.Kind != cluster.EventConfirmed {
			t.Fatalf("%s: %+v after etcd came back, want confirmed", n.name, e)
		}
		if !maps.Equal(n.Owned(), held[n.name]) {
			t.Errorf("%s: owns %v after the outage, owned %v", n.name, n.Owned(), held[n.name])
		}
		if got := n.logs.count("etcd unreachable") + n.logs.count("etcd reachable again") - logged[n.name]; got != 2 {
			t.Errorf("%s: %d lines of etcd unreachable and reachable again for one outage, want 2", n.name, got)
		}
		for cam, rev := range held[n.name] {
			if got, ok := n.Fence(cam); !ok || got != rev {
				t.Errorf("%s: Fence of %s after the outage: %d, %v; want %d", n.name, cam, got, ok, rev)
			}
		}
	}
	if got := owners(t, raw); !maps.Equal(got, keys) {
		t.Errorf("owner keys after the outage %v, before %v", got, keys)
	}
	if err := b.Verify(t.Context(), "pushed", pushed); err != nil {
		t.Error(err)
	}
	x.check(t)
}

// TestStartWithoutEtcd: a node started while etcd is down waits, claiming nothing, and
// registers and takes its cameras once etcd is up.
func TestStartWithoutEtcd(t *testing.T) {
	t.Parallel()
	etcd := etcdtest.Start(t)
	etcd.Stop()
	a := startNode(t, etcd.Endpoint(), "a", nodeOptions{pulled: cameras(3)})
	if _, err := a.Claim(t.Context(), "pushed"); !errors.Is(err, cluster.ErrUnavailable) {
		t.Errorf("claim before registration: %v, want ErrUnavailable", err)
	}
	if a.State() != cluster.StateJoining {
		t.Errorf("state while etcd is down: %v", a.State())
	}
	etcd.Start()
	for range 3 {
		a.waitEvent(t, "gained", kind(cluster.EventGained))
	}
	if a.State() != cluster.StateLive || len(a.Owned()) != 3 {
		t.Errorf("after etcd came up: state %v, owns %v", a.State(), a.Owned())
	}
}

// TestBeforeRelease: a pulled camera that the assignment moves to a joining node is handed
// to BeforeRelease while its old owner's Fence still holds, and released after it returns.
func TestBeforeRelease(t *testing.T) {
	etcd := etcdtest.Start(t)
	cams := make([]string, 12)
	for i := range cams {
		cams[i] = fmt.Sprintf("cam%02d", i)
	}
	var mu sync.Mutex
	drained := map[string]bool{}
	var a *testNode
	a = startNode(t, etcd.Endpoint(), "a", nodeOptions{pulled: cams, beforeRelease: func(_ context.Context, c string) {
		if _, ok := a.Fence(c); !ok {
			t.Errorf("BeforeRelease(%s): Fence is not ok", c)
		}
		mu.Lock()
		drained[c] = true
		mu.Unlock()
	}})
	waitFor(t, "a owns every camera", func() bool { return len(a.Owned()) == len(cams) })
	b := startNode(t, etcd.Endpoint(), "b", nodeOptions{pulled: cams})
	waitFor(t, "the cameras shared as assigned", func() bool { return assignedAndOwned([]*testNode{a, b}, cams) })
	mu.Lock()
	defer mu.Unlock()
	for c := range b.Owned() {
		if !drained[c] {
			t.Errorf("%s moved to b without BeforeRelease on a", c)
		}
	}
	if len(drained) != len(b.Owned()) {
		t.Errorf("BeforeRelease called for %d cameras, %d moved", len(drained), len(b.Owned()))
	}
}

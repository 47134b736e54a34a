package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/cluster"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/peer"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/tier"
)

// clusterParts is this node's part in a cluster (package cluster): etcd ownership decides
// which pulled cameras it records and under which fencing revision, and where clients of
// cameras owned by another node are sent. Nil when the cluster section is off.
type clusterParts struct {
	node   *cluster.Node
	cfg    *fileConfig
	self   string
	pulled map[string]bool // recorded pulled cameras: assigned by the cluster
	log    *slog.Logger

	pull  *ingest.Pull  // set before the node runs
	peers *peer.Remote  // the owners' segments not uploaded yet, for archives and spans
	dirty chan struct{} // the owned set changed: update the pulls

	// mu guards the fields below.
	mu       sync.Mutex
	owned    map[string]int64
	draining map[string]bool // owned cameras being handed to another node: stopped first
	pushing  map[string]bool // pushed cameras recording here
	// claimPending: EventConfirmed came; updateLoop claims the pushed cameras not owned.
	claimPending bool
	redirected   map[redirectKey]time.Time // pushes sent to another owner, by camera and peer
}

// redirectKey is a pushed camera and the publisher's address that was redirected.
type redirectKey struct {
	camera string
	peer   netip.Addr
}

// pushRetryWindow is how long after a publisher was redirected to the camera's owner its next
// ANNOUNCE of the camera here takes the camera over instead: the publisher did not follow the
// redirect (ffmpeg does not follow a 302 to ANNOUNCE), and a camera must never be left
// unrecorded because of it.
const pushRetryWindow = time.Minute

// maxRedirected bounds the remembered redirects of publishers.
const maxRedirected = 4096

// newClusterParts builds the node (not run yet) when the cluster section is on.
func newClusterParts(cfg *fileConfig, log *slog.Logger) (*clusterParts, error) {
	if !cfg.Cluster.Enabled() {
		return nil, nil
	}
	cp := &clusterParts{cfg: cfg, self: cfg.Cluster.Node, pulled: map[string]bool{}, log: log.With("component", "cluster"),
		dirty: make(chan struct{}, 1), owned: map[string]int64{}, draining: map[string]bool{}, pushing: map[string]bool{}, redirected: map[redirectKey]time.Time{}}
	cc := cfg.Cluster
	for _, c := range cfg.pullCameras() {
		if !c.OnDemand {
			cp.pulled[c.Name] = true
			cc.Pulled = append(cc.Pulled, c.Name)
		}
	}
	cc.OnEvent, cc.BeforeRelease, cc.Logger = cp.event, cp.drain, log
	node, err := cluster.New(cc)
	if err != nil {
		return nil, err
	}
	cp.node = node
	pc := cfg.Peer
	pc.Logger = log
	client, err := peer.NewClient(pc, nil)
	if err != nil {
		return nil, err
	}
	cp.peers = peer.NewRemote(client, cp.peerOwner, cp.peerNode, log)
	return cp, nil
}

// peerOwner returns the owner of camera, when it is another live node, as package peer reads
// from it.
func (cp *clusterParts) peerOwner(camera string) (peer.Node, bool) {
	o, ok := cp.node.Owner(camera)
	if !ok || o.Node == cp.self {
		return peer.Node{}, false
	}
	return cp.peerNode(o.Node)
}

// peerNode returns the live node called name with its HTTP URL and peer token.
func (cp *clusterParts) peerNode(name string) (peer.Node, bool) {
	m, ok := cp.node.Member(name)
	if !ok || m.HTTPURL == "" || m.PeerToken == "" {
		return peer.Node{}, false
	}
	return peer.Node{Name: name, HTTPURL: m.HTTPURL, Token: m.PeerToken}, true
}

// clusterLive adapts the cluster's ownership to api.LivePeers: a live view of a camera
// another live node owns is relayed from there.
type clusterLive struct{ cp *clusterParts }

// LiveOwner implements api.LivePeers.
func (c clusterLive) LiveOwner(camera string) (api.PeerNode, bool) {
	n, ok := c.cp.peerOwner(camera)
	return api.PeerNode{Name: n.Name, URL: n.HTTPURL, Token: n.Token}, ok
}

// peerStats returns the metrics' source of the peer reads' failures, nil outside a cluster.
func (cp *clusterParts) peerStats() func() (uint64, uint64) {
	if cp == nil {
		return nil
	}
	return func() (uint64, uint64) {
		st := cp.peers.Stats()
		return st.ListFailures, st.ReadFailures
	}
}

// peerHandler serves this node's segments not uploaded yet to the other nodes.
func (cp *clusterParts) peerHandler(store *storage.Store) (*peer.Handler, error) {
	pc := cp.cfg.Peer
	pc.Logger = cp.log
	return peer.NewHandler(pc, store, cp.node.PeerToken())
}

// event follows what this node owns; the pulls are updated by updateLoop.
func (cp *clusterParts) event(e cluster.Event) {
	cp.mu.Lock()
	switch e.Kind {
	case cluster.EventGained:
		cp.owned[e.Camera] = e.Revision
	case cluster.EventLost:
		delete(cp.owned, e.Camera)
		delete(cp.draining, e.Camera)
	case cluster.EventConfirmed, cluster.EventRegistered:
		// etcd answers again, or the node registered again after its lease expired: pushed
		// cameras recorded without a claim meanwhile are claimed by updateLoop.
		cp.claimPending = true
	}
	cp.mu.Unlock()
	select {
	case cp.dirty <- struct{}{}:
	default:
	}
}

// pullCameras returns the pulled cameras this node runs: the on-demand ones (never recorded,
// pulled for the viewers of this node) and the recorded ones it owns.
func (cp *clusterParts) pullCameras() []ingest.PullCamera {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return slices.DeleteFunc(cp.cfg.pullCameras(), func(c ingest.PullCamera) bool {
		_, owned := cp.owned[c.Name]
		return cp.pulled[c.Name] && (!owned || cp.draining[c.Name])
	})
}

// drain is the cluster's BeforeRelease: a pulled camera assigned to another node stops here
// while this node still owns it, so that its last fragment is committed under the owned
// revision; the cluster then releases it and the new owner claims it.
func (cp *clusterParts) drain(ctx context.Context, camera string) {
	cp.mu.Lock()
	cp.draining[camera] = true
	cp.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		cp.pull.Update(cp.pullCameras()) // returns once the camera's session is torn down
	}()
	select {
	case <-done:
	case <-ctx.Done():
		cp.log.Warn("camera not stopped before its release", "camera", camera)
	}
}

// updateLoop starts and stops the pulled cameras as ownership moves, off the cluster's event
// goroutine (Update waits for stopped cameras to tear down).
func (cp *clusterParts) updateLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-cp.dirty:
			cp.claimUnowned()
			cp.pull.Update(cp.pullCameras())
		}
	}
}

// claimUnowned claims, after EventConfirmed, the pushed cameras that this node records
// without a claim because etcd could not be asked when their publishers came (claimPush).
// Their segments in doubt are published once the claim is the first owner since (verify).
func (cp *clusterParts) claimUnowned() {
	cp.mu.Lock()
	var cams []string
	if cp.claimPending {
		for c := range cp.pushing {
			if _, owned := cp.owned[c]; !owned {
				cams = append(cams, c)
			}
		}
	}
	cp.claimPending = false
	cp.mu.Unlock()
	for _, c := range cams {
		if err := cp.claimPush(c); err != nil {
			cp.log.Warn("pushed camera recorded without a claim is not claimed", "camera", c, "err", err)
		}
	}
}

// fence is the recorder's Config.Fence: pushed and pulled cameras alike are recorded under
// this node's ownership revision.
func (cp *clusterParts) fence(camera string) (int64, bool) { return cp.node.Fence(camera) }

// verify is tier's Config.Verify: it returns the revision a segment is published under. A
// segment under a positive revision was committed fragment by fragment while Fence held
// (the recorder starts a segment in doubt the moment it does not), so it is published under
// it even after the camera moved on or was released: it is the owner's recording of its
// time. Revision 0 was recorded before the cluster was on. A segment recorded in doubt
// (negative revision -X) is published only under the positive revision etcd confirms
// (cluster.Node.Confirm): X itself when this node's ownership at X went on through the
// doubt, or the revision of this node's claim when the camera had no owner from X until
// then (a pushed camera recorded while etcd was unreachable, claimed when it came back);
// otherwise it stays local, refused (tier.ErrFenced). A camera not claimed yet is asked
// again later while it is pushed here (its claim follows EventConfirmed).
func (cp *clusterParts) verify(ctx context.Context, camera string, rev int64) (int64, error) {
	if rev >= 0 {
		return rev, nil
	}
	pub, err := cp.node.Confirm(ctx, camera, -rev)
	switch {
	case errors.Is(err, cluster.ErrUnclaimed) && cp.isPushing(camera):
		return 0, err
	case errors.Is(err, cluster.ErrUnclaimed), errors.Is(err, cluster.ErrNotOwner):
		return 0, fmt.Errorf("%w: %w", tier.ErrFenced, err)
	}
	return pub, err
}

// isPushing reports whether a publisher of camera records here.
func (cp *clusterParts) isPushing(camera string) bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.pushing[camera]
}

// ownerElsewhere returns the owner of camera when it is another node.
func (cp *clusterParts) ownerElsewhere(camera string) (cluster.Owner, bool) {
	o, ok := cp.node.Owner(camera)
	if !ok || o.Node == cp.self || o.RTSPURL == "" {
		return cluster.Owner{}, false
	}
	return o, true
}

// redirectTo returns the error that sends a client of path to the owner's RTSP URL.
func redirectTo(o cluster.Owner, path string) *rtsp.RedirectError {
	return &rtsp.RedirectError{Location: strings.TrimSuffix(o.RTSPURL, "/") + "/" + path,
		Err: errors.New("camera is owned by node " + o.Node)}
}

// liveRedirect sends a live viewer of a camera owned by another node there (302).
func (cp *clusterParts) liveRedirect(path string) error {
	if o, ok := cp.ownerElsewhere(path); ok {
		return redirectTo(o, path)
	}
	return nil
}

// movedPoll is how often moved looks at the cluster's view of the owners (local, no etcd
// request) while it waits for a moved camera's new owner.
const movedPoll = 50 * time.Millisecond

// moved is live's Config.Moved: a pulled camera that this node stopped recording because the
// cluster gave it to another node (drained, or lost) is live there once that node claims it,
// within the lease TTL plus 5 s; its viewers are sent there. A camera this node still owns and
// keeps (it went offline) or a pushed one (its publisher left) has moved nowhere.
func (cp *clusterParts) moved(ctx context.Context, camera string) (string, bool) {
	if !cp.pulled[camera] {
		return "", false
	}
	cp.mu.Lock()
	handing := cp.draining[camera]
	cp.mu.Unlock()
	if _, owned := cp.node.Fence(camera); owned && !handing {
		return "", false
	}
	ctx, cancel := context.WithTimeout(ctx, cp.cfg.Cluster.LeaseTTL+5*time.Second)
	defer cancel()
	t := time.NewTicker(movedPoll)
	defer t.Stop()
	for {
		if o, ok := cp.ownerElsewhere(camera); ok {
			return redirectTo(o, camera).Location, true
		}
		select {
		case <-ctx.Done():
			return "", false
		case <-t.C:
		}
	}
}

// pushRedirect sends a publisher of a camera that another live node owns there (302), unless
// the same publisher was sent there within pushRetryWindow and came back: then it records
// here and the camera is taken over at RECORD (claimPush).
func (cp *clusterParts) pushRedirect(camera string, peer netip.Addr) error {
	o, ok := cp.ownerElsewhere(camera)
	if !ok {
		return nil
	}
	k := redirectKey{camera, peer}
	now := time.Now()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if at, seen := cp.redirected[k]; seen && now.Sub(at) < pushRetryWindow {
		delete(cp.redirected, k)
		cp.log.Info("publisher came back instead of following the redirect: taking the camera over",
			"camera", camera, "peer", peer, "owner", o.Node)
		return nil
	}
	if len(cp.redirected) >= maxRedirected {
		for k, at := range cp.redirected {
			if now.Sub(at) >= pushRetryWindow {
				delete(cp.redirected, k)
			}
		}
		if len(cp.redirected) >= maxRedirected {
			clear(cp.redirected)
		}
	}
	cp.redirected[k] = now
	return redirectTo(o, camera)
}

// claimPush makes this node the owner of a pushed camera as its recording starts: a free
// camera is claimed, one owned by another node is taken over through the fenced handover (the
// publisher came here, so the other node no longer receives it). Pulled cameras are the
// cluster's to assign.
func (cp *clusterParts) claimPush(camera string) error {
	if cp.pulled[camera] {
		return nil
	}
	cp.mu.Lock()
	cp.pushing[camera] = true
	cp.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cp.cfg.Cluster.RequestTimeout)
	defer cancel()
	_, err := cp.node.Claim(ctx, camera) // EventGained follows
	if owned := (*cluster.OwnedError)(nil); errors.As(err, &owned) {
		cp.log.Info("taking over a pushed camera from its owner", "camera", camera, "owner", owned.Owner.Node)
		_, err = cp.node.Takeover(ctx, camera)
	}
	if errors.Is(err, cluster.ErrUnavailable) {
		// etcd cannot be asked now: the camera is recorded anyway, in doubt (the recorder's
		// Fence does not hold), rather than lost; it is claimed once etcd answers again
		// (EventConfirmed, or EventRegistered after its lease expired); its segments in doubt are
		// published then if nobody else owned the camera meanwhile (cluster.Node.Confirm).
		cp.log.Warn("pushed camera recorded without a claim: the cluster is unavailable", "camera", camera)
		return nil
	}
	if err != nil {
		cp.mu.Lock()
		delete(cp.pushing, camera)
		cp.mu.Unlock()
	}
	return err
}

// releasePush gives a pushed camera up when its recording ends.
func (cp *clusterParts) releasePush(camera string) {
	if cp.pulled[camera] {
		return
	}
	cp.mu.Lock()
	delete(cp.pushing, camera)
	cp.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cp.cfg.Cluster.RequestTimeout)
	defer cancel()
	if err := cp.node.Release(ctx, camera); err != nil {
		cp.log.Warn("camera not released", "camera", camera, "err", err)
	}
}

// startTiering starts the upload of sealed segments to object storage when the tier section
// is on: under the cluster's node name and ownership check in a cluster.
func startTiering(l *lifecycle, cfg *fileConfig, store *storage.Store, cp *clusterParts, log *slog.Logger) (*tier.Tier, error) {
	if !cfg.Tier.Enabled() {
		return nil, nil
	}
	tc := cfg.Tier
	tc.Logger = log
	if cp != nil {
		tc.Node, tc.Verify = cp.self, cp.verify
	}
	t, err := tier.New(tc, store)
	if err != nil {
		return nil, err
	}
	l.run("tier", t.Run)
	return t, nil
}

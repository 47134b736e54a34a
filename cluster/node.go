package cluster

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// grpcKeepAliveTime is how often the connection to etcd is pinged while idle, to notice a
// connection that silently died. gRPC refuses less than 10 s and etcd's server answers
// pings more frequent than every 5 s by closing the connection.
const grpcKeepAliveTime = 10 * time.Second

// Node is this camvault's membership in the cluster: its lease, the cameras it owns, and
// its view of the other members and owners. Its methods may be called from any goroutine.
type Node struct {
	cfg    Config
	log    *slog.Logger
	client *clientv3.Client

	nodeKey    string
	ownerValue []byte // this node's Owner record

	ops sync.WaitGroup // Claim, Takeover and Release calls in flight; Run waits for them

	wake chan struct{} // signalled (cap 1) when events are queued

	mu sync.Mutex
	// Guarded by mu:
	running     bool
	state       State
	lease       clientv3.LeaseID // 0 while joining
	deadline    time.Time        // the local lease deadline: Fence is ok before it
	unreachable bool             // "etcd unreachable" logged, "etcd reachable again" not yet
	owned       map[string]int64 // camera -> fencing revision, of this node
	unreleased  map[string]int64 // released cameras whose owner key could not be deleted yet
	members     map[string]Member
	owners      map[string]Owner // every camera's owner, from the watch
	seen        int64            // the etcd revision members and owners are up to date with
	events      []Event          // waiting for delivery
}

// New checks cfg and prepares a node; Run registers it. It does not dial: etcd may be down
// when camvault starts. The cluster must be enabled (cfg.Enabled).
func New(cfg Config) (*Node, error) {
	cfg.Endpoints = slices.Clone(cfg.Endpoints)
	cfg.Pulled = slices.Clone(cfg.Pulled)
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PeerToken == "" {
		cfg.PeerToken = rand.Text() + rand.Text()
	}
	if !cfg.Enabled() {
		return nil, errors.New("cluster: no etcd endpoints")
	}
	etcdCfg := clientv3.Config{
		Endpoints:            cfg.Endpoints,
		DialTimeout:          cfg.DialTimeout,
		DialKeepAliveTime:    grpcKeepAliveTime,
		DialKeepAliveTimeout: cfg.RequestTimeout,
		Username:             cfg.Username,
		Password:             cfg.Password,
		Logger:               zap.NewNop(), // this package logs what matters through slog
		// Reconnect at least every RetryInterval: gRPC's default backoff grows to two
		// minutes, longer than a lease lives, so after an etcd outage the node would find
		// its lease expired.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: cfg.RetryInterval, Multiplier: 1, MaxDelay: cfg.RetryInterval},
			MinConnectTimeout: cfg.DialTimeout,
		})},
	}
	if cfg.tls() {
		info := transport.TLSInfo{CertFile: cfg.CertFile, KeyFile: cfg.KeyFile, TrustedCAFile: cfg.CAFile}
		tlsCfg, err := info.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("cluster: etcd TLS: %w", err)
		}
		etcdCfg.TLS = tlsCfg
	}
	client, err := clientv3.New(etcdCfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: etcd client: %w", err)
	}
	ownerValue, _ := json.Marshal(Owner{Node: cfg.Node, RTSPURL: cfg.RTSPURL, HTTPURL: cfg.HTTPURL}) // plain strings: cannot fail
	return &Node{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "cluster", "node", cfg.Node),
		client:     client,
		nodeKey:    cfg.Prefix + nodesDir + cfg.Node,
		ownerValue: ownerValue,
		wake:       make(chan struct{}, 1),
		owned:      map[string]int64{},
		unreleased: map[string]int64{},
		members:    map[string]Member{},
		owners:     map[string]Owner{},
	}, nil
}

// Close closes the connection to etcd. Call it after Run has returned.
func (n *Node) Close() error { return n.client.Close() }

// Run registers the node, keeps its lease alive, watches the members and owners, and claims
// and releases the pulled cameras assigned to it, until ctx is done. A lease that expires
// (the node was cut off or paused past its TTL) loses every camera and Run registers
// again. When ctx is done it waits for the Claim, Takeover and Release calls in flight,
// revokes the lease (so that the other nodes take the cameras over at once), reports
// EventLost for every camera, and returns once every event has been delivered. It returns
// nil then, and an error only if called twice.
func (n *Node) Run(ctx context.Context) error {
	n.mu.Lock()
	if n.running || n.state == StateStopped {
		n.mu.Unlock()
		return errors.New("cluster: Run called twice")
	}
	n.running = true
	n.mu.Unlock()
	deliverCtx, stopDelivery := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { n.deliver(deliverCtx) })
	for {
		lease, err := n.register(ctx)
		if err != nil {
			break // ctx is done
		}
		if err := n.serve(ctx, lease); err == nil {
			break
		}
		n.mu.Lock()
		n.transitionLocked(leaseExpired)
		n.mu.Unlock()
		n.loseAll("lease expired")
	}
	n.stop(ctx)
	stopDelivery()
	wg.Wait()
	return nil
}

// serve runs one lease: keepalives, and the watch with the claims it causes. It returns
// nil when ctx is done, errLeaseLost when etcd says the lease is gone.
func (n *Node) serve(ctx context.Context, lease clientv3.LeaseID) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { n.sync(sctx) })
	err := n.keepAlive(sctx, lease)
	cancel()
	wg.Wait()
	return err
}

// stop ends Run: no new calls, the ones in flight finished, the lease revoked, every
// camera lost.
func (n *Node) stop(ctx context.Context) {
	n.mu.Lock()
	n.transitionLocked(leaseStop)
	lease := n.lease
	n.mu.Unlock()
	n.ops.Wait()
	if lease != 0 {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.RequestTimeout)
		defer cancel()
		if _, err := n.client.Revoke(rctx, lease); err != nil {
			n.log.Warn("revoke lease at stop; the cameras move when it expires", "err", err)
		}
	}
	n.loseAll("stopping")
	n.log.Info("left the cluster")
}

// deliver calls OnEvent with the queued events, in order, until ctx is done and the queue
// is empty.
func (n *Node) deliver(ctx context.Context) {
	for {
		n.mu.Lock()
		events := n.events
		n.events = nil
		n.mu.Unlock()
		for _, e := range events {
			if n.cfg.OnEvent != nil {
				n.cfg.OnEvent(e)
			}
		}
		if len(events) > 0 {
			continue
		}
		select {
		case <-n.wake:
		case <-ctx.Done():
			n.mu.Lock()
			empty := len(n.events) == 0
			n.mu.Unlock()
			if empty {
				return
			}
		}
	}
}

// emitLocked queues e for delivery. n.mu is held.
func (n *Node) emitLocked(e Event) {
	n.events = append(n.events, e)
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Fence returns the fencing revision of camera and true when this node owns camera and its
// lease is surely alive now: the local lease deadline (send time of the last answered
// keepalive + TTL - fence_margin) has not passed, so etcd cannot have expired the lease
// and no other node can have claimed the camera by lease expiry. The recorder calls it
// before each commit, and commits under the revision only when ok. It is cheap (a lock and
// a map lookup). It does not see a forced Takeover before the watch reports it (within
// milliseconds when etcd is reachable); uploads check that with Verify.
//
// When ok is false, rev is what a recording made now in doubt is to carry, negated, for
// Confirm: the owner revision of a camera this node owns (its lease in doubt), or, for a
// camera it does not own, the etcd revision its view is up to date with (0 before it
// first read etcd). Every later claim of the camera, by any node, has a higher revision.
func (n *Node) Fence(camera string) (rev int64, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	rev, owned := n.owned[camera]
	if !owned {
		return n.seen, false
	}
	return rev, n.stateLocked() == StateLive
}

// State returns the state of the node's lease now.
func (n *Node) State() State {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stateLocked()
}

// stateLocked is State with n.mu held: a live lease past its deadline is in doubt, even
// before the keepalive loop notices.
func (n *Node) stateLocked() State {
	if n.state == StateLive && !time.Now().Before(n.deadline) {
		return StateInDoubt
	}
	return n.state
}

// Owner returns the owner of camera as this node last saw it through its watch of etcd
// (milliseconds behind while etcd is reachable), for redirects: ok is false when the
// camera has no owner. Verify asks etcd itself.
func (n *Node) Owner(camera string) (o Owner, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	o, ok = n.owners[camera]
	return o, ok
}

// Owners returns every owned camera of the cluster with its owner, as this node last saw
// them through its watch of etcd.
func (n *Node) Owners() map[string]Owner {
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.owners)
}

// Members returns the live nodes, this one included once registered, sorted by name.
func (n *Node) Members() []Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.SortedFunc(maps.Values(n.members), func(a, b Member) int {
		return cmp.Compare(a.Name, b.Name)
	})
}

// Member returns the live node called name as this node last saw it through its watch of
// etcd; ok is false for a node not registered.
func (n *Node) Member(name string) (m Member, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m, ok = n.members[name]
	return m, ok
}

// PeerToken returns the token this node publishes in its record (Config.PeerToken): its
// peer endpoints accept it alone.
func (n *Node) PeerToken() string { return n.cfg.PeerToken }

// Owned returns the cameras this node owns (in doubt or not) with their revisions.
func (n *Node) Owned() map[string]int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.owned)
}

// loseLocked ends this node's ownership of camera, if it has it. n.mu is held.
func (n *Node) loseLocked(camera, why string) {
	rev, ok := n.owned[camera]
	if !ok {
		return
	}
	delete(n.owned, camera)
	n.emitLocked(Event{Kind: EventLost, Camera: camera, Revision: rev})
	n.log.Info("camera lost", "camera", camera, "revision", rev, "why", why)
}

// loseAll loses every camera (the lease is gone, or Run stops) and forgets the lease.
func (n *Node) loseAll(why string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.owned) > 0 {
		level := slog.LevelWarn
		if n.state == StateStopped {
			level = slog.LevelInfo
		}
		n.log.Log(context.Background(), level, "lost every camera", "cameras", len(n.owned), "why", why)
	}
	for _, c := range slices.Sorted(maps.Keys(n.owned)) {
		n.loseLocked(c, why)
	}
	clear(n.unreleased) // their keys died with the lease
	n.lease = 0
}

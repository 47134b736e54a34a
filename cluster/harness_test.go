package cluster_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/camvault/camvault/cluster"
	"github.com/camvault/camvault/internal/etcdtest"
	"github.com/camvault/camvault/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// Timing of the test nodes: a short lease, so that expiry tests end in seconds. etcdtest's
// member grants leases of 1 s and more.
const (
	testTTL    = 2 * time.Second
	testMargin = 500 * time.Millisecond
	// waitTimeout bounds every wait for something the test expects to happen; generous,
	// as the tests run on busy machines.
	waitTimeout = 20 * time.Second
)

// testNode is a cluster.Node run by a test, with the events it reported.
type testNode struct {
	*cluster.Node
	name   string
	events chan cluster.Event
	stop   func() // stops Run and closes the node; idempotent
	logs   *logCounter
}

// nodeOptions are what tests vary between nodes.
type nodeOptions struct {
	pulled   []string
	capacity int
	// onGained, if set, is called (from the node's event goroutine) for each EventGained,
	// before the event reaches the channel.
	onGained func(cluster.Event)
	// beforeRelease is the node's Config.BeforeRelease.
	beforeRelease func(ctx context.Context, camera string)
}

// startNode runs a node named name against endpoint until the test ends.
func startNode(t *testing.T, endpoint, name string, o nodeOptions) *testNode {
	t.Helper()
	tn := &testNode{name: name, events: make(chan cluster.Event, 4096), logs: newLogCounter(t, name)}
	cfg := cluster.Config{
		Endpoints:      []string{endpoint},
		Node:           name,
		RTSPURL:        "rtsp://" + name + ".test:8554",
		HTTPURL:        "http://" + name + ".test:8080",
		Capacity:       o.capacity,
		LeaseTTL:       testTTL,
		FenceMargin:    testMargin,
		RequestTimeout: time.Second,
		RetryInterval:  100 * time.Millisecond,
		Pulled:         o.pulled,
		BeforeRelease:  o.beforeRelease,
		Logger:         slog.New(tn.logs),
		OnEvent: func(e cluster.Event) {
			if e.Kind == cluster.EventGained && o.onGained != nil {
				o.onGained(e)
			}
			tn.events <- e
		},
	}
	n, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tn.Node = n
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	tn.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: Run: %v", name, err)
		}
		n.Close()
	})
	t.Cleanup(tn.stop)
	return tn
}

// startPair runs nodes a and b on a new etcd and waits until both are live; raw is a
// client of that etcd.
func startPair(t *testing.T) (raw *clientv3.Client, a, b *testNode) {
	t.Helper()
	etcd := etcdtest.Start(t)
	raw = etcdtest.NewClient(t, etcd.Endpoint())
	a = startNode(t, etcd.Endpoint(), "a", nodeOptions{})
	b = startNode(t, etcd.Endpoint(), "b", nodeOptions{})
	waitFor(t, "both live", func() bool { return a.State() == cluster.StateLive && b.State() == cluster.StateLive })
	return raw, a, b
}

// logCounter is a slog.Handler that counts the messages a node logs, and prints them
// when -v is given.
type logCounter struct {
	slog.Handler
	mu     *sync.Mutex
	counts map[string]int
}

func newLogCounter(t *testing.T, name string) *logCounter {
	var h slog.Handler = slog.DiscardHandler
	if testing.Verbose() {
		h = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}).WithAttrs(
			[]slog.Attr{slog.String("test", t.Name()), slog.String("n", name)})
	}
	return &logCounter{Handler: h, mu: &sync.Mutex{}, counts: map[string]int{}}
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }

func (l *logCounter) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	l.counts[r.Message]++
	l.mu.Unlock()
	if !l.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return l.Handler.Handle(ctx, r)
}

func (l *logCounter) WithAttrs(as []slog.Attr) slog.Handler {
	return &logCounter{Handler: l.Handler.WithAttrs(as), mu: l.mu, counts: l.counts}
}

func (l *logCounter) WithGroup(g string) slog.Handler {
	return &logCounter{Handler: l.Handler.WithGroup(g), mu: l.mu, counts: l.counts}
}

// count returns how many times msg was logged.
func (l *logCounter) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[msg]
}

// waitEvent returns the next event of tn for which match is true, skipping others; it
// fails the test after waitTimeout.
func (tn *testNode) waitEvent(t *testing.T, what string, match func(cluster.Event) bool) cluster.Event {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case e := <-tn.events:
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("%s: no %s within %v", tn.name, what, waitTimeout)
		}
	}
}

func kind(k cluster.EventKind) func(cluster.Event) bool {
	return func(e cluster.Event) bool { return e.Kind == k }
}

// waitFor polls cond, which reads state the nodes expose, until it holds; it fails the
// test after waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not true within %v: %s", waitTimeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// owners reads every owner key: camera -> mod revision.
func owners(t *testing.T, c *clientv3.Client) map[string]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	resp, err := c.Get(ctx, cluster.DefaultPrefix+"owners/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key[len(cluster.DefaultPrefix+"owners/"):])] = kv.ModRevision
	}
	return out
}

// cameras returns n camera names.
func cameras(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("cam-%03d", i)
	}
	return out
}

// exclusive checks, at each EventGained of any of nodes, that no other node's Fence is ok
// for the camera: no camera is ever recordable under two revisions at once. Install it
// with the nodes' onGained; failures are collected and reported by check.
type exclusive struct {
	mu     sync.Mutex
	nodes  []*testNode
	errors []string
}

func (x *exclusive) onGained(self string) func(cluster.Event) {
	return func(e cluster.Event) {
		x.mu.Lock()
		defer x.mu.Unlock()
		for _, n := range x.nodes {
			if n == nil || n.name == self {
				continue
			}
			if rev, ok := n.Fence(e.Camera); ok {
				x.errors = append(x.errors, fmt.Sprintf("%s gained %s at %d while %s's Fence is ok at %d",
					self, e.Camera, e.Revision, n.name, rev))
			}
		}
	}
}

func (x *exclusive) add(n *testNode) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.nodes = append(x.nodes, n)
}

func (x *exclusive) check(t *testing.T) {
	t.Helper()
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, e := range x.errors {
		t.Error(e)
	}
}

package etcdtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/camvault/camvault/internal/etcdtest"
	"github.com/camvault/camvault/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// timeout bounds one request to a healthy etcd; blocked is how long a request to a paused
// or partitioned one is given to prove that it gets no answer.
const (
	timeout = 10 * time.Second
	blocked = 300 * time.Millisecond
)

func put(c *clientv3.Client, key, value string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err := c.Put(ctx, key, value)
	return err
}

func get(t *testing.T, c *clientv3.Client, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	resp, err := c.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("get %s: %d keys", key, len(resp.Kvs))
	}
	return string(resp.Kvs[0].Value)
}

// TestRestart: what was written survives Stop and Kill, and the endpoint stays the same;
// a paused etcd answers nothing until resumed. The v3.7 client works against Debian's etcd
// 3.4 for everything cluster uses: puts, gets, leases, transactions and watches are
// exercised by package cluster's tests.
func TestRestart(t *testing.T) {
	s := etcdtest.Start(t)
	c := etcdtest.NewClient(t, s.Endpoint())
	if err := put(c, "k", "1", timeout); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := put(c, "k", "2", blocked); err == nil {
		t.Fatal("put to a stopped etcd succeeded")
	}
	s.Start()
	if got := get(t, c, "k"); got != "1" {
		t.Fatalf("after restart k = %q, want 1", got)
	}
	s.Kill()
	s.Start()
	if got := get(t, c, "k"); got != "1" {
		t.Fatalf("after kill and start k = %q, want 1", got)
	}
	s.Pause()
	if err := put(c, "k", "3", blocked); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put to a paused etcd: %v, want a deadline exceeded", err)
	}
	s.Resume()
	if err := put(c, "k", "4", timeout); err != nil {
		t.Fatal(err)
	}
}

// TestProxy: a blocked proxy answers nothing while etcd answers its other clients; once
// unblocked, it passes requests again.
func TestProxy(t *testing.T) {
	s := etcdtest.Start(t)
	p := etcdtest.NewProxy(t, s.Endpoint())
	direct, proxied := etcdtest.NewClient(t, s.Endpoint()), etcdtest.NewClient(t, p.Endpoint())
	if err := put(proxied, "k", "1", timeout); err != nil {
		t.Fatal(err)
	}
	p.Block()
	if err := put(proxied, "held", "2", blocked); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put through a blocked proxy: %v, want a deadline exceeded", err)
	}
	if err := put(direct, "k", "3", timeout); err != nil {
		t.Fatal(err)
	}
	p.Unblock()
	if got := get(t, proxied, "k"); got != "3" {
		t.Fatalf("through the unblocked proxy k = %q, want 3", got)
	}
}

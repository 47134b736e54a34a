//go:build interop

package interop

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/etcdtest"
	"github.com/camvault/camvault/internal/rtsptest"
)

// TestClusterFailoverSoak kills (kill -9) the node that records a pulled camera, again and
// again, and measures how long after each kill the camera records on another node; the killed
// node is started again after each round and gets its share back. Three nodes, lease TTL 2 s
// (the bound is 7 s). A soak: it runs only when CAMVAULT_FAILOVER_KILLS is set, e.g.
//
//	CAMVAULT_FAILOVER_KILLS=20 go test -tags interop -run TestClusterFailoverSoak -v ./internal/interop/
func TestClusterFailoverSoak(t *testing.T) {
	kills, _ := strconv.Atoi(os.Getenv("CAMVAULT_FAILOVER_KILLS"))
	if kills <= 0 {
		t.Skip("a soak: set CAMVAULT_FAILOVER_KILLS to the number of kills")
	}
	etcd := etcdtest.Start(t)
	cam := startGstCamera(t, "", "")
	yaml := fmt.Sprintf("cameras:\n  lobby:\n    url: rtsp://%s/h264\n", cam)
	nodes := startClusterNodes(t, etcd, 3, yaml)
	var took []time.Duration
	for range kills {
		// The assignment settled (after a restart the camera may move back first).
		owner := waitAssigned(t, nodes, []string{"lobby"}, -1)["lobby"]
		nodes[owner].waitFragments("lobby", 1)
		killed := time.Now()
		nodes[owner].kill()
		rtsptest.WaitWithin(t, 30*time.Second, "lobby recorded elsewhere", func() bool {
			return ownerNow(nodes, "lobby", owner) >= 0
		})
		took = append(took, time.Since(killed))
		nodes[owner].start() // a fresh log: ownerNow reads it from its start
	}
	slices.Sort(took)
	q := func(p float64) time.Duration { return took[int(p*float64(len(took)-1))] }
	var all []string
	for _, d := range took {
		all = append(all, d.Round(10*time.Millisecond).String())
	}
	t.Logf("%d kills: failover p50 %v, p90 %v, max %v; all (sorted): %s", len(took), q(0.5).Round(time.Millisecond),
		q(0.9).Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), strings.Join(all, " "))
	if max := took[len(took)-1]; max > clusterLeaseTTL+5*time.Second {
		t.Errorf("a failover took %v, over the lease TTL + 5 s", max)
	}
}

package cluster_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/camvault/camvault/cluster"
)

func members(capacities ...int) []cluster.Member {
	out := make([]cluster.Member, len(capacities))
	for i, c := range capacities {
		out[i] = cluster.Member{Name: fmt.Sprintf("node-%d", i), Capacity: c}
	}
	return out
}

func counts(a map[string]string) map[string]int {
	out := map[string]int{}
	for _, n := range a {
		out[n]++
	}
	return out
}

// TestAssignShares: over many cameras each node's share is its capacity over the total,
// within a tolerance (3 standard deviations of a binomial count, at least 2 %).
func TestAssignShares(t *testing.T) {
	t.Parallel()
	const n = 20000
	cams := cameras(n)
	for _, tc := range []struct {
		name       string
		capacities []int
	}{
		{"equal", []int{500, 500, 500}},
		{"one double", []int{500, 1000, 500}},
		{"uneven", []int{100, 300, 600, 1000}},
		{"one", []int{7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := members(tc.capacities...)
			got := counts(cluster.Assign(cams, nodes))
			t.Logf("capacities %v: cameras %v", tc.capacities, got)
			total := 0
			for _, c := range tc.capacities {
				total += c
			}
			for _, m := range nodes {
				p := float64(m.Capacity) / float64(total)
				want := p * n
				tol := max(3*math.Sqrt(n*p*(1-p)), 0.02*want)
				if d := math.Abs(float64(got[m.Name]) - want); d > tol {
					t.Errorf("%s (capacity %d): %d cameras, want %.0f ± %.0f", m.Name, m.Capacity, got[m.Name], want, tol)
				}
			}
		})
	}
}

// TestAssignStability: when a node joins, only cameras moving to it move (about 1/N of
// them); when it leaves, only its own cameras move. Every node computes the same map.
func TestAssignStability(t *testing.T) {
	t.Parallel()
	const n = 6000
	cams := cameras(n)
	four := members(500, 500, 500, 500)
	before := cluster.Assign(cams, four[:3])
	after := cluster.Assign(cams, four)
	moved := 0
	for _, c := range cams {
		if before[c] != after[c] {
			moved++
			if after[c] != "node-3" {
				t.Fatalf("%s moved from %s to %s, not to the new node", c, before[c], after[c])
			}
		}
	}
	t.Logf("a fourth node joining 3 moved %d of %d cameras", moved, n)
	if want := n / 4; math.Abs(float64(moved-want)) > 0.1*float64(want) {
		t.Errorf("join moved %d cameras, want about %d", moved, want)
	}
	// node-1 leaves: only its cameras move, spread over the others.
	left := cluster.Assign(cams, []cluster.Member{four[0], four[2], four[3]})
	for _, c := range cams {
		if after[c] != "node-1" && left[c] != after[c] {
			t.Fatalf("%s moved from %s to %s though its node stayed", c, after[c], left[c])
		}
		if left[c] == "node-1" {
			t.Fatalf("%s still on the node that left", c)
		}
	}
	// Order of the members does not matter.
	reversed := cluster.Assign(cams, []cluster.Member{four[3], four[2], four[1], four[0]})
	for _, c := range cams {
		if reversed[c] != after[c] {
			t.Fatalf("%s: %s with the members reversed, %s in order", c, reversed[c], after[c])
		}
	}
}

// TestAssignEdges: no nodes, or none with capacity, assign nothing.
func TestAssignEdges(t *testing.T) {
	t.Parallel()
	if got := cluster.Assign(cameras(3), nil); len(got) != 0 {
		t.Errorf("no nodes: %v", got)
	}
	if got := cluster.Assign(cameras(3), members(0, -1)); len(got) != 0 {
		t.Errorf("no capacity: %v", got)
	}
	if got := cluster.Assign(cameras(100), members(0, 1)); len(counts(got)) != 1 || counts(got)["node-1"] != 100 {
		t.Errorf("one node with capacity: %v", counts(got))
	}
}

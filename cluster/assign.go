package cluster

import (
	"hash/fnv"
	"math"
)

// Assign maps each camera to the node that records it, by rendezvous (highest random
// weight) hashing weighted by capacity: each (camera, node) pair gets a score
// -capacity/ln(u), u a hash of the pair in (0, 1), and the highest score wins (the
// logarithmic method of Schindelhauer and Schomaker, "Weighted distributed hash tables",
// 2005). Every node computes the same map from the same members, with no coordination.
// A node's share of the cameras is its capacity over the total; when a node joins or
// leaves, only the cameras it gains or had move (about one in N), and nothing moves
// between the others. Nodes with a capacity below 1 get nothing; with no such node the
// map is empty. It is a pure function.
func Assign(cameras []string, nodes []Member) map[string]string {
	out := make(map[string]string, len(cameras))
	for _, c := range cameras {
		best, bestScore := "", math.Inf(-1)
		for _, n := range nodes {
			if n.Capacity < 1 {
				continue
			}
			s := score(c, n.Name, n.Capacity)
			if s > bestScore || s == bestScore && n.Name < best {
				best, bestScore = n.Name, s
			}
		}
		if best != "" {
			out[c] = best
		}
	}
	return out
}

// score is the weighted rendezvous score of camera on node.
func score(camera, node string, capacity int) float64 {
	h := fnv.New64a()
	h.Write([]byte(camera))
	h.Write([]byte{0}) // names never hold NUL: ("ab","c") and ("a","bc") differ
	h.Write([]byte(node))
	u := (float64(mix(h.Sum64())>>11) + 0.5) / (1 << 53) // uniform in (0, 1)
	return -float64(capacity) / math.Log(u)
}

// mix is the splitmix64 finalizer: FNV alone spreads names that differ in their last
// characters (cam-1, cam-2) poorly over the high bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

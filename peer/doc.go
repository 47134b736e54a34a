// Package peer serves a node's local segments that are not in the object
// store yet to the other nodes of a cluster, and reads them from there: the
// still-open segment up to its last committed fragment, and sealed segments
// not uploaded (yet, or ever). With it, archive/{camera} and the spans API
// on any node reach the present, not only the end of the last upload.
//
// Two HTTP endpoints under /cluster/v1/ on the node's HTTP port (Handler),
// both authenticated by the serving node's peer token as a bearer token
// (published in its node record in etcd, which is the cluster's trust root):
//
//	GET /cluster/v1/segments/{camera}?from=NS&to=NS[&fragments=0]
//	    the listing (Listing, compact JSON): segments overlapping [from, to)
//	    that are not uploaded, with state, revision, tracks, committed bytes
//	    and seek table (none with fragments=0: spans)
//	GET /cluster/v1/read/{camera}/{start}?off=N&n=N
//	    n bytes at off of the segment that starts at start (Unix ns), all of
//	    them covered by committed fragments
//
// Client is the other side. Package peer knows storage only; the cluster's
// lookups (who owns a camera, a node's URL and token) are the caller's.
package peer

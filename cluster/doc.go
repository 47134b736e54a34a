// Package cluster lets several camvault nodes share cameras through etcd: membership,
// camera ownership with fencing revisions, the assignment of pulled cameras, and who to
// redirect a client to. It knows nothing of media, and never of storage internals: it
// hands out a fencing revision per camera, and the recorder and uploader write it into
// segment metadata and object keys.
//
// # Keys
//
// Under Config.Prefix (default "/camvault/"), O(cameras + nodes) keys, never one per
// segment:
//
//	{prefix}nodes/{node}     Member JSON {rtsp_url, http_url, capacity, started}, on the node's lease
//	{prefix}owners/{camera}  Owner JSON {node, rtsp_url, http_url}, on the owner's lease
//
// A node registers with a transaction that creates its key only if absent, so a second
// process with the same name (or a restart within the old lease's TTL) waits until the
// old lease expires. Keepalives go every (lease_ttl - fence_margin)/3.
//
// # Ownership and fencing
//
// A claim is a transaction that creates the owner key only if absent (Claim; exactly one
// of racing nodes wins). Its fencing revision is the etcd revision at which it committed,
// the key's ModRevision; it grows with every claim of any camera, so a newer owner always
// has a higher revision. Takeover replaces a live owner with a transaction that compares
// the owner's ModRevision (fenced handover, for publishers that do not follow redirects).
// Release deletes the key only if it still holds this node's revision. When a node's lease
// expires, etcd deletes its keys: its cameras are free. Revisions are unique within one
// etcd cluster's history: an etcd restored from a snapshot must get its revision bumped
// past the old one (etcdutl snapshot restore --bump-revision), or old tokens could repeat.
//
// Pulled cameras (Config.Pulled, the same list on every node) are assigned to the live
// members by Assign (rendezvous hashing weighted by capacity). Each node claims the free
// cameras assigned to itself and releases those it owns that are assigned elsewhere; the
// new owner claims them when its watch sees the key deleted. A dead node's cameras are
// claimed by their new owners as soon as etcd expires its lease: within lease_ttl of its
// last keepalive, plus the watch and a claim (milliseconds). A node that stops revokes its
// lease: its cameras move at once.
//
// # Events
//
// Config.OnEvent receives EventGained and EventLost per camera (alternating, in order)
// and EventInDoubt and EventConfirmed for the lease, from one goroutine in the order the
// changes happened. Fence, State, Owned, Owner and Members read the current state.
//
// # Failure semantics
//
// The node's only local knowledge of its lease is the local deadline: the send time of the
// last answered keepalive, plus the TTL etcd granted, minus fence_margin. etcd started
// that TTL when it received the keepalive, so it cannot expire the lease, and no other node
// can claim this node's cameras by expiry, before the deadline. Fence(camera) is ok only
// before it, and the recorder and uploader commit under a revision only when Fence is ok.
// Past the deadline, with no answer, the lease is in doubt (StateInDoubt, EventInDoubt),
// whatever the cause; from inside one node, etcd down for everyone and this node cut off
// (or paused, or starved of CPU) look the same:
//
//   - In doubt, the node keeps its cameras and keeps recording them locally (no frame is
//     lost), but commits nothing under their revisions (Fence is not ok): what it records
//     is held as "in doubt" by the caller, not indexed or uploaded as valid. It claims
//     nothing new (Claim and Takeover return ErrUnavailable) and logs "etcd unreachable"
//     once, and "etcd reachable again" once when it answers.
//   - When etcd answers and the lease is alive (etcd was down for everyone: etcd extends
//     every lease by a TTL when it starts, so an outage of any length keeps them; or the
//     cut was shorter than the TTL), the node reads every owner key: the cameras whose key
//     still holds their revision are confirmed (EventConfirmed, Fence ok again, same
//     revisions: what was recorded in doubt may be committed under them), any taken over
//     meanwhile are lost (EventLost before EventConfirmed). Nothing moves.
//   - When etcd answers that the lease is gone (this node was cut off or paused past the
//     TTL while etcd and the others went on), every camera is lost (EventLost): what was
//     recorded in doubt must not carry the old revision as valid. The node registers
//     again and claims its share anew under new, higher revisions.
//
// What a node records in doubt carries a negated revision -X (Fence: its owner revision, or
// for a camera it does not own, such as one pushed to it while etcd is unreachable, the etcd
// revision its view is up to date with). Confirm turns it into the revision to publish it
// under: X when this node's ownership at X went on, or the revision of this node's own
// claim when etcd's history shows the camera had no owner from X to that claim, so that no
// other node committed a recording of it meanwhile.
//
// So a paused or partitioned node stops committing before anyone else can take its cameras
// over, and etcd being down for everyone moves nothing. The cost is that during an etcd
// outage longer than lease_ttl - fence_margin, no node commits (indexes or uploads)
// anything; recording goes on locally and is committed once etcd confirms the leases.
//
// Caveats. Fence is a local check: a node paused between a successful Fence and the commit
// it guards, for longer than fence_margin, commits once under a revision that may just
// have been superseded; the uploader closes that gap with Verify (one linearizable read)
// right before it publishes, and readers prefer the higher revision where two owners'
// recordings of a camera overlap. A forced Takeover is seen by the old owner through its
// watch (milliseconds), not by its deadline. etcd paused (SIGSTOP) past a TTL, rather than
// stopped, expires every lease when it resumes, as its clock says they are overdue: every
// camera moves once.
package cluster

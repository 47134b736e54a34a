package storage

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// planner decides what a retention pass deletes, inside one read
// transaction, and keeps the decision in dels. Deciding reads only the front
// of each index value (segHead) and allocates per deleted segment, not per
// segment looked at.
type planner struct {
	pol *Retention
	now time.Time
	// live holds the bytes written so far of segments being recorded, for
	// MaxBytes; nil when no camera has MaxBytes. It is read before the
	// transaction: taking s.mu inside one could deadlock with a writer
	// whose commit waits for the transaction to end.
	live map[segmentKey]int64

	dels  []Deletion
	bytes int64 // total of dels' Bytes
	// minFreeFrom splits dels: the per-camera rules' deletions before it,
	// grouped by camera in bucket order, the free-space floor's after.
	minFreeFrom int
	unmet       string // why the floor or need cannot be met
	// kept counts what pressure left, by why, when it fell short.
	kept         keptStats
	overMaxBytes int // cameras left above MaxBytes by what may not go
	unreadable   map[entryID]struct{}
	// stored holds the holds stored with AddHold, by camera, read in the
	// planning transaction (loadHolds).
	stored       map[string][]Hold
	storedLoaded bool
}

// loadHolds reads the stored holds once per plan, in its transaction.
func (p *planner) loadHolds(tx *bolt.Tx) {
	if !p.storedLoaded {
		p.stored, p.storedLoaded = storedHolds(tx), true
	}
}

// entryID names an index entry by camera and raw key, for counting each
// undecodable entry once.
type entryID struct{ camera, key string }

func newPlanner(s *Store, pol *Retention, now time.Time) *planner {
	p := &planner{pol: pol, now: now}
	if pol.anyMaxBytes() {
		p.live = s.liveBytes()
	}
	return p
}

// anyMaxBytes reports whether some camera's policy has MaxBytes.
func (r *Retention) anyMaxBytes() bool {
	if r.Default.MaxBytes > 0 {
		return true
	}
	for _, p := range r.Cameras {
		if p.MaxBytes > 0 {
			return true
		}
	}
	return false
}

// liveBytes returns the bytes written so far of each open segment.
func (s *Store) liveBytes() map[segmentKey]int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := make(map[segmentKey]int64, len(s.open))
	for seg := range s.open {
		seg.mu.Lock()
		m[segmentKey{seg.camera, seg.start.UnixNano()}] = seg.info.Bytes
		seg.mu.Unlock()
	}
	return m
}

// cameraRules plans MaxAge and MaxBytes deletions, camera by camera in
// bucket order.
func (p *planner) cameraRules(tx *bolt.Tx) {
	p.loadHolds(tx)
	cams := tx.Bucket(bucketCameras)
	// fn never fails, so neither does ForEachBucket.
	_ = cams.ForEachBucket(func(name []byte) error {
		r := p.rules(name)
		if r.noRules() {
			return nil
		}
		if segs := cameraSegments(cams, name); segs != nil {
			p.cameraDeletions(string(name), &r, segs)
		}
		return nil
	})
}

// cameraSegments returns camera's segments bucket, or nil.
func cameraSegments(cams *bolt.Bucket, camera []byte) *bolt.Bucket {
	if cb := cams.Bucket(camera); cb != nil {
		return cb.Bucket(bucketSegments)
	}
	return nil
}

// cameraDeletions walks one camera's segments oldest first: those past
// MaxAge (or, uploaded, past UploadedMaxAge) go, then more while the camera
// is above MaxBytes. It stops at the first segment that starts after both
// cutoffs once the camera is within MaxBytes.
func (p *planner) cameraDeletions(cam string, r *camRules, segs *bolt.Bucket) {
	var total int64
	if r.maxBytes > 0 {
		total = p.cameraBytes(cam, segs)
	}
	cutoff := max(r.oldBefore, r.uploadedOldBefore)
	c := segs.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		over := r.maxBytes > 0 && total > r.maxBytes
		h, ok := decodeSegHead(v)
		if !ok {
			p.skipUnreadable(cam, k)
			continue
		}
		if h.start >= cutoff && !over {
			break
		}
		reason, ok := r.reason(h, v, over)
		if !ok {
			continue
		}
		if r.verdict(h, false) == deletable && p.add(cam, k, v, reason) {
			total -= h.bytes
		}
	}
	if r.maxBytes > 0 && total > r.maxBytes {
		p.overMaxBytes++
	}
}

// cameraBytes sums the bytes of a camera's segments, open ones as written
// so far. Undecodable entries count as nothing.
func (p *planner) cameraBytes(cam string, segs *bolt.Bucket) int64 {
	var total int64
	c := segs.Cursor()
	for _, v := c.First(); v != nil; _, v = c.Next() {
		h, ok := decodeSegHead(v)
		if !ok {
			continue
		}
		if h.state == StateOpen {
			if b, ok := p.live[segmentKey{cam, h.start}]; ok {
				h.bytes = b
			}
		}
		total += h.bytes
	}
	return total
}

// add plans the deletion of entry k/v after decoding it whole. An entry
// whose value disagrees with its key, or whose file is not a segment path
// of camera, is skipped as unreadable: retention removes only files the
// index really lists.
func (p *planner) add(camera string, k, v []byte, reason DeleteReason) bool {
	info, err := decodeSegment(camera, v)
	if err == nil && (len(k) != 8 || keyNs(k) != info.Start.UnixNano()) {
		err = fmt.Errorf("%w: key and value disagree", ErrCorrupt)
	}
	if err == nil {
		err = checkSegmentFile(camera, info.File)
	}
	if err != nil {
		p.skipUnreadable(camera, k)
		return false
	}
	p.dels = append(p.dels, Deletion{Camera: camera, Start: info.Start, End: info.End, File: info.File,
		Bytes: info.Bytes, Reason: reason, NotUploaded: p.pol.Tiered && info.Upload.State == UploadNone})
	p.bytes += info.Bytes
	return true
}

// checkSegmentFile reports a file that is not a segment path of camera.
func checkSegmentFile(camera, file string) error {
	cam, _, err := parseSegmentPath(file)
	if err == nil && cam != camera {
		err = fmt.Errorf("%w: %q is not a file of camera %s", ErrCorrupt, file, camera)
	}
	return err
}

func (p *planner) skipUnreadable(camera string, k []byte) {
	if p.unreadable == nil {
		p.unreadable = make(map[entryID]struct{})
	}
	p.unreadable[entryID{camera, string(k)}] = struct{}{}
}

// pressure plans deletions of the oldest deletable segments across all
// cameras, merging one cursor per camera by start time, until need bytes
// more are planned. Short of that, it sets unmet to what was left and why.
func (p *planner) pressure(tx *bolt.Tx, need int64, reason DeleteReason) {
	p.loadHolds(tx)
	h := p.cursors(tx)
	var freed int64
	var kept keptStats
	for len(h) > 0 && freed < need {
		cc := h[0]
		if hd, ok := decodeSegHead(cc.v); !ok {
			p.skipUnreadable(cc.name, cc.k)
		} else if !cc.taken(cc.start) {
			if vd := cc.rules.verdict(hd, p.pol.PressureIgnoresMinAge); vd != deletable {
				kept.add(vd, hd.bytes)
			} else if p.add(cc.name, cc.k, cc.v, reason) {
				freed += hd.bytes
			}
		}
		if cc.next() {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	if freed < need {
		p.unmet, p.kept = kept.String(), kept
	}
}

// cursors returns a heap of one cursor per camera with segments, each on
// its oldest entry and with the per-camera rules' deletions of its camera
// (dels is grouped by camera in the same bucket order).
func (p *planner) cursors(tx *bolt.Tx) cursorHeap {
	var h cursorHeap
	planned := p.dels[:p.minFreeFrom]
	cams := tx.Bucket(bucketCameras)
	// fn never fails, so neither does ForEachBucket.
	_ = cams.ForEachBucket(func(name []byte) error {
		segs := cameraSegments(cams, name)
		if segs == nil {
			return nil
		}
		cc := &camCursor{name: string(name), rules: p.rules(name), c: segs.Cursor()}
		n := 0
		for n < len(planned) && planned[n].Camera == cc.name {
			n++
		}
		cc.planned, planned = planned[:n], planned[n:]
		cc.k, cc.v = cc.c.First()
		if cc.settle() {
			h = append(h, cc)
		}
		return nil
	})
	heap.Init(&h)
	return h
}

// camCursor walks one camera's segments for the cross-camera merge.
type camCursor struct {
	name    string
	rules   camRules
	c       *bolt.Cursor
	k, v    []byte
	start   int64      // k as Unix ns
	planned []Deletion // not yet passed deletions of the per-camera rules
}

// next moves to the following entry; false at the end.
func (cc *camCursor) next() bool {
	cc.k, cc.v = cc.c.Next()
	return cc.settle()
}

// settle skips keys that are not 8 bytes (no segment has one) and sets
// start; false at the end.
func (cc *camCursor) settle() bool {
	for cc.k != nil && len(cc.k) != 8 {
		cc.k, cc.v = cc.c.Next()
	}
	if cc.k == nil {
		return false
	}
	cc.start = keyNs(cc.k)
	return true
}

// taken reports whether the per-camera rules already planned the segment
// that starts at start; starts only grow.
func (cc *camCursor) taken(start int64) bool {
	for len(cc.planned) > 0 && cc.planned[0].Start.UnixNano() < start {
		cc.planned = cc.planned[1:]
	}
	return len(cc.planned) > 0 && cc.planned[0].Start.UnixNano() == start
}

// cursorHeap orders camera cursors by their entry's start (then camera
// name, so the order is total): container/heap's interface.
type cursorHeap []*camCursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	return h[i].start < h[j].start || h[i].start == h[j].start && h[i].name < h[j].name
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(*camCursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// keyNs returns an 8-byte index key as Unix ns.
func keyNs(k []byte) int64 { return int64(binary.BigEndian.Uint64(k)) }

// segHead is the front of an index value (see encodeSegment): what
// retention needs to decide, read at fixed offsets without allocating.
//
//	version(1) state(1) start(8, ns BE) end(8, ns BE) bytes(uvarint) ...
type segHead struct {
	state      SegmentState
	start, end int64 // Unix ns
	bytes      int64
}

// segHeadMin is the shortest value with a head: a 1-byte bytes field.
const segHeadMin = 1 + 1 + 8 + 8 + 1

// decodeSegHead decodes a value's head. It accepts every value that
// decodeSegment accepts, with the same fields, and may accept values whose
// tail decodeSegment refuses.
func decodeSegHead(v []byte) (segHead, bool) {
	if len(v) < segHeadMin || !knownSegVersion(v[0]) {
		return segHead{}, false
	}
	h := segHead{
		state: SegmentState(v[1]),
		start: int64(binary.BigEndian.Uint64(v[2:])),
		end:   int64(binary.BigEndian.Uint64(v[10:])),
	}
	n, w := binary.Uvarint(v[18:])
	if w <= 0 || n > 1<<62 || h.state != StateOpen && h.state != StateSealed {
		return segHead{}, false
	}
	h.bytes = int64(n)
	return h, true
}

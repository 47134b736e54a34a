package playback

import (
	"errors"

	"github.com/camvault/camvault/storage"
)

// errSkipSegment says a remote segment's init could not be read: its claim
// is skipped. It wraps errSkipped.
var errSkipSegment = errors.Join(errSkipped, errors.New("segment init unreadable"))

// readFragment reads fragment f of the current segment: from its file, or
// from its object when the segment is remote or its file went after the
// upload (the object holds the same bytes at the same offsets). A failed
// remote read is counted, logged once and reported as errSkipped.
func (pl *play) readFragment(f storage.Fragment) ([]byte, error) {
	seg := &pl.cur.seg
	if !isRemote(seg) {
		b, err := pl.p.s.cfg.Store.ReadFragment(seg.File, f, pl.buf)
		if err == nil {
			pl.buf = b
		}
		if err == nil || pl.fetch == nil || seg.Upload.Key == "" {
			if err == nil && pl.fetch != nil {
				pl.fetch.ahead(pl.cur.upcoming(pl.fetch.depth))
			}
			return b, err
		}
	}
	r := fragmentReq(seg, f)
	b, err := pl.fetch.get(r, pl.cur.upcoming(pl.fetch.depth))
	if err != nil {
		if pl.ctx.Err() != nil {
			return nil, pl.ctx.Err()
		}
		pl.p.tl.fail.read(err, r)
		return nil, errSkipped
	}
	pl.p.s.count(func(st *Stats) { st.RemoteReads++ })
	return b, nil
}

// readInit reads the current segment's ftyp+moov, from the presentation's
// cache for a remote segment read before.
func (pl *play) readInit() ([]byte, error) {
	seg := &pl.cur.seg
	if pl.fetch == nil {
		return pl.p.s.cfg.Store.ReadInit(seg.File)
	}
	if !isRemote(seg) {
		b, err := pl.p.s.cfg.Store.ReadInit(seg.File)
		if err == nil || seg.Upload.Key == "" {
			return b, err
		}
	}
	if b, ok := pl.p.tl.cachedInit(seg.Upload.Key); ok {
		return b, nil
	}
	r, err := initReq(seg)
	if err == nil {
		var b []byte
		// The fragment to play goes with the init, not after it.
		next := append([]readReq{fragmentReq(seg, pl.cur.frag())}, pl.cur.upcoming(pl.fetch.depth)...)
		if b, err = pl.fetch.get(r, next); err == nil {
			pl.p.s.count(func(st *Stats) { st.RemoteReads++ })
			pl.p.tl.keepInit(seg.Upload.Key, b)
			return b, nil
		}
	}
	if pl.ctx.Err() != nil {
		return nil, pl.ctx.Err()
	}
	pl.p.tl.fail.read(err, r)
	return nil, errSkipSegment
}

// upcoming returns the remote reads of the next n fragments the cursor
// will play forward: the rest of the claim, then the next claim's init
// (unless cached) and first fragments.
func (c *cursor) upcoming(n int) []readReq {
	var out []readReq
	for i := c.idx + 1; n > 0 && c.inClaim(i); i, n = i+1, n-1 {
		if isRemote(&c.seg) {
			out = append(out, fragmentReq(&c.seg, c.seg.Fragments[i]))
		}
	}
	if n == 0 {
		return out
	}
	next, ok := c.peekClaim()
	if !ok || !isRemote(&next.seg) {
		return out
	}
	if _, cached := c.tl.cachedInit(next.seg.Upload.Key); !cached {
		if r, err := initReq(&next.seg); err == nil {
			out = append(out, r)
		}
	}
	fs := next.seg.Fragments
	for j := firstInClaim(&next.seg, next.from); n > 0 && j < len(fs) && (next.to.IsZero() || fs[j].Start.Before(next.to)); j, n = j+1, n-1 {
		out = append(out, fragmentReq(&next.seg, fs[j]))
	}
	return out
}

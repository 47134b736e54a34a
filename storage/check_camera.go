package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	bolt "go.etcd.io/bbolt"
)

// checkBatch holds the index repairs of one camera until they are written,
// in one transaction per adoptBatch entries. Without repair it holds
// nothing.
type checkBatch struct {
	camera string
	repair bool
	del    [][]byte
	delFix []*fix
	put    []SegmentInfo // with Fragments
	putFix []*fix
	// sizes holds the sizes of the camera's files that were scanned.
	sizes map[string]int64
}

// camera checks camera's entries against the files in its directory.
func (c *checker) camera(cam string) error {
	infos, bad, err := c.s.readCamera(cam)
	if err != nil {
		return fmt.Errorf("storage: read index of %s: %w", cam, err)
	}
	l, lerr := listCamera(c.s.root, cam)
	if lerr != nil {
		// l holds what was listed; exists() stats the rest.
		c.report(Problem{Camera: cam, File: path.Join(recordingsDir, cam), Kind: ProblemUnreadable,
			Detail: "cannot list: " + lerr.Error()}, nil)
	}
	b := &checkBatch{camera: cam, repair: c.opts.Repair, sizes: make(map[string]int64, len(infos))}
	for _, k := range bad {
		f := &fix{}
		c.report(Problem{Camera: cam, Kind: ProblemCorruptEntry,
			Detail: "entry " + keyTime(k).Format(time.RFC3339Nano) + " does not decode"}, f)
		b.remove(k, f)
	}
	referenced := make(map[string]struct{}, len(infos))
	var prev *SegmentInfo
	for i := range infos {
		info := &infos[i]
		referenced[info.File] = struct{}{}
		c.rep.Segments++
		if !c.verify(l, info, b) {
			continue
		}
		if prev != nil && prev.End.Sub(info.Start) > checkTolerance {
			c.report(Problem{Camera: cam, File: prev.File, Kind: ProblemOverlap,
				Detail: fmt.Sprintf("ends at %s, %v after the next segment %s starts", prev.End.Format(time.RFC3339Nano),
					prev.End.Sub(info.Start), info.File)}, nil)
		}
		prev = info
		if len(b.put) >= adoptBatch {
			if err := c.flush(b); err != nil {
				return err
			}
		}
	}
	if err := c.flush(b); err != nil {
		return err
	}
	for _, st := range l.strays {
		c.report(Problem{Camera: cam, File: st.path, Kind: ProblemStray, Detail: st.why}, nil)
	}
	return c.files(cam, l, referenced, b.sizes)
}

// files counts camera's segment files and reports (with Repair: adopts)
// the ones no entry references.
func (c *checker) files(cam string, l *cameraListing, referenced map[string]struct{}, sizes map[string]int64) error {
	var orphans []string
	for _, f := range l.files {
		c.rep.Files++
		if size, ok := sizes[f]; ok {
			c.rep.Bytes += size
		} else if st, err := c.s.root.Lstat(f); err == nil {
			c.rep.Bytes += st.Size()
		}
		_, own := referenced[f]
		_, foreign := c.sum.foreign[f]
		if !own && !foreign {
			orphans = append(orphans, f)
		}
	}
	if !c.opts.Repair {
		for _, f := range orphans {
			c.report(Problem{Camera: cam, File: f, Kind: ProblemOrphan, Detail: "no index entry"}, nil)
		}
		return nil
	}
	return c.s.adoptFiles(orphans, true, func(a adoption) {
		f := &fix{}
		detail := "no index entry; adopted"
		if a.err != nil {
			f, detail = nil, "no index entry; not adoptable: "+a.err.Error()
		}
		c.report(Problem{Camera: cam, File: a.file, Kind: ProblemOrphan, Detail: detail}, f)
		if a.torn {
			c.report(Problem{Camera: cam, File: a.file, Kind: ProblemTornTail, Detail: "cut off on adoption"}, f)
		}
		if f != nil {
			c.fixed(f)
		}
	})
}

// verify checks one entry against its file, queues its repair in b, and
// reports whether the entry stays (with info updated to what the repair
// will write).
func (c *checker) verify(l *cameraListing, info *SegmentInfo, b *checkBatch) bool {
	p := Problem{Camera: info.Camera, File: info.File}
	f := &fix{}
	var scanned *scannedSegment
	err := fs.ErrNotExist
	if c.entries.exists(l, info.Camera, info.File) {
		scanned, err = c.s.scanFile(info.File, false)
	}
	if errors.Is(err, fs.ErrNotExist) {
		p.Kind, p.Detail = ProblemMissingFile, "the file is gone"
		c.report(p, f)
		b.remove(segKey(info.Start), f)
		return false
	}
	if err != nil {
		p.Kind, p.Detail = ProblemUnreadable, err.Error()
		c.report(p, nil)
		return true
	}
	b.sizes[info.File] = scanned.Size
	if info.State == StateOpen {
		p.Kind, p.Detail = ProblemOpen, fmt.Sprintf("left open: the file holds %d whole fragments", len(scanned.Fragments))
		c.report(p, f)
	} else {
		c.verifySealed(info, scanned, f)
	}
	if f.n == 0 || !c.opts.Repair {
		return true
	}
	return c.rederive(info, f, b)
}

// verifySealed compares a sealed entry and its seek table with the file.
func (c *checker) verifySealed(info *SegmentInfo, scanned *scannedSegment, f *fix) {
	report := func(kind, detail string, f *fix) {
		c.report(Problem{Camera: info.Camera, File: info.File, Kind: kind, Detail: detail}, f)
	}
	if scanned.Size < info.Bytes {
		report(ProblemTruncated, fmt.Sprintf("the file has %d bytes, the index says %d; %d whole fragments left",
			scanned.Size, info.Bytes, len(scanned.Fragments)), f)
		return
	}
	frags, err := c.seekTable(info)
	if err != nil {
		report(ProblemSeekTable, err.Error(), f)
		return
	}
	c.rep.Fragments += len(frags)
	if d := compareFragments(frags, scanned.Fragments); d != "" {
		report(ProblemSeekTable, d, f)
	}
	if d := fragmentOrder(frags); d != "" {
		of := f
		if fragmentOrder(scanned.Fragments) != "" {
			of = nil // the file itself is out of order: nothing to re-derive
		}
		report(ProblemFragmentOrder, d, of)
	}
	if n := len(frags); n > 0 && info.End.Sub(frags[n-1].End()).Abs() > checkTolerance {
		report(ProblemEnd, fmt.Sprintf("end %s, last fragment ends %s", info.End.Format(time.RFC3339Nano),
			frags[n-1].End().Format(time.RFC3339Nano)), f)
	}
	if info.Bytes != scanned.ValidEnd {
		report(ProblemBytes, fmt.Sprintf("the index says %d bytes, whole fragments end at %d", info.Bytes, scanned.ValidEnd), f)
	}
	if scanned.Torn {
		report(ProblemTornTail, fmt.Sprintf("%d bytes after the last whole fragment: %s",
			scanned.Size-scanned.ValidEnd, scanned.TornReason), f)
	}
	if d := scanned.Meta.Start.Sub(info.Start); d.Abs() > checkTolerance {
		report(ProblemStart, fmt.Sprintf("the file says it starts at %s, %v from the index",
			scanned.Meta.Start.Format(time.RFC3339Nano), d), nil)
	}
}

// rederive queues info's entry rebuilt from its file (torn tail cut). A file
// without a whole fragment loses its entry; the file stays.
func (c *checker) rederive(info *SegmentInfo, f *fix, b *checkBatch) bool {
	scanned, err := c.s.scanFile(info.File, true)
	if err != nil {
		c.report(Problem{Camera: info.Camera, File: info.File, Kind: ProblemUnreadable,
			Detail: "cannot repair: " + err.Error()}, nil)
		return true
	}
	if len(scanned.Fragments) == 0 {
		b.remove(segKey(info.Start), f)
		return false
	}
	sealFromScan(info, scanned)
	info.Fragments = scanned.Fragments
	b.replace(*info, f)
	info.Fragments = nil
	return true
}

// remove queues the removal of the entry at key k, which fixes f.
func (b *checkBatch) remove(k []byte, f *fix) {
	if b.repair {
		b.del, b.delFix = append(b.del, k), append(b.delFix, f)
	}
}

// replace queues info (with its Fragments) in place of its entry, which
// fixes f.
func (b *checkBatch) replace(info SegmentInfo, f *fix) {
	if b.repair {
		b.put, b.putFix = append(b.put, info), append(b.putFix, f)
	}
}

// flush writes b's repairs in one transaction and marks their problems
// fixed.
func (c *checker) flush(b *checkBatch) error {
	if len(b.del)+len(b.put) == 0 {
		return nil
	}
	err := c.s.db.Update(func(tx *bolt.Tx) error {
		for _, k := range b.del {
			if err := deleteSegmentTx(tx, b.camera, k); err != nil {
				return err
			}
		}
		for i := range b.put {
			if err := putSegmentTx(tx, &b.put[i], b.put[i].Fragments); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: repair index of %s: %w", b.camera, err)
	}
	for _, f := range b.delFix {
		c.fixed(f)
	}
	for _, f := range b.putFix {
		c.fixed(f)
	}
	b.del, b.delFix, b.put, b.putFix = b.del[:0], b.delFix[:0], b.put[:0], b.putFix[:0]
	return nil
}

// seekTable reads info's seek table from the index.
func (c *checker) seekTable(info *SegmentInfo) ([]Fragment, error) {
	var frags []Fragment
	err := c.s.db.View(func(tx *bolt.Tx) error {
		var v []byte
		if seek := tx.Bucket(bucketCameras).Bucket([]byte(info.Camera)).Bucket(bucketSeek); seek != nil {
			v = seek.Get(segKey(info.Start))
		}
		if v == nil {
			return errors.New("sealed without a seek table")
		}
		var err error
		frags, err = decodeSeek(info.Start, v)
		return err
	})
	return frags, err
}

// compareFragments describes the first difference between the index's
// seek table and the fragments in the file, or returns "".
func compareFragments(index, file []Fragment) string {
	for i := range min(len(index), len(file)) {
		x, y := index[i], file[i]
		switch {
		case x.Offset != y.Offset || x.Size != y.Size:
			return fmt.Sprintf("fragment %d: the index says %d bytes at %d, the file has %d bytes at %d",
				i, x.Size, x.Offset, y.Size, y.Offset)
		case x.Start.Sub(y.Start).Abs() > checkTolerance:
			return fmt.Sprintf("fragment %d: the index says it starts at %s, the file at %s",
				i, x.Start.Format(time.RFC3339Nano), y.Start.Format(time.RFC3339Nano))
		case x.Key != y.Key:
			return fmt.Sprintf("fragment %d: key flag %t in the index, %t in the file", i, x.Key, y.Key)
		}
	}
	if len(index) != len(file) {
		return fmt.Sprintf("the index lists %d fragments, the file holds %d", len(index), len(file))
	}
	return ""
}

// fragmentOrder describes the first fragment that starts before the
// previous one or overlaps it, or returns "".
func fragmentOrder(frags []Fragment) string {
	for i := 1; i < len(frags); i++ {
		prev, f := frags[i-1], frags[i]
		if f.Start.Before(prev.Start) {
			return fmt.Sprintf("fragment %d starts %v before fragment %d", i, prev.Start.Sub(f.Start), i-1)
		}
		if d := prev.End().Sub(f.Start); d > checkTolerance {
			return fmt.Sprintf("fragment %d overlaps fragment %d by %v", i-1, i, d)
		}
	}
	return ""
}

package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// defaultMaxProblems is CheckOptions.MaxProblems' default.
const defaultMaxProblems = 1000

// checkTolerance is how far two times may differ and still agree: index
// times have microsecond precision, and the recorder and the scanner derive
// fragment times from the same ticks.
const checkTolerance = time.Millisecond

// Problem kinds, the values of Problem.Kind. Check with Repair fixes the
// kinds marked "fixed"; the others need the operator.
const (
	// ProblemDataDirID: index.db and recordings/ carry different data
	// directory IDs, or recordings/ has none. Repair refuses to run.
	ProblemDataDirID = "data-dir-id"
	// ProblemCorruptEntry: an index entry does not decode. Fixed: the entry
	// is removed (its file, if any, is then adopted as an orphan).
	ProblemCorruptEntry = "corrupt-entry"
	// ProblemOpen: an entry left open by a crash. Fixed: sealed from its
	// file, as start-up repair does.
	ProblemOpen = "open"
	// ProblemMissingFile: an entry whose file is gone. Fixed: the entry is
	// removed.
	ProblemMissingFile = "missing-file"
	// ProblemUnreadable: a file or directory that cannot be read or whose
	// header does not decode. Left as it is.
	ProblemUnreadable = "unreadable"
	// ProblemTruncated: a file shorter than its entry's Bytes. Fixed: the
	// entry is re-derived from the file (the file is the truth).
	ProblemTruncated = "truncated"
	// ProblemSeekTable: a seek table that does not match the file's
	// fragments (offset, size, start, key flag, count) or does not decode.
	// Fixed: re-derived from the file.
	ProblemSeekTable = "seek-table"
	// ProblemFragmentOrder: seek-table fragments out of time order or
	// overlapping. Fixed by re-deriving when the file's fragments are in
	// order.
	ProblemFragmentOrder = "fragment-order"
	// ProblemEnd: an entry's End is not its last fragment's end. Fixed:
	// re-derived.
	ProblemEnd = "end"
	// ProblemBytes: an entry's Bytes is not where the file's last whole
	// fragment ends. Fixed: re-derived.
	ProblemBytes = "bytes"
	// ProblemTornTail: bytes after the file's last whole fragment. Fixed:
	// cut off.
	ProblemTornTail = "torn-tail"
	// ProblemStart: an entry's start (its key) differs from the start in
	// its file's metadata box. Left as it is.
	ProblemStart = "start"
	// ProblemOverlap: a segment ends after the camera's next segment
	// starts. Left as it is.
	ProblemOverlap = "overlap"
	// ProblemOrphan: a segment file no entry references. Fixed: adopted,
	// unless it holds no whole fragment or its start is taken.
	ProblemOrphan = "orphan"
	// ProblemStray: something under recordings/ that is not a camera
	// directory, day directory or segment file. Left as it is.
	ProblemStray = "stray"
)

// CheckOptions configures Check.
type CheckOptions struct {
	// Repair fixes what is safe: entries whose file is gone are removed;
	// wrong seek tables, End and Bytes are re-derived from the file; torn
	// tails are cut; orphan files are adopted; open entries are sealed.
	// No file is ever deleted, and overlaps are only reported.
	Repair bool
	// MaxProblems caps CheckReport.Problems; CheckReport.Counts stays
	// exact. Defaults to 1000.
	MaxProblems int
}

// Problem is one disagreement between the index and the files.
type Problem struct {
	Camera string
	// File is the segment file, relative to the data directory ("" for an
	// entry that does not decode).
	File   string
	Kind   string
	Detail string
	// Fixed reports that Repair fixed it.
	Fixed bool
}

// String formats p as one line: kind, camera, file, detail.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Kind)
	for _, s := range []string{p.Camera, p.File} {
		if s != "" {
			b.WriteString(" " + s)
		}
	}
	b.WriteString(": " + p.Detail)
	if p.Fixed {
		b.WriteString(" (fixed)")
	}
	return b.String()
}

// CheckReport is what Check found, and with Repair what it fixed.
type CheckReport struct {
	// ID is the data directory ID of the index ("" for an index from
	// before IDs).
	ID string
	// Segments and Fragments count the index entries and their seek-table
	// entries; Files and Bytes the segment files on disk.
	Segments, Fragments, Files int
	Bytes                      int64
	// Problems lists the first CheckOptions.MaxProblems problems found.
	Problems []Problem
	// Counts counts all problems by kind, listed or not.
	Counts map[string]int
	// Fixed counts the problems Repair fixed, listed or not.
	Fixed int
	// Took is how long Check took.
	Took time.Duration
}

// Total returns the number of problems found.
func (r *CheckReport) Total() int {
	n := 0
	for _, c := range r.Counts {
		n += c
	}
	return n
}

// Remaining returns the number of problems found and not fixed.
func (r *CheckReport) Remaining() int { return r.Total() - r.Fixed }

// Check verifies the index of a stopped data directory against its files:
// for every entry, that its file exists, is at least Bytes long and holds,
// at the seek table's offsets, whole fragments with the same sizes, start
// times (within 1 ms) and key flags; that the fragments are in time order
// without overlap, End is the last fragment's end and the segment does not
// overlap the camera's next one; open entries are reported. Every segment
// file on disk must have an entry. With opts.Repair it fixes what is safe
// (see CheckOptions). Like Reindex it takes the index lock, and fails when
// camvault is running. The error is for a check that could not run; what
// it found is in the report.
func Check(cfg Config, opts CheckOptions) (rep CheckReport, err error) {
	began := time.Now()
	cfg.setDefaults()
	if err := cfg.check(); err != nil {
		return rep, err
	}
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = defaultMaxProblems
	}
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return rep, fmt.Errorf("storage: open data directory: %w", err)
	}
	defer root.Close()
	db, sum, err := openForCheck(root, &cfg, opts.Repair)
	if err != nil {
		return rep, err
	}
	defer db.Close()
	c := &checker{s: &Store{cfg: cfg, log: cfg.Logger.With("component", "check"), root: root, db: db},
		opts: opts, sum: &sum, rep: &rep}
	rep.ID, rep.Counts = sum.meta.ID, make(map[string]int)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil { // bbolt on a damaged page
			err = fmt.Errorf("storage: %w: %v; run `camvault reindex` to rebuild it from the files", errIndexCorrupt, r)
		}
	}()
	err = c.run()
	rep.Took = time.Since(began)
	return rep, err
}

// openForCheck opens index.db, read-only unless repair, and refuses what
// Check cannot work on.
func openForCheck(root *os.Root, cfg *Config, repair bool) (*bolt.DB, indexSummary, error) {
	if _, err := root.Stat(indexFile); errors.Is(err, fs.ErrNotExist) {
		return nil, indexSummary{}, fmt.Errorf("storage: no %s in %s: start camvault to rebuild it from the files, "+
			"or run `camvault reindex`", indexFile, cfg.Dir)
	}
	db, sum, err := openIndexFile(root, !repair, cfg.IndexTimeout)
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, sum, fmt.Errorf("storage: index is in use; stop camvault first: %w", err)
	case errors.Is(err, errIndexCorrupt):
		return nil, sum, fmt.Errorf("storage: %s: %w; run `camvault reindex` to rebuild it from the files", indexFile, err)
	case err != nil:
		return nil, sum, fmt.Errorf("storage: open index %s: %w", indexFile, err)
	}
	if sum.meta.Format > indexFormat {
		db.Close()
		return nil, sum, fmt.Errorf("%w: index.db has format %d, this camvault reads up to %d", ErrNewerIndex, sum.meta.Format, indexFormat)
	}
	return db, sum, nil
}

// checker holds the state of one Check.
type checker struct {
	s       *Store
	opts    CheckOptions
	sum     *indexSummary
	rep     *CheckReport
	entries entryFiles
}

func (c *checker) run() error {
	if err := c.checkID(); err != nil {
		return err
	}
	cams, strays, err := listCameraDirs(c.s.root)
	if err != nil {
		return fmt.Errorf("storage: list %s: %w", recordingsDir, err)
	}
	for _, st := range strays {
		c.report(Problem{File: st.path, Kind: ProblemStray, Detail: st.why}, nil)
	}
	c.entries = entryFiles{root: c.s.root, stat: make(map[string]bool)}
	for _, cam := range mergeNames(c.sum.cameras, cams) {
		if err := c.camera(cam); err != nil {
			return err
		}
	}
	return c.holds()
}

// checkID reports an index and recordings/ of different data directories.
// Repair refuses to run on them: it would fit the index to the wrong files.
func (c *checker) checkID() error {
	indexID := c.sum.meta.ID
	fileID, err := readFileID(c.s.root)
	var detail string
	switch {
	case err != nil:
		detail = err.Error()
	case indexID == "":
		return nil // from before IDs: Open adopts one
	case fileID == "" && c.sum.segments > 0:
		detail = fmt.Sprintf("index.db belongs to data directory %s but recordings/%s is missing: is the disk mounted?", indexID, idFile)
	case fileID != "" && fileID != indexID:
		detail = fmt.Sprintf("index.db belongs to data directory %s but recordings/ is %s", indexID, fileID)
	default:
		return nil
	}
	c.report(Problem{File: recordingsDir + "/" + idFile, Kind: ProblemDataDirID, Detail: detail}, nil)
	if c.opts.Repair {
		return fmt.Errorf("%w: %s; repair would fit the index to files of another data directory: "+
			"mount the right disk, or run `camvault reindex`", ErrWrongDataDir, detail)
	}
	return nil
}

// fix is a repair that resolves some problems: those listed (by index in
// the report) and n in all.
type fix struct {
	listed []int
	n      int
}

// report records p; with f, p is resolved by that fix if it succeeds.
func (c *checker) report(p Problem, f *fix) {
	c.rep.Counts[p.Kind]++
	if f != nil {
		f.n++
	}
	if len(c.rep.Problems) >= c.opts.MaxProblems {
		return
	}
	if f != nil {
		f.listed = append(f.listed, len(c.rep.Problems))
	}
	c.rep.Problems = append(c.rep.Problems, p)
}

// fixed marks f's problems fixed.
func (c *checker) fixed(f *fix) {
	c.rep.Fixed += f.n
	for _, i := range f.listed {
		c.rep.Problems[i].Fixed = true
	}
}

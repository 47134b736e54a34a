package export

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/camvault/camvault/storage"
)

// body is the virtual file of a progressive export: the header bytes, then
// the mdat payload read range by range from the segment files. http.ServeContent
// reads it through Seek and Read, so Range requests cost one read of the
// bytes they ask for. It is used by one request at a time.
type body struct {
	store   *storage.Store
	head    []byte
	files   []string
	extents []extent
	size    int64
	pos     int64
	// err is the first read error; the response is then cut short.
	err error
}

func newBody(store *storage.Store, pl *plan, head []byte) *body {
	return &body{store: store, head: head, files: pl.files, extents: pl.extents,
		size: int64(len(head)) + pl.mdatSize}
}

// Read implements io.Reader.
func (b *body) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && b.pos < b.size {
		m, err := b.readAt(p[n:], b.pos)
		n += m
		b.pos += int64(m)
		if err != nil {
			b.err = err
			return n, err
		}
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// readAt reads from offset off into p, up to the end of the header or of
// the extent that holds off.
func (b *body) readAt(p []byte, off int64) (int, error) {
	if off < int64(len(b.head)) {
		return copy(p, b.head[off:]), nil
	}
	off -= int64(len(b.head))
	k := sort.Search(len(b.extents), func(i int) bool { return b.extents[i].dst+b.extents[i].n > off })
	if k == len(b.extents) {
		return 0, io.ErrUnexpectedEOF
	}
	e := &b.extents[k]
	in := off - e.dst
	n := min(int64(len(p)), e.n-in)
	return b.store.ReadAt(b.files[e.file], p[:n], e.src+in)
}

// errSeek is returned for a seek before the start.
var errSeek = errors.New("seek before the start")

// Seek implements io.Seeker.
func (b *body) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.size
	default:
		return b.pos, fmt.Errorf("seek: whence %d", whence)
	}
	if offset < 0 {
		return b.pos, errSeek
	}
	b.pos = offset
	return offset, nil
}

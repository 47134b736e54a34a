package export

import (
	"errors"
	"fmt"

	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

// Bounds of a fragment header read.
const (
	// headPrefix is the first read of a fragment's headers: prft and the
	// moof of a 1 s fragment of 30 fps video and 48 kHz AAC (about 80 trun
	// entries of 16 bytes) fit in it; larger ones take a second read.
	headPrefix = 2 << 10
	// maxHead bounds the headers of one fragment: 65536 samples (fmp4's
	// bound) of 16-byte trun entries.
	maxHead = 1<<20 + 64<<10
)

// errLayout marks a fragment whose mdat is not its samples back to back.
var errLayout = errors.New("fragment mdat holds bytes that are no sample")

// fragReader reads and parses fragments, reusing its buffer and parse.
type fragReader struct {
	store *storage.Store
	buf   []byte
	p     fmp4.ParsedFragment
}

// header reads the headers of fragment f of file (not its sample data) into
// r.p and returns the offset of the mdat payload in the fragment. The
// samples tile the payload in r.p.Samples order.
func (r *fragReader) header(file string, f storage.Fragment) (int64, error) {
	n := min(f.Size, headPrefix)
	for {
		if int64(cap(r.buf)) < n {
			r.buf = make([]byte, n)
		}
		r.buf = r.buf[:n]
		if _, err := r.store.ReadAt(file, r.buf, f.Offset); err != nil {
			return 0, err
		}
		payload, need := mdatPayload(r.buf)
		if payload > 0 {
			if err := fmp4.ParseFragmentHeader(r.buf, int(f.Size), &r.p); err != nil {
				return 0, err
			}
			return payload, checkTiling(&r.p, f.Size-payload)
		}
		if need <= n || n == f.Size || need > maxHead {
			return 0, fmt.Errorf("%w: no mdat in the first %d bytes of a %d-byte fragment", fmp4.ErrMalformed, n, f.Size)
		}
		n = min(max(need, 4*n), f.Size, maxHead)
	}
}

// full reads fragment f whole and parses it into r.p; the samples' Data
// alias r.buf until the next read.
func (r *fragReader) full(file string, f storage.Fragment) error {
	b, err := r.store.ReadFragment(file, f, r.buf)
	r.buf = b
	if err != nil {
		return err
	}
	return fmp4.ParseFragment(b, &r.p)
}

// mdatPayload walks the top-level boxes of a fragment's first bytes b and
// returns the offset of the mdat payload, or 0 and how many bytes it needs
// to see the mdat header.
func mdatPayload(b []byte) (payload, need int64) {
	pos := int64(0)
	for {
		typ, size, hdr, ok := fmp4.DecodeHeader(b[pos:])
		if !ok {
			return 0, pos + fmp4.MaxHeaderLen
		}
		if typ == fmp4.TypeMdat {
			return pos + int64(hdr), 0
		}
		if size < uint64(hdr) || size > maxHead {
			return 0, maxHead + 1
		}
		pos += int64(size)
		if pos >= int64(len(b)) {
			return 0, pos + fmp4.MaxHeaderLen
		}
	}
}

// checkTiling checks that the samples fill the mdat payload exactly, so
// that each one's offset is the sum of the sizes before it.
func checkTiling(p *fmp4.ParsedFragment, payload int64) error {
	var sum int64
	for i := range p.Samples {
		sum += int64(p.Samples[i].Size)
	}
	if sum != payload {
		return fmt.Errorf("%w: %d sample bytes in a %d-byte payload", errLayout, sum, payload)
	}
	return nil
}

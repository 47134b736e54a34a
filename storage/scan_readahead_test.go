package storage

import (
	"bytes"
	"testing"
)

// TestReadAhead reads through a window the way the scanner does (forward,
// backward, across the window's end, past the file's end, larger than the
// window) and compares every result with direct reads.
func TestReadAhead(t *testing.T) {
	data := make([]byte, 3*readAheadSize+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	direct := bytes.NewReader(data)
	ra := getReadAhead(bytes.NewReader(data))
	defer putReadAhead(ra)
	end := int64(len(data))
	for _, tc := range []struct {
		name string
		off  int64
		n    int
	}{
		{"header at 0", 0, 8},
		{"body in window", 8, 100},
		{"back to 0", 0, 16},
		{"across the window's end", readAheadSize - 4, 8},
		{"larger than the window", 10, readAheadSize + 1},
		{"last bytes", end - 8, 8},
		{"past the end", end - 4, 8},
		{"at the end", end, 8},
		{"far past the end", end + 100, 8},
		{"next window", 2 * readAheadSize, 16},
	} {
		want := make([]byte, tc.n)
		wn, werr := direct.ReadAt(want, tc.off)
		got := make([]byte, tc.n)
		gn, gerr := ra.ReadAt(got, tc.off)
		if gn != wn || (gerr == nil) != (werr == nil) || !bytes.Equal(got[:gn], want[:wn]) {
			t.Errorf("%s: read %d (%v), want %d (%v)", tc.name, gn, gerr, wn, werr)
		}
	}
}

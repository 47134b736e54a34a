package fmp4_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"
)

// update rewrites the golden box dumps: go test -run TestGolden -update.
var update = flag.Bool("update", false, "rewrite testdata/golden/*.txt from the writer's output")

// TestGolden decodes every case's fragment with mp4ff, an independent fMP4
// reader, and compares its box tree (mp4ff's Info dump, trun samples
// included) with testdata/golden/{name}.txt. A change to the bytes the
// writer produces, which every archive on disk depends on, shows here as a
// readable diff.
func TestGolden(t *testing.T) {
	for _, tc := range fragmentCases {
		t.Run(tc.name, func(t *testing.T) {
			got := dumpBoxes(t, tc.encode())
			path := filepath.Join("testdata", "golden", tc.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("box dump differs from %s (run with -update if the change is meant)\ngot:\n%s", path, got)
			}
		})
	}
}

// dumpBoxes decodes b's top-level boxes with mp4ff and returns their Info
// dump, every box at level 1 (trun lists its samples). The dump depends on
// the bytes alone, so it is deterministic.
func dumpBoxes(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	r := bytes.NewReader(b)
	for pos := uint64(0); r.Len() > 0; {
		box, err := mp4.DecodeBox(pos, r)
		if err != nil {
			t.Fatalf("mp4ff decode at %d: %v", pos, err)
		}
		if err := box.Info(&out, "all:1", "", "  "); err != nil {
			t.Fatal(err)
		}
		pos += box.Size()
	}
	return out.Bytes()
}

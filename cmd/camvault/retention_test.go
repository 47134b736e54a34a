package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// TestRetentionCommand runs `camvault retention -dry-run` and then a real
// pass over three old segments of two cameras, one of them under a hold
// from the config file.
func TestRetentionCommand(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	st, err := storage.Open(storage.Config{Dir: dir, Sync: storage.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	var infos []storage.SegmentInfo
	for i, cam := range []string{"gate", "gate", "yard"} {
		start := old.Add(time.Duration(i) * 10 * time.Minute)
		file := filepath.Join("recordings", cam, start.Format("2006-01-02"), start.Format("150405.000Z")+".mp4")
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(file)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), make([]byte, 1000), 0o640); err != nil {
			t.Fatal(err)
		}
		infos = append(infos, storage.SegmentInfo{Camera: cam, Start: start, End: start.Add(10 * time.Minute),
			File: filepath.ToSlash(file), Bytes: 1000, State: storage.StateSealed,
			Fragments: []storage.Fragment{{Start: start, Duration: 10 * time.Minute, Size: 900, Offset: 100, Key: true}}})
	}
	if err := st.PutSealed(infos); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	hold := old.Add(-time.Minute).Format(time.RFC3339)
	conf := writeConfig(t, "data_dir: "+dir+"\nretention: { max_age: 1d, min_free: 0 }\ncameras:\n  yard:\n"+
		"    retention: { hold: [{from: \""+hold+"\", to: \""+old.Add(time.Hour).Format(time.RFC3339)+"\", reason: theft}] }\n")

	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"retention", "-dry-run", "-config", conf}, &out, &errOut); err != nil {
		t.Fatalf("retention -dry-run: %v\n%s", err, errOut.String())
	}
	if got := strings.Count(out.String(), "would delete gate "); got != 2 || strings.Contains(out.String(), "yard") ||
		!strings.Contains(out.String(), "(max_age)") {
		t.Errorf("dry run output:\n%s", out.String())
	}
	for _, info := range infos {
		if _, err := os.Stat(filepath.Join(dir, info.File)); err != nil {
			t.Errorf("dry run touched %s: %v", info.File, err)
		}
	}

	out.Reset()
	if err := run(context.Background(), []string{"retention", "-config", conf}, &out, &errOut); err != nil {
		t.Fatalf("retention: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "deleted 2 segments, 2000 bytes") {
		t.Errorf("output:\n%s", out.String())
	}
	for i, info := range infos {
		_, err := os.Stat(filepath.Join(dir, info.File))
		if gone := os.IsNotExist(err); gone != (info.Camera == "gate") {
			t.Errorf("segment %d (%s): gone=%v", i, info.Camera, gone)
		}
	}
}

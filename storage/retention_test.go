package storage_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/storage"
)

// segs returns sealed segments of cam at the given slots.
func segs(cam string, at ...int) []segSpec {
	out := make([]segSpec, 0, len(at))
	for _, i := range at {
		out = append(out, segSpec{cam: cam, at: i})
	}
	return out
}

// tiered returns sealed segments of cam at the given slots with upload
// state up.
func tiered(cam string, up storage.UploadState, at ...int) []segSpec {
	out := segs(cam, at...)
	for i := range out {
		out[i].upload = up
	}
	return out
}

// plenty is a file system size that no floor in these tests reaches.
const plenty = 1 << 40

// TestRetentionRules runs each case as a dry run, then as a real pass that
// must delete exactly what the dry run reported, then as a second pass
// that must find nothing more. Segment i spans slot(i) to slot(i+1); the
// passes run at slot(10). Each segment is 1000 bytes with a file of that
// size, and the file system's free space is total minus those files.
func TestRetentionRules(t *testing.T) {
	min := func(m int) time.Duration { return time.Duration(m) * time.Minute }
	holdAll := []storage.Hold{{Reason: "legal"}}
	tests := []struct {
		name  string
		segs  []segSpec
		total int64 // file system size; 0: plenty
		ret   storage.Retention
		want  []string
		unmet string // substring of Unmet; empty: Unmet must be empty
		// notUploaded is the pass's RetentionReport.NotUploaded.
		notUploaded int
	}{
		{name: "no policy deletes nothing", segs: segs("a", 0, 1, 2, 3, 4)},
		{
			name: "max age, a segment ending at the cutoff stays",
			segs: segs("a", 0, 1, 2, 3, 4, 5),
			ret:  storage.Retention{Default: storage.RetentionPolicy{MaxAge: min(60)}},
			want: []string{"a@0 max_age", "a@1 max_age", "a@2 max_age"},
		},
		{
			name: "max bytes",
			segs: segs("a", 0, 1, 2, 3, 4),
			ret:  storage.Retention{Default: storage.RetentionPolicy{MaxBytes: 2500}},
			want: []string{"a@0 max_bytes", "a@1 max_bytes", "a@2 max_bytes"},
		},
		{
			name: "max bytes counts its camera only",
			segs: append(segs("a", 0, 1, 2), segs("b", 0, 1, 2)...),
			ret:  storage.Retention{Cameras: map[string]storage.RetentionPolicy{"a": {MaxBytes: 2000}}},
			want: []string{"a@0 max_bytes"},
		},
		{
			name: "a camera's policy replaces the default",
			segs: append(segs("a", 0, 1, 2), segs("b", 0, 1, 2)...),
			ret: storage.Retention{Default: storage.RetentionPolicy{MaxAge: min(10)},
				Cameras: map[string]storage.RetentionPolicy{"b": {}}},
			want: []string{"a@0 max_age", "a@1 max_age", "a@2 max_age"},
		},
		{
			name: "max age then max bytes",
			segs: segs("a", 0, 1, 2, 3, 4, 5),
			ret:  storage.Retention{Default: storage.RetentionPolicy{MaxAge: min(70), MaxBytes: 2000}},
			want: []string{"a@0 max_age", "a@1 max_age", "a@2 max_bytes", "a@3 max_bytes"},
		},
		{
			name:  "min free bytes",
			segs:  segs("a", 0, 1, 2, 3, 4),
			total: 8000,
			ret:   storage.Retention{MinFreeBytes: 5000},
			want:  []string{"a@0 min_free", "a@1 min_free"},
		},
		{
			name:  "min free percent",
			segs:  segs("a", 0, 1, 2, 3, 4),
			total: 10000,
			ret:   storage.Retention{MinFreePercent: 70},
			want:  []string{"a@0 min_free", "a@1 min_free"},
		},
		{
			name:  "min free deletes the oldest across cameras first",
			segs:  append(segs("a", 0, 2, 4), segs("b", 1, 3, 5)...),
			total: 9000,
			ret:   storage.Retention{MinFreeBytes: 6000},
			want:  []string{"a@0 min_free", "b@1 min_free", "a@2 min_free"},
		},
		{
			name:  "min free counts what the camera rules freed",
			segs:  append(segs("a", 0, 1, 2, 3, 4), segs("b", 0, 1, 2, 3, 4)...),
			total: 12000,
			ret: storage.Retention{MinFreeBytes: 4000,
				Cameras: map[string]storage.RetentionPolicy{"a": {MaxAge: min(80)}}},
			want: []string{"a@0 max_age", "b@0 min_free"},
		},
		{
			name: "min age blocks max age",
			segs: segs("a", 0, 1, 2, 3, 4, 5, 6, 7),
			ret:  storage.Retention{Default: storage.RetentionPolicy{MaxAge: min(30), MinAge: min(60)}},
			want: []string{"a@0 max_age", "a@1 max_age", "a@2 max_age", "a@3 max_age"},
		},
		{
			name: "min age blocks max bytes",
			segs: segs("a", 0, 1, 2, 3, 4),
			ret:  storage.Retention{Default: storage.RetentionPolicy{MaxBytes: 1000, MinAge: min(70)}},
			want: []string{"a@0 max_bytes", "a@1 max_bytes", "a@2 max_bytes"},
		},
		{
			name:  "min age holds under pressure",
			segs:  segs("a", 0, 1, 2, 3, 4),
			total: 6000,
			ret:   storage.Retention{MinFreeBytes: 5000, Default: storage.RetentionPolicy{MinAge: min(70)}},
			want:  []string{"a@0 min_free", "a@1 min_free", "a@2 min_free"},
			unmet: "2 (2.0 KiB) younger than min age",
		},
		{
			name:  "pressure ignores min age when configured",
			segs:  segs("a", 0, 1, 2, 3, 4),
			total: 6000,
			ret: storage.Retention{MinFreeBytes: 5000, PressureIgnoresMinAge: true,
				Default: storage.RetentionPolicy{MinAge: min(70)}},
			want: []string{"a@0 min_free", "a@1 min_free", "a@2 min_free", "a@3 min_free"},
		},
		{
			name: "ignoring min age under pressure leaves max age bound",
			segs: segs("a", 0, 1, 2, 3, 4),
			ret: storage.Retention{PressureIgnoresMinAge: true,
				Default: storage.RetentionPolicy{MaxAge: min(30), MinAge: min(70)}},
			want: []string{"a@0 max_age", "a@1 max_age", "a@2 max_age"},
		},
		{
			name: "a hold survives max age",
			segs: segs("a", 0, 1, 2, 3, 4),
			ret: storage.Retention{Default: storage.RetentionPolicy{MaxAge: min(10), Holds: []storage.Hold{
				{From: slot(1).Add(5 * time.Minute), To: slot(1).Add(6 * time.Minute), Reason: "incident"}}}},
			want: []string{"a@0 max_age", "a@2 max_age", "a@3 max_age", "a@4 max_age"},
		},
		{
			name: "a hold survives max bytes",
			segs: segs("a", 0, 1, 2, 3, 4),
			ret: storage.Retention{Default: storage.RetentionPolicy{MaxBytes: 1000, Holds: []storage.Hold{
				{To: slot(0).Add(time.Minute)}}}},
			want: []string{"a@1 max_bytes", "a@2 max_bytes", "a@3 max_bytes", "a@4 max_bytes"},
		},
		{
			name:  "a hold survives min free",
			segs:  segs("a", 0, 1, 2, 3, 4),
			total: 6000,
			ret: storage.Retention{MinFreeBytes: 4000, PressureIgnoresMinAge: true,
				Default: storage.RetentionPolicy{Holds: []storage.Hold{{From: slot(0), To: slot(2).Add(5 * time.Minute)}}}},
			want:  []string{"a@3 min_free", "a@4 min_free"},
			unmet: "3 segments (2.9 KiB) held",
		},
		{
			name: "a hold without end, touching a segment's end",
			segs: segs("a", 0, 1, 2, 3, 4),
			ret: storage.Retention{Default: storage.RetentionPolicy{MaxAge: min(10),
				Holds: []storage.Hold{{From: slot(3)}}}},
			want: []string{"a@0 max_age", "a@1 max_age", "a@2 max_age"},
		},
		{
			name: "a hold protects its camera only",
			segs: append(segs("a", 0, 1), segs("b", 0, 1)...),
			ret: storage.Retention{Cameras: map[string]storage.RetentionPolicy{
				"a": {MaxAge: min(10)}, "b": {MaxAge: min(10), Holds: holdAll}}},
			want: []string{"a@0 max_age", "a@1 max_age"},
		},
		{
			name:  "open segments survive pressure",
			segs:  append(segs("a", 0, 1, 2), segSpec{cam: "a", at: 3, open: true}),
			total: 1 << 20,
			ret:   storage.Retention{MinFreeBytes: 1 << 20, PressureIgnoresMinAge: true},
			want:  []string{"a@0 min_free", "a@1 min_free", "a@2 min_free"},
			unmet: "1 open",
		},
		{
			name: "open segments survive max age and max bytes",
			segs: append(segs("a", 0, 1), segSpec{cam: "a", at: 2, open: true}),
			ret:  storage.Retention{Default: storage.RetentionPolicy{MaxAge: min(10), MaxBytes: 1}},
			want: []string{"a@0 max_age", "a@1 max_age"},
		},
		{
			name: "empty index: files on disk survive pressure",
			segs: []segSpec{{cam: "a", at: 0, orphan: true}, {cam: "a", at: 1, orphan: true},
				{cam: "b", at: 0, orphan: true}},
			total: 4000,
			ret:   storage.Retention{MinFreeBytes: 4000, PressureIgnoresMinAge: true},
			unmet: "the index lists no other segment",
		},
		{
			name: "tiered: max age and max bytes keep segments not uploaded",
			segs: slices.Concat(tiered("a", storage.UploadDone, 0), segs("a", 1), tiered("a", storage.UploadRefused, 2),
				segs("a", 3, 4, 5, 6, 7)),
			ret:  storage.Retention{Tiered: true, Default: storage.RetentionPolicy{MaxAge: min(60), MaxBytes: 2000}},
			want: []string{"a@0 max_age", "a@2 max_age"},
		},
		{
			name: "untiered: upload marks change nothing and uploaded max age is off",
			segs: slices.Concat(tiered("a", storage.UploadDone, 0), segs("a", 1, 2)),
			ret:  storage.Retention{Default: storage.RetentionPolicy{MaxAge: min(70), UploadedMaxAge: min(10)}},
			want: []string{"a@0 max_age", "a@1 max_age"},
		},
		{
			name: "tiered: uploaded max age deletes uploaded copies only, a hold wins",
			segs: slices.Concat(tiered("a", storage.UploadDone, 0, 1, 3, 5), segs("a", 2, 4),
				tiered("a", storage.UploadRefused, 6), tiered("b", storage.UploadDone, 0)),
			ret: storage.Retention{Tiered: true, Cameras: map[string]storage.RetentionPolicy{
				"a": {UploadedMaxAge: min(50), Holds: []storage.Hold{{From: slot(1), To: slot(2)}}},
				"b": {MaxAge: min(200)}}},
			want: []string{"a@0 uploaded_max_age", "a@3 uploaded_max_age"},
		},
		{
			name:  "tiered: min free deletes segments not uploaded and counts them",
			segs:  slices.Concat(tiered("a", storage.UploadDone, 0), segs("a", 1, 2, 3)),
			total: 6000,
			ret: storage.Retention{Tiered: true, MinFreeBytes: 4000, PressureIgnoresMinAge: true,
				Default: storage.RetentionPolicy{UploadedMaxAge: min(200)}},
			want:        []string{"a@0 min_free", "a@1 min_free"},
			notUploaded: 1,
		},
		{
			name: "a file unknown to the index survives",
			segs: append(segs("a", 0, 1, 2), segSpec{cam: "a", at: 3, orphan: true}),
			ret:  storage.Retention{Default: storage.RetentionPolicy{MaxAge: min(10)}},
			want: []string{"a@0 max_age", "a@1 max_age", "a@2 max_age"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			total := tt.total
			if total == 0 {
				total = plenty
			}
			f := newRetFixture(t, total, nil)
			f.put(tt.segs...)
			f.s.SetRetention(tt.ret)
			now := slot(10)

			dry, err := f.s.RunRetention(now, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(dry.Deleted); !slices.Equal(got, tt.want) {
				t.Errorf("dry run deletes %q, want %q", got, tt.want)
			}
			checkUnmet(t, "dry run", dry.Unmet, tt.unmet)
			for _, d := range dry.Deleted {
				if !f.exists(d.File) {
					t.Errorf("dry run removed %s", d.File)
				}
			}

			rep, err := f.s.RunRetention(now, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(rep.Deleted), names(dry.Deleted)) || rep.Bytes != dry.Bytes {
				t.Errorf("pass deleted %q (%d B), dry run said %q (%d B)",
					names(rep.Deleted), rep.Bytes, names(dry.Deleted), dry.Bytes)
			}
			checkUnmet(t, "pass", rep.Unmet, tt.unmet)
			if rep.NotUploaded != tt.notUploaded {
				t.Errorf("pass deleted %d segments not uploaded, want %d", rep.NotUploaded, tt.notUploaded)
			}
			if rep.FileErrors != 0 {
				t.Errorf("%d file errors", rep.FileErrors)
			}
			f.checkFiles(tt.segs, rep.Deleted)

			again, err := f.s.RunRetention(now, false)
			if err != nil || len(again.Deleted) != 0 {
				t.Errorf("second pass deleted %q (%v)", names(again.Deleted), err)
			}
		})
	}
}

func checkUnmet(t *testing.T, what, got, want string) {
	t.Helper()
	if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
		t.Errorf("%s: Unmet %q, want %q", what, got, want)
	}
}

// checkFiles checks that exactly the deleted segments' files are gone.
func (f *retFixture) checkFiles(specs []segSpec, deleted []storage.Deletion) {
	f.t.Helper()
	for _, sp := range specs {
		file := segFile(sp.cam, slot(sp.at))
		gone := slices.ContainsFunc(deleted, func(d storage.Deletion) bool { return d.File == file })
		if f.exists(file) == gone {
			f.t.Errorf("%s: exists %v, deleted %v", file, !gone, gone)
		}
	}
}

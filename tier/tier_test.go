//go:build interop

package tier_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/camvault/camvault/internal/s3test"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/tier"
)

// TestUploadAndRead: sealed segments are uploaded under the documented
// key; the manifests give back exactly the segments of a window, with
// their seek tables; a ranged read returns a fragment's exact bytes.
func TestUploadAndRead(t *testing.T) {
	f := newFixture(t, s3test.Shared(t), nil)
	f.run()
	starts := []time.Time{at(10*time.Hour + 15*time.Minute), at(10*time.Hour + 30*time.Minute + 500*time.Millisecond),
		at(10*time.Hour + 59*time.Minute + 58*time.Second)} // the last one runs into 11:00
	var local []storage.SegmentInfo
	for _, s := range starts {
		local = append(local, f.record("cam1", s, 4, 100, 7))
	}
	f.tier.Kick()
	for i, s := range starts {
		local[i] = f.waitUpload("cam1", s, storage.UploadDone)
	}
	if want := f.cfg.Prefix + "cam1/2026-11-25/10/103000.500Z_n1_r7.mp4"; local[1].Upload.Key != want {
		t.Errorf("key %q, want %q", local[1].Upload.Key, want)
	}
	if st := f.tier.Stats(); st.UploadedObjects != 3 || st.UploadedBytes != uint64(local[0].Bytes+local[1].Bytes+local[2].Bytes) || st.Failures != 0 {
		t.Errorf("stats %+v", st)
	}
	ctx := t.Context()
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []int
	}{
		{"all of the day", day0, day0.Add(24 * time.Hour), []int{0, 1, 2}},
		{"one in the middle", at(10*time.Hour + 20*time.Minute), at(10*time.Hour + 40*time.Minute), []int{1}},
		{"the next hour sees the one that began before it", at(11 * time.Hour), at(11*time.Hour + time.Second), []int{2}},
		{"a gap", at(10*time.Hour + 16*time.Minute), at(10*time.Hour + 30*time.Minute), nil},
		{"another day", day0.Add(48 * time.Hour), day0.Add(49 * time.Hour), nil},
	} {
		got, err := f.tier.Segments(ctx, "cam1", tc.from, tc.to)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var idx []int
		for _, g := range got {
			i := slices.IndexFunc(local, func(l storage.SegmentInfo) bool { return l.Upload.Key == g.Upload.Key })
			idx = append(idx, i)
			if i >= 0 {
				checkRemote(t, &g, &local[i])
			}
		}
		if !slices.Equal(idx, tc.want) {
			t.Errorf("%s: segments %v, want %v", tc.name, idx, tc.want)
		}
	}

	// A ranged read of the second fragment is the file's bytes there.
	file, err := os.ReadFile(filepath.Join(f.dir, local[1].File))
	if err != nil {
		t.Fatal(err)
	}
	fr := local[1].Fragments[1]
	got, err := f.tier.ReadAt(ctx, local[1].Upload.Key, fr.Offset, fr.Size)
	if err != nil || string(got) != string(file[fr.Offset:fr.Offset+fr.Size]) {
		t.Errorf("ranged read of %d+%d: %d bytes, %v", fr.Offset, fr.Size, len(got), err)
	}
	obj, err := f.srv.Client().GetObject(ctx, s3test.Bucket, local[1].Upload.Key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || string(whole) != string(file) {
		t.Errorf("the object (%d bytes, %v) is not the file (%d bytes)", len(whole), err, len(file))
	}
	if _, err := f.tier.ReadAt(ctx, "elsewhere/x.mp4", 0, 10); err == nil {
		t.Error("read of a key outside the prefix")
	}
}

// checkRemote compares a remote segment with its local entry.
func checkRemote(t *testing.T, g *tier.Segment, l *storage.SegmentInfo) {
	t.Helper()
	if !g.Start.Equal(l.Start) || !g.End.Equal(l.End) || g.Bytes != l.Bytes || g.Revision != l.Revision ||
		g.Node != "n1" || !slices.Equal(g.Tracks, l.Tracks) || len(g.Fragments) != len(l.Fragments) {
		t.Fatalf("remote %+v\nlocal %+v", g.SegmentInfo, *l)
	}
	for i, fr := range g.Fragments {
		lf := l.Fragments[i]
		if !fr.Start.Equal(lf.Start) || fr.Duration != lf.Duration || fr.Offset != lf.Offset || fr.Size != lf.Size || fr.Key != lf.Key {
			t.Fatalf("fragment %d: remote %+v, local %+v", i, fr, lf)
		}
	}
}

// TestVerifyRefuses: a segment whose revision Verify fences is never
// uploaded: it stays local, marked refused, counted; others go on.
func TestVerifyRefuses(t *testing.T) {
	f := newFixture(t, s3test.Shared(t), func(c *tier.Config) {
		c.Verify = func(_ context.Context, camera string, rev int64) (int64, error) {
			if rev == 5 {
				return 0, fmt.Errorf("camera %s is owned by revision 6: %w", camera, tier.ErrFenced)
			}
			return rev, nil
		}
	})
	old, cur := at(9*time.Hour), at(9*time.Hour+time.Minute)
	f.record("cam2", old, 2, 50, 5)
	f.record("cam2", cur, 2, 50, 6)
	f.run()
	refused := f.waitUpload("cam2", old, storage.UploadRefused)
	done := f.waitUpload("cam2", cur, storage.UploadDone)
	if st := f.tier.Stats(); st.Refused != 1 || st.UploadedObjects != 1 {
		t.Errorf("stats %+v", st)
	}
	if refused.Upload.Key != "" {
		t.Errorf("refused segment has key %q", refused.Upload.Key)
	}
	got, err := f.tier.Segments(t.Context(), "cam2", old, cur.Add(time.Hour))
	if err != nil || len(got) != 1 || got[0].Upload.Key != done.Upload.Key || got[0].Revision != 6 {
		t.Fatalf("remote segments %+v, %v", got, err)
	}
	fencedKey := f.cfg.Prefix + "cam2/2026-11-25/09/090000.000Z_n1_r5.mp4"
	_, err = f.srv.Client().StatObject(t.Context(), s3test.Bucket, fencedKey, minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		t.Errorf("object of the fenced revision: %v", err)
	}
}

// TestVerifyConfirmedRevision: a segment recorded in doubt (negative
// revision) is published under the positive revision Verify confirmed, in
// its object key, metadata and manifest; a Verify that answers a negative
// revision refuses the segment. No negative revision reaches the bucket.
func TestVerifyConfirmedRevision(t *testing.T) {
	f := newFixture(t, s3test.Shared(t), func(c *tier.Config) {
		c.Verify = func(_ context.Context, _ string, rev int64) (int64, error) {
			if rev == -3 {
				return rev, nil // a broken Verify: must not publish it
			}
			return max(rev, -rev), nil
		}
	})
	doubt, broken := at(10*time.Hour), at(10*time.Hour+time.Minute)
	f.record("cam5", doubt, 2, 50, -7)
	f.record("cam5", broken, 2, 50, -3)
	f.run()
	done := f.waitUpload("cam5", doubt, storage.UploadDone)
	f.waitUpload("cam5", broken, storage.UploadRefused)
	if want := f.cfg.Prefix + "cam5/2026-11-25/10/100000.000Z_n1_r7.mp4"; done.Upload.Key != want {
		t.Errorf("key %q, want %q", done.Upload.Key, want)
	}
	if done.Revision != -7 {
		t.Errorf("local index revision %d: the recorded one, -7, is kept", done.Revision)
	}
	obj, err := f.srv.Client().StatObject(t.Context(), s3test.Bucket, done.Upload.Key, minio.StatObjectOptions{})
	if err != nil || obj.UserMetadata["Revision"] != "7" {
		t.Errorf("object metadata %v, %v", obj.UserMetadata, err)
	}
	got, err := f.tier.Segments(t.Context(), "cam5", doubt, broken.Add(time.Hour))
	if err != nil || len(got) != 1 || got[0].Revision != 7 || got[0].Upload.Key != done.Upload.Key {
		t.Fatalf("remote segments %+v, %v", got, err)
	}
}

// TestRestartResumes: a restart (new Tier, store closed and reopened)
// uploads what the previous run left, and nothing twice.
func TestRestartResumes(t *testing.T) {
	gate := make(chan struct{})
	f := newFixture(t, s3test.Shared(t), func(c *tier.Config) {
		c.Concurrency = 1
		c.Verify = func(ctx context.Context, _ string, rev int64) (int64, error) {
			if rev < 3 {
				return rev, nil
			}
			select { // rev 3 and later wait for the next run
			case <-gate:
				return rev, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
	})
	var starts []time.Time
	for i := range 4 {
		s := at(8*time.Hour + time.Duration(i)*time.Minute)
		starts = append(starts, s)
		f.record("cam3", s, 2, 50, int64(i+1))
	}
	f.run()
	f.waitUpload("cam3", starts[0], storage.UploadDone)
	f.waitUpload("cam3", starts[1], storage.UploadDone)
	f.stopRun()
	for _, s := range starts[2:] {
		if st := f.info("cam3", s).Upload.State; st != storage.UploadNone {
			t.Fatalf("segment %v: %v before the restart", s, st)
		}
	}
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	f.openStore()
	close(gate)
	f.newTier()
	f.run()
	for _, s := range starts {
		f.waitUpload("cam3", s, storage.UploadDone)
	}
	if st := f.tier.Stats(); st.UploadedObjects != 2 {
		t.Errorf("the second run uploaded %d objects, want the 2 left", st.UploadedObjects)
	}
	got, err := f.tier.Segments(t.Context(), "cam3", starts[0], starts[3].Add(time.Minute))
	if err != nil || len(got) != 4 {
		t.Fatalf("remote segments: %d, %v", len(got), err)
	}
}

// TestObjectRetention: objects past the max age go, with their manifest
// entries, unless a hold covers them; an object no manifest lists goes with
// its hour; younger ones stay.
func TestObjectRetention(t *testing.T) {
	f := newFixture(t, s3test.Shared(t), func(c *tier.Config) { c.MaxAge = 48 * time.Hour })
	oldHeld, oldFree, young := at(-72*time.Hour+time.Hour), at(-72*time.Hour+time.Hour+10*time.Minute), at(time.Hour)
	for _, s := range []time.Time{oldHeld, oldFree, young} {
		f.record("cam4", s, 2, 50, 1)
	}
	if _, err := f.store.AddHold(storage.StoredHold{Camera: "cam4", From: oldHeld, To: oldHeld.Add(time.Second), Reason: "case 1"}); err != nil {
		t.Fatal(err)
	}
	f.run()
	for _, s := range []time.Time{oldHeld, oldFree, young} {
		f.waitUpload("cam4", s, storage.UploadDone)
	}
	ctx := t.Context()
	orphan := f.cfg.Prefix + "cam4/2026-11-22/05/050000.000Z_n9_r1.mp4"
	if _, err := f.srv.Client().PutObject(ctx, s3test.Bucket, orphan, io.LimitReader(zeros{}, 10), 10, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := f.tier.RunRetention(ctx, at(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 2 || rep.Held != 1 {
		t.Errorf("report %+v, want 2 deleted (one listed, the orphan) and 1 held", rep)
	}
	got, err := f.tier.Segments(ctx, "cam4", day0.Add(-96*time.Hour), day0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var starts []time.Time
	for _, g := range got {
		starts = append(starts, g.Start)
	}
	if !slices.EqualFunc(starts, []time.Time{oldHeld, young}, time.Time.Equal) {
		t.Errorf("remote segments start at %v, want the held and the young one", starts)
	}
	for _, key := range []string{f.info("cam4", oldFree).Upload.Key, orphan} {
		_, err := f.srv.Client().StatObject(ctx, s3test.Bucket, key, minio.StatObjectOptions{})
		if minio.ToErrorResponse(err).Code != minio.NoSuchKey {
			t.Errorf("%s after retention: %v", key, err)
		}
	}
	if st := f.tier.Stats(); st.DeletedObjects != 2 {
		t.Errorf("stats %+v", st)
	}
}

// zeros reads zero bytes forever.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestLocalRetentionUploadedOnly: with tiering, local retention deletes
// uploaded copies (UploadedMaxAge, MaxAge) and keeps the one not uploaded
// yet; the deleted ones stay readable from the object store.
func TestLocalRetentionUploadedOnly(t *testing.T) {
	f := newFixture(t, s3test.Shared(t), nil)
	a, b, c := at(6*time.Hour), at(6*time.Hour+time.Minute), at(6*time.Hour+2*time.Minute)
	f.record("cam5", a, 2, 50, 1)
	f.record("cam5", b, 2, 50, 1)
	f.run()
	f.waitUpload("cam5", a, storage.UploadDone)
	up := f.waitUpload("cam5", b, storage.UploadDone)
	f.stopRun()
	f.record("cam5", c, 2, 50, 1) // sealed while the uploader is stopped
	f.store.SetRetention(storage.Retention{Tiered: true,
		Cameras: map[string]storage.RetentionPolicy{"cam5": {MaxAge: 90 * time.Minute, UploadedMaxAge: 30 * time.Minute}}})
	rep, err := f.store.RunRetention(at(7*time.Hour+time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, d := range rep.Deleted {
		reasons = append(reasons, d.Start.Format("15:04")+" "+d.Reason.String())
	}
	if want := []string{"06:00 uploaded_max_age", "06:01 uploaded_max_age"}; !slices.Equal(reasons, want) || rep.NotUploaded != 0 {
		t.Errorf("deleted %q (%d not uploaded), want %q", reasons, rep.NotUploaded, want)
	}
	if rep, err = f.store.RunRetention(at(9*time.Hour), false); err != nil || len(rep.Deleted) != 0 {
		t.Errorf("max age deleted %d segments (%v); the one not uploaded must stay", len(rep.Deleted), err)
	}
	if st := f.info("cam5", c).Upload.State; st != storage.UploadNone {
		t.Errorf("segment not uploaded: %v", st)
	}
	got, err := f.tier.Segments(t.Context(), "cam5", a, c)
	if err != nil || len(got) != 2 || got[1].Upload.Key != up.Upload.Key {
		t.Fatalf("remote segments %d, %v", len(got), err)
	}
	fr := got[1].Fragments[0]
	if data, err := f.tier.ReadAt(t.Context(), got[1].Upload.Key, fr.Offset, fr.Size); err != nil || int64(len(data)) != fr.Size {
		t.Errorf("read of a segment deleted locally: %d bytes, %v", len(data), err)
	}
}

// TestRescanFindsSegmentsBehind: a segment that appears before the scan's
// cursor (a clock stepped back) is uploaded after RescanInterval.
func TestRescanFindsSegmentsBehind(t *testing.T) {
	f := newFixture(t, s3test.Shared(t), func(c *tier.Config) { c.RescanInterval = 300 * time.Millisecond })
	f.run()
	later, earlier := at(15*time.Hour), at(14*time.Hour)
	f.record("cam7", later, 1, 50, 1)
	f.waitUpload("cam7", later, storage.UploadDone)
	f.record("cam7", earlier, 1, 50, 1)
	f.waitUpload("cam7", earlier, storage.UploadDone)
}

// TestMultipartUpload: a segment larger than PartSize goes up in parts
// and comes back byte for byte.
func TestMultipartUpload(t *testing.T) {
	f := newFixture(t, s3test.Shared(t), func(c *tier.Config) { c.PartSize = 5 << 20 })
	start := at(16 * time.Hour)
	f.record("cam8", start, 30, 8500, 1) // about 12 MB: three parts
	f.run()
	info := f.waitUpload("cam8", start, storage.UploadDone)
	if info.Bytes < 2*f.cfg.PartSize {
		t.Fatalf("segment of %d bytes is not above two parts", info.Bytes)
	}
	file, err := os.ReadFile(filepath.Join(f.dir, info.File))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := f.srv.Client().GetObject(t.Context(), s3test.Bucket, info.Upload.Key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	whole, err := io.ReadAll(obj)
	if err != nil || string(whole) != string(file) {
		t.Errorf("the object (%d bytes, %v) is not the file (%d bytes)", len(whole), err, len(file))
	}
}

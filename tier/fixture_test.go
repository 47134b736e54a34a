//go:build interop

package tier_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/internal/leaktest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/internal/s3test"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
	"github.com/camvault/camvault/tier"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// waitLong bounds the waits on uploads: a busy machine, a real server.
const waitLong = 60 * time.Second

// day0 is the day the tests record on.
var day0 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// at returns day0 + d.
func at(d time.Duration) time.Time { return day0.Add(d) }

// fixture is a store, a tier of it on an S3 server, and the tier's log.
type fixture struct {
	t     testing.TB
	srv   *s3test.Server
	dir   string
	store *storage.Store
	cfg   tier.Config
	tier  *tier.Tier
	log   *rtsptest.SyncBuffer
	stop  func() // ends Run and waits for it; nil when not running
}

// newFixture opens a store in a new directory and a tier with a prefix of
// the test's own on srv; edit changes the config first.
func newFixture(t testing.TB, srv *s3test.Server, edit func(*tier.Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, srv: srv, dir: t.TempDir(), log: &rtsptest.SyncBuffer{}}
	f.openStore()
	f.cfg = tier.Config{Endpoint: srv.Endpoint, Bucket: s3test.Bucket, Region: s3test.Region,
		AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey,
		Prefix: strings.ReplaceAll(t.Name(), "/", "-") + "/", Node: "n1",
		RetryMin: 20 * time.Millisecond, RetryMax: 500 * time.Millisecond, ScanInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if edit != nil {
		edit(&f.cfg)
	}
	f.newTier()
	t.Cleanup(func() {
		f.stopRun()
		// The tests of this package run one at a time: no other Tier runs.
		leaktest.Check(t, "camvault/camvault/tier.")
		if err := f.store.Close(); err != nil {
			t.Error(err)
		}
	})
	return f
}

func (f *fixture) openStore() {
	f.t.Helper()
	s, err := storage.Open(storage.Config{Dir: f.dir, Sync: storage.SyncNone, IndexTimeout: 5 * time.Second})
	if err != nil {
		f.t.Fatal(err)
	}
	f.store = s
}

func (f *fixture) newTier() {
	f.t.Helper()
	tr, err := tier.New(f.cfg, f.store)
	if err != nil {
		f.t.Fatal(err)
	}
	f.tier = tr
}

// run starts the tier's Run; stopRun ends it.
func (f *fixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.tier.Run(ctx) }()
	f.stop = func() {
		cancel()
		if err := <-done; err != nil {
			f.t.Error(err)
		}
	}
}

func (f *fixture) stopRun() {
	if f.stop != nil {
		f.stop()
		f.stop = nil
	}
}

// testInit returns ftyp+moov with one AAC track (ID 1, 48 kHz).
func testInit(t testing.TB) []byte {
	t.Helper()
	init := mp4.CreateEmptyInit()
	if err := init.AddEmptyTrack(48000, "audio", "und").SetAACDescriptor(aac.AAClc, 48000); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := init.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fragFrames AAC frames make a fragment of about 1 s.
const fragFrames = 47

var fragDur = time.Duration(fragFrames*1024) * time.Second / 48000

// record writes a sealed segment of nfrag fragments of frameBytes-byte
// frames under revision rev, through the store's writer as the recorder
// does, and returns its index entry.
func (f *fixture) record(camera string, start time.Time, nfrag, frameBytes int, rev int64) storage.SegmentInfo {
	f.t.Helper()
	seg, err := f.store.CreateRevision(camera, start, 1, rev, testInit(f.t))
	if err != nil {
		f.t.Fatal(err)
	}
	for i := range nfrag {
		wall := start.Add(time.Duration(i) * fragDur)
		samples := make([]fmp4.Sample, fragFrames)
		data := make([]byte, 0, fragFrames*frameBytes)
		for j := range samples {
			samples[j] = fmp4.Sample{Duration: 1024, Size: uint32(frameBytes), Key: true}
			data = append(data, bytes.Repeat([]byte{byte(i + j)}, frameBytes)...)
		}
		tf := []fmp4.TrackFragment{{TrackID: 1, BaseDecodeTime: uint64(i * fragFrames * 1024), Samples: samples, Data: data}}
		buf := f.store.Buffer()
		*buf = fmp4.AppendFragment(*buf, uint32(i+1), 0, wall, tf)
		if err := seg.Append(storage.FragmentInfo{Start: wall, Duration: fragDur, Key: true}, buf); err != nil {
			f.t.Fatal(err)
		}
	}
	seg.Seal()
	<-seg.Done()
	if err := seg.Err(); err != nil {
		f.t.Fatal(err)
	}
	return f.info(camera, start)
}

// info returns the index entry (with seek table) of camera's segment at
// start.
func (f *fixture) info(camera string, start time.Time) storage.SegmentInfo {
	f.t.Helper()
	infos, err := f.store.Segments(camera, start, start.Add(time.Nanosecond), true)
	if err != nil || len(infos) != 1 || !infos[0].Start.Equal(start) {
		f.t.Fatalf("segment %s at %v: %d entries, %v", camera, start, len(infos), err)
	}
	return infos[0]
}

// waitUpload waits until the segment's upload mark is state.
func (f *fixture) waitUpload(camera string, start time.Time, state storage.UploadState) storage.SegmentInfo {
	f.t.Helper()
	var info storage.SegmentInfo
	rtsptest.WaitWithin(f.t, waitLong, "upload mark "+state.String()+" of "+camera+" "+start.String(), func() bool {
		info = f.info(camera, start)
		return info.Upload.State == state
	})
	return info
}

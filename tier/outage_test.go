//go:build interop

package tier_test

import (
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/internal/s3test"
	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/tier"
)

// TestStoreOutage: with the S3 server down, recording goes on (every
// fragment is written, every segment seals) and the uploads wait; once the
// server is back the queue catches up. The outage is logged once when it
// begins and once when it ends, however many retries it took. The queue's
// stats count the whole backlog, past the ScanBatch one scan takes.
func TestStoreOutage(t *testing.T) {
	srv := s3test.New(t)
	f := newFixture(t, srv, func(c *tier.Config) { c.ScanBatch = 2 })
	f.run()
	first := at(12 * time.Hour)
	f.record("cam6", first, 2, 50, 1)
	f.waitUpload("cam6", first, storage.UploadDone)

	srv.Stop()
	var during []time.Time
	var backlog int64
	for i := range 3 {
		s := at(12*time.Hour + time.Duration(i+1)*time.Minute)
		during = append(during, s)
		info := f.record("cam6", s, 3, 50, 1)
		if len(info.Fragments) != 3 || info.State != storage.StateSealed {
			t.Fatalf("recorded during the outage: %+v", info)
		}
		backlog += info.Bytes
	}
	f.tier.Kick()
	rtsptest.WaitWithin(t, waitLong, "failed attempts to be retried", func() bool { return f.tier.Stats().Failures >= 3 })
	rtsptest.WaitWithin(t, waitLong, "the backlog to count all three segments", func() bool { return f.tier.Stats().Queue == 3 })
	if st := f.tier.Stats(); st.QueueBytes != backlog || st.OldestPending < time.Since(during[0].Add(time.Minute)) {
		t.Errorf("backlog %d bytes, oldest %v; want %d bytes, the first one's age", st.QueueBytes, st.OldestPending, backlog)
	}
	if st := f.tier.Stats(); !st.Unreachable || st.UploadedObjects != 1 {
		t.Errorf("stats during the outage %+v", st)
	}
	for _, s := range during {
		if st := f.info("cam6", s).Upload.State; st != storage.UploadNone {
			t.Fatalf("segment %v: %v during the outage", s, st)
		}
	}

	srv.Start()
	for _, s := range during {
		f.waitUpload("cam6", s, storage.UploadDone)
	}
	rtsptest.WaitWithin(t, waitLong, "the outage's end to be logged", func() bool {
		return strings.Contains(f.log.String(), "object store works again")
	})
	log := f.log.String()
	if n, m := strings.Count(log, "object store failing"), strings.Count(log, "object store works again"); n != 1 || m != 1 {
		t.Errorf("outage logged %d times, its end %d times, want once each; log:\n%s", n, m, log)
	}
	f.tier.Kick()
	rtsptest.WaitWithin(t, waitLong, "the backlog to drain", func() bool { return f.tier.Stats().Queue == 0 })
	if st := f.tier.Stats(); st.Unreachable || st.UploadedObjects != 4 || st.QueueBytes != 0 || st.OldestPending != 0 {
		t.Errorf("stats after the outage %+v", st)
	}
}

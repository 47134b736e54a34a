package storage

import (
	"testing"
	"time"
)

// TestDryRunTakesNoPassLock: review finding 4 on issue 11. A dry run (the
// API's, at any rate users poll it) plans without the pass lock, so it
// never makes a writer that found the disk full wait for it (reclaimWait)
// and drop its fragment. Before, it waited here for the lock held below.
func TestDryRunTakesNoPassLock(t *testing.T) {
	t.Parallel()
	s, err := Open(Config{Dir: t.TempDir(), Sync: SyncNone, IndexTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetRetention(Retention{Default: RetentionPolicy{MaxAge: time.Hour}})
	s.ret.pass.Lock() // a real pass, or a writer's Reclaim, under way
	done := make(chan error, 1)
	go func() {
		_, err := s.RunRetention(time.Now(), true)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("dry run: %v", err)
		}
		s.ret.pass.Unlock()
	case <-time.After(30 * time.Second): // a bound on failure, not a wait for success
		t.Error("the dry run waits for the pass lock")
		s.ret.pass.Unlock()
		<-done
	}
}

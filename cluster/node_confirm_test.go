package cluster_test

import (
	"errors"
	"testing"

	"github.com/camvault/camvault/cluster"
)

// seenRev returns the revision Fence gives for a camera tn does not own: the one a
// recording in doubt of it carries, negated.
func seenRev(t *testing.T, tn *testNode, camera string) int64 {
	t.Helper()
	var rev int64
	waitFor(t, tn.name+" has read etcd", func() bool {
		var ok bool
		rev, ok = tn.Fence(camera)
		return !ok && rev > 0
	})
	return rev
}

// TestConfirm: what a node recorded in doubt is confirmed under the revision of its
// ownership that went on, or of its own claim when nobody owned the camera in between
// (issue 13: a camera pushed while etcd was unreachable, claimed when it came back); it
// is refused when another node owned the camera meanwhile, or when etcd compacted the
// history that would prove it.
func TestConfirm(t *testing.T) {
	t.Parallel()
	raw, a, b := startPair(t)

	// Pushed to a in doubt, claimed by a afterwards, nobody in between: the claim's revision.
	free := seenRev(t, a, "free")
	if _, err := a.Confirm(t.Context(), "free", free); !errors.Is(err, cluster.ErrUnclaimed) {
		t.Fatalf("confirm before any claim: %v, want ErrUnclaimed", err)
	}
	claimed, err := a.Claim(t.Context(), "free")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Confirm(t.Context(), "free", free); err != nil || got != claimed {
		t.Fatalf("confirm of the claimed camera: %d, %v, want %d", got, err, claimed)
	}
	// Owned by a through the doubt: its own revision.
	if got, err := a.Confirm(t.Context(), "free", claimed); err != nil || got != claimed {
		t.Fatalf("confirm of the owned revision: %d, %v, want %d", got, err, claimed)
	}
	// b owned the camera in between (claimed and released it): refused, even though a
	// claims it afterwards.
	busy := seenRev(t, a, "busy")
	if _, err := b.Claim(t.Context(), "busy"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Confirm(t.Context(), "busy", busy); !errors.Is(err, cluster.ErrNotOwner) {
		t.Fatalf("confirm while b owns it: %v, want ErrNotOwner", err)
	}
	if err := b.Release(t.Context(), "busy"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Claim(t.Context(), "busy"); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Confirm(t.Context(), "busy", busy); !errors.Is(err, cluster.ErrNotOwner) {
		t.Fatalf("confirm after b's ownership: %d, %v, want ErrNotOwner", got, err)
	}
	// a's ownership ended (released, as when its lease expired while it could not reach
	// etcd) and a claimed the camera again, nobody in between: the new claim's revision.
	back, err := a.Claim(t.Context(), "back")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Release(t.Context(), "back"); err != nil {
		t.Fatal(err)
	}
	again, err := a.Claim(t.Context(), "back")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Confirm(t.Context(), "back", back); err != nil || got != again {
		t.Fatalf("confirm across a's own release: %d, %v, want %d", got, err, again)
	}
	// ... but b owned it between a's release and a's claim: refused.
	if err := a.Release(t.Context(), "back"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(t.Context(), "back"); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(t.Context(), "back"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Claim(t.Context(), "back"); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Confirm(t.Context(), "back", again); !errors.Is(err, cluster.ErrNotOwner) {
		t.Fatalf("confirm across b's ownership: %d, %v, want ErrNotOwner", got, err)
	}
	// Taken over by b: a's revision is not confirmed any more.
	if _, err := b.Takeover(t.Context(), "free"); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Confirm(t.Context(), "free", claimed); !errors.Is(err, cluster.ErrNotOwner) {
		t.Fatalf("confirm after the takeover: %d, %v, want ErrNotOwner", got, err)
	}
	// History compacted past the doubt's revision: nothing can be proved.
	gone := seenRev(t, a, "gone")
	if _, err := a.Claim(t.Context(), "gone"); err != nil {
		t.Fatal(err)
	}
	resp, err := raw.Put(t.Context(), "unrelated", "x") // the compaction keeps its revision only
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Compact(t.Context(), resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Confirm(t.Context(), "gone", gone); !errors.Is(err, cluster.ErrNotOwner) {
		t.Fatalf("confirm over a compacted history: %d, %v, want ErrNotOwner", got, err)
	}
}

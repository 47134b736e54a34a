//go:build interop

package interop

import (
	"os"
	"testing"

	"github.com/camvault/camvault/internal/leaktest"
)

// TestMain fails the run when a test leaves goroutines behind in the test process (the
// scripted peers, the readers of camvault's and ffmpeg's output and the waits for their
// exit must all end with the test), and removes the camvault builds and encoded clips.
func TestMain(m *testing.M) {
	code := leaktest.Run(m)
	raceBuild.remove()
	plainBuild.remove()
	removeClips()
	os.Exit(code)
}

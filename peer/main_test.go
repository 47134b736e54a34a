package peer_test

import (
	"testing"

	"github.com/camvault/camvault/internal/leaktest"
)

// TestMain fails the run when a test leaves goroutines behind.
func TestMain(m *testing.M) { leaktest.Main(m) }

package main

import (
	"testing"

	"github.com/camvault/camvault/internal/leaktest"
)

// TestMain fails the run when a test leaves goroutines behind: serve and its parts must
// stop every goroutine they started, on a failed start too.
func TestMain(m *testing.M) { leaktest.Main(m) }

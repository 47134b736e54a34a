package api_test

import (
	"testing"

	"github.com/camvault/camvault/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

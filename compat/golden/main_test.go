package golden

import (
	"testing"

	"github.com/passgw/passgw/internal/testenv"
)

// TestMain fails the package's tests when a goroutine they started
// outlives them.
func TestMain(m *testing.M) { testenv.VerifyTestMain(m) }

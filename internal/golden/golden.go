// Package golden compares a test's output with a file under the test's
// testdata/ folder, and rewrites the file instead when the test runs with
// -update. (cxml keeps a copy of its own: it imports nothing of ours.)
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from what the tests produce")

// Compare checks got against testdata/<name>.golden, or writes it there
// with -update.
func Compare(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run Golden -update to create it")
	assert.Equal(t, string(want), got)
}

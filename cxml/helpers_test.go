package cxml

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// envConformanceDir names the environment variable that points at the
// shared conformance material (the folder holding samples/ and dtd/). By
// default it sits beside the checkout.
const envConformanceDir = "CXML_CONFORMANCE_DIR"

// samplesDir returns the folder of real-world sample documents, or fails
// the test with a message that says how to find it: a test that cannot
// read the samples must not pass by testing nothing.
func samplesDir(t testing.TB) string {
	t.Helper()
	base := os.Getenv(envConformanceDir)
	if base == "" {
		// The DTDs' folder sits in the conformance folder; CI sets it.
		if dtd := os.Getenv("CXML_DTD_DIR"); dtd != "" {
			base = filepath.Dir(filepath.Clean(dtd))
		} else {
			base = filepath.Join("..", "..", "shared", "conformance")
		}
	}
	dir := filepath.Join(base, "samples")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("the conformance samples are not in %s: set %s to the shared conformance folder (the one holding samples/ and dtd/)", dir, envConformanceDir)
	}
	return dir
}

// sampleNames lists the sample files by name.
func sampleNames(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(samplesDir(t), "*.xml"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no samples in %s", samplesDir(t))
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir(t), name))
	require.NoError(t, err)
	return b
}

// parseSample parses a sample that must parse.
func parseSample(t testing.TB, name string) *Document {
	t.Helper()
	d, err := Parse(readSample(t, name), Limits{})
	require.NoError(t, err, name)
	return d
}

// requestBody returns the request body of d as a T, or fails.
func requestBody[T RequestBody](t testing.TB, d *Document) T {
	t.Helper()
	require.NotNil(t, d.Request, "not a request")
	b, ok := d.Request.Body.(T)
	require.True(t, ok, "request body is %T", d.Request.Body)
	return b
}

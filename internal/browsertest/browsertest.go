// Package browsertest drives a real headless Chromium (Debian's chromium
// package; `make deps` installs it) through chromedp, for tests of the
// punchout pages as a buyer's user sees them. A missing Chromium fails the
// test: browser tests run in CI, they do not skip.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvChromium overrides the Chromium binary.
const EnvChromium = "PUNCHOUT_CHROMIUM"

// Path returns the Chromium binary or fails the test.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("Chromium not found: install Debian's chromium package (`make deps`) or set %s", EnvChromium)
	return ""
}

// New starts a fresh headless Chromium (its own profile directory) and
// returns a browser context that lives until the test ends. The flags are
// those this closed network needs: without the background-networking ones
// Chromium stalls trying to reach Google.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1200, 1600),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	tctx, cancelT := context.WithTimeout(bctx, timeout)
	t.Cleanup(func() {
		cancelT()
		cancelB()
		cancelA()
	})
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return tctx
}

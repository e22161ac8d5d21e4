package apptest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cxmlgate/punchout/internal/apptest"
)

func TestClockMovesOnlyWhenAdvanced(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := apptest.NewClock(start)
	assert.Equal(t, start, c.Now())
	assert.Equal(t, start, c.Now(), "the clock stands still")
	c.Advance(90 * time.Second)
	assert.Equal(t, start.Add(90*time.Second), c.Now())

	// Concurrent readers and movers (run with -race).
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(2)
		go func() { defer wg.Done(); c.Advance(time.Second) }()
		go func() { defer wg.Done(); _ = c.Now() }()
	}
	wg.Wait()
	assert.Equal(t, start.Add(98*time.Second), c.Now())
}

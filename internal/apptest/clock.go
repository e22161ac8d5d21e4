package apptest

import (
	"sync"
	"time"

	"github.com/cxmlgate/punchout/internal/app"
)

// Clock is a clock that stands still until a test moves it, so that a
// test makes time pass instead of sleeping. It is safe for concurrent
// use: the gateway reads it from every request and worker.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads start until it is moved.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// WithClock makes c the gateway's clock (app.Config.Now). HTTP timeouts,
// request durations and the workers' polling keep to the wall clock.
func WithClock(c *Clock) Option {
	return func(cfg *app.Config) { cfg.Now = c.Now }
}

package apptest

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// retryAtOnce is the job queue's retry policy in tests: a failed job is
// due again at once, so a test sees three attempts without waiting out
// River's backoff.
type retryAtOnce struct{}

func (retryAtOnce) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Millisecond) }

// WaitJobs waits until the job queue has no job running or due within a
// second: every delivery and mail the test caused has had its outcome
// (a job snoozed or scheduled later is not waited for). It waits for
// the queue's events, and fails the test after 30 seconds.
func (s *Server) WaitJobs(t testing.TB) {
	t.Helper()
	events, cancel := s.App.Jobs.Subscribe()
	defer cancel()
	deadline := time.After(30 * time.Second)
	// Events tell when an attempt ended; the tick covers a job that
	// became due meanwhile without an event.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := s.App.Jobs.Pending(context.Background(), time.Now().Add(time.Second))
		if err != nil {
			t.Fatalf("job queue: %v", err)
		}
		if n == 0 {
			return
		}
		select {
		case <-events:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%d jobs still running or due after 30 s", n)
		}
	}
}

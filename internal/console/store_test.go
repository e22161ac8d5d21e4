package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/console"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

var _ scs.CtxStore = (*console.Store)(nil)

// TestStoreEnds: a session ends after its idle timeout unless it is
// used, never outlives its lifetime however much it is used, and is gone
// once deleted; Purge deletes only ended sessions. On both engines.
func TestStoreEnds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := apptest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		s := &console.Store{DB: d, Now: clock.Now, Idle: 2 * time.Hour, Lifetime: 5 * time.Hour}
		find := func(token string) bool {
			t.Helper()
			_, ok, err := s.FindCtx(ctx, token)
			require.NoError(t, err)
			return ok
		}

		require.NoError(t, s.CommitCtx(ctx, "idle", []byte("a"), time.Time{}))
		require.NoError(t, s.CommitCtx(ctx, "busy", []byte("b"), time.Time{}))
		require.NoError(t, s.CommitCtx(ctx, "gone", []byte("c"), time.Time{}))
		b, ok, err := s.FindCtx(ctx, "busy")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, []byte("b"), b)
		require.NoError(t, s.DeleteCtx(ctx, "gone"))
		assert.False(t, find("gone"), "deleted")
		assert.False(t, find("never"), "unknown")

		clock.Advance(90 * time.Minute)
		assert.True(t, find("busy"))
		require.NoError(t, s.CommitCtx(ctx, "busy", []byte("b2"), time.Time{}))
		clock.Advance(31 * time.Minute) // 2h01 after the idle one's last use
		assert.False(t, find("idle"), "idle for longer than the timeout")
		assert.True(t, find("busy"), "used 31 minutes ago")

		n, err := s.Purge(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 1, n, "only the idle one is purged")

		for range 2 { // used every hour, up to 4h01 after sign-in
			clock.Advance(time.Hour)
			require.True(t, find("busy"))
		}
		clock.Advance(time.Hour)
		assert.False(t, find("busy"), "used an hour ago, but past its lifetime (5h)")
	})
}

package hostile

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/exchange"
)

// dbSize is the size of the database as stored: on SQLite the file after
// a checkpoint that empties the WAL into it, on PostgreSQL the exchange
// log's table with its indexes and TOAST.
func dbSize(t *testing.T, s *apptest.Server) int64 {
	t.Helper()
	ctx := context.Background()
	if s.App.DB.Engine == db.Postgres {
		var n int64
		require.NoError(t, s.App.DB.R.GetContext(ctx, &n, `SELECT pg_total_relation_size('exchanges')`))
		return n
	}
	_, err := s.App.DB.W.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	require.NoError(t, err)
	st, err := os.Stat(strings.TrimPrefix(s.App.Config.DB, "sqlite:"))
	require.NoError(t, err)
	return st.Size()
}

// TestJunkBodiesDoNotFillTheDisk posts 100 bodies of 2 MB each: random
// bytes, and element floods with a wrong secret. Before, each was stored
// whole in the exchange log (200 MB at 80 MB/s). Now a refusal keeps a
// prefix of a few KiB with the size and hash of what was sent.
func TestJunkBodiesDoNotFillTheDisk(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		c := clientFrom(t, "127.0.0.1")
		before := dbSize(t, s)
		junk := make([]byte, 2_000_000)
		for i := range 100 {
			body := flood(fmt.Sprintf("junk-%d@hostile", i), "wrong-secret")
			if i%2 == 0 {
				_, _ = rand.Read(junk)
				body = junk
			}
			st, _ := postCXML(t, c, s.URL, body)
			assert.Contains(t, []int{400, 401, 406}, st.Code)
		}
		grown := dbSize(t, s) - before
		t.Logf("database grew by %d KiB for 100 bodies of 2 MB", grown>>10)
		assert.Less(t, grown, int64(4<<20), "database growth")

		page, err := exchange.List(context.Background(), s.App.DB.R, exchange.Filter{Limit: 200})
		require.NoError(t, err)
		require.Len(t, page.Exchanges, 200, "every refusal is logged, with its answer")
		for _, e := range page.Exchanges {
			if e.Direction != exchange.In {
				continue
			}
			assert.GreaterOrEqual(t, e.DocumentSize, int64(2_000_000), "the size of what was sent")
			assert.Len(t, e.DocumentSHA256, 64)
			assert.True(t, e.DocumentTruncated)
		}
	})
}

// TestRetention checks the periodic purge: refusals go after
// --refusal-retention, documents of authenticated connections after
// --exchange-retention, a request's answer and its replays with it.
func TestRetention(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		c := clientFrom(t, "127.0.0.1")
		ctx := context.Background()
		postCXML(t, c, s.URL, coupaDoc("ret-1@hostile", "wrong-secret", "<ProfileRequest/>"))
		postCXML(t, c, s.URL, coupaDoc("ret-2@hostile", "coupa-demo-secret", "<ProfileRequest/>"))
		postCXML(t, c, s.URL, coupaDoc("ret-2@hostile", "coupa-demo-secret", "<ProfileRequest/>")) // a replay
		count := func() (refused, kept int) {
			page, err := exchange.List(ctx, s.App.DB.R, exchange.Filter{Limit: 1000})
			require.NoError(t, err)
			for _, e := range page.Exchanges {
				if e.ConnectionID == nil {
					refused++
				} else {
					kept++
				}
			}
			return
		}
		r0, k0 := count()
		require.Equal(t, 2, r0)
		require.Equal(t, 4, k0)
		now := time.Now()
		ret := exchange.Retention{Kept: 90 * 24 * time.Hour, Refusals: 3 * 24 * time.Hour}
		tests := []struct {
			at                    time.Duration
			wantRefused, wantKept int
		}{
			{at: 71 * time.Hour, wantRefused: 2, wantKept: 4},
			{at: 73 * time.Hour, wantRefused: 0, wantKept: 4},
			{at: 89 * 24 * time.Hour, wantRefused: 0, wantKept: 4},
			{at: 91 * 24 * time.Hour, wantRefused: 0, wantKept: 0},
		}
		for _, tc := range tests {
			_, err := exchange.Purge(ctx, s.App.DB, ret, now.Add(tc.at))
			require.NoError(t, err)
			r, k := count()
			assert.Equal(t, tc.wantRefused, r, "refusals after %s", tc.at)
			assert.Equal(t, tc.wantKept, k, "authenticated records after %s", tc.at)
		}
		st, _ := postCXML(t, c, s.URL, coupaDoc("ret-2@hostile", "coupa-demo-secret", "<ProfileRequest/>"))
		assert.Equal(t, 200, st.Code, "a forgotten payloadID is processed as new")
	})
}

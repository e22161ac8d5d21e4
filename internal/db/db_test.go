package db_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/internal/errs"
)

func TestOpenMigratesAndTranslatesErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		require.NoError(t, d.Ping(ctx))
		now := time.Date(2026, 11, 23, 10, 0, 0, 123000000, time.UTC)
		insert := func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, ?, ?, ?)`),
				"org_1", "Acme", "procurement_system", now)
			return err
		}
		require.NoError(t, d.Transact(ctx, insert))
		err := d.Transact(ctx, insert)
		require.Error(t, err)
		assert.True(t, db.IsUniqueViolation(err), "second insert of the same id: %v", err)

		var got struct {
			Name      string    `db:"name"`
			CreatedAt time.Time `db:"created_at"`
		}
		require.NoError(t, d.R.GetContext(ctx, &got, d.Rebind(`SELECT name, created_at FROM organizations WHERE id = ?`), "org_1"))
		assert.Equal(t, "Acme", got.Name)
		assert.True(t, now.Equal(got.CreatedAt), "time round trip: %v != %v", got.CreatedAt, now)

		err = d.R.GetContext(ctx, &got, d.Rebind(`SELECT name, created_at FROM organizations WHERE id = ?`), "nope")
		assert.True(t, db.IsNoRows(err))

		// A failing transaction leaves nothing behind.
		err = d.Transact(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, ?, ?, ?)`),
				"org_2", "Beta", "none", now); err != nil {
				return err
			}
			return assert.AnError
		})
		require.ErrorIs(t, err, assert.AnError)
		var n int
		require.NoError(t, d.R.GetContext(ctx, &n, `SELECT COUNT(*) FROM organizations`))
		assert.Equal(t, 1, n)
	})
}

// A real no-rows and a real unique violation, on each engine, become
// NotFound and Conflict with the caller's message; other errors and nil
// pass through.
func TestTranslate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		insert := func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, ?, ?, ?)`),
				"org_1", "Acme", "none", time.Now().UTC())
			return db.Translate(err, "organization %s already exists", "org_1")
		}
		require.NoError(t, d.Transact(ctx, insert))
		err := d.Transact(ctx, insert)
		assert.Equal(t, errs.Conflict, errs.CodeOf(err), "%v", err)
		assert.Equal(t, "organization org_1 already exists", errs.MessageOf(err))
		assert.True(t, db.IsUniqueViolation(err), "the driver error stays the cause: %v", err)

		var name string
		err = db.Translate(d.R.GetContext(ctx, &name, d.Rebind(`SELECT name FROM organizations WHERE id = ?`), "nope"),
			"organization %s not found", "nope")
		assert.Equal(t, errs.NotFound, errs.CodeOf(err), "%v", err)
		assert.Equal(t, "organization nope not found", errs.MessageOf(err))
		assert.ErrorIs(t, err, sql.ErrNoRows)

		err = db.Translate(d.R.GetContext(ctx, &name, `SELECT name FROM no_such_table`), "not this")
		assert.Equal(t, errs.Internal, errs.CodeOf(err), "%v", err)
		assert.NoError(t, db.Translate(nil, "not this"))
	})
}

// Under a steady stream of commits, with readers beside them, the WAL
// starts again from its beginning, again and again, and stays bounded.
// With one reader, SQLite's own automatic checkpoint does it: the writer
// checkpoints after the commit that takes the WAL past 1,000 pages, and
// once a checkpoint has copied everything, the next write starts the WAL
// again. Four readers that always overlap, each reading every row, keep
// every such checkpoint from copying the last frames: the WAL then grew
// with everything written (175 MiB for 146 MiB) until the writer
// restarted it (restartWAL).
func TestSQLiteWALStaysBoundedUnderSteadyWrites(t *testing.T) {
	for _, tc := range []struct {
		name    string
		readers int
		query   string
	}{
		{"one reader", 1, `SELECT COUNT(*) FROM organizations`},
		{"four overlapping readers", 4, `SELECT COUNT(*) FROM organizations WHERE length(name) > 0`},
	} {
		t.Run(tc.name, func(t *testing.T) { testWALBounded(t, tc.readers, tc.query) })
	}
}

func testWALBounded(t *testing.T, readers int, query string) {
	path := filepath.Join(t.TempDir(), "punchout.db")
	ctx := context.Background()
	d, err := db.Open(ctx, "sqlite:"+path)
	require.NoError(t, err)
	defer d.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n int
				_ = d.R.GetContext(ctx, &n, query)
			}
		})
	}
	// The WAL header counts restarts (its checkpoint sequence number,
	// bytes 12-15); SQLite writes it with the first frame after each.
	restarts := func() uint32 {
		f, err := os.Open(path + "-wal")
		require.NoError(t, err)
		defer f.Close()
		var hdr [16]byte
		_, err = io.ReadFull(f, hdr[:])
		require.NoError(t, err)
		return binary.BigEndian.Uint32(hdr[12:16])
	}
	// 150 MB of WAL in 7,500 commits that each rewrite 20 KiB of one of
	// 20 rows, for at least a second; the database file stays small.
	const rows, commits, size = 20, 7500, 20 << 10
	now := time.Now().UTC()
	for i := range rows {
		require.NoError(t, d.Transact(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, '', 'none', ?)`,
				fmt.Sprintf("org_%d", i), now)
			return err
		}))
	}
	started := time.Now()
	var largest int64
	for i := range commits {
		require.NoError(t, d.Transact(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE organizations SET name = ? WHERE id = ?`,
				strings.Repeat(string(rune('a'+i%26)), size), fmt.Sprintf("org_%d", i%rows))
			return err
		}))
		if i%100 == 0 {
			st, err := os.Stat(path + "-wal")
			require.NoError(t, err)
			largest = max(largest, st.Size())
		}
		if i == commits-1 && time.Since(started) < time.Second {
			time.Sleep(time.Second - time.Since(started))
		}
	}
	n := restarts()
	close(stop)
	wg.Wait()
	written := int64(commits * size)
	t.Logf("%d restarts; largest WAL %d MiB for %d MiB written", n, largest>>20, written>>20)
	assert.GreaterOrEqual(t, n, uint32(2), "the WAL did not start again while commits went on")
	assert.Less(t, largest, written*3/4, "the WAL grew with everything written")
	assert.Less(t, largest, int64(32<<20), "the WAL grew past a few times the automatic checkpoint's 1,000 pages")
}

func TestReopenIsIdempotent(t *testing.T) {
	dsn := dbtest.SQLiteDSN(t)
	for i := 0; i < 2; i++ {
		d, err := db.Open(context.Background(), dsn)
		require.NoError(t, err)
		require.NoError(t, d.Close())
	}
}

// The writer checkpoints on its own (SQLite's automatic checkpoint at
// its default of 1,000 pages) and cuts a WAL it starts again back to
// journal_size_limit; readers cannot write. Closing the database
// checkpoints what is left: the file alone then holds every row.
func TestSQLiteSettings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "punchout.db")
	ctx := context.Background()
	d, err := db.Open(ctx, "sqlite:"+path)
	require.NoError(t, err)
	defer d.Close()

	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"wal_autocheckpoint", "1000"},
		{"journal_size_limit", "16777216"},
		{"busy_timeout", "10000"},
		{"foreign_keys", "1"},
	} {
		var got string
		require.NoError(t, d.W.GetContext(ctx, &got, `PRAGMA `+tc.pragma))
		assert.Equal(t, tc.want, got, "the writer's %s", tc.pragma)
	}
	var readOnly int
	require.NoError(t, d.R.GetContext(ctx, &readOnly, `PRAGMA query_only`))
	assert.Equal(t, 1, readOnly, "a reader's query_only")

	now := time.Now().UTC()
	for i := range 50 {
		require.NoError(t, d.Transact(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, ?, 'none', ?)`,
				fmt.Sprintf("org_%d", i), strings.Repeat("x", 2000), now)
			return err
		}))
	}
	require.NoError(t, d.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	cp := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, os.WriteFile(cp, b, 0o600))
	c, err := sqlx.Open("sqlite3", "file:"+cp+"?mode=ro")
	require.NoError(t, err)
	defer c.Close()
	var n int
	require.NoError(t, c.Get(&n, `SELECT COUNT(*) FROM organizations`))
	assert.Equal(t, 50, n)
}

// OpenExisting, for every subcommand but serve and migrate, refuses a
// database that is not the gateway's, and creates nothing.
func TestOpenExistingRefusesWhatIsNotAGatewayDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	junk := filepath.Join(dir, "junk.db")
	require.NoError(t, os.WriteFile(junk, []byte("not a database, but long enough to have a header of sorts....................................................."), 0o600))
	tests := []struct {
		name    string
		dsn     func(t testing.TB) string
		problem string
	}{
		{"sqlite: no such file", func(testing.TB) string { return "sqlite:" + filepath.Join(dir, "typo.db") }, "no such database file"},
		{"sqlite: an empty file", func(testing.TB) string { return "sqlite:" + empty }, "has no gateway tables"},
		{"sqlite: not a database", func(testing.TB) string { return "sqlite:" + junk }, "not a SQLite database file"},
		{"sqlite: a directory", func(testing.TB) string { return "sqlite:" + dir }, "a directory"},
		{"postgres: no such database", func(t testing.TB) string {
			u, err := url.Parse(dbtest.PostgresDSN(t))
			require.NoError(t, err)
			u.Path = "/punchout_no_such_database"
			return u.String()
		}, "the database does not exist; check --db or PUNCHOUT_DB, or create it (CREATE DATABASE), then"},
		{"postgres: an empty schema", dbtest.PostgresDSN, "no gateway tables in the schemas of its search_path (t_"},
		{"postgres: no such schema", func(t testing.TB) string {
			u, err := url.Parse(dbtest.PostgresDSN(t))
			require.NoError(t, err)
			q := u.Query()
			q.Set("search_path", "no_such_schema")
			u.RawQuery = q.Encode()
			return u.String()
		}, "(no_such_schema); check --db or PUNCHOUT_DB, or create the schema, then"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn := tc.dsn(t)
			before := snapshot(t, dir)
			d, err := db.OpenExisting(ctx, dsn)
			if d != nil {
				d.Close()
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, db.ErrNoDatabase)
			assert.Contains(t, err.Error(), tc.problem)
			assert.Contains(t, err.Error(), "punchout migrate --db '"+dsn+"'")
			assert.Equal(t, before, snapshot(t, dir), "nothing was created or changed")
		})
	}
	for name, dsn := range dbtest.DSNs(t) {
		t.Run(name+": a gateway database", func(t *testing.T) {
			dsn := dsn(t)
			d, err := db.Open(ctx, dsn)
			require.NoError(t, err)
			require.NoError(t, d.Close())
			d, err = db.OpenExisting(ctx, dsn)
			require.NoError(t, err)
			defer d.Close()
			var n int
			require.NoError(t, d.R.GetContext(ctx, &n, `SELECT COUNT(*) FROM organizations`))
		})
	}
}

// snapshot lists the files of dir with their sizes.
func snapshot(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		out[e.Name()] = info.Size()
	}
	return out
}

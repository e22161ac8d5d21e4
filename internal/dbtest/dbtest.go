// Package dbtest opens real databases for tests: a SQLite file in the
// test's temporary directory always, and a fresh PostgreSQL schema when
// $PUNCHOUT_TEST_POSTGRES_URL names a server. With
// $PUNCHOUT_REQUIRE_POSTGRES=1 (as .ci/run sets it) a missing URL fails
// the test instead of skipping PostgreSQL, so CI cannot pass on SQLite
// alone.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/db"
)

// Environment variables read by the package.
const (
	EnvPostgresURL     = "PUNCHOUT_TEST_POSTGRES_URL"
	EnvRequirePostgres = "PUNCHOUT_REQUIRE_POSTGRES"
)

// Each runs fn as a subtest per engine: "sqlite" always, "postgres" when
// a URL is given.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
}

// DSNs returns, per engine, a database URL for a fresh database, for
// tests that open the database themselves (the whole server in-process).
func DSNs(t *testing.T) map[string]func(t testing.TB) string {
	return map[string]func(t testing.TB) string{
		"sqlite":   SQLiteDSN,
		"postgres": PostgresDSN,
	}
}

// SQLiteDSN is a fresh SQLite database in the test's temporary directory.
func SQLiteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "punchout.db")
}

// OpenSQLite opens a fresh, migrated SQLite database.
func OpenSQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), SQLiteDSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

// PostgresDSN creates an empty schema on the test server and returns a URL
// whose search_path points at it; the schema is dropped when the test
// ends. It skips, or fails where PostgreSQL is required, without a server.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatalf("%s=1 but %s is not set", EnvRequirePostgres, EnvPostgresURL)
		}
		t.Skipf("PostgreSQL not configured: set %s to run this test on PostgreSQL", EnvPostgresURL)
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer admin.Close()
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "t_" + hex.EncodeToString(r[:])
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err, "create schema on %s", base)
	t.Cleanup(func() {
		c, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = c.Exec("DROP SCHEMA " + schema + " CASCADE")
			c.Close()
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenPostgres opens a fresh, migrated PostgreSQL schema.
func OpenPostgres(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), PostgresDSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

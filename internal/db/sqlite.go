package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // Registers the "sqlite3" driver.
)

// busyTimeout is how long a SQLite connection waits for a lock another
// connection holds (another process, or a checkpoint) before it fails.
const busyTimeout = 10 * time.Second

// walSizeLimit is the journal_size_limit of the writer: when SQLite
// starts the WAL again from its beginning, after a checkpoint that copied
// all of it, it cuts the file back to this size.
const walSizeLimit = 64 << 20

// openSQLite opens the database file at path in WAL mode: one writer
// connection whose transactions are immediate (BEGIN takes the write
// lock, so two writers queue in database/sql instead of failing when a
// reader upgrades), and a pool of read-only connections.
//
// Checkpoints are SQLite's own: after a commit that leaves the WAL
// longer than 1,000 pages, the writer copies what no reader still needs
// into the database file (wal_autocheckpoint's default), and the next
// write transaction after a checkpoint that copied everything starts the
// WAL again from its beginning. TestSQLiteWALStaysBoundedUnderSteadyWrites
// holds that bound with a reader running beside a steady writer.
func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_journal_mode=WAL&_busy_timeout=" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) +
		"&_foreign_keys=1&_synchronous=NORMAL&_stmt_cache_size=128"
	// The writer's page cache is kept small: a commit after a B-tree page
	// split walks all of it, so a large cache makes such commits slower;
	// pages it does not hold come from the OS's cache.
	w, err := sqlx.Open("sqlite3", base+"&_cache_size=-2000&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	// The pool keeps its one connection for as long as it is open, so a
	// setting made on it once holds. The driver has no DSN parameter for
	// journal_size_limit.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if _, err := w.ExecContext(ctx, fmt.Sprintf("PRAGMA journal_size_limit = %d", walSizeLimit)); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}

	r, err := sqlx.Open("sqlite3", base+"&_cache_size=-8000&_query_only=1")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &DB{Engine: SQLite, R: r, W: w}, nil
}

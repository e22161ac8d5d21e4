package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3" // Also registers the "sqlite3" driver.
)

// busyTimeout is how long a SQLite connection waits for a lock another
// connection holds (another process, or a checkpoint) before it fails.
const busyTimeout = 10 * time.Second

// walSizeLimit is the journal_size_limit of the writer: when SQLite
// starts the WAL again from its beginning, after a checkpoint that copied
// all of it, it cuts the file back to this size. A WAL file larger than
// that has not started again for as long: restartWAL then restarts it.
const walSizeLimit = 16 << 20

// restartWait is how long restartWAL waits, at most, for the writer's
// connection, and then for readers of older snapshots while no one writes.
const restartWait = 10 * time.Millisecond

// openSQLite opens the database file at path in WAL mode: one writer
// connection whose transactions are immediate (BEGIN takes the write
// lock, so two writers queue in database/sql instead of failing when a
// reader upgrades), and a pool of read-only connections.
//
// Checkpoints are SQLite's own: after a commit that leaves the WAL
// longer than 1,000 pages, the writer copies what no reader still needs
// into the database file (wal_autocheckpoint's default), and the next
// write transaction after a checkpoint that copied everything starts the
// WAL again from its beginning. Readers that always overlap can keep
// that from ever happening; restartWAL bounds the WAL then.
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

	restart, err := sqlx.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+
		"?_busy_timeout="+strconv.FormatInt(restartWait.Milliseconds(), 10))
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	restart.SetMaxOpenConns(1)
	return &DB{Engine: SQLite, R: r, W: w, wal: path + "-wal", restart: restart}, nil
}

// sqliteHasSchema checks, on a read-only connection that creates and
// changes nothing, that the file at path exists and holds the gateway's
// tables.
func sqliteHasSchema(ctx context.Context, path string) error {
	dsn := "sqlite:" + path
	name := dsn
	if abs, err := filepath.Abs(path); err == nil && abs != path {
		name += " (" + abs + ")"
	}
	no := func(problem string) error { return noDatabase(name, dsn, problem, "") }
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return no("no such database file")
	case err != nil:
		return fmt.Errorf("sqlite %s: %w", path, err)
	case st.IsDir():
		return no("a directory, not a database file")
	}
	c, err := sqlx.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+
		"?mode=ro&_busy_timeout="+strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	if err != nil {
		return err
	}
	defer c.Close()
	q, args, err := sqlx.In(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN (?)`, schemaTables)
	if err != nil {
		return err
	}
	var n int
	if err := c.GetContext(ctx, &n, q, args...); err != nil {
		if se := (sqlite3.Error{}); errors.As(err, &se) && se.Code == sqlite3.ErrNotADB {
			return no("not a SQLite database file")
		}
		return fmt.Errorf("sqlite %s: %w", path, err)
	}
	if n < len(schemaTables) {
		return no("the database file has no gateway tables")
	}
	return nil
}

// restartWAL starts the WAL again from its beginning when it has grown
// past walSizeLimit; Transact calls it after every commit on SQLite.
//
// SQLite's automatic checkpoint, which the writer runs after a commit,
// copies only the frames no reader still reads, and the WAL starts again
// only after a checkpoint that copied all of them. Readers that always
// overlap keep every checkpoint from getting that far: four of them, each
// reading every row, made the WAL grow with everything written
// (TestSQLiteWALStaysBoundedUnderSteadyWrites). A RESTART checkpoint
// copies everything, waits for the readers of older snapshots to finish
// (readers that start meanwhile read the new one), and starts the WAL
// again. It runs while this holds the writer's connection between two
// transactions, so no write of ours comes between, and on a connection of
// its own whose busy timeout is restartWait. What waits longer than
// restartWait, for the writer's connection or for a reader (a long
// report), is left alone, and the next commit tries again.
func (d *DB) restartWAL() {
	if st, err := os.Stat(d.wal); err != nil || st.Size() <= walSizeLimit {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), restartWait)
	defer cancel()
	w, err := d.W.Connx(ctx)
	if err != nil {
		return
	}
	defer w.Close()
	_, _ = d.restart.ExecContext(context.Background(), `PRAGMA wal_checkpoint(RESTART)`)
}

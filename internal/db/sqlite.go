package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// sqliteDriver is the name of go-sqlite3 as the gateway registers it:
// the same driver, except that a statement that changes data runs on the
// caller's goroutine and is not interrupted halfway when its context is
// done.
//
// go-sqlite3 runs each Exec with a cancellable context on a goroutine of
// its own and waits for it. Every request context is cancellable (the
// request timeout), so every write statement, on the one write
// connection, paid a goroutine start and two scheduler handoffs. A write
// statement on SQLite is short. database/sql still refuses to start a
// statement for a context that is done, and still rolls a transaction back
// when its context ends, so a cancelled request changes nothing. Queries
// keep their cancellation (go-sqlite3 uses context.AfterFunc there, which
// costs no goroutine).
const sqliteDriver = "sqlite3_gateway"

func init() {
	sql.Register(sqliteDriver, &gatewaySQLite{})
	sqlx.BindDriver(sqliteDriver, sqlx.QUESTION)
}

type gatewaySQLite struct{ base sqlite3.SQLiteDriver }

// noAutoCheckpoint, in a DSN of this driver, turns SQLite's automatic
// checkpoint off on that connection: the writer's, whose commits would
// otherwise copy the WAL into the database file (and fsync both) once
// every 1,000 pages, while holding the only write lock.
const noAutoCheckpoint = "_gateway_autocheckpoint=0"

func (d *gatewaySQLite) Open(dsn string) (driver.Conn, error) {
	noCkpt := strings.Contains(dsn, noAutoCheckpoint)
	dsn = strings.Replace(dsn, "&"+noAutoCheckpoint, "", 1)
	c, err := d.base.Open(dsn)
	if err != nil {
		return nil, err
	}
	conn := c.(*sqlite3.SQLiteConn)
	if noCkpt {
		// The writer also resets the WAL after a complete checkpoint; the
		// size limit applies then.
		for _, p := range []string{"PRAGMA wal_autocheckpoint = 0", fmt.Sprintf("PRAGMA journal_size_limit = %d", walSizeLimit)} {
			if _, err := conn.Exec(p, nil); err != nil {
				conn.Close()
				return nil, err
			}
		}
	}
	return &sqliteConn{conn}, nil
}

// sqliteConn embeds the driver's connection, so every interface
// database/sql looks for is still there; it overrides the entry points of
// writes.
type sqliteConn struct{ *sqlite3.SQLiteConn }

func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.SQLiteConn.ExecContext(context.WithoutCancel(ctx), query, args)
}

func (c *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.SQLiteConn.BeginTx(context.WithoutCancel(ctx), opts)
}

func (c *sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.SQLiteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &sqliteStmt{s.(*sqlite3.SQLiteStmt)}, nil
}

type sqliteStmt struct{ *sqlite3.SQLiteStmt }

func (s *sqliteStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.SQLiteStmt.ExecContext(context.WithoutCancel(ctx), args)
}

// checkpointEvery is how often the checkpointer looks for commits to
// checkpoint. At the gateway's write rates a WAL grows by some thousands
// of pages in that time, about what SQLite's own threshold (1,000 pages)
// lets it grow to.
const checkpointEvery = 100 * time.Millisecond

// walSizeLimit bounds the WAL file kept on disk after a checkpoint
// resets it.
const walSizeLimit = 64 << 20

// restartFrames is the WAL length, in frames, from which the
// checkpointer finishes a checkpoint on the writer's connection so that
// the WAL starts again from its beginning: about 16 MiB of 4 KiB pages.
const restartFrames = 4000

// restartWait is how long the writer waits, at most, for readers of the
// old WAL before it is started again.
const restartWait = 10 * time.Millisecond

// busyTimeout is how long a connection waits for a lock held by another
// (another process, or the checkpointer); it is in every DSN.
const busyTimeout = 10 * time.Second

// checkpointer runs PASSIVE checkpoints on a connection of its own: they
// never block the writer or readers, and copy what no reader still needs.
// It is what SQLite's automatic checkpoint does, moved off the commit of
// whichever request happened to cross the threshold. Only the short last
// step of a restart (below) runs on the writer's connection.
//
// A checkpoint beside a busy writer never quite finishes: the writer
// appends frames while it copies. SQLite starts the WAL again from its
// beginning only when a write transaction begins after a checkpoint that
// copied every frame, so under a steady stream of commits the WAL grew
// without end (180 MB after 1,200 orders), and with it the cost of every
// commit (the file system allocating and zeroing new blocks) and of every
// read (the WAL index to search). Once the WAL is restartFrames long, the
// checkpointer therefore copies the last few frames on the writer's own
// connection, between two of its transactions, where no frame is added
// meanwhile; the writer's next transaction then starts the WAL again
// (unless a reader still reads an old snapshot, when it is tried again at
// the next tick). The bulk of the copying stays off the writer.
type checkpointer struct {
	db    *sqlx.DB
	w     *sqlx.DB // the writer's pool
	dirty atomic.Bool
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func startCheckpointer(ctx context.Context, dsn string, w *sqlx.DB, every time.Duration) (*checkpointer, error) {
	cdb, err := openOneConn(ctx, dsn)
	if err != nil {
		return nil, err
	}
	c := &checkpointer{db: cdb, w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run(every)
	return c, nil
}

func (c *checkpointer) run(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if c.dirty.Swap(false) {
				// A failed checkpoint (the database busy in another
				// process) is tried again at the next tick; the WAL keeps
				// every page meanwhile.
				if err := c.checkpoint(); err != nil {
					c.dirty.Store(true)
				}
			}
		}
	}
}

// checkpoint copies committed frames into the database file, finishing on
// the writer's connection when the WAL has grown to restartFrames.
func (c *checkpointer) checkpoint() error {
	frames, err := walCheckpoint(c.db, "PASSIVE")
	if err != nil || frames < restartFrames {
		return err
	}
	// What was committed while that one copied is copied beside the
	// writer too, until a pass finds little, so that little is left for
	// the writer to wait for.
	for range 4 {
		began := time.Now()
		if _, err := walCheckpoint(c.db, "PASSIVE"); err != nil {
			return err
		}
		if time.Since(began) < time.Millisecond {
			break
		}
	}
	// The writer's connection, once its transaction in progress is done;
	// a transaction that runs for longer (a billing run) is left alone.
	wait, cancel := context.WithTimeout(context.Background(), time.Second)
	conn, err := c.w.Connx(wait)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx := context.Background()
	// RESTART copies what is left and then waits, through the busy
	// handler, for the readers still on the old WAL to finish, so that
	// the next write starts it again. The writer waits meanwhile, so the
	// wait is short: a reader that takes longer (a large report) is left
	// alone, and the restart is tried again at the next tick.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", restartWait.Milliseconds())); err != nil {
		return err
	}
	_, err = walCheckpoint(conn, "RESTART")
	if _, rerr := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds())); rerr != nil {
		// A writer that no longer waits for a busy database would fail
		// writes; the pool opens a new connection instead.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return rerr
	}
	return err
}

// walCheckpoint runs a checkpoint of the given mode and returns the WAL's
// length in frames.
func walCheckpoint(q sqlx.QueryerContext, mode string) (frames int, err error) {
	var busy, copied int
	err = q.QueryRowxContext(context.Background(), "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied)
	return frames, err
}

// close stops the checkpointer; the last connection to close checkpoints
// the WAL completely, as SQLite does.
func (c *checkpointer) close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		err = c.db.Close()
	})
	return err
}

// openOneConn opens a pool of exactly one connection that lives as long
// as the pool, and checks that it opens: the writer's and the
// checkpointer's.
func openOneConn(ctx context.Context, dsn string) (*sqlx.DB, error) {
	d, err := sqlx.Open(sqliteDriver, dsn)
	if err != nil {
		return nil, err
	}
	d.SetMaxOpenConns(1)
	d.SetMaxIdleConns(1)
	d.SetConnMaxLifetime(0)
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

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

// checkpointer runs PASSIVE checkpoints on a connection of its own: they
// never block the writer or readers, and copy what no reader still needs.
// It is what SQLite's automatic checkpoint does, moved off the commit of
// whichever request happened to cross the threshold.
type checkpointer struct {
	db    *sqlx.DB
	dirty atomic.Bool
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func startCheckpointer(ctx context.Context, dsn string, every time.Duration) (*checkpointer, error) {
	cdb, err := openOneConn(ctx, dsn)
	if err != nil {
		return nil, err
	}
	c := &checkpointer{db: cdb, stop: make(chan struct{}), done: make(chan struct{})}
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
				if _, err := c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
					c.dirty.Store(true)
				}
			}
		}
	}
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

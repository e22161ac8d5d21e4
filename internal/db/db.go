// Package db opens the gateway's database, SQLite (the embedded default)
// or PostgreSQL, and migrates it. One set of embedded migrations and one
// SQL text per query serve both engines: queries use ? placeholders and
// sqlx's Rebind, or named parameters. The few real dialect differences are
// in this package and nowhere else: column types in migrations
// (dialectFS), driver error codes (IsUniqueViolation), and the parameter
// limit of one statement (InsertRows).
//
// Writes run in Transact, which begins, runs and commits; each statement
// runs when it is called. SQLite writes go through one writer connection
// in immediate transactions (WAL, busy timeout, SQLite's own automatic
// checkpoints, and a restart of a WAL that readers kept from starting
// again: restartWAL); reads use a pool of read-only connections. On
// PostgreSQL both are the same pool.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // Registers the "pgx" driver.
	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// Engine names a database engine.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is an open, migrated database.
type DB struct {
	Engine Engine
	// R serves reads.
	R *sqlx.DB
	// W serves writes; on SQLite it has exactly one connection.
	W *sqlx.DB

	// SQLite only: the WAL file, and the connection that restarts it
	// (restartWAL).
	wal     string
	restart *sqlx.DB
}

// Open opens the database named by dsn — "sqlite:PATH" (or a bare path)
// or a postgres:// URL — and applies pending migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var d *DB
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://"):
		d, err = openPostgres(ctx, dsn)
	default:
		d, err = openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	p, err := sqlx.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(20)
	p.SetMaxIdleConns(20)
	p.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &DB{Engine: Postgres, R: p, W: p}, nil
}

// Close closes the connections.
func (d *DB) Close() error {
	err := d.W.Close()
	if d.restart != nil {
		err = errors.Join(err, d.restart.Close())
	}
	if d.R != d.W {
		err = errors.Join(err, d.R.Close())
	}
	return err
}

// Ping checks that the database answers a query, for /readyz.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.R.GetContext(ctx, &one, "SELECT 1")
}

// Transact runs fn in a write transaction and commits it when fn returns
// nil. On SQLite the transaction is immediate: it takes the write lock at
// BEGIN, so two writers queue instead of failing on upgrade, and a WAL
// grown too long is started again after the commit (restartWAL).
func (d *DB) Transact(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := d.W.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // After Commit, Rollback is a no-op.
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if d.Engine == SQLite {
		d.restartWAL()
	}
	return nil
}

// Rebind turns ? placeholders into the engine's own.
func (d *DB) Rebind(q string) string { return d.W.Rebind(q) }

// IsUniqueViolation reports whether err is a unique or primary key
// constraint violation, on either engine.
func IsUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// IsNoRows reports whether err says a query found nothing.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

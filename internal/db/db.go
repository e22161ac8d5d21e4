// Package db opens the gateway's database, SQLite (the embedded default)
// or PostgreSQL, and migrates it. One set of embedded migrations and one
// SQL text per query serve both engines: queries use ? placeholders and
// sqlx's Rebind, or named parameters. The few real dialect differences are
// in this package and nowhere else: column types in migrations
// (dialectFS), driver error codes (IsUniqueViolation), and the parameter
// limit of one statement (InsertRows). Translate is the one place where a
// driver error becomes an errs code.
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
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // Registers the "pgx" driver.
	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"

	"github.com/cxmlgate/punchout/internal/errs"
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
// or a postgres:// URL — and applies pending migrations. A SQLite file
// that does not exist is created: Open is for `punchout serve` and
// `punchout migrate`, which set a database up.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return open(ctx, dsn, false)
}

// ErrNoDatabase is returned by OpenExisting for a database that does not
// exist or does not hold the gateway's tables.
var ErrNoDatabase = errors.New("not a gateway database")

// OpenExisting is Open for every other subcommand (`bill`, `catalog
// import`): it refuses, with an error wrapping ErrNoDatabase that says
// how to go on, a SQLite file that does not exist, a PostgreSQL database
// that does not exist, and a database (or, on PostgreSQL, the schemas of
// its search_path) without the gateway's tables, and creates nothing in
// it. Billing or importing into a database made empty by a mistyped --db
// would succeed, do nothing useful and leave a stray database behind.
// A gateway database that lacks only the latest migrations gets them, as
// Open does.
func OpenExisting(ctx context.Context, dsn string) (*DB, error) {
	return open(ctx, dsn, true)
}

func open(ctx context.Context, dsn string, existing bool) (*DB, error) {
	var d *DB
	var err error
	switch {
	case isPostgres(dsn):
		d, err = openPostgres(ctx, dsn, existing)
	default:
		path := strings.TrimPrefix(dsn, "sqlite:")
		if existing {
			if err := sqliteHasSchema(ctx, path); err != nil {
				return nil, err
			}
		}
		d, err = openSQLite(ctx, path)
	}
	if err != nil {
		return nil, err
	}
	if existing && d.Engine == Postgres {
		if err := d.postgresHasSchema(ctx, dsn); err != nil {
			d.Close()
			return nil, err
		}
	}
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// schemaTables are the tables whose presence says a database holds the
// gateway's schema: goose's record of the migrations, and the first
// migration's first table.
var schemaTables = []string{"goose_db_version", "organizations"}

// noDatabase words OpenExisting's refusal of the database dsn names
// (shown as name); first, when not empty, is what must be done before
// `punchout migrate` can set the database up.
func noDatabase(name, dsn, problem, first string) error {
	if first != "" {
		first += ", then "
	}
	return noDatabaseError(fmt.Sprintf("%s: %s; check --db or PUNCHOUT_DB, or %sset the database up with `punchout migrate --db '%s'` (`punchout serve` does too)",
		name, problem, first, dsn))
}

type noDatabaseError string

func (e noDatabaseError) Error() string        { return string(e) }
func (e noDatabaseError) Is(target error) bool { return target == ErrNoDatabase }

// postgresHasSchema checks that the schemas of the search_path hold the
// gateway's tables, as unqualified names find them.
func (d *DB) postgresHasSchema(ctx context.Context, dsn string) error {
	var found int
	for _, t := range schemaTables {
		var ok bool
		if err := d.R.GetContext(ctx, &ok, `SELECT to_regclass($1) IS NOT NULL`, t); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if ok {
			found++
		}
	}
	if found < len(schemaTables) {
		var path string
		var current sql.NullString
		_ = d.R.GetContext(ctx, &path, `SHOW search_path`)
		_ = d.R.GetContext(ctx, &current, `SELECT current_schema()`)
		first := ""
		if !current.Valid { // No schema of the search_path exists.
			first = "create the schema"
		}
		return noDatabase(redactURL(dsn), redactURL(dsn), fmt.Sprintf("the database has no gateway tables in the schemas of its search_path (%s)", path), first)
	}
	return nil
}

// redactURL is dsn with its password, if any, replaced, for messages.
func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the postgres:// URL given"
	}
	return u.Redacted()
}

// openPostgres connects to dsn. When the database must exist (existing),
// a database that does not is refused with ErrNoDatabase.
func openPostgres(ctx context.Context, dsn string, existing bool) (*DB, error) {
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
		var pe *pgconn.PgError
		if existing && errors.As(err, &pe) && pe.Code == "3D000" { // invalid_catalog_name
			return nil, noDatabase(redactURL(dsn), redactURL(dsn), "the database does not exist", "create it (CREATE DATABASE)")
		}
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

// Translate turns a driver error into the gateway's error type, with the
// caller's message for whoever sent the request and err as its cause: a
// query that found no row becomes errs.NotFound, a unique or primary key
// violation errs.Conflict. nil and any other error come back unchanged.
func Translate(err error, format string, args ...any) error {
	switch {
	case IsNoRows(err):
		return errs.Wrap(errs.NotFound, err, format, args...)
	case IsUniqueViolation(err):
		return errs.Wrap(errs.Conflict, err, format, args...)
	}
	return err
}

package db

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies pending migrations. goose records each by version in
// goose_db_version; on PostgreSQL a session lock keeps two starting
// servers from migrating at once.
func (d *DB) migrate(ctx context.Context) error {
	p, err := d.migrations()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// migrations is the goose provider of the embedded migrations on d.
func (d *DB) migrations() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var (
		dialect goose.Dialect
		opts    []goose.ProviderOption
		conn    *sql.DB
	)
	switch d.Engine {
	case SQLite:
		dialect = goose.DialectSQLite3
		conn = d.W.DB
	case Postgres:
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 120))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
		conn = d.W.DB
	}
	p, err := goose.NewProvider(dialect, conn, dialectFS{fsys: sub, engine: d.Engine}, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// dialectFS serves the migrations with the column types of the engine.
// Migrations are written for PostgreSQL; on SQLite TIMESTAMPTZ becomes
// TIMESTAMP (the declared type go-sqlite3 reads back as time.Time), BYTEA
// becomes BLOB, and /* WITHOUT ROWID */ takes effect.
type dialectFS struct {
	fsys   fs.FS
	engine Engine
}

// sqliteTypes also turns the marker comment /* WITHOUT ROWID */, which
// PostgreSQL reads as a comment, into SQLite's clause: a table keyed by a
// text ID is then one B-tree instead of two (the rowid table and its
// primary-key index), one page fewer for each insert to write.
var sqliteTypes = [][2]string{{"TIMESTAMPTZ", "TIMESTAMP"}, {"BYTEA", "BLOB"}, {"/* WITHOUT ROWID */", "WITHOUT ROWID"}}

func (d dialectFS) Open(name string) (fs.File, error) {
	f, err := d.fsys.Open(name)
	if err != nil || d.engine != SQLite {
		return f, err
	}
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return f, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	for _, r := range sqliteTypes {
		b = bytes.ReplaceAll(b, []byte(r[0]), []byte(r[1]))
	}
	return &memFile{Reader: bytes.NewReader(b), info: st, size: int64(len(b))}, nil
}

func (d dialectFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(d.fsys, name) }

type memFile struct {
	*bytes.Reader
	info fs.FileInfo
	size int64
}

func (m *memFile) Stat() (fs.FileInfo, error) { return sizedInfo{m.info, m.size}, nil }
func (m *memFile) Close() error               { return nil }

type sizedInfo struct {
	fs.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }

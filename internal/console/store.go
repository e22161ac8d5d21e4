package console

import (
	"context"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/jobs"
)

// Store keeps console sessions in the database (table console_sessions),
// as an scs.CtxStore. One store serves both engines through internal/db
// (the SQLite writer connection, PostgreSQL's pool), where scs's
// sqlite3store and postgresstore would be two stores with two schemas,
// each holding a connection pool and a cleanup goroutine of its own.
//
// The store, not scs, decides when a session ends, by the gateway's
// clock (scs reads the wall clock, and tests move ours): Idle after the
// last request that found it, and never later than Lifetime after it
// was first committed. scs's own expiry argument is ignored, and scs is
// run without an IdleTimeout, so reading a session does not rewrite it;
// Find moves its end forward instead, at most once a minute.
type Store struct {
	DB       *db.DB
	Now      func() time.Time
	Idle     time.Duration
	Lifetime time.Duration
}

// touchEvery is how often a session's idle end is moved forward: a
// session read many times a minute is written once.
const touchEvery = time.Minute

type sessionRow struct {
	Data      []byte    `db:"data"`
	EndsAt    time.Time `db:"ends_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// FindCtx returns the data of a live session.
func (s *Store) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var r sessionRow
	err := s.DB.R.GetContext(ctx, &r, s.DB.Rebind(`SELECT data, ends_at, expires_at FROM console_sessions WHERE token_hash = ?`), token)
	if db.IsNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	now := s.Now().UTC()
	if !r.EndsAt.After(now) {
		return nil, false, nil
	}
	if end := s.end(now, r.ExpiresAt); end.Sub(r.EndsAt) >= touchEvery {
		if err := s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE console_sessions SET ends_at = ? WHERE token_hash = ?`), end, token)
			return err
		}); err != nil {
			return nil, false, err
		}
	}
	return r.Data, true, nil
}

// end is when a session seen at now ends.
func (s *Store) end(now, expires time.Time) time.Time {
	end := now.Add(s.Idle)
	if expires.Before(end) {
		end = expires
	}
	return end.UTC()
}

// CommitCtx writes a session's data; a new session starts its lifetime.
func (s *Store) CommitCtx(ctx context.Context, token string, b []byte, _ time.Time) error {
	now := s.Now().UTC()
	return s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		var expires time.Time
		err := tx.GetContext(ctx, &expires, tx.Rebind(`SELECT expires_at FROM console_sessions WHERE token_hash = ?`), token)
		if db.IsNoRows(err) {
			expires = now.Add(s.Lifetime)
			_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO console_sessions (token_hash, data, created_at, ends_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
				token, b, now, s.end(now, expires), expires)
			return err
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE console_sessions SET data = ?, ends_at = ? WHERE token_hash = ?`), b, s.end(now, expires.UTC()), token)
		return err
	})
}

// DeleteCtx ends a session.
func (s *Store) DeleteCtx(ctx context.Context, token string) error {
	return s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM console_sessions WHERE token_hash = ?`), token)
		return err
	})
}

// Find is FindCtx without a context, for scs.Store.
func (s *Store) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context, for scs.Store.
func (s *Store) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context, for scs.Store.
func (s *Store) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// Purge deletes the sessions that have ended and returns how many.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	var n int64
	err := s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM console_sessions WHERE ends_at <= ?`), s.Now().UTC())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// PurgeSessionsJob deletes ended console sessions. It is a periodic job
// (hourly, and at start).
type PurgeSessionsJob struct{}

// Kind names the job in the queue.
func (PurgeSessionsJob) Kind() string { return "purge_console_sessions" }

// InsertOpts puts the job on the maintenance queue.
func (PurgeSessionsJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueMaintenance, MaxAttempts: 3}
}

// Purger is the worker of PurgeSessionsJob.
type Purger struct {
	river.WorkerDefaults[PurgeSessionsJob]

	Store *Store
	Log   *slog.Logger
}

// Work purges once.
func (p *Purger) Work(ctx context.Context, _ *river.Job[PurgeSessionsJob]) error {
	n, err := p.Store.Purge(ctx)
	if n > 0 {
		p.Log.Info("console sessions ended", "deleted", n)
	}
	return err
}

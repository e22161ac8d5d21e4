// Package jobs is the gateway's one durable job queue: River
// (github.com/riverqueue/river), on SQLite through riversqlite and on
// PostgreSQL through riverdatabasesql, both on the database/sql pools of
// internal/db. Every background job runs on it: invoice delivery, mail,
// and the periodic jobs (the exchange log's retention).
//
// A job is inserted in the same transaction as the rows it concerns
// (Queue.Insert with the caller's *sqlx.Tx), so a crash can neither lose
// it nor run it for rows that were rolled back. Retries with backoff and
// jitter, timeouts, the rescue of jobs whose process died, leader
// election for the periodic jobs and the cleaning of finished jobs are
// River's; this package only configures them.
//
// On SQLite River shares the one writer connection with the rest of the
// gateway (riversqlite asks for a pool of one), so its polls and
// completions queue behind the gateway's own writes like any other
// write.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/cxmlgate/punchout/internal/db"
)

// The queues. Mail has its own, worked only by a gateway with an SMTP
// server configured: without one, mail waits in the outbox (and its jobs
// in the queue) until a gateway that has one starts.
const (
	QueueInvoices    = "invoices"
	QueueMail        = "mail"
	QueueMaintenance = "maintenance"
)

// DefaultRescueAfter is how long a job may run before River takes it for
// one whose process died and runs it again.
const DefaultRescueAfter = 10 * time.Minute

// jobTimeout is how long one attempt of a job may run (an invoice post
// has a 60-second HTTP timeout, a mail a 30-second SMTP one).
const jobTimeout = 2 * time.Minute

// Config configures the queue.
type Config struct {
	Log *slog.Logger
	// RescueAfter is how long a job may run before it is taken for
	// stuck, its process dead, and run again (default
	// DefaultRescueAfter). One attempt may run for at most half of it,
	// and at most two minutes.
	RescueAfter time.Duration
	// Mail says whether this gateway works the mail queue (it has an
	// SMTP server).
	Mail bool
	// Poll is how often each queue looks for due jobs (default 1 s).
	Poll time.Duration
	// RetryPolicy replaces River's default (exponential with jitter),
	// for tests that retry at once.
	RetryPolicy river.ClientRetryPolicy
	// Periodic jobs run on one gateway of a fleet at a time (River's
	// elected leader).
	Periodic []*river.PeriodicJob
}

// Queue is the job queue of one gateway process.
type Queue struct {
	client *river.Client[*sql.Tx]
	queues map[string]river.QueueConfig
}

// NewWorkers returns the registry that Register adds workers to, before
// New builds the queue on it.
func NewWorkers() *river.Workers { return river.NewWorkers() }

// Register adds the worker of one kind of job.
func Register[T river.JobArgs](w *river.Workers, worker river.Worker[T]) {
	river.AddWorker(w, worker)
}

func driver(d *db.DB) riverdriver.Driver[*sql.Tx] {
	if d.Engine == db.SQLite {
		return riversqlite.New(d.W.DB)
	}
	return riverdatabasesql.New(d.W.DB)
}

// Migrate creates or updates River's own tables, with River's migrator.
func Migrate(ctx context.Context, d *db.DB, log *slog.Logger) error {
	m, err := rivermigrate.New(driver(d), &rivermigrate.Config{Logger: quiet(log)})
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// New builds the queue; it inserts jobs at once, and works them once
// started.
func New(d *db.DB, workers *river.Workers, cfg Config) (*Queue, error) {
	rescue := cfg.RescueAfter
	if rescue <= 0 {
		rescue = DefaultRescueAfter
	}
	timeout := min(jobTimeout, rescue/2)
	poll := cfg.Poll
	if poll <= 0 {
		poll = time.Second
	}
	queues := map[string]river.QueueConfig{
		QueueInvoices:    {MaxWorkers: 4},
		QueueMaintenance: {MaxWorkers: 1},
	}
	if cfg.Mail {
		queues[QueueMail] = river.QueueConfig{MaxWorkers: 2}
	}
	client, err := river.NewClient(driver(d), &river.Config{
		Logger:               quiet(cfg.Log),
		Queues:               queues,
		Workers:              workers,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
		FetchPollInterval:    poll,
		FetchCooldown:        min(poll, 100*time.Millisecond),
		RetryPolicy:          cfg.RetryPolicy,
		PeriodicJobs:         cfg.Periodic,
		// Jobs are found by polling (FetchPollInterval): on SQLite River's
		// listener is a table it polls as well, and on PostgreSQL through
		// database/sql it has none; an insert then sends no notification.
		PollOnly: true,
		// Finished jobs are kept a week, for an operator to look at.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 30 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: client, queues: queues}, nil
}

// quiet passes River's warnings and errors to the gateway's log, not its
// chatter.
func quiet(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(levelAtLeast{log.Handler(), slog.LevelWarn})
}

type levelAtLeast struct {
	slog.Handler
	min slog.Level
}

func (h levelAtLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// Insert adds a job inside the caller's transaction: it exists once the
// transaction commits, and not at all if it rolls back.
func (q *Queue) Insert(ctx context.Context, tx *sqlx.Tx, args river.JobArgs) error {
	_, err := q.client.InsertTx(ctx, tx.Tx, args, nil)
	return err
}

// Start works the queues until Stop.
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop lets the jobs in progress finish (for as long as ctx allows), then
// stops.
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// Subscribe reports the jobs that end an attempt (completed, failed,
// cancelled, snoozed), for tests that wait for work to finish.
func (q *Queue) Subscribe() (<-chan *river.Event, func()) {
	return q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
}

// Pending counts the jobs of the queues this gateway works that are
// running, or not yet finished and due by the given time: the work a
// test waits for.
func (q *Queue) Pending(ctx context.Context, by time.Time) (int, error) {
	n := 0
	params := river.NewJobListParams().States(rivertype.JobStateAvailable, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStatePending).First(10000)
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return 0, err
	}
	for _, j := range res.Jobs {
		if _, worked := q.queues[j.Queue]; !worked {
			continue
		}
		if j.State == rivertype.JobStateRunning || !j.ScheduledAt.After(by) {
			n++
		}
	}
	return n, nil
}

// Backfill inserts a job for each row of jobs_backfill (the invoices and
// mail that were waiting when migration 00009 moved them onto the
// queue), each in the transaction that deletes its row, so each is
// inserted once; args makes a row's job.
func (q *Queue) Backfill(ctx context.Context, d *db.DB, args func(kind, ref string) river.JobArgs) error {
	for {
		var rows []struct{ Kind, Ref string }
		if err := d.R.SelectContext(ctx, &rows, `SELECT kind, ref FROM jobs_backfill ORDER BY kind, ref LIMIT 500`); err != nil || len(rows) == 0 {
			return err
		}
		err := d.Transact(ctx, func(tx *sqlx.Tx) error {
			for _, r := range rows {
				if err := q.Insert(ctx, tx, args(r.Kind, r.Ref)); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM jobs_backfill WHERE kind = ? AND ref = ?`), r.Kind, r.Ref); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

const (
	insertOrg = `INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, ?, 'none', ?)`
	insertPO  = `INSERT INTO purchase_orders (organization_id, po_number, bill_from, effective_month, expiration_month,
		admin_status, created_by, created_at, updated_at) VALUES (?, ?, '', '2026-12', '2027-11', 'active', 'order', ?, ?)`
)

// Held statements behave as if they had run where they were held: in
// order, seen by every later statement, rolled back with the rest, and
// failing the transaction with their own error.
func TestHeldWrites(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	count := func(t *testing.T, d *db.DB, table string) int {
		var n int
		require.NoError(t, d.R.GetContext(context.Background(), &n, `SELECT COUNT(*) FROM `+table))
		return n
	}
	for _, tc := range []struct {
		name string
		fn   func(ctx context.Context, tx *db.Tx) error
		// wantErr checks the transaction's error; nil means it commits.
		wantErr   func(t *testing.T, err error)
		orgs, pos int
	}{{
		name: "a parent and its child in one flush, child held after parent",
		fn: func(ctx context.Context, tx *db.Tx) error {
			require.NoError(t, db.ExecLater(ctx, tx, insertOrg, "org_a", "A", now))
			require.NoError(t, db.ExecLater(ctx, tx, insertPO, "org_a", "PO-1", now, now))
			return db.ExecLater(ctx, tx, insertPO, "org_a", "PO-2", now, now)
		},
		orgs: 1, pos: 2,
	}, {
		name: "a query sees what was held before it",
		fn: func(ctx context.Context, tx *db.Tx) error {
			require.NoError(t, db.ExecLater(ctx, tx, insertOrg, "org_a", "A", now))
			var n int
			if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM organizations WHERE id = ?`), "org_a"); err != nil {
				return err
			}
			if n != 1 {
				return errors.New("the held insert was not seen")
			}
			_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE organizations SET name = 'A2' WHERE id = ?`), "org_a")
			return err
		},
		orgs: 1,
	}, {
		name: "an UPDATE through ExecLater runs at once, after the held insert it changes",
		fn: func(ctx context.Context, tx *db.Tx) error {
			require.NoError(t, db.ExecLater(ctx, tx, insertOrg, "org_a", "A", now))
			require.NoError(t, db.ExecLater(ctx, tx, `UPDATE organizations SET name = ? WHERE id = ?`, "renamed", "org_a"))
			require.NoError(t, db.ExecLater(ctx, tx, insertPO, "org_a", "PO-1", now, now))
			var name string
			if err := tx.GetContext(ctx, &name, tx.Rebind(`SELECT name FROM organizations WHERE id = ?`), "org_a"); err != nil {
				return err
			}
			if name != "renamed" {
				return errors.New("the update did not see the held insert: name " + name)
			}
			return nil
		},
		orgs: 1, pos: 1,
	}, {
		name: "a unique violation in a held statement fails the transaction with its own error",
		fn: func(ctx context.Context, tx *db.Tx) error {
			require.NoError(t, db.ExecLater(ctx, tx, insertOrg, "org_a", "A", now))
			return db.ExecLater(ctx, tx, insertOrg, "org_a", "again", now)
		},
		wantErr: func(t *testing.T, err error) { assert.True(t, db.IsUniqueViolation(err), "%v", err) },
	}, {
		name: "a failed flush is the error, not what the caller made of the failed query after it",
		fn: func(ctx context.Context, tx *db.Tx) error {
			require.NoError(t, db.ExecLater(ctx, tx, insertOrg, "org_a", "A", now))
			require.NoError(t, db.ExecLater(ctx, tx, insertOrg, "org_a", "again", now))
			var n int
			if err := tx.GetContext(ctx, &n, `SELECT 1`); err != nil {
				return errors.New("the query failed")
			}
			return nil
		},
		wantErr: func(t *testing.T, err error) { assert.True(t, db.IsUniqueViolation(err), "%v", err) },
	}, {
		name: "a foreign key to nothing fails",
		fn: func(ctx context.Context, tx *db.Tx) error {
			require.NoError(t, db.ExecLater(ctx, tx, insertOrg, "org_a", "A", now))
			return db.ExecLater(ctx, tx, insertPO, "org_nope", "PO-1", now, now)
		},
		wantErr: func(t *testing.T, err error) { assert.Error(t, err) },
	}, {
		name: "an error of the function rolls back what was written before and drops what was held",
		fn: func(ctx context.Context, tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, tx.Rebind(insertOrg), "org_b", "B", now); err != nil {
				return err
			}
			require.NoError(t, db.ExecLater(ctx, tx, insertOrg, "org_a", "A", now))
			return assert.AnError
		},
		wantErr: func(t *testing.T, err error) { assert.ErrorIs(t, err, assert.AnError) },
	}, {
		name: "no statement and nothing held writes nothing",
		fn:   func(ctx context.Context, tx *db.Tx) error { return nil },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				err := d.TransactHeld(ctx, func(tx *db.Tx) error { return tc.fn(ctx, tx) })
				if tc.wantErr == nil {
					require.NoError(t, err)
				} else {
					require.Error(t, err)
					tc.wantErr(t, err)
				}
				assert.Equal(t, tc.orgs, count(t, d, "organizations"), "organizations")
				assert.Equal(t, tc.pos, count(t, d, "purchase_orders"), "purchase orders")
			})
		})
	}
}

// The transaction begins at its first statement: until then the write
// connection (on SQLite the only one) is free for other writers.
func TestHeldTransactionBeginsAtItsFirstStatement(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		require.NoError(t, d.TransactHeld(ctx, func(tx *db.Tx) error {
			require.NoError(t, db.ExecLater(ctx, tx, insertOrg, "org_a", "A", now))
			// Another writer commits meanwhile; it would wait for this
			// transaction if it had begun.
			other, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			require.NoError(t, d.Transact(other, func(o *sqlx.Tx) error {
				_, err := o.ExecContext(other, o.Rebind(insertOrg), "org_b", "B", now)
				return err
			}))
			// The first statement sees that commit.
			var n int
			require.NoError(t, tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM organizations`))
			assert.Equal(t, 2, n)
			return nil
		}))
	})
}

// Only plain INSERTs are held: the sub-statements of one PostgreSQL
// statement do not see each other's changes.
func TestHoldTakesOnlyPlainInserts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, q := range []string{
			`SELECT 1`,
			`INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, ?, 'none', ?) RETURNING id`,
			`INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, ?, 'none', ?) ON CONFLICT (id) DO NOTHING`,
			`UPDATE organizations SET name = ? WHERE id = ? AND created_at = ?`,
			`DELETE FROM organizations WHERE id = ? OR name = ? OR created_at = ?`,
			`WITH x AS (SELECT 1) DELETE FROM organizations`,
		} {
			err := d.TransactHeld(ctx, func(tx *db.Tx) error { return tx.Hold(q, "org_a", "A", time.Now()) })
			assert.Error(t, err, q)
		}
	})
}

// PostgreSQL takes at most 65,535 parameters in a statement: held
// inserts with more between them go as several statements.
func TestHeldWritesPastTheParameterLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		const perStatement, statements = 10000, 3 // 30,000 parameters each
		err := d.TransactHeld(ctx, func(tx *db.Tx) error {
			for s := range statements {
				var q strings.Builder
				q.WriteString(`INSERT INTO organizations (id, name, po_mode, created_at) VALUES `)
				args := make([]any, 0, 3*perStatement)
				for i := range perStatement {
					if i > 0 {
						q.WriteString(", ")
					}
					q.WriteString("(?, ?, 'none', ?)")
					args = append(args, fmt.Sprintf("org_%d_%d", s, i), "Org", now)
				}
				if err := db.ExecLater(ctx, tx, q.String(), args...); err != nil {
					return err
				}
			}
			return nil
		})
		require.NoError(t, err)
		var n int
		require.NoError(t, d.R.GetContext(ctx, &n, `SELECT COUNT(*) FROM organizations`))
		assert.Equal(t, perStatement*statements, n)
	})
}

// SQLite takes at most 32,766 parameters in a statement: a multi-row
// insert with more goes as several, held or not.
func TestExecLaterRowsSplitsLargeInserts(t *testing.T) {
	const rows = 12000 // 36,000 parameters
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	values := func(prefix string) []any {
		args := make([]any, 0, 3*rows)
		for i := range rows {
			args = append(args, fmt.Sprintf("%s_%d", prefix, i), "Org", now)
		}
		return args
	}
	const prefix, row = `INSERT INTO organizations (id, name, po_mode, created_at) VALUES `, "(?, ?, 'none', ?)"
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		require.NoError(t, d.TransactHeld(ctx, func(tx *db.Tx) error {
			return db.ExecLaterRows(ctx, tx, prefix, row, values("held"))
		}))
		require.NoError(t, d.Transact(ctx, func(tx *sqlx.Tx) error {
			return db.ExecLaterRows(ctx, tx, prefix, row, values("now"))
		}))
		var n int
		require.NoError(t, d.R.GetContext(ctx, &n, `SELECT COUNT(*) FROM organizations`))
		assert.Equal(t, 2*rows, n)

		err := d.Transact(ctx, func(tx *sqlx.Tx) error {
			return db.ExecLaterRows(ctx, tx, prefix, row, []any{"org_x", "X"})
		})
		assert.ErrorContains(t, err, "do not make rows of 3")
	})
}

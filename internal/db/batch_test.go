package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

// A statement takes at most 32,766 parameters on SQLite and 65,535 on
// PostgreSQL: a multi-row insert with more goes as several, inside a
// transaction or not.
func TestInsertRowsSplitsLargeInserts(t *testing.T) {
	const rows = 25000 // 75,000 parameters
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
		require.NoError(t, d.Transact(ctx, func(tx *sqlx.Tx) error {
			return db.InsertRows(ctx, tx, prefix, row, values("tx"))
		}))
		require.NoError(t, db.InsertRows(ctx, d.W, prefix, row, values("pool")))
		var n int
		require.NoError(t, d.R.GetContext(ctx, &n, `SELECT COUNT(*) FROM organizations`))
		assert.Equal(t, 2*rows, n)

		err := d.Transact(ctx, func(tx *sqlx.Tx) error {
			return db.InsertRows(ctx, tx, prefix, row, []any{"org_x", "X"})
		})
		assert.ErrorContains(t, err, "do not make rows of 3")
	})
}

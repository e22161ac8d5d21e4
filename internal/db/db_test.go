package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

func TestOpenMigratesAndTranslatesErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		require.NoError(t, d.Ping(ctx))
		now := time.Date(2026, 11, 23, 10, 0, 0, 123000000, time.UTC)
		insert := func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, ?, ?, ?)`),
				"org_1", "Acme", "procurement_system", now)
			return err
		}
		require.NoError(t, d.Transact(ctx, insert))
		err := d.Transact(ctx, insert)
		require.Error(t, err)
		assert.True(t, db.IsUniqueViolation(err), "second insert of the same id: %v", err)

		var got struct {
			Name      string    `db:"name"`
			CreatedAt time.Time `db:"created_at"`
		}
		require.NoError(t, d.R.GetContext(ctx, &got, d.Rebind(`SELECT name, created_at FROM organizations WHERE id = ?`), "org_1"))
		assert.Equal(t, "Acme", got.Name)
		assert.True(t, now.Equal(got.CreatedAt), "time round trip: %v != %v", got.CreatedAt, now)

		err = d.R.GetContext(ctx, &got, d.Rebind(`SELECT name, created_at FROM organizations WHERE id = ?`), "nope")
		assert.True(t, db.IsNoRows(err))

		// A failing transaction leaves nothing behind.
		err = d.Transact(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO organizations (id, name, po_mode, created_at) VALUES (?, ?, ?, ?)`),
				"org_2", "Beta", "none", now); err != nil {
				return err
			}
			return assert.AnError
		})
		require.ErrorIs(t, err, assert.AnError)
		var n int
		require.NoError(t, d.R.GetContext(ctx, &n, `SELECT COUNT(*) FROM organizations`))
		assert.Equal(t, 1, n)
	})
}

func TestReopenIsIdempotent(t *testing.T) {
	dsn := dbtest.SQLiteDSN(t)
	for i := 0; i < 2; i++ {
		d, err := db.Open(context.Background(), dsn)
		require.NoError(t, err)
		require.NoError(t, d.Close())
	}
}

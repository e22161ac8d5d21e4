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

// Migration 00010 copies each existing agreement's product UNSPSC code,
// found through its offer, onto the agreement.
func TestMigration10BackfillsAgreementUNSPSC(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		require.NoError(t, d.Transact(ctx, func(tx *sqlx.Tx) error {
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO organizations (id, name, po_mode, created_at) VALUES ('org_1', 'Acme', 'procurement_system', ?)`, []any{now}},
				{`INSERT INTO products (id, name, vendor, type, unspsc, description, updated_at) VALUES
					('prod_gulf', 'Gulf Ledger', 'Manama Software', 'saas', '43231602', '', ?),
					('prod_sight', 'CloudSight', 'Acme Analytics', 'saas', '4323230000', '', ?)`, []any{now, now}},
				{`INSERT INTO offers (id, product_id, pricing_model, currency, price, duration_months, updated_at) VALUES
					('off_gulf', 'prod_gulf', 'upfront', 'BHD', '12.345', 12, ?), ('off_sight', 'prod_sight', 'upfront', 'USD', '24000.00', 12, ?)`, []any{now, now}},
				{`INSERT INTO orders (id, organization_id, order_id, type, source, order_date, created_at) VALUES
					('ord_1', 'org_1', 'PO-1', 'new', 'cxml', ?, ?)`, []any{now, now}},
				{`INSERT INTO agreements (id, organization_id, order_ref, order_id, line_number, offer_id, offer_revision, product_id,
					pricing_model, currency, start_date, status, created_at, updated_at) VALUES
					('agr_gulf', 'org_1', 'ord_1', 'PO-1', 1, 'off_gulf', 1, 'prod_gulf', 'upfront', 'BHD', '2026-11-23', 'active', ?, ?),
					('agr_sight', 'org_1', 'ord_1', 'PO-1', 2, 'off_sight', 1, 'prod_sight', 'upfront', 'USD', '2026-11-23', 'active', ?, ?)`,
					[]any{now, now, now, now}},
			} {
				if _, err := tx.ExecContext(ctx, tx.Rebind(q.sql), q.args...); err != nil {
					return err
				}
			}
			return nil
		}))
		require.NoError(t, db.RedoAfter(ctx, d, 9))
		var got []struct {
			ID     string `db:"id"`
			UNSPSC string `db:"unspsc"`
		}
		require.NoError(t, d.R.SelectContext(ctx, &got, `SELECT id, unspsc FROM agreements ORDER BY id`))
		require.Len(t, got, 2)
		assert.Equal(t, "43231602", got[0].UNSPSC, got[0].ID)
		assert.Equal(t, "4323230000", got[1].UNSPSC, got[1].ID)
	})
}

package invoicing_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/organization"
)

func TestStatusAt(t *testing.T) {
	tests := []struct{ admin, expiration, month, want string }{
		{"active", "2026-12", "2026-11", "active"},
		{"active", "2026-11", "2026-11", "active"},
		{"active", "2026-10", "2026-11", "expired"},
		{"suspended", "2026-12", "2026-11", "suspended"},
		{"suspended", "2026-10", "2026-11", "suspended-expired"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, invoicing.StatusAt(tc.admin, tc.expiration, tc.month), "%+v", tc)
	}
}

func TestValidatePONumber(t *testing.T) {
	long := ""
	for range 201 {
		long += "x"
	}
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{" PO-1234 ", "PO-1234", true},
		{"poc1", "poc1", true},
		{long[:200], long[:200], true},
		{long, "", false},
		{"", "", false},
		{"PO\n1", "", false},
	} {
		got, err := invoicing.ValidatePONumber(tc.in)
		if tc.ok {
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		} else {
			assert.True(t, errs.Is(err, errs.Invalid), "%q: %v", tc.in, err)
		}
	}
}

// The seed scenarios of a PO number given at purchase (seeds 000, 001).
func TestAddMarketplaceLine(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		require.NoError(t, organization.NewStore(d, time.Now).Create(ctx, &organization.Organization{ID: "org_a", Name: "A"}))
		pos := invoicing.NewPurchaseOrders(d, time.Now)
		add := func(number, end string) (*invoicing.LineItem, error) {
			var li *invoicing.LineItem
			err := d.Transact(ctx, func(tx *sqlx.Tx) error {
				var err error
				li, err = pos.AddMarketplaceLine(ctx, tx, invoicing.MarketplaceLine{
					OrganizationID: "org_a", PONumber: number, AgreementID: "agr_1", StartMonth: "2026-11", EndMonth: end,
					Amount: money.MustParse("24000", "USD"),
				}, now)
				return err
			})
			return li, err
		}

		t.Run("PO does not exist: created with default details and no contacts", func(t *testing.T) {
			_, err := add("poc1", "2027-10")
			require.NoError(t, err)
			po, err := pos.Get(ctx, "org_a", "poc1")
			require.NoError(t, err)
			assert.Equal(t, "active", po.Status)
			assert.Empty(t, po.Contacts)
			assert.Equal(t, "order", po.CreatedBy)
			assert.Equal(t, "2027-10", po.ExpirationMonth)
			require.Len(t, po.LineItems, 1)
			li := po.LineItems[0]
			assert.Equal(t, invoicing.LineMarketplaceTransaction, li.Type)
			assert.Equal(t, "24000.00", li.Amount.String())
			assert.Empty(t, li.Balance, "balance tracking is not enabled for marketplace line items")
			assert.Equal(t, "agr_1", li.AgreementID)
		})
		t.Run("existing PO gets a line item", func(t *testing.T) {
			_, err := add("poc1", "2027-10")
			require.NoError(t, err)
			po, _ := pos.Get(ctx, "org_a", "poc1")
			assert.Len(t, po.LineItems, 2)
		})
		t.Run("expired PO becomes active, expiring with the line item", func(t *testing.T) {
			old := &invoicing.PurchaseOrder{ID: "PO-OLD", OrganizationID: "org_a", EffectiveMonth: "2025-01", ExpirationMonth: "2025-12"}
			require.NoError(t, pos.Create(ctx, old))
			assert.Equal(t, "expired", old.Status)
			_, err := add("PO-OLD", "2028-03")
			require.NoError(t, err)
			po, _ := pos.Get(ctx, "org_a", "PO-OLD")
			assert.Equal(t, "active", po.Status)
			assert.Equal(t, "2028-03", po.ExpirationMonth)
		})
		t.Run("suspended PO gets the line item and stays suspended", func(t *testing.T) {
			s := &invoicing.PurchaseOrder{ID: "PO-SUS", OrganizationID: "org_a", EffectiveMonth: "2026-01", ExpirationMonth: "2027-12", Status: "suspended"}
			require.NoError(t, pos.Create(ctx, s))
			_, err := add("PO-SUS", "2027-10")
			require.NoError(t, err)
			po, _ := pos.Get(ctx, "org_a", "PO-SUS")
			assert.Equal(t, "suspended", po.Status)
			assert.Len(t, po.LineItems, 1)
		})
		t.Run("at most 100 line items", func(t *testing.T) {
			for i := 0; i < 100; i++ {
				_, err := add("PO-FULL", "2027-10")
				require.NoError(t, err)
			}
			_, err := add("PO-FULL", "2027-10")
			require.True(t, errs.Is(err, errs.Conflict), "%v", err)
			assert.Contains(t, err.Error(), "100 line items")
			po, _ := pos.Get(ctx, "org_a", "PO-FULL")
			assert.Len(t, po.LineItems, 100, "the refused line item left nothing behind")
		})
		t.Run("at most 100 active POs", func(t *testing.T) {
			var active int
			list, err := pos.List(ctx, "org_a")
			require.NoError(t, err)
			for _, po := range list {
				if po.Status == "active" {
					active++
				}
			}
			for i := active; i < 100; i++ {
				_, err := add(fmt.Sprintf("PO-%03d", i), "2027-10")
				require.NoError(t, err)
			}
			_, err = add("PO-ONE-TOO-MANY", "2027-10")
			require.True(t, errs.Is(err, errs.Conflict), "%v", err)
			assert.Contains(t, err.Error(), "100 active purchase orders")
			_, err = pos.Get(ctx, "org_a", "PO-ONE-TOO-MANY")
			assert.True(t, errs.Is(err, errs.NotFound), "the refused PO was not created")
			_, err = add("PO-099", "2027-10")
			assert.NoError(t, err, "an existing active PO still takes line items")
		})
	})
}

func TestPurchaseOrderAPI(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		po := map[string]any{
			"id": "PO 7/2026", "organization_id": "org_demo", "bill_from": "Marketplace LLC",
			"effective_month": "2026-01", "expiration_month": "2030-12",
			"contacts":   []map[string]string{{"name": "Ann Buyer", "email": "ann@example.com"}},
			"line_items": []map[string]any{{"type": "monthly_usage", "start_month": "2026-01", "end_month": "2030-12", "amount": "50000"}},
		}
		var got invoicing.PurchaseOrder
		require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/purchase-orders", po, &got))
		assert.Equal(t, "active", got.Status)
		require.Len(t, got.LineItems, 1)
		assert.Equal(t, "50000.00", got.LineItems[0].Balance.String())

		require.Equal(t, http.StatusOK, s.API(t, "GET", "/api/v1/purchase-orders/PO%207%2F2026", nil, &got))
		assert.Equal(t, "PO 7/2026", got.ID)

		require.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/purchase-orders/PO%207%2F2026", map[string]any{"status": "suspended"}, &got))
		assert.Equal(t, "suspended", got.Status)

		refusals := []struct {
			name   string
			change func(map[string]any)
			status int
			msg    string
		}{
			{"duplicate", func(map[string]any) {}, 409, "already exists"},
			{"eleven contacts", func(m map[string]any) {
				var cs []map[string]string
				for i := range 11 {
					cs = append(cs, map[string]string{"name": "c", "email": fmt.Sprintf("c%d@example.com", i)})
				}
				m["id"], m["contacts"] = "PO-C", cs
			}, 400, "at most 10 contacts"},
			{"bad type", func(m map[string]any) {
				m["id"], m["line_items"] = "PO-T", []map[string]any{{"type": "misc", "start_month": "2026-01", "end_month": "2026-02"}}
			}, 400, "type must be"},
			{"balance on marketplace line", func(m map[string]any) {
				m["id"], m["line_items"] = "PO-M", []map[string]any{{"type": "marketplace_transaction", "start_month": "2026-01", "end_month": "2026-02", "amount": "1"}}
			}, 400, "not available for marketplace"},
			{"bad month", func(m map[string]any) { m["id"], m["effective_month"] = "PO-D", "2026-13" }, 400, "YYYY-MM"},
			{"amount with a thousands separator", func(m map[string]any) {
				m["id"], m["line_items"] = "PO-S", []map[string]any{{"type": "all", "start_month": "2026-01", "end_month": "2026-02", "amount": "1,000.00"}}
			}, 400, `amount "1,000.00" is not a plain decimal`},
			{"unknown currency", func(m map[string]any) {
				m["id"], m["line_items"] = "PO-X", []map[string]any{{"type": "all", "start_month": "2026-01", "end_month": "2026-02", "amount": "1", "currency": "XYZ"}}
			}, 400, "ISO 4217"},
			{"unknown organization", func(m map[string]any) { m["id"], m["organization_id"] = "PO-O", "org_nope" }, 404, "not found"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				in := map[string]any{}
				for k, v := range po {
					in[k] = v
				}
				tc.change(in)
				var e struct {
					Error struct{ Code, Message string }
				}
				assert.Equal(t, tc.status, s.API(t, "POST", "/api/v1/purchase-orders", in, &e))
				assert.Contains(t, e.Error.Message, tc.msg)
			})
		}
	})
}

func dbtestSQLiteDSN(t *testing.T) string { return dbtest.SQLiteDSN(t) }

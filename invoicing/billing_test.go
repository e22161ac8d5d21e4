package invoicing_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/invoicing"
)

// subscribe creates an agreement for the demo organization as an order
// would, starting on start.
func subscribe(t *testing.T, s *apptest.Server, offerID, po, usagePO string, start time.Time) *invoicing.Agreement {
	t.Helper()
	ctx := context.Background()
	product, offer, err := s.App.Catalog.GetOffer(ctx, nil, offerID)
	require.NoError(t, err)
	var a *invoicing.Agreement
	require.NoError(t, s.App.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		ref := "ord_" + offerID + po
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO orders (id, organization_id, connection_id, order_id, po_number, type, source,
			payload_id, revises, order_date, created_at) VALUES (?, 'org_demo', 'conn_demo_coupa', ?, ?, 'new', 'cxml', ?, NULL, ?, ?)`),
			ref, ref, po, ref, start, start); err != nil {
			return err
		}
		a, err = s.App.Agreements.Create(ctx, tx, invoicing.NewAgreement{
			OrganizationID: "org_demo", ConnectionID: "conn_demo_coupa", OrderRef: ref, OrderID: po, LineNumber: 1,
			Offer: offer, Product: product, Start: start, PONumber: po, UsagePONumber: usagePO, SubscriberEmail: "dana@democorp.example",
		})
		return err
	}))
	return a
}

func invoices(t *testing.T, s *apptest.Server, query string) []map[string]any {
	t.Helper()
	var out struct{ Invoices []map[string]any }
	require.Equal(t, http.StatusOK, s.API(t, "GET", "/api/v1/invoices?"+query, nil, &out))
	return out.Invoices
}

func run(t *testing.T, s *apptest.Server, through string) map[string]any {
	t.Helper()
	var res map[string]any
	require.Equal(t, http.StatusOK, s.API(t, "POST", "/api/v1/billing/run", map[string]string{"through": through}, &res))
	return res
}

func TestOutOfCycleInvoicesCarryTheFixedFeePO(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		up := subscribe(t, s, "offer-cloudsight-annual-contract", "PO-UP", "", start)
		fps := subscribe(t, s, "offer-ledgerflow-private-fps", "PO-FPS", "", start)
		sus := subscribe(t, s, "offer-hardened-linux-annual", "PO-SUS", "", start)
		require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/purchase-orders/PO-SUS?organization_id=org_demo", map[string]string{"status": "suspended"}, nil))

		res := run(t, s, "2027-01-31")
		assert.EqualValues(t, 3, res["out_of_cycle_invoices"], "the upfront fee, the first FPS installment and the annual fee: %v", res)
		got := invoices(t, s, "agreement_id="+up.ID)
		require.Len(t, got, 1)
		assert.Equal(t, "PO-UP", got[0]["po_number"])
		assert.Equal(t, "24000.00", got[0]["total"])
		assert.Equal(t, "out_of_cycle", got[0]["kind"])
		assert.Equal(t, "2026-11", got[0]["billing_period"])
		assert.Equal(t, map[string]any{"status": "not_applicable", "attempts": float64(0)}, got[0]["delivery"], "the demo Coupa connection has no e-invoicing")

		got = invoices(t, s, "agreement_id="+sus.ID)
		require.Len(t, got, 1)
		assert.Equal(t, "", got[0]["po_number"], "a suspended PO is not carried")

		got = invoices(t, s, "agreement_id="+fps.ID)
		require.Len(t, got, 1, "only the installment due by 2027-01-31")
		assert.Equal(t, "40000.00", got[0]["total"])
		var po invoicing.PurchaseOrder
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/purchase-orders/PO-FPS?organization_id=org_demo", nil, &po))
		require.Len(t, po.LineItems, 2, "FPS: the zero line item at purchase, then one per invoice")
		assert.Equal(t, "0.00", po.LineItems[0].Amount.String())
		assert.Equal(t, "40000.00", po.LineItems[1].Amount.String())

		// A second run over the same days creates nothing.
		res = run(t, s, "2027-01-31")
		assert.EqualValues(t, 0, res["out_of_cycle_invoices"])
		// Later days bill what fell due since.
		res = run(t, s, "2028-01-31")
		assert.EqualValues(t, 1, res["out_of_cycle_invoices"], "the second FPS installment")

		// The charge summary shows each charge's invoice PO.
		var summary struct {
			Charges []struct {
				Status   string `json:"status"`
				PONumber string `json:"po_number"`
			}
		}
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements/"+fps.ID+"/charges", nil, &summary))
		assert.Equal(t, "invoiced", summary.Charges[0].Status)
		assert.Equal(t, "PO-FPS", summary.Charges[0].PONumber)
		assert.Equal(t, "scheduled", summary.Charges[2].Status)
	})
}

func TestPAYGLandsOnBlanketPOsOneInvoicePerPO(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		a := subscribe(t, s, "offer-cloudsight-payg", "PO-ORDER-A", "", start)
		b := subscribe(t, s, "offer-hardened-linux-hourly", "PO-ORDER-B", "PO-USAGE-B", start)
		c := subscribe(t, s, "offer-kubeguard-payg", "PO-ORDER-C", "", start)
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
			"id": "PO-BLANKET", "organization_id": "org_demo", "effective_month": "2026-01", "expiration_month": "2027-12",
			"contacts":   []map[string]string{{"name": "Ann", "email": "ann@democorp.example"}},
			"line_items": []map[string]any{{"type": "marketplace_blanket_usage", "start_month": "2026-01", "end_month": "2027-12"}},
		}, nil))
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
			"id": "PO-USAGE-B", "organization_id": "org_demo", "effective_month": "2026-01", "expiration_month": "2027-12",
			"line_items": []map[string]any{{"type": "monthly_usage", "start_month": "2026-01", "end_month": "2027-12"}},
		}, nil))
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
			"id": "PO-TRACKED", "organization_id": "org_demo", "effective_month": "2026-01", "expiration_month": "2026-11", "bill_from": "Other Entity",
			"line_items": []map[string]any{{"type": "all", "start_month": "2026-01", "end_month": "2026-11", "amount": "100"}},
		}, nil))

		var ur struct{ Accepted, Duplicates int }
		records := []map[string]any{
			{"id": "u1", "agreement_id": a.ID, "dimension": "hosts", "quantity": "1000", "time": "2026-10-05T10:00:00Z"},
			{"id": "u2", "agreement_id": a.ID, "dimension": "ingest", "quantity": "12.5", "time": "2026-10-31T23:59:59Z"},
			{"id": "u3", "agreement_id": b.ID, "dimension": "instance-hours", "quantity": "100", "time": "2026-10-10T00:00:00+02:00"},
			{"id": "u4", "agreement_id": c.ID, "dimension": "nodes", "quantity": "10", "time": "2026-10-10T00:00:00Z"},
			{"id": "u5", "agreement_id": a.ID, "dimension": "hosts", "quantity": "5", "time": "2026-11-01T00:00:00Z"},
		}
		require.Equal(t, 200, s.API(t, "POST", "/api/v1/usage", map[string]any{"records": records}, &ur))
		assert.Equal(t, 5, ur.Accepted)
		require.Equal(t, 200, s.API(t, "POST", "/api/v1/usage", map[string]any{"records": records[:2]}, &ur))
		assert.Equal(t, 2, ur.Duplicates, "idempotent per record id")
		var e struct{ Error struct{ Message string } }
		changed := map[string]any{"id": "u1", "agreement_id": a.ID, "dimension": "hosts", "quantity": "2", "time": "2026-10-05T10:00:00Z"}
		assert.Equal(t, 409, s.API(t, "POST", "/api/v1/usage", map[string]any{"records": []any{changed}}, &e))
		bad := map[string]any{"id": "u9", "agreement_id": a.ID, "dimension": "cpus", "quantity": "2", "time": "2026-10-05T10:00:00Z"}
		assert.Equal(t, 400, s.API(t, "POST", "/api/v1/usage", map[string]any{"records": []any{bad}}, &e))

		res := run(t, s, "2026-11-15")
		assert.EqualValues(t, 3, res["monthly_invoices"], "October only: November has not ended")
		monthly := map[string]map[string]any{}
		for _, inv := range invoices(t, s, "organization_id=org_demo") {
			if inv["kind"] == "monthly" {
				monthly[inv["po_number"].(string)+"/"+inv["currency"].(string)] = inv
			}
		}
		require.Len(t, monthly, 3, "one invoice per distinct PO (and currency): %v", monthly)
		blanketUSD := monthly["PO-BLANKET/USD"]
		require.NotNil(t, blanketUSD, "usage without a usage PO goes to the best matching blanket PO")
		assert.Equal(t, "13.25", blanketUSD["total"], "1000 host-hours at 0.012 + 12.5 GB at 0.10")
		assert.Equal(t, "2026-10", blanketUSD["billing_period"])
		require.NotNil(t, monthly["PO-USAGE-B/USD"], "the agreement's usage PO wins over matching")
		assert.Equal(t, "4.50", monthly["PO-USAGE-B/USD"]["total"])
		require.NotNil(t, monthly["PO-BLANKET/EUR"])
		assert.Equal(t, "0.80", monthly["PO-BLANKET/EUR"]["total"])
		for _, inv := range monthly {
			assert.NotEqual(t, "PO-ORDER-A", inv["po_number"], "pay-as-you-go is never invoiced on the order's fixed-fee PO")
			assert.NotEqual(t, "PO-TRACKED", inv["po_number"], "a PO of another bill-from entity is not matched")
		}

		res = run(t, s, "2026-11-15")
		assert.EqualValues(t, 0, res["monthly_invoices"], "a second run creates nothing")
		res = run(t, s, "2026-11-30")
		assert.EqualValues(t, 1, res["monthly_invoices"], "November, once it has ended")
	})
}

func TestBalanceTrackingAndNotifications(t *testing.T) {
	s := apptest.Start(t, dbtestSQLiteDSN(t))
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	a := subscribe(t, s, "offer-cloudsight-payg", "PO-ORDER", "", start)
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
		"id": "PO-FUNDS", "organization_id": "org_demo", "effective_month": "2026-01", "expiration_month": "2026-11",
		"contacts":   []map[string]string{{"name": "Ann", "email": "ann@democorp.example"}, {"name": "Bob", "email": "bob@democorp.example"}},
		"line_items": []map[string]any{{"type": "monthly_usage", "start_month": "2026-01", "end_month": "2026-11", "amount": "40.00"}},
	}, nil))
	require.Equal(t, 200, s.API(t, "POST", "/api/v1/usage", map[string]any{"records": []map[string]any{
		{"id": "b1", "agreement_id": a.ID, "dimension": "ingest", "quantity": "150", "time": "2026-10-05T10:00:00Z"},
	}}, nil))
	res := run(t, s, "2026-11-01")
	assert.EqualValues(t, 1, res["monthly_invoices"])
	var po invoicing.PurchaseOrder
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/purchase-orders/PO-FUNDS", nil, &po))
	assert.Equal(t, "25.00", po.LineItems[0].Balance.String(), "40.00 less the 15.00 invoice")
	var out struct {
		Messages []struct{ To, Subject string }
	}
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/outbox?organization_id=org_demo", nil, &out))
	subjects := map[string]int{}
	for _, m := range out.Messages {
		subjects[m.Subject]++
	}
	assert.Equal(t, 2, subjects["Purchase order PO-FUNDS: balance below 75%"], "each contact, once")
	assert.Equal(t, 2, subjects["Purchase order PO-FUNDS expires on 2026-11-30"], "the PO expires within 30 days")
	run(t, s, "2026-11-02")
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/outbox?organization_id=org_demo", nil, &out))
	assert.Len(t, out.Messages, 4, "notices are sent once")
}

// Seed scenario "Missing purchase order notifications": POs without
// contact information (such as those created from orders) get none.
func TestPOWithoutContactsGetsNoNotifications(t *testing.T) {
	s := apptest.Start(t, dbtestSQLiteDSN(t))
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	subscribe(t, s, "offer-cloudsight-annual-contract", "PO-NO-CONTACTS", "", start)
	require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/purchase-orders/PO-NO-CONTACTS?organization_id=org_demo", map[string]string{"expiration_month": "2026-12"}, nil))
	res := run(t, s, "2026-12-01")
	assert.EqualValues(t, 0, res["notifications"])
	var out struct{ Messages []struct{ Subject string } }
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/outbox?organization_id=org_demo", nil, &out))
	assert.Empty(t, out.Messages)
}

// Seed scenario "Flexible payment schedule - multiple purchase orders":
// a new PO number applies to future invoices only.
func TestFPSPaymentsUnderDifferentPOs(t *testing.T) {
	s := apptest.Start(t, dbtestSQLiteDSN(t))
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	a := subscribe(t, s, "offer-ledgerflow-private-fps", "PO-YEAR-1", "", start)
	run(t, s, "2027-01-31")
	require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/agreements/"+a.ID, map[string]string{"po_number": "PO-YEAR-2"}, nil))
	run(t, s, "2028-01-31")
	byTotal := map[string]string{}
	for _, inv := range invoices(t, s, "agreement_id="+a.ID) {
		byTotal[inv["total"].(string)+"/"+inv["billing_period"].(string)] = inv["po_number"].(string)
	}
	assert.Equal(t, map[string]string{"40000.00/2027-01": "PO-YEAR-1", "40000.00/2028-01": "PO-YEAR-2"}, byTotal)
	var summary struct {
		Charges []struct {
			Status   string `json:"status"`
			PONumber string `json:"po_number"`
		}
	}
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements/"+a.ID+"/charges", nil, &summary))
	require.Len(t, summary.Charges, 3)
	assert.Equal(t, "PO-YEAR-1", summary.Charges[0].PONumber, "the first payment keeps the PO it was invoiced under")
	assert.Equal(t, "PO-YEAR-2", summary.Charges[1].PONumber)
	assert.Equal(t, "PO-YEAR-2", summary.Charges[2].PONumber, "future payments use the new PO")
	var po invoicing.PurchaseOrder
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/purchase-orders/PO-YEAR-2?organization_id=org_demo", nil, &po))
	assert.NotEmpty(t, po.LineItems, "the new PO got the agreement's line items")
}

package invoicing_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/cxmltest"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/invoicing"
)

// importMoneyOffers adds JPY and BHD offers to the demo catalog: money in
// currencies whose minor unit is not two decimals.
func importMoneyOffers(t *testing.T, s *apptest.Server) {
	t.Helper()
	require.Equal(t, http.StatusOK, s.API(t, "POST", "/api/v1/catalog/import", map[string]any{
		"products": []map[string]any{{"id": "prod-gulf-ledger", "name": "Gulf Ledger", "vendor": "Manama Software", "type": "saas",
			"unspsc": "43231602", "description": "Accounting billed in dinars."}},
		"offers": []map[string]any{
			{"id": "offer-translate-jp-meter", "product_id": "prod-translate-jp", "pricing_model": "payg", "currency": "JPY",
				"dimensions": []map[string]string{{"name": "chars", "unit": "1k-chars", "unit_price": "2.5"}}, "revision": 1},
			{"id": "offer-gulf-contract", "product_id": "prod-gulf-ledger", "pricing_model": "upfront", "currency": "BHD",
				"price": "12.345", "duration_months": 12, "revision": 1},
			{"id": "offer-gulf-fps", "product_id": "prod-gulf-ledger", "pricing_model": "fps", "currency": "BHD", "duration_months": 12,
				"schedule": []map[string]string{{"due": "2027-01-15", "amount": "100.125"}}, "revision": 1},
			{"id": "offer-gulf-meter", "product_id": "prod-gulf-ledger", "pricing_model": "payg", "currency": "BHD",
				"dimensions": []map[string]string{{"name": "entries", "unit": "entry", "unit_price": "0.12345"}}, "revision": 1},
		},
	}, nil))
}

func getPO(t *testing.T, s *apptest.Server, number string) invoicing.PurchaseOrder {
	t.Helper()
	var po invoicing.PurchaseOrder
	require.Equal(t, http.StatusOK, s.API(t, "GET", "/api/v1/purchase-orders/"+number+"?organization_id=org_demo", nil, &po))
	return po
}

// Money keeps its currency's own decimals (JPY 0, USD 2, BHD 3) in PO
// line items, balances, charges and invoices, never two for all.
func TestJPYAndBHDKeepTheirDecimals(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		importMoneyOffers(t, s)
		var po invoicing.PurchaseOrder
		require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
			"id": "PO-JPY", "organization_id": "org_demo", "effective_month": "2026-01", "expiration_month": "2027-12",
			"line_items": []map[string]any{{"type": "monthly_usage", "start_month": "2026-01", "end_month": "2027-12", "amount": "5000", "currency": "jpy"}},
		}, &po))
		require.Len(t, po.LineItems, 1)
		assert.Equal(t, "5000", po.LineItems[0].Amount.String(), "JPY has no decimals")
		assert.Equal(t, "5000", po.LineItems[0].Balance.String())
		assert.Equal(t, "JPY", po.LineItems[0].Currency)
		require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
			"id": "PO-BHD", "organization_id": "org_demo", "effective_month": "2026-01", "expiration_month": "2027-12",
			"contacts":   []map[string]string{{"name": "Ali", "email": "ali@democorp.example"}},
			"line_items": []map[string]any{{"type": "monthly_usage", "start_month": "2026-01", "end_month": "2027-12", "amount": "15", "currency": "BHD"}},
		}, &po))
		assert.Equal(t, "15.000", po.LineItems[0].Amount.String(), "BHD has three decimals")
		assert.Equal(t, "15.000", po.LineItems[0].Balance.String())
		var e struct{ Error struct{ Message string } }
		assert.Equal(t, http.StatusBadRequest, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
			"id": "PO-JPY-BAD", "organization_id": "org_demo", "effective_month": "2026-01", "expiration_month": "2027-12",
			"line_items": []map[string]any{{"type": "monthly_usage", "start_month": "2026-01", "end_month": "2027-12", "amount": "1000.5", "currency": "JPY"}},
		}, &e))
		assert.Contains(t, e.Error.Message, "more decimals than JPY allows")

		// Agreements add their marketplace line items in their currency.
		start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		jpUp := subscribe(t, s, "offer-translate-jp-contract", "PO-JPY-UP", "", start)
		bhUp := subscribe(t, s, "offer-gulf-contract", "PO-BHD-UP", "", start)
		bhFPS := subscribe(t, s, "offer-gulf-fps", "PO-BHD-FPS", "", start)
		assert.Equal(t, "1200000", getPO(t, s, "PO-JPY-UP").LineItems[0].Amount.String())
		assert.Equal(t, "12.345", getPO(t, s, "PO-BHD-UP").LineItems[0].Amount.String())
		assert.Equal(t, "0.000", getPO(t, s, "PO-BHD-FPS").LineItems[0].Amount.String(), "the FPS zero line item, in BHD")
		var charges struct {
			Charges []struct{ Amount, Currency string }
		}
		require.Equal(t, http.StatusOK, s.API(t, "GET", "/api/v1/agreements/"+bhFPS.ID+"/charges", nil, &charges))
		require.Len(t, charges.Charges, 1)
		assert.Equal(t, "100.125", charges.Charges[0].Amount)

		// Usage in each currency goes to the tracked line item in that
		// currency, and draws its balance down in that currency.
		usageStart := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		jpMeter := subscribe(t, s, "offer-translate-jp-meter", "PO-JP-ORDER", "", usageStart)
		bhMeter := subscribe(t, s, "offer-gulf-meter", "PO-BH-ORDER", "", usageStart)
		require.Equal(t, http.StatusOK, s.API(t, "POST", "/api/v1/usage", map[string]any{"records": []map[string]any{
			{"id": "jp1", "agreement_id": jpMeter.ID, "dimension": "chars", "quantity": "400", "time": "2026-10-05T10:00:00Z"},
			{"id": "bh1", "agreement_id": bhMeter.ID, "dimension": "entries", "quantity": "100", "time": "2026-10-06T10:00:00Z"},
		}}, nil))

		res := run(t, s, "2027-01-31")
		assert.EqualValues(t, 3, res["out_of_cycle_invoices"], "%v", res)
		assert.EqualValues(t, 2, res["monthly_invoices"], "%v", res)
		total := func(agreementID string) (string, string) {
			list := invoices(t, s, "agreement_id="+agreementID)
			require.Len(t, list, 1)
			return list[0]["total"].(string), list[0]["po_number"].(string)
		}
		tot, poNumber := total(jpUp.ID)
		assert.Equal(t, "1200000", tot)
		assert.Equal(t, "PO-JPY-UP", poNumber)
		tot, _ = total(bhUp.ID)
		assert.Equal(t, "12.345", tot)
		tot, _ = total(bhFPS.ID)
		assert.Equal(t, "100.125", tot)
		fpsPO := getPO(t, s, "PO-BHD-FPS")
		require.Len(t, fpsPO.LineItems, 2, "the zero line item, then the installment's")
		assert.Equal(t, "100.125", fpsPO.LineItems[1].Amount.String())
		tot, poNumber = total(jpMeter.ID)
		assert.Equal(t, "1000", tot, "400 at JPY 2.5")
		assert.Equal(t, "PO-JPY", poNumber, "JPY usage goes to the JPY line item")
		tot, poNumber = total(bhMeter.ID)
		assert.Equal(t, "12.345", tot, "100 at BHD 0.12345")
		assert.Equal(t, "PO-BHD", poNumber, "BHD usage goes to the BHD line item")

		assert.Equal(t, "4000", getPO(t, s, "PO-JPY").LineItems[0].Balance.String(), "5000 less the 1000 invoice")
		assert.Equal(t, "2.655", getPO(t, s, "PO-BHD").LineItems[0].Balance.String(), "15.000 less the 12.345 invoice, not rounded to 2.66")
		var out struct {
			Messages []struct{ To, Subject, Body string }
		}
		require.Equal(t, http.StatusOK, s.API(t, "GET", "/api/v1/outbox?organization_id=org_demo", nil, &out))
		body := ""
		for _, m := range out.Messages {
			if m.Subject == "Purchase order PO-BHD: balance below 75%" {
				body = m.Body
			}
		}
		assert.True(t, strings.Contains(body, "fell to 2.655 BHD of 15.000 BHD after an invoice of 12.345 BHD"), "%q", body)
	})
}

// A cXML invoice carries its product's own UNSPSC code and its
// currency's decimals, and stays valid against the DTD.
func TestCXMLInvoiceCarriesTheProductsUNSPSCAndBHD(t *testing.T) {
	for _, engine := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", dbtest.SQLiteDSN}, {"postgres", dbtest.PostgresDSN}} {
		dsn := engine.dsn
		t.Run(engine.name, func(t *testing.T) {
			c := newCoupa(t)
			s, invID := einvoiceSetupOffer(t, dsn(t), c.srv.URL+"/cxml/invoices", "offer-gulf-contract", func(s *apptest.Server) { importMoneyOffers(t, s) })
			doc, err := s.App.Billing.Document(context.Background(), invID)
			require.NoError(t, err)
			cxmltest.Validate(t, doc)
			parsed, err := cxml.Parse(doc, cxml.Limits{})
			require.NoError(t, err)
			req := parsed.Request.Body.(*cxml.InvoiceDetailRequest)
			require.Len(t, req.Orders, 1)
			require.Len(t, req.Orders[0].ServiceItems, 1)
			assert.Equal(t, []cxml.Classification{{Domain: "UNSPSC", Value: "43231602"}}, req.Orders[0].ServiceItems[0].Reference.Classifications,
				"the Gulf Ledger product's code, not a constant")
			assert.Equal(t, "12.345", req.Summary.DueAmount.String())
			assert.Contains(t, string(doc), `<Money currency="BHD">12.345</Money>`)
			assert.Contains(t, string(doc), `<Money currency="BHD">0.000</Money>`, "the zero tax, in BHD")
		})
	}
}

// Cancelling a prepaid JPY or BHD agreement credits the unused days in
// the currency's own minor unit, in the stored credit memo and in its
// cXML; the invoice it credits carries its product's UNSPSC code.
func TestJPYAndBHDInvoicesAndCreditMemos(t *testing.T) {
	for _, engine := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", dbtest.SQLiteDSN}, {"postgres", dbtest.PostgresDSN}} {
		for _, tc := range []struct {
			offer, unspsc, total, credit, zero string
		}{
			// 2026-11-02 to 2027-11-01 is 365 days; cancelled on 2027-05-02,
			// the 183 days from 2027-05-03 are unused.
			{"offer-translate-jp-contract", "43232300", "1200000", "-601644", "0"}, // 1200000 x 183/365 = 601643.8…
			{"offer-gulf-contract", "43231602", "12.345", "-6.189", "0.000"},       // 12.345 x 183/365 = 6.1894…
		} {
			t.Run(engine.name+"/"+tc.offer, func(t *testing.T) {
				ctx := context.Background()
				c := newCoupa(t)
				s, invID := einvoiceSetupOffer(t, engine.dsn(t), c.srv.URL+"/cxml/invoices", tc.offer, func(s *apptest.Server) { importMoneyOffers(t, s) })
				var agreementID, currency string
				require.NoError(t, s.App.DB.R.Get(&agreementID, s.App.DB.Rebind(`SELECT agreement_id FROM invoices WHERE id = ?`), invID))
				require.NoError(t, s.App.DB.R.Get(&currency, s.App.DB.Rebind(`SELECT currency FROM invoices WHERE id = ?`), invID))
				doc, err := s.App.Billing.Document(ctx, invID)
				require.NoError(t, err)
				cxmltest.Validate(t, doc)
				assert.Contains(t, string(doc), `<Money currency="`+currency+`">`+tc.total+`</Money>`)
				assert.Contains(t, string(doc), `<Classification domain="UNSPSC">`+tc.unspsc+`</Classification>`)

				cancelled := time.Date(2027, 5, 2, 12, 0, 0, 0, time.UTC)
				require.NoError(t, s.App.DB.Transact(ctx, func(tx *sqlx.Tx) error { return s.App.Agreements.Cancel(ctx, tx, agreementID, cancelled) }))
				var credit map[string]any
				for _, inv := range invoices(t, s, "agreement_id="+agreementID) {
					if inv["purpose"] == "credit_memo" {
						credit = inv
					}
				}
				require.NotNil(t, credit)
				assert.Equal(t, tc.credit, credit["total"])
				assert.Equal(t, currency, credit["currency"])
				memo, err := s.App.Billing.Document(ctx, credit["id"].(string))
				require.NoError(t, err)
				cxmltest.Validate(t, memo)
				assert.Contains(t, string(memo), `<Money currency="`+currency+`">`+tc.credit+`</Money>`)
				assert.Contains(t, string(memo), `<Money currency="`+currency+`">`+tc.zero+`</Money>`, "the zero tax")
			})
		}
	}
}

// A tracked PO line item entered without a currency is drawn down in the
// currency of the first invoice it takes, which it keeps: its balance has
// that currency's decimals, and an invoice in another currency no longer
// goes to it.
func TestLineItemWithoutCurrencyTakesTheFirstInvoicesCurrency(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		importMoneyOffers(t, s)
		require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
			"id": "PO-ANY", "organization_id": "org_demo", "effective_month": "2026-01", "expiration_month": "2027-12",
			"line_items": []map[string]any{{"type": "monthly_usage", "start_month": "2026-01", "end_month": "2027-12", "amount": "15"}},
		}, nil))
		po := getPO(t, s, "PO-ANY")
		assert.Equal(t, "15.00", po.LineItems[0].Amount.String(), "no currency yet: two decimals")
		assert.Equal(t, "", po.LineItems[0].Currency)

		start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		bhMeter := subscribe(t, s, "offer-gulf-meter", "PO-BH-ORDER", "", start)
		jpMeter := subscribe(t, s, "offer-translate-jp-meter", "PO-JP-ORDER", "", start)
		require.Equal(t, http.StatusOK, s.API(t, "POST", "/api/v1/usage", map[string]any{"records": []map[string]any{
			{"id": "bh1", "agreement_id": bhMeter.ID, "dimension": "entries", "quantity": "100", "time": "2026-10-06T10:00:00Z"},
			{"id": "jp1", "agreement_id": jpMeter.ID, "dimension": "chars", "quantity": "2", "time": "2026-11-05T10:00:00Z"},
		}}, nil))
		run(t, s, "2026-10-31")
		po = getPO(t, s, "PO-ANY")
		assert.Equal(t, "BHD", po.LineItems[0].Currency, "the first invoice's currency")
		assert.Equal(t, "15.000", po.LineItems[0].Amount.String())
		assert.Equal(t, "2.655", po.LineItems[0].Balance.String(), "15 less the 12.345 BHD invoice, in fils")

		run(t, s, "2026-11-30")
		list := invoices(t, s, "agreement_id="+jpMeter.ID)
		require.Len(t, list, 1)
		assert.Equal(t, "5", list[0]["total"], "2 at JPY 2.5")
		assert.NotEqual(t, "PO-ANY", list[0]["po_number"], "a BHD line item takes no JPY invoice")
		assert.Equal(t, "2.655", getPO(t, s, "PO-ANY").LineItems[0].Balance.String())
	})
}

package punchout_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
)

// A connection's blanket value has no currency of its own: in a cart it
// takes the offer's currency and that currency's decimals (JPY 0, BHD 3).
func TestBlanketTakesTheOfferCurrencysDecimals(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		require.Equal(t, 200, s.API(t, "POST", "/api/v1/catalog/import", map[string]any{
			"products": []map[string]any{{"id": "prod-gulf-ledger", "name": "Gulf Ledger", "vendor": "Manama Software", "type": "saas",
				"unspsc": "43231602", "description": "Accounting billed in dinars."}},
			"offers": []map[string]any{
				{"id": "offer-translate-jp-meter", "product_id": "prod-translate-jp", "pricing_model": "payg", "currency": "JPY",
					"dimensions": []map[string]string{{"name": "chars", "unit": "1k-chars", "unit_price": "2.5"}}, "revision": 1},
				{"id": "offer-gulf-meter", "product_id": "prod-gulf-ledger", "pricing_model": "payg", "currency": "BHD",
					"dimensions": []map[string]string{{"name": "entries", "unit": "entry", "unit_price": "0.12345"}}, "revision": 1},
			},
		}, nil))
		var conn map[string]any
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/connections", map[string]any{
			"organization_id": "org_demo", "name": "Odd blanket", "system": "coupa",
			"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "Blanket"},
			"supplier_credential": map[string]string{"domain": "DUNS", "identity": "081254817"},
			"shared_secret":       "blanket-secret", "payg_blanket_amount": "2500.505",
		}, &conn))
		assert.Equal(t, "2500.505", conn["payg_blanket_amount"], "the blanket keeps what it was given")
		for _, tc := range []struct{ offer, want, money string }{
			{"offer-translate-jp-meter", "2501", `<Money currency="JPY">2501</Money>`},
			{"offer-gulf-meter", "2500.505", `<Money currency="BHD">2500.505</Money>`},
			{"offer-cloudsight-payg", "2500.51", `<Money currency="USD">2500.51</Money>`},
		} {
			b := setupRequest("coupa", "blanket-"+tc.offer+"@x", "create", "ck", buyerURL, "")
			b = []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "DemoCorpCoupa", "Blanket"), "coupa-demo-secret", "blanket-secret"))
			start := startPage(t, s, b)
			sh := newShopper(t)
			code, _ := sh.request(start, tc.offer)
			require.Equal(t, 200, code)
			_, _, doc := sh.checkout(start) // DTD-validated
			m := poom(t, doc)
			require.Len(t, m.Items, 1)
			assert.Equal(t, tc.want, m.Items[0].ItemDetail.UnitPrice.String(), tc.offer)
			assert.Equal(t, tc.want, m.Total.String(), tc.offer)
			assert.Contains(t, string(doc), tc.money, tc.offer)
		}
	})
}

// A JPY and a BHD offer ordered through Coupa: the order's agreement,
// the line item it adds to the order's PO, the invoice billing makes and
// the cXML invoice all keep the currency's own decimals, and the invoice
// line carries the ordered product's UNSPSC code.
func TestJPYAndBHDOrdersKeepTheirDecimalsThroughToTheInvoice(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		require.Equal(t, 200, s.API(t, "POST", "/api/v1/catalog/import", map[string]any{
			"products": []map[string]any{{"id": "prod-gulf-ledger", "name": "Gulf Ledger", "vendor": "Manama Software", "type": "saas",
				"unspsc": "43231602", "description": "Accounting billed in dinars."}},
			"offers": []map[string]any{{"id": "offer-gulf-contract", "product_id": "prod-gulf-ledger", "pricing_model": "upfront",
				"currency": "BHD", "price": "12.345", "duration_months": 12, "revision": 1}},
		}, nil))
		require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{
			"einvoice": map[string]any{"enabled": true, "endpoint": "https://coupa.example/cxml/invoices", "shared_secret": "coupa-invoice-secret"},
		}, nil))
		cases := []struct{ offer, po, currency, amount, unspsc string }{
			{"offer-translate-jp-contract", "PO-JPY-ORDER", "JPY", "1200000", "43232300"},
			{"offer-gulf-contract", "PO-BHD-ORDER", "BHD", "12.345", "43231602"},
		}
		for _, tc := range cases {
			items := cart(t, s, "coupa", "ck-"+tc.po, tc.offer)
			require.Len(t, items, 1)
			assert.Equal(t, tc.amount, items[0].ItemDetail.UnitPrice.String(), tc.offer)
			_, doc := s.PostCXML(t, orderFromCart("coupa", tc.po+"@coupa", tc.po, "new", "", items))
			require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)

			var list struct{ Agreements []map[string]any }
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements?organization_id=org_demo&po_number="+tc.po, nil, &list))
			require.Len(t, list.Agreements, 1)
			assert.Equal(t, tc.amount, list.Agreements[0]["total_contract_value"], tc.offer)
			assert.Equal(t, tc.currency, list.Agreements[0]["currency"], tc.offer)
			var po struct {
				LineItems []map[string]any `json:"line_items"`
			}
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/purchase-orders/"+tc.po+"?organization_id=org_demo", nil, &po))
			require.Len(t, po.LineItems, 1)
			assert.Equal(t, tc.amount, po.LineItems[0]["amount"], tc.offer)
			assert.Equal(t, tc.currency, po.LineItems[0]["currency"], tc.offer)
		}

		require.Equal(t, 200, s.API(t, "POST", "/api/v1/billing/run", map[string]string{"through": "2027-01-31"}, nil))
		var invoices struct{ Invoices []map[string]any }
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/invoices?organization_id=org_demo", nil, &invoices))
		for _, tc := range cases {
			var inv map[string]any
			for _, i := range invoices.Invoices {
				if i["po_number"] == tc.po {
					inv = i
				}
			}
			require.NotNil(t, inv, tc.po)
			assert.Equal(t, tc.amount, inv["total"], tc.offer)
			assert.Equal(t, tc.currency, inv["currency"], tc.offer)
			res, err := http.DefaultClient.Do(apiRequest(t, s, "/api/v1/invoices/"+inv["id"].(string)+"/cxml"))
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			require.NoError(t, err)
			require.Equal(t, 200, res.StatusCode, string(body))
			assert.Contains(t, string(body), `<Money currency="`+tc.currency+`">`+tc.amount+`</Money>`, tc.offer)
			assert.Contains(t, string(body), `<Classification domain="UNSPSC">`+tc.unspsc+`</Classification>`, tc.offer)
		}
	})
}

func apiRequest(t *testing.T, s *apptest.Server, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer test-admin-token")
	return req
}

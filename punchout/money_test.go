package punchout_test

import (
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

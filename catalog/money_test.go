package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/internal/money"
)

// Offer amounts are stored as every amount is: decimal text with the
// currency's own decimals, beside the currency; importing them again is
// no revision.
func TestOfferAmountsAreStoredWithTheirCurrencysDecimals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := catalog.NewStore(d, time.Now)
		file := func() *catalog.File {
			return &catalog.File{
				Products: []catalog.Product{{ID: "prod-gulf", Name: "Gulf Ledger", Vendor: "Manama Software", Type: catalog.SaaS, UNSPSC: "43231602"}},
				Offers: []catalog.Offer{
					{ID: "offer-jpy", ProductID: "prod-gulf", PricingModel: catalog.Upfront, Currency: "JPY", Price: money.MustParse("1200000.00", "JPY"), DurationMonths: 12},
					{ID: "offer-bhd", ProductID: "prod-gulf", PricingModel: catalog.FPS, Currency: "BHD", DurationMonths: 12,
						Schedule: []catalog.Installment{{Due: "2027-01-15", Amount: money.MustParse("100.1", "BHD")}}},
					{ID: "offer-usd", ProductID: "prod-gulf", PricingModel: catalog.Annual, Currency: "USD", Price: money.MustParse("24000", "USD"), DurationMonths: 12},
				},
			}
		}
		_, err := s.Import(ctx, file())
		require.NoError(t, err)
		var rows []struct {
			ID       string `db:"id"`
			Price    string `db:"price"`
			Schedule string `db:"schedule"`
		}
		require.NoError(t, d.R.SelectContext(ctx, &rows, `SELECT id, price, schedule FROM offers WHERE product_id = 'prod-gulf' ORDER BY id`))
		require.Len(t, rows, 3)
		assert.Equal(t, "", rows[0].Price)
		assert.JSONEq(t, `[{"due": "2027-01-15", "amount": "100.100"}]`, rows[0].Schedule)
		assert.Equal(t, "1200000", rows[1].Price)
		assert.Equal(t, "24000.00", rows[2].Price)

		_, o, err := s.GetOffer(ctx, nil, "offer-bhd")
		require.NoError(t, err)
		assert.True(t, o.Schedule[0].Amount.Equal(money.MustParse("100.1", "BHD")))
		res, err := s.Import(ctx, file())
		require.NoError(t, err)
		assert.Equal(t, 3, res.OffersUnchanged)
	})
}

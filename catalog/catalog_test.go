package catalog_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/organization"
)

func TestRequestable(t *testing.T) {
	tests := []struct {
		typ   catalog.ProductType
		model catalog.PricingModel
		ok    bool
	}{
		{catalog.SaaS, catalog.Upfront, true},
		{catalog.SaaS, catalog.FPS, true},
		{catalog.SaaS, catalog.PAYG, true},
		{catalog.SaaS, catalog.Free, true},
		{catalog.AMI, catalog.PAYG, true},
		{catalog.AMI, catalog.Annual, true},
		{catalog.AMI, catalog.BYOL, true},
		{catalog.AMI, catalog.Upfront, false},
		{catalog.AMI, catalog.FPS, false},
		{catalog.Container, catalog.PAYG, true},
		{catalog.Container, catalog.Upfront, false},
		{catalog.Container, catalog.FPS, false},
		{catalog.ProfessionalServices, catalog.Upfront, false},
		{catalog.ProfessionalServices, catalog.Free, false},
		{catalog.Data, catalog.Annual, true},
	}
	for _, tc := range tests {
		t.Run(string(tc.typ)+"/"+string(tc.model), func(t *testing.T) {
			ok, why := catalog.Requestable(&catalog.Product{Type: tc.typ}, &catalog.Offer{PricingModel: tc.model})
			assert.Equal(t, tc.ok, ok)
			if !ok {
				assert.NotEmpty(t, why, "a refusal says why")
			}
		})
	}
}

// bare is an amount as an import file gives it: no currency of its own.
func bare(s string) money.Amount {
	a, err := money.ParseBare(s)
	if err != nil {
		panic(err)
	}
	return a
}

func TestOfferValidate(t *testing.T) {
	d := bare
	valid := func() catalog.Offer {
		return catalog.Offer{ID: "o1", ProductID: "p1", PricingModel: catalog.Upfront, Currency: "usd", Price: d("100.00"), DurationMonths: 12}
	}
	tests := []struct {
		name   string
		change func(o *catalog.Offer)
		msg    string
	}{
		{"valid", func(*catalog.Offer) {}, ""},
		{"bad model", func(o *catalog.Offer) { o.PricingModel = "monthly" }, "pricing_model"},
		{"no price", func(o *catalog.Offer) { o.Price = money.Amount{} }, "positive price"},
		{"JPY with decimals", func(o *catalog.Offer) { o.Currency = "JPY"; o.Price = d("100.5") }, "more decimals than JPY"},
		{"BHD three decimals", func(o *catalog.Offer) { o.Currency = "BHD"; o.Price = d("100.125") }, ""},
		{"fps without schedule", func(o *catalog.Offer) { o.PricingModel = catalog.FPS; o.Price = money.Amount{} }, "payment schedule"},
		{"fps bad date", func(o *catalog.Offer) {
			o.PricingModel, o.Price = catalog.FPS, money.Amount{}
			o.Schedule = []catalog.Installment{{Due: "15/01/2027", Amount: d("1")}}
		}, "YYYY-MM-DD"},
		{"payg without dimensions", func(o *catalog.Offer) { o.PricingModel = catalog.PAYG; o.Price = money.Amount{} }, "dimension"},
		{"free with price", func(o *catalog.Offer) { o.PricingModel = catalog.Free }, "no price"},
		{"bad currency", func(o *catalog.Offer) { o.Currency = "dollars" }, "ISO 4217"},
		{"unknown currency", func(o *catalog.Offer) { o.Currency = "XYZ" }, "ISO 4217"},
		{"no currency", func(o *catalog.Offer) { o.Currency = "" }, "ISO 4217"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.change(&o)
			err := o.Validate()
			if tc.msg == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errs.Is(err, errs.Invalid))
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestTotalContractValue(t *testing.T) {
	d := func(s string) money.Amount { return money.MustParse(s, "USD") }
	fps := catalog.Offer{PricingModel: catalog.FPS, Currency: "USD", Schedule: []catalog.Installment{{Amount: d("40000.00")}, {Amount: d("45000.50")}}}
	v, ok := fps.TotalContractValue()
	assert.True(t, ok)
	assert.Equal(t, "85000.5", v.Decimal().String())
	assert.Equal(t, "85000.50", v.String(), "in USD, two decimals")
	_, ok = (&catalog.Offer{PricingModel: catalog.PAYG}).TotalContractValue()
	assert.False(t, ok)
}

const file = `{"products": [
  {"id": "p-saas", "name": "Alpha SaaS", "vendor": "V", "type": "saas", "unspsc": "43232300", "description": "Analytics"},
  {"id": "p-pro", "name": "Beta Services", "vendor": "V", "type": "professional_services", "unspsc": "81111500", "description": "consulting"}],
 "offers": [
  {"id": "o-public", "product_id": "p-saas", "pricing_model": "upfront", "currency": "USD", "price": "1200.00", "duration_months": 12, "revision": 1},
  {"id": "o-private", "product_id": "p-saas", "pricing_model": "fps", "currency": "USD", "duration_months": 24,
   "schedule": [{"due": "2027-01-01", "amount": "100"}, {"due": "2028-01-01", "amount": 200}],
   "private_to_organization_id": "org_a", "expires_at": "2027-06-30T00:00:00Z", "revision": 1},
  {"id": "o-pro", "product_id": "p-pro", "pricing_model": "upfront", "currency": "USD", "price": "5000", "duration_months": 1}]}`

func TestImportBrowseAndPrivateMarketplace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		orgs := organization.NewStore(d, time.Now)
		for _, id := range []string{"org_a", "org_b"} {
			require.NoError(t, orgs.Create(ctx, &organization.Organization{ID: id, Name: id}))
		}
		s := catalog.NewStore(d, time.Now)
		var f catalog.File
		require.NoError(t, json.Unmarshal([]byte(file), &f))
		res, err := s.Import(ctx, &f)
		require.NoError(t, err)
		assert.Equal(t, catalog.ImportResult{ProductsCreated: 2, OffersCreated: 3}, *res)

		// The same file again changes nothing.
		var again catalog.File
		require.NoError(t, json.Unmarshal([]byte(file), &again))
		res, err = s.Import(ctx, &again)
		require.NoError(t, err)
		assert.Equal(t, 3, res.OffersUnchanged)

		// A seller's change revises the offer.
		var changed catalog.File
		require.NoError(t, json.Unmarshal([]byte(file), &changed))
		later := time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)
		changed.Offers[1].ExpiresAt = &later
		res, err = s.Import(ctx, &changed)
		require.NoError(t, err)
		assert.Equal(t, 1, res.OffersRevised)
		_, o, err := s.GetOffer(ctx, nil, "o-private")
		require.NoError(t, err)
		assert.Equal(t, 2, o.Revision)
		assert.True(t, later.Equal(*o.ExpiresAt))
		v, _ := o.TotalContractValue()
		assert.Equal(t, "300", v.Decimal().String())
		assert.Equal(t, "300.00", v.String())

		// Private offers are visible to their organization only.
		a, err := s.Browse(ctx, "org_a", "")
		require.NoError(t, err)
		require.Len(t, a, 2)
		assert.Len(t, a[0].Offers, 2, "org_a sees its private offer")
		b, err := s.Browse(ctx, "org_b", "analytics")
		require.NoError(t, err)
		require.Len(t, b, 1)
		assert.Len(t, b[0].Offers, 1, "org_b does not")
		none, err := s.Browse(ctx, "org_b", "100%_")
		require.NoError(t, err)
		assert.Empty(t, none, "LIKE wildcards in a search are literal")

		// A private marketplace narrows the catalog.
		require.NoError(t, s.SetPrivateMarketplace(ctx, &catalog.PrivateMarketplace{OrganizationID: "org_b", Enabled: true, ProductIDs: []string{"p-pro"}}))
		b, err = s.Browse(ctx, "org_b", "")
		require.NoError(t, err)
		require.Len(t, b, 1)
		assert.Equal(t, "p-pro", b[0].Product.ID)
		_, err = s.Product(ctx, "org_b", "p-saas")
		assert.True(t, errs.Is(err, errs.NotFound))
		a, err = s.Browse(ctx, "org_a", "")
		require.NoError(t, err)
		assert.Len(t, a, 2, "other organizations are not affected")
		err = s.SetPrivateMarketplace(ctx, &catalog.PrivateMarketplace{OrganizationID: "org_b", Enabled: true, ProductIDs: []string{"nope"}})
		assert.True(t, errs.Is(err, errs.Invalid))
		err = s.SetPrivateMarketplace(ctx, &catalog.PrivateMarketplace{OrganizationID: "org_nope", Enabled: true})
		assert.Equal(t, errs.NotFound, errs.CodeOf(err), "%v", err)
		assert.Equal(t, "organization org_nope not found", errs.MessageOf(err))

		// A bad file changes nothing.
		bad := catalog.File{Offers: []catalog.Offer{{ID: "o-new", ProductID: "p-missing", PricingModel: catalog.Free, Currency: "USD"}}}
		_, err = s.Import(ctx, &bad)
		assert.True(t, errs.Is(err, errs.Invalid))
		_, _, err = s.GetOffer(ctx, nil, "o-new")
		assert.True(t, errs.Is(err, errs.NotFound))
		stray := catalog.File{Offers: []catalog.Offer{{ID: "o-new", ProductID: "p-saas", PricingModel: catalog.Free, Currency: "USD", PrivateToOrganizationID: "org_nope"}}}
		_, err = s.Import(ctx, &stray)
		assert.Equal(t, errs.Invalid, errs.CodeOf(err), "%v", err)
		assert.Equal(t, "offer o-new: private_to_organization_id org_nope is not an organization", errs.MessageOf(err))
	})
}

package catalog

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/web"
)

// HTTP serves the catalog in the admin API.
type HTTP struct {
	Store *Store
}

// Import answers POST /api/v1/catalog/import with a catalog file body.
func (h *HTTP) Import(c echo.Context) error {
	var f File
	if err := web.Bind(c, &f); err != nil {
		return err
	}
	res, err := h.Store.Import(c.Request().Context(), &f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// OfferJSON is an offer as the API shows it: amounts are decimal strings
// with the currency's own decimals.
type OfferJSON struct {
	ID                      string              `json:"id"`
	ProductID               string              `json:"product_id"`
	PricingModel            PricingModel        `json:"pricing_model"`
	Currency                string              `json:"currency"`
	Price                   string              `json:"price,omitempty"`
	TotalContractValue      string              `json:"total_contract_value,omitempty"`
	DurationMonths          int                 `json:"duration_months"`
	Schedule                []map[string]string `json:"schedule,omitempty"`
	Dimensions              []map[string]string `json:"dimensions,omitempty"`
	PrivateToOrganizationID string              `json:"private_to_organization_id,omitempty"`
	ExpiresAt               *time.Time          `json:"expires_at,omitempty"`
	Revision                int                 `json:"revision"`
	Requestable             bool                `json:"requestable"`
	NotRequestableReason    string              `json:"not_requestable_reason,omitempty"`
}

// ToJSON renders an offer of product p for the API.
func ToJSON(p *Product, o *Offer) OfferJSON {
	j := OfferJSON{
		ID: o.ID, ProductID: o.ProductID, PricingModel: o.PricingModel, Currency: o.Currency,
		DurationMonths: o.DurationMonths, PrivateToOrganizationID: o.PrivateToOrganizationID,
		ExpiresAt: o.ExpiresAt, Revision: o.Revision,
	}
	if o.PricingModel == Upfront || o.PricingModel == Annual {
		j.Price = o.Price.String()
	}
	if v, ok := o.TotalContractValue(); ok {
		j.TotalContractValue = v.String()
	}
	for _, in := range o.Schedule {
		j.Schedule = append(j.Schedule, map[string]string{"due": in.Due, "amount": in.Amount.String()})
	}
	for _, d := range o.Dimensions {
		j.Dimensions = append(j.Dimensions, map[string]string{"name": d.Name, "unit": d.Unit, "unit_price": d.UnitPrice.String()})
	}
	j.Requestable, j.NotRequestableReason = Requestable(p, o)
	return j
}

// ListProducts answers GET /api/v1/products?organization_id=&q=: the
// catalog as that organization's users see it.
func (h *HTTP) ListProducts(c echo.Context) error {
	orgID := c.QueryParam("organization_id")
	if orgID == "" {
		return errs.E(errs.Invalid, "organization_id is required: the catalog depends on the organization's private offers and private marketplace")
	}
	list, err := h.Store.Browse(c.Request().Context(), orgID, c.QueryParam("q"))
	if err != nil {
		return err
	}
	type productJSON struct {
		Product
		Offers []OfferJSON `json:"offers"`
	}
	out := make([]productJSON, 0, len(list))
	for _, l := range list {
		pj := productJSON{Product: l.Product, Offers: []OfferJSON{}}
		for i := range l.Offers {
			pj.Offers = append(pj.Offers, ToJSON(&l.Product, &l.Offers[i]))
		}
		out = append(out, pj)
	}
	return c.JSON(http.StatusOK, map[string]any{"products": out})
}

// GetOffer answers GET /api/v1/offers/{id}.
func (h *HTTP) GetOffer(c echo.Context) error {
	p, o, err := h.Store.GetOffer(c.Request().Context(), nil, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ToJSON(p, o))
}

// PutPrivateMarketplace answers PUT /api/v1/organizations/{id}/private-marketplace.
func (h *HTTP) PutPrivateMarketplace(c echo.Context) error {
	var pm PrivateMarketplace
	if err := web.Bind(c, &pm); err != nil {
		return err
	}
	pm.OrganizationID = c.Param("id")
	if err := h.Store.SetPrivateMarketplace(c.Request().Context(), &pm); err != nil {
		return err
	}
	out, err := h.Store.GetPrivateMarketplace(c.Request().Context(), pm.OrganizationID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// GetPrivateMarketplace answers GET /api/v1/organizations/{id}/private-marketplace.
func (h *HTTP) GetPrivateMarketplace(c echo.Context) error {
	out, err := h.Store.GetPrivateMarketplace(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

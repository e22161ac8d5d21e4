package invoicing

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/web"
)

// HTTP serves invoicing in the admin API.
type HTTP struct {
	POs        *PurchaseOrders
	Agreements *Agreements
}

// CreatePO answers POST /api/v1/purchase-orders.
func (h *HTTP) CreatePO(c echo.Context) error {
	var po PurchaseOrder
	if err := web.Bind(c, &po); err != nil {
		return err
	}
	if err := h.POs.Create(c.Request().Context(), &po); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, &po)
}

// poParam is the PO number of the path, which may hold any character a
// buyer uses (up to 200), so it is unescaped here.
func poParam(c echo.Context) string {
	p, err := url.PathUnescape(c.Param("id"))
	if err != nil {
		return c.Param("id")
	}
	return p
}

// findPO resolves a PO number, with ?organization_id= or, without it,
// when the number is used by one organization only.
func (h *HTTP) findPO(c echo.Context) (*PurchaseOrder, error) {
	number := poParam(c)
	if org := c.QueryParam("organization_id"); org != "" {
		return h.POs.Get(c.Request().Context(), org, number)
	}
	list, err := h.POs.Find(c.Request().Context(), number)
	if err != nil {
		return nil, err
	}
	switch len(list) {
	case 0:
		return nil, errs.E(errs.NotFound, "purchase order %s not found", number)
	case 1:
		return list[0], nil
	}
	return nil, errs.E(errs.Conflict, "purchase order number %s is used by %d organizations; add ?organization_id=", number, len(list))
}

// GetPO answers GET /api/v1/purchase-orders/{id}.
func (h *HTTP) GetPO(c echo.Context) error {
	po, err := h.findPO(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, po)
}

// ListPOs answers GET /api/v1/purchase-orders?organization_id=.
func (h *HTTP) ListPOs(c echo.Context) error {
	org := c.QueryParam("organization_id")
	if org == "" {
		return errs.E(errs.Invalid, "organization_id is required")
	}
	list, err := h.POs.List(c.Request().Context(), org)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"purchase_orders": list})
}

// PatchPO answers PATCH /api/v1/purchase-orders/{id}: status (active or
// suspended), bill_from, expiration_month, contacts, add_line_items.
func (h *HTTP) PatchPO(c echo.Context) error {
	po, err := h.findPO(c)
	if err != nil {
		return err
	}
	var ch Change
	if err := web.Bind(c, &ch); err != nil {
		return err
	}
	out, err := h.POs.Update(c.Request().Context(), po.OrganizationID, po.ID, &ch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// ListAgreements answers GET /api/v1/agreements?organization_id=&po_number=.
func (h *HTTP) ListAgreements(c echo.Context) error {
	f := Filter{OrganizationID: c.QueryParam("organization_id"), PONumber: c.QueryParam("po_number"), Status: c.QueryParam("status")}
	if f.OrganizationID == "" {
		return errs.E(errs.Invalid, "organization_id is required")
	}
	list, err := h.Agreements.List(c.Request().Context(), nil, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"agreements": list})
}

// GetAgreement answers GET /api/v1/agreements/{id}.
func (h *HTTP) GetAgreement(c echo.Context) error {
	a, err := h.Agreements.Get(c.Request().Context(), nil, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// PatchAgreement answers PATCH /api/v1/agreements/{id} with
// {"po_number"?, "usage_po_number"?}: for future invoices only.
func (h *HTTP) PatchAgreement(c echo.Context) error {
	var in struct {
		PONumber      *string `json:"po_number"`
		UsagePONumber *string `json:"usage_po_number"`
	}
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	if in.PONumber == nil && in.UsagePONumber == nil {
		return errs.E(errs.Invalid, "send po_number and/or usage_po_number")
	}
	a, err := h.Agreements.SetPONumbers(c.Request().Context(), c.Param("id"), in.PONumber, in.UsagePONumber)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// AgreementCharges answers GET /api/v1/agreements/{id}/charges: the
// charge summary, each charge with its PO number.
func (h *HTTP) AgreementCharges(c echo.Context) error {
	a, charges, err := h.Agreements.Summary(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"agreement_id": a.ID, "po_number": a.PONumber, "usage_po_number": a.UsagePONumber, "charges": charges})
}

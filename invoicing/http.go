package invoicing

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/web"
)

// HTTP serves invoicing in the admin API.
type HTTP struct {
	POs        *PurchaseOrders
	Agreements *Agreements
	Billing    *Billing
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

// PostUsage answers POST /api/v1/usage {"records": [...]}.
func (h *HTTP) PostUsage(c echo.Context) error {
	var in struct {
		Records []UsageRecord `json:"records"`
	}
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	res, err := RecordUsage(c.Request().Context(), h.Billing.DB, in.Records, h.Billing.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// invoiceJSON is an invoice as DESIGN.md's API shows it. buyer_status is
// null until the buyer's system sends a status for the invoice.
type invoiceJSON struct {
	Invoice
	Delivery struct {
		Status    string `json:"status"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error,omitempty"`
	} `json:"delivery"`
	BuyerStatus     *string    `json:"buyer_status"`
	BuyerStatusText string     `json:"buyer_status_text,omitempty"`
	BuyerStatusAt   *time.Time `json:"buyer_status_at,omitempty"`
}

// ListInvoices answers GET /api/v1/invoices?organization_id=&agreement_id=&delivery_status=.
func (h *HTTP) ListInvoices(c echo.Context) error {
	org, agreement := c.QueryParam("organization_id"), c.QueryParam("agreement_id")
	if org == "" && agreement == "" {
		return errs.E(errs.Invalid, "organization_id or agreement_id is required")
	}
	list, err := h.Billing.ListInvoices(c.Request().Context(), org, agreement, c.QueryParam("delivery_status"))
	if err != nil {
		return err
	}
	out := make([]invoiceJSON, 0, len(list))
	for _, inv := range list {
		j := invoiceJSON{Invoice: inv}
		j.Delivery.Status, j.Delivery.Attempts, j.Delivery.LastError = inv.DeliveryStatus, inv.DeliveryAttempts, inv.LastError
		if inv.BuyerStatus != "" {
			j.BuyerStatus, j.BuyerStatusText, j.BuyerStatusAt = &inv.BuyerStatus, inv.BuyerStatusText, inv.BuyerStatusAt
		}
		out = append(out, j)
	}
	return c.JSON(http.StatusOK, map[string]any{"invoices": out})
}

// RunBilling answers POST /api/v1/billing/run {"through": "YYYY-MM-DD"}.
func (h *HTTP) RunBilling(c echo.Context) error {
	var in struct {
		Through string `json:"through"`
	}
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	t, err := time.Parse(time.DateOnly, in.Through)
	if err != nil {
		return errs.E(errs.Invalid, "through must be a date YYYY-MM-DD")
	}
	res, err := h.Billing.Run(c.Request().Context(), t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// InvoiceCXML answers GET /api/v1/invoices/{id}/cxml: the
// InvoiceDetailRequest exactly as sent, but for the shared secret, which
// is never stored.
func (h *HTTP) InvoiceCXML(c echo.Context) error {
	doc, err := h.Billing.Document(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/xml; charset=UTF-8", doc)
}

// ResendInvoice answers POST /api/v1/invoices/{id}/resend.
func (h *HTTP) ResendInvoice(c echo.Context) error {
	if err := h.Billing.Resend(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"id": c.Param("id"), "delivery": "pending"})
}

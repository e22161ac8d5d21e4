package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/invoicing"
)

// deliveryStatuses are the filter's choices, as GET /api/v1/invoices
// takes them.
var deliveryStatuses = []string{"failed", "pending", "delivered", "not_applicable"}

type invoiceList struct {
	Rows     []invoicing.Invoice
	Pager    pager
	Status   string
	Statuses []string
	Org      string
}

// ListInvoices answers GET /admin/invoices?delivery_status=&page=
// (viewer): the organization's invoices, newest first, filtered by
// delivery status.
func (p *Pages) ListInvoices(ec echo.Context) error {
	org, err := orgOf(ec)
	if err != nil {
		return err
	}
	status := ec.QueryParam("delivery_status")
	all, err := p.Billing.ListInvoices(ec.Request().Context(), org, "", status)
	if err != nil {
		return err
	}
	// Newest first: the service lists them by date.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	from, to, pg := paginate(ec, len(all))
	d := invoiceList{Rows: all[from:to], Pager: pg, Status: status, Statuses: deliveryStatuses}
	if !principal(ec).Scoped() {
		d.Org = org
	}
	return p.render(ec, http.StatusOK, "invoices", view{Title: "Invoices", Nav: "invoices", Org: org, Data: d})
}

type invoicePage struct {
	I         invoicing.Invoice
	Exchanges []exchange.Entry
	// Document is the cXML as sent, its shared secret removed ("" when
	// the invoice is not sent as cXML).
	Document  string
	CanResend bool
}

func (p *Pages) invoice(ec echo.Context) (*invoicing.Invoice, error) {
	ctx := ec.Request().Context()
	id := ec.Param("id")
	org, err := p.Billing.InvoiceOrganization(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil, access.NotFound("invoice", id)
	}
	if err != nil {
		return nil, err
	}
	if err := owned(ec, "invoice", id, org); err != nil {
		return nil, err
	}
	list, err := p.Billing.ListInvoices(ctx, org, "", "")
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, access.NotFound("invoice", id)
}

func (p *Pages) showInvoice(ec echo.Context, status int, inv *invoicing.Invoice, v view) error {
	ctx := ec.Request().Context()
	d := invoicePage{I: *inv}
	if inv.PayloadID != "" {
		page, err := exchange.List(ctx, p.Exchanges, exchange.Filter{OrganizationID: inv.OrganizationID, PayloadID: inv.PayloadID})
		if err != nil {
			return err
		}
		d.Exchanges = page.Exchanges
	}
	doc, err := p.Billing.Document(ctx, inv.ID)
	switch {
	case err == nil:
		d.Document = string(doc)
	case !errs.Is(err, errs.NotFound):
		return err
	}
	d.CanResend = inv.DeliveryStatus == "failed" && d.Document != "" && principal(ec).Role.AtLeast(access.Billing)
	v.Title, v.Nav, v.Data = "Invoice "+inv.ID, "invoices", d
	return p.render(ec, status, "invoice", v)
}

// ShowInvoice answers GET /admin/invoices/{id} (viewer): the invoice,
// its delivery attempts, the buyer's last answer and the cXML as sent.
func (p *Pages) ShowInvoice(ec echo.Context) error {
	inv, err := p.invoice(ec)
	if err != nil {
		return err
	}
	return p.showInvoice(ec, http.StatusOK, inv, view{})
}

// ResendInvoice answers POST /admin/invoices/{id}/resend (billing): the
// same document goes back in the delivery queue.
func (p *Pages) ResendInvoice(ec echo.Context) error {
	if err := need(ec, access.Billing); err != nil {
		return err
	}
	inv, err := p.invoice(ec)
	if err != nil {
		return err
	}
	if err := p.Billing.Resend(ec.Request().Context(), inv.ID); err != nil {
		return err
	}
	if inv, err = p.invoice(ec); err != nil {
		return err
	}
	return p.showInvoice(ec, http.StatusOK, inv, view{Notice: "The invoice is queued to be sent again, the same document; this page shows the outcome once it is known (reload it)."})
}

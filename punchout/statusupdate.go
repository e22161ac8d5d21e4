package punchout

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/invoicing"
)

// StatusUpdates takes StatusUpdateRequests that carry an InvoiceStatus:
// the buyer's system (SAP Ariba) saying what became of an invoice the
// gateway sent. The invoice gets the status as its buyer status, shown by
// the invoice API. Only invoices of the sending connection's organization
// are found. A StatusUpdateRequest about anything else (an order's
// forwarding, a payment) is not implemented.
type StatusUpdates struct {
	Billing *invoicing.Billing
}

// Handle answers a StatusUpdateRequest.
func (s *StatusUpdates) Handle(ctx context.Context, r *Request, req *cxml.StatusUpdateRequest) error {
	is := req.InvoiceStatus
	if is == nil {
		return errs.E(errs.Unsupported, "this gateway takes a StatusUpdateRequest only with an InvoiceStatus (the status of an invoice it sent); one about another document or with another kind of status is not implemented")
	}
	if !cxml.ValidInvoiceStatusType(is.Type) {
		return errs.E(errs.Invalid, "InvoiceStatus type %q is not one of %s", is.Type, strings.Join(cxml.InvoiceStatusTypes, ", "))
	}
	ref := invoicing.InvoiceRef{InvoiceID: is.InvoiceID, PayloadID: strings.TrimSpace(req.DocumentReference)}
	st := invoicing.BuyerStatus{Status: is.Type, Text: buyerStatusText(req), At: r.Now}
	return r.Commit(ctx, func(tx *sqlx.Tx) (Answer, error) {
		id, err := s.Billing.SetBuyerStatus(ctx, tx, r.Conn.OrganizationID, ref, st)
		if err != nil {
			return Answer{}, err
		}
		return Answer{Status: cxml.NewStatus(cxml.StatusOK, fmt.Sprintf("invoice %s is %s", id, is.Type))}, nil
	})
}

// buyerStatusText is the text an invoice's buyer status keeps: the
// InvoiceStatus's comments, which say why (a rejection's reason), else
// the detail of the request's Status; and the partial amount of a
// payment that was not in full, which the status type alone hides.
func buyerStatusText(req *cxml.StatusUpdateRequest) string {
	is := req.InvoiceStatus
	text := strings.Join(is.Comments, "\n")
	if text == "" {
		text = strings.TrimSpace(req.Status.Detail)
	}
	if m := is.PartialAmount; m != nil && !m.Empty {
		if text != "" {
			text += "\n"
		}
		text += fmt.Sprintf("Partial amount: %s %s", m.String(), m.Currency)
	}
	return text
}

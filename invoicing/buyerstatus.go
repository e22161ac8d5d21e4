package invoicing

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
)

// BuyerStatus is what the buyer's procurement system last said of an
// invoice: a cXML InvoiceStatus type (cxml.InvoiceStatusTypes), a text
// for a person, and when the gateway received it.
type BuyerStatus struct {
	Status string
	Text   string
	At     time.Time
}

// InvoiceRef names an invoice as a cXML StatusUpdateRequest does: by its
// invoice number (InvoiceIDInfo, the invoice's id here) or by the
// payloadID of the InvoiceDetailRequest the gateway sent for it
// (DocumentReference). The invoice number wins when both are given: the
// DTD makes DocumentReference the general reference and InvoiceIDInfo the
// invoice's own.
type InvoiceRef struct {
	InvoiceID string
	PayloadID string
}

// SetBuyerStatus records st on the invoice ref names, inside tx, and
// returns the invoice's id. Only an invoice of organizationID is found:
// another organization's, like one that does not exist, is an
// errs.Expired error (the request refers to a document the gateway does
// not hold for the sender), in the same words. A status type outside
// the DTD's is errs.Invalid.
func (b *Billing) SetBuyerStatus(ctx context.Context, tx *sqlx.Tx, organizationID string, ref InvoiceRef, st BuyerStatus) (string, error) {
	if !cxml.ValidInvoiceStatusType(st.Status) {
		return "", errs.E(errs.Invalid, "InvoiceStatus type %q is not one of processing, canceled, reconciled, rejected, paying, paid", st.Status)
	}
	var (
		q, key, what string
	)
	switch {
	case ref.InvoiceID != "":
		q, key, what = `SELECT id, buyer_status, buyer_status_text FROM invoices WHERE organization_id = ? AND id = ?`, ref.InvoiceID, "invoice number"
	case ref.PayloadID != "":
		q, key, what = `SELECT id, buyer_status, buyer_status_text FROM invoices WHERE organization_id = ? AND payload_id = ? AND payload_id <> ''`, ref.PayloadID, "payloadID"
	default:
		return "", errs.E(errs.Invalid, "the StatusUpdateRequest names no invoice: send the payloadID of the InvoiceDetailRequest as DocumentReference, or the invoice number as InvoiceIDInfo in the InvoiceStatus")
	}
	var before struct {
		ID     string `db:"id"`
		Status string `db:"buyer_status"`
		Text   string `db:"buyer_status_text"`
	}
	err := tx.GetContext(ctx, &before, tx.Rebind(q), organizationID, key)
	if db.IsNoRows(err) {
		return "", errs.E(errs.Expired, "no invoice with the %s %q was sent to your organization by this gateway; check the %s (the invoice number is the invoiceID of its InvoiceDetailRequest)", what, key, what)
	}
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE invoices SET buyer_status = ?, buyer_status_text = ?, buyer_status_at = ? WHERE id = ?`),
		st.Status, st.Text, st.At.UTC(), before.ID); err != nil {
		return "", err
	}
	changes := map[string]access.Change{}
	if before.Status != st.Status {
		changes["buyer_status"] = access.Change{Before: before.Status, After: st.Status}
	}
	if before.Text != st.Text {
		changes["buyer_status_text"] = access.Change{Before: before.Text, After: st.Text}
	}
	if len(changes) > 0 {
		if err := access.Record(ctx, tx, organizationID, "invoice.buyer_status", "invoice", before.ID, changes, st.At); err != nil {
			return "", err
		}
	}
	return before.ID, nil
}

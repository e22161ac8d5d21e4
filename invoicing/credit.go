package invoicing

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/money"
)

// CreditUnused issues, inside tx, a credit memo for every invoice of an
// agreement that prepaid time after the cancellation day: the unused
// days' share of the invoice, negative, carrying the same PO. For a
// connection that takes cXML invoices, the credit memo is a
// lineLevelCreditMemo that names the original invoice's payloadID.
func (b *Billing) CreditUnused(ctx context.Context, tx *sqlx.Tx, agreementID string, cancelled time.Time) (int, error) {
	day := cancelled.UTC().Format(time.DateOnly)
	var originals []struct {
		Invoice
		Document []byte `db:"document"`
	}
	if err := sqlx.SelectContext(ctx, tx, &originals, tx.Rebind(`SELECT `+invoiceColumns+`, payload_id, last_error, purpose, credits_invoice_id, document
		FROM invoices WHERE agreement_id = ? AND kind = 'out_of_cycle' AND purpose = 'standard' AND period_end > ?`), agreementID, day); err != nil {
		return 0, err
	}
	made := 0
	for _, o := range originals {
		start, err1 := time.Parse(time.DateOnly, o.PeriodStart)
		end, err2 := time.Parse(time.DateOnly, o.PeriodEnd)
		err3 := o.place()
		total := o.Total
		if err1 != nil || err2 != nil || err3 != nil || total.Sign() <= 0 {
			continue
		}
		from := cancelled.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1) // Unused from the day after.
		if from.Before(start) {
			from = start
		}
		days := int64(end.Sub(start).Hours()/24) + 1
		unused := int64(end.Sub(from).Hours()/24) + 1
		if unused <= 0 || days <= 0 {
			continue
		}
		credit := total.Share(unused, days).Round()
		if credit.Sign() <= 0 {
			continue
		}
		now := b.Now().UTC()
		cm := &Invoice{
			ID: id.New("inv"), OrganizationID: o.OrganizationID, ConnectionID: o.ConnectionID, Kind: string(OutOfCycle),
			BillKey: "credit:" + o.ID, AgreementID: o.AgreementID, PONumber: o.PONumber, POLineItemID: o.POLineItemID,
			BillingPeriod: day[:7], PeriodStart: from.Format(time.DateOnly), PeriodEnd: o.PeriodEnd, InvoiceDate: day,
			Total: credit.Neg(), Currency: o.Currency, DeliveryStatus: "not_applicable", CreatedAt: now,
			Purpose: "credit_memo", CreditsInvoiceID: &o.ID,
		}
		var doc []byte
		payloadID := ""
		if len(o.Document) > 0 && o.ConnectionID != nil && b.Parties != nil {
			party, err := b.Parties.InvoiceParty(ctx, *o.ConnectionID)
			if err != nil {
				return made, err
			}
			if doc, payloadID, err = buildCreditMemo(b.IDs, party, cm, o.PayloadID, credit, now); err != nil {
				return made, err
			}
			cm.DeliveryStatus = "pending"
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO invoices (`+invoiceColumns+`, payload_id, document, purpose, credits_invoice_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bill_key) DO NOTHING`),
			cm.ID, cm.OrganizationID, cm.ConnectionID, cm.Kind, cm.BillKey, cm.AgreementID, cm.PONumber, cm.POLineItemID,
			cm.BillingPeriod, cm.PeriodStart, cm.PeriodEnd, cm.InvoiceDate, cm.Total, cm.Currency, cm.DeliveryStatus, 0, now,
			payloadID, doc, cm.Purpose, cm.CreditsInvoiceID)
		if err != nil {
			return made, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		if cm.DeliveryStatus == "pending" {
			if err := b.Jobs.Insert(ctx, tx, DeliverInvoice{InvoiceID: cm.ID}); err != nil {
				return made, err
			}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO invoice_lines (invoice_id, line_number, agreement_id, description, quantity, unit_price, amount)
			VALUES (?, 1, ?, ?, '1', ?, ?)`), cm.ID, agreementID,
			fmt.Sprintf("Credit for %s: unused %s to %s of invoice %s", agreementID, cm.PeriodStart, cm.PeriodEnd, o.ID), cm.Total, cm.Total); err != nil {
			return made, err
		}
		made++
	}
	return made, nil
}

// buildCreditMemo writes a lineLevelCreditMemo against the original
// invoice: negative amounts, DocumentReference to its payloadID.
func buildCreditMemo(ids *cxml.PayloadIDs, party InvoiceParty, cm *Invoice, originalPayloadID string, credit money.Amount, now time.Time) ([]byte, string, error) {
	neg := credit.Neg().CXML()
	zero := cxml.NewMoney(decimal.Zero, credit.Currency())
	start, _ := time.Parse(time.DateOnly, cm.PeriodStart)
	end, _ := time.Parse(time.DateOnly, cm.PeriodEnd)
	day, _ := time.Parse(time.DateOnly, cm.InvoiceDate)
	period := &cxml.Period{Start: cxml.Timestamp{Time: start, Valid: true, Zoned: true}, End: cxml.Timestamp{Time: end, Valid: true, Zoned: true}}
	body := &cxml.InvoiceDetailRequest{
		Header: cxml.InvoiceDetailRequestHeader{
			InvoiceID: cm.ID, Purpose: cxml.InvoiceLineLevelCreditMemo, Operation: "new",
			InvoiceDate: cxml.Timestamp{Time: day, Valid: true, Zoned: true}, DocumentReference: originalPayloadID, Period: period,
		},
		Orders: []cxml.InvoiceDetailOrder{{
			OrderReference: &cxml.OrderReference{OrderID: cm.PONumber, DocumentReference: cm.PONumber},
			ServiceItems: []cxml.InvoiceDetailServiceItem{{
				InvoiceLineNumber: 1,
				Reference:         cxml.InvoiceItemReference{Description: &cxml.Description{Lang: "en-US", Text: "Credit for unused prepaid service"}},
				SubtotalAmount:    neg,
				Period:            period,
			}},
		}},
		Summary: cxml.InvoiceDetailSummary{SubtotalAmount: neg, Tax: cxml.Tax{Money: zero, Description: cxml.Description{Lang: "en-US", Text: "No tax charged by the marketplace"}},
			NetAmount: neg, DueAmount: &neg},
	}
	return marshalInvoice(ids, party, body, now)
}

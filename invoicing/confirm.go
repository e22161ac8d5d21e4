package invoicing

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/jobs"
)

// ConfirmedLine is one order line a confirmation names: its number, and
// the agreement it became (accepted) or that was cancelled (rejected).
type ConfirmedLine struct {
	LineNumber  int
	AgreementID string
}

// Confirmation is what an order confirmation says.
type Confirmation struct {
	OrganizationID, ConnectionID string
	// OrderRef is the orders row the confirmation answers; OrderID and
	// OrderDate and PayloadID name the buyer's order document.
	OrderRef, OrderID, OrderPayloadID string
	OrderDate                         time.Time
	// Type is accept (a new order's lines became agreements) or reject
	// (a deleted order's lines were cancelled).
	Type  string
	Lines []ConfirmedLine
}

// QueueConfirmation writes the ConfirmationRequest of an order inside
// the order's transaction, fixed now so every retry sends the same bytes
// (with the secret's marker in place of the secret), and inserts the job
// that delivers it. The agreements' ids are the supplier's references of
// the lines (an AgreementID extrinsic on each line's status).
func QueueConfirmation(ctx context.Context, tx *sqlx.Tx, q Jobs, ids *cxml.PayloadIDs, party InvoiceParty, c Confirmation, now time.Time) error {
	one := decimal.NewFromInt(1)
	body := &cxml.ConfirmationRequest{
		Header: cxml.ConfirmationHeader{
			Type: c.Type, Operation: "new", ConfirmID: c.OrderRef,
			NoticeDate: cxml.Timestamp{Time: now, Valid: true, Zoned: true},
		},
		OrderReference: cxml.OrderReference{OrderID: c.OrderID, OrderDate: cxml.Timestamp{Time: c.OrderDate, Valid: true, Zoned: true}, DocumentReference: c.OrderPayloadID},
	}
	for _, l := range c.Lines {
		body.Items = append(body.Items, cxml.ConfirmationItem{LineNumber: l.LineNumber, Quantity: one, Statuses: []cxml.ConfirmationStatus{{
			Type: c.Type, Quantity: one, Extrinsics: []cxml.Extrinsic{{Name: "AgreementID", Value: l.AgreementID}},
		}}})
	}
	doc, payloadID, err := marshalDocument(ids, party, body, now)
	if err != nil {
		return err
	}
	confirmID := id.New("cnf")
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO confirmations (id, organization_id, connection_id, order_ref, order_id, type, payload_id,
		document, delivery_status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`),
		confirmID, c.OrganizationID, c.ConnectionID, c.OrderRef, c.OrderID, c.Type, payloadID, doc, now.UTC()); err != nil {
		return err
	}
	return q.Insert(ctx, tx, DeliverConfirmation{ConfirmationID: confirmID})
}

// DeliverConfirmation is the job that posts one order confirmation.
type DeliverConfirmation struct {
	ConfirmationID string `json:"confirmation_id"`
}

// Kind names the job in the queue.
func (DeliverConfirmation) Kind() string { return "deliver_confirmation" }

// InsertOpts puts the job on the invoices queue, with the invoices'
// attempts.
func (DeliverConfirmation) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueInvoices, MaxAttempts: 12}
}

// ConfirmationDeliverer is the worker of DeliverConfirmation: the
// Deliverer's rules (https to the configured host only, no redirects,
// retries on 5xx and transport errors, a 4xx parks it as failed), for a
// confirmation.
type ConfirmationDeliverer struct {
	river.WorkerDefaults[DeliverConfirmation]
	*Deliverer
}

// Work makes one delivery attempt.
func (d *ConfirmationDeliverer) Work(ctx context.Context, job *river.Job[DeliverConfirmation]) error {
	a, err := d.AttemptConfirmation(ctx, job.Args.ConfirmationID, job.Attempt >= job.MaxAttempts)
	if err != nil {
		return err
	}
	return a.jobResult()
}

// AttemptConfirmation posts a confirmation once and records the outcome
// on it, and what was sent and answered in the exchange log.
func (d *Deliverer) AttemptConfirmation(ctx context.Context, confirmationID string, last bool) (Attempt, error) {
	now := d.now()
	var c struct {
		OrganizationID string     `db:"organization_id"`
		ConnectionID   string     `db:"connection_id"`
		PayloadID      string     `db:"payload_id"`
		Document       []byte     `db:"document"`
		Status         string     `db:"delivery_status"`
		SendingSince   *time.Time `db:"sending_since"`
	}
	err := d.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &c, tx.Rebind(`SELECT organization_id, connection_id, payload_id, document, delivery_status, sending_since
			FROM confirmations WHERE id = ?`), confirmationID); err != nil {
			return err
		}
		if c.Status != "pending" {
			return errNotPending
		}
		if c.SendingSince != nil && now.Sub(*c.SendingSince) < d.stale() {
			return errBusy
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE confirmations SET sending_since = ?, delivery_attempts = delivery_attempts + 1 WHERE id = ?`), now, confirmationID)
		return err
	})
	switch {
	case db.IsNoRows(err), errors.Is(err, errNotPending):
		return Attempt{Outcome: Skipped}, nil
	case errors.Is(err, errBusy):
		return Attempt{Outcome: Busy}, nil
	case err != nil:
		return Attempt{}, err
	}
	var ans answer
	party, err := d.Parties.InvoiceParty(ctx, c.ConnectionID)
	if err != nil {
		ans = answer{summary: "connection: " + err.Error(), temporary: true}
	} else {
		party.Endpoint = party.ConfirmEndpoint
		ans = d.send(ctx, party, c.Document)
	}
	a := Attempt{Status: ans.code, Detail: ans.text(), Outcome: Failed}
	switch {
	case ans.code >= 200 && ans.code < 300:
		a.Outcome, a.Detail = Delivered, ""
	case ans.temporary && !last:
		a.Outcome = Retry
	}
	finished := d.now()
	ctx = context.WithoutCancel(ctx)
	err = d.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE confirmations SET delivery_status = ?, sending_since = NULL, last_error = ? WHERE id = ?`),
			a.status(), a.Detail, confirmationID); err != nil {
			return err
		}
		if !ans.sent {
			return nil
		}
		sent, answer := exchange.NewDelivery(exchange.Delivery{Now: finished, DocType: "ConfirmationRequest", PayloadID: c.PayloadID, Doc: c.Document,
			Answer: ans.raw, Status: ans.code, ConnectionID: c.ConnectionID, OrgID: c.OrganizationID, Took: finished.Sub(now)})
		return exchange.InsertDelivery(ctx, tx, sent, answer)
	})
	d.logAttempt(ctx, "order confirmation delivery attempt", "confirmation_id", confirmationID, a, ans)
	return a, err
}

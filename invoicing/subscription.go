package invoicing

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/mail"
)

// Subscription is an agreement made without an OrderRequest, of one
// offer: a free or BYOL offer auto-approved on the punchout pages
// (SourceAutoApproval), or a purchase with a PO number entered at
// checkout (SourceCheckout).
type Subscription struct {
	OrganizationID string
	ConnectionID   string // the punchout session's; empty at checkout
	Source         string // SourceAutoApproval or SourceCheckout
	Product        *catalog.Product
	Offer          *catalog.Offer
	PONumber       string
	UsagePONumber  string
	// The subscriber, told by mail when Email is set.
	Email, Name string
}

// Subscribe records the order of a subscription and creates its agreement
// inside tx, and queues the subscriber's mail in outbox. The caller has
// checked that the organization may buy the offer this way.
func (s *Agreements) Subscribe(ctx context.Context, tx *sqlx.Tx, outbox *mail.Outbox, sub Subscription, now time.Time) (*Agreement, error) {
	var conn *string
	if sub.ConnectionID != "" {
		conn = &sub.ConnectionID
	}
	order := &Order{
		OrganizationID: sub.OrganizationID, ConnectionID: conn, PONumber: sub.PONumber, Type: "new", Source: sub.Source,
		OrderID:   id.New(map[string]string{SourceAutoApproval: "auto", SourceCheckout: "chk"}[sub.Source]),
		OrderDate: now, CreatedAt: now,
	}
	if _, err := RecordOrder(ctx, tx, order); err != nil {
		return nil, err
	}
	a, err := s.Create(ctx, tx, NewAgreement{
		OrganizationID: sub.OrganizationID, ConnectionID: sub.ConnectionID, OrderRef: order.ID, OrderID: order.OrderID, LineNumber: 1,
		Offer: sub.Offer, Product: sub.Product, Start: now, PONumber: sub.PONumber, UsagePONumber: sub.UsagePONumber, SubscriberEmail: sub.Email, SubscriberName: sub.Name,
	})
	if err != nil {
		return nil, err
	}
	if sub.Email != "" {
		m := AgreementMail{Name: sub.Name, Agreements: []AgreementLine{NewAgreementLine(sub.Product, sub.Offer, a)}}
		subject, body, err := m.Render()
		if err != nil {
			return nil, err
		}
		if _, err := outbox.Enqueue(ctx, tx, sub.OrganizationID, sub.Email, subject, body, now); err != nil && !errs.Is(err, errs.Invalid) {
			return nil, err
		}
	}
	return a, nil
}

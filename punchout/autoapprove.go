package punchout

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/invoicing"
)

// AutoApprovals makes the agreements of free and BYOL offers at once,
// from the punchout pages, where the session's connection auto-approves
// them: no round trip through the procurement system.
type AutoApprovals struct {
	DB         sessionDB
	Sessions   *Sessions
	Catalog    *catalog.Store
	Agreements *invoicing.Agreements
	Mail       *mail.Outbox
	Now        func() time.Time
}

// Subscribe creates the agreement of offerID for the session's user. It
// is Forbidden unless the connection auto-approves the offer, and
// Conflict (ErrCartReturned) once the session's cart went back.
func (s *AutoApprovals) Subscribe(ctx context.Context, sess *Session, conn *Connection, offerID string) (*catalog.Product, *catalog.Offer, *invoicing.Agreement, error) {
	if sess.ReadOnly() {
		return nil, nil, nil, errs.E(errs.Forbidden, "this session was opened for viewing only (inspect)")
	}
	prod, o, err := s.Catalog.GetOffer(ctx, nil, offerID)
	if err != nil || !o.VisibleTo(sess.OrganizationID) {
		return nil, nil, nil, errs.E(errs.NotFound, "offer %s is not in your catalog", offerID)
	}
	if !conn.AutoApproveFreeBYOL || !catalog.AutoApprovable(o) {
		return nil, nil, nil, errs.E(errs.Forbidden, "%s needs approval in %s: use Request approval", prod.Name, conn.SystemName())
	}
	if ok, why := catalog.Requestable(prod, o); !ok {
		return nil, nil, nil, errs.E(errs.Forbidden, "%s", why)
	}
	if o.Expired(s.Now()) {
		return nil, nil, nil, errs.E(errs.Expired, "this offer has expired")
	}
	u := sess.User()
	var a *invoicing.Agreement
	err = s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		// A session that ended between the page's check and now (its cart
		// returned by a checkout racing this request) subscribes nothing.
		if err := s.Sessions.LockOpen(ctx, tx, sess.ID); err != nil {
			return err
		}
		if ok, err := s.Catalog.Allowed(ctx, tx, sess.OrganizationID, prod.ID); err != nil {
			return err
		} else if !ok {
			return errs.E(errs.Forbidden, "%s is not in your organization's private marketplace", prod.Name)
		}
		var err error
		a, err = s.Agreements.Subscribe(ctx, tx, s.Mail, invoicing.Subscription{
			OrganizationID: sess.OrganizationID, ConnectionID: conn.ID, Source: invoicing.SourceAutoApproval, Product: prod, Offer: o,
			Email: u.Email, Name: u.DisplayName(),
		}, s.Now())
		return err
	})
	return prod, o, a, err
}

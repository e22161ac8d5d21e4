package punchout

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/internal/web"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/organization"
)

// CheckoutEligible says whether an offer may be bought with a PO number
// entered at checkout (seeds 000 and 001): SaaS contracts, professional
// services, and server products (AMI, container) with contract or annual
// pricing.
func CheckoutEligible(p *catalog.Product, o *catalog.Offer) (bool, string) {
	switch {
	case p.Type == catalog.ProfessionalServices:
		return true, ""
	case p.Type == catalog.SaaS && o.PricingModel.Contract():
		return true, ""
	case (p.Type == catalog.AMI || p.Type == catalog.Container) && (o.PricingModel.Contract() || o.PricingModel == catalog.Annual):
		return true, ""
	}
	return false, "purchase order entry at checkout is available for SaaS contracts, professional services, and server products with contract or annual pricing; " +
		p.Name + " (" + o.PricingModel.Label() + ") is not one of them"
}

// Subscriptions makes agreements without an OrderRequest: free and BYOL
// offers auto-approved from the start page, and purchases with a PO
// number entered at checkout.
type Subscriptions struct {
	DB         sessionDB
	Sessions   *Sessions
	Orgs       *organization.Store
	Catalog    *catalog.Store
	Agreements *invoicing.Agreements
	Mail       *mail.Outbox
	Now        func() time.Time
}

// create checks the organization's private marketplace and subscribes,
// in one transaction. sess is the punchout session an auto-approval comes
// from; its cart must not have been returned (nil for checkout purchases).
func (s *Subscriptions) create(ctx context.Context, sess *Session, sub invoicing.Subscription) (*invoicing.Agreement, error) {
	var a *invoicing.Agreement
	err := s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		// A session that ended between the page's check and now (its cart
		// returned by a checkout racing this request) subscribes nothing.
		if sess != nil {
			if err := s.Sessions.LockOpen(ctx, tx, sess.ID); err != nil {
				return err
			}
		}
		if ok, err := s.Catalog.Allowed(ctx, tx, sub.OrganizationID, sub.Product.ID); err != nil {
			return err
		} else if !ok {
			return errs.E(errs.Forbidden, "%s is not in your organization's private marketplace", sub.Product.Name)
		}
		var err error
		a, err = s.Agreements.Subscribe(ctx, tx, s.Mail, sub, s.Now())
		return err
	})
	return a, err
}

// AutoApprove creates the agreement of a free or BYOL offer at once, where
// the session's connection auto-approves them: no round trip through the
// procurement system.
func (s *Subscriptions) AutoApprove(ctx context.Context, sess *Session, conn *Connection, offerID string) (*catalog.Product, *catalog.Offer, *invoicing.Agreement, error) {
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
	a, err := s.create(ctx, sess, invoicing.Subscription{
		OrganizationID: sess.OrganizationID, ConnectionID: conn.ID, Source: invoicing.SourceAutoApproval, Product: prod, Offer: o,
		Email: u.Email, Name: u.DisplayName(),
	})
	return prod, o, a, err
}

// CheckoutOrder is a purchase with a PO number entered at checkout.
type CheckoutOrder struct {
	OrganizationID  string `json:"organization_id"`
	OfferID         string `json:"offer_id"`
	PONumber        string `json:"po_number"`
	UsagePONumber   string `json:"usage_po_number"`
	SubscriberEmail string `json:"subscriber_email"`
	SubscriberName  string `json:"subscriber_name"`
}

// AtCheckout subscribes an organization whose po_mode is checkout, with
// the PO number (up to 200 characters) its user entered; the PO rules of
// orders apply.
func (s *Subscriptions) AtCheckout(ctx context.Context, in CheckoutOrder) (*invoicing.Agreement, error) {
	org, err := s.Orgs.Get(ctx, in.OrganizationID)
	if err != nil {
		return nil, err
	}
	if org.POMode != organization.POModeCheckout {
		return nil, errs.E(errs.Conflict, "organization %s takes PO numbers from %s, not at checkout; the two are never both enabled", org.ID,
			map[organization.POMode]string{organization.POModeProcurementSystem: "its procurement system", organization.POModeNone: "nowhere (po_mode none)"}[org.POMode])
	}
	po, err := invoicing.ValidatePONumber(in.PONumber)
	if err != nil {
		return nil, err
	}
	usagePO := ""
	if strings.TrimSpace(in.UsagePONumber) != "" {
		if usagePO, err = invoicing.ValidatePONumber(in.UsagePONumber); err != nil {
			return nil, err
		}
	}
	p, o, err := s.Catalog.GetOffer(ctx, nil, in.OfferID)
	if err != nil || !o.VisibleTo(org.ID) {
		return nil, errs.E(errs.NotFound, "offer %s is not in the organization's catalog", in.OfferID)
	}
	if ok, why := CheckoutEligible(p, o); !ok {
		return nil, errs.E(errs.Forbidden, "%s", why)
	}
	if o.Expired(s.Now()) {
		return nil, errs.E(errs.Expired, "offer %s expired on %s; ask the seller for a new one", o.ID, o.ExpiresAt.UTC().Format(time.DateOnly))
	}
	return s.create(ctx, nil, invoicing.Subscription{
		OrganizationID: org.ID, Source: invoicing.SourceCheckout, Product: p, Offer: o, PONumber: po, UsagePONumber: usagePO,
		Email: strings.TrimSpace(in.SubscriberEmail), Name: strings.TrimSpace(in.SubscriberName),
	})
}

// CheckoutHTTP serves POST /api/v1/subscriptions.
type CheckoutHTTP struct {
	Subscriptions *Subscriptions
}

// Subscribe answers POST /api/v1/subscriptions {organization_id, offer_id,
// po_number, usage_po_number?, subscriber_email, subscriber_name?}.
func (h *CheckoutHTTP) Subscribe(c echo.Context) error {
	var in CheckoutOrder
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	a, err := h.Subscriptions.AtCheckout(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

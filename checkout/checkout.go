// Package checkout holds subscriptions bought with a PO number entered at
// checkout (seeds 000 and 001): an organization whose po_mode is checkout
// buys an eligible offer with a purchase order number its user types in,
// and no procurement system is involved. Not to be confused with the
// checkout of a punchout cart, which returns the cart to the procurement
// system (package punchout).
//
// The order and its agreement are made by invoicing.Agreements.Subscribe,
// as auto-approved subscriptions in punchout are; this package decides
// who may buy what this way. Its route, POST /api/v1/subscriptions, is
// registered with the others in internal/app.
package checkout

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/organization"
)

// Order is a purchase with a PO number entered at checkout.
type Order struct {
	OrganizationID  string `json:"organization_id"`
	OfferID         string `json:"offer_id"`
	PONumber        string `json:"po_number"`
	UsagePONumber   string `json:"usage_po_number"`
	SubscriberEmail string `json:"subscriber_email"`
	SubscriberName  string `json:"subscriber_name"`
}

// Eligible says whether an offer may be bought with a PO number entered
// at checkout (seeds 000 and 001): SaaS contracts, professional services,
// and server products (AMI, container) with contract or annual pricing.
// When it may not, the string says why.
func Eligible(p *catalog.Product, o *catalog.Offer) (bool, string) {
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

// Subscriptions makes the agreements of purchases at checkout.
type Subscriptions struct {
	DB         *db.DB
	Orgs       *organization.Store
	Catalog    *catalog.Store
	Agreements *invoicing.Agreements
	Mail       *mail.Outbox
	Now        func() time.Time
}

// Create subscribes an organization whose po_mode is checkout, with the
// PO number (up to 200 characters) its user entered; the PO rules of
// orders apply. An organization with another po_mode is Conflict, an
// offer not eligible or not in its private marketplace Forbidden, an
// expired offer Expired.
func (s *Subscriptions) Create(ctx context.Context, in Order) (*invoicing.Agreement, error) {
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
	if ok, why := Eligible(p, o); !ok {
		return nil, errs.E(errs.Forbidden, "%s", why)
	}
	if o.Expired(s.Now()) {
		return nil, errs.E(errs.Expired, "offer %s expired on %s; ask the seller for a new one", o.ID, o.ExpiresAt.UTC().Format(time.DateOnly))
	}
	var a *invoicing.Agreement
	err = s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if ok, err := s.Catalog.Allowed(ctx, tx, org.ID, p.ID); err != nil {
			return err
		} else if !ok {
			return errs.E(errs.Forbidden, "%s is not in your organization's private marketplace", p.Name)
		}
		var err error
		a, err = s.Agreements.Subscribe(ctx, tx, s.Mail, invoicing.Subscription{
			OrganizationID: org.ID, Source: invoicing.SourceCheckout, Product: p, Offer: o, PONumber: po, UsagePONumber: usagePO,
			Email: strings.TrimSpace(in.SubscriberEmail), Name: strings.TrimSpace(in.SubscriberName),
		}, s.Now())
		return err
	})
	return a, err
}

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
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/internal/web"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/organization"
)

// Subscription is an agreement made without an OrderRequest: a free or
// BYOL offer auto-approved from the start page, or a purchase with a PO
// number entered at checkout.
type Subscription struct {
	OrganizationID string
	ConnectionID   string
	Source         string // auto_approval or checkout
	Product        *catalog.Product
	Offer          *catalog.Offer
	PONumber       string
	UsagePONumber  string
	Email, Name    string
	Via            string
}

// subscribe records the order and creates the agreement inside tx, and
// queues the subscriber's email.
func subscribe(ctx context.Context, tx *sqlx.Tx, agreements *invoicing.Agreements, s Subscription, now time.Time) (*invoicing.Agreement, error) {
	ref := id.New("ord")
	orderID := id.New(map[string]string{"auto_approval": "auto", "checkout": "chk"}[s.Source])
	var conn *string
	if s.ConnectionID != "" {
		conn = &s.ConnectionID
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO orders (id, organization_id, connection_id, order_id, po_number, type, source,
		payload_id, revises, order_date, created_at) VALUES (?, ?, ?, ?, ?, 'new', ?, '', NULL, ?, ?)`),
		ref, s.OrganizationID, conn, orderID, s.PONumber, s.Source, now.UTC(), now.UTC()); err != nil {
		return nil, err
	}
	a, err := agreements.Create(ctx, tx, invoicing.NewAgreement{
		OrganizationID: s.OrganizationID, ConnectionID: s.ConnectionID, OrderRef: ref, OrderID: orderID, LineNumber: 1,
		Offer: s.Offer, Start: now, PONumber: s.PONumber, UsagePONumber: s.UsagePONumber, SubscriberEmail: s.Email, SubscriberName: s.Name,
	})
	if err != nil {
		return nil, err
	}
	if s.Email != "" {
		if _, err := mail.Enqueue(ctx, tx, s.OrganizationID, s.Email, AgreementMailSubject(s.Product),
			AgreementMailBody(s.Name, s.Product, s.Offer, a, s.Via), now); err != nil && !errs.Is(err, errs.Invalid) {
			return nil, err
		}
	}
	return a, nil
}

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

// CheckoutHTTP serves POST /api/v1/subscriptions: a purchase with a PO
// number entered at checkout, for organizations whose po_mode is checkout.
type CheckoutHTTP struct {
	DB         sessionDB
	Orgs       *organization.Store
	Catalog    *catalog.Store
	Agreements *invoicing.Agreements
	Now        func() time.Time
}

// Subscribe answers POST /api/v1/subscriptions {organization_id, offer_id,
// po_number, usage_po_number?, subscriber_email, subscriber_name?}.
func (h *CheckoutHTTP) Subscribe(c echo.Context) error {
	var in struct {
		OrganizationID  string `json:"organization_id"`
		OfferID         string `json:"offer_id"`
		PONumber        string `json:"po_number"`
		UsagePONumber   string `json:"usage_po_number"`
		SubscriberEmail string `json:"subscriber_email"`
		SubscriberName  string `json:"subscriber_name"`
	}
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	org, err := h.Orgs.Get(ctx, in.OrganizationID)
	if err != nil {
		return err
	}
	if org.POMode != organization.POModeCheckout {
		return errs.E(errs.Conflict, "organization %s takes PO numbers from %s, not at checkout; the two are never both enabled", org.ID,
			map[organization.POMode]string{organization.POModeProcurementSystem: "its procurement system", organization.POModeNone: "nowhere (po_mode none)"}[org.POMode])
	}
	po, err := invoicing.ValidatePONumber(in.PONumber)
	if err != nil {
		return err
	}
	usagePO := ""
	if strings.TrimSpace(in.UsagePONumber) != "" {
		if usagePO, err = invoicing.ValidatePONumber(in.UsagePONumber); err != nil {
			return err
		}
	}
	p, o, err := h.Catalog.GetOffer(ctx, nil, in.OfferID)
	if err != nil || !o.VisibleTo(org.ID) {
		return errs.E(errs.NotFound, "offer %s is not in the organization's catalog", in.OfferID)
	}
	if ok, why := CheckoutEligible(p, o); !ok {
		return errs.E(errs.Forbidden, "%s", why)
	}
	now := h.Now()
	if o.Expired(now) {
		return errs.E(errs.Expired, "offer %s expired on %s; ask the seller for a new one", o.ID, o.ExpiresAt.UTC().Format(time.DateOnly))
	}
	var a *invoicing.Agreement
	err = h.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if ok, err := h.Catalog.Allowed(ctx, tx, org.ID, p.ID); err != nil {
			return err
		} else if !ok {
			return errs.E(errs.Forbidden, "%s is not in the organization's private marketplace", p.Name)
		}
		a, err = subscribe(ctx, tx, h.Agreements, Subscription{
			OrganizationID: org.ID, Source: "checkout", Product: p, Offer: o, PONumber: po, UsagePONumber: usagePO,
			Email: strings.TrimSpace(in.SubscriberEmail), Name: strings.TrimSpace(in.SubscriberName),
		}, now)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

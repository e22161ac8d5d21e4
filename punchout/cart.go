package punchout

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/errs"
)

// Line is a cart line priced by the cart rules.
type Line struct {
	Item      CartItem
	Product   catalog.Product
	Offer     catalog.Offer
	UnitPrice decimal.Decimal
	// Stale says why the line can no longer be ordered (the offer expired
	// or was revised since it was added), or "".
	Stale string
}

// CartPrice is what an offer goes into a cart at:
//   - pay-as-you-go at the connection's blanket value (10,000.00 in the
//     offer's currency unless configured), since usage is unknown; the
//     blanket has no currency of its own, so it is rounded to the offer's
//     currency's minor unit (a blanket of 2500.50 is JPY 2501);
//   - a flexible payment schedule as one item at its total contract value;
//   - upfront and annual at their contract price;
//   - free and BYOL at zero.
func CartPrice(conn *Connection, o *catalog.Offer) decimal.Decimal {
	if o.PricingModel == catalog.PAYG {
		return conn.PAYGBlanket().Round(cxml.CurrencyDecimals(o.Currency))
	}
	v, _ := o.TotalContractValue()
	return v
}

// Cart is a session's priced cart.
type Cart struct {
	Lines    []Line
	Total    decimal.Decimal
	Currency string
}

// Empty reports whether the cart has no lines.
func (c *Cart) Empty() bool { return len(c.Lines) == 0 }

// LoadCart prices a session's cart against the current catalog.
func LoadCart(ctx context.Context, q sqlx.ExtContext, sessions *Sessions, cat *catalog.Store, conn *Connection, sess *Session, now time.Time) (*Cart, error) {
	items, err := sessions.Items(ctx, q, sess.ID)
	if err != nil {
		return nil, err
	}
	c := &Cart{Total: decimal.Zero}
	for _, it := range items {
		p, o, err := cat.GetOffer(ctx, q, it.OfferID)
		if err != nil {
			return nil, err
		}
		l := Line{Item: it, Product: *p, Offer: *o, UnitPrice: CartPrice(conn, o)}
		switch {
		case c.Currency != "" && o.Currency != c.Currency:
			l.Stale = "This offer is in " + o.Currency + " and your cart in " + c.Currency + "; a cart has one currency, so remove it."
		case o.Expired(now):
			l.Stale = "This offer has expired; remove it from your cart."
		case o.Revision != it.OfferRevision:
			l.Stale = "The seller revised this offer after you added it; remove it and add it again to see the new terms."
		}
		c.Lines = append(c.Lines, l)
		if c.Currency == "" {
			c.Currency = o.Currency
		}
		if o.Currency == c.Currency {
			c.Total = c.Total.Add(l.UnitPrice.Mul(it.Qty()))
		}
	}
	return c, nil
}

var errReadOnly = errs.E(errs.Forbidden, "this cart was opened for viewing only (inspect); it cannot be changed")

// RemoveFromCart takes an offer out of the session's cart, inside tx. A
// session opened for viewing only is Forbidden, one whose cart has been
// returned ErrCartReturned.
func RemoveFromCart(ctx context.Context, tx sqlx.ExtContext, sessions *Sessions, sess *Session, offerID string) error {
	if sess.ReadOnly() {
		return errReadOnly
	}
	if err := sessions.LockOpen(ctx, tx, sess.ID); err != nil {
		return err
	}
	return sessions.RemoveItem(ctx, tx, sess.ID, offerID)
}

// AddToCart checks that the session's organization may request the offer
// and puts it in the cart at quantity 1, inside tx. A session opened for
// viewing only is Forbidden, one whose cart has been returned
// ErrCartReturned.
func AddToCart(ctx context.Context, tx sqlx.ExtContext, sessions *Sessions, cat *catalog.Store, sess *Session, offerID string, now time.Time) (*catalog.Product, *catalog.Offer, error) {
	if sess.ReadOnly() {
		return nil, nil, errReadOnly
	}
	if err := sessions.LockOpen(ctx, tx, sess.ID); err != nil {
		return nil, nil, err
	}
	p, o, err := cat.GetOffer(ctx, tx, offerID)
	if err != nil || !o.VisibleTo(sess.OrganizationID) {
		return nil, nil, errs.E(errs.NotFound, "offer %s is not in your catalog", offerID)
	}
	if ok, err := cat.Allowed(ctx, tx, sess.OrganizationID, p.ID); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, errs.E(errs.Forbidden, "%s is not in your organization's private marketplace", p.Name)
	}
	if ok, why := catalog.Requestable(p, o); !ok {
		return nil, nil, errs.E(errs.Forbidden, "%s", why)
	}
	if o.Expired(now) {
		return nil, nil, errs.E(errs.Expired, "this offer expired on %s; ask the seller for a new one", o.ExpiresAt.Format(time.DateOnly))
	}
	items, err := sessions.Items(ctx, tx, sess.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, it := range items {
		if it.OfferID == o.ID {
			continue
		}
		_, other, err := cat.GetOffer(ctx, tx, it.OfferID)
		if err != nil {
			return nil, nil, err
		}
		if other.Currency != o.Currency {
			return nil, nil, errs.E(errs.Conflict, "your cart holds %s offers and this one is in %s; a cart has one currency, so return this cart first and punch out again for %s offers",
				other.Currency, o.Currency, o.Currency)
		}
	}
	err = sessions.PutItem(ctx, tx, CartItem{SessionID: sess.ID, OfferID: o.ID, OfferRevision: o.Revision, Quantity: "1"})
	return p, o, err
}

// Term describes an offer's term for a buyer and for the cart's
// extrinsics: "12 months", "36 months, 3 payments".
func Term(o *catalog.Offer) string {
	switch o.PricingModel {
	case catalog.PAYG:
		return "monthly, billed on usage"
	case catalog.Free, catalog.BYOL:
		if o.DurationMonths > 0 {
			return months(o.DurationMonths)
		}
		return "no fixed term"
	case catalog.FPS:
		return months(o.DurationMonths) + ", " + plural(len(o.Schedule), "payment")
	}
	return months(o.DurationMonths)
}

func months(n int) string { return plural(n, "month") }

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// UnitOfMeasure is the UN/CEFACT code of a cart line: a subscription is
// one unit (EA) whatever its term; the term travels as an extrinsic.
// Coupa rejects carts with units its instance has not enabled, and EA is
// enabled everywhere.
func UnitOfMeasure(*catalog.Offer) string { return "EA" }

// SystemName is how the procurement system is named on pages.
func (c *Connection) SystemName() string {
	switch c.System {
	case Coupa:
		return "Coupa"
	case Ariba:
		return "SAP Ariba"
	}
	return strings.ToUpper(string(c.System))
}

package punchout

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/internal/secret"
)

// Line is a cart line priced by the cart rules.
type Line struct {
	Item      CartItem
	Product   catalog.Product
	Offer     catalog.Offer
	UnitPrice money.Amount
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
func CartPrice(conn *Connection, o *catalog.Offer) money.Amount {
	if o.PricingModel == catalog.PAYG {
		// A catalog offer's currency is a valid one: In does not fail.
		blanket, _ := conn.PAYGBlanket().In(o.Currency)
		return blanket.Round()
	}
	v, _ := o.TotalContractValue()
	return v
}

// Cart is a session's priced cart. Its currency is its first line's; an
// empty cart has none, and its Total is absent.
type Cart struct {
	Lines    []Line
	Total    money.Amount
	Currency string
}

// Empty reports whether the cart has no lines.
func (c *Cart) Empty() bool { return len(c.Lines) == 0 }

// Carts keeps the carts of punchout sessions: what the pages show, add,
// remove and return. Every change runs in one transaction of its own,
// with the conditional session update (Sessions.LockOpen or
// MarkReturned) that orders it with a checkout of the same session, so
// callers never hold a transaction.
type Carts struct {
	DB       sessionDB
	Sessions *Sessions
	Catalog  *catalog.Store
	// Keys sign the quote reference of every returned line.
	Keys *secret.Keyring
	IDs  *cxml.PayloadIDs
	Now  func() time.Time
}

// sessionDB runs write transactions; *db.DB is one.
type sessionDB interface {
	Transact(ctx context.Context, fn func(tx *sqlx.Tx) error) error
}

// Get prices a session's cart against the current catalog, as the cart
// page shows it. It reads outside any transaction: Return prices the cart
// again inside its own, after the session's row is held.
func (s *Carts) Get(ctx context.Context, conn *Connection, sess *Session) (*Cart, error) {
	return s.load(ctx, nil, conn, sess)
}

// load prices a session's cart against the current catalog, inside q, or
// on the read pools when q is nil.
func (s *Carts) load(ctx context.Context, q sqlx.ExtContext, conn *Connection, sess *Session) (*Cart, error) {
	items, err := s.Sessions.Items(ctx, q, sess.ID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	c := &Cart{}
	for _, it := range items {
		p, o, err := s.Catalog.GetOffer(ctx, q, it.OfferID)
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
			if c.Total, err = money.Zero(c.Currency); err != nil {
				return nil, err
			}
		}
		if o.Currency == c.Currency {
			if c.Total, err = c.Total.Add(l.UnitPrice.Mul(it.Qty())); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

var errReadOnly = errs.E(errs.Forbidden, "this cart was opened for viewing only (inspect); it cannot be changed")

// Remove takes an offer out of the session's cart. A session opened for
// viewing only is Forbidden, one whose cart has been returned
// ErrCartReturned.
func (s *Carts) Remove(ctx context.Context, sess *Session, offerID string) error {
	if sess.ReadOnly() {
		return errReadOnly
	}
	return s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if err := s.Sessions.LockOpen(ctx, tx, sess.ID); err != nil {
			return err
		}
		return s.Sessions.RemoveItem(ctx, tx, sess.ID, offerID)
	})
}

// Add checks that the session's organization may request the offer and
// puts it in the cart at quantity 1. A session opened for viewing only is
// Forbidden, one whose cart has been returned ErrCartReturned; an offer
// the organization cannot see is NotFound, one it may not request
// Forbidden, an expired one Expired, and one in another currency than
// the cart's Conflict.
func (s *Carts) Add(ctx context.Context, sess *Session, offerID string) error {
	if sess.ReadOnly() {
		return errReadOnly
	}
	return s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		return s.add(ctx, tx, sess, offerID)
	})
}

func (s *Carts) add(ctx context.Context, tx *sqlx.Tx, sess *Session, offerID string) error {
	if err := s.Sessions.LockOpen(ctx, tx, sess.ID); err != nil {
		return err
	}
	cat := s.Catalog
	p, o, err := cat.GetOffer(ctx, tx, offerID)
	if err != nil || !o.VisibleTo(sess.OrganizationID) {
		return errs.E(errs.NotFound, "offer %s is not in your catalog", offerID)
	}
	if ok, err := cat.Allowed(ctx, tx, sess.OrganizationID, p.ID); err != nil {
		return err
	} else if !ok {
		return errs.E(errs.Forbidden, "%s is not in your organization's private marketplace", p.Name)
	}
	if ok, why := catalog.Requestable(p, o); !ok {
		return errs.E(errs.Forbidden, "%s", why)
	}
	if o.Expired(s.Now()) {
		return errs.E(errs.Expired, "this offer expired on %s; ask the seller for a new one", o.ExpiresAt.Format(time.DateOnly))
	}
	items, err := s.Sessions.Items(ctx, tx, sess.ID)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.OfferID == o.ID {
			continue
		}
		_, other, err := cat.GetOffer(ctx, tx, it.OfferID)
		if err != nil {
			return err
		}
		if other.Currency != o.Currency {
			return errs.E(errs.Conflict, "your cart holds %s offers and this one is in %s; a cart has one currency, so return this cart first and punch out again for %s offers",
				other.Currency, o.Currency, o.Currency)
		}
	}
	return s.Sessions.PutItem(ctx, tx, CartItem{SessionID: sess.ID, OfferID: o.ID, OfferRevision: o.Revision, Quantity: "1"})
}

// Return marks the session returned, makes the PunchOutOrderMessage of
// its cart and logs it, in one transaction, and gives the marshalled
// message and the cart it carries. A line whose offer expired or was
// revised refuses the whole cart (Conflict), and the session stays open.
// Of two checkouts of one session, one returns the cart and the other
// gets ErrCartReturned.
func (s *Carts) Return(ctx context.Context, sess *Session, conn *Connection, requestID string) ([]byte, *Cart, error) {
	var out []byte
	var cart *Cart
	err := s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		// First: the conditional update decides the race, and on
		// PostgreSQL its row lock makes a concurrent change to the cart
		// wait, or this wait for it, so the cart read next is final.
		if err := s.Sessions.MarkReturned(ctx, tx, sess); err != nil {
			return err
		}
		var err error
		cart, err = s.load(ctx, tx, conn, sess)
		if err != nil {
			return err
		}
		for _, l := range cart.Lines {
			if l.Stale != "" {
				return errs.E(errs.Conflict, "%s: %s", l.Product.Name, l.Stale)
			}
		}
		doc := s.orderMessage(conn, sess, cart)
		if out, err = cxml.Marshal(doc); err != nil {
			return err
		}
		rec := exchange.NewOutRecord(s.Now(), requestID, doc.Kind(), doc.PayloadID, out, conn.ID, conn.OrganizationID)
		return exchange.InsertRecord(ctx, tx, rec)
	})
	return out, cart, err
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

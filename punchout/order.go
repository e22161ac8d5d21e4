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
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/internal/secret"
	"github.com/cxmlgate/punchout/invoicing"
)

// Orders takes OrderRequests: each line must be a quote this gateway
// issued to the connection's organization, at the offer's price, for an
// offer neither expired nor revised since; then one agreement per line is
// created, carrying the orderID as its PO number, and the subscribing user
// is told by email.
type Orders struct {
	DB         *db.DB
	Sessions   *Sessions
	Catalog    *catalog.Store
	Agreements *invoicing.Agreements
	Mail       *mail.Outbox
	Keys       *secret.Keyring
	// Jobs and IDs make and queue the order confirmations of the
	// connections that ask for them.
	Jobs invoicing.Jobs
	IDs  *cxml.PayloadIDs
}

// acceptedLine is a validated order line.
type acceptedLine struct {
	number  int
	product *catalog.Product
	offer   *catalog.Offer
	session *lineSession
}

// Handle answers an OrderRequest. It checks the order's header and
// validates every line with reads only; then, in the request's
// transaction, it records the order and creates, changes or cancels its
// agreements.
func (o *Orders) Handle(ctx context.Context, r *Request, req *cxml.OrderRequest) error {
	orderID, err := validateOrderHeader(req)
	if err != nil {
		return err
	}
	switch req.Type {
	case cxml.OrderNew:
		return o.handleNew(ctx, r, req, orderID)
	case cxml.OrderUpdate, cxml.OrderDelete:
		return o.handleRevision(ctx, r, req, orderID)
	}
	return errs.E(errs.Invalid, `order type %q is not one of "new", "update" or "delete"`, req.Type)
}

// order is the record of an OrderRequest document; revises names the
// order document an update or delete revises.
func (o *Orders) order(r *Request, req *cxml.OrderRequest, orderID string, revises *string) *invoicing.Order {
	return &invoicing.Order{
		OrganizationID: r.Conn.OrganizationID, ConnectionID: &r.Conn.ID, OrderID: orderID, PONumber: orderID,
		Type: req.Type, Source: invoicing.SourceCXML, PayloadID: r.Doc.PayloadID, Revises: revises,
		OrderDate: req.OrderDate.Time, CreatedAt: r.Now,
	}
}

// recheck verifies, inside the write transaction, that no offer was
// revised or expired since the lines were validated: one query.
func (o *Orders) recheck(ctx context.Context, tx *sqlx.Tx, r *Request, lines []acceptedLine) error {
	if len(lines) == 0 {
		return nil
	}
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.offer.ID
	}
	current, err := o.Catalog.OfferVersions(ctx, tx, ids)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if v, ok := current[l.offer.ID]; ok && (v.Revision != l.offer.Revision || (v.ExpiresAt != nil && !r.Now.Before(*v.ExpiresAt))) {
			return errs.E(errs.Expired, "line %d: the seller changed offer %s while this order was processed; resend the revised offer for approval", l.number, l.offer.ID)
		}
	}
	return nil
}

func validateOrderHeader(req *cxml.OrderRequest) (string, error) {
	orderID, err := invoicing.ValidatePONumber(req.OrderID)
	if err != nil {
		return "", errs.E(errs.Invalid, "the orderID (the purchase order number) is not usable: %s", errs.MessageOf(err))
	}
	if !req.OrderDate.Valid {
		return "", errs.E(errs.Invalid, "order %s has no readable orderDate (%q); send an ISO 8601 date and time", orderID, req.OrderDate.Raw)
	}
	if req.BillTo == nil {
		return "", errs.E(errs.Invalid, "order %s has no BillTo; the cXML OrderRequestHeader requires one", orderID)
	}
	if req.Type != cxml.OrderDelete && len(req.Items) == 0 {
		return "", errs.E(errs.Invalid, "order %s has no ItemOut lines", orderID)
	}
	return orderID, nil
}

// handleNew creates one agreement per line of a new order. A resend of a
// known order is answered as before, even if its offers have since
// expired: the orderID is looked up when the lines are refused, and in
// the transaction the orders' unique index finds a resend that passes.
func (o *Orders) handleNew(ctx context.Context, r *Request, req *cxml.OrderRequest, orderID string) error {
	received := Answer{Status: cxml.NewStatus(cxml.StatusOK, fmt.Sprintf("order %s was received before; its agreements exist and nothing new was created", orderID))}
	lines, err := o.validateLines(ctx, r, req, orderID)
	if err != nil {
		seen, serr := invoicing.OrderSeen(ctx, o.DB.R, r.Conn.ID, orderID)
		if serr != nil {
			return serr
		}
		if !seen {
			return err
		}
		return r.Commit(ctx, func(*sqlx.Tx) (Answer, error) { return received, nil })
	}
	return r.Commit(ctx, func(tx *sqlx.Tx) (Answer, error) {
		order := o.order(r, req, orderID, nil)
		inserted, err := invoicing.RecordOrder(ctx, tx, order)
		if err != nil {
			return Answer{}, err
		}
		if !inserted {
			return received, nil
		}
		if err := o.recheck(ctx, tx, r, lines); err != nil {
			return Answer{}, err
		}
		made, err := o.createAgreements(ctx, tx, r, req, orderID, order.ID, lines)
		if err != nil {
			return Answer{}, err
		}
		if err := o.confirm(ctx, tx, r, req, order, "accept", made); err != nil {
			return Answer{}, err
		}
		n := len(made)
		return Answer{Status: cxml.NewStatus(cxml.StatusOK, fmt.Sprintf("order %s accepted: %d agreement%s created", orderID, n, pluralS(n)))}, nil
	})
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// handleRevision applies an update (the order's new set of lines) or a
// delete (cancel everything) to the agreements of an earlier order. Its
// DocumentReference must name the latest document of that order, which is
// read inside the transaction, so two revisions apply one after the other.
func (o *Orders) handleRevision(ctx context.Context, r *Request, req *cxml.OrderRequest, orderID string) error {
	var lines []acceptedLine
	if req.Type == cxml.OrderUpdate {
		var err error
		if lines, err = o.validateLines(ctx, r, req, orderID); err != nil {
			return err
		}
	}
	if req.DocumentReference == "" {
		return errs.E(errs.Invalid, "an order of type %q needs a DocumentReference naming the payloadID of the order it revises", req.Type)
	}
	return r.Commit(ctx, func(tx *sqlx.Tx) (Answer, error) {
		history, err := invoicing.OrderHistory(ctx, tx, r.Conn.ID, orderID)
		if err != nil {
			return Answer{}, err
		}
		if len(history) == 0 {
			return Answer{}, errs.E(errs.Expired, "order %s is not known to this gateway, so it cannot be %sd; send it as a new order", orderID, req.Type)
		}
		latest := history[len(history)-1]
		if latest.Type == cxml.OrderDelete {
			return Answer{}, errs.E(errs.Expired, "order %s was deleted; its agreements are cancelled and cannot change", orderID)
		}
		if req.DocumentReference != latest.PayloadID {
			// A resend of a revision already applied refers to the document
			// before it: answer as before, change nothing.
			for _, h := range history {
				if h.Type == req.Type && h.Revises != nil && refPayload(history, *h.Revises) == req.DocumentReference {
					return Answer{Status: cxml.NewStatus(cxml.StatusOK, fmt.Sprintf("this %s of order %s was received before; nothing changed", req.Type, orderID))}, nil
				}
			}
			return Answer{}, errs.E(errs.Expired, "the DocumentReference %q is not the latest document of order %s (that is %q); revise the latest version of the order",
				truncate(req.DocumentReference, 100), orderID, latest.PayloadID)
		}
		if err := o.recheck(ctx, tx, r, lines); err != nil {
			return Answer{}, err
		}
		order := o.order(r, req, orderID, &latest.ID)
		if _, err := invoicing.RecordOrder(ctx, tx, order); err != nil {
			return Answer{}, err
		}
		current, err := o.activeAgreements(ctx, tx, r.Conn.OrganizationID, history)
		if err != nil {
			return Answer{}, err
		}
		if req.Type == cxml.OrderDelete {
			var cancelled []*invoicing.Agreement
			for _, a := range current {
				if err := o.Agreements.Cancel(ctx, tx, a.ID, r.Now); err != nil {
					return Answer{}, err
				}
				cancelled = append(cancelled, &a)
			}
			if err := o.confirm(ctx, tx, r, req, order, "reject", cancelled); err != nil {
				return Answer{}, err
			}
			return Answer{Status: cxml.NewStatus(cxml.StatusOK, fmt.Sprintf("order %s deleted: %d agreement%s cancelled", orderID, len(current), pluralS(len(current))))}, nil
		}
		// Update: lines are matched by line number; an unchanged line keeps
		// its agreement, a changed one is replaced, a missing one cancelled.
		byLine := map[int]invoicing.Agreement{}
		for _, a := range current {
			byLine[a.LineNumber] = a
		}
		var added []acceptedLine
		kept, cancelled := 0, 0
		seen := map[int]bool{}
		for _, l := range lines {
			seen[l.number] = true
			if a, ok := byLine[l.number]; ok && a.OfferID == l.offer.ID && a.OfferRevision == l.offer.Revision {
				kept++
				continue
			} else if ok {
				if err := o.Agreements.Cancel(ctx, tx, a.ID, r.Now); err != nil {
					return Answer{}, err
				}
				cancelled++
			}
			added = append(added, l)
		}
		for n, a := range byLine {
			if !seen[n] {
				if err := o.Agreements.Cancel(ctx, tx, a.ID, r.Now); err != nil {
					return Answer{}, err
				}
				cancelled++
			}
		}
		made, err := o.createAgreements(ctx, tx, r, req, orderID, order.ID, added)
		if err != nil {
			return Answer{}, err
		}
		created := len(made)
		return Answer{Status: cxml.NewStatus(cxml.StatusOK, fmt.Sprintf("order %s updated: %d agreement%s kept, %d created, %d cancelled",
			orderID, kept, pluralS(kept), created, cancelled))}, nil
	})
}

func refPayload(history []invoicing.Order, orderRef string) string {
	for _, h := range history {
		if h.ID == orderRef {
			return h.PayloadID
		}
	}
	return ""
}

// activeAgreements returns the active agreements of all documents of an
// order.
func (o *Orders) activeAgreements(ctx context.Context, tx sqlx.ExtContext, orgID string, history []invoicing.Order) ([]invoicing.Agreement, error) {
	var out []invoicing.Agreement
	for _, h := range history {
		list, err := o.Agreements.List(ctx, tx, invoicing.Filter{OrganizationID: orgID, OrderRef: h.ID, Status: invoicing.AgreementActive})
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

// validateLines checks every line; the first refusal refuses the order.
func (o *Orders) validateLines(ctx context.Context, r *Request, req *cxml.OrderRequest, orderID string) ([]acceptedLine, error) {
	q := o.DB.R
	// Look everything up at once: the lines of one order share a session
	// and name a handful of offers. Each quote is decoded (and its
	// signature checked) once.
	lookup := &lineLookup{sessions: map[string]*lineSession{}}
	quotes := make([]quoteResult, len(req.Items))
	var offerIDs []string
	for i, it := range req.Items {
		quote, err := DecodeQuote(o.Keys, it.ItemID.SupplierPartAuxiliaryID)
		quotes[i] = quoteResult{quote, err}
		if err != nil {
			continue
		}
		offerIDs = append(offerIDs, quote.OfferID)
		if _, ok := lookup.sessions[quote.SessionID]; !ok {
			lookup.sessions[quote.SessionID] = nil
			if sess, err := o.Sessions.Get(ctx, q, quote.SessionID); err == nil {
				lookup.sessions[quote.SessionID] = &lineSession{Session: sess, user: sess.User()}
			}
		}
	}
	var err error
	if lookup.offers, lookup.products, err = o.Catalog.GetOffers(ctx, q, offerIDs); err != nil {
		return nil, err
	}
	out := make([]acceptedLine, 0, len(req.Items))
	seen := make(map[int]bool, len(req.Items))
	for i, it := range req.Items {
		n := it.LineNumber
		if n == 0 {
			n = i + 1
		}
		if seen[n] {
			return nil, errs.E(errs.Invalid, "order %s: line number %d appears twice", orderID, n)
		}
		seen[n] = true
		l, err := o.validateLine(lookup, r, it, quotes[i], n)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// quoteResult is a line's decoded quote reference, or why it is not one.
type quoteResult struct {
	QuoteRef
	err error
}

// lineSession is a session the lines of an order were quoted in, with its
// user read once.
type lineSession struct {
	*Session
	user User
}

// lineLookup holds what the lines of one order refer to.
type lineLookup struct {
	sessions map[string]*lineSession
	offers   map[string]*catalog.Offer
	products map[string]*catalog.Product
}

func (o *Orders) validateLine(lookup *lineLookup, r *Request, it cxml.ItemOut, qr quoteResult, n int) (acceptedLine, error) {
	bad := func(code errs.Code, format string, args ...any) (acceptedLine, error) {
		return acceptedLine{}, errs.E(code, "line %d: %s", n, fmt.Sprintf(format, args...))
	}
	if !it.Quantity.Equal(decimal.NewFromInt(1)) {
		return bad(errs.Invalid, "quantity %s: a subscription is ordered with quantity 1", it.Quantity.String())
	}
	if qr.err != nil {
		return bad(errs.Invalid, "%s", errs.MessageOf(qr.err))
	}
	quote := qr.QuoteRef
	if quote.OfferID != strings.TrimSpace(it.ItemID.SupplierPartID) {
		return bad(errs.Invalid, "SupplierPartID %q does not match the quote reference, which is for offer %s; send the line as it came from the cart",
			truncate(it.ItemID.SupplierPartID, 100), quote.OfferID)
	}
	sess := lookup.sessions[quote.SessionID]
	if sess == nil || sess.OrganizationID != r.Conn.OrganizationID {
		return bad(errs.Forbidden, "the quote for offer %s was not issued to your organization", quote.OfferID)
	}
	offer := lookup.offers[quote.OfferID]
	var p *catalog.Product
	if offer != nil {
		p = lookup.products[offer.ProductID]
	}
	if offer == nil || p == nil || !offer.VisibleTo(r.Conn.OrganizationID) {
		return bad(errs.Expired, "offer %s is no longer in the catalog; return to the catalog and request approval for a current offer", quote.OfferID)
	}
	if ok, why := catalog.Requestable(p, offer); !ok {
		return bad(errs.Forbidden, "%s", why)
	}
	switch {
	case offer.Expired(r.Now):
		return bad(errs.Expired, "the offer %s for %s expired on %s while approval was pending; ask the seller for a new offer, then resend the revised offer for approval",
			offer.ID, p.Name, offer.ExpiresAt.UTC().Format(time.DateOnly))
	case offer.Revision != quote.Revision:
		return bad(errs.Expired, "the seller revised offer %s for %s (revision %d, approved at revision %d) while approval was pending; resend the revised offer for approval from the catalog",
			offer.ID, p.Name, offer.Revision, quote.Revision)
	}
	want := CartPrice(r.Conn, offer)
	got := it.ItemDetail
	if got == nil || got.UnitPrice.Empty {
		return bad(errs.Invalid, "no unit price; the quoted price is %s", want.Text())
	}
	if price, err := money.FromCXML(got.UnitPrice); err != nil || !price.Equal(want) {
		return bad(errs.Invalid, "unit price %s %s does not match the quoted %s; order the line at the price the cart returned",
			got.UnitPrice.String(), got.UnitPrice.Currency, want.Text())
	}
	return acceptedLine{number: n, product: p, offer: offer, session: sess}, nil
}

// claimQuotes records, inside tx, that each line's cart line is ordered
// by this order: a cart line is ordered once. One already ordered by
// another order (under another PO number, or the same number sent as a
// new order) is refused with that order's number; an update of the same
// order may name its own lines again. Lines of one cart split by the
// procurement system across several orders are each ordered once.
func (o *Orders) claimQuotes(ctx context.Context, tx *sqlx.Tx, r *Request, orderID string, lines []acceptedLine) error {
	seen := map[string]int{}
	for _, l := range lines {
		key := l.session.ID + "/" + l.offer.ID
		if first, dup := seen[key]; dup {
			return errs.E(errs.Conflict, "line %d orders the cart line of line %d again; each cart line is ordered once", l.number, first)
		}
		seen[key] = l.number
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO ordered_quotes (organization_id, quote_key, order_id, line_number, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (organization_id, quote_key) DO NOTHING`), r.Conn.OrganizationID, key, orderID, l.number, r.Now.UTC()); err != nil {
			return err
		}
		var owner string
		if err := tx.GetContext(ctx, &owner, tx.Rebind(`SELECT order_id FROM ordered_quotes WHERE organization_id = ? AND quote_key = ?`),
			r.Conn.OrganizationID, key); err != nil {
			return err
		}
		if owner != orderID {
			return errs.E(errs.Conflict, "line %d: this cart line (%s) was already ordered on PO %s; start a new punchout to order it again", l.number, l.offer.ID, owner)
		}
	}
	return nil
}

// createAgreements creates one agreement per line inside tx and queues
// one email per subscribing user, naming all of that user's new
// agreements. It returns how many agreements it created.
func (o *Orders) createAgreements(ctx context.Context, tx *sqlx.Tx, r *Request, req *cxml.OrderRequest, orderID, ref string, lines []acceptedLine) ([]*invoicing.Agreement, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	usagePO := strings.TrimSpace(cxml.ExtrinsicValue(req.Extrinsics, "UsagePONumber"))
	contactEmail, contactName := "", ""
	for _, c := range req.Contacts {
		if c.Email != "" {
			contactEmail, contactName = c.Email, c.Name
			break
		}
	}
	if err := o.claimQuotes(ctx, tx, r, orderID, lines); err != nil {
		return nil, err
	}
	ins := make([]invoicing.NewAgreement, 0, len(lines))
	for _, l := range lines {
		u := l.session.user
		email, name := u.Email, u.DisplayName()
		if email == "" {
			email, name = contactEmail, contactName
		}
		ins = append(ins, invoicing.NewAgreement{
			OrganizationID: r.Conn.OrganizationID, ConnectionID: r.Conn.ID, OrderRef: ref, OrderID: orderID,
			LineNumber: l.number, Offer: l.offer, Product: l.product, Start: r.Now, PONumber: orderID, UsagePONumber: usagePO,
			SubscriberEmail: email, SubscriberName: name,
		})
	}
	as, err := o.Agreements.CreateMany(ctx, tx, ins)
	if err != nil {
		return nil, err
	}
	type subscriber struct{ email, name string }
	var who []subscriber
	mails := map[subscriber][]int{}
	for i, a := range as {
		if a.SubscriberEmail == "" {
			continue
		}
		k := subscriber{a.SubscriberEmail, a.SubscriberName}
		if _, ok := mails[k]; !ok {
			who = append(who, k)
		}
		mails[k] = append(mails[k], i)
	}
	for _, k := range who {
		m := invoicing.AgreementMail{Name: k.name, Via: r.Conn.SystemName()}
		for _, i := range mails[k] {
			m.Agreements = append(m.Agreements, invoicing.NewAgreementLine(lines[i].product, lines[i].offer, as[i]))
		}
		subject, body, err := m.Render()
		if err != nil {
			return nil, err
		}
		// An address that is not one gets no mail; the agreements stand.
		if _, err := o.Mail.Enqueue(ctx, tx, r.Conn.OrganizationID, k.email, subject, body, r.Now); err != nil && !errs.Is(err, errs.Invalid) {
			return nil, err
		}
	}
	return as, nil
}

// confirm queues the order confirmation of a connection that asks for
// them, in the order's transaction: accept for the agreements a new order
// created, reject for those a deleted order cancelled.
func (o *Orders) confirm(ctx context.Context, tx *sqlx.Tx, r *Request, req *cxml.OrderRequest, order *invoicing.Order, typ string, as []*invoicing.Agreement) error {
	if !r.Conn.OrderConfirmation.Enabled || len(as) == 0 {
		return nil
	}
	c := invoicing.Confirmation{
		OrganizationID: r.Conn.OrganizationID, ConnectionID: r.Conn.ID, OrderRef: order.ID, OrderID: order.OrderID,
		OrderPayloadID: r.Doc.PayloadID, OrderDate: req.OrderDate.Time, Type: typ,
	}
	for _, a := range as {
		c.Lines = append(c.Lines, invoicing.ConfirmedLine{LineNumber: a.LineNumber, AgreementID: a.ID})
	}
	return invoicing.QueueConfirmation(ctx, tx, o.Jobs, o.IDs, r.Conn.documentParty(), c, r.Now)
}

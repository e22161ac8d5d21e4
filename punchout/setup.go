package punchout

import (
	"context"
	"net/url"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/secret"
	"github.com/cxmlgate/punchout/internal/web"
)

// Setup answers PunchOutSetupRequest: it opens a session bound to the
// connection, the BuyerCookie, the BrowserFormPost URL and the user, and
// answers with the StartPage URL holding the session's token.
type Setup struct {
	Sessions *Sessions
	Catalog  *catalog.Store
	Keys     *secret.Keyring
	BaseURL  string
}

// Handle answers a PunchOutSetupRequest. It checks the request and, for
// an edit or inspect, the cart lines it brings back, then stores the
// session and its cart in the request's transaction.
func (s *Setup) Handle(ctx context.Context, r *Request, req *cxml.PunchOutSetupRequest) error {
	op := strings.ToLower(req.Operation)
	switch op {
	case OpCreate, OpEdit, OpInspect:
	case "source":
		return errs.E(errs.Unsupported, `operation "source" (sourcing RFQs) is not implemented by this gateway; use operation "create"`)
	case "":
		return errs.E(errs.Invalid, `the PunchOutSetupRequest has no operation; use "create", "edit" or "inspect"`)
	default:
		return errs.E(errs.Invalid, `operation %q is not a punchout operation; use "create", "edit" or "inspect"`, req.Operation)
	}
	if req.BuyerCookie == "" {
		return errs.E(errs.Invalid, "the PunchOutSetupRequest has no BuyerCookie; it is needed to return the cart to the right requisition")
	}
	formPost := strings.TrimSpace(req.BrowserFormPostURL)
	if formPost == "" {
		return errs.E(errs.Invalid, "the PunchOutSetupRequest has no BrowserFormPost URL, so the cart could not be returned; configure the punchout site to send one")
	}
	// The same check as at checkout: a forged setup request cannot open a
	// session whose cart would go anywhere else.
	if err := r.Conn.CheckFormPost(formPost); err != nil {
		return err
	}
	if len(req.BuyerCookie) > 2000 {
		return errs.E(errs.Invalid, "the BuyerCookie is longer than 2000 characters")
	}
	var cart []CartItem
	if op == OpEdit || op == OpInspect {
		var err error
		if cart, err = s.cartOf(ctx, r, req.ItemOut); err != nil {
			return err
		}
	}
	page := ""
	if op == OpCreate && req.SelectedItem != nil {
		var err error
		if page, err = s.selectedPage(ctx, r, *req.SelectedItem); err != nil {
			return err
		}
	}

	return r.Commit(ctx, func(tx *sqlx.Tx) (Answer, error) {
		sess := &Session{
			ConnectionID: r.Conn.ID, OrganizationID: r.Conn.OrganizationID, Operation: op,
			BuyerCookie: req.BuyerCookie, BrowserFormPostURL: formPost, SetupPayloadID: r.Doc.PayloadID,
		}
		token, err := s.Sessions.Create(ctx, tx, sess, userOf(req), r.Now)
		if err != nil {
			return Answer{}, err
		}
		for _, item := range cart {
			item.SessionID = sess.ID
			if err := s.Sessions.PutItem(ctx, tx, item); err != nil {
				return Answer{}, err
			}
		}
		return Answer{Body: &cxml.PunchOutSetupResponse{StartPageURL: StartPageURL(s.BaseURL, token) + page}, Status: cxml.NewStatus(cxml.StatusOK, "")}, nil
	})
}

// selectedPage is where a Level-2 punchout starts, as the part of the
// StartPage URL after the session's: SAP Ariba's catalog items point into
// the punchout with a SelectedItem, and the user expects the item's page,
// not the whole catalog. Its SupplierPartID names an offer (as cart lines
// do; a quote reference in SupplierPartAuxiliaryID names one too) or a
// product; either opens the product's page. An item the organization's
// catalog does not hold (unknown, another organization's private offer,
// outside its private marketplace) opens the catalog with a note naming
// it; a SelectedItem without a SupplierPartID, the catalog alone.
func (s *Setup) selectedPage(ctx context.Context, r *Request, item cxml.ItemID) (string, error) {
	part := strings.TrimSpace(item.SupplierPartID)
	if part == "" {
		return "", nil
	}
	org := r.Conn.OrganizationID
	productID := part
	offerID := part
	if q, err := DecodeQuote(s.Keys, item.SupplierPartAuxiliaryID); err == nil {
		offerID = q.OfferID
	}
	p, o, err := s.Catalog.GetOffer(ctx, nil, offerID)
	switch {
	case err == nil && o.VisibleTo(org):
		productID = p.ID
	case err != nil && !errs.Is(err, errs.NotFound):
		return "", err
	}
	l, err := s.Catalog.Product(ctx, org, productID)
	switch {
	case err == nil:
		return "/products/" + url.PathEscape(l.Product.ID), nil
	case errs.Is(err, errs.NotFound):
		return "?" + url.Values{selectedParam: {web.Cut(part, 100)}}.Encode(), nil
	}
	return "", err
}

// userOf reads who is punching out: Coupa's FirstName, LastName,
// UniqueName, UserEmail, User and BusinessUnit extrinsics, Ariba's
// UniqueName and UserEmail, and the endUser Contact.
func userOf(req *cxml.PunchOutSetupRequest) User {
	x := func(name string) string { return cxml.ExtrinsicValue(req.Extrinsics, name) }
	u := User{
		Email: x("UserEmail"), UniqueName: x("UniqueName"), FirstName: x("FirstName"), LastName: x("LastName"),
		Login: x("User"), BusinessUnit: x("BusinessUnit"), Extrinsics: map[string]string{},
	}
	for _, e := range req.Extrinsics {
		u.Extrinsics[e.Name] = e.Value
	}
	if c, ok := req.EndUser(); ok {
		u.ContactName = c.Name
		if u.Email == "" {
			u.Email = c.Email
		}
	}
	return u
}

// cartOf reads the lines of an edit or inspect request back into cart
// items. A line is recognised by the quote reference the gateway put in its
// SupplierPartAuxiliaryID or, failing that, by its SupplierPartID being an
// offer ID. A line that is neither is refused rather than dropped: a cart
// must not come back smaller than it went out.
func (s *Setup) cartOf(ctx context.Context, r *Request, lines []cxml.ItemOut) ([]CartItem, error) {
	currency := ""
	items := make([]CartItem, 0, len(lines))
	for i, line := range lines {
		offerID, revision := line.ItemID.SupplierPartID, 0
		if q, err := DecodeQuote(s.Keys, line.ItemID.SupplierPartAuxiliaryID); err == nil {
			offerID, revision = q.OfferID, q.Revision
		}
		_, o, err := s.Catalog.GetOffer(ctx, nil, offerID)
		if err != nil || !o.VisibleTo(r.Conn.OrganizationID) {
			return nil, errs.E(errs.Invalid, "line %d of the cart (SupplierPartID %q) is not an offer of this catalog, so the cart cannot be reopened; remove the line in %s and punch out again",
				lineNo(line, i), truncate(line.ItemID.SupplierPartID, 100), r.Conn.SystemName())
		}
		if revision == 0 {
			revision = o.Revision
		}
		if currency == "" {
			currency = o.Currency
		} else if o.Currency != currency {
			return nil, errs.E(errs.Invalid, "line %d of the cart is in %s and the lines before it in %s; a cart has one currency, so split it in %s and reopen each part",
				lineNo(line, i), o.Currency, currency, r.Conn.SystemName())
		}
		items = append(items, CartItem{OfferID: o.ID, OfferRevision: revision, Quantity: "1", Source: line.ItemOutXML()})
	}
	return items, nil
}

func lineNo(l cxml.ItemOut, i int) int {
	if l.LineNumber > 0 {
		return l.LineNumber
	}
	return i + 1
}

// mergeExtrinsics appends the buyer's own extrinsics of an echoed line
// to ours, except those we set ourselves.
func mergeExtrinsics(ours, theirs []cxml.Extrinsic) []cxml.Extrinsic {
	have := map[string]bool{}
	for _, x := range ours {
		have[strings.ToLower(x.Name)] = true
	}
	for _, x := range theirs {
		if !have[strings.ToLower(x.Name)] {
			ours = append(ours, x)
		}
	}
	return ours
}

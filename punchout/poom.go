package punchout

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/money"
)

// orderMessage builds the PunchOutOrderMessage of a cart: one ItemIn per
// offer, priced by the cart rules, each carrying the signed quote
// reference the order step verifies. An empty cart gives an empty
// message, which buyers read as "the user cancelled".
func (s *Carts) orderMessage(conn *Connection, sess *Session, cart *Cart) *cxml.Document {
	now := s.Now()
	msg := &cxml.PunchOutOrderMessage{
		BuyerCookie:      sess.BuyerCookie,
		OperationAllowed: operationAllowed(sess.Operation),
	}
	total := cart.Total
	if !total.IsSet() {
		total = money.Must(decimal.Zero, "USD") // An empty cart: nothing, in some currency.
	}
	msg.Total = total.CXML()
	for i, l := range cart.Lines {
		it := cxml.ItemIn{
			Quantity:   l.Item.Qty(),
			LineNumber: i + 1,
			ItemID: cxml.ItemID{
				SupplierPartID:          l.Offer.ID,
				SupplierPartAuxiliaryID: QuoteRef{OfferID: l.Offer.ID, Revision: l.Item.OfferRevision, SessionID: sess.ID}.Encode(s.Keys),
			},
			ItemDetail: cxml.ItemDetail{
				UnitPrice:          l.UnitPrice.CXML(),
				Descriptions:       []cxml.Description{{Lang: "en-US", Text: description(conn, &l), ShortName: l.Product.Name}},
				UnitOfMeasure:      UnitOfMeasure(&l.Offer),
				Classifications:    []cxml.Classification{{Domain: "UNSPSC", Value: l.Product.UNSPSC}},
				ManufacturerPartID: l.Product.ID,
				ManufacturerName:   l.Product.Vendor,
				Extrinsics:         lineExtrinsics(&l),
			},
		}
		// A line restored from the buyer's ItemOut (edit) carries back
		// what the buyer added to it.
		if l.Item.Source != "" {
			if out, err := cxml.ParseItemOutXML(l.Item.Source); err == nil {
				echo := out.Echo()
				it.Passthrough = echo.Passthrough
				it.ItemDetail.Extrinsics = mergeExtrinsics(it.ItemDetail.Extrinsics, echo.ItemDetail.Extrinsics)
			}
		}
		msg.Items = append(msg.Items, it)
	}
	return &cxml.Document{
		PayloadID: s.IDs.New(),
		Timestamp: cxml.Timestamp{Time: now, Zoned: true, Valid: true},
		Header: &cxml.Header{
			From:   cxml.Party{Credentials: []cxml.Credential{{Domain: conn.SupplierCredential.Domain, Identity: conn.SupplierCredential.Identity}}},
			To:     cxml.Party{Credentials: []cxml.Credential{{Domain: conn.BuyerCredential.Domain, Identity: conn.BuyerCredential.Identity}}},
			Sender: cxml.Sender{Credentials: []cxml.Credential{{Domain: conn.SupplierCredential.Domain, Identity: conn.SupplierCredential.Identity}}, UserAgent: cxml.UserAgent},
		},
		Message: &cxml.Message{Body: msg},
	}
}

// operationAllowed tells the procurement system what it may do with the
// cart later: reopen it for editing (the gateway restores carts from
// their lines), or, for a cart opened read-only, only inspect it.
func operationAllowed(op string) string {
	if op == OpInspect {
		return OpInspect
	}
	return OpEdit
}

func description(conn *Connection, l *Line) string {
	s := l.Product.Name + " by " + l.Product.Vendor + ". " + l.Offer.PricingModel.Label() + ": " + TermsText(conn, &l.Offer)
	if l.Offer.PrivateToOrganizationID != "" {
		s += " Private offer " + l.Offer.ID + "."
	}
	return s
}

// lineExtrinsics carry what a buyer's approver needs and what the order
// step checks: pricing model, term and offer expiry.
func lineExtrinsics(l *Line) []cxml.Extrinsic {
	xs := []cxml.Extrinsic{
		{Name: "PricingModel", Value: string(l.Offer.PricingModel)},
		{Name: "Term", Value: Term(&l.Offer)},
		{Name: "ProductType", Value: string(l.Product.Type)},
		{Name: "OfferRevision", Value: decimal.NewFromInt(int64(l.Item.OfferRevision)).String()},
	}
	if l.Offer.DurationMonths > 0 {
		xs = append(xs, cxml.Extrinsic{Name: "TermMonths", Value: decimal.NewFromInt(int64(l.Offer.DurationMonths)).String()})
	}
	if l.Offer.ExpiresAt != nil {
		xs = append(xs, cxml.Extrinsic{Name: "OfferExpiry", Value: l.Offer.ExpiresAt.UTC().Format(time.RFC3339)})
	}
	switch l.Offer.PricingModel {
	case catalog.PAYG:
		xs = append(xs, cxml.Extrinsic{Name: "BlanketValue", Value: "true"})
	case catalog.FPS:
		for i, in := range l.Offer.Schedule {
			xs = append(xs, cxml.Extrinsic{Name: "PaymentSchedule" + decimal.NewFromInt(int64(i+1)).String(), Value: in.Due + " " + in.Amount.Text()})
		}
	}
	return xs
}

package cxml

import (
	"strings"

	"github.com/beevik/etree"
)

// OrderRequest is a purchase order: its orderID is the buyer's PO number.
type OrderRequest struct {
	OrderID      string
	OrderDate    Timestamp
	Type         string // new, update or delete
	OrderType    string // regular, blanket, release, ...; "" is regular
	OrderVersion string
	Total        Money
	ShipTo       *Address
	BillTo       *Address
	Shipping     *Shipping
	Tax          *Tax
	Contacts     []Contact
	// Comments is the text of the first header Comments.
	Comments string
	// DocumentReference is the payloadID of the OrderRequest that an
	// update or delete revises.
	DocumentReference string
	Extrinsics        []Extrinsic
	Items             []ItemOut
	// Source is the request element as received: accounting, payment
	// terms and everything else of the order the model does not keep.
	Source *etree.Element
}

// OrderType values.
const (
	OrderNew    = "new"
	OrderUpdate = "update"
	OrderDelete = "delete"
)

// ElementName is "OrderRequest".
func (*OrderRequest) ElementName() string { return "OrderRequest" }
func (*OrderRequest) isRequest()          {}

// write emits the order in DTD order: (OrderRequestHeader (Total, ShipTo?,
// BillTo, Shipping?, Tax?, Contact*, Comments?, DocumentReference?,
// Extrinsic*), ItemOut+).
func (o *OrderRequest) write(parent *etree.Element) {
	e := parent.CreateElement("OrderRequest")
	h := e.CreateElement("OrderRequestHeader")
	h.CreateAttr("orderID", o.OrderID)
	h.CreateAttr("orderDate", FormatTime(o.OrderDate.Time))
	if t := enum(o.OrderType, "", "release", "regular", "blanket", "stockTransport", "stockTransportRelease"); t != "" {
		h.CreateAttr("orderType", t)
	}
	h.CreateAttr("type", enum(o.Type, OrderNew, OrderNew, OrderUpdate, OrderDelete))
	optAttr(h, "orderVersion", o.OrderVersion)
	writeMoneyIn(h, "Total", o.Total)
	if o.ShipTo != nil {
		writeAddress(h, "ShipTo", o.ShipTo)
	}
	bill := o.BillTo
	if bill == nil {
		bill = &Address{}
	}
	writeAddress(h, "BillTo", bill)
	if o.Shipping != nil {
		writeShipping(h, o.Shipping)
	}
	if o.Tax != nil {
		writeTax(h, o.Tax)
	}
	for _, c := range o.Contacts {
		writeContact(h, c)
	}
	if o.Comments != "" {
		cm := h.CreateElement("Comments")
		cm.CreateAttr("xml:lang", "en-US")
		cm.SetText(o.Comments)
	}
	if o.DocumentReference != "" {
		writeDocumentReference(h, o.DocumentReference)
	}
	writeExtrinsics(h, o.Extrinsics)
	for i := range o.Items {
		o.Items[i].write(e)
	}
}

func parseOrderRequest(e *etree.Element) (RequestBody, error) {
	o := &OrderRequest{Source: e}
	var header bool
	for c := range e.ChildElementsSeq() {
		if c.Space != "" {
			continue
		}
		switch c.Tag {
		case "OrderRequestHeader":
			if err := o.parseHeader(c); err != nil {
				return nil, err
			}
			header = true
		case "ItemOut":
			it, err := parseItemOut(c)
			if err != nil {
				return nil, err
			}
			o.Items = append(o.Items, it)
		}
	}
	if !header {
		return nil, errorf(StatusBadRequest, nil, "the OrderRequest has no OrderRequestHeader")
	}
	return o, nil
}

func (o *OrderRequest) parseHeader(h *etree.Element) error {
	o.OrderID = attr(h, "orderID")
	o.OrderDate = ParseTimestamp(attr(h, "orderDate"))
	o.Type = strings.ToLower(attr(h, "type"))
	if o.Type == "" {
		o.Type = OrderNew
	}
	o.OrderType = attr(h, "orderType")
	o.OrderVersion = attr(h, "orderVersion")
	for c := range h.ChildElementsSeq() {
		if c.Space != "" {
			continue
		}
		var err error
		switch c.Tag {
		case "Total":
			o.Total, err = moneyIn(c, "the order Total")
		case "ShipTo":
			o.ShipTo = parseAddress(c)
		case "BillTo":
			o.BillTo = parseAddress(c)
		case "Shipping":
			o.Shipping, err = parseShipping(c)
		case "Tax":
			o.Tax, err = parseTax(c)
		case "Contact":
			o.Contacts = append(o.Contacts, parseContact(c))
		case "Comments":
			if o.Comments == "" {
				o.Comments = strings.TrimSpace(allText(c))
			}
		case "DocumentReference":
			o.DocumentReference = attr(c, "payloadID")
		case "Extrinsic":
			o.Extrinsics = append(o.Extrinsics, parseExtrinsic(c))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func init() {
	requestParsers["OrderRequest"] = parseOrderRequest
}

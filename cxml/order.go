package cxml

import (
	"strings"

	"github.com/beevik/etree"
)

// Address is a ShipTo or BillTo address. Source keeps the element as
// received (PostalAddress, Phone, extensions) so nothing is lost.
type Address struct {
	AddressID string
	Name      string
	Street    []string
	City      string
	State     string
	Postal    string
	Country   string
	Email     string
	Source    *etree.Element
}

func parseAddress(holder *etree.Element) *Address {
	if holder == nil {
		return nil
	}
	a := childNoNS(holder, "Address")
	if a == nil {
		return &Address{Source: holder}
	}
	out := &Address{AddressID: a.SelectAttrValue("addressID", ""), Name: text(childNoNS(a, "Name")), Email: text(childNoNS(a, "Email")), Source: holder}
	if p := childNoNS(a, "PostalAddress"); p != nil {
		for _, st := range p.SelectElements("Street") {
			out.Street = append(out.Street, text(st))
		}
		out.City = text(childNoNS(p, "City"))
		out.State = text(childNoNS(p, "State"))
		out.Postal = text(childNoNS(p, "PostalCode"))
		if c := childNoNS(p, "Country"); c != nil {
			out.Country = c.SelectAttrValue("isoCountryCode", "")
		}
	}
	return out
}

func writeAddress(parent *etree.Element, tag string, a *Address) {
	h := parent.CreateElement(tag)
	e := h.CreateElement("Address")
	optAttr(e, "addressID", a.AddressID)
	n := e.CreateElement("Name")
	n.CreateAttr("xml:lang", "en-US")
	n.SetText(a.Name)
	if a.City != "" {
		p := e.CreateElement("PostalAddress")
		streets := a.Street
		if len(streets) == 0 {
			streets = []string{""}
		}
		for _, s := range streets {
			p.CreateElement("Street").SetText(s)
		}
		p.CreateElement("City").SetText(a.City)
		if a.State != "" {
			p.CreateElement("State").SetText(a.State)
		}
		if a.Postal != "" {
			p.CreateElement("PostalCode").SetText(a.Postal)
		}
		c := p.CreateElement("Country")
		c.CreateAttr("isoCountryCode", a.Country)
		c.SetText(a.Country)
	}
	if a.Email != "" {
		e.CreateElement("Email").SetText(a.Email)
	}
}

// OrderRequest is a purchase order: its orderID is the buyer's PO number.
type OrderRequest struct {
	OrderID      string
	OrderDate    Timestamp
	Type         string // new, update or delete
	OrderType    string
	OrderVersion string
	Total        Money
	ShipTo       *Address
	BillTo       *Address
	Contacts     []Contact
	Comments     string
	// DocumentReference is the payloadID of the OrderRequest that an
	// update or delete revises.
	DocumentReference string
	Extrinsics        []Extrinsic
	Items             []ItemOut
	Source            *etree.Element
}

// OrderType values.
const (
	OrderNew    = "new"
	OrderUpdate = "update"
	OrderDelete = "delete"
)

func (*OrderRequest) ElementName() string { return "OrderRequest" }
func (*OrderRequest) isRequest()          {}

// write emits the order in DTD order: (OrderRequestHeader, ItemOut+).
func (o *OrderRequest) write(parent *etree.Element) {
	e := parent.CreateElement("OrderRequest")
	h := e.CreateElement("OrderRequestHeader")
	h.CreateAttr("orderID", o.OrderID)
	h.CreateAttr("orderDate", FormatTime(o.OrderDate.Time))
	optAttr(h, "orderType", o.OrderType)
	typ := o.Type
	if typ == "" {
		typ = OrderNew
	}
	h.CreateAttr("type", typ)
	optAttr(h, "orderVersion", o.OrderVersion)
	writeMoney(h.CreateElement("Total"), o.Total)
	if o.ShipTo != nil {
		writeAddress(h, "ShipTo", o.ShipTo)
	}
	bill := o.BillTo
	if bill == nil {
		bill = &Address{}
	}
	writeAddress(h, "BillTo", bill)
	for _, c := range o.Contacts {
		writeContact(h, c)
	}
	if o.Comments != "" {
		cm := h.CreateElement("Comments")
		cm.CreateAttr("xml:lang", "en-US")
		cm.SetText(o.Comments)
	}
	if o.DocumentReference != "" {
		h.CreateElement("DocumentReference").CreateAttr("payloadID", o.DocumentReference)
	}
	writeExtrinsics(h, o.Extrinsics)
	for i := range o.Items {
		o.Items[i].write(e)
	}
}

func parseOrderRequest(e *etree.Element) (RequestBody, error) {
	h := childNoNS(e, "OrderRequestHeader")
	if h == nil {
		return nil, errorf(StatusBadRequest, nil, "the OrderRequest has no OrderRequestHeader")
	}
	o := &OrderRequest{
		OrderID:      strings.TrimSpace(h.SelectAttrValue("orderID", "")),
		OrderDate:    ParseTimestamp(h.SelectAttrValue("orderDate", "")),
		Type:         strings.ToLower(strings.TrimSpace(h.SelectAttrValue("type", OrderNew))),
		OrderType:    h.SelectAttrValue("orderType", ""),
		OrderVersion: h.SelectAttrValue("orderVersion", ""),
		ShipTo:       parseAddress(childNoNS(h, "ShipTo")),
		BillTo:       parseAddress(childNoNS(h, "BillTo")),
		Extrinsics:   parseExtrinsics(h),
		Source:       e,
	}
	if o.Type == "" {
		o.Type = OrderNew
	}
	if t := childNoNS(h, "Total"); t != nil {
		m, err := parseMoney(childNoNS(t, "Money"))
		if err != nil {
			return nil, errorf(StatusBadRequest, err, "the order Total: %v", err)
		}
		o.Total = m
	}
	for _, c := range h.ChildElements() {
		switch c.Tag {
		case "Contact":
			o.Contacts = append(o.Contacts, parseContact(c))
		case "Comments":
			if o.Comments == "" {
				o.Comments = strings.TrimSpace(allText(c))
			}
		case "DocumentReference":
			o.DocumentReference = strings.TrimSpace(c.SelectAttrValue("payloadID", ""))
		}
	}
	for _, c := range e.ChildElements() {
		if c.Tag == "ItemOut" {
			it, err := parseItemOut(c)
			if err != nil {
				return nil, err
			}
			o.Items = append(o.Items, it)
		}
	}
	return o, nil
}

func init() {
	requestParsers["OrderRequest"] = parseOrderRequest
}

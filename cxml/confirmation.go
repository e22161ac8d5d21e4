package cxml

import (
	"strconv"

	"github.com/beevik/etree"
	"github.com/shopspring/decimal"
)

// ConfirmationRequest tells the buyer what became of the lines of an
// order: accepted, rejected, backordered, with details. Fulfill.dtd
// declares it.
type ConfirmationRequest struct {
	Header         ConfirmationHeader
	OrderReference OrderReference
	Items          []ConfirmationItem
	// Source is the request element as received; nil for requests built
	// in code.
	Source *etree.Element
}

// ConfirmationHeader says what kind of confirmation it is and when it was
// made.
type ConfirmationHeader struct {
	// Type is accept, allDetail, detail, backordered, except, reject,
	// requestToPay or replace.
	Type       string
	NoticeDate Timestamp
	// Operation is new or update.
	Operation  string
	ConfirmID  string
	InvoiceID  string
	Contacts   []Contact
	Comments   string
	Extrinsics []Extrinsic
}

// ConfirmationItem confirms one order line. Its statuses split the line's
// quantity (20 accepted, 5 backordered).
type ConfirmationItem struct {
	LineNumber    int
	Quantity      decimal.Decimal
	UnitOfMeasure string
	Statuses      []ConfirmationStatus
}

// ConfirmationStatus is the state of a quantity of a confirmed line.
type ConfirmationStatus struct {
	// Type is accept, allDetail, detail, backordered, reject, unknown or
	// requestToPay.
	Type          string
	Quantity      decimal.Decimal
	UnitOfMeasure string
	ShipmentDate  Timestamp
	DeliveryDate  Timestamp
	UnitPrice     *Money
	Comments      string
	Extrinsics    []Extrinsic
}

// ElementName is "ConfirmationRequest".
func (*ConfirmationRequest) ElementName() string { return "ConfirmationRequest" }
func (*ConfirmationRequest) isRequest()          {}
func (*ConfirmationRequest) dtd() string         { return DTDFulfill }

// write emits (ConfirmationHeader, OrderReference, ConfirmationItem*).
func (c *ConfirmationRequest) write(parent *etree.Element) {
	e := parent.CreateElement("ConfirmationRequest")
	h := e.CreateElement("ConfirmationHeader")
	optAttr(h, "confirmID", c.Header.ConfirmID)
	h.CreateAttr("operation", enum(c.Header.Operation, "new", "new", "update"))
	h.CreateAttr("type", enum(c.Header.Type, "detail", "accept", "allDetail", "detail", "backordered", "except", "reject", "requestToPay", "replace"))
	h.CreateAttr("noticeDate", FormatTime(c.Header.NoticeDate.Time))
	optAttr(h, "invoiceID", c.Header.InvoiceID)
	// (DocumentReference?, Total?, Shipping?, Tax?, Contact*, Hazard*,
	// Comments*, IdReference*, Extrinsic*)
	for _, ct := range c.Header.Contacts {
		writeContact(h, ct)
	}
	writeComments(h, c.Header.Comments)
	writeExtrinsics(h, c.Header.Extrinsics)
	writeOrderReference(e, &c.OrderReference)
	for i := range c.Items {
		c.Items[i].write(e)
	}
}

// write emits (UnitOfMeasure, ConfirmationStatus+). The DTD requires a
// status; a line given none is confirmed as "unknown" for its whole
// quantity rather than as anything the supplier did not say.
func (it *ConfirmationItem) write(parent *etree.Element) {
	e := parent.CreateElement("ConfirmationItem")
	e.CreateAttr("quantity", it.Quantity.String())
	e.CreateAttr("lineNumber", strconv.Itoa(it.LineNumber))
	uom := orDefault(it.UnitOfMeasure, "EA")
	e.CreateElement("UnitOfMeasure").SetText(uom)
	statuses := it.Statuses
	if len(statuses) == 0 {
		statuses = []ConfirmationStatus{{Type: "unknown", Quantity: it.Quantity}}
	}
	for i := range statuses {
		s := &statuses[i]
		se := e.CreateElement("ConfirmationStatus")
		se.CreateAttr("quantity", s.Quantity.String())
		se.CreateAttr("type", enum(s.Type, "unknown", "accept", "allDetail", "detail", "backordered", "reject", "unknown", "requestToPay"))
		optTime(se, "shipmentDate", s.ShipmentDate)
		optTime(se, "deliveryDate", s.DeliveryDate)
		// (UnitOfMeasure, (UnitPrice?, Tax?, Shipping?), ..., Comments*,
		// Extrinsic*)
		se.CreateElement("UnitOfMeasure").SetText(orDefault(s.UnitOfMeasure, uom))
		if s.UnitPrice != nil {
			writeMoneyIn(se, "UnitPrice", *s.UnitPrice)
		}
		writeComments(se, s.Comments)
		writeExtrinsics(se, s.Extrinsics)
	}
}

// writeComments writes a Comments element for a non-empty text.
func writeComments(parent *etree.Element, text string) {
	if text == "" {
		return
	}
	c := parent.CreateElement("Comments")
	c.CreateAttr("xml:lang", "en-US")
	c.SetText(text)
}

func parseConfirmationRequest(e *etree.Element) (RequestBody, error) {
	c := &ConfirmationRequest{Source: e}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "ConfirmationHeader":
			c.Header = parseConfirmationHeader(x)
		case "OrderReference":
			c.OrderReference = *parseOrderReference(x)
		case "ConfirmationItem":
			it, err := parseConfirmationItem(x)
			if err != nil {
				return nil, err
			}
			c.Items = append(c.Items, it)
		}
	}
	return c, nil
}

func parseConfirmationHeader(e *etree.Element) ConfirmationHeader {
	h := ConfirmationHeader{
		Type:       attr(e, "type"),
		NoticeDate: ParseTimestamp(attr(e, "noticeDate")),
		Operation:  attr(e, "operation"),
		ConfirmID:  attr(e, "confirmID"),
		InvoiceID:  attr(e, "invoiceID"),
	}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "Contact":
			h.Contacts = append(h.Contacts, parseContact(x))
		case "Comments":
			if h.Comments == "" {
				h.Comments = text(x)
			}
		case "Extrinsic":
			h.Extrinsics = append(h.Extrinsics, parseExtrinsic(x))
		}
	}
	return h
}

func parseConfirmationItem(e *etree.Element) (ConfirmationItem, error) {
	q, err := parseQuantity(e)
	if err != nil {
		return ConfirmationItem{}, err
	}
	it := ConfirmationItem{LineNumber: parseLineNumber(e), Quantity: q}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "UnitOfMeasure":
			it.UnitOfMeasure = text(x)
		case "ConfirmationStatus":
			s, err := parseConfirmationStatus(x)
			if err != nil {
				return ConfirmationItem{}, err
			}
			it.Statuses = append(it.Statuses, s)
		}
	}
	return it, nil
}

func parseConfirmationStatus(e *etree.Element) (ConfirmationStatus, error) {
	q, err := parseQuantity(e)
	if err != nil {
		return ConfirmationStatus{}, err
	}
	s := ConfirmationStatus{
		Type:         attr(e, "type"),
		Quantity:     q,
		ShipmentDate: ParseTimestamp(attr(e, "shipmentDate")),
		DeliveryDate: ParseTimestamp(attr(e, "deliveryDate")),
	}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "UnitOfMeasure":
			s.UnitOfMeasure = text(x)
		case "UnitPrice":
			if s.UnitPrice, err = optMoneyIn(x, "ConfirmationStatus UnitPrice"); err != nil {
				return ConfirmationStatus{}, err
			}
		case "Comments":
			if s.Comments == "" {
				s.Comments = text(x)
			}
		case "Extrinsic":
			s.Extrinsics = append(s.Extrinsics, parseExtrinsic(x))
		}
	}
	return s, nil
}

func init() {
	requestParsers["ConfirmationRequest"] = parseConfirmationRequest
}

package cxml

import (
	"strconv"

	"github.com/beevik/etree"
	"github.com/shopspring/decimal"
)

// InvoiceDetailRequest is an invoice. InvoiceDetail.dtd declares it, and
// Coupa checks that the DOCTYPE names that file. Written, it needs at least
// one order with at least one line: the DTD allows no empty invoice.
type InvoiceDetailRequest struct {
	Header  InvoiceDetailRequestHeader
	Orders  []InvoiceDetailOrder
	Summary InvoiceDetailSummary
	// Source is the request element as received; nil for invoices built in
	// code.
	Source *etree.Element
}

// Invoice purposes.
const (
	InvoiceStandard            = "standard"
	InvoiceCreditMemo          = "creditMemo"
	InvoiceDebitMemo           = "debitMemo"
	InvoiceLineLevelCreditMemo = "lineLevelCreditMemo"
	InvoiceLineLevelDebitMemo  = "lineLevelDebitMemo"
)

// InvoiceDetailRequestHeader identifies the invoice and carries what
// applies to all its lines.
type InvoiceDetailRequestHeader struct {
	// InvoiceID is the invoice number; buyers refuse one used before.
	InvoiceID string
	// Purpose is standard (the default), creditMemo, debitMemo,
	// lineLevelCreditMemo or lineLevelDebitMemo.
	Purpose string
	// Operation is new, or delete to cancel the invoice DocumentReference
	// names.
	Operation       string
	InvoiceDate     Timestamp
	HeaderIndicator InvoiceHeaderIndicator
	LineIndicator   InvoiceLineIndicator
	Partners        []InvoicePartner
	// DocumentReference is the payloadID of the invoice a credit memo or a
	// delete refers to.
	DocumentReference string
	PaymentTerms      []PaymentTerm
	// Period is the service period the whole invoice bills.
	Period     *Period
	Comments   string
	Extrinsics []Extrinsic
}

// InvoiceHeaderIndicator holds the header-level flags of an invoice.
type InvoiceHeaderIndicator struct {
	IsHeaderInvoice  bool
	IsVatRecoverable bool
}

// InvoiceLineIndicator says which amounts the lines carry; the buyer
// ignores line taxes, for one, unless IsTaxInLine is set.
type InvoiceLineIndicator struct {
	IsTaxInLine             bool
	IsSpecialHandlingInLine bool
	IsShippingInLine        bool
	IsDiscountInLine        bool
	IsAccountingInLine      bool
	IsPriceAdjustmentInLine bool
}

// InvoicePartner is a party to the invoice: Contact.Role is invoiceFrom,
// remitTo, billTo, soldTo and so on.
type InvoicePartner struct {
	Contact      Contact
	IDReferences []IDReference
}

// PaymentTerm says when the invoice is due. The deprecated
// InvoiceDetailPaymentTerm reads into it too.
type PaymentTerm struct {
	PayInNumberOfDays int
	Extrinsics        []Extrinsic
}

// InvoiceDetailOrder is the part of an invoice that bills one order (or
// one contract).
type InvoiceDetailOrder struct {
	OrderReference           *OrderReference
	MasterAgreementReference *MasterAgreementReference
	// Items are quantity lines, ServiceItems amount lines; a buyer such as
	// Coupa wants the type of the PO line they bill. Written together,
	// they are ordered by InvoiceLineNumber.
	Items        []InvoiceDetailItem
	ServiceItems []InvoiceDetailServiceItem
}

// InvoiceItemReference names the order line an invoice line bills.
type InvoiceItemReference struct {
	// LineNumber is the PO line number; 0 leaves it blank, for the buyer
	// to match the line by part number and unit.
	LineNumber      int
	ItemID          *ItemID
	Description     *Description
	Classifications []Classification
}

// InvoiceDetailItem bills a quantity of an item at a unit price.
type InvoiceDetailItem struct {
	InvoiceLineNumber int
	Quantity          decimal.Decimal
	UnitOfMeasure     string
	UnitPrice         Money
	Reference         InvoiceItemReference
	SubtotalAmount    *Money
	Tax               *Tax
	NetAmount         *Money
	Extrinsics        []Extrinsic
}

// InvoiceDetailServiceItem bills an amount, such as an upfront fee or one
// payment of a schedule, for a service period.
type InvoiceDetailServiceItem struct {
	InvoiceLineNumber int
	Quantity          decimal.NullDecimal
	Reference         InvoiceItemReference
	SubtotalAmount    Money
	Period            *Period
	// UnitOfMeasure and UnitPrice are written only with a UnitPrice.
	UnitOfMeasure string
	UnitPrice     *Money
	Tax           *Tax
	NetAmount     *Money
	Extrinsics    []Extrinsic
}

// InvoiceDetailSummary totals the invoice. The DTD requires Tax and
// NetAmount; Coupa sends NetAmount as an empty Money.
type InvoiceDetailSummary struct {
	SubtotalAmount        Money
	Tax                   Tax
	SpecialHandlingAmount *Money
	ShippingAmount        *Money
	GrossAmount           *Money
	Discount              *Money
	NetAmount             Money
	DueAmount             *Money
}

// ElementName is "InvoiceDetailRequest".
func (*InvoiceDetailRequest) ElementName() string { return "InvoiceDetailRequest" }
func (*InvoiceDetailRequest) isRequest()          {}
func (*InvoiceDetailRequest) dtd() string         { return DTDInvoiceDetail }

// write emits (InvoiceDetailRequestHeader, InvoiceDetailOrder+,
// InvoiceDetailSummary).
func (r *InvoiceDetailRequest) write(parent *etree.Element) {
	e := parent.CreateElement("InvoiceDetailRequest")
	r.Header.write(e)
	for i := range r.Orders {
		r.Orders[i].write(e)
	}
	r.Summary.write(e)
}

// write emits the header: (InvoiceDetailHeaderIndicator,
// InvoiceDetailLineIndicator, InvoicePartner*, DocumentReference?,
// PaymentTerm*, Period?, Comments?, Extrinsic*).
func (h *InvoiceDetailRequestHeader) write(parent *etree.Element) {
	e := parent.CreateElement("InvoiceDetailRequestHeader")
	e.CreateAttr("invoiceID", h.InvoiceID)
	e.CreateAttr("purpose", enum(h.Purpose, InvoiceStandard, InvoiceStandard, InvoiceCreditMemo, InvoiceDebitMemo, InvoiceLineLevelCreditMemo, InvoiceLineLevelDebitMemo))
	e.CreateAttr("operation", enum(h.Operation, "new", "new", "delete"))
	e.CreateAttr("invoiceDate", FormatTime(h.InvoiceDate.Time))
	hi := e.CreateElement("InvoiceDetailHeaderIndicator")
	yesAttr(hi, "isHeaderInvoice", h.HeaderIndicator.IsHeaderInvoice)
	yesAttr(hi, "isVatRecoverable", h.HeaderIndicator.IsVatRecoverable)
	li := e.CreateElement("InvoiceDetailLineIndicator")
	l := h.LineIndicator
	yesAttr(li, "isTaxInLine", l.IsTaxInLine)
	yesAttr(li, "isSpecialHandlingInLine", l.IsSpecialHandlingInLine)
	yesAttr(li, "isShippingInLine", l.IsShippingInLine)
	yesAttr(li, "isDiscountInLine", l.IsDiscountInLine)
	yesAttr(li, "isAccountingInLine", l.IsAccountingInLine)
	yesAttr(li, "isPriceAdjustmentInLine", l.IsPriceAdjustmentInLine)
	for _, p := range h.Partners {
		pe := e.CreateElement("InvoicePartner")
		writeContact(pe, p.Contact)
		for _, id := range p.IDReferences {
			writeIDReference(pe, id)
		}
	}
	if h.DocumentReference != "" {
		writeDocumentReference(e, h.DocumentReference)
	}
	for _, t := range h.PaymentTerms {
		te := e.CreateElement("PaymentTerm")
		te.CreateAttr("payInNumberOfDays", strconv.Itoa(t.PayInNumberOfDays))
		writeExtrinsics(te, t.Extrinsics)
	}
	if h.Period != nil {
		writePeriod(e, h.Period)
	}
	writeComments(e, h.Comments)
	writeExtrinsics(e, h.Extrinsics)
}

// write emits (InvoiceDetailOrderInfo, (InvoiceDetailItem |
// InvoiceDetailServiceItem)+).
func (o *InvoiceDetailOrder) write(parent *etree.Element) {
	e := parent.CreateElement("InvoiceDetailOrder")
	info := e.CreateElement("InvoiceDetailOrderInfo")
	switch {
	case o.OrderReference != nil:
		writeOrderReference(info, o.OrderReference)
		if o.MasterAgreementReference != nil {
			writeMasterAgreementReference(info, o.MasterAgreementReference)
		}
	case o.MasterAgreementReference != nil:
		writeMasterAgreementReference(info, o.MasterAgreementReference)
	default:
		// The DTD requires a reference of some kind; an empty one at
		// least validates, and the buyer's refusal names the problem.
		writeOrderReference(info, &OrderReference{})
	}
	i, j := 0, 0
	for i < len(o.Items) || j < len(o.ServiceItems) {
		if j == len(o.ServiceItems) || (i < len(o.Items) && o.Items[i].InvoiceLineNumber <= o.ServiceItems[j].InvoiceLineNumber) {
			o.Items[i].write(e)
			i++
			continue
		}
		o.ServiceItems[j].write(e)
		j++
	}
}

// write emits (UnitOfMeasure, UnitPrice, InvoiceDetailItemReference,
// SubtotalAmount?, Tax?, NetAmount?, Extrinsic*).
func (it *InvoiceDetailItem) write(parent *etree.Element) {
	e := parent.CreateElement("InvoiceDetailItem")
	e.CreateAttr("invoiceLineNumber", strconv.Itoa(it.InvoiceLineNumber))
	e.CreateAttr("quantity", it.Quantity.String())
	e.CreateElement("UnitOfMeasure").SetText(orDefault(it.UnitOfMeasure, "EA"))
	writeMoneyIn(e, "UnitPrice", it.UnitPrice)
	ref := e.CreateElement("InvoiceDetailItemReference")
	ln := ""
	if it.Reference.LineNumber > 0 {
		ln = strconv.Itoa(it.Reference.LineNumber)
	}
	ref.CreateAttr("lineNumber", ln)
	// (ItemID?, Description?, Classification*)
	if it.Reference.ItemID != nil {
		writeItemID(ref, *it.Reference.ItemID)
	}
	if it.Reference.Description != nil {
		writeDescription(ref, *it.Reference.Description)
	}
	for _, c := range it.Reference.Classifications {
		writeClassification(ref, c)
	}
	if it.SubtotalAmount != nil {
		writeMoneyIn(e, "SubtotalAmount", *it.SubtotalAmount)
	}
	if it.Tax != nil {
		writeTax(e, it.Tax)
	}
	if it.NetAmount != nil {
		writeMoneyIn(e, "NetAmount", *it.NetAmount)
	}
	writeExtrinsics(e, it.Extrinsics)
}

// write emits (InvoiceDetailServiceItemReference, SubtotalAmount, Period?,
// (UnitOfMeasure, UnitPrice)?, Tax?, NetAmount?, Extrinsic*).
func (it *InvoiceDetailServiceItem) write(parent *etree.Element) {
	e := parent.CreateElement("InvoiceDetailServiceItem")
	e.CreateAttr("invoiceLineNumber", strconv.Itoa(it.InvoiceLineNumber))
	if it.Quantity.Valid {
		e.CreateAttr("quantity", it.Quantity.Decimal.String())
	}
	ref := e.CreateElement("InvoiceDetailServiceItemReference")
	if it.Reference.LineNumber > 0 {
		ref.CreateAttr("lineNumber", strconv.Itoa(it.Reference.LineNumber))
	}
	// (Classification*, ItemID?, Description?): not the order of the
	// quantity line's reference.
	for _, c := range it.Reference.Classifications {
		writeClassification(ref, c)
	}
	if it.Reference.ItemID != nil {
		writeItemID(ref, *it.Reference.ItemID)
	}
	if it.Reference.Description != nil {
		writeDescription(ref, *it.Reference.Description)
	}
	writeMoneyIn(e, "SubtotalAmount", it.SubtotalAmount)
	if it.Period != nil {
		writePeriod(e, it.Period)
	}
	if it.UnitPrice != nil {
		e.CreateElement("UnitOfMeasure").SetText(orDefault(it.UnitOfMeasure, "EA"))
		writeMoneyIn(e, "UnitPrice", *it.UnitPrice)
	}
	if it.Tax != nil {
		writeTax(e, it.Tax)
	}
	if it.NetAmount != nil {
		writeMoneyIn(e, "NetAmount", *it.NetAmount)
	}
	writeExtrinsics(e, it.Extrinsics)
}

// write emits (SubtotalAmount, Tax, SpecialHandlingAmount?,
// ShippingAmount?, GrossAmount?, InvoiceDetailDiscount?, NetAmount,
// DueAmount?).
func (s *InvoiceDetailSummary) write(parent *etree.Element) {
	e := parent.CreateElement("InvoiceDetailSummary")
	writeMoneyIn(e, "SubtotalAmount", s.SubtotalAmount)
	writeTax(e, &s.Tax)
	for _, m := range []struct {
		tag string
		m   *Money
	}{
		{"SpecialHandlingAmount", s.SpecialHandlingAmount},
		{"ShippingAmount", s.ShippingAmount},
		{"GrossAmount", s.GrossAmount},
		{"InvoiceDetailDiscount", s.Discount},
	} {
		if m.m != nil {
			writeMoneyIn(e, m.tag, *m.m)
		}
	}
	writeMoneyIn(e, "NetAmount", s.NetAmount)
	if s.DueAmount != nil {
		writeMoneyIn(e, "DueAmount", *s.DueAmount)
	}
}

func parseInvoiceDetailRequest(e *etree.Element) (RequestBody, error) {
	r := &InvoiceDetailRequest{Source: e}
	var header bool
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		var err error
		switch x.Tag {
		case "InvoiceDetailRequestHeader":
			header = true
			err = r.Header.parse(x)
		case "InvoiceDetailOrder":
			var o InvoiceDetailOrder
			if err = o.parse(x); err == nil {
				r.Orders = append(r.Orders, o)
			}
		case "InvoiceDetailSummary":
			err = r.Summary.parse(x)
		}
		if err != nil {
			return nil, err
		}
	}
	if !header {
		return nil, errorf(StatusBadRequest, nil, "the InvoiceDetailRequest has no InvoiceDetailRequestHeader")
	}
	return r, nil
}

func (h *InvoiceDetailRequestHeader) parse(e *etree.Element) error {
	h.InvoiceID = attr(e, "invoiceID")
	h.Purpose = orDefault(attr(e, "purpose"), InvoiceStandard)
	h.Operation = orDefault(attr(e, "operation"), "new")
	h.InvoiceDate = ParseTimestamp(attr(e, "invoiceDate"))
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "InvoiceDetailHeaderIndicator":
			h.HeaderIndicator = InvoiceHeaderIndicator{
				IsHeaderInvoice:  isYes(x, "isHeaderInvoice"),
				IsVatRecoverable: isYes(x, "isVatRecoverable"),
			}
		case "InvoiceDetailLineIndicator":
			h.LineIndicator = InvoiceLineIndicator{
				IsTaxInLine:             isYes(x, "isTaxInLine"),
				IsSpecialHandlingInLine: isYes(x, "isSpecialHandlingInLine"),
				IsShippingInLine:        isYes(x, "isShippingInLine"),
				IsDiscountInLine:        isYes(x, "isDiscountInLine"),
				IsAccountingInLine:      isYes(x, "isAccountingInLine"),
				IsPriceAdjustmentInLine: isYes(x, "isPriceAdjustmentInLine"),
			}
		case "InvoicePartner":
			var p InvoicePartner
			for y := range x.ChildElementsSeq() {
				switch y.Tag {
				case "Contact":
					p.Contact = parseContact(y)
				case "IdReference":
					p.IDReferences = append(p.IDReferences, parseIDReference(y))
				}
			}
			h.Partners = append(h.Partners, p)
		case "DocumentReference":
			h.DocumentReference = attr(x, "payloadID")
		case "PaymentTerm", "InvoiceDetailPaymentTerm":
			h.PaymentTerms = append(h.PaymentTerms, PaymentTerm{
				PayInNumberOfDays: parseUint(x, "payInNumberOfDays"),
				Extrinsics:        parseExtrinsics(x),
			})
		case "Period":
			h.Period = parsePeriod(x)
		case "Comments":
			if h.Comments == "" {
				h.Comments = text(x)
			}
		case "Extrinsic":
			h.Extrinsics = append(h.Extrinsics, parseExtrinsic(x))
		}
	}
	return nil
}

func (o *InvoiceDetailOrder) parse(e *etree.Element) error {
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "InvoiceDetailOrderInfo":
			for y := range x.ChildElementsSeq() {
				switch y.Tag {
				case "OrderReference":
					o.OrderReference = parseOrderReference(y)
				case "MasterAgreementReference":
					o.MasterAgreementReference = parseMasterAgreementReference(y)
				}
			}
		case "InvoiceDetailItem":
			var it InvoiceDetailItem
			if err := it.parse(x); err != nil {
				return err
			}
			o.Items = append(o.Items, it)
		case "InvoiceDetailServiceItem":
			var it InvoiceDetailServiceItem
			if err := it.parse(x); err != nil {
				return err
			}
			o.ServiceItems = append(o.ServiceItems, it)
		}
	}
	return nil
}

func parseInvoiceItemReference(e *etree.Element) InvoiceItemReference {
	r := InvoiceItemReference{LineNumber: parseLineNumber(e)}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "ItemID":
			id := parseItemID(x)
			r.ItemID = &id
		case "Description":
			d := parseDescription(x)
			r.Description = &d
		case "Classification":
			r.Classifications = append(r.Classifications, Classification{Domain: attr(x, "domain"), Code: attr(x, "code"), Value: text(x)})
		}
	}
	return r
}

func (it *InvoiceDetailItem) parse(e *etree.Element) error {
	q, err := parseQuantity(e)
	if err != nil {
		return err
	}
	it.InvoiceLineNumber, it.Quantity = parseUint(e, "invoiceLineNumber"), q
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "UnitOfMeasure":
			it.UnitOfMeasure = text(x)
		case "UnitPrice":
			it.UnitPrice, err = moneyIn(x, "InvoiceDetailItem UnitPrice")
		case "InvoiceDetailItemReference":
			it.Reference = parseInvoiceItemReference(x)
		case "SubtotalAmount":
			it.SubtotalAmount, err = optMoneyIn(x, "InvoiceDetailItem SubtotalAmount")
		case "Tax":
			it.Tax, err = parseTax(x)
		case "NetAmount":
			it.NetAmount, err = optMoneyIn(x, "InvoiceDetailItem NetAmount")
		case "Extrinsic":
			it.Extrinsics = append(it.Extrinsics, parseExtrinsic(x))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (it *InvoiceDetailServiceItem) parse(e *etree.Element) error {
	it.InvoiceLineNumber = parseUint(e, "invoiceLineNumber")
	if attr(e, "quantity") != "" {
		q, err := parseQuantity(e)
		if err != nil {
			return err
		}
		it.Quantity = decimal.NullDecimal{Decimal: q, Valid: true}
	}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		var err error
		switch x.Tag {
		case "InvoiceDetailServiceItemReference":
			it.Reference = parseInvoiceItemReference(x)
		case "SubtotalAmount":
			it.SubtotalAmount, err = moneyIn(x, "InvoiceDetailServiceItem SubtotalAmount")
		case "Period":
			it.Period = parsePeriod(x)
		case "UnitOfMeasure":
			it.UnitOfMeasure = text(x)
		case "UnitPrice":
			it.UnitPrice, err = optMoneyIn(x, "InvoiceDetailServiceItem UnitPrice")
		case "Tax":
			it.Tax, err = parseTax(x)
		case "NetAmount":
			it.NetAmount, err = optMoneyIn(x, "InvoiceDetailServiceItem NetAmount")
		case "Extrinsic":
			it.Extrinsics = append(it.Extrinsics, parseExtrinsic(x))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *InvoiceDetailSummary) parse(e *etree.Element) error {
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		var err error
		switch x.Tag {
		case "SubtotalAmount":
			s.SubtotalAmount, err = moneyIn(x, "InvoiceDetailSummary SubtotalAmount")
		case "Tax":
			var t *Tax
			if t, err = parseTax(x); err == nil {
				s.Tax = *t
			}
		case "SpecialHandlingAmount":
			s.SpecialHandlingAmount, err = optMoneyIn(x, "SpecialHandlingAmount")
		case "ShippingAmount":
			s.ShippingAmount, err = optMoneyIn(x, "ShippingAmount")
		case "GrossAmount":
			s.GrossAmount, err = optMoneyIn(x, "GrossAmount")
		case "InvoiceDetailDiscount":
			s.Discount, err = optMoneyIn(x, "InvoiceDetailDiscount")
		case "NetAmount":
			s.NetAmount, err = moneyIn(x, "InvoiceDetailSummary NetAmount")
		case "DueAmount":
			s.DueAmount, err = optMoneyIn(x, "DueAmount")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func init() {
	requestParsers["InvoiceDetailRequest"] = parseInvoiceDetailRequest
}

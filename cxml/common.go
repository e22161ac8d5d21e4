package cxml

import (
	"strings"

	"github.com/beevik/etree"
	"github.com/shopspring/decimal"
)

// Shipping is a shipping charge and what it is for.
type Shipping struct {
	Money       Money
	Description Description
}

// Tax is a tax amount, what it is for and, on invoices, its breakdown by
// category.
type Tax struct {
	Money       Money
	Description Description
	Details     []TaxDetail
}

// TaxDetail is one tax within a Tax: a category ("sales", "vat", "gst",
// or what the buyer uses), its rate and the amounts.
type TaxDetail struct {
	Purpose        string
	Category       string
	PercentageRate decimal.NullDecimal
	TaxPointDate   Timestamp
	TaxableAmount  *Money
	TaxAmount      Money
	Location       string
	LocationLang   string
	Description    *Description
}

// Period is a span of time: the service period an invoice or one of its
// lines bills.
type Period struct {
	Start Timestamp
	End   Timestamp
}

// OrderReference names the OrderRequest a later document is about.
// DocumentReference is the payloadID of that order, or, for Coupa, the PO
// number (Coupa matches invoices by it).
type OrderReference struct {
	OrderID           string
	OrderDate         Timestamp
	DocumentReference string
}

// MasterAgreementReference names the contract an invoice is backed by;
// Coupa puts the contract number in DocumentReference.
type MasterAgreementReference struct {
	AgreementID       string
	AgreementDate     Timestamp
	DocumentReference string
}

// IDReference is an identifier in a domain, such as a tax number
// (domain "taxNumber").
type IDReference struct {
	Domain     string
	Identifier string
}

// attr is the trimmed value of an attribute, or "".
func attr(e *etree.Element, key string) string {
	if e == nil {
		return ""
	}
	for i := range e.Attr {
		if e.Attr[i].Key == key && e.Attr[i].Space == "" {
			return strings.TrimSpace(e.Attr[i].Value)
		}
	}
	return ""
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// enum returns v spelt as the DTD enumerates it, or def when v is not one
// of allowed. Parse keeps what the buyer wrote; only Marshal is held to
// the DTD.
func enum(v, def string, allowed ...string) string {
	v = strings.TrimSpace(v)
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	return def
}

// isYes reads the DTD's (yes) #IMPLIED flags.
func isYes(e *etree.Element, key string) bool {
	return strings.EqualFold(attr(e, key), "yes")
}

func yesAttr(e *etree.Element, key string, b bool) {
	if b {
		e.CreateAttr(key, "yes")
	}
}

// optTime writes a time attribute when the time is set.
func optTime(e *etree.Element, key string, ts Timestamp) {
	if !ts.Time.IsZero() {
		e.CreateAttr(key, FormatTime(ts.Time))
	}
}

// moneyIn reads the Money of a holder such as Total or SubtotalAmount. A
// missing holder is an empty Money.
func moneyIn(holder *etree.Element, what string) (Money, error) {
	if holder == nil {
		return Money{Empty: true}, nil
	}
	m, err := parseMoney(childNoNS(holder, "Money"))
	if err != nil {
		return m, errorf(StatusBadRequest, err, "%s: %v", what, err)
	}
	return m, nil
}

// optMoneyIn is moneyIn for optional holders: nil when there is none.
func optMoneyIn(holder *etree.Element, what string) (*Money, error) {
	if holder == nil {
		return nil, nil
	}
	m, err := moneyIn(holder, what)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func writeMoneyIn(parent *etree.Element, tag string, m Money) {
	writeMoney(parent.CreateElement(tag), m)
}

// writeDescription writes a Description; xml:lang is required, so a
// description without one is en-US. The ShortName goes first, as in the
// cXML guide: Marshal's indentation then only adds white space before it,
// never inside the text a buyer shows.
func writeDescription(parent *etree.Element, d Description) {
	de := parent.CreateElement("Description")
	de.CreateAttr("xml:lang", orDefault(d.Lang, "en-US"))
	if d.ShortName != "" {
		de.CreateElement("ShortName").SetText(d.ShortName)
	}
	if d.Text != "" {
		de.CreateText(d.Text)
	}
}

func parseShipping(e *etree.Element) (*Shipping, error) {
	m, err := moneyIn(e, "Shipping")
	if err != nil {
		return nil, err
	}
	s := &Shipping{Money: m}
	if d := childNoNS(e, "Description"); d != nil {
		s.Description = parseDescription(d)
	}
	return s, nil
}

// writeShipping writes Shipping (Money, Description).
func writeShipping(parent *etree.Element, s *Shipping) {
	e := parent.CreateElement("Shipping")
	writeMoney(e, s.Money)
	writeDescription(e, s.Description)
}

func parseTax(e *etree.Element) (*Tax, error) {
	t := &Tax{}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "Money":
			m, err := parseMoney(x)
			if err != nil {
				return nil, errorf(StatusBadRequest, err, "Tax: %v", err)
			}
			t.Money = m
		case "Description":
			t.Description = parseDescription(x)
		case "TaxDetail":
			d, err := parseTaxDetail(x)
			if err != nil {
				return nil, err
			}
			t.Details = append(t.Details, d)
		}
	}
	return t, nil
}

func parseTaxDetail(e *etree.Element) (TaxDetail, error) {
	d := TaxDetail{
		Purpose:      attr(e, "purpose"),
		Category:     attr(e, "category"),
		TaxPointDate: ParseTimestamp(attr(e, "taxPointDate")),
	}
	if r := attr(e, "percentageRate"); r != "" {
		v, err := ParseAmount(r)
		if err != nil {
			return d, errorf(StatusBadRequest, err, "TaxDetail percentageRate: %v", err)
		}
		d.PercentageRate = decimal.NullDecimal{Decimal: v, Valid: true}
	}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		var err error
		switch x.Tag {
		case "TaxableAmount":
			d.TaxableAmount, err = optMoneyIn(x, "TaxableAmount")
		case "TaxAmount":
			d.TaxAmount, err = moneyIn(x, "TaxAmount")
		case "TaxLocation":
			d.Location, d.LocationLang = text(x), attrLang(x)
		case "Description":
			desc := parseDescription(x)
			d.Description = &desc
		}
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// writeTax writes Tax (Money, Description, TaxDetail*); the DTD requires
// the Description, so a tax without one gets an empty one.
func writeTax(parent *etree.Element, t *Tax) {
	e := parent.CreateElement("Tax")
	writeMoney(e, t.Money)
	writeDescription(e, t.Description)
	for i := range t.Details {
		writeTaxDetail(e, &t.Details[i])
	}
}

// writeTaxDetail writes TaxDetail (TaxableAmount?, TaxAmount, TaxLocation?,
// Description?).
func writeTaxDetail(parent *etree.Element, d *TaxDetail) {
	e := parent.CreateElement("TaxDetail")
	optAttr(e, "purpose", d.Purpose)
	e.CreateAttr("category", d.Category)
	if d.PercentageRate.Valid {
		e.CreateAttr("percentageRate", d.PercentageRate.Decimal.String())
	}
	optTime(e, "taxPointDate", d.TaxPointDate)
	if d.TaxableAmount != nil {
		writeMoneyIn(e, "TaxableAmount", *d.TaxableAmount)
	}
	writeMoneyIn(e, "TaxAmount", d.TaxAmount)
	if d.Location != "" {
		l := e.CreateElement("TaxLocation")
		l.CreateAttr("xml:lang", orDefault(d.LocationLang, "en-US"))
		l.SetText(d.Location)
	}
	if d.Description != nil {
		writeDescription(e, *d.Description)
	}
}

func parsePeriod(e *etree.Element) *Period {
	return &Period{Start: ParseTimestamp(attr(e, "startDate")), End: ParseTimestamp(attr(e, "endDate"))}
}

// writePeriod writes Period; both dates are required.
func writePeriod(parent *etree.Element, p *Period) {
	e := parent.CreateElement("Period")
	e.CreateAttr("startDate", FormatTime(p.Start.Time))
	e.CreateAttr("endDate", FormatTime(p.End.Time))
}

func parseOrderReference(e *etree.Element) *OrderReference {
	return &OrderReference{
		OrderID:           attr(e, "orderID"),
		OrderDate:         ParseTimestamp(attr(e, "orderDate")),
		DocumentReference: attr(childNoNS(e, "DocumentReference"), "payloadID"),
	}
}

// writeOrderReference writes OrderReference (DocumentReference); the
// orderID and orderDate are optional.
func writeOrderReference(parent *etree.Element, r *OrderReference) {
	e := parent.CreateElement("OrderReference")
	optAttr(e, "orderID", r.OrderID)
	optTime(e, "orderDate", r.OrderDate)
	writeDocumentReference(e, r.DocumentReference)
}

func parseMasterAgreementReference(e *etree.Element) *MasterAgreementReference {
	return &MasterAgreementReference{
		AgreementID:       attr(e, "agreementID"),
		AgreementDate:     ParseTimestamp(attr(e, "agreementDate")),
		DocumentReference: attr(childNoNS(e, "DocumentReference"), "payloadID"),
	}
}

func writeMasterAgreementReference(parent *etree.Element, r *MasterAgreementReference) {
	e := parent.CreateElement("MasterAgreementReference")
	optAttr(e, "agreementID", r.AgreementID)
	optTime(e, "agreementDate", r.AgreementDate)
	writeDocumentReference(e, r.DocumentReference)
}

func writeDocumentReference(parent *etree.Element, payloadID string) {
	parent.CreateElement("DocumentReference").CreateAttr("payloadID", payloadID)
}

func parseIDReference(e *etree.Element) IDReference {
	return IDReference{Domain: attr(e, "domain"), Identifier: attr(e, "identifier")}
}

func writeIDReference(parent *etree.Element, r IDReference) {
	e := parent.CreateElement("IdReference")
	e.CreateAttr("identifier", r.Identifier)
	e.CreateAttr("domain", r.Domain)
}

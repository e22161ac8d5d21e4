package cxml

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/shopspring/decimal"
)

// Extrinsic is a named value a document carries beyond the standard. Its
// content may be elements (Coupa custom fields); Element keeps the
// original so it is written back unchanged.
type Extrinsic struct {
	Name    string
	Value   string
	Element *etree.Element
}

// ExtrinsicValue returns the value of the first extrinsic named name
// (compared without case), or "".
func ExtrinsicValue(xs []Extrinsic, name string) string {
	for _, x := range xs {
		if strings.EqualFold(x.Name, name) {
			return x.Value
		}
	}
	return ""
}

func parseExtrinsics(e *etree.Element) []Extrinsic {
	var out []Extrinsic
	for _, c := range e.ChildElements() {
		if c.Tag == "Extrinsic" && c.Space == "" {
			out = append(out, Extrinsic{Name: c.SelectAttrValue("name", ""), Value: text(c), Element: c.Copy()})
		}
	}
	return out
}

func writeExtrinsics(parent *etree.Element, xs []Extrinsic) {
	for _, x := range xs {
		if x.Element != nil {
			el := x.Element.Copy()
			el.Space, el.Tag = "", "Extrinsic"
			parent.AddChild(el)
			continue
		}
		e := parent.CreateElement("Extrinsic")
		e.CreateAttr("name", x.Name)
		e.SetText(x.Value)
	}
}

// Description is a text in a language, with an optional short name.
type Description struct {
	Lang      string
	Text      string
	ShortName string
}

// Classification is a commodity code (UNSPSC, usually).
type Classification struct {
	Domain string
	Code   string
	Value  string
}

// ItemID names an item: the supplier's part and, for the gateway, the
// signed quote reference in SupplierPartAuxiliaryID.
type ItemID struct {
	SupplierPartID          string
	SupplierPartAuxiliaryID string
	BuyerPartID             string
}

// ItemDetail describes and prices an item.
type ItemDetail struct {
	UnitPrice          Money
	Descriptions       []Description
	UnitOfMeasure      string
	Classifications    []Classification
	ManufacturerPartID string
	ManufacturerName   string
	URL                string
	LeadTime           string
	Extrinsics         []Extrinsic
}

// Description returns the text of the first description, or "".
func (d *ItemDetail) Description() string {
	if d == nil || len(d.Descriptions) == 0 {
		return ""
	}
	return d.Descriptions[0].Text
}

// ItemIn is a cart line of a PunchOutOrderMessage.
type ItemIn struct {
	Quantity   decimal.Decimal
	LineNumber int
	ItemID     ItemID
	ItemDetail ItemDetail
	// Passthrough holds elements carried over from the buyer's own line
	// (an ItemOut of an edit request) that the model does not know; those
	// the DTD allows in an ItemIn are written in their DTD position.
	Passthrough []*etree.Element
	Extrinsics  []Extrinsic
	Source      *etree.Element
}

// itemInOptional lists, in DTD order, the optional ItemIn children between
// ItemDetail and Extrinsic that a passthrough element may be.
var itemInOptional = []string{"SupplierID", "SupplierList", "ShipTo", "Shipping", "Tax", "SpendDetail",
	"Distribution", "Contact", "Comments", "ScheduleLine", "BillTo", "Batch", "Period", "DateInfo"}

// itemInSingle lists the children an ItemIn may hold at most once.
var itemInSingle = map[string]bool{"SupplierID": true, "SupplierList": true, "ShipTo": true, "Shipping": true, "Tax": true,
	"SpendDetail": true, "Comments": true, "BillTo": true, "Batch": true, "Period": true}

// PassthroughOf returns the children of a buyer's line (an ItemOut) that
// an ItemIn echoing it may carry: everything after ItemDetail that the
// ItemIn content model allows.
func PassthroughOf(src *etree.Element) []*etree.Element {
	if src == nil {
		return nil
	}
	var out []*etree.Element
	for _, c := range src.ChildElements() {
		if c.Space != "" {
			continue
		}
		for _, name := range itemInOptional {
			if c.Tag == name {
				out = append(out, c.Copy())
				break
			}
		}
	}
	return out
}

// ItemOut is an order line (OrderRequest) or a line of a cart being
// reopened (PunchOutSetupRequest edit/inspect).
type ItemOut struct {
	Quantity              decimal.Decimal
	LineNumber            int
	RequestedDeliveryDate string
	ItemID                ItemID
	ItemDetail            *ItemDetail
	Source                *etree.Element
}

func parseItemID(e *etree.Element) ItemID {
	if e == nil {
		return ItemID{}
	}
	return ItemID{
		SupplierPartID:          text(childNoNS(e, "SupplierPartID")),
		SupplierPartAuxiliaryID: innerText(childNoNS(e, "SupplierPartAuxiliaryID")),
		BuyerPartID:             text(childNoNS(e, "BuyerPartID")),
	}
}

// innerText is the trimmed text of e and all its descendants, for ANY
// elements such as SupplierPartAuxiliaryID.
func innerText(e *etree.Element) string {
	if e == nil {
		return ""
	}
	var sb strings.Builder
	var walk func(*etree.Element)
	walk = func(x *etree.Element) {
		for _, t := range x.Child {
			switch v := t.(type) {
			case *etree.CharData:
				sb.WriteString(v.Data)
			case *etree.Element:
				walk(v)
			}
		}
	}
	walk(e)
	return strings.TrimSpace(sb.String())
}

func parseItemDetail(e *etree.Element) (*ItemDetail, error) {
	if e == nil {
		return nil, nil
	}
	d := &ItemDetail{
		UnitOfMeasure:      text(childNoNS(e, "UnitOfMeasure")),
		ManufacturerPartID: text(childNoNS(e, "ManufacturerPartID")),
		ManufacturerName:   text(childNoNS(e, "ManufacturerName")),
		URL:                text(childNoNS(e, "URL")),
		LeadTime:           text(childNoNS(e, "LeadTime")),
		Extrinsics:         parseExtrinsics(e),
	}
	if up := childNoNS(e, "UnitPrice"); up != nil {
		m, err := parseMoney(childNoNS(up, "Money"))
		if err != nil {
			return nil, errorf(StatusBadRequest, err, "UnitPrice: %v", err)
		}
		d.UnitPrice = m
	}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "Description":
			d.Descriptions = append(d.Descriptions, parseDescription(c))
		case "Classification":
			d.Classifications = append(d.Classifications, Classification{
				Domain: c.SelectAttrValue("domain", ""), Code: c.SelectAttrValue("code", ""), Value: text(c),
			})
		}
	}
	return d, nil
}

func parseDescription(e *etree.Element) Description {
	return Description{Lang: attrLang(e), Text: strings.TrimSpace(allText(e)), ShortName: text(childNoNS(e, "ShortName"))}
}

// parseMoney reads a Money element; an empty one (Coupa) is Empty.
func parseMoney(e *etree.Element) (Money, error) {
	if e == nil {
		return Money{Empty: true}, nil
	}
	m := Money{Currency: strings.ToUpper(strings.TrimSpace(e.SelectAttrValue("currency", "")))}
	t := text(e)
	if t == "" {
		m.Empty = true
		return m, nil
	}
	d, err := ParseAmount(t)
	if err != nil {
		return m, err
	}
	m.Amount = d
	return m, nil
}

func parseQuantity(e *etree.Element) (decimal.Decimal, error) {
	q := strings.TrimSpace(e.SelectAttrValue("quantity", ""))
	if q == "" {
		return decimal.Zero, errorf(StatusBadRequest, nil, "%s has no quantity", e.Tag)
	}
	d, err := ParseAmount(q)
	if err != nil {
		return decimal.Zero, errorf(StatusBadRequest, err, "%s quantity %q is not a decimal number", e.Tag, q)
	}
	return d, nil
}

func parseLineNumber(e *etree.Element) int {
	n, _ := strconv.Atoi(strings.TrimSpace(e.SelectAttrValue("lineNumber", "")))
	return n
}

func parseItemOut(e *etree.Element) (ItemOut, error) {
	q, err := parseQuantity(e)
	if err != nil {
		return ItemOut{}, err
	}
	d, err := parseItemDetail(childNoNS(e, "ItemDetail"))
	if err != nil {
		return ItemOut{}, err
	}
	return ItemOut{
		Quantity:              q,
		LineNumber:            parseLineNumber(e),
		RequestedDeliveryDate: e.SelectAttrValue("requestedDeliveryDate", ""),
		ItemID:                parseItemID(childNoNS(e, "ItemID")),
		ItemDetail:            d,
		Source:                e,
	}, nil
}

func parseItemIn(e *etree.Element) (ItemIn, error) {
	q, err := parseQuantity(e)
	if err != nil {
		return ItemIn{}, err
	}
	d, err := parseItemDetail(childNoNS(e, "ItemDetail"))
	if err != nil {
		return ItemIn{}, err
	}
	it := ItemIn{Quantity: q, LineNumber: parseLineNumber(e), ItemID: parseItemID(childNoNS(e, "ItemID")), Extrinsics: parseExtrinsics(e), Source: e}
	if d != nil {
		it.ItemDetail = *d
	}
	return it, nil
}

func writeItemID(parent *etree.Element, id ItemID) {
	e := parent.CreateElement("ItemID")
	e.CreateElement("SupplierPartID").SetText(id.SupplierPartID)
	if id.SupplierPartAuxiliaryID != "" {
		e.CreateElement("SupplierPartAuxiliaryID").SetText(id.SupplierPartAuxiliaryID)
	}
	if id.BuyerPartID != "" {
		e.CreateElement("BuyerPartID").SetText(id.BuyerPartID)
	}
}

func writeItemDetail(parent *etree.Element, d *ItemDetail) {
	e := parent.CreateElement("ItemDetail")
	writeMoney(e.CreateElement("UnitPrice"), d.UnitPrice)
	descs := d.Descriptions
	if len(descs) == 0 {
		descs = []Description{{Lang: "en-US"}}
	}
	for _, desc := range descs {
		de := e.CreateElement("Description")
		lang := desc.Lang
		if lang == "" {
			lang = "en-US"
		}
		de.CreateAttr("xml:lang", lang)
		de.SetText(desc.Text)
		if desc.ShortName != "" {
			de.CreateElement("ShortName").SetText(desc.ShortName)
		}
	}
	uom := d.UnitOfMeasure
	if uom == "" {
		uom = "EA"
	}
	e.CreateElement("UnitOfMeasure").SetText(uom)
	classes := d.Classifications
	if len(classes) == 0 {
		classes = []Classification{{Domain: "UNSPSC", Value: "unknown"}}
	}
	for _, c := range classes {
		ce := e.CreateElement("Classification")
		ce.CreateAttr("domain", c.Domain)
		optAttr(ce, "code", c.Code)
		ce.SetText(c.Value)
	}
	if d.ManufacturerPartID != "" {
		e.CreateElement("ManufacturerPartID").SetText(d.ManufacturerPartID)
	}
	if d.ManufacturerName != "" {
		e.CreateElement("ManufacturerName").SetText(d.ManufacturerName)
	}
	if d.URL != "" {
		e.CreateElement("URL").SetText(d.URL)
	}
	if d.LeadTime != "" {
		e.CreateElement("LeadTime").SetText(d.LeadTime)
	}
	writeExtrinsics(e, d.Extrinsics)
}

func writeQuantity(e *etree.Element, q decimal.Decimal) {
	if q.IsZero() {
		q = decimal.NewFromInt(1)
	}
	e.CreateAttr("quantity", q.String())
}

func (it *ItemIn) write(parent *etree.Element) {
	e := parent.CreateElement("ItemIn")
	writeQuantity(e, it.Quantity)
	if it.LineNumber > 0 {
		e.CreateAttr("lineNumber", strconv.Itoa(it.LineNumber))
	}
	writeItemID(e, it.ItemID)
	writeItemDetail(e, &it.ItemDetail)
	seen := map[string]bool{}
	for _, name := range itemInOptional {
		for _, x := range it.Passthrough {
			if x.Tag != name || (itemInSingle[name] && seen[name]) {
				continue
			}
			seen[name] = true
			e.AddChild(x.Copy())
		}
	}
	writeExtrinsics(e, it.Extrinsics)
}

func (it *ItemOut) write(parent *etree.Element) {
	e := parent.CreateElement("ItemOut")
	writeQuantity(e, it.Quantity)
	if it.LineNumber > 0 {
		e.CreateAttr("lineNumber", strconv.Itoa(it.LineNumber))
	}
	optAttr(e, "requestedDeliveryDate", it.RequestedDeliveryDate)
	writeItemID(e, it.ItemID)
	if it.ItemDetail != nil {
		writeItemDetail(e, it.ItemDetail)
	}
}

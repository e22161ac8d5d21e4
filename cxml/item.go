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
	for c := range e.ChildElementsSeq() {
		if c.Tag == "Extrinsic" && c.Space == "" {
			out = append(out, parseExtrinsic(c))
		}
	}
	return out
}

// parseExtrinsic keeps a copy of the element, so that element content
// (Coupa's CustomFields carry IdReference and Description) survives even
// if the parsed tree is changed or dropped.
func parseExtrinsic(c *etree.Element) Extrinsic {
	return Extrinsic{Name: attr(c, "name"), Value: text(c), Element: c.Copy()}
}

// writeExtrinsics writes each extrinsic as received when it was parsed,
// element content included, and from Name and Value otherwise. Only the
// name attribute is kept on the element itself: it is the only one the DTD
// declares.
func writeExtrinsics(parent *etree.Element, xs []Extrinsic) {
	for _, x := range xs {
		if x.Element != nil {
			el := x.Element.Copy()
			el.Space, el.Tag = "", "Extrinsic"
			name := attr(el, "name")
			if name == "" {
				name = x.Name
			}
			el.Attr = el.Attr[:0]
			el.CreateAttr("name", name)
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
	// Attrs holds the line's other attributes (itemType, parentLineNumber,
	// ...), read from the buyer or carried over from an ItemOut; those the
	// DTD declares on ItemIn are written back.
	Attrs []etree.Attr
	// Passthrough holds children the model does not know, read from the
	// line or carried over from the buyer's own line (an ItemOut of an edit
	// request); those the DTD allows in an ItemIn are written in their DTD
	// position.
	Passthrough []*etree.Element
	Extrinsics  []Extrinsic
	// Source is the element as received; nil for lines built in code.
	Source *etree.Element
}

// itemInOptional lists, in DTD order, the optional ItemIn children between
// ItemDetail and Extrinsic that a passthrough element may be.
var itemInOptional = []string{"SupplierID", "SupplierList", "ShipTo", "Shipping", "Tax", "SpendDetail",
	"Distribution", "Contact", "Comments", "ScheduleLine", "BillTo", "Batch", "Period", "DateInfo"}

// itemInSingle lists the children an ItemIn may hold at most once.
var itemInSingle = map[string]bool{"SupplierID": true, "SupplierList": true, "ShipTo": true, "Shipping": true, "Tax": true,
	"SpendDetail": true, "Comments": true, "BillTo": true, "Batch": true, "Period": true}

// itemInAttrs lists the ItemIn attributes the DTD declares beyond quantity
// and lineNumber, which the model keeps in Attrs.
var itemInAttrs = map[string]bool{"openQuantity": true, "promisedQuantity": true, "parentLineNumber": true,
	"itemType": true, "compositeItemType": true, "itemClassification": true, "itemCategory": true}

func isItemInOptional(tag string) bool {
	for _, name := range itemInOptional {
		if tag == name {
			return true
		}
	}
	return false
}

// PassthroughOf returns the children of a buyer's line (an ItemOut) that
// an ItemIn echoing it may carry: everything after ItemDetail that the
// ItemIn content model allows.
func PassthroughOf(src *etree.Element) []*etree.Element {
	if src == nil {
		return nil
	}
	var out []*etree.Element
	for c := range src.ChildElementsSeq() {
		if c.Space == "" && isItemInOptional(c.Tag) {
			out = append(out, c.Copy())
		}
	}
	return out
}

// otherAttrs returns copies of e's attributes other than those named.
func otherAttrs(e *etree.Element, except ...string) []etree.Attr {
	if e == nil {
		return nil
	}
	var out []etree.Attr
next:
	for _, a := range e.Attr {
		if a.Space == "" {
			for _, x := range except {
				if a.Key == x {
					continue next
				}
			}
		}
		out = append(out, etree.Attr{Space: a.Space, Key: a.Key, Value: a.Value})
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
	// Extrinsics are those placed directly in the ItemOut. The DTD has no
	// place for them there (the standard place is ItemDetail), so an ItemOut
	// is written without them; Echo carries them into the ItemIn, which
	// has one.
	Extrinsics []Extrinsic
	// Source is the element as received: Distribution, Comments and
	// everything else of the line the model does not keep.
	Source *etree.Element
}

// Echo returns the cart line that restores this line when an edit or
// inspect session reopens a cart: the same item, quantity and line
// number, with the buyer's own attributes, children and extrinsics
// carried where an ItemIn may hold them.
func (it *ItemOut) Echo() ItemIn {
	in := ItemIn{
		Quantity:    it.Quantity,
		LineNumber:  it.LineNumber,
		ItemID:      it.ItemID,
		Attrs:       otherAttrs(it.Source, "quantity", "lineNumber"),
		Passthrough: PassthroughOf(it.Source),
		Extrinsics:  append([]Extrinsic(nil), it.Extrinsics...),
		Source:      it.Source,
	}
	if it.ItemDetail != nil {
		in.ItemDetail = *it.ItemDetail
		in.ItemDetail.Descriptions = append([]Description(nil), it.ItemDetail.Descriptions...)
		in.ItemDetail.Classifications = append([]Classification(nil), it.ItemDetail.Classifications...)
		in.ItemDetail.Extrinsics = append([]Extrinsic(nil), it.ItemDetail.Extrinsics...)
	}
	return in
}

func parseItemID(e *etree.Element) ItemID {
	var id ItemID
	if e == nil {
		return id
	}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "SupplierPartID":
			id.SupplierPartID = text(x)
		case "SupplierPartAuxiliaryID":
			id.SupplierPartAuxiliaryID = innerText(x)
		case "BuyerPartID":
			id.BuyerPartID = text(x)
		}
	}
	return id
}

// innerText is the trimmed text of e and all its descendants, for ANY
// elements such as SupplierPartAuxiliaryID.
func innerText(e *etree.Element) string {
	if e == nil {
		return ""
	}
	if len(e.Child) == 1 {
		if cd, ok := e.Child[0].(*etree.CharData); ok {
			return strings.TrimSpace(cd.Data)
		}
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
	d := &ItemDetail{}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "UnitPrice":
			m, err := parseMoney(childNoNS(x, "Money"))
			if err != nil {
				return nil, errorf(StatusBadRequest, err, "UnitPrice: %v", err)
			}
			d.UnitPrice = m
		case "Description":
			d.Descriptions = append(d.Descriptions, parseDescription(x))
		case "UnitOfMeasure":
			d.UnitOfMeasure = text(x)
		case "Classification":
			d.Classifications = append(d.Classifications, Classification{
				Domain: attr(x, "domain"), Code: attr(x, "code"), Value: text(x),
			})
		case "ManufacturerPartID":
			d.ManufacturerPartID = text(x)
		case "ManufacturerName":
			d.ManufacturerName = text(x)
		case "URL":
			d.URL = text(x)
		case "LeadTime":
			d.LeadTime = text(x)
		case "Extrinsic":
			d.Extrinsics = append(d.Extrinsics, parseExtrinsic(x))
		}
	}
	return d, nil
}

// parseDescription reads mixed content: the text around a ShortName.
func parseDescription(e *etree.Element) Description {
	return Description{Lang: attrLang(e), Text: strings.TrimSpace(allText(e)), ShortName: text(childNoNS(e, "ShortName"))}
}

// parseMoney reads a Money element; an empty one (Coupa) is Empty.
func parseMoney(e *etree.Element) (Money, error) {
	if e == nil {
		return Money{Empty: true}, nil
	}
	m := Money{Currency: strings.ToUpper(attr(e, "currency"))}
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
	q := attr(e, "quantity")
	if q == "" {
		return decimal.Zero, errorf(StatusBadRequest, nil, "%s has no quantity", e.Tag)
	}
	d, err := ParseAmount(q)
	if err != nil {
		return decimal.Zero, errorf(StatusBadRequest, err, "%s quantity %q is not a decimal number", e.Tag, truncate(q, 40))
	}
	return d, nil
}

// parseUint reads a %uint attribute such as lineNumber; "00001" is 1. A
// value that is not a number reads as 0, "not given".
func parseUint(e *etree.Element, key string) int {
	n, err := strconv.Atoi(attr(e, key))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func parseLineNumber(e *etree.Element) int { return parseUint(e, "lineNumber") }

// truncate shortens a buyer's value quoted in an error text.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func parseItemOut(e *etree.Element) (ItemOut, error) {
	q, err := parseQuantity(e)
	if err != nil {
		return ItemOut{}, err
	}
	it := ItemOut{
		Quantity:              q,
		LineNumber:            parseLineNumber(e),
		RequestedDeliveryDate: attr(e, "requestedDeliveryDate"),
		Source:                e,
	}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "ItemID":
			it.ItemID = parseItemID(x)
		case "ItemDetail":
			if it.ItemDetail, err = parseItemDetail(x); err != nil {
				return ItemOut{}, err
			}
		case "Extrinsic":
			it.Extrinsics = append(it.Extrinsics, parseExtrinsic(x))
		}
	}
	return it, nil
}

func parseItemIn(e *etree.Element) (ItemIn, error) {
	q, err := parseQuantity(e)
	if err != nil {
		return ItemIn{}, err
	}
	it := ItemIn{Quantity: q, LineNumber: parseLineNumber(e), Attrs: otherAttrs(e, "quantity", "lineNumber"), Source: e}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "ItemID":
			it.ItemID = parseItemID(x)
		case "ItemDetail":
			d, err := parseItemDetail(x)
			if err != nil {
				return ItemIn{}, err
			}
			it.ItemDetail = *d
		case "Extrinsic":
			it.Extrinsics = append(it.Extrinsics, parseExtrinsic(x))
		default:
			// The writer copies passthrough elements, so the parsed tree
			// can be shared rather than copied here.
			if isItemInOptional(x.Tag) {
				it.Passthrough = append(it.Passthrough, x)
			}
		}
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

// writeItemDetail writes ItemDetail (UnitPrice, Description+,
// UnitOfMeasure, Classification+, ManufacturerPartID?, ManufacturerName?,
// URL?, LeadTime?, Extrinsic*). The DTD requires a description, a unit
// and a classification; a detail without them gets an empty description,
// EA and UNSPSC "unknown" (what Coupa itself sends).
func writeItemDetail(parent *etree.Element, d *ItemDetail) {
	e := parent.CreateElement("ItemDetail")
	writeMoney(e.CreateElement("UnitPrice"), d.UnitPrice)
	descs := d.Descriptions
	if len(descs) == 0 {
		descs = []Description{{Lang: "en-US"}}
	}
	for _, desc := range descs {
		writeDescription(e, desc)
	}
	e.CreateElement("UnitOfMeasure").SetText(orDefault(d.UnitOfMeasure, "EA"))
	classes := d.Classifications
	if len(classes) == 0 {
		classes = []Classification{{Domain: "UNSPSC", Value: "unknown"}}
	}
	for _, c := range classes {
		writeClassification(e, c)
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

func writeClassification(parent *etree.Element, c Classification) {
	ce := parent.CreateElement("Classification")
	ce.CreateAttr("domain", c.Domain)
	optAttr(ce, "code", c.Code)
	ce.SetText(c.Value)
}

func writeQuantity(e *etree.Element, q decimal.Decimal) {
	if q.IsZero() {
		q = decimal.NewFromInt(1)
	}
	e.CreateAttr("quantity", q.String())
}

// write emits ItemIn (ItemID, ItemDetail, passthrough children in DTD
// order, Extrinsic*).
func (it *ItemIn) write(parent *etree.Element) {
	e := parent.CreateElement("ItemIn")
	writeQuantity(e, it.Quantity)
	if it.LineNumber > 0 {
		e.CreateAttr("lineNumber", strconv.Itoa(it.LineNumber))
	}
	for _, a := range it.Attrs {
		if a.Space == "" && itemInAttrs[a.Key] && e.SelectAttr(a.Key) == nil {
			e.CreateAttr(a.Key, a.Value)
		}
	}
	writeItemID(e, it.ItemID)
	writeItemDetail(e, &it.ItemDetail)
	seen := map[string]bool{}
	for _, name := range itemInOptional {
		for _, x := range it.Passthrough {
			if x.Tag != name || x.Space != "" || (itemInSingle[name] && seen[name]) {
				continue
			}
			seen[name] = true
			e.AddChild(x.Copy())
		}
	}
	writeExtrinsics(e, it.Extrinsics)
}

// write emits ItemOut (ItemID, ItemDetail?). Extrinsics read from the
// ItemOut itself are not written: the DTD declares none there.
func (it *ItemOut) write(parent *etree.Element) {
	e := parent.CreateElement("ItemOut")
	writeQuantity(e, it.Quantity)
	if it.LineNumber > 0 {
		e.CreateAttr("lineNumber", strconv.Itoa(it.LineNumber))
	}
	// The date is kept as the buyer wrote it, but written only as RFC 3339
	// (a date the gateway cannot read is left out: the attribute is
	// optional).
	if ts := ParseTimestamp(it.RequestedDeliveryDate); ts.Valid {
		e.CreateAttr("requestedDeliveryDate", FormatTime(ts.Time))
	}
	writeItemID(e, it.ItemID)
	if it.ItemDetail != nil {
		writeItemDetail(e, it.ItemDetail)
	}
}

// ItemOutXML is the ItemOut element as received, for storing a buyer's
// line until it is echoed (an edit cart). It is "" for an ItemOut built in
// code.
func (it *ItemOut) ItemOutXML() string {
	if it.Source == nil {
		return ""
	}
	d := etree.NewDocument()
	d.SetRoot(it.Source.Copy())
	s, err := d.WriteToString()
	if err != nil {
		return ""
	}
	return s
}

// ParseItemOutXML reads back what ItemOutXML wrote.
func ParseItemOutXML(s string) (ItemOut, error) {
	d := etree.NewDocument()
	if err := d.ReadFromString(s); err != nil {
		return ItemOut{}, err
	}
	if d.Root() == nil || d.Root().Tag != "ItemOut" {
		return ItemOut{}, errorf(StatusBadRequest, nil, "not an ItemOut element")
	}
	return parseItemOut(d.Root())
}

package cxml

import (
	"strings"

	"github.com/beevik/etree"
)

// Contact is a person or role named in a document: the endUser of a
// punchout, an InvoicePartner, the shipTo of a confirmation.
type Contact struct {
	Role      string
	AddressID string
	Name      string
	Lang      string
	Email     string
	Phone     *Phone
	// Source is the element as received, with what the model does not
	// keep (PostalAddress, Fax, IdReference, extrinsics); nil for contacts
	// built in code.
	Source *etree.Element
}

// Phone is a telephone number split the way cXML splits it.
type Phone struct {
	// Name says whose phone it is: work, personal, default.
	Name string
	// CountryCode is the ITU dial code ("1"); ISOCountryCode the country
	// it belongs to ("US").
	CountryCode    string
	ISOCountryCode string
	AreaOrCityCode string
	Number         string
	Extension      string
}

// String writes the number for people: "+1 855 8671234 x12".
func (p *Phone) String() string {
	if p == nil {
		return ""
	}
	var parts []string
	if p.CountryCode != "" {
		parts = append(parts, "+"+p.CountryCode)
	}
	for _, s := range []string{p.AreaOrCityCode, p.Number} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if p.Extension != "" {
		parts = append(parts, "x"+p.Extension)
	}
	return strings.Join(parts, " ")
}

// Address is the Address of a ShipTo or BillTo. Country is the ISO 3166
// code, CountryName the text buyers put beside it ("United States").
type Address struct {
	AddressID      string
	ISOCountryCode string
	Name           string
	Lang           string
	DeliverTo      []string
	Street         []string
	City           string
	State          string
	Postal         string
	Country        string
	CountryName    string
	Email          string
	Phone          *Phone
	// Source is the ShipTo or BillTo element as received (carrier,
	// transport information, Fax, URL, extrinsics); nil for addresses
	// built in code.
	Source *etree.Element
}

func parseContact(e *etree.Element) Contact {
	c := Contact{Role: attr(e, "role"), AddressID: attr(e, "addressID"), Source: e}
	for x := range e.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "Name":
			if c.Name == "" {
				c.Name, c.Lang = text(x), attrLang(x)
			}
		case "Email":
			if c.Email == "" {
				c.Email = text(x)
			}
		case "Phone":
			if c.Phone == nil {
				c.Phone = parsePhone(x)
			}
		}
	}
	return c
}

func parsePhone(e *etree.Element) *Phone {
	p := &Phone{Name: attr(e, "name")}
	tn := childNoNS(e, "TelephoneNumber")
	if tn == nil {
		// Some senders write the number as text; keep it rather than drop it.
		p.Number = innerText(e)
		return p
	}
	for x := range tn.ChildElementsSeq() {
		switch x.Tag {
		case "CountryCode":
			p.CountryCode, p.ISOCountryCode = text(x), attr(x, "isoCountryCode")
		case "AreaOrCityCode":
			p.AreaOrCityCode = text(x)
		case "Number":
			p.Number = text(x)
		case "Extension":
			p.Extension = text(x)
		}
	}
	return p
}

// parseAddress reads the Address of a ShipTo or BillTo holder.
func parseAddress(holder *etree.Element) *Address {
	if holder == nil {
		return nil
	}
	out := &Address{Source: holder}
	a := childNoNS(holder, "Address")
	if a == nil {
		return out
	}
	out.AddressID, out.ISOCountryCode = attr(a, "addressID"), attr(a, "isoCountryCode")
	for x := range a.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "Name":
			out.Name, out.Lang = text(x), attrLang(x)
		case "PostalAddress":
			parsePostal(x, out)
		case "Email":
			out.Email = text(x)
		case "Phone":
			out.Phone = parsePhone(x)
		}
	}
	return out
}

func parsePostal(p *etree.Element, out *Address) {
	for x := range p.ChildElementsSeq() {
		if x.Space != "" {
			continue
		}
		switch x.Tag {
		case "DeliverTo":
			out.DeliverTo = append(out.DeliverTo, text(x))
		case "Street":
			out.Street = append(out.Street, text(x))
		case "City":
			out.City = text(x)
		case "State":
			out.State = text(x)
		case "PostalCode":
			out.Postal = text(x)
		case "Country":
			out.Country, out.CountryName = strings.TrimSpace(attr(x, "isoCountryCode")), text(x)
		}
	}
}

// writeContact writes Contact (Name, PostalAddress*, Email*, Phone*, ...)
// with the parts the model keeps.
func writeContact(parent *etree.Element, c Contact) {
	e := parent.CreateElement("Contact")
	optAttr(e, "role", c.Role)
	optAttr(e, "addressID", c.AddressID)
	writeName(e, c.Name, c.Lang)
	if c.Email != "" {
		e.CreateElement("Email").SetText(c.Email)
	}
	if c.Phone != nil {
		writePhone(e, c.Phone)
	}
}

func writeName(parent *etree.Element, name, lang string) {
	n := parent.CreateElement("Name")
	n.CreateAttr("xml:lang", orDefault(lang, "en-US"))
	n.SetText(name)
}

// writePhone writes Phone (TelephoneNumber (CountryCode, AreaOrCityCode,
// Number, Extension?)); the DTD requires all but the extension.
func writePhone(parent *etree.Element, p *Phone) {
	e := parent.CreateElement("Phone")
	optAttr(e, "name", p.Name)
	tn := e.CreateElement("TelephoneNumber")
	cc := tn.CreateElement("CountryCode")
	cc.CreateAttr("isoCountryCode", p.ISOCountryCode)
	cc.SetText(p.CountryCode)
	tn.CreateElement("AreaOrCityCode").SetText(p.AreaOrCityCode)
	tn.CreateElement("Number").SetText(p.Number)
	if p.Extension != "" {
		tn.CreateElement("Extension").SetText(p.Extension)
	}
}

// writeAddress writes a ShipTo or BillTo holding Address (Name,
// PostalAddress?, Email?, Phone?).
func writeAddress(parent *etree.Element, tag string, a *Address) {
	h := parent.CreateElement(tag)
	e := h.CreateElement("Address")
	optAttr(e, "isoCountryCode", a.ISOCountryCode)
	optAttr(e, "addressID", a.AddressID)
	writeName(e, a.Name, a.Lang)
	if a.hasPostal() {
		p := e.CreateElement("PostalAddress")
		for _, d := range a.DeliverTo {
			p.CreateElement("DeliverTo").SetText(d)
		}
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
		c.SetText(orDefault(a.CountryName, a.Country))
	}
	if a.Email != "" {
		e.CreateElement("Email").SetText(a.Email)
	}
	if a.Phone != nil {
		writePhone(e, a.Phone)
	}
}

func (a *Address) hasPostal() bool {
	return a.City != "" || a.Country != "" || len(a.Street) > 0 || len(a.DeliverTo) > 0 || a.State != "" || a.Postal != ""
}

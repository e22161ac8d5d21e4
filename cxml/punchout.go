package cxml

import (
	"strings"

	"github.com/beevik/etree"
)

// Contact is a person named in a document (the endUser of a punchout).
type Contact struct {
	Role  string
	Name  string
	Lang  string
	Email string
	Phone string
}

func parseContact(e *etree.Element) Contact {
	c := Contact{Role: e.SelectAttrValue("role", "")}
	if n := childNoNS(e, "Name"); n != nil {
		c.Name, c.Lang = text(n), attrLang(n)
	}
	c.Email = text(childNoNS(e, "Email"))
	if p := childNoNS(e, "Phone"); p != nil {
		c.Phone = innerText(p)
	}
	return c
}

func writeContact(parent *etree.Element, c Contact) {
	e := parent.CreateElement("Contact")
	optAttr(e, "role", c.Role)
	n := e.CreateElement("Name")
	lang := c.Lang
	if lang == "" {
		lang = "en-US"
	}
	n.CreateAttr("xml:lang", lang)
	n.SetText(c.Name)
	if c.Email != "" {
		e.CreateElement("Email").SetText(c.Email)
	}
}

// PunchOutSetupRequest opens a punchout session: the buyer's user is
// about to browse the supplier's catalog.
type PunchOutSetupRequest struct {
	Operation          string
	BuyerCookie        string
	Extrinsics         []Extrinsic
	BrowserFormPostURL string
	Contacts           []Contact
	SupplierSetupURL   string
	SelectedItem       *ItemID
	ItemOut            []ItemOut
	// Source is the request element as received.
	Source *etree.Element
}

// EndUser returns the contact with role endUser, or the first contact.
func (p *PunchOutSetupRequest) EndUser() (Contact, bool) {
	for _, c := range p.Contacts {
		if strings.EqualFold(c.Role, "endUser") {
			return c, true
		}
	}
	if len(p.Contacts) > 0 {
		return p.Contacts[0], true
	}
	return Contact{}, false
}

func (*PunchOutSetupRequest) ElementName() string { return "PunchOutSetupRequest" }
func (*PunchOutSetupRequest) isRequest()          {}

// write emits the request in DTD order (BuyerCookie, Extrinsic*,
// BrowserFormPost?, Contact*, SupplierSetup?, ShipTo?, SelectedItem?,
// ItemOut*), whatever order it was read in.
func (p *PunchOutSetupRequest) write(parent *etree.Element) {
	e := parent.CreateElement("PunchOutSetupRequest")
	e.CreateAttr("operation", p.Operation)
	e.CreateElement("BuyerCookie").SetText(p.BuyerCookie)
	writeExtrinsics(e, p.Extrinsics)
	if p.BrowserFormPostURL != "" {
		e.CreateElement("BrowserFormPost").CreateElement("URL").SetText(p.BrowserFormPostURL)
	}
	for _, c := range p.Contacts {
		writeContact(e, c)
	}
	if p.SupplierSetupURL != "" {
		e.CreateElement("SupplierSetup").CreateElement("URL").SetText(p.SupplierSetupURL)
	}
	if p.SelectedItem != nil {
		writeItemID(e.CreateElement("SelectedItem"), *p.SelectedItem)
	}
	for i := range p.ItemOut {
		p.ItemOut[i].write(e)
	}
}

func parsePunchOutSetupRequest(e *etree.Element) (RequestBody, error) {
	p := &PunchOutSetupRequest{
		Operation:   strings.TrimSpace(e.SelectAttrValue("operation", "")),
		BuyerCookie: innerText(childNoNS(e, "BuyerCookie")),
		Extrinsics:  parseExtrinsics(e),
		Source:      e,
	}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "BrowserFormPost":
			p.BrowserFormPostURL = text(childNoNS(c, "URL"))
		case "SupplierSetup":
			p.SupplierSetupURL = text(childNoNS(c, "URL"))
		case "Contact":
			p.Contacts = append(p.Contacts, parseContact(c))
		case "SelectedItem":
			id := parseItemID(childNoNS(c, "ItemID"))
			p.SelectedItem = &id
		case "ItemOut":
			it, err := parseItemOut(c)
			if err != nil {
				return nil, err
			}
			p.ItemOut = append(p.ItemOut, it)
		}
	}
	return p, nil
}

// PunchOutSetupResponse sends the user's browser to the StartPage.
type PunchOutSetupResponse struct {
	StartPageURL string
}

func (*PunchOutSetupResponse) ElementName() string { return "PunchOutSetupResponse" }
func (*PunchOutSetupResponse) isResponse()         {}
func (p *PunchOutSetupResponse) write(parent *etree.Element) {
	parent.CreateElement("PunchOutSetupResponse").CreateElement("StartPage").CreateElement("URL").SetText(p.StartPageURL)
}

func parsePunchOutSetupResponse(e *etree.Element) (ResponseBody, error) {
	return &PunchOutSetupResponse{StartPageURL: text(childNoNS(childNoNS(e, "StartPage"), "URL"))}, nil
}

// PunchOutOrderMessage is the cart the user returns to the procurement
// system through the browser. It may be empty: the user cancelled.
type PunchOutOrderMessage struct {
	BuyerCookie      string
	OperationAllowed string
	QuoteStatus      string
	Total            Money
	Items            []ItemIn
}

func (*PunchOutOrderMessage) ElementName() string { return "PunchOutOrderMessage" }
func (*PunchOutOrderMessage) isMessage()          {}
func (p *PunchOutOrderMessage) write(parent *etree.Element) {
	e := parent.CreateElement("PunchOutOrderMessage")
	e.CreateElement("BuyerCookie").SetText(p.BuyerCookie)
	h := e.CreateElement("PunchOutOrderMessageHeader")
	op := p.OperationAllowed
	if op == "" {
		op = "create"
	}
	h.CreateAttr("operationAllowed", op)
	optAttr(h, "quoteStatus", p.QuoteStatus)
	writeMoney(h.CreateElement("Total"), p.Total)
	for i := range p.Items {
		p.Items[i].write(e)
	}
}

func parsePunchOutOrderMessage(e *etree.Element) (MessageBody, error) {
	p := &PunchOutOrderMessage{BuyerCookie: innerText(childNoNS(e, "BuyerCookie"))}
	if h := childNoNS(e, "PunchOutOrderMessageHeader"); h != nil {
		p.OperationAllowed = h.SelectAttrValue("operationAllowed", "")
		p.QuoteStatus = h.SelectAttrValue("quoteStatus", "")
		if t := childNoNS(h, "Total"); t != nil {
			m, err := parseMoney(childNoNS(t, "Money"))
			if err != nil {
				return nil, errorf(StatusBadRequest, err, "Total: %v", err)
			}
			p.Total = m
		}
	}
	for _, c := range e.ChildElements() {
		if c.Tag == "ItemIn" {
			it, err := parseItemIn(c)
			if err != nil {
				return nil, err
			}
			p.Items = append(p.Items, it)
		}
	}
	return p, nil
}

func init() {
	requestParsers["PunchOutSetupRequest"] = parsePunchOutSetupRequest
	responseParsers["PunchOutSetupResponse"] = parsePunchOutSetupResponse
	messageParsers["PunchOutOrderMessage"] = parsePunchOutOrderMessage
}

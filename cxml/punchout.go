package cxml

import (
	"strings"

	"github.com/beevik/etree"
)

// Punchout operations, as PunchOutSetupRequest@operation and
// PunchOutOrderMessageHeader@operationAllowed spell them.
const (
	OperationCreate  = "create"
	OperationEdit    = "edit"
	OperationInspect = "inspect"
	OperationSource  = "source"
)

// PunchOutSetupRequest opens a punchout session: the buyer's user is
// about to browse the supplier's catalog.
type PunchOutSetupRequest struct {
	Operation          string
	BuyerCookie        string
	Extrinsics         []Extrinsic
	BrowserFormPostURL string
	Contacts           []Contact
	SupplierSetupURL   string
	ShipTo             *Address
	SelectedItem       *ItemID
	// ItemOut holds the lines of the cart an edit or inspect request
	// reopens.
	ItemOut []ItemOut
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

// ElementName is "PunchOutSetupRequest".
func (*PunchOutSetupRequest) ElementName() string { return "PunchOutSetupRequest" }
func (*PunchOutSetupRequest) isRequest()          {}

// write emits the request in DTD order (BuyerCookie, Extrinsic*,
// BrowserFormPost?, Contact*, SupplierSetup?, ShipTo?, SelectedItem?,
// ItemOut*), whatever order it was read in: Coupa's 2008 requests put
// Contact before BrowserFormPost.
func (p *PunchOutSetupRequest) write(parent *etree.Element) {
	e := parent.CreateElement("PunchOutSetupRequest")
	e.CreateAttr("operation", enum(p.Operation, OperationCreate, OperationCreate, OperationInspect, OperationEdit, OperationSource))
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
	if p.ShipTo != nil {
		writeAddress(e, "ShipTo", p.ShipTo)
	}
	if p.SelectedItem != nil {
		writeItemID(e.CreateElement("SelectedItem"), *p.SelectedItem)
	}
	for i := range p.ItemOut {
		p.ItemOut[i].write(e)
	}
}

// parsePunchOutSetupRequest reads the children in any order.
func parsePunchOutSetupRequest(e *etree.Element) (RequestBody, error) {
	p := &PunchOutSetupRequest{Operation: attr(e, "operation"), Source: e}
	for c := range e.ChildElementsSeq() {
		if c.Space != "" {
			continue
		}
		switch c.Tag {
		case "BuyerCookie":
			p.BuyerCookie = innerText(c)
		case "Extrinsic":
			p.Extrinsics = append(p.Extrinsics, parseExtrinsic(c))
		case "BrowserFormPost":
			p.BrowserFormPostURL = text(childNoNS(c, "URL"))
		case "SupplierSetup":
			p.SupplierSetupURL = text(childNoNS(c, "URL"))
		case "Contact":
			p.Contacts = append(p.Contacts, parseContact(c))
		case "ShipTo":
			p.ShipTo = parseAddress(c)
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

// ElementName is "PunchOutSetupResponse".
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
	BuyerCookie string
	// OperationAllowed says what the buyer may do with the cart later:
	// create (order only), inspect or edit (reopen it).
	OperationAllowed string
	// QuoteStatus is pending or final; "" writes nothing, which means
	// final.
	QuoteStatus string
	Total       Money
	ShipTo      *Address
	Shipping    *Shipping
	Tax         *Tax
	Items       []ItemIn
}

// ElementName is "PunchOutOrderMessage".
func (*PunchOutOrderMessage) ElementName() string { return "PunchOutOrderMessage" }
func (*PunchOutOrderMessage) isMessage()          {}

// write emits (BuyerCookie, PunchOutOrderMessageHeader (Total, ShipTo?,
// Shipping?, Tax?), ItemIn*).
func (p *PunchOutOrderMessage) write(parent *etree.Element) {
	e := parent.CreateElement("PunchOutOrderMessage")
	e.CreateElement("BuyerCookie").SetText(p.BuyerCookie)
	h := e.CreateElement("PunchOutOrderMessageHeader")
	h.CreateAttr("operationAllowed", enum(p.OperationAllowed, OperationCreate, OperationCreate, OperationInspect, OperationEdit))
	if p.QuoteStatus != "" {
		h.CreateAttr("quoteStatus", enum(p.QuoteStatus, "final", "pending", "final"))
	}
	writeMoneyIn(h, "Total", p.Total)
	if p.ShipTo != nil {
		writeAddress(h, "ShipTo", p.ShipTo)
	}
	if p.Shipping != nil {
		writeShipping(h, p.Shipping)
	}
	if p.Tax != nil {
		writeTax(h, p.Tax)
	}
	for i := range p.Items {
		p.Items[i].write(e)
	}
}

func parsePunchOutOrderMessage(e *etree.Element) (MessageBody, error) {
	p := &PunchOutOrderMessage{}
	for c := range e.ChildElementsSeq() {
		if c.Space != "" {
			continue
		}
		switch c.Tag {
		case "BuyerCookie":
			p.BuyerCookie = innerText(c)
		case "PunchOutOrderMessageHeader":
			if err := p.parseHeader(c); err != nil {
				return nil, err
			}
		case "ItemIn":
			it, err := parseItemIn(c)
			if err != nil {
				return nil, err
			}
			p.Items = append(p.Items, it)
		}
	}
	return p, nil
}

func (p *PunchOutOrderMessage) parseHeader(h *etree.Element) error {
	p.OperationAllowed, p.QuoteStatus = attr(h, "operationAllowed"), attr(h, "quoteStatus")
	for c := range h.ChildElementsSeq() {
		if c.Space != "" {
			continue
		}
		var err error
		switch c.Tag {
		case "Total":
			p.Total, err = moneyIn(c, "the cart Total")
		case "ShipTo":
			p.ShipTo = parseAddress(c)
		case "Shipping":
			p.Shipping, err = parseShipping(c)
		case "Tax":
			p.Tax, err = parseTax(c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func init() {
	requestParsers["PunchOutSetupRequest"] = parsePunchOutSetupRequest
	responseParsers["PunchOutSetupResponse"] = parsePunchOutSetupResponse
	messageParsers["PunchOutOrderMessage"] = parsePunchOutOrderMessage
}

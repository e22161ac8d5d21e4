package cxml

import (
	"bytes"
	"strings"

	"github.com/beevik/etree"
)

// Document is one cXML envelope: a Header with a Request or a Message, or a
// Response. Exactly one of Request, Response and Message is set.
type Document struct {
	PayloadID string
	Timestamp Timestamp
	Version   string
	Lang      string

	Header   *Header
	Request  *Request
	Response *Response
	Message  *Message

	// Source is the parsed tree, kept so that what the model does not
	// know survives: unknown elements, attributes and extrinsics. It is nil
	// for documents built in code.
	Source *etree.Document
}

// Kind names the document by its body element: "ProfileRequest",
// "PunchOutOrderMessage", "Response" for a bare status response.
func (d *Document) Kind() string {
	switch {
	case d.Request != nil && d.Request.Body != nil:
		return d.Request.Body.ElementName()
	case d.Response != nil && d.Response.Body != nil:
		return d.Response.Body.ElementName()
	case d.Response != nil:
		return "Response"
	case d.Message != nil && d.Message.Body != nil:
		return d.Message.Body.ElementName()
	case d.Message != nil:
		return "Message"
	}
	return ""
}

// Header names who the document is from, who it is to, and who sent it.
// Sender differs from From when a hub (Ariba Network) forwards the document.
type Header struct {
	From   Party
	To     Party
	Sender Sender
}

// Party is the From or To of a Header.
type Party struct {
	Credentials []Credential
}

// Sender is the party that sent the document over the wire; its
// credential carries the shared secret.
type Sender struct {
	Credentials []Credential
	UserAgent   string
}

// Credential identifies a party in a domain (DUNS, NetworkID, ...).
// Domains are compared without regard to case ("DUNS" and "duns" are the
// same domain), identities exactly after trimming.
type Credential struct {
	Domain       string
	Identity     string
	SharedSecret string
	Type         string
}

// Matches reports whether c names the same party as other.
func (c Credential) Matches(domain, identity string) bool {
	return strings.EqualFold(strings.TrimSpace(c.Domain), strings.TrimSpace(domain)) &&
		strings.TrimSpace(c.Identity) == strings.TrimSpace(identity)
}

// Request is the Request element: one request body.
type Request struct {
	ID             string
	DeploymentMode string
	Body           RequestBody
}

// Response is the Response element: a Status and, on success, a body.
type Response struct {
	ID     string
	Status Status
	Body   ResponseBody
}

// Message is the Message element, used for the PunchOutOrderMessage.
// A missing Status means 200 OK.
type Message struct {
	ID             string
	DeploymentMode string
	InReplyTo      string
	Status         *Status
	Body           MessageBody
}

// Body is what every request, response and message body has in common.
type Body interface {
	// ElementName is the body's element name in cXML.
	ElementName() string
	// write appends the body's element to parent in DTD order.
	write(parent *etree.Element)
}

// RequestBody is the body of a Request.
type RequestBody interface {
	Body
	isRequest()
}

// ResponseBody is the body of a successful Response.
type ResponseBody interface {
	Body
	isResponse()
}

// MessageBody is the body of a Message.
type MessageBody interface {
	Body
	isMessage()
}

// UnknownRequest stands for a request type the model does not know, so
// that the gateway can still answer it with 450 Not Implemented.
type UnknownRequest struct {
	Name string
	// Element is the request element as received.
	Element *etree.Element
}

// ElementName is the request element's name as received.
func (u *UnknownRequest) ElementName() string { return u.Name }
func (u *UnknownRequest) isRequest()          {}
func (u *UnknownRequest) write(parent *etree.Element) {
	if u.Element != nil {
		parent.AddChild(u.Element.Copy())
		return
	}
	parent.CreateElement(u.Name)
}

// SniffKind guesses the type of a document that did not parse, for logs:
// the first known body element named in its first 4 KiB, or "unknown". It
// returns one of those fixed names, never document text. It reads the
// bytes as they are: a UTF-16 document is "unknown".
func SniffKind(body []byte) string {
	head := body[:min(len(body), 4096)]
	for _, n := range []string{"ProfileRequest", "PunchOutSetupRequest", "OrderRequest", "PunchOutOrderMessage",
		"InvoiceDetailRequest", "ConfirmationRequest", "StatusUpdateRequest"} {
		if bytes.Contains(head, []byte("<"+n)) {
			return n
		}
	}
	return "unknown"
}

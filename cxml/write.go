package cxml

import (
	"bytes"
	"strconv"
	"time"

	"github.com/beevik/etree"
)

// DTDVersion is the cXML version the gateway writes, and the version of the
// DTDs its output is validated against.
const DTDVersion = "1.2.069"

// DTD files. Each document names the one that declares its body.
const (
	DTDcXML          = "cXML.dtd"
	DTDInvoiceDetail = "InvoiceDetail.dtd"
	DTDFulfill       = "Fulfill.dtd"
)

// dtdNamer is implemented by bodies declared outside cXML.dtd.
type dtdNamer interface{ dtd() string }

// DTD is the file name of the DTD that declares the document's body.
func (d *Document) DTD() string {
	var b Body
	switch {
	case d.Request != nil && d.Request.Body != nil:
		b = d.Request.Body
	case d.Message != nil && d.Message.Body != nil:
		b = d.Message.Body
	case d.Response != nil && d.Response.Body != nil:
		b = d.Response.Body
	}
	if n, ok := b.(dtdNamer); ok {
		return n.dtd()
	}
	return DTDcXML
}

// SystemID is the DOCTYPE system identifier of the document.
func (d *Document) SystemID() string {
	return "http://xml.cxml.org/schemas/cXML/" + DTDVersion + "/" + d.DTD()
}

// Marshal writes the document as UTF-8 with an XML declaration and the
// DOCTYPE of the DTD its body is declared in. The timestamp is RFC 3339;
// a document without a payloadID or timestamp is an error of the caller,
// so Marshal fills neither: use Envelope to start one.
func Marshal(d *Document) ([]byte, error) {
	out := etree.NewDocument()
	out.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	out.CreateDirective(`DOCTYPE cXML SYSTEM "` + d.SystemID() + `"`)
	root := out.CreateElement("cXML")
	root.CreateAttr("payloadID", d.PayloadID)
	ts := d.Timestamp.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	root.CreateAttr("timestamp", FormatTime(ts))
	lang := d.Lang
	if lang == "" {
		lang = "en-US"
	}
	root.CreateAttr("xml:lang", lang)
	if d.Header != nil && (d.Request != nil || d.Message != nil) {
		writeHeader(root, d.Header)
	}
	switch {
	case d.Request != nil:
		e := root.CreateElement("Request")
		if d.Request.DeploymentMode != "" {
			e.CreateAttr("deploymentMode", d.Request.DeploymentMode)
		}
		if d.Request.Body != nil {
			d.Request.Body.write(e)
		}
	case d.Response != nil:
		e := root.CreateElement("Response")
		writeStatus(e, d.Response.Status)
		if d.Response.Body != nil && d.Response.Status.Success() {
			d.Response.Body.write(e)
		}
	case d.Message != nil:
		e := root.CreateElement("Message")
		if d.Message.DeploymentMode != "" {
			e.CreateAttr("deploymentMode", d.Message.DeploymentMode)
		}
		if d.Message.InReplyTo != "" {
			e.CreateAttr("inReplyTo", d.Message.InReplyTo)
		}
		if d.Message.Status != nil {
			writeStatus(e, *d.Message.Status)
		}
		if d.Message.Body != nil {
			d.Message.Body.write(e)
		}
	}
	out.Indent(2)
	var buf bytes.Buffer
	if _, err := out.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// NewResponse starts a Response document answering nothing in particular.
func NewResponse(payloadID string, now time.Time, status Status, body ResponseBody) *Document {
	return &Document{
		PayloadID: payloadID,
		Timestamp: Timestamp{Time: now, Zoned: true, Valid: true},
		Response:  &Response{Status: status, Body: body},
	}
}

func writeHeader(parent *etree.Element, h *Header) {
	e := parent.CreateElement("Header")
	writeCredentials(e.CreateElement("From"), h.From.Credentials)
	writeCredentials(e.CreateElement("To"), h.To.Credentials)
	s := e.CreateElement("Sender")
	writeCredentials(s, h.Sender.Credentials)
	ua := h.Sender.UserAgent
	if ua == "" {
		ua = UserAgent
	}
	s.CreateElement("UserAgent").SetText(ua)
}

// UserAgent is what the gateway says it is in the Sender of its documents.
const UserAgent = "cxmlgate punchout gateway 1.0"

func writeCredentials(parent *etree.Element, creds []Credential) {
	for _, c := range creds {
		e := parent.CreateElement("Credential")
		e.CreateAttr("domain", c.Domain)
		if c.Type != "" {
			e.CreateAttr("type", c.Type)
		}
		e.CreateElement("Identity").SetText(c.Identity)
		if c.SharedSecret != "" {
			e.CreateElement("SharedSecret").SetText(c.SharedSecret)
		}
	}
}

func writeStatus(parent *etree.Element, s Status) {
	e := parent.CreateElement("Status")
	e.CreateAttr("code", strconv.Itoa(s.Code))
	t := s.Text
	if t == "" {
		t = StatusText(s.Code)
	}
	e.CreateAttr("text", t)
	if s.Lang != "" {
		e.CreateAttr("xml:lang", s.Lang)
	} else if s.Detail != "" {
		e.CreateAttr("xml:lang", "en-US")
	}
	if s.Detail != "" {
		e.SetText(s.Detail)
	}
}

// writeMoney appends <Money currency="..">amount</Money>.
func writeMoney(parent *etree.Element, m Money) {
	e := parent.CreateElement("Money")
	e.CreateAttr("currency", m.Currency)
	e.SetText(m.String())
}

// optAttr sets an attribute only when its value is not empty.
func optAttr(e *etree.Element, key, value string) {
	if value != "" {
		e.CreateAttr(key, value)
	}
}

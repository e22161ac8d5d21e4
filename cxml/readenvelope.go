package cxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// Envelope is what ReadEnvelope reads of a document: what authenticating it
// and naming it take, and not its body.
type Envelope struct {
	// Text is the document decoded to UTF-8 (see Decode): what
	// Envelope.Parse reads, and the copy to log.
	Text      []byte
	PayloadID string
	Timestamp Timestamp
	// Header is nil when the document has none.
	Header *Header
	// Exactly one of Request, Response and Message is true: the element
	// that holds the body.
	Request, Response, Message bool
	// Kind is the local name of the first element inside the Request,
	// Response or Message: "OrderRequest", "PunchOutOrderMessage", in a
	// Response most often "Status". It is "" when that element holds no
	// element. Kind is document text, any name up to the document's size:
	// map it to a fixed set of names before it labels a metric.
	Kind string
}

// ReadEnvelope reads the envelope of a cXML document without building a
// tree: it decodes the document (see Decode), applies the markup checks
// Parse applies, then reads tokens with encoding/xml up to the start tag
// of the first element inside the Request, Response or Message, and no
// further. What comes after that start tag, well formed or not, is Parse's
// business. Decoding and the markup checks scan the whole document without
// allocating, except that a document not in UTF-8 is transcoded once into
// Text. Beyond Text, ReadEnvelope keeps the Header and the names of the
// open elements; the tokens it reads allocate garbage in proportion to the
// bytes before the body (encoding/xml allocates for every token), and the
// bounds on elements below stop a run of elements there early. So a
// request can be authenticated before Parse builds its tree.
//
// It refuses, with an *Error carrying the code Parse gives for the same
// defect: a body over limits.MaxBytes (413); an encoding Decode cannot
// read, hostile markup, XML that is not well formed and nesting deeper
// than limits.MaxDepth in what it reads (406); a root other than <cXML>, no
// payloadID, a second Header, a Request or Message without a Header before
// it, a Header with more than 256 elements inside it or with more than 16
// credentials in one party, more than 256 other elements before the body,
// and a document that ends its root or its Request or Response without a
// body (400). Where the Header holds the same credential elements twice,
// it reads them as Parse does: the last From, To and Sender, the first
// Identity, SharedSecret and UserAgent.
func ReadEnvelope(data []byte, limits Limits) (*Envelope, error) {
	limits = limits.withDefaults()
	text, err := prepare(data, limits)
	if err != nil {
		return nil, err
	}
	r := envelopeReader{
		dec:      xml.NewDecoder(bytes.NewReader(text)),
		maxDepth: limits.MaxDepth,
		env:      &Envelope{Text: text},
	}
	r.dec.CharsetReader = passThrough
	if err := r.read(); err != nil {
		return nil, err
	}
	return r.env, nil
}

// Parse reads the whole document the envelope was read from, as Parse
// does, from Text as ReadEnvelope left it. It neither decodes Text nor
// checks its size or markup again: a document that decoding made longer
// than limits.MaxBytes still reads (Parse(e.Text, limits) would refuse it
// with 413).
func (e *Envelope) Parse(limits Limits) (*Document, error) {
	return parseText(e.Text, limits.withDefaults(), fastRead)
}

// The parts of the envelope an open element can be.
const (
	roleOther      = iota // nothing ReadEnvelope keeps
	roleRoot              // the cXML element
	roleHeader            // the Header
	roleParty             // a From, To or Sender in the Header
	roleCredential        // a Credential in a party
	roleIdentity          // the first Identity (no prefix) in a Credential
	roleSecret            // the first SharedSecret (no prefix) in a Credential
	roleUserAgent         // the first UserAgent in a Sender
	roleBody              // the Request, Response or Message
	roleStray             // another element of the cXML element, or inside one
)

type openFrame struct {
	name xml.Name
	role int
}

// envelopeReader holds what ReadEnvelope has read so far.
type envelopeReader struct {
	dec      *xml.Decoder
	maxDepth int
	env      *Envelope
	open     []openFrame
	seen     map[xml.Name]struct{} // for the attributes of a long start tag

	headerElements, strayElements int
	// The party, credential and texts being read.
	party       string
	credentials []Credential
	credential  Credential
	identity    bool // the credential's Identity was found
	secret      bool // and its SharedSecret
	userAgent   bool // the Sender's UserAgent was found
	text        []byte
}

func (r *envelopeReader) read() error {
	for {
		tok, err := r.dec.RawToken()
		if errors.Is(err, io.EOF) {
			if len(r.open) > 0 {
				return notWellFormed(etree.ErrXML)
			}
			return errorf(StatusNotAcceptable, nil, "the document has no root element")
		}
		if err != nil {
			return notWellFormed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			done, err := r.start(t)
			if done || err != nil {
				return err
			}
		case xml.EndElement:
			done, err := r.end(t)
			if done || err != nil {
				return err
			}
		case xml.CharData:
			switch {
			case len(r.open) == 0:
				if len(bytes.TrimSpace(t)) > 0 {
					return textOutsideRoot()
				}
			case r.top().role == roleIdentity || r.top().role == roleSecret || r.top().role == roleUserAgent:
				r.text = append(r.text, t...)
			}
		}
	}
}

func (r *envelopeReader) top() *openFrame { return &r.open[len(r.open)-1] }

// start reads a start tag. done is true once it is the first element of
// the body.
func (r *envelopeReader) start(t xml.StartElement) (done bool, err error) {
	if len(r.open)+1 > r.maxDepth {
		return false, tooDeep(etree.ErrMaxDepth, r.maxDepth)
	}
	if err := r.uniqueAttrs(t); err != nil {
		return false, err
	}
	role := roleOther
	parent := roleOther
	if len(r.open) > 0 {
		parent = r.top().role
	}
	switch {
	case len(r.open) == 0:
		if err := r.root(t); err != nil {
			return false, err
		}
		role = roleRoot
	case parent == roleRoot:
		role, err = r.rootChild(t)
		if err != nil {
			return false, err
		}
	case parent == roleBody:
		r.env.Kind = t.Name.Local
		return true, nil
	case parent == roleStray:
		role = roleStray
		if r.strayElements++; r.strayElements > maxEnvelopeElements {
			return false, tooManyBeforeBody()
		}
	default: // inside the Header
		if r.headerElements++; r.headerElements > maxEnvelopeElements {
			return false, headerTooLarge()
		}
		role = r.headerChild(parent, t)
		if role == roleCredential {
			if len(r.credentials) == maxPartyCredentials {
				return false, tooManyCredentials(r.party)
			}
			r.credential = Credential{Domain: strings.TrimSpace(attrValue(t, "domain")), Type: attrValue(t, "type")}
			r.identity, r.secret = false, false
		}
	}
	r.open = append(r.open, openFrame{name: t.Name, role: role})
	return false, nil
}

// root reads the cXML element's start tag.
func (r *envelopeReader) root(t xml.StartElement) error {
	if !strings.EqualFold(t.Name.Local, "cXML") || t.Name.Space != "" {
		return notCXML(fullName(t.Name))
	}
	r.env.PayloadID = strings.TrimSpace(attrValue(t, "payloadID"))
	if r.env.PayloadID == "" {
		return noPayloadID()
	}
	r.env.Timestamp = ParseTimestamp(attrValue(t, "timestamp"))
	return nil
}

// rootChild reads the start tag of an element of the cXML element. Like
// Parse, it takes any prefix: <x:Header> is the Header.
func (r *envelopeReader) rootChild(t xml.StartElement) (int, error) {
	switch t.Name.Local {
	case "Header":
		if r.env.Header != nil {
			return 0, errorf(StatusBadRequest, nil, "a cXML document carries one Header")
		}
		r.env.Header = &Header{}
		return roleHeader, nil
	case "Request":
		if r.env.Header == nil {
			return 0, noRequestHeader()
		}
		r.env.Request = true
		return roleBody, nil
	case "Message":
		if r.env.Header == nil {
			return 0, noMessageHeader()
		}
		r.env.Message = true
		return roleBody, nil
	case "Response":
		r.env.Response = true
		return roleBody, nil
	}
	if r.strayElements++; r.strayElements > maxEnvelopeElements {
		return 0, tooManyBeforeBody()
	}
	return roleStray, nil
}

// headerChild names the role of an element inside the Header, as
// parseHeader and parseCredentials read it.
func (r *envelopeReader) headerChild(parent int, t xml.StartElement) int {
	switch parent {
	case roleHeader:
		switch t.Name.Local {
		case "From", "To", "Sender":
			r.party, r.credentials, r.userAgent = t.Name.Local, nil, false
			return roleParty
		}
	case roleParty:
		switch {
		case t.Name.Local == "Credential":
			return roleCredential
		case t.Name.Local == "UserAgent" && r.party == "Sender" && !r.userAgent:
			r.userAgent, r.text = true, r.text[:0]
			return roleUserAgent
		}
	case roleCredential:
		// A prefixed <x:SharedSecret> is not the cXML one.
		switch {
		case t.Name.Space != "":
		case t.Name.Local == "Identity" && !r.identity:
			r.identity, r.text = true, r.text[:0]
			return roleIdentity
		case t.Name.Local == "SharedSecret" && !r.secret:
			r.secret, r.text = true, r.text[:0]
			return roleSecret
		}
	}
	return roleOther
}

// end reads an end tag. done is true when the body holds no element and
// ReadEnvelope has read all it reads.
func (r *envelopeReader) end(t xml.EndElement) (done bool, err error) {
	if len(r.open) == 0 || r.top().name != t.Name {
		return false, notWellFormed(etree.ErrXML)
	}
	f := r.open[len(r.open)-1]
	r.open = r.open[:len(r.open)-1]
	h := r.env.Header
	switch f.role {
	case roleIdentity:
		r.credential.Identity = strings.TrimSpace(string(r.text))
	case roleSecret:
		r.credential.SharedSecret = strings.TrimSpace(string(r.text))
	case roleUserAgent:
		h.Sender.UserAgent = strings.TrimSpace(string(r.text))
	case roleCredential:
		r.credentials = append(r.credentials, r.credential)
	case roleParty:
		// A later From, To or Sender replaces an earlier one, as in Parse.
		switch f.name.Local {
		case "From":
			h.From.Credentials = r.credentials
		case "To":
			h.To.Credentials = r.credentials
		case "Sender":
			h.Sender.Credentials = r.credentials
			if !r.userAgent {
				h.Sender.UserAgent = ""
			}
		}
		r.credentials = nil
	case roleBody:
		switch {
		case r.env.Request:
			return false, errorf(StatusBadRequest, nil, "a Request carries exactly one request element, found 0")
		case r.env.Response:
			return false, noStatus()
		}
		return true, nil
	case roleRoot:
		return false, noBody()
	}
	return false, nil
}

// uniqueAttrs refuses a start tag with two attributes of the same name,
// as Parse does.
func (r *envelopeReader) uniqueAttrs(t xml.StartElement) error {
	if len(t.Attr) > maxScannedAttrs {
		if r.seen == nil {
			r.seen = make(map[xml.Name]struct{}, len(t.Attr))
		}
		clear(r.seen)
	}
	for i, a := range t.Attr {
		dup := false
		if len(t.Attr) > maxScannedAttrs {
			_, dup = r.seen[a.Name]
			r.seen[a.Name] = struct{}{}
		} else {
			for _, b := range t.Attr[:i] {
				if a.Name == b.Name {
					dup = true
					break
				}
			}
		}
		if dup {
			return duplicateAttr(fullName(t.Name), fullName(a.Name))
		}
	}
	return nil
}

// attrValue is etree's SelectAttrValue(key, ""): the first attribute of
// that local name, whatever its prefix.
func attrValue(t xml.StartElement, key string) string {
	for _, a := range t.Attr {
		if a.Name.Local == key {
			return a.Value
		}
	}
	return ""
}

// fullName is a name with its prefix, as etree's FullTag writes it.
func fullName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

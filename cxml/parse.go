package cxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/beevik/etree"
	"golang.org/x/net/html/charset"
)

// Limits bound what Parse accepts. The zero value means the defaults.
type Limits struct {
	// MaxBytes is the largest document accepted (default 2 MiB).
	MaxBytes int64
	// MaxDepth is the deepest element nesting accepted (default 64; real
	// cXML documents nest about 12 deep).
	MaxDepth int
}

// Defaults for Limits.
const (
	DefaultMaxBytes = 2 << 20
	DefaultMaxDepth = 64
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// ReadLimited reads a body of at most limit bytes. A longer body is
// refused with 413 after reading limit+1 bytes, never all of it.
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, errorf(StatusBadRequest, err, "the request body could not be read")
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(limit)
	}
	return b, nil
}

func tooLarge(limit int64) *Error {
	return errorf(StatusTooLarge, nil, "the document is larger than the %s this gateway accepts", byteSize(limit))
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Parse reads one cXML document. It refuses, with an *Error carrying the
// status to answer: bodies over the size limit (413), hostile markup and
// XML that is not well formed (406), and documents that are well formed
// but not a cXML envelope (400). A request type the model does not know is
// not an error: its body is an *UnknownRequest.
func Parse(data []byte, limits Limits) (*Document, error) {
	return parse(data, limits, fastRead)
}

// parse is Parse with the tree read by fast when it can; the benchmarks
// measure it without.
func parse(data []byte, limits Limits, fast func([]byte, int) (*etree.Document, bool)) (*Document, error) {
	limits = limits.withDefaults()
	if int64(len(data)) > limits.MaxBytes {
		return nil, tooLarge(limits.MaxBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errorf(StatusBadRequest, nil, "the request body is empty; POST a cXML document")
	}
	if err := checkMarkup(data); err != nil {
		return nil, err
	}
	src, err := readTree(data, limits, fast)
	if err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, errorf(StatusNotAcceptable, err, "the document nests elements deeper than %d levels", limits.MaxDepth)
		}
		return nil, errorf(StatusNotAcceptable, err, "the document is not well-formed XML: %s", xmlErrorText(err))
	}
	root := src.Root()
	if root == nil {
		return nil, errorf(StatusNotAcceptable, nil, "the document has no root element")
	}
	// etree stops quietly at the end of input with only the document level
	// open, so a second root element or text after the root would pass.
	for _, tok := range src.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if t != root {
				return nil, errorf(StatusNotAcceptable, nil, "the document is not well-formed XML: it has more than one root element (<%s> after <%s>); send one cXML document per request", t.Tag, root.Tag)
			}
		case *etree.CharData:
			if strings.TrimSpace(strings.TrimPrefix(t.Data, "\ufeff")) != "" {
				return nil, errorf(StatusNotAcceptable, nil, "the document is not well-formed XML: it has text outside the root element")
			}
		}
	}
	return parseEnvelope(src, root)
}

// readTree builds the tree of data: with fast when it reads the document,
// else with etree's reader, whose errors Parse reports.
func readTree(data []byte, limits Limits, fast func([]byte, int) (*etree.Document, bool)) (*etree.Document, error) {
	settings := etree.ReadSettings{
		CharsetReader: charset.NewReaderLabel,
		MaxDepth:      limits.MaxDepth,
	}
	if doc, ok := fast(data, limits.MaxDepth); ok {
		doc.ReadSettings = settings
		return doc, nil
	}
	doc := etree.NewDocument()
	doc.ReadSettings = settings
	return doc, doc.ReadFromBytes(data)
}

var xmlLineRe = regexp.MustCompile(`^XML syntax error on line (\d+): `)

// xmlErrorText rewrites a decoder error for a buyer's administrator. It
// never quotes document text: an unescaped & in a SharedSecret would
// otherwise put the secret in the answer and in the exchange log.
func xmlErrorText(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "etree: ")
	line := ""
	if m := xmlLineRe.FindStringSubmatch(s); m != nil {
		s, line = s[len(m[0]):], " (line "+m[1]+")"
	}
	switch {
	case strings.HasPrefix(s, "invalid character entity"):
		s = "an unescaped '&' (write it as &amp;)"
	case strings.Contains(s, "unexpected EOF"), s == "invalid XML format":
		s = "it ends before its elements are closed; was it cut off?"
	case strings.HasPrefix(s, "invalid character") || strings.HasPrefix(s, "illegal character"):
		s = "a character that XML does not allow"
	}
	return s + line
}

// checkMarkup refuses markup declarations other than comments, CDATA
// sections and one DOCTYPE of the standard external cXML form in the
// prolog. Go's XML decoder expands no entities, so a billion-laughs
// document could not explode here; it is refused all the same, with a
// text that says why, and so is anything that asks for DTD processing.
func checkMarkup(data []byte) error {
	i := 0
	seenDoctype := false
	for {
		j := bytes.Index(data[i:], []byte("<!"))
		if j < 0 {
			return nil
		}
		i += j
		rest := data[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			k := bytes.Index(rest[4:], []byte("-->"))
			if k < 0 {
				return nil // The parser reports the unterminated comment.
			}
			i += 4 + k + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			k := bytes.Index(rest, []byte("]]>"))
			if k < 0 {
				return nil
			}
			i += k + 3
		case hasPrefixFold(rest, "<!DOCTYPE"):
			if seenDoctype || bytes.IndexByte(bytes.TrimSpace(stripProlog(data[:i])), '<') >= 0 {
				return errorf(StatusNotAcceptable, nil, "a DOCTYPE may appear only once, before the cXML element")
			}
			seenDoctype = true
			n, err := checkDoctype(rest)
			if err != nil {
				return err
			}
			i += n
		case hasPrefixFold(rest, "<!ENTITY"):
			return errorf(StatusNotAcceptable, nil, "entity declarations are not accepted; send the document without an internal DTD subset")
		default:
			return errorf(StatusNotAcceptable, nil, "markup declarations are not accepted in a cXML document")
		}
	}
}

// stripProlog removes the XML declaration, processing instructions and
// comments, so that what is left before a DOCTYPE shows whether an element
// came first.
func stripProlog(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		switch {
		case bytes.HasPrefix(b, []byte("<?")):
			k := bytes.Index(b, []byte("?>"))
			if k < 0 {
				return append(out, b...)
			}
			b = b[k+2:]
		case bytes.HasPrefix(b, []byte("<!--")):
			k := bytes.Index(b, []byte("-->"))
			if k < 0 {
				return append(out, b...)
			}
			b = b[k+3:]
		default:
			out = append(out, b[0])
			b = b[1:]
		}
	}
	return out
}

// doctypeRe is the standard external form: <!DOCTYPE cXML SYSTEM
// "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd">, with an optional
// empty internal subset, which Ariba-era documents carry.
var doctypeRe = regexp.MustCompile(`(?is)^<!DOCTYPE\s+cxml\s+SYSTEM\s+("https?://xml\.cxml\.org/schemas/cxml/[0-9.]+/[a-z]+\.dtd"|'https?://xml\.cxml\.org/schemas/cxml/[0-9.]+/[a-z]+\.dtd')\s*(\[\s*\]\s*)?>`)

func checkDoctype(b []byte) (int, error) {
	end := bytes.IndexByte(b, '>')
	if open := bytes.IndexByte(b, '['); open >= 0 && (end < 0 || open < end) {
		closeAt := bytes.IndexByte(b[open:], ']')
		if closeAt < 0 || len(bytes.TrimSpace(b[open+1:open+closeAt])) > 0 {
			if bytes.Contains(bytes.ToUpper(b[open:]), []byte("<!ENTITY")) {
				return 0, errorf(StatusNotAcceptable, nil, "entity declarations are not accepted; send the document without an internal DTD subset")
			}
			return 0, errorf(StatusNotAcceptable, nil, "a DOCTYPE with an internal subset is not accepted; use <!DOCTYPE cXML SYSTEM \"http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd\">")
		}
	}
	// The standard DOCTYPE has no '>' before its end; matching only up to
	// the first one keeps the regexp off the rest of the document.
	if end >= 0 {
		b = b[:end+1]
	}
	m := doctypeRe.Find(b)
	if m == nil {
		return 0, errorf(StatusNotAcceptable, nil, "the DOCTYPE is not the standard cXML one; use <!DOCTYPE cXML SYSTEM \"http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd\"> or none")
	}
	return len(m), nil
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

func parseEnvelope(src *etree.Document, root *etree.Element) (*Document, error) {
	if !strings.EqualFold(root.Tag, "cXML") || root.Space != "" {
		return nil, errorf(StatusBadRequest, nil, "the root element is <%s>, not <cXML>", root.FullTag())
	}
	d := &Document{
		PayloadID: strings.TrimSpace(root.SelectAttrValue("payloadID", "")),
		Version:   root.SelectAttrValue("version", ""),
		Lang:      attrLang(root),
		Source:    src,
	}
	if d.PayloadID == "" {
		return nil, errorf(StatusBadRequest, nil, "the cXML element has no payloadID")
	}
	d.Timestamp = ParseTimestamp(root.SelectAttrValue("timestamp", ""))

	var req, resp, msg *etree.Element
	n := 0
	for _, c := range root.ChildElements() {
		switch c.Tag {
		case "Header":
			h, err := parseHeader(c)
			if err != nil {
				return nil, err
			}
			d.Header = h
		case "Request":
			req, n = c, n+1
		case "Response":
			resp, n = c, n+1
		case "Message":
			msg, n = c, n+1
		}
	}
	if n != 1 {
		return nil, errorf(StatusBadRequest, nil, "a cXML document carries exactly one Request, Response or Message")
	}
	switch {
	case req != nil:
		if d.Header == nil {
			return nil, errorf(StatusBadRequest, nil, "the request has no Header; From, To and Sender credentials are required")
		}
		r, err := parseRequest(req)
		if err != nil {
			return nil, err
		}
		d.Request = r
	case resp != nil:
		r, err := parseResponse(resp)
		if err != nil {
			return nil, err
		}
		d.Response = r
	case msg != nil:
		if d.Header == nil {
			return nil, errorf(StatusBadRequest, nil, "the message has no Header")
		}
		m, err := parseMessage(msg)
		if err != nil {
			return nil, err
		}
		d.Message = m
	}
	return d, nil
}

func parseHeader(e *etree.Element) (*Header, error) {
	h := &Header{}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "From":
			h.From.Credentials = parseCredentials(c)
		case "To":
			h.To.Credentials = parseCredentials(c)
		case "Sender":
			h.Sender.Credentials = parseCredentials(c)
			h.Sender.UserAgent = text(c.SelectElement("UserAgent"))
		}
	}
	return h, nil
}

func parseCredentials(e *etree.Element) []Credential {
	var out []Credential
	for _, c := range e.SelectElements("Credential") {
		out = append(out, Credential{
			Domain:       strings.TrimSpace(c.SelectAttrValue("domain", "")),
			Type:         c.SelectAttrValue("type", ""),
			Identity:     text(childNoNS(c, "Identity")),
			SharedSecret: text(childNoNS(c, "SharedSecret")),
		})
	}
	return out
}

// requestParsers maps a request element name to its parser. Request types
// not listed are read as *UnknownRequest.
var requestParsers = map[string]func(*etree.Element) (RequestBody, error){}

var responseParsers = map[string]func(*etree.Element) (ResponseBody, error){}

var messageParsers = map[string]func(*etree.Element) (MessageBody, error){}

func parseRequest(e *etree.Element) (*Request, error) {
	r := &Request{
		ID:             e.SelectAttrValue("Id", ""),
		DeploymentMode: e.SelectAttrValue("deploymentMode", ""),
	}
	children := e.ChildElements()
	if len(children) != 1 {
		return nil, errorf(StatusBadRequest, nil, "a Request carries exactly one request element, found %d", len(children))
	}
	body := children[0]
	parse, ok := requestParsers[body.Tag]
	if !ok {
		r.Body = &UnknownRequest{Name: body.Tag, Element: body}
		return r, nil
	}
	b, err := parse(body)
	if err != nil {
		return nil, err
	}
	r.Body = b
	return r, nil
}

func parseResponse(e *etree.Element) (*Response, error) {
	r := &Response{ID: e.SelectAttrValue("Id", "")}
	st := e.SelectElement("Status")
	if st == nil {
		return nil, errorf(StatusBadRequest, nil, "the Response has no Status")
	}
	s, err := parseStatus(st)
	if err != nil {
		return nil, err
	}
	r.Status = s
	for _, c := range e.ChildElements() {
		if c.Tag == "Status" {
			continue
		}
		if parse, ok := responseParsers[c.Tag]; ok {
			b, err := parse(c)
			if err != nil {
				return nil, err
			}
			r.Body = b
		}
	}
	return r, nil
}

func parseMessage(e *etree.Element) (*Message, error) {
	m := &Message{
		ID:             e.SelectAttrValue("Id", ""),
		DeploymentMode: e.SelectAttrValue("deploymentMode", ""),
		InReplyTo:      e.SelectAttrValue("inReplyTo", ""),
	}
	for _, c := range e.ChildElements() {
		if c.Tag == "Status" {
			s, err := parseStatus(c)
			if err != nil {
				return nil, err
			}
			m.Status = &s
			continue
		}
		if parse, ok := messageParsers[c.Tag]; ok {
			b, err := parse(c)
			if err != nil {
				return nil, err
			}
			m.Body = b
		}
	}
	return m, nil
}

func parseStatus(e *etree.Element) (Status, error) {
	var code int
	if _, err := fmt.Sscanf(strings.TrimSpace(e.SelectAttrValue("code", "")), "%d", &code); err != nil {
		return Status{}, errorf(StatusBadRequest, err, "the Status has no numeric code")
	}
	return Status{
		Code:   code,
		Text:   e.SelectAttrValue("text", ""),
		Detail: strings.TrimSpace(allText(e)),
		Lang:   attrLang(e),
	}, nil
}

// childNoNS is the first child named tag without a namespace prefix.
// etree's SelectElement would also match <x:SharedSecret>; a prefixed
// element is not the cXML one.
func childNoNS(e *etree.Element, tag string) *etree.Element {
	if e == nil {
		return nil
	}
	// Ranging over Child, not ChildElements, saves a slice per lookup,
	// and the model looks up children of nearly every element it reads.
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok && c.Space == "" && c.Tag == tag {
			return c
		}
	}
	return nil
}

// text is the trimmed character data of e, or "" for a nil element.
func text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(allText(e))
}

// allText concatenates e's own character data (not its children's).
func allText(e *etree.Element) string {
	// Most elements hold one run of text; return it without copying.
	if len(e.Child) == 1 {
		if cd, ok := e.Child[0].(*etree.CharData); ok {
			return cd.Data
		}
	}
	var sb strings.Builder
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok {
			sb.WriteString(cd.Data)
		}
	}
	return sb.String()
}

// attrLang reads xml:lang.
func attrLang(e *etree.Element) string {
	for _, a := range e.Attr {
		if a.Space == "xml" && a.Key == "lang" {
			return a.Value
		}
	}
	return ""
}

package cxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
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

// Parse reads one cXML document. It decodes it to UTF-8 first (see Decode)
// and reads the decoded text only. It refuses, with an *Error carrying the
// status to answer: bodies over the size limit (413), encodings it cannot
// decode, hostile markup and XML that is not well formed (406), and
// documents that are well formed but not a cXML envelope (400). A request
// type the model does not know is not an error: its body is an
// *UnknownRequest.
func Parse(data []byte, limits Limits) (*Document, error) {
	return parse(data, limits, fastRead)
}

// parse is Parse with the tree read by fast when it can; the benchmarks
// measure it without.
func parse(data []byte, limits Limits, fast func([]byte, int) (*etree.Document, bool)) (*Document, error) {
	limits = limits.withDefaults()
	text, err := prepare(data, limits)
	if err != nil {
		return nil, err
	}
	return parseText(text, limits, fast)
}

// prepare is what Parse and ReadEnvelope do before they read any XML: the
// size limit, decoding, the empty body and the markup checks, the last two
// on the decoded text. It returns the decoded text.
func prepare(data []byte, limits Limits) ([]byte, error) {
	if int64(len(data)) > limits.MaxBytes {
		return nil, tooLarge(limits.MaxBytes)
	}
	text, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(text)) == 0 {
		return nil, errorf(StatusBadRequest, nil, "the request body is empty; POST a cXML document")
	}
	if err := checkMarkup(text); err != nil {
		return nil, err
	}
	return text, nil
}

// parseText reads text that prepare returned.
func parseText(text []byte, limits Limits, fast func([]byte, int) (*etree.Document, bool)) (*Document, error) {
	src, err := readTree(text, limits, fast)
	if err != nil {
		var ce *Error
		switch {
		case errors.As(err, &ce):
			return nil, ce
		case errors.Is(err, etree.ErrMaxDepth):
			return nil, tooDeep(err, limits.MaxDepth)
		}
		return nil, notWellFormed(err)
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
				return nil, errorf(StatusNotAcceptable, nil, "the document is not well-formed XML: it has more than one root element (<%s> after <%s>); send one cXML document per request", shortName(t.Tag), shortName(root.Tag))
			}
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, textOutsideRoot()
			}
		}
	}
	return parseEnvelope(src, root)
}

func tooDeep(err error, maxDepth int) *Error {
	return errorf(StatusNotAcceptable, err, "the document nests elements deeper than %d levels", maxDepth)
}

func notWellFormed(err error) *Error {
	return errorf(StatusNotAcceptable, err, "the document is not well-formed XML: %s", xmlErrorText(err))
}

func textOutsideRoot() *Error {
	return errorf(StatusNotAcceptable, nil, "the document is not well-formed XML: it has text outside the root element")
}

// readTree builds the tree of text, which Decode returned: with fast when
// it reads the document, else with etree's reader, whose errors Parse
// reports. etree keeps only one of two attributes of the same name, so
// the tree it reads keeps both and readTree refuses it (fast refuses such
// a document itself).
func readTree(text []byte, limits Limits, fast func([]byte, int) (*etree.Document, bool)) (*etree.Document, error) {
	settings := etree.ReadSettings{
		CharsetReader:          passThrough,
		MaxDepth:               limits.MaxDepth,
		PreserveDuplicateAttrs: true,
	}
	if doc, ok := fast(text, limits.MaxDepth); ok {
		doc.ReadSettings = settings
		return doc, nil
	}
	doc := etree.NewDocument()
	doc.ReadSettings = settings
	if err := doc.ReadFromBytes(text); err != nil {
		return doc, err
	}
	if err := uniqueAttrs(&doc.Element); err != nil {
		return doc, err
	}
	return doc, nil
}

// maxScannedAttrs is the number of attributes up to which uniqueAttrs
// compares each with those before it; beyond it, a map.
const maxScannedAttrs = 8

// uniqueAttrs refuses a tree with an element that has two attributes of
// the same name (prefix and local name): XML's "Unique Att Spec"
// well-formedness constraint, which encoding/xml does not check.
func uniqueAttrs(top *etree.Element) error {
	var seen map[[2]string]struct{}
	stack := []*etree.Element{top}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(e.Attr) > maxScannedAttrs {
			if seen == nil {
				seen = make(map[[2]string]struct{}, len(e.Attr))
			}
			clear(seen)
		}
		for i, a := range e.Attr {
			dup := false
			if len(e.Attr) > maxScannedAttrs {
				name := [2]string{a.Space, a.Key}
				_, dup = seen[name]
				seen[name] = struct{}{}
			} else {
				for _, b := range e.Attr[:i] {
					if a.Space == b.Space && a.Key == b.Key {
						dup = true
						break
					}
				}
			}
			if dup {
				return duplicateAttr(e.FullTag(), a.FullKey())
			}
		}
		// Children go on the stack last first, so that the first
		// duplicate in document order is the one reported.
		for i := len(e.Child) - 1; i >= 0; i-- {
			if c, ok := e.Child[i].(*etree.Element); ok {
				stack = append(stack, c)
			}
		}
	}
	return nil
}

func duplicateAttr(element, attr string) *Error {
	return errorf(StatusNotAcceptable, nil, "the document is not well-formed XML: the element <%s> has the attribute %s twice", shortName(element), shortName(attr))
}

// shortName cuts a name from the document to 64 bytes for an error text:
// a name may be as long as the document.
func shortName(s string) string {
	if len(s) <= 64 {
		return s
	}
	i := 64
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
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
		return nil, notCXML(root.FullTag())
	}
	d := &Document{
		PayloadID: strings.TrimSpace(root.SelectAttrValue("payloadID", "")),
		Version:   root.SelectAttrValue("version", ""),
		Lang:      attrLang(root),
		Source:    src,
	}
	if d.PayloadID == "" {
		return nil, noPayloadID()
	}
	d.Timestamp = ParseTimestamp(root.SelectAttrValue("timestamp", ""))

	var req, resp, msg, body *etree.Element
	n, stray := 0, 0
	for _, c := range root.ChildElements() {
		switch c.Tag {
		case "Header":
			// ReadEnvelope reads the Header that comes before the body and
			// stops at the body: the Header it authenticates must be the
			// only one.
			if d.Header != nil {
				return nil, errorf(StatusBadRequest, nil, "a cXML document carries one Header")
			}
			if body != nil {
				return nil, errorf(StatusBadRequest, nil, "the Header comes after the %s; it must come first", body.Tag)
			}
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
		default:
			if body == nil {
				if stray += countElements(c, maxEnvelopeElements+1-stray); stray > maxEnvelopeElements {
					return nil, tooManyBeforeBody()
				}
			}
		}
		if body == nil && (req != nil || resp != nil || msg != nil) {
			body = c
		}
	}
	if n != 1 {
		return nil, noBody()
	}
	switch {
	case req != nil:
		if d.Header == nil {
			return nil, noRequestHeader()
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
			return nil, noMessageHeader()
		}
		m, err := parseMessage(msg)
		if err != nil {
			return nil, err
		}
		d.Message = m
	}
	return d, nil
}

// Bounds on the envelope ReadEnvelope reads before it authenticates, which
// Parse applies too, so that both accept the same documents: the elements
// inside the Header, the credentials of each party, and the elements
// before the body that are not the Header (cXML's DTD allows none).
const (
	maxEnvelopeElements = 256
	maxPartyCredentials = 16
)

func headerTooLarge() *Error {
	return errorf(StatusBadRequest, nil, "the Header is too large: it holds more than %d elements; a cXML Header holds From, To and Sender", maxEnvelopeElements)
}

func tooManyCredentials(party string) *Error {
	return errorf(StatusBadRequest, nil, "the Header is too large: its %s carries more than %d credentials", shortName(party), maxPartyCredentials)
}

func tooManyBeforeBody() *Error {
	return errorf(StatusBadRequest, nil, "the cXML element holds more than %d elements before its Request, Response or Message; send the Header and the body only", maxEnvelopeElements)
}

// countElements counts e and the elements inside it, up to limit (at
// least 1). It recurses no deeper than the tree, which the depth limit
// bounds.
func countElements(e *etree.Element, limit int) int {
	n := 1
	for _, t := range e.Child {
		if n >= limit {
			break
		}
		if c, ok := t.(*etree.Element); ok {
			n += countElements(c, limit-n)
		}
	}
	return n
}

// The refusals of an envelope that Parse and ReadEnvelope share.
func notCXML(root string) *Error {
	return errorf(StatusBadRequest, nil, "the root element is <%s>, not <cXML>", shortName(root))
}

func noPayloadID() *Error {
	return errorf(StatusBadRequest, nil, "the cXML element has no payloadID")
}

func noBody() *Error {
	return errorf(StatusBadRequest, nil, "a cXML document carries exactly one Request, Response or Message")
}

func noRequestHeader() *Error {
	return errorf(StatusBadRequest, nil, "the request has no Header; From, To and Sender credentials are required")
}

func noMessageHeader() *Error {
	return errorf(StatusBadRequest, nil, "the message has no Header")
}

func noStatus() *Error {
	return errorf(StatusBadRequest, nil, "the Response has no Status")
}

func parseHeader(e *etree.Element) (*Header, error) {
	inside := 0
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok {
			if inside += countElements(c, maxEnvelopeElements+1-inside); inside > maxEnvelopeElements {
				return nil, headerTooLarge()
			}
		}
	}
	h := &Header{}
	for _, c := range e.ChildElements() {
		var creds *[]Credential
		switch c.Tag {
		case "From":
			creds = &h.From.Credentials
		case "To":
			creds = &h.To.Credentials
		case "Sender":
			creds = &h.Sender.Credentials
			h.Sender.UserAgent = text(c.SelectElement("UserAgent"))
		default:
			continue
		}
		cs := parseCredentials(c)
		if len(cs) > maxPartyCredentials {
			return nil, tooManyCredentials(c.Tag)
		}
		*creds = cs
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
		return nil, noStatus()
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

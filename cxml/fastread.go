package cxml

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// fastRead builds the tree etree's reader builds from data with Parse's
// read settings, token for token, at a fraction of the cost: etree reads
// through encoding/xml's RawToken, which takes the input a byte at a time
// and allocates for every token. It reads only what it fully understands
// (UTF-8, ASCII names, the predefined entities and character references,
// a DOCTYPE without an internal subset, attributes of distinct names) and
// answers ok=false for anything else, well formed or not, and for nesting
// deeper than maxDepth. Parse
// then reads the document with etree, which decides, and words, what is
// wrong with it. It never accepts what etree refuses.
func fastRead(data []byte, maxDepth int) (*etree.Document, bool) {
	// Each slab's first array is sized from the document, so that it is
	// most likely the only one: every element, comment, PI, directive and
	// CDATA section starts at a '<', most elements have an end tag that
	// starts at another, and every text token ends at a '<' or at the end.
	lt := bytes.Count(data, []byte("<"))
	r := treeReader{
		data:     data,
		maxDepth: maxDepth,
		elems:    slab[etree.Element]{next: lt/2 + 1},
		chars:    slab[etree.CharData]{next: lt + 1},
		attrs:    slab[etree.Attr]{next: bytes.Count(data, []byte("=")) + 1},
		tokens:   slab[etree.Token]{next: lt + lt/2 + 1},
	}
	doc := etree.NewDocument()
	r.open = append(r.open, openElement{e: &doc.Element})
	for r.pos < len(data) {
		var ok bool
		if data[r.pos] == '<' {
			ok = r.markup()
		} else {
			ok = r.text()
		}
		if !ok {
			return nil, false
		}
	}
	if len(r.open) != 1 {
		return nil, false
	}
	r.closeTop()
	return doc, true
}

// maxFastAttrs caps the attributes of an element the fast path reads:
// etree's CreateAttr looks for a duplicate in a linear scan, which would
// make an element with thousands of attributes quadratic. etree's reader
// uses a map; cXML elements carry a handful.
const maxFastAttrs = 32

// Names, short attribute values and indentation repeat throughout a
// document: the reader allocates each once while it stays in its slot of
// the reader's cache. Other text seldom repeats.
const (
	maxSharedValue = 32
	maxSharedSpace = 64
)

type treeReader struct {
	data     []byte
	pos      int
	maxDepth int
	// open holds the document and the elements whose end tag is to come.
	open []openElement
	// kids holds the children read so far of every open element, the
	// innermost element's last: an element's Child slice is made when it
	// closes, at its final length.
	kids []etree.Token
	// pending holds the attributes of the start tag being read.
	pending []rawAttr
	shared  [256]string
	buf     []byte
	elems   slab[etree.Element]
	chars   slab[etree.CharData]
	attrs   slab[etree.Attr]
	tokens  slab[etree.Token]
}

type openElement struct {
	e    *etree.Element
	name string // as written, for the end tag
	kids int    // where e's children start in kids
}

type rawAttr struct{ key, value string }

// slab hands out values from shared arrays: one allocation for many tree
// nodes instead of one each.
type slab[T any] struct {
	free []T
	next int // the length of the next array
}

func (s *slab[T]) take(n int) []T {
	if n > len(s.free) {
		s.free = make([]T, max(n, s.next))
		// A first array too short was most likely not far off.
		s.next = max(s.next/4, 16)
	}
	t := s.free[:n:n]
	s.free = s.free[n:]
	return t
}

// markup reads the markup at r.pos, a '<'.
func (r *treeReader) markup() bool {
	rest := r.data[r.pos:]
	if len(rest) < 2 {
		return false
	}
	switch rest[1] {
	case '/':
		return r.endTag()
	case '?':
		return r.procInst()
	case '!':
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			return r.comment()
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			return r.cdata()
		case len(rest) > 2 && isLetter(rest[2]):
			return r.directive()
		}
		return false
	}
	return r.startTag()
}

func (r *treeReader) startTag() bool {
	r.pos++ // <
	name, ok := r.name()
	if !ok {
		return false
	}
	r.pending = r.pending[:0]
	empty := false
	for {
		r.space()
		if r.pos >= len(r.data) {
			return false
		}
		if c := r.data[r.pos]; c == '>' {
			r.pos++
			break
		} else if c == '/' {
			if r.pos+1 >= len(r.data) || r.data[r.pos+1] != '>' {
				return false
			}
			r.pos += 2
			empty = true
			break
		}
		key, ok := r.name()
		if !ok {
			return false
		}
		r.space()
		if r.pos >= len(r.data) || r.data[r.pos] != '=' {
			return false
		}
		r.pos++
		r.space()
		if r.pos >= len(r.data) {
			return false
		}
		q := r.data[r.pos]
		if q != '"' && q != '\'' {
			return false
		}
		end := bytes.IndexByte(r.data[r.pos+1:], q)
		if end < 0 {
			return false
		}
		b, ok := r.decode(r.data[r.pos+1:r.pos+1+end], attrMode)
		if !ok {
			return false
		}
		r.pos += 1 + end + 1
		var value string
		if len(b) <= maxSharedValue {
			value = r.share(b)
		} else {
			value = string(b)
		}
		r.pending = append(r.pending, rawAttr{key, value})
	}
	// etree counts the document in its stack of open elements.
	if len(r.open) > r.maxDepth || len(r.pending) > maxFastAttrs {
		return false
	}
	// Two attributes of the same name are not well formed; Parse words
	// the refusal. At most maxFastAttrs, comparing each with those before
	// it is cheaper than a map.
	for i, a := range r.pending {
		for _, b := range r.pending[:i] {
			if a.key == b.key {
				return false
			}
		}
	}
	e := &r.elems.take(1)[0]
	*e = etree.Element{Tag: name, Attr: []etree.Attr{}}
	if i := strings.IndexByte(name, ':'); i >= 0 {
		e.Space, e.Tag = name[:i], name[i+1:]
	}
	if len(r.pending) > 0 {
		e.Attr = r.attrs.take(len(r.pending))[:0]
		// No two have the same name, so CreateAttr appends each.
		for _, a := range r.pending {
			e.CreateAttr(a.key, a.value)
		}
	}
	r.kids = append(r.kids, e)
	if empty {
		e.Child = []etree.Token{}
	} else {
		r.open = append(r.open, openElement{e: e, name: name, kids: len(r.kids)})
	}
	return true
}

func (r *treeReader) endTag() bool {
	r.pos += 2 // </
	start := r.pos
	for r.pos < len(r.data) && nameByte[r.data[r.pos]] {
		r.pos++
	}
	top := r.open[len(r.open)-1]
	if len(r.open) == 1 || string(r.data[start:r.pos]) != top.name {
		return false
	}
	r.space()
	if r.pos >= len(r.data) || r.data[r.pos] != '>' {
		return false
	}
	r.pos++
	r.closeTop()
	return true
}

// closeTop gives the innermost open element its children and closes it.
func (r *treeReader) closeTop() {
	top := r.open[len(r.open)-1]
	kids := r.kids[top.kids:]
	top.e.Child = []etree.Token{}
	if len(kids) > 0 {
		top.e.Child = r.tokens.take(len(kids))[:0]
	}
	for _, k := range kids {
		top.e.AddChild(k)
	}
	r.kids = r.kids[:top.kids]
	r.open = r.open[:len(r.open)-1]
}

func (r *treeReader) text() bool {
	end := bytes.IndexByte(r.data[r.pos:], '<')
	if end < 0 {
		end = len(r.data) - r.pos
	}
	b, ok := r.decode(r.data[r.pos:r.pos+end], textMode)
	if !ok {
		return false
	}
	r.pos += end
	r.addText(b)
	return true
}

func (r *treeReader) cdata() bool {
	body := r.data[r.pos+len("<![CDATA["):]
	end := bytes.Index(body, []byte("]]>"))
	if end < 0 {
		return false
	}
	b, ok := r.decode(body[:end], cdataMode)
	if !ok {
		return false
	}
	r.pos += len("<![CDATA[") + end + len("]]>")
	r.addText(b)
	return true
}

// addText adds character data as etree's reader does with PreserveCData
// off: CDATA is plain text, flagged only when it is whitespace.
func (r *treeReader) addText(b []byte) {
	c := &r.chars.take(1)[0]
	if len(b) <= maxSharedSpace && isSpace(b) {
		c.SetData(r.share(b))
	} else {
		c.SetData(string(b))
	}
	r.kids = append(r.kids, c)
}

// comment reads a comment as encoding/xml does: the first "--" must end
// it, and its bytes are neither checked nor normalised.
func (r *treeReader) comment() bool {
	body := r.data[r.pos+len("<!--"):]
	end := bytes.Index(body, []byte("--"))
	if end < 0 || end+2 >= len(body) || body[end+2] != '>' {
		return false
	}
	r.kids = append(r.kids, etree.NewComment(string(body[:end])))
	r.pos += len("<!--") + end + len("-->")
	return true
}

func (r *treeReader) procInst() bool {
	r.pos += 2 // <?
	target, ok := r.name()
	if !ok {
		return false
	}
	r.space()
	end := bytes.Index(r.data[r.pos:], []byte("?>"))
	if end < 0 {
		return false
	}
	inst := string(r.data[r.pos : r.pos+end])
	// encoding/xml reads an xml declaration wherever it appears; another
	// encoding switches it to Parse's charset reader, which reads the text
	// as it is. Decode leaves UTF-8 and US-ASCII as they are.
	if target == "xml" {
		if v := declParam("version", inst); v != "" && v != "1.0" {
			return false
		}
		if enc := declParam("encoding", inst); enc != "" && !strings.EqualFold(enc, "utf-8") && !strings.EqualFold(enc, "us-ascii") {
			return false
		}
	}
	r.kids = append(r.kids, etree.NewProcInst(target, inst))
	r.pos += end + len("?>")
	return true
}

// directive reads a directive such as a DOCTYPE. One with markup inside
// (an internal subset, a comment) is left to etree.
func (r *treeReader) directive() bool {
	body := r.data[r.pos+len("<!"):]
	var quote byte
	for i := 1; i < len(body); i++ {
		switch c := body[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '>':
			r.kids = append(r.kids, etree.NewDirective(string(body[:i])))
			r.pos += len("<!") + i + 1
			return true
		case c == '\'' || c == '"':
			quote = c
		case c == '<':
			return false
		}
	}
	return false
}

// name reads an element, attribute or PI target name. encoding/xml reads
// any byte above ASCII as part of a name and checks it against XML's
// tables; the fast path reads ASCII names only, with at most one colon,
// between a prefix and a local name.
func (r *treeReader) name() (string, bool) {
	start, colon := r.pos, -1
	for r.pos < len(r.data) && nameByte[r.data[r.pos]] {
		if r.data[r.pos] == ':' {
			if colon >= 0 {
				return "", false
			}
			colon = r.pos
		}
		r.pos++
	}
	end := r.pos
	if end == start || end < len(r.data) && r.data[end] >= utf8.RuneSelf {
		return "", false
	}
	if c := r.data[start]; !isLetter(c) && c != '_' || colon == start || colon == end-1 {
		return "", false
	}
	return r.share(r.data[start:end]), true
}

func (r *treeReader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// share returns b as a string, the one in b's slot of the cache if it
// holds the same bytes.
func (r *treeReader) share(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	s := &r.shared[(len(b)*31+int(b[0])*7+int(b[len(b)-1]))%len(r.shared)]
	if *s != string(b) {
		*s = string(b)
	}
	return *s
}

// The kinds of character data decode reads.
const (
	textMode  = iota // text between markup
	attrMode         // a quoted attribute value
	cdataMode        // a CDATA section
)

// decode returns raw as encoding/xml reads it: references replaced
// (except in CDATA), "\r\n" and lone "\r" written as "\n", and the result
// checked for valid UTF-8 and characters XML allows. The result is raw
// itself or the reader's buffer, valid until the next decode.
func (r *treeReader) decode(raw []byte, mode int) ([]byte, bool) {
	out := r.buf[:0]
	copied, rewritten := 0, false
	for i := 0; i < len(raw); {
		c := raw[i]
		if plainByte[c] {
			i++
			continue
		}
		switch {
		case c >= utf8.RuneSelf:
			ru, n := utf8.DecodeRune(raw[i:])
			if ru == utf8.RuneError && n == 1 || !isInCharacterRange(ru) {
				return nil, false
			}
			i += n
		case c == '\r':
			out = append(out, raw[copied:i]...)
			out = append(out, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
			copied, rewritten = i, true
		case c == '&' && mode != cdataMode:
			ru, n, ok := reference(raw[i+1:])
			if !ok {
				return nil, false
			}
			out = append(out, raw[copied:i]...)
			out = utf8.AppendRune(out, ru)
			i += 1 + n
			copied, rewritten = i, true
		case c == ']' && mode == textMode && bytes.HasPrefix(raw[i:], []byte("]]>")):
			return nil, false
		case c == '<' && mode == attrMode:
			return nil, false
		case c == '&' || c == ']' || c == '<':
			i++
		default:
			return nil, false // a control character
		}
	}
	if !rewritten {
		return raw, true
	}
	r.buf = append(out, raw[copied:]...)
	return r.buf, true
}

// reference reads the reference after a '&' at the start of b as
// encoding/xml's strict decoder does, with no entities declared: it
// returns the character and the length read, up to its ';'.
func reference(b []byte) (rune, int, bool) {
	for _, e := range predefinedEntities {
		if bytes.HasPrefix(b, []byte(e.ref)) {
			return e.r, len(e.ref), true
		}
	}
	if len(b) == 0 || b[0] != '#' {
		return 0, 0, false
	}
	i, base := 1, rune(10)
	if len(b) > 1 && b[1] == 'x' {
		i, base = 2, 16
	}
	start := i
	var v rune
	for ; i < len(b); i++ {
		d := digit(b[i], base)
		if d < 0 {
			break
		}
		if v = v*base + d; v > unicode.MaxRune {
			return 0, 0, false
		}
	}
	if i == start || i >= len(b) || b[i] != ';' {
		return 0, 0, false
	}
	// encoding/xml writes string(rune(v)), which turns a surrogate into
	// U+FFFD, and then checks the character.
	if !utf8.ValidRune(v) {
		v = utf8.RuneError
	}
	if !isInCharacterRange(v) {
		return 0, 0, false
	}
	return v, i + 1, true
}

var predefinedEntities = []struct {
	ref string
	r   rune
}{{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"apos;", '\''}, {"quot;", '"'}}

func digit(c byte, base rune) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

// declParam is encoding/xml's procInst: the value of param="..." or
// param='...' in an xml declaration, found the way it finds it.
func declParam(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// isInCharacterRange is encoding/xml's: XML's Char production.
func isInCharacterRange(r rune) bool {
	return r == 0x09 ||
		r == 0x0A ||
		r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isSpace is etree's test for a whitespace CharData.
func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// nameByte holds the bytes encoding/xml reads as part of a name below
// ASCII's end; plainByte the ASCII characters text takes as they are.
var nameByte, plainByte [256]bool

func init() {
	for c := range 256 {
		b := byte(c)
		nameByte[c] = isLetter(b) || '0' <= b && b <= '9' || b == '_' || b == ':' || b == '.' || b == '-'
		plainByte[c] = b == '\t' || b == '\n' || b >= 0x20 && b < utf8.RuneSelf && b != '&' && b != '<' && b != ']'
	}
}

package cxml

import (
	"bytes"
	"encoding/xml"
)

// Redacted replaces the SharedSecret values in a cXML document.
const Redacted = "[redacted]"

// RedactSecrets returns doc with the content of every SharedSecret element
// replaced by Redacted. It works on bytes, not on a parsed tree, so that
// it also cleans documents that did not parse and leaves every other byte
// as it was: the stored copy keeps what the model does not know.
func RedactSecrets(doc []byte) []byte {
	var out []byte
	rest := doc
	for {
		start := indexTagFold(rest, "sharedsecret")
		if start < 0 {
			break
		}
		gt := bytes.IndexByte(rest[start:], '>')
		if gt < 0 {
			break
		}
		openEnd := start + gt + 1
		if rest[openEnd-2] == '/' { // <SharedSecret/> has nothing to hide.
			out = append(out, rest[:openEnd]...)
			rest = rest[openEnd:]
			continue
		}
		end := closingTag(rest[openEnd:])
		if out == nil {
			out = make([]byte, 0, len(doc))
		}
		out = append(out, rest[:openEnd]...)
		out = append(out, Redacted...)
		if end < 0 { // Unterminated: hide everything after the tag.
			return out
		}
		rest = rest[openEnd+end:]
	}
	if out == nil {
		return doc
	}
	return append(out, rest...)
}

// RedactDocument returns doc decoded to UTF-8 (see Decode) with the content
// of every SharedSecret element replaced by Redacted. RedactSecrets alone
// would miss a secret in UTF-16, whose tags it cannot see. ok is false when
// doc cannot be decoded: then nothing of it may be stored.
func RedactDocument(doc []byte) (out []byte, ok bool) {
	text, err := Decode(doc)
	if err != nil {
		return nil, false
	}
	return RedactSecrets(text), true
}

// indexTagFold finds the start tag "<name" or "<prefix:name" followed by
// '>', '/' or white space, ignoring case.
func indexTagFold(b []byte, name string) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '<')
		if i < 0 {
			return -1
		}
		start := off + i
		j := start + 1
		if j < len(b) && (b[j] == '/' || b[j] == '!' || b[j] == '?') {
			off = j
			continue
		}
		if k := tagNameEnd(b, j); k > j {
			local := b[j:k]
			if c := bytes.LastIndexByte(local, ':'); c >= 0 {
				local = local[c+1:]
			}
			if bytes.EqualFold(local, []byte(name)) {
				return start
			}
			off = k
			continue
		}
		off = j
	}
}

// tagNameEnd returns the index after the element name starting at j.
func tagNameEnd(b []byte, j int) int {
	k := j
	for k < len(b) {
		switch b[k] {
		case '>', '/', ' ', '\t', '\r', '\n':
			return k
		}
		k++
	}
	return k
}

// closingTag finds the end tag of a SharedSecret (any prefix, any case),
// skipping comments and CDATA sections, which could hold a fake one.
func closingTag(b []byte) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '<')
		if i < 0 {
			return -1
		}
		at := off + i
		rest := b[at:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			k := bytes.Index(rest[4:], []byte("-->"))
			if k < 0 {
				return -1
			}
			off = at + 4 + k + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			k := bytes.Index(rest, []byte("]]>"))
			if k < 0 {
				return -1
			}
			off = at + k + 3
		case bytes.HasPrefix(rest, []byte("</")):
			k := tagNameEnd(b, at+2)
			local := b[at+2 : k]
			if c := bytes.LastIndexByte(local, ':'); c >= 0 {
				local = local[c+1:]
			}
			if bytes.EqualFold(local, []byte("sharedsecret")) {
				return at
			}
			off = at + 2
		default:
			off = at + 1
		}
	}
}

// FillSecret puts secret, XML-escaped, in place of the first redacted
// SharedSecret of doc: documents are stored without their secret and get
// it only when they are sent.
func FillSecret(doc []byte, secret string) []byte {
	var esc bytes.Buffer
	_ = xml.EscapeText(&esc, []byte(secret))
	return bytes.Replace(doc, []byte("<SharedSecret>"+Redacted+"</SharedSecret>"), []byte("<SharedSecret>"+esc.String()+"</SharedSecret>"), 1)
}

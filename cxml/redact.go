package cxml

import "bytes"

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
		end := indexFold(rest[openEnd:], []byte("</sharedsecret"))
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

// indexTagFold finds "<name" followed by '>', '/' or white space,
// ignoring case.
func indexTagFold(b []byte, name string) int {
	off := 0
	for {
		i := indexFold(b[off:], []byte("<"+name))
		if i < 0 {
			return -1
		}
		j := off + i + 1 + len(name)
		if j < len(b) {
			switch b[j] {
			case '>', '/', ' ', '\t', '\r', '\n':
				return off + i
			}
		}
		off = j
	}
}

// indexFold is bytes.Index ignoring ASCII case, for a sub that starts
// with '<' (so IndexByte can skip ahead).
func indexFold(b, sub []byte) int {
	n := len(sub)
	off := 0
	for {
		i := bytes.IndexByte(b[off:], sub[0])
		if i < 0 || off+i+n > len(b) {
			return -1
		}
		if bytes.EqualFold(b[off+i:off+i+n], sub) {
			return off + i
		}
		off += i + 1
	}
}

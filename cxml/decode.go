package cxml

import (
	"bytes"
	"io"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// Decode returns the document data as UTF-8 text, so that every check and
// every reader after it sees the same characters. A document that is
// already UTF-8 (no byte order mark or a UTF-8 one, and no encoding
// declaration or one naming UTF-8 or US-ASCII) comes back as it is, without
// a copy, less its byte order mark. Any other document is transcoded, from
// the encoding its byte order mark names (UTF-16LE, UTF-16BE), from UTF-16
// when its first bytes are "<?" in UTF-16 (XML 1.0 Appendix F), or from the
// encoding its XML declaration names (ISO-8859-1, windows-1252, Shift_JIS:
// the labels golang.org/x/net/html/charset knows), and the encoding
// pseudo-attribute of its declaration is rewritten to "UTF-8".
//
// Where the byte order mark or the UTF-16 pattern and the declaration
// disagree, the bytes win: a UTF-16 document declared as ISO-8859-1 is read
// as UTF-16. A document declared as UTF-16 whose bytes are not (.NET writes
// encoding="utf-16" into text it then sends as UTF-8) is read as UTF-8.
// Decode does not check that UTF-8 text is valid UTF-8: the XML reader does.
//
// A document it cannot decode (an encoding it does not know, UTF-32,
// UTF-16 of odd length or with an unpaired surrogate) is refused with an
// *Error carrying StatusNotAcceptable, and so is text that holds U+0000.
// XML allows that character nowhere, and text in UTF-16 that no byte order
// mark announces (after a declaration in ASCII, which encoding/xml would
// follow) holds it: in such text neither the markup checks nor
// RedactSecrets would see a tag.
//
// What Decode returns comes back as it is from Decode again, unless it
// begins with a byte order mark or with bytes that are not UTF-8, neither
// of which XML allows there.
func Decode(data []byte) ([]byte, error) {
	text, err := decode(data)
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(text, 0) >= 0 {
		return nil, errorf(StatusNotAcceptable, nil, "the document is not well-formed XML: it holds the character U+0000, which XML does not allow; if it is UTF-16, start it with a byte order mark")
	}
	return text, nil
}

func decode(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return fromUTF8(data[3:], true)
	case bytes.HasPrefix(data, []byte("\x00\x00\xfe\xff")), bytes.HasPrefix(data, []byte("\xff\xfe\x00\x00")),
		bytes.HasPrefix(data, []byte("\x00\x00\x00<")), bytes.HasPrefix(data, []byte("<\x00\x00\x00")):
		// UTF-16LE's mark followed by U+0000 is UTF-32LE's mark: XML
		// allows no U+0000.
		return nil, unsupportedEncoding("UTF-32")
	case bytes.HasPrefix(data, []byte("\xfe\xff")):
		return fromUTF16(data[2:], true)
	case bytes.HasPrefix(data, []byte("\xff\xfe")):
		return fromUTF16(data[2:], false)
	case bytes.HasPrefix(data, []byte("\x00<\x00?")):
		return fromUTF16(data, true)
	case bytes.HasPrefix(data, []byte("<\x00?\x00")):
		return fromUTF16(data, false)
	}
	return fromUTF8(data, false)
}

// fromUTF8 decodes text that has no UTF-16 or UTF-32 signature: as UTF-8
// when a UTF-8 byte order mark preceded it or its declaration names UTF-8,
// US-ASCII, UTF-16 or no encoding; else from the encoding the declaration
// names.
func fromUTF8(text []byte, marked bool) ([]byte, error) {
	start, end := declEncoding(text)
	if start < 0 {
		return text, nil
	}
	if bytes.EqualFold(text[start:end], []byte("UTF-8")) || bytes.EqualFold(text[start:end], []byte("US-ASCII")) {
		return text, nil
	}
	label := string(text[start:end])
	if marked {
		return rewriteEncoding(text, start, end), nil
	}
	enc, name := charset.Lookup(label)
	switch name {
	case "":
		return nil, unsupportedEncoding(label)
	case "replacement":
		// WHATWG's stand-in for encodings it refuses to decode
		// (ISO-2022-KR, HZ-GB-2312, ...).
		return nil, unsupportedEncoding(label)
	case "utf-8", "utf-16le", "utf-16be":
		// The declaration reads as ASCII, so the bytes are not UTF-16.
		return rewriteEncoding(text, start, end), nil
	}
	out, err := enc.NewDecoder().Bytes(text)
	if err != nil {
		return nil, errorf(StatusNotAcceptable, err, "the document could not be read as %s, the encoding it declares; send it as UTF-8", name)
	}
	if start, end = declEncoding(out); start < 0 {
		return out, nil
	}
	return rewriteEncoding(out, start, end), nil
}

// fromUTF16 transcodes UTF-16 text, without its byte order mark, to UTF-8.
// It measures the result first, so that it allocates it once.
func fromUTF16(b []byte, bigEndian bool) ([]byte, error) {
	if len(b)%2 != 0 {
		return nil, errorf(StatusNotAcceptable, nil, "the document is not valid UTF-16: it has an odd number of bytes (was it cut off?); send it as UTF-8")
	}
	unit := func(i int) rune {
		if bigEndian {
			return rune(b[i])<<8 | rune(b[i+1])
		}
		return rune(b[i+1])<<8 | rune(b[i])
	}
	n := 0
	for i := 0; i < len(b); i += 2 {
		r := unit(i)
		switch {
		case utf16.IsSurrogate(r):
			if r >= 0xdc00 || i+2 >= len(b) || utf16.DecodeRune(r, unit(i+2)) == utf8.RuneError {
				return nil, errorf(StatusNotAcceptable, nil, "the document is not valid UTF-16: it has an unpaired surrogate at byte %d; send it as UTF-8", i)
			}
			n += 4
			i += 2
		default:
			n += utf8.RuneLen(r)
		}
	}
	out := make([]byte, 0, n)
	for i := 0; i < len(b); i += 2 {
		r := unit(i)
		if utf16.IsSurrogate(r) {
			r = utf16.DecodeRune(r, unit(i+2))
			i += 2
		}
		out = utf8.AppendRune(out, r)
	}
	start, end := declEncoding(out)
	if start < 0 || string(out[start:end]) == "UTF-8" {
		return out, nil
	}
	return rewriteEncoding(out, start, end), nil
}

// declEncoding finds the value of the encoding pseudo-attribute of the XML
// declaration that starts text, after any white space (encoding/xml reads a
// declaration there too). It returns -1, -1 when there is none.
func declEncoding(text []byte) (start, end int) {
	i := 0
	for i < len(text) && isXMLSpace(text[i]) {
		i++
	}
	if !bytes.HasPrefix(text[i:], []byte("<?xml")) || i+5 >= len(text) || !isXMLSpace(text[i+5]) {
		return -1, -1
	}
	closeAt := bytes.Index(text[i:], []byte("?>"))
	if closeAt < 0 {
		return -1, -1
	}
	decl, base := text[i+5:i+closeAt], i+5
	// Pseudo-attributes are name, optional space, '=', optional space and
	// a quoted value; anything else ends the search.
	for j := 0; ; {
		for j < len(decl) && isXMLSpace(decl[j]) {
			j++
		}
		nameStart := j
		for j < len(decl) && isLetter(decl[j]) {
			j++
		}
		name := decl[nameStart:j]
		for j < len(decl) && isXMLSpace(decl[j]) {
			j++
		}
		if len(name) == 0 || j >= len(decl) || decl[j] != '=' {
			return -1, -1
		}
		j++
		for j < len(decl) && isXMLSpace(decl[j]) {
			j++
		}
		if j >= len(decl) || decl[j] != '"' && decl[j] != '\'' {
			return -1, -1
		}
		k := bytes.IndexByte(decl[j+1:], decl[j])
		if k < 0 {
			return -1, -1
		}
		if string(name) == "encoding" {
			return base + j + 1, base + j + 1 + k
		}
		j += 1 + k + 1
	}
}

// rewriteEncoding returns a copy of text with the encoding value at
// [start, end) replaced by "UTF-8".
func rewriteEncoding(text []byte, start, end int) []byte {
	out := make([]byte, 0, len(text)-(end-start)+len("UTF-8"))
	out = append(out, text[:start]...)
	out = append(out, "UTF-8"...)
	return append(out, text[end:]...)
}

// unsupportedEncoding refuses a document in an encoding Decode does not
// read. It names the encoding only when the label looks like one (XML's
// EncName, at most 40 characters): the label is document text.
func unsupportedEncoding(label string) *Error {
	if !isEncName(label) {
		return errorf(StatusNotAcceptable, nil, "the document's encoding is not supported; send it as UTF-8")
	}
	return errorf(StatusNotAcceptable, nil, "the document's encoding %s is not supported; send it as UTF-8", label)
}

func isEncName(s string) bool {
	if s == "" || len(s) > 40 || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isXMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// passThrough is the CharsetReader of every XML reader here: the text it
// reads is UTF-8 already, whatever a declaration later in it says, so
// nothing is decoded twice.
func passThrough(_ string, input io.Reader) (io.Reader, error) {
	return input, nil
}

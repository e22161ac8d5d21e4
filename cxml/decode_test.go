package cxml

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// utf16Bytes writes s in UTF-16, with a byte order mark if bom.
func utf16Bytes(s string, bigEndian, bom bool) []byte {
	var order binary.AppendByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	var out []byte
	if bom {
		out = order.AppendUint16(out, 0xfeff)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = order.AppendUint16(out, u)
	}
	return out
}

// latin1 writes s, which must be in Latin-1, one byte per character.
func latin1(s string) []byte {
	var out []byte
	for _, r := range s {
		out = append(out, byte(r))
	}
	return out
}

func TestDecode(t *testing.T) {
	const doc = `<cXML payloadID="é€😀"/>`
	tests := []struct {
		name string
		in   []byte
		want string
		// same says the result is the input, or the input after its byte
		// order mark, without a copy.
		same bool
	}{
		{"UTF-8 without declaration", []byte(doc), doc, true},
		{"UTF-8 declared", []byte(`<?xml version="1.0" encoding="UTF-8"?>` + doc), `<?xml version="1.0" encoding="UTF-8"?>` + doc, true},
		{"utf-8 in lower case", []byte(`<?xml version='1.0' encoding='utf-8'?>` + doc), `<?xml version='1.0' encoding='utf-8'?>` + doc, true},
		{"US-ASCII declared", []byte(`<?xml version="1.0" encoding="US-ASCII"?><a/>`), `<?xml version="1.0" encoding="US-ASCII"?><a/>`, true},
		{"declaration without encoding", []byte(`<?xml version="1.0"?>` + doc), `<?xml version="1.0"?>` + doc, true},
		{"not UTF-8 at all", []byte("\x80\xfe<"), "\x80\xfe<", true},
		{"empty", []byte{}, "", true},
		{"UTF-8 byte order mark", []byte("\ufeff" + doc), doc, true},
		{"UTF-8 byte order mark and UTF-8 declared", []byte("\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + doc), `<?xml version="1.0" encoding="UTF-8"?>` + doc, true},
		{"UTF-8 byte order mark wins over the declaration", []byte("\ufeff<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + doc),
			`<?xml version="1.0" encoding="UTF-8"?>` + doc, false},
		{"UTF-16LE with byte order mark", utf16Bytes(`<?xml version="1.0" encoding="UTF-16"?>`+doc, false, true), `<?xml version="1.0" encoding="UTF-8"?>` + doc, false},
		{"UTF-16BE with byte order mark", utf16Bytes(`<?xml version="1.0" encoding="UTF-16"?>`+doc, true, true), `<?xml version="1.0" encoding="UTF-8"?>` + doc, false},
		{"UTF-16LE without byte order mark", utf16Bytes(`<?xml version="1.0" encoding="utf-16le"?>`+doc, false, false), `<?xml version="1.0" encoding="UTF-8"?>` + doc, false},
		{"UTF-16BE without byte order mark", utf16Bytes(`<?xml version="1.0" encoding="UTF-16BE"?>`+doc, true, false), `<?xml version="1.0" encoding="UTF-8"?>` + doc, false},
		{"UTF-16 without declaration", utf16Bytes(doc, false, true), doc, false},
		{"UTF-16 declared as ISO-8859-1: the bytes win", utf16Bytes(`<?xml version="1.0" encoding="ISO-8859-1"?>`+doc, true, true), `<?xml version="1.0" encoding="UTF-8"?>` + doc, false},
		{"UTF-16 declared as UTF-8", utf16Bytes(`<?xml version="1.0" encoding="UTF-8"?>`+doc, false, true), `<?xml version="1.0" encoding="UTF-8"?>` + doc, false},
		{"ISO-8859-1", append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`), latin1(`<a b="Zoë">Müller</a>`)...), `<?xml version="1.0" encoding="UTF-8"?><a b="Zoë">Müller</a>`, false},
		{"latin1 in single quotes, spaces around =", append([]byte(`<?xml version='1.0' encoding = 'latin1' ?>`), latin1(`<a>é</a>`)...), `<?xml version='1.0' encoding = 'UTF-8' ?><a>é</a>`, false},
		{"windows-1252", []byte("<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x80 \x93q\x94</a>"), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>€ \u201cq\u201d</a>", false},
		{"Shift_JIS", []byte("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a>\x82\xa0</a>"), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>あ</a>", false},
		{"white space before the declaration", append([]byte("\r\n <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"), latin1("<a>é</a>")...), "\r\n <?xml version=\"1.0\" encoding=\"UTF-8\"?><a>é</a>", false},
		{"UTF-16 declared on UTF-8 bytes, as .NET writes", []byte(`<?xml version="1.0" encoding="utf-16"?>` + doc), `<?xml version="1.0" encoding="UTF-8"?>` + doc, false},
		{"utf8 label", []byte(`<?xml version="1.0" encoding="utf8"?>` + doc), `<?xml version="1.0" encoding="UTF-8"?>` + doc, false},
		{"encoding that is no pseudo-attribute", []byte(`<?xml version="1.0"?><a encoding="ISO-8859-1"/>`), `<?xml version="1.0"?><a encoding="ISO-8859-1"/>`, true},
		{"processing instruction that is no declaration", []byte(`<?xml-stylesheet encoding="ISO-8859-1"?><a/>`), `<?xml-stylesheet encoding="ISO-8859-1"?><a/>`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
			if tc.same && len(got) > 0 {
				assert.Same(t, &tc.in[len(tc.in)-1], &got[len(got)-1], "no copy")
			}
			again, err := Decode(got)
			require.NoError(t, err)
			assert.Equal(t, string(got), string(again), "decoding again changes nothing")
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		detail string
	}{
		{"unknown label", []byte(`<?xml version="1.0" encoding="x-klingon"?><a/>`), "the document's encoding x-klingon is not supported; send it as UTF-8"},
		{"label that is no encoding name is not quoted", []byte(`<?xml version="1.0" encoding="my s3cr3t!"?><a/>`), "the document's encoding is not supported; send it as UTF-8"},
		{"encoding WHATWG refuses to decode", []byte(`<?xml version="1.0" encoding="ISO-2022-KR"?><a/>`), "ISO-2022-KR is not supported"},
		{"UTF-32BE", []byte("\x00\x00\xfe\xff\x00\x00\x00<"), "UTF-32 is not supported"},
		{"UTF-32LE", []byte("\xff\xfe\x00\x00<\x00\x00\x00"), "UTF-32 is not supported"},
		{"UTF-32 without byte order mark", []byte("<\x00\x00\x00?\x00\x00\x00"), "UTF-32 is not supported"},
		{"UTF-16 of odd length", utf16Bytes("<a/>", false, true)[:7], "odd number of bytes"},
		{"UTF-16 with a lone high surrogate", append(utf16Bytes("<a>", true, true), 0xd8, 0x00, 0x00, '<'), "unpaired surrogate at byte 6"},
		{"UTF-16 with a lone low surrogate", append(utf16Bytes("<a>", false, true), 0x00, 0xdc), "unpaired surrogate at byte 6"},
		{"UTF-16 ending in a high surrogate", append(utf16Bytes("<a>", false, true), 0x3d, 0xd8), "unpaired surrogate"},
		{"U+0000 in UTF-8", []byte("<a>\x00</a>"), "U+0000"},
		{"U+0000 in UTF-16", utf16Bytes("<a>\x00</a>", false, true), "U+0000"},
		{"UTF-16 without byte order mark or declaration", utf16Bytes("<a/>", false, false), "if it is UTF-16, start it with a byte order mark"},
		{"UTF-16 after a declaration in ASCII", append([]byte(`<?xml version="1.0" encoding="UTF-16"?>`), utf16Bytes("<a/>", false, false)...), "U+0000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			assert.Nil(t, got)
			var ce *Error
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, StatusNotAcceptable, ce.Code)
			assert.Contains(t, ce.Detail, tc.detail)
			assert.NotContains(t, ce.Detail, "s3cr3t")
			_, ok := RedactDocument(tc.in)
			assert.False(t, ok, "RedactDocument refuses what Decode refuses")
		})
	}
}

// FuzzDecode: Decode never panics, refuses only with a 406 *Error, returns
// no U+0000, and what it returns comes back as it is from Decode unless it
// starts with what XML does not allow there.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"<a/>", "\ufeff<a/>", `<?xml version="1.0" encoding="ISO-8859-1"?><a>` + "\xe9</a>", `<?xml encoding="x"?>`} {
		f.Add([]byte(s))
	}
	f.Add(utf16Bytes(`<?xml version="1.0" encoding="UTF-16"?><a>😀</a>`, false, true))
	f.Add(utf16Bytes(`<?xml version="1.0" encoding="UTF-16"?><a>😀</a>`, true, false))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Decode(data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.Code != StatusNotAcceptable {
				t.Fatalf("Decode refused with %v", err)
			}
			return
		}
		if bytes.IndexByte(out, 0) >= 0 {
			t.Fatalf("Decode returned U+0000: %q", out)
		}
		if again, err := Decode(out); (err != nil || !bytes.Equal(again, out)) && !badStart(out) {
			t.Fatalf("Decode of Decode's %q gives %q, %v", out, again, err)
		}
	})
}

// badStart reports whether text starts with a byte order mark or bytes
// that are not UTF-8.
func badStart(text []byte) bool {
	r, n := utf8.DecodeRune(text)
	return n > 0 && (r == '\ufeff' || r == utf8.RuneError && n == 1)
}

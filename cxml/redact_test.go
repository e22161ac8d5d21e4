package cxml

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedactSecrets(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", `<Credential><Identity>a</Identity><SharedSecret>s3cret</SharedSecret></Credential>`,
			`<Credential><Identity>a</Identity><SharedSecret>[redacted]</SharedSecret></Credential>`},
		{"two", `<SharedSecret>one</SharedSecret><x/><SharedSecret >two</SharedSecret>`,
			`<SharedSecret>[redacted]</SharedSecret><x/><SharedSecret >[redacted]</SharedSecret>`},
		{"any case", `<sharedsecret>s</SHAREDSECRET>`, `<sharedsecret>[redacted]</SHAREDSECRET>`},
		{"prefixed", `<x:SharedSecret>s</x:SharedSecret>`, `<x:SharedSecret>[redacted]</x:SharedSecret>`},
		{"comment with a fake end tag", `<SharedSecret>abc<!-- </SharedSecret> -->def</SharedSecret>`, `<SharedSecret>[redacted]</SharedSecret>`},
		{"cdata", `<SharedSecret><![CDATA[a</SharedSecret>b]]></SharedSecret>`, `<SharedSecret>[redacted]</SharedSecret>`},
		{"element content", `<SharedSecret><Secret>s</Secret></SharedSecret>`, `<SharedSecret>[redacted]</SharedSecret>`},
		{"self-closing", `<SharedSecret/><Identity>i</Identity>`, `<SharedSecret/><Identity>i</Identity>`},
		{"unterminated hides the rest", `<SharedSecret>s3cret and more`, `<SharedSecret>[redacted]`},
		{"similar names are left alone", `<SharedSecretHint>h</SharedSecretHint>`, `<SharedSecretHint>h</SharedSecretHint>`},
		{"none", `<cXML payloadID="x"/>`, `<cXML payloadID="x"/>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(RedactSecrets([]byte(tc.in)))
			assert.Equal(t, tc.want, got)
			for _, secret := range []string{"s3cret", "one", "two", "abc", "def"} {
				if strings.Contains(tc.in, ">"+secret) {
					assert.NotContains(t, got, secret)
				}
			}
		})
	}
}

func FuzzRedactSecrets(f *testing.F) {
	f.Add([]byte(`<SharedSecret>s</SharedSecret>`))
	f.Add([]byte(`<a:SharedSecret><!-- x --></a:SharedSecret>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		out := RedactSecrets(doc)
		// Redaction only ever replaces secret content: it never grows a
		// document by more than the marker per start tag.
		if n := strings.Count(strings.ToLower(string(doc)), "sharedsecret"); len(out) > len(doc)+n*len(Redacted) {
			t.Fatalf("output grew: %d -> %d", len(doc), len(out))
		}
	})
}

func TestFillSecret(t *testing.T) {
	doc := []byte(`<Sender><Credential domain="DUNS"><Identity>1</Identity><SharedSecret>` + Redacted + `</SharedSecret></Credential></Sender>`)
	got := string(FillSecret(doc, `a&b<"c"`))
	assert.Contains(t, got, `<SharedSecret>a&amp;b&lt;&#34;c&#34;</SharedSecret>`)
	assert.Equal(t, string(doc), string(RedactSecrets([]byte(got))), "filling and redacting are inverse")
}

func TestSniffKind(t *testing.T) {
	assert.Equal(t, "OrderRequest", SniffKind([]byte(`<cXML><Request><OrderRequest><broken`)))
	assert.Equal(t, "unknown", SniffKind([]byte("garbage")))
}

// TestRedactDocument: the secret of a document in any encoding Decode
// reads leaves no trace, in UTF-8 or UTF-16; a document Decode cannot read
// is not stored at all.
func TestRedactDocument(t *testing.T) {
	const secret = "s3cr3t-é"
	doc := string(cxmlDoc(`<?xml version="1.0"?>`, `<ProfileRequest/>`))
	doc = strings.Replace(doc, "<SharedSecret>x</SharedSecret>", "<SharedSecret>"+secret+"</SharedSecret>", 1)
	require.Contains(t, doc, secret)
	traces := [][]byte{[]byte(secret), []byte("s3cr3t"), latin1(secret),
		utf16Bytes(secret, false, false), utf16Bytes(secret, true, false), utf16Bytes("s3cr3t", false, false), utf16Bytes("s3cr3t", true, false)}
	for name, body := range encodings(doc) {
		t.Run(name, func(t *testing.T) {
			out, ok := RedactDocument(body)
			require.True(t, ok)
			for _, trace := range traces {
				assert.False(t, bytes.Contains(out, trace), "the secret is in the output as %q", trace)
			}
			assert.Contains(t, string(out), `<?xml version="1.0" encoding="UTF-8"?>`)
			assert.Contains(t, string(out), "<SharedSecret>"+Redacted+"</SharedSecret>")
		})
	}

	t.Run("undecodable", func(t *testing.T) {
		for _, body := range [][]byte{
			utf16Bytes(doc, false, true)[:101],
			[]byte(`<?xml version="1.0" encoding="x-unknown"?>` + doc[len(`<?xml version="1.0"?>`):]),
			append([]byte(`<?xml version="1.0" encoding="UTF-16"?>`), utf16Bytes(doc[len(`<?xml version="1.0"?>`):], false, false)...),
		} {
			out, ok := RedactDocument(body)
			assert.False(t, ok)
			assert.Nil(t, out)
		}
	})
}

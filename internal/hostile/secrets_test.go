package hostile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/db"
)

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	var out []byte
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func latin1(s string) []byte {
	b, err := charmap.ISO8859_1.NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(err)
	}
	return b
}

// encodings of a document's text, each with the declaration it carries.
var encodings = []struct {
	name   string
	decl   string
	encode func(string) []byte
}{
	{"UTF-16LE with BOM", "UTF-16", func(s string) []byte { return utf16Bytes(s, false, true) }},
	{"UTF-16LE without BOM", "UTF-16LE", func(s string) []byte { return utf16Bytes(s, false, false) }},
	{"UTF-16BE with BOM", "UTF-16", func(s string) []byte { return utf16Bytes(s, true, true) }},
	{"UTF-16BE without BOM", "UTF-16BE", func(s string) []byte { return utf16Bytes(s, true, false) }},
	{"ISO-8859-1", "ISO-8859-1", latin1},
}

// forms are the byte forms a leaked secret could take in storage.
func forms(secret string) map[string][]byte {
	f := map[string][]byte{
		"UTF-8":    []byte(secret),
		"UTF-16LE": utf16Bytes(secret, false, false),
		"UTF-16BE": utf16Bytes(secret, true, false),
	}
	if b, err := charmap.ISO8859_1.NewEncoder().Bytes([]byte(secret)); err == nil {
		f["Latin-1"] = b
	}
	return f
}

// stored is everything the database holds: on SQLite the database file
// and its WAL, byte for byte; on PostgreSQL every stored document and
// every connection row.
func stored(t *testing.T, s *apptest.Server) []byte {
	t.Helper()
	if s.App.DB.Engine == db.Postgres {
		var out []byte
		var docs [][]byte
		require.NoError(t, s.App.DB.R.SelectContext(context.Background(), &docs, `SELECT document FROM exchanges`))
		for _, d := range docs {
			out = append(out, d...)
		}
		var rows []string
		require.NoError(t, s.App.DB.R.SelectContext(context.Background(), &rows, `SELECT row_to_json(c)::text FROM connections c`))
		return append(out, strings.Join(rows, "\n")...)
	}
	path := strings.TrimPrefix(s.App.Config.DB, "sqlite:")
	var out []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			require.NoError(t, err)
		}
		out = append(out, b...)
	}
	return out
}

// TestEncodedDocumentsLeaveNoSecret posts the same ProfileRequest in
// UTF-16 (both byte orders, with and without BOM) and ISO-8859-1, with the
// right shared secret and with a wrong one. Before, a UTF-16LE document
// was answered 200 and its SharedSecret stored readable, because the
// redaction looked for UTF-8 markup. Now the log keeps the decoded text
// with every secret replaced.
func TestEncodedDocumentsLeaveNoSecret(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		c := clientFrom(t, "127.0.0.1")
		const wrong = "wr0ng-sécret-Ω"
		for i, enc := range encodings {
			for _, secret := range []string{"coupa-demo-secret", wrong} {
				if enc.name == "ISO-8859-1" && secret == wrong {
					continue // Ω has no Latin-1 form.
				}
				doc := strings.Replace(string(coupaDoc(fmt.Sprintf("enc-%d-%s@hostile", i, secret[:4]), secret, "<ProfileRequest/>")),
					`encoding="UTF-8"`, `encoding="`+enc.decl+`"`, 1)
				st, _ := postCXML(t, c, s.URL, enc.encode(doc))
				want := 200
				if secret == wrong {
					want = 401
				}
				assert.Equal(t, want, st.Code, "%s with %s: %s", enc.name, secret, st.Detail)
			}
		}
		all := stored(t, s)
		for _, secret := range []string{"coupa-demo-secret", wrong} {
			for form, b := range forms(secret) {
				if bytes.Contains(all, b) {
					t.Errorf("the database holds the shared secret %q in its %s form", secret, form)
				}
			}
		}
	})
}

// TestEncodedMarkupIsChecked posts an entity declaration in UTF-16:
// before, the markup checks ran on the raw bytes and the UTF-16 path
// skipped them.
func TestEncodedMarkupIsChecked(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		c := clientFrom(t, "127.0.0.1")
		doc := `<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE cXML [<!ENTITY x "expanded">]>
<cXML payloadID="ent@hostile" timestamp="2024-01-01T00:00:00Z"><Header/><Request><ProfileRequest>&x;</ProfileRequest></Request></cXML>`
		for _, enc := range encodings[:4] {
			st, _ := postCXML(t, c, s.URL, enc.encode(doc))
			assert.Equal(t, 406, st.Code, enc.name)
			assert.Contains(t, st.Detail, "entity")
		}
		dup := `<?xml version="1.0" encoding="UTF-8"?><cXML payloadID="a@hostile" payloadID="b@hostile" timestamp="2024-01-01T00:00:00Z"><Header/><Request><ProfileRequest/></Request></cXML>`
		st, _ := postCXML(t, c, s.URL, []byte(dup))
		assert.Equal(t, 406, st.Code, "duplicate attributes are not well-formed")
	})
}

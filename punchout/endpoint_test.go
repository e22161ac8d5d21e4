package punchout_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/cxmltest"
)

// coupaHeader is the demo Coupa connection's header; secret may be
// changed to test refusals.
func coupaDoc(payloadID, secret, body string) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID=%q timestamp="2024-09-21T16:34:09-04:00" xml:lang="en-US">
  <Header>
    <From><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity></Credential></From>
    <To><Credential domain="DUNS"><Identity>081254817</Identity></Credential></To>
    <Sender><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity><SharedSecret>%s</SharedSecret></Credential>
      <UserAgent>Coupa Procurement 1.0</UserAgent></Sender>
  </Header>
  <Request>%s</Request>
</cXML>`, payloadID, secret, body))
}

func TestCXMLEndpoint(t *testing.T) {
	deep := "<cXML payloadID=\"deep@x\" timestamp=\"2024-01-01T00:00:00Z\">" + strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000) + "</cXML>"
	laughs := `<?xml version="1.0"?>
<!DOCTYPE cXML [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<cXML payloadID="laughs@x" timestamp="2024-01-01T00:00:00Z"><Header/><Request><ProfileRequest>&lol3;</ProfileRequest></Request></cXML>`
	tests := []struct {
		name   string
		body   []byte
		code   int
		kind   string
		detail string
	}{
		{"profile", coupaDoc("p1@coupa", "coupa-demo-secret", "<ProfileRequest/>"), 200, "ProfileResponse", ""},
		{"wrong secret", coupaDoc("p2@coupa", "guess", "<ProfileRequest/>"), 401, "Response", "do not match a connection"},
		{"empty secret", coupaDoc("p3@coupa", "", "<ProfileRequest/>"), 401, "Response", "do not match a connection"},
		{"unknown request type", coupaDoc("p4@coupa", "coupa-demo-secret", "<GetPendingRequest maxMessages=\"1\"/>"), 450, "Response", "GetPendingRequest is not implemented"},
		{"garbage", []byte("\x00\x01garbage<<>>"), 406, "Response", "not well-formed"},
		{"empty body", nil, 400, "Response", "empty"},
		{"billion laughs", []byte(laughs), 406, "Response", "entity declarations are not accepted"},
		{"deep nesting", []byte(deep), 406, "Response", "deeper than"},
		{"html", []byte("<html><body>hi</body></html>"), 400, "Response", "not <cXML>"},
		{"two requests", coupaDoc("p5@coupa", "coupa-demo-secret", "<ProfileRequest/></Request><Request><ProfileRequest/>"), 400, "Response", "exactly one"},
	}
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, doc := s.PostCXML(t, tc.body)
				assert.Equal(t, tc.code, doc.Response.Status.Code, doc.Response.Status.Detail)
				assert.Equal(t, tc.kind, doc.Kind())
				assert.Contains(t, doc.Response.Status.Detail, tc.detail)
			})
		}
		t.Run("profile lists transactions at /cxml", func(t *testing.T) {
			_, doc := s.PostCXML(t, coupaDoc("p6@coupa", "coupa-demo-secret", "<ProfileRequest/>"))
			p, ok := doc.Response.Body.(*cxml.ProfileResponse)
			require.True(t, ok)
			require.NotEmpty(t, p.Transactions)
			for _, tr := range p.Transactions {
				assert.Equal(t, s.URL+"/cxml", tr.URL)
			}
			var names []string
			for _, tr := range p.Transactions {
				names = append(names, tr.RequestName)
			}
			assert.ElementsMatch(t, []string{"OrderRequest", "ProfileRequest", "PunchOutSetupRequest", "StatusUpdateRequest"}, names)
		})
		t.Run("still serving after hostile input", func(t *testing.T) {
			_, doc := s.PostCXML(t, coupaDoc("p7@coupa", "coupa-demo-secret", "<ProfileRequest/>"))
			assert.Equal(t, 200, doc.Response.Status.Code)
		})
	})
}

func TestOversizedBody(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	body := io.MultiReader(strings.NewReader("<cXML payloadID=\"big@x\" timestamp=\"x\"><!-- "), bytes.NewReader(make([]byte, 50<<20)))
	resp, err := http.Post(s.URL+"/cxml", "text/xml", body)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	cxmltest.Validate(t, out)
	doc, err := cxml.Parse(out, cxml.Limits{})
	require.NoError(t, err)
	assert.Equal(t, 413, doc.Response.Status.Code)
	assert.Contains(t, doc.Response.Status.Detail, "2 MiB")
	// And the server is still serving.
	_, doc = s.PostCXML(t, coupaDoc("after-big@coupa", "coupa-demo-secret", "<ProfileRequest/>"))
	assert.Equal(t, 200, doc.Response.Status.Code)
}

func TestNonPostAnswersCXML(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	resp, err := http.Get(s.URL + "/cxml")
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	cxmltest.Validate(t, out)
	doc, err := cxml.Parse(out, cxml.Limits{})
	require.NoError(t, err)
	assert.Equal(t, 400, doc.Response.Status.Code)
	assert.Contains(t, doc.Response.Status.Detail, "POST")
}

func TestRepeatedPayloadIDGetsIdenticalAnswer(t *testing.T) {
	clock := apptest.NewClock(time.Now())
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		for _, tc := range []struct {
			name string
			body []byte
		}{
			{"success", coupaDoc("rep-1@coupa", "coupa-demo-secret", "<ProfileRequest/>")},
			{"not implemented", coupaDoc("rep-2@coupa", "coupa-demo-secret", "<GetPendingRequest maxMessages=\"1\"/>")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				first, _ := s.PostCXML(t, tc.body)
				clock.Advance(time.Second) // A fresh answer would carry a new timestamp.
				second, _ := s.PostCXML(t, tc.body)
				assert.Equal(t, string(first), string(second))
			})
		}
		t.Run("concurrent duplicates", func(t *testing.T) {
			body := coupaDoc("rep-3@coupa", "coupa-demo-secret", "<ProfileRequest/>")
			const n = 8
			answers := make([][]byte, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := http.Post(s.URL+"/cxml", "text/xml", bytes.NewReader(body))
					if err != nil {
						return
					}
					defer resp.Body.Close()
					answers[i], _ = io.ReadAll(resp.Body)
				}()
			}
			wg.Wait()
			for i := 1; i < n; i++ {
				assert.Equal(t, string(answers[0]), string(answers[i]), "answer %d", i)
			}
			var originals int
			require.NoError(t, s.App.DB.R.Get(&originals, s.App.DB.Rebind(
				`SELECT COUNT(*) FROM exchanges WHERE payload_id = ? AND direction = 'in' AND replay_of IS NULL`), "rep-3@coupa"))
			assert.Equal(t, 1, originals, "one original, the rest replays")
		})
		t.Run("same payloadID from a wrong secret is not answered from the log", func(t *testing.T) {
			_, doc := s.PostCXML(t, coupaDoc("rep-1@coupa", "guess", "<ProfileRequest/>"))
			assert.Equal(t, 401, doc.Response.Status.Code)
		})
	}, apptest.WithClock(clock))
}

func TestExchangeLogKeepsNoSecret(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		s.PostCXML(t, coupaDoc("log-1@coupa", "coupa-demo-secret", "<ProfileRequest/>"))
		s.PostCXML(t, coupaDoc("log-2@coupa", "not-the-secret", "<ProfileRequest/>"))
		var docs []struct {
			Direction string  `db:"direction"`
			DocType   string  `db:"doc_type"`
			Status    int     `db:"status_code"`
			Document  string  `db:"document"`
			Conn      *string `db:"connection_id"`
		}
		require.NoError(t, s.App.DB.R.Select(&docs, `SELECT direction, doc_type, status_code, document, connection_id FROM exchanges ORDER BY created_at, id`))
		require.Len(t, docs, 4, "each request and each answer is logged")
		for _, d := range docs {
			assert.NotContains(t, string(d.Document), "coupa-demo-secret")
			assert.NotContains(t, string(d.Document), "not-the-secret")
		}
		assert.Equal(t, "ProfileRequest", docs[0].DocType)
		assert.Contains(t, string(docs[0].Document), "<SharedSecret>"+cxml.Redacted+"</SharedSecret>")
		assert.NotNil(t, docs[0].Conn)
		assert.Equal(t, "ProfileResponse", docs[1].DocType)
		assert.Equal(t, 401, docs[2].Status)
		assert.Nil(t, docs[2].Conn, "an unauthenticated request belongs to no connection")
	})
}

// utf16LE is doc in UTF-16LE with a byte order mark, its declaration
// naming UTF-16.
func utf16LE(doc []byte) []byte {
	text := strings.Replace(string(doc), `encoding="UTF-8"`, `encoding="UTF-16"`, 1)
	out := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(text)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func TestPayloadIDNamesOneDocument(t *testing.T) {
	clock := apptest.NewClock(time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC))
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		// original is the logged request that first used payloadID.
		original := func(t *testing.T, payloadID string) (id, sum string) {
			t.Helper()
			var r struct {
				ID  string `db:"id"`
				SHA string `db:"document_sha256"`
			}
			require.NoError(t, s.App.DB.R.Get(&r, s.App.DB.Rebind(`SELECT id, document_sha256 FROM exchanges
				WHERE payload_id = ? AND direction = 'in' AND replay_of IS NULL`), payloadID))
			return r.ID, r.SHA
		}

		t.Run("another document with a used payloadID is refused 409, the same one replayed", func(t *testing.T) {
			doc1 := coupaDoc("once-1@coupa", "coupa-demo-secret", "<ProfileRequest/>")
			received := clock.Now()
			first, _ := s.PostCXML(t, doc1)
			clock.Advance(time.Minute)
			other := coupaDoc("once-1@coupa", "coupa-demo-secret", `<GetPendingRequest maxMessages="1"/>`)
			_, doc := s.PostCXML(t, other)
			st := doc.Response.Status
			assert.Equal(t, 409, st.Code)
			assert.Equal(t, "Conflict", st.Text)
			assert.Equal(t, `payloadID "once-1@coupa" was already used on `+received.Format("2006-01-02 15:04:05")+
				` UTC for a different document (a ProfileRequest, answered 200 OK); this document was not processed and nothing was changed: send it with a new payloadID`, st.Detail)
			var refusal struct {
				ReplayOf *string `db:"replay_of"`
				Status   int     `db:"status_code"`
			}
			require.NoError(t, s.App.DB.R.Get(&refusal, s.App.DB.Rebind(`SELECT replay_of, status_code FROM exchanges
				WHERE payload_id = ? AND direction = 'in' AND doc_type = 'GetPendingRequest'`), "once-1@coupa"))
			origID, _ := original(t, "once-1@coupa")
			require.NotNil(t, refusal.ReplayOf, "the refusal is logged as a repeat of the original")
			assert.Equal(t, origID, *refusal.ReplayOf)
			assert.Equal(t, 409, refusal.Status)

			// The original document still gets its answer, byte for byte.
			again, _ := s.PostCXML(t, doc1)
			assert.Equal(t, string(first), string(again))
		})

		t.Run("a corrected order sent with the old payloadID creates nothing", func(t *testing.T) {
			items := cart(t, s, "coupa", "ck-once", "offer-cloudsight-annual-contract")
			_, doc := s.PostCXML(t, orderFromCart("coupa", "once-order@coupa", "PO-ONCE-1", "new", "", items))
			require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
			agreements, lines := count(t, s, "agreements"), count(t, s, "po_line_items")
			_, doc = s.PostCXML(t, orderFromCart("coupa", "once-order@coupa", "PO-ONCE-2", "new", "", items))
			assert.Equal(t, 409, doc.Response.Status.Code)
			assert.Contains(t, doc.Response.Status.Detail, "for a different document (an OrderRequest, answered 200 OK)")
			assert.Equal(t, agreements, count(t, s, "agreements"))
			assert.Equal(t, lines, count(t, s, "po_line_items"))
			var n int
			require.NoError(t, s.App.DB.R.Get(&n, s.App.DB.Rebind(`SELECT COUNT(*) FROM purchase_orders WHERE po_number = ?`), "PO-ONCE-2"))
			assert.Zero(t, n, "no PO for the refused document")
		})

		t.Run("a refused original is final too", func(t *testing.T) {
			_, doc := s.PostCXML(t, coupaDoc("once-2@coupa", "coupa-demo-secret", `<GetPendingRequest maxMessages="1"/>`))
			require.Equal(t, 450, doc.Response.Status.Code)
			_, doc = s.PostCXML(t, coupaDoc("once-2@coupa", "coupa-demo-secret", "<ProfileRequest/>"))
			assert.Equal(t, 409, doc.Response.Status.Code)
			assert.Contains(t, doc.Response.Status.Detail, "(a GetPendingRequest, answered 450 Not Implemented)")
		})

		// Identity is decided on the bytes as received, whose SHA-256 the
		// log keeps (its copy is decoded and redacted).
		for _, tc := range []struct {
			name, payloadID string
			encode          func([]byte) []byte
		}{
			{"UTF-8 with a byte order mark", "once-bom@coupa", func(b []byte) []byte { return append([]byte("\xef\xbb\xbf"), b...) }},
			{"UTF-16", "once-utf16@coupa", utf16LE},
		} {
			t.Run(tc.name+": the same bytes are replayed", func(t *testing.T) {
				body := tc.encode(coupaDoc(tc.payloadID, "coupa-demo-secret", "<ProfileRequest/>"))
				first, doc := s.PostCXML(t, body)
				require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
				_, got := original(t, tc.payloadID)
				sum := sha256.Sum256(body)
				assert.Equal(t, hex.EncodeToString(sum[:]), got, "the log keeps the hash of the bytes as received")
				clock.Advance(time.Second)
				again, _ := s.PostCXML(t, body)
				assert.Equal(t, string(first), string(again))
			})
		}
	}, apptest.WithClock(clock))
}

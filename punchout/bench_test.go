package punchout_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

// BenchmarkCXMLEndpoint posts documents through the real router in-process
// (parse, authentication, idempotency lookup, handler, exchange log write
// and commit), from as many goroutines as GOMAXPROCS. ns/op is therefore
// the inverse of throughput: requests per second = 1e9 / ns/op.
func BenchmarkCXMLEndpoint(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var dsn string
			if engine == "sqlite" {
				dsn = dbtest.SQLiteDSN(b)
			} else {
				dsn = dbtest.PostgresDSN(b)
			}
			s := apptest.Start(b, dsn)
			h := s.App.Handler()
			var seq atomic.Int64
			b.Run("ProfileRequest", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						body := coupaDoc(fmt.Sprintf("bench-%d@coupa", seq.Add(1)), "coupa-demo-secret", "<ProfileRequest/>")
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", bytes.NewReader(body)))
						if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(`code="200"`)) {
							b.Fatalf("answer: %s", rec.Body.String())
						}
					}
				})
			})
			// A setup request writes a session as well.
			b.Run("PunchOutSetupRequest", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						body := setupRequest("coupa", fmt.Sprintf("bench-posr-%d@coupa", seq.Add(1)), "create", "cookie", buyerURL, "")
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", bytes.NewReader(body)))
						if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(`<StartPage>`)) {
							b.Fatalf("answer: %s", rec.Body.String())
						}
					}
				})
			})
			// It runs last: it fills the database, which would slow what
			// comes after it.
			// A five-line order writes five agreements, their charges, PO
			// line items and outbox mail as well. Each order is a new PO,
			// and an organization may have 100 active POs, so orders rotate
			// over 100 buyer organizations: room for 10,000 orders.
			const orgs = 100
			type buyerOrg struct {
				identity, secret string
				items            []cxml.ItemIn
			}
			var buyers []buyerOrg
			for i := range orgs {
				var org struct{ ID string }
				if s.API(b, "POST", "/api/v1/organizations", map[string]string{"name": fmt.Sprintf("Bench %d", i)}, &org) != 201 {
					b.Fatal("create organization")
				}
				bo := buyerOrg{identity: fmt.Sprintf("BenchBuyer%d", i), secret: fmt.Sprintf("bench-secret-%d", i)}
				if s.API(b, "POST", "/api/v1/connections", map[string]any{
					"organization_id": org.ID, "name": "bench", "system": "coupa",
					"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": bo.identity},
					"supplier_credential": map[string]string{"domain": "DUNS", "identity": "081254817"},
					"shared_secret":       bo.secret,
				}, nil) != 201 {
					b.Fatal("create connection")
				}
				posr := strings.NewReplacer("DemoCorpCoupa", bo.identity, "coupa-demo-secret", bo.secret).Replace(
					string(setupRequest("coupa", fmt.Sprintf("bench-posr-org-%d@x", i), "create", "cookie", buyerURL, "")))
				start := startPage(b, s, []byte(posr))
				sh := newShopper(b)
				for _, o := range []string{"offer-cloudsight-annual-contract", "offer-cloudsight-payg", "offer-ledgerflow-annual",
					"offer-hardened-linux-annual", "offer-teamchat-free"} {
					if code, page := sh.request(start, o); code != 200 {
						b.Fatalf("add %s: %s", o, page)
					}
				}
				_, _, doc := sh.checkout(start)
				bo.items = poom(b, doc).Items
				buyers = append(buyers, bo)
			}
			b.Run("OrderRequest5Lines", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						n := seq.Add(1)
						bo := buyers[n%orgs]
						body := orderFromCart("coupa", fmt.Sprintf("bench-order-%d@coupa", n), fmt.Sprintf("PO-BENCH-%d", n), "new", "", bo.items)
						body = []byte(strings.NewReplacer("DemoCorpCoupa", bo.identity, "coupa-demo-secret", bo.secret).Replace(string(body)))
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", bytes.NewReader(body)))
						if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte("agreements created")) {
							b.Fatalf("answer: %s", rec.Body.String())
						}
					}
				})
			})
		})
	}
}

// BenchmarkCXMLBaseline is the floor the endpoint is compared with: the
// same request bodies through an Echo handler that reads the body and
// writes a fixed cXML answer, with no parsing, database or logging.
func BenchmarkCXMLBaseline(b *testing.B) {
	e := echo.New()
	answer := []byte(`<?xml version="1.0" encoding="UTF-8"?><cXML payloadID="x" timestamp="2026-01-01T00:00:00Z"><Response><Status code="200" text="OK"/></Response></cXML>`)
	e.POST("/cxml", func(c echo.Context) error {
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(c.Request().Body); err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "text/xml; charset=UTF-8", answer)
	})
	var seq atomic.Int64
	b.Run("ProfileRequest", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body := coupaDoc(fmt.Sprintf("bench-%d@coupa", seq.Add(1)), "coupa-demo-secret", "<ProfileRequest/>")
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", bytes.NewReader(body)))
			}
		})
	})
}

package punchout_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

// template is a request body with placeholders, split once so that each
// request is made by concatenation: the benchmark measures the gateway,
// not the client building its documents.
type template struct{ parts []string }

func newTemplate(body string, placeholders ...string) template {
	t := template{parts: []string{body}}
	for _, p := range placeholders {
		last := t.parts[len(t.parts)-1]
		before, after, ok := strings.Cut(last, p)
		if !ok {
			panic("placeholder " + p + " not in the template")
		}
		t.parts = append(t.parts[:len(t.parts)-1], before, after)
	}
	return t
}

func (t template) fill(values ...string) []byte {
	n := 0
	for _, p := range t.parts {
		n += len(p)
	}
	for _, v := range values {
		n += len(v)
	}
	out := make([]byte, 0, n)
	for i, p := range t.parts {
		out = append(out, p...)
		if i < len(values) {
			out = append(out, values[i]...)
		}
	}
	return out
}

// BenchmarkCXMLEndpoint posts documents through the real router in-process
// (parse, authentication, idempotency lookup, handler, exchange log write
// and commit), from as many goroutines as GOMAXPROCS. ns/op is therefore
// the inverse of throughput: requests per second = 1e9 / ns/op. Every
// request carries a payloadID (and an order an orderID) of its own.
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
			profile := newTemplate(string(coupaDoc("PAYLOAD", "coupa-demo-secret", "<ProfileRequest/>")), "PAYLOAD")
			b.Run("ProfileRequest", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						body := profile.fill("bench-" + strconv.FormatInt(seq.Add(1), 10) + "@coupa")
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", bytes.NewReader(body)))
						if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(`code="200"`)) {
							b.Fatalf("answer: %s", rec.Body.String())
						}
					}
				})
			})
			// A setup request writes a session as well.
			setup := newTemplate(string(setupRequest("coupa", "PAYLOAD", "create", "cookie", buyerURL, "")), "PAYLOAD")
			b.Run("PunchOutSetupRequest", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						body := setup.fill("bench-posr-" + strconv.FormatInt(seq.Add(1), 10) + "@coupa")
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
			// over 300 buyer organizations: room for 30,000 orders, more
			// than a 2s run (with the testing package's ramp-up) posts.
			const orgs = 300
			type buyerOrg struct {
				identity, secret, org string
				order                 template
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
				order := orderFromCart("coupa", "PAYLOAD", "ORDERID", "new", "", poom(b, doc).Items)
				order = []byte(strings.NewReplacer("DemoCorpCoupa", bo.identity, "coupa-demo-secret", bo.secret).Replace(string(order)))
				bo.order = newTemplate(string(order), "PAYLOAD", "ORDERID")
				bo.org = org.ID
				buyers = append(buyers, bo)
			}
			b.Run("OrderRequest5Lines", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						n := seq.Add(1)
						ns := strconv.FormatInt(n, 10)
						body := buyers[n%orgs].order.fill("bench-order-"+ns+"@coupa", "PO-BENCH-"+ns)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", bytes.NewReader(body)))
						if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte("agreements created")) {
							b.Fatalf("answer: %s", rec.Body.String())
						}
					}
				})
			})
			// The floor of the order above: the 18 rows one such order
			// writes, inserted again with fresh keys (one multi-row INSERT
			// per table, one transaction), with no parsing,
			// authentication, validation or reads. The organizations
			// rotate as the orders' do.
			b.Run("OrderRows5LinesDirect", func(b *testing.B) {
				conns := make([]string, orgs)
				for i, bo := range buyers {
					if err := s.App.DB.R.Get(&conns[i], s.App.DB.Rebind(`SELECT id FROM connections WHERE organization_id = ?`), bo.org); err != nil {
						b.Fatal(err)
					}
				}
				ns := strconv.FormatInt(seq.Add(1), 10)
				rows := readOrderRows(b, s, buyers[0].order.fill("bench-template-"+ns+"@coupa", "PO-TEMPLATE-"+ns), "PO-TEMPLATE-"+ns, "bench-template-"+ns+"@coupa")
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						n := seq.Add(1)
						if err := rows.write(ctx, s, strconv.FormatInt(n, 10), buyers[n%orgs].org, conns[n%orgs]); err != nil {
							b.Fatal(err)
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
	profile := newTemplate(string(coupaDoc("PAYLOAD", "coupa-demo-secret", "<ProfileRequest/>")), "PAYLOAD")
	b.Run("ProfileRequest", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body := profile.fill("bench-" + strconv.FormatInt(seq.Add(1), 10) + "@coupa")
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", bytes.NewReader(body)))
			}
		})
	})
}

package punchout_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/punchout"
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
//
// Per engine, EchoBaseline (the floor: an Echo handler returning a fixed
// answer) runs first and every figure compared with another runs right
// after it, so that one run of the package is one round of pairs measured
// side by side; `make bench` runs it once per round (scripts/benchratio
// pairs the samples of a round).
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
			echoHandler := echoBaseline()
			b.Run("EchoBaseline", func(b *testing.B) {
				b.ReportAllocs()
				parallel(b, func() error {
					body := profile.fill("bench-" + strconv.FormatInt(seq.Add(1), 10) + "@coupa")
					return post(echoHandler, body, `code="200"`)
				})
			})
			b.Run("ProfileRequest", func(b *testing.B) {
				b.ReportAllocs()
				parallel(b, func() error {
					body := profile.fill("bench-" + strconv.FormatInt(seq.Add(1), 10) + "@coupa")
					return post(h, body, `code="200"`)
				})
			})
			// A setup request writes a session as well.
			setup := newTemplate(string(setupRequest("coupa", "PAYLOAD", "create", "cookie", buyerURL, "")), "PAYLOAD")
			b.Run("PunchOutSetupRequest", func(b *testing.B) {
				b.ReportAllocs()
				parallel(b, func() error {
					body := setup.fill("bench-posr-" + strconv.FormatInt(seq.Add(1), 10) + "@coupa")
					return post(h, body, `<StartPage>`)
				})
			})
			// The orders run last: they fill the database, which would
			// slow what comes after them.
			// A five-line order writes five agreements, their charges, PO
			// line items and outbox mail as well. Each order is a new PO
			// of one of the pool's buyer organizations, which never lets
			// one reach the active-PO limit.
			pool := &buyerPool{s: s}
			// A cart line is ordered once, so each order is of a cart of its
			// own: its lines' quotes name a session made for it before the
			// timer starts.
			b.Run("OrderRequest5Lines", func(b *testing.B) {
				buyers := pool.take(b, b.N)
				bodies := make([][]byte, b.N)
				for j := range bodies {
					ns := strconv.FormatInt(seq.Add(1), 10)
					bodies[j] = buyers[j%len(buyers)].freshOrder(b, s, "bench-order-"+ns+"@coupa", "PO-BENCH-"+ns)
				}
				var i atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				parallel(b, func() error {
					return post(h, bodies[i.Add(1)-1], "agreements created")
				})
			})
			// The floor of the order above: the 18 rows one such order
			// writes, inserted again with fresh keys (one multi-row INSERT
			// per table, one transaction), with no parsing,
			// authentication, validation or reads. Each copy is a new
			// active PO of one of the pool's organizations, as an order
			// is. The rows are read once, from an order of their own.
			var rows *orderRows
			b.Run("OrderRows5LinesDirect", func(b *testing.B) {
				if rows == nil {
					bo := pool.take(b, 1)[0]
					ns := strconv.FormatInt(seq.Add(1), 10)
					rows = readOrderRows(b, s, bo.freshOrder(b, s, "bench-template-"+ns+"@coupa", "PO-TEMPLATE-"+ns), "PO-TEMPLATE-"+ns, "bench-template-"+ns+"@coupa")
				}
				buyers := pool.take(b, b.N)
				var i atomic.Int64
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				parallel(b, func() error {
					bo := buyers[(i.Add(1)-1)%int64(len(buyers))]
					return rows.write(ctx, s, strconv.FormatInt(seq.Add(1), 10), bo.org, bo.conn)
				})
			})
		})
	}
}

// echoBaseline is the floor the endpoint is compared with: an Echo
// handler that reads the body and writes a fixed cXML answer, with no
// parsing, database or logging.
func echoBaseline() http.Handler {
	e := echo.New()
	answer := []byte(`<?xml version="1.0" encoding="UTF-8"?><cXML payloadID="x" timestamp="2026-01-01T00:00:00Z"><Response><Status code="200" text="OK"/></Response></cXML>`)
	e.POST("/cxml", func(c echo.Context) error {
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(c.Request().Body); err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "text/xml; charset=UTF-8", answer)
	})
	return e
}

// post posts body to /cxml on h and checks the answer: a 200 containing
// want.
func post(h http.Handler, body []byte, want string) error {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", bytes.NewReader(body)))
	if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(want)) {
		return fmt.Errorf("answer %d: %s", rec.Code, rec.Body.String())
	}
	return nil
}

// parallel calls op b.N times from GOMAXPROCS goroutines (b.RunParallel).
// The first error fails the benchmark and stops every goroutine: b.Error
// there (FailNow may only be called from the benchmark's goroutine), then
// b.FailNow here, so that the sample is not reported and the run fails.
func parallel(b *testing.B, op func() error) {
	b.Helper()
	var failed atomic.Bool
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if failed.Load() {
				return
			}
			if err := op(); err != nil {
				if failed.CompareAndSwap(false, true) {
					b.Error(err)
				}
				return
			}
		}
	})
	if failed.Load() {
		b.FailNow()
	}
}

// buyerPool holds the buyer organizations orders are placed for, each
// with a Coupa connection and a five-line order from a cart of its own.
// Every order is a new active PO and an organization may have
// invoicing.MaxActivePOs of them, so the pool counts the POs it hands out
// per organization, gives none more than perBuyer, and creates
// organizations as a run needs them: no run meets the limit, at any
// -count or -benchtime.
type buyerPool struct {
	s      *apptest.Server
	buyers []*benchBuyer
	pos    []int // POs handed out per buyer
	made   int   // buyers begun, for names of their own
}

// perBuyer is half the limit: far enough under it for any order.
const perBuyer = invoicing.MaxActivePOs / 2

type benchBuyer struct {
	identity, secret string
	org, conn        string // their IDs
	order            template
	sessions         int // made by freshOrder, for payloadIDs of their own
}

var quoteRe = regexp.MustCompile(`<SupplierPartAuxiliaryID>(q1\.[^<]+)</SupplierPartAuxiliaryID>`)

// freshOrder is the buyer's five-line order under a new payloadID and PO
// number, for a cart of its own: a new punchout session, whose id the
// lines' quotes name (a cart line is ordered once).
func (bo *benchBuyer) freshOrder(b *testing.B, s *apptest.Server, payloadID, po string) []byte {
	b.Helper()
	bo.sessions++
	ours := strings.NewReplacer("DemoCorpCoupa", bo.identity, "coupa-demo-secret", bo.secret)
	posr := ours.Replace(string(setupRequest("coupa", fmt.Sprintf("bench-posr-%s-%d@x", bo.identity, bo.sessions), "create", "cookie", buyerURL, "")))
	rec := httptest.NewRecorder()
	s.App.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", strings.NewReader(posr)))
	if !strings.Contains(rec.Body.String(), "<StartPage>") {
		b.Fatalf("setup: %s", rec.Body.String())
	}
	var session string
	if err := s.App.DB.R.Get(&session, s.App.DB.Rebind(`SELECT id FROM punchout_sessions WHERE connection_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`), bo.conn); err != nil {
		b.Fatal(err)
	}
	body := bo.order.fill(payloadID, po)
	return quoteRe.ReplaceAllFunc(body, func(m []byte) []byte {
		q, err := punchout.DecodeQuote(s.App.Keys, string(quoteRe.FindSubmatch(m)[1]))
		if err != nil {
			b.Fatal(err)
		}
		q.SessionID = session
		return []byte("<SupplierPartAuxiliaryID>" + q.Encode(s.App.Keys) + "</SupplierPartAuxiliaryID>")
	})
}

// take returns the buyers n POs are placed for, each taking an equal
// share round robin (at most ceil(n/len) each), creating buyers when too
// few have room. It runs before the benchmark's timer starts.
func (p *buyerPool) take(b *testing.B, n int) []*benchBuyer {
	b.Helper()
	for {
		var room []int
		for i, used := range p.pos {
			if used < perBuyer {
				room = append(room, i)
			}
		}
		// Drop the buyers without room for their share (which grows as
		// buyers are dropped) until every one left has it.
		for len(room) > 0 {
			share := (n + len(room) - 1) / len(room)
			kept := room[:0:0]
			for _, i := range room {
				if p.pos[i]+share <= perBuyer {
					kept = append(kept, i)
				}
			}
			if len(kept) == len(room) {
				out := make([]*benchBuyer, len(room))
				for j, i := range room {
					p.pos[i] += share
					out[j] = p.buyers[i]
				}
				return out
			}
			room = kept
		}
		p.add(b)
	}
}

// add creates a buyer organization with its connection, and its order
// from a five-line cart returned through a punchout session.
func (p *buyerPool) add(b *testing.B) {
	b.Helper()
	s, i := p.s, p.made
	p.made++
	var org struct{ ID string }
	if s.API(b, "POST", "/api/v1/organizations", map[string]string{"name": fmt.Sprintf("Bench %d", i)}, &org) != 201 {
		b.Fatal("create organization")
	}
	bo := &benchBuyer{identity: fmt.Sprintf("BenchBuyer%d", i), secret: fmt.Sprintf("bench-secret-%d", i), org: org.ID}
	if s.API(b, "POST", "/api/v1/connections", map[string]any{
		"organization_id": org.ID, "name": "bench", "system": "coupa",
		"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": bo.identity},
		"supplier_credential": map[string]string{"domain": "DUNS", "identity": "081254817"},
		"shared_secret":       bo.secret,
	}, nil) != 201 {
		b.Fatal("create connection")
	}
	if err := s.App.DB.R.Get(&bo.conn, s.App.DB.Rebind(`SELECT id FROM connections WHERE organization_id = ?`), org.ID); err != nil {
		b.Fatal(err)
	}
	ours := strings.NewReplacer("DemoCorpCoupa", bo.identity, "coupa-demo-secret", bo.secret)
	posr := ours.Replace(string(setupRequest("coupa", fmt.Sprintf("bench-posr-org-%d@x", i), "create", "cookie", buyerURL, "")))
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
	bo.order = newTemplate(ours.Replace(string(order)), "PAYLOAD", "ORDERID")
	p.buyers = append(p.buyers, bo)
	p.pos = append(p.pos, 0)
}

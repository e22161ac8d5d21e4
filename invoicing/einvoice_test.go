package invoicing_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/cxmltest"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/invoicing"
)

// coupa stands in for a Coupa instance's /cxml/invoices: it answers each
// post with the next scripted cXML status and keeps what it received.
type coupa struct {
	mu       sync.Mutex
	script   []int
	received [][]byte
	srv      *httptest.Server
}

func newCoupa(t *testing.T, script ...int) *coupa {
	c := &coupa{script: script}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.received = append(c.received, b)
		code := 200
		if len(c.script) > 0 {
			code, c.script = c.script[0], c.script[1:]
		}
		c.mu.Unlock()
		httpCode := 200
		if code >= 500 {
			httpCode = 500
		}
		detail := ""
		if code == 417 {
			detail = "PO Line must be the same type as invoice line"
		}
		doc, _ := cxml.Marshal(cxml.NewResponse("coupa-1@coupahost.com", time.Now(), cxml.NewStatus(code, detail), nil))
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(httpCode)
		w.Write(doc)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *coupa) bodies() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.received...)
}

// einvoiceSetup makes a Coupa connection with e-invoicing to endpoint and
// an upfront agreement on it, billed; the gateway's job queue delivers
// the invoice (WaitJobs waits for it).
func einvoiceSetup(t *testing.T, endpoint string, opts ...apptest.Option) (*apptest.Server, string) {
	t.Helper()
	return einvoiceSetupOffer(t, dbtestSQLiteDSN(t), endpoint, "offer-cloudsight-annual-contract", nil, opts...)
}

// noWorkers keeps the job queue from delivering, for tests that make
// the delivery attempts themselves (Deliverer.Attempt).
func noWorkers(cfg *app.Config) { cfg.NoWorkers = true }

// einvoiceSetupOffer is einvoiceSetup on dsn with an agreement for
// offerID; prepare, when set, runs first (to import the offer).
func einvoiceSetupOffer(t *testing.T, dsn, endpoint, offerID string, prepare func(*apptest.Server), opts ...apptest.Option) (*apptest.Server, string) {
	t.Helper()
	s := apptest.Start(t, dsn, opts...)
	if prepare != nil {
		prepare(s)
	}
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/connections", map[string]any{
		"organization_id": "org_demo", "name": "Coupa with invoices", "system": "coupa",
		"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "DemoCorpCoupaInv"},
		"supplier_credential": map[string]string{"domain": "DUNS", "identity": "081254817"},
		"shared_secret":       "coupa-demo-secret-2",
		"einvoice":            map[string]any{"enabled": true, "endpoint": endpoint, "shared_secret": "invoice & secret"},
	}, nil))
	var conns struct{ Connections []struct{ ID, Name string } }
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/connections?organization_id=org_demo", nil, &conns))
	connID := ""
	for _, cn := range conns.Connections {
		if cn.Name == "Coupa with invoices" {
			connID = cn.ID
		}
	}
	ctx := context.Background()
	product, offer, err := s.App.Catalog.GetOffer(ctx, nil, offerID)
	require.NoError(t, err)
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var agreementID string
	require.NoError(t, s.App.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO orders (id, organization_id, connection_id, order_id, po_number, type, source,
			payload_id, revises, order_date, created_at) VALUES ('ord_inv', 'org_demo', ?, 'PO-INV-1', 'PO-INV-1', 'new', 'cxml', 'p@x', NULL, ?, ?)`),
			connID, start, start); err != nil {
			return err
		}
		a, err := s.App.Agreements.Create(ctx, tx, invoicing.NewAgreement{OrganizationID: "org_demo", ConnectionID: connID, OrderRef: "ord_inv",
			OrderID: "PO-INV-1", LineNumber: 1, Offer: offer, Product: product, Start: start, PONumber: "PO-INV-1"})
		if err == nil {
			agreementID = a.ID
		}
		return err
	}))
	run(t, s, "2026-11-30")
	list := invoices(t, s, "agreement_id="+agreementID)
	require.Len(t, list, 1)
	return s, list[0]["id"].(string)
}

// deliverer is a Deliverer of the gateway's, for tests that make the
// attempts themselves, with a client or parties of their own.
func deliverer(s *apptest.Server) *invoicing.Deliverer {
	return &invoicing.Deliverer{DB: s.App.DB, Parties: s.App.Connections}
}

func TestInvoiceDeliveryRetriesUntilAccepted(t *testing.T) {
	c := newCoupa(t, 500, 500, 200)
	s, invID := einvoiceSetup(t, c.srv.URL+"/cxml/invoices")
	s.WaitJobs(t)
	a, err := deliverer(s).Attempt(context.Background(), invID, false)
	require.NoError(t, err)
	assert.Equal(t, invoicing.Skipped, a.Outcome, "nothing left once delivered")

	got := c.bodies()
	require.Len(t, got, 3)
	assert.Equal(t, string(got[0]), string(got[2]), "a retry is byte-identical")
	cxmltest.Validate(t, got[0])
	assert.Contains(t, string(got[0]), "<SharedSecret>invoice &amp; secret</SharedSecret>", "the secret, escaped, is put in when sent")
	doc, err := cxml.Parse(got[0], cxml.Limits{})
	require.NoError(t, err)
	req := doc.Request.Body.(*cxml.InvoiceDetailRequest)
	assert.Equal(t, invID, req.Header.InvoiceID)
	require.Len(t, req.Orders, 1)
	assert.Equal(t, "PO-INV-1", req.Orders[0].OrderReference.OrderID)
	assert.Equal(t, "PO-INV-1", req.Orders[0].OrderReference.DocumentReference, "Coupa reads the PO number in DocumentReference")
	assert.Equal(t, "24000.00", req.Summary.DueAmount.String())

	for _, inv := range invoices(t, s, "organization_id=org_demo") {
		if inv["id"] == invID {
			assert.Equal(t, "delivered", inv["delivery"].(map[string]any)["status"])
			assert.EqualValues(t, 3, inv["delivery"].(map[string]any)["attempts"])
		}
	}
	// The stored copy is the document as sent, without the secret.
	resp, err := http.NewRequest("GET", s.URL+"/api/v1/invoices/"+invID+"/cxml", nil)
	require.NoError(t, err)
	resp.Header.Set("Authorization", "Bearer test-admin-token")
	r, err := http.DefaultClient.Do(resp)
	require.NoError(t, err)
	stored, _ := io.ReadAll(r.Body)
	r.Body.Close()
	assert.Equal(t, strings.Replace(string(got[0]), "invoice &amp; secret", cxml.Redacted, 1), string(stored))
	assert.NotContains(t, string(stored), "invoice &amp; secret")
}

func TestInvoiceDeliveryParksOnA4xx(t *testing.T) {
	c := newCoupa(t, 417, 200)
	s, invID := einvoiceSetup(t, c.srv.URL+"/cxml/invoices")
	s.WaitJobs(t)
	require.Len(t, c.bodies(), 1, "a 4xx is not retried")
	find := func() map[string]any {
		for _, inv := range invoices(t, s, "organization_id=org_demo") {
			if inv["id"] == invID {
				return inv["delivery"].(map[string]any)
			}
		}
		return nil
	}
	del := find()
	assert.Equal(t, "failed", del["status"])
	assert.Contains(t, del["last_error"], "PO Line must be the same type as invoice line", "the buyer's status text is kept")

	// An operator resends it; the same document goes out and is accepted.
	require.Equal(t, http.StatusAccepted, s.API(t, "POST", "/api/v1/invoices/"+invID+"/resend", nil, nil))
	s.WaitJobs(t)
	assert.Equal(t, "delivered", find()["status"])
	got := c.bodies()
	require.Len(t, got, 2)
	assert.Equal(t, string(got[0]), string(got[1]))
}

// Cancelling an agreement whose upfront invoice prepaid a year credits
// the unused days with a lineLevelCreditMemo naming the original invoice.
func TestCancellationCreditsUnusedPrepaidTime(t *testing.T) {
	c := newCoupa(t)
	s, invID := einvoiceSetup(t, c.srv.URL+"/cxml/invoices")
	s.WaitJobs(t)
	ctx := context.Background()
	var agreementID string
	require.NoError(t, s.App.DB.R.Get(&agreementID, s.App.DB.Rebind(`SELECT agreement_id FROM invoices WHERE id = ?`), invID))
	// The year runs 2026-11-02 to 2027-11-01 (365 days); cancelled on
	// 2027-05-02, the 183 days from 2027-05-03 are unused.
	cancelled := time.Date(2027, 5, 2, 12, 0, 0, 0, time.UTC)
	require.NoError(t, s.App.DB.Transact(ctx, func(tx *sqlx.Tx) error { return s.App.Agreements.Cancel(ctx, tx, agreementID, cancelled) }))
	require.NoError(t, s.App.DB.Transact(ctx, func(tx *sqlx.Tx) error { return s.App.Agreements.Cancel(ctx, tx, agreementID, cancelled) }),
		"cancelling twice credits once")

	var credit map[string]any
	for _, inv := range invoices(t, s, "agreement_id="+agreementID) {
		if inv["purpose"] == "credit_memo" {
			require.Nil(t, credit, "one credit memo")
			credit = inv
		}
	}
	require.NotNil(t, credit)
	assert.Equal(t, invID, credit["credits_invoice_id"])
	assert.Equal(t, "-12032.88", credit["total"], "24000.00 x 183/365")
	assert.Equal(t, "PO-INV-1", credit["po_number"])

	s.WaitJobs(t)
	got := c.bodies()
	require.Len(t, got, 2, "the invoice, then its credit memo")
	cxmltest.Validate(t, got[1])
	doc, err := cxml.Parse(got[1], cxml.Limits{})
	require.NoError(t, err)
	req := doc.Request.Body.(*cxml.InvoiceDetailRequest)
	assert.Equal(t, cxml.InvoiceLineLevelCreditMemo, req.Header.Purpose)
	original, err := cxml.Parse(got[0], cxml.Limits{})
	require.NoError(t, err)
	assert.Equal(t, original.PayloadID, req.Header.DocumentReference, "the credit memo names the invoice it credits")
	assert.Equal(t, "-12032.88", req.Summary.NetAmount.String())
}

// delivery is the delivery state of one invoice, as the API shows it.
func delivery(t *testing.T, s *apptest.Server, invID string) map[string]any {
	t.Helper()
	for _, inv := range invoices(t, s, "organization_id=org_demo") {
		if inv["id"] == invID {
			return inv["delivery"].(map[string]any)
		}
	}
	t.Fatalf("invoice %s not listed", invID)
	return nil
}

// requestLog keeps the requests a test server received.
type requestLog struct {
	mu   sync.Mutex
	reqs []string // method, URL and body of each
}

func (l *requestLog) add(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r.Method+" "+r.URL.String()+"\n"+string(b))
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

func cxmlOK(w http.ResponseWriter) {
	doc, _ := cxml.Marshal(cxml.NewResponse("buyer-1@example.com", time.Now(), cxml.NewStatus(200, ""), nil))
	w.Header().Set("Content-Type", "text/xml")
	w.Write(doc)
}

// A buyer endpoint that answers with a redirect never gets its invoice
// followed to the redirect's target, whose query is not repeated either:
// the invoice is parked as failed with a text an operator can act on.
func TestInvoiceDeliveryNeverFollowsRedirects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   int
		client *http.Client
	}{
		{"302 found", http.StatusFound, nil},
		{"307 temporary redirect", http.StatusTemporaryRedirect, nil},
		{"308 permanent redirect", http.StatusPermanentRedirect, nil},
		{"307 with a client that follows redirects", http.StatusTemporaryRedirect, &http.Client{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var atTarget, atEndpoint requestLog
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				atTarget.add(r)
				cxmlOK(w)
			}))
			t.Cleanup(target.Close)
			endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				atEndpoint.add(r)
				http.Redirect(w, r, target.URL+"/cxml/invoices?token=t0ken", tc.code)
			}))
			t.Cleanup(endpoint.Close)
			s, invID := einvoiceSetup(t, endpoint.URL+"/cxml/invoices", noWorkers)
			d := deliverer(s)
			d.Client = tc.client

			a, err := d.Attempt(context.Background(), invID, false)
			require.NoError(t, err)
			assert.Equal(t, invoicing.Failed, a.Outcome, "a redirect is not retried")
			a, err = d.Attempt(context.Background(), invID, false)
			require.NoError(t, err)
			assert.Equal(t, invoicing.Skipped, a.Outcome, "and not tried again")

			assert.Empty(t, atTarget.all(), "the redirect's target gets nothing, and so not the secret")
			got := atEndpoint.all()
			require.Len(t, got, 1)
			assert.Contains(t, got[0], "<SharedSecret>invoice &amp; secret</SharedSecret>", "the configured endpoint does get the invoice")
			del := delivery(t, s, invID)
			assert.Equal(t, "failed", del["status"])
			assert.EqualValues(t, 1, del["attempts"])
			assert.Equal(t, fmt.Sprintf("HTTP %d redirect to %s, not followed: an invoice carries the connection's shared secret, "+
				"so it goes to the configured endpoint only; if the buyer has moved its invoice endpoint, "+
				"update the connection's e-invoicing endpoint, then resend the invoice", tc.code, strings.TrimPrefix(target.URL, "http://")), del["last_error"])
		})
	}
}

// wire stands in for the network: it records each request instead of
// making it, and answers it with a cXML 200.
type wire struct {
	mu   sync.Mutex
	reqs []string // URL and body of each
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	w.mu.Lock()
	w.reqs = append(w.reqs, r.URL.String()+"\n"+string(b))
	w.mu.Unlock()
	rec := httptest.NewRecorder()
	cxmlOK(rec)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func (w *wire) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.reqs...)
}

// endpointAt gives every connection's invoice party the endpoint under
// test, whatever the connection's validation would let an operator set.
type endpointAt struct {
	invoicing.Parties
	endpoint string
}

func (p endpointAt) InvoiceParty(ctx context.Context, connectionID string) (invoicing.InvoiceParty, error) {
	party, err := p.Parties.InvoiceParty(ctx, connectionID)
	party.Endpoint = p.endpoint
	return party, err
}

// An invoice, which carries the shared secret, goes over https, or plain
// http to a loopback address only; anywhere else no request is made.
func TestInvoiceDeliveryNeedsHTTPS(t *testing.T) {
	notHTTPS := func(host string) string {
		return "the connection's e-invoicing endpoint http://" + host + " is not https: an invoice carries the connection's shared secret, " +
			"so it is sent over https only (plain http only to localhost or a loopback address, for testing); " +
			"set the endpoint to the buyer's https address, then resend the invoice"
	}
	const notURL = "the connection's e-invoicing endpoint is not an https URL: set it to the buyer's https invoice address " +
		"(such as https://acme.coupahost.com/cxml/invoices), then resend the invoice"
	for _, tc := range []struct {
		name, endpoint string
		refused        string // the invoice's text, or "" when it is sent
	}{
		{"http to a public host", "http://invoices.example.com/cxml", notHTTPS("invoices.example.com")},
		{"http to a private address", "http://10.1.2.3:8080/cxml", notHTTPS("10.1.2.3:8080")},
		{"http to LOCALHOST, which Go's environment proxy takes", "http://LOCALHOST:8080/cxml", notHTTPS("LOCALHOST:8080")},
		{"http to a name that starts with localhost", "http://localhost.example.com/cxml", notHTTPS("localhost.example.com")},
		{"no scheme", "invoices.example.com/cxml", notURL},
		{"ftp", "ftp://invoices.example.com/cxml", notURL},
		{"https", "https://invoices.example.com/cxml?realm=acme", ""},
		{"http to 127.0.0.1", "http://127.0.0.1:8080/cxml", ""},
		{"http to elsewhere in 127/8", "http://127.8.9.10/cxml", ""},
		{"http to ::1", "http://[::1]:8080/cxml", ""},
		{"http to localhost", "http://localhost:8080/cxml", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, invID := einvoiceSetup(t, "https://buyer.example.com/cxml/invoices", noWorkers)
			var sent wire
			d := deliverer(s)
			d.Parties = endpointAt{Parties: d.Parties, endpoint: tc.endpoint}
			d.Client = &http.Client{Transport: &sent}

			a, err := d.Attempt(context.Background(), invID, false)
			require.NoError(t, err)
			assert.Contains(t, []invoicing.Outcome{invoicing.Delivered, invoicing.Failed}, a.Outcome)
			a, err = d.Attempt(context.Background(), invID, false)
			require.NoError(t, err)
			assert.Equal(t, invoicing.Skipped, a.Outcome, "delivered, or parked as failed: not retried")

			del := delivery(t, s, invID)
			assert.EqualValues(t, 1, del["attempts"])
			if tc.refused != "" {
				assert.Empty(t, sent.all(), "no request is made")
				assert.Equal(t, "failed", del["status"])
				assert.Equal(t, tc.refused, del["last_error"])
				return
			}
			got := sent.all()
			require.Len(t, got, 1)
			assert.True(t, strings.HasPrefix(got[0], tc.endpoint+"\n"), "the request goes to the endpoint as configured: %.80s", got[0])
			assert.Contains(t, got[0], "<SharedSecret>invoice &amp; secret</SharedSecret>")
			assert.Equal(t, "delivered", del["status"])
		})
	}
}

// After an attempt cut off by a crash, a refusal counts as delivered only
// when it is the buyer's documented answer to an invoice number it has
// already, word for word; any other refusal parks the invoice, and the
// documented answer to an attempt that was not cut off is a refusal too.
func TestDuplicateAnswerCountsOnlyAfterACrashAndOnlyWordForWord(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cutOff  bool
		content string
		want    invoicing.Outcome
	}{
		{"the documented answer after a crash", true, "the invoice number has already been used for this supplier", invoicing.Delivered},
		{"the same in capitals with a period", true, "The invoice number has already been used for this supplier.", invoicing.Delivered},
		{"an unknown PO after a crash", true, "Invalid order/document reference.", invoicing.Failed},
		{"another text that says duplicate", true, "duplicate invoice", invoicing.Failed},
		{"another text that says already exists", true, "invoice already exists", invoicing.Failed},
		{"the documented answer inside a longer text", true, "Invalid attributes in document: the invoice number has already been used for this supplier, and the PO is closed", invoicing.Failed},
		{"the documented answer without a crash", false, "the invoice number has already been used for this supplier", invoicing.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buyer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				doc, _ := cxml.Marshal(cxml.NewResponse("coupa-1@coupahost.com", time.Now(), cxml.NewStatus(417, tc.content), nil))
				w.Header().Set("Content-Type", "text/xml")
				w.Write(doc)
			}))
			t.Cleanup(buyer.Close)
			s, invID := einvoiceSetup(t, buyer.URL+"/cxml/invoices", noWorkers)
			if tc.cutOff {
				// An attempt began an hour ago and never recorded its outcome.
				_, err := s.App.DB.W.Exec(s.App.DB.Rebind(`UPDATE invoices SET sending_since = ?, delivery_attempts = 1 WHERE id = ?`),
					time.Now().Add(-time.Hour).UTC(), invID)
				require.NoError(t, err)
			}
			d := deliverer(s)
			d.Stale = time.Minute
			a, err := d.Attempt(context.Background(), invID, false)
			require.NoError(t, err)
			assert.Equal(t, tc.want, a.Outcome)
			del := delivery(t, s, invID)
			assert.Equal(t, map[invoicing.Outcome]string{invoicing.Delivered: "delivered", invoicing.Failed: "failed"}[tc.want], del["status"])
			assert.Contains(t, del["last_error"], tc.content, "the buyer's words are kept")
		})
	}
}

// A sending mark younger than the rescue time is an attempt in flight
// elsewhere: a second job for the invoice waits instead of posting it
// twice at once.
func TestSecondJobWaitsWhileAnAttemptIsInFlight(t *testing.T) {
	c := newCoupa(t)
	s, invID := einvoiceSetup(t, c.srv.URL+"/cxml/invoices", noWorkers)
	_, err := s.App.DB.W.Exec(s.App.DB.Rebind(`UPDATE invoices SET sending_since = ? WHERE id = ?`), time.Now().UTC(), invID)
	require.NoError(t, err)
	d := deliverer(s)
	d.Stale = time.Minute
	a, err := d.Attempt(context.Background(), invID, false)
	require.NoError(t, err)
	assert.Equal(t, invoicing.Busy, a.Outcome)
	assert.Empty(t, c.bodies(), "nothing is posted")
}

// A failed delivery is seen: in the invoice list filtered by
// delivery_status, in the metrics, in the exchange log (what was sent and
// the buyer's answer, with their connection), and in a mail to the
// connection's contacts. On both engines.
func TestFailedDeliveryIsSeen(t *testing.T) {
	for name, dsn := range dbtest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			c := newCoupa(t, 417)
			s, invID := einvoiceSetupOffer(t, dsn(t), c.srv.URL+"/cxml/invoices", "offer-cloudsight-annual-contract", func(s *apptest.Server) {}, noWorkers)
			var conns struct{ Connections []struct{ ID, Name string } }
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/connections?organization_id=org_demo", nil, &conns))
			connID := ""
			for _, cn := range conns.Connections {
				if cn.Name == "Coupa with invoices" {
					connID = cn.ID
				}
			}
			require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/connections/"+connID, map[string]any{"contacts": []map[string]string{
				{"name": "Terry Tech", "email": "terry@democorp.example", "kind": "technical"},
				{"name": "Bea Billing", "email": "bea@democorp.example", "kind": "billing"},
			}}, nil))
			d := s.App.Deliverer
			a, err := d.Attempt(context.Background(), invID, false)
			require.NoError(t, err)
			require.Equal(t, invoicing.Failed, a.Outcome)

			var failed, delivered struct{ Invoices []struct{ ID string } }
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/invoices?organization_id=org_demo&delivery_status=failed", nil, &failed))
			require.Len(t, failed.Invoices, 1)
			assert.Equal(t, invID, failed.Invoices[0].ID)
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/invoices?organization_id=org_demo&delivery_status=delivered", nil, &delivered))
			assert.Empty(t, delivered.Invoices)
			assert.Equal(t, 400, s.API(t, "GET", "/api/v1/invoices?organization_id=org_demo&delivery_status=lost", nil, nil))
			var e struct{ Error struct{ Message string } }
			assert.Equal(t, 400, s.API(t, "GET", "/api/v1/invoices?organization_id=org_demo&delivery=failed", nil, &e), "a misspelt filter")
			assert.Contains(t, e.Error.Message, `unknown query parameter "delivery"`)

			resp, err := http.Get(s.URL + "/metrics")
			require.NoError(t, err)
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Contains(t, string(metrics), `punchout_invoice_deliveries_total{outcome="failed"} 1`)
			assert.Contains(t, string(metrics), "punchout_invoices_failed 1")

			var log struct {
				Exchanges []struct {
					Direction  string `json:"direction"`
					Type       string `json:"doc_type"`
					StatusCode int    `json:"status_code"`
					ID         string `json:"id"`
				}
			}
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/exchanges?connection_id="+connID, nil, &log))
			var sent, answer string
			for _, x := range log.Exchanges {
				switch {
				case x.Direction == "out" && x.Type == "InvoiceDetailRequest":
					sent = x.ID
					assert.Equal(t, 417, x.StatusCode)
				case x.Direction == "in" && x.Type == "Response":
					answer = x.ID
				}
			}
			require.NotEmpty(t, sent, "the invoice sent is in the exchange log: %+v", log.Exchanges)
			require.NotEmpty(t, answer, "and the buyer's answer")
			var detail struct{ Document string }
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/exchanges/"+sent, nil, &detail))
			assert.Contains(t, detail.Document, "<InvoiceDetailRequest")
			assert.NotContains(t, detail.Document, "invoice &amp; secret", "never the secret")
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/exchanges/"+answer, nil, &detail))
			assert.Contains(t, detail.Document, "PO Line must be the same type as invoice line")

			var out struct {
				Messages []struct{ To, Subject, Body string }
			}
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/outbox?organization_id=org_demo", nil, &out))
			to := map[string]string{}
			for _, m := range out.Messages {
				if strings.Contains(m.Subject, invID) {
					to[m.To] = m.Body
				}
			}
			require.Len(t, to, 2, "each contact is told")
			assert.Contains(t, to["terry@democorp.example"], "Hello Terry Tech")
			assert.Contains(t, to["bea@democorp.example"], "PO Line must be the same type as invoice line")
		})
	}
}

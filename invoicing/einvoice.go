package invoicing

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/mail"
)

// InvoiceParty is what a connection's cXML invoices need: where they go
// and the credentials of their header (From is us, the supplier; To the
// buyer; Sender us, with the shared secret the buyer gave us).
type InvoiceParty struct {
	Enabled  bool
	Endpoint string
	From     cxml.Credential
	To       cxml.Credential
	Sender   cxml.Credential
	Secret   string
}

// Parties looks up a connection's invoice party. The punchout package,
// which owns connections and their encrypted secrets, implements it; the
// composition root wires it in.
type Parties interface {
	InvoiceParty(ctx context.Context, connectionID string) (InvoiceParty, error)
}

// secretMarker stands for the shared secret in a stored document: the
// secret is put in when the document is sent (cxml.FillSecret), so it is
// never stored.
const secretMarker = cxml.Redacted

// buildInvoiceDetail writes the InvoiceDetailRequest of an out-of-cycle
// invoice against its PO, the way Coupa reads it: the PO number in
// OrderReference@orderID and in DocumentReference@payloadID, one service
// line (an amount, not a quantity) per charge with its period.
func buildInvoiceDetail(ids *cxml.PayloadIDs, party InvoiceParty, inv *Invoice, c dueCharge, orderDate time.Time, lineNumber int, now time.Time) ([]byte, string, error) {
	amount, err := decimal.NewFromString(inv.Total)
	if err != nil {
		return nil, "", err
	}
	money := cxml.NewMoney(amount, inv.Currency)
	zero := cxml.NewMoney(decimal.Zero, inv.Currency)
	start, _ := time.Parse(time.DateOnly, inv.PeriodStart)
	end, _ := time.Parse(time.DateOnly, inv.PeriodEnd)
	invoiceDate, _ := time.Parse(time.DateOnly, inv.InvoiceDate)
	period := &cxml.Period{Start: cxml.Timestamp{Time: start, Valid: true, Zoned: true}, End: cxml.Timestamp{Time: end, Valid: true, Zoned: true}}
	noTax := cxml.Tax{Money: zero, Description: cxml.Description{Lang: "en-US", Text: "No tax charged by the marketplace"}}
	// The line carries its product's own commodity code.
	var classes []cxml.Classification
	if c.ProductUNSPSC != "" {
		classes = []cxml.Classification{{Domain: "UNSPSC", Value: c.ProductUNSPSC}}
	}
	body := &cxml.InvoiceDetailRequest{
		Header: cxml.InvoiceDetailRequestHeader{
			InvoiceID: inv.ID, Purpose: cxml.InvoiceStandard, Operation: "new",
			InvoiceDate:  cxml.Timestamp{Time: invoiceDate, Valid: true, Zoned: true},
			PaymentTerms: []cxml.PaymentTerm{{PayInNumberOfDays: 30}},
			Period:       period,
		},
		Orders: []cxml.InvoiceDetailOrder{{
			OrderReference: &cxml.OrderReference{OrderID: inv.PONumber, OrderDate: cxml.Timestamp{Time: orderDate, Valid: true, Zoned: true}, DocumentReference: inv.PONumber},
			ServiceItems: []cxml.InvoiceDetailServiceItem{{
				InvoiceLineNumber: 1,
				Reference: cxml.InvoiceItemReference{
					LineNumber:      lineNumber,
					ItemID:          &cxml.ItemID{SupplierPartID: c.OfferID},
					Description:     &cxml.Description{Lang: "en-US", Text: chargeDescription(c)},
					Classifications: classes,
				},
				SubtotalAmount: money,
				Period:         period,
			}},
		}},
		Summary: cxml.InvoiceDetailSummary{SubtotalAmount: money, Tax: noTax, NetAmount: money, DueAmount: &money},
	}
	return marshalInvoice(ids, party, body, now)
}

// marshalInvoice writes an invoice document from us to the buyer, with a
// new payloadID and the secret's marker in place of the secret.
func marshalInvoice(ids *cxml.PayloadIDs, party InvoiceParty, body *cxml.InvoiceDetailRequest, now time.Time) ([]byte, string, error) {
	sender := party.Sender
	sender.SharedSecret = secretMarker
	doc := &cxml.Document{
		PayloadID: ids.New(),
		Timestamp: cxml.Timestamp{Time: now, Valid: true, Zoned: true},
		Header: &cxml.Header{
			From:   cxml.Party{Credentials: []cxml.Credential{party.From}},
			To:     cxml.Party{Credentials: []cxml.Credential{party.To}},
			Sender: cxml.Sender{Credentials: []cxml.Credential{sender}},
		},
		Request: &cxml.Request{Body: body},
	}
	b, err := cxml.Marshal(doc)
	return b, doc.PayloadID, err
}

// Document returns an invoice's cXML document as stored: as sent, with
// the shared secret redacted. NotFound when the invoice has none.
func (b *Billing) Document(ctx context.Context, invoiceID string) ([]byte, error) {
	var doc []byte
	err := b.DB.R.GetContext(ctx, &doc, b.DB.Rebind(`SELECT document FROM invoices WHERE id = ?`), invoiceID)
	if db.IsNoRows(err) {
		return nil, errs.E(errs.NotFound, "invoice %s not found", invoiceID)
	}
	if err != nil {
		return nil, err
	}
	if len(doc) == 0 {
		return nil, errs.E(errs.NotFound, "invoice %s has no cXML document: its connection takes no cXML invoices, or it carries no PO", invoiceID)
	}
	return doc, nil
}

// Resend puts a failed (or delivered) cXML invoice back in the delivery
// queue, for an operator: the same document is sent again.
func (b *Billing) Resend(ctx context.Context, invoiceID string) error {
	return b.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE invoices SET delivery_status = 'pending', next_attempt_at = ?, lease_until = NULL
			WHERE id = ? AND document IS NOT NULL AND delivery_status IN ('failed', 'delivered', 'pending')`), b.Now().UTC(), invoiceID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "invoice %s has no cXML document to resend", invoiceID)
		}
		return nil
	})
}

// Deliverer posts pending cXML invoices to their connection's endpoint:
// transport errors, HTTP 5xx and cXML 5xx are retried with backoff and
// jitter; a cXML 4xx parks the invoice as failed with the buyer's status
// text, until an operator resends it. Each attempt claims the invoice
// under a lease, so two deliverers never send it at once.
//
// An invoice carries the connection's shared secret, so it goes to the
// configured endpoint's host and nowhere else. The endpoint must be
// https (plain http only to localhost or a loopback address, for local
// testing), else no connection is made. Redirects are never followed,
// whatever Client says: a 3xx parks the invoice as failed, like a 4xx,
// since a moved endpoint does not come back by itself; once the
// connection's endpoint is updated, an operator resends the invoice
// (POST /api/v1/invoices/{id}/resend).
type Deliverer struct {
	DB      dbLike
	Parties Parties
	// Client sends the invoices (default: a 60 s timeout and Go's default
	// transport, which takes a proxy from the environment: over https a
	// proxy sees only the TLS tunnel to the endpoint's host, and Go never
	// proxies the loopback addresses that may use http). Its
	// CheckRedirect is ignored.
	Client      *http.Client
	Log         *slog.Logger
	Now         func() time.Time
	Lease       time.Duration
	MaxAttempts int
	// Backoff is the wait before the next attempt (default mail.Backoff:
	// exponential with jitter).
	Backoff func(attempt int) time.Duration
}

type dbLike interface {
	Transact(ctx context.Context, fn func(tx *sqlx.Tx) error) error
}

func (d *Deliverer) defaults() {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Lease == 0 {
		d.Lease = 2 * time.Minute
	}
	if d.MaxAttempts == 0 {
		d.MaxAttempts = 12
	}
	if d.Client == nil {
		d.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if d.Backoff == nil {
		d.Backoff = mail.Backoff
	}
}

// Run delivers until ctx is done.
func (d *Deliverer) Run(ctx context.Context, poll time.Duration) {
	d.defaults()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		for {
			ok, err := d.DeliverOne(ctx)
			if err != nil && ctx.Err() == nil {
				d.Log.Error("invoice delivery", "err", err)
			}
			if !ok || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverOne makes one delivery attempt of one due invoice, and reports
// whether there was one.
func (d *Deliverer) DeliverOne(ctx context.Context) (bool, error) {
	d.defaults()
	now := d.Now().UTC()
	var inv struct {
		ID           string  `db:"id"`
		ConnectionID *string `db:"connection_id"`
		Document     []byte  `db:"document"`
		Attempts     int     `db:"delivery_attempts"`
	}
	// A claimed invoice whose lease ran out without an outcome was being
	// sent when its process died: the buyer may have it already.
	var unknown bool
	err := d.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		var cand struct {
			ID         string     `db:"id"`
			LeaseUntil *time.Time `db:"lease_until"`
		}
		if err := tx.GetContext(ctx, &cand, tx.Rebind(`SELECT id, lease_until FROM invoices
			WHERE delivery_status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY next_attempt_at, id LIMIT 1`), now, now); err != nil {
			return err
		}
		unknown = cand.LeaseUntil != nil
		return tx.GetContext(ctx, &inv, tx.Rebind(`UPDATE invoices SET lease_until = ?, delivery_attempts = delivery_attempts + 1
			WHERE id = ? AND delivery_status = 'pending' AND (lease_until IS NULL OR lease_until < ?)
			RETURNING id, connection_id, document, delivery_attempts`), now.Add(d.Lease), cand.ID, now)
	})
	if db.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	status, detail, temporary := d.send(ctx, inv.ConnectionID, inv.Document)
	if unknown && status >= 400 && status < 500 && alreadyReceived(detail) {
		// The attempt cut off by the crash did reach the buyer, who now
		// refuses the same invoice number: it is delivered, once.
		status, detail = 200, "delivered before a restart; the buyer reports it already has it ("+detail+")"
	}
	now = d.Now().UTC()
	// The outcome is recorded even when ctx ends meanwhile.
	ctx = context.WithoutCancel(ctx)
	err = d.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		switch {
		case status >= 200 && status < 300:
			note := ""
			if unknown {
				note = detail
			}
			_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE invoices SET delivery_status = 'delivered', lease_until = NULL, last_error = ? WHERE id = ?`), note, inv.ID)
			return err
		case temporary && inv.Attempts < d.MaxAttempts:
			_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE invoices SET next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?`),
				now.Add(d.Backoff(inv.Attempts)), detail, inv.ID)
			return err
		default:
			_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE invoices SET delivery_status = 'failed', lease_until = NULL, last_error = ? WHERE id = ?`), detail, inv.ID)
			return err
		}
	})
	if d.Log != nil {
		d.Log.Info("invoice delivery attempt", "invoice_id", inv.ID, "attempt", inv.Attempts, "status", status, "detail", detail)
	}
	return true, err
}

var alreadyRe = regexp.MustCompile(`(?i)already (been )?(used|received|exists|processed)|duplicate`)

// alreadyReceived reports whether a buyer's refusal says it has the
// invoice already (Coupa: "the invoice number has already been used for
// this supplier").
func alreadyReceived(detail string) bool { return alreadyRe.MatchString(detail) }

// send posts the document with the secret put in, and reads the buyer's
// cXML Status. It returns the status code, a text for the log and the
// invoice, and whether a retry may succeed.
func (d *Deliverer) send(ctx context.Context, connectionID *string, doc []byte) (int, string, bool) {
	if connectionID == nil || len(doc) == 0 {
		return 0, "the invoice has no cXML document or connection", false
	}
	party, err := d.Parties.InvoiceParty(ctx, *connectionID)
	if err != nil {
		return 0, "connection: " + errs.MessageOf(err), true
	}
	u, problem := deliveryURL(party.Endpoint)
	if problem != "" {
		return 0, problem, false
	}
	// The secret is put in only now that the request can go nowhere but
	// the endpoint's host.
	body := cxml.FillSecret(doc, party.Secret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, err.Error(), false
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	client := *d.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return 0, "transport: " + err.Error(), true
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return resp.StatusCode, redirectText(resp), false
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	parsed, perr := cxml.Parse(answer, cxml.Limits{})
	if perr != nil || parsed.Response == nil {
		if resp.StatusCode >= 500 || resp.StatusCode == 0 {
			return resp.StatusCode, fmt.Sprintf("HTTP %d without a cXML answer", resp.StatusCode), true
		}
		if resp.StatusCode >= 400 {
			return resp.StatusCode, fmt.Sprintf("HTTP %d without a cXML answer", resp.StatusCode), false
		}
		return 0, fmt.Sprintf("HTTP %d: the answer is not cXML", resp.StatusCode), true
	}
	st := parsed.Response.Status
	text := fmt.Sprintf("%d %s", st.Code, st.Text)
	if st.Detail != "" {
		text += ": " + st.Detail
	}
	return st.Code, text, st.Code >= 500 || resp.StatusCode >= 500
}

// deliveryURL parses a connection's invoice endpoint and checks that an
// invoice may be sent there: https, or http to localhost or a loopback
// address. Otherwise it returns the text for the invoice.
func deliveryURL(endpoint string) (*url.URL, string) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, "the connection's e-invoicing endpoint is not an https URL: set it to the buyer's https invoice address " +
			"(such as https://acme.coupahost.com/cxml/invoices), then resend the invoice"
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Sprintf("the connection's e-invoicing endpoint http://%s is not https: an invoice carries the connection's shared secret, "+
			"so it is sent over https only (plain http only to localhost or a loopback address, for testing); "+
			"set the endpoint to the buyer's https address, then resend the invoice", u.Host)
	}
	return u, ""
}

// loopback reports whether host is "localhost" or a loopback IP address,
// hosts Go's environment proxy never applies to (it does proxy
// "LOCALHOST", so the name is matched exactly): a plain http invoice
// never reaches a proxy.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectText says where a 3xx answer pointed, by host only (a query
// may carry tokens), and what the operator does about it.
func redirectText(resp *http.Response) string {
	to := "without a Location"
	if loc, err := resp.Location(); err == nil && loc.Host != "" {
		to = "to " + loc.Host
	}
	return fmt.Sprintf("HTTP %d redirect %s, not followed: an invoice carries the connection's shared secret, so it goes to the configured endpoint only; "+
		"if the buyer has moved its invoice endpoint, update the connection's e-invoicing endpoint, then resend the invoice", resp.StatusCode, to)
}

package invoicing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/jobs"
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
	// OrganizationID, Name and System name the connection, and Contacts
	// are who is told of a failed delivery.
	OrganizationID, Name, System string
	Contacts                     []PartyContact
	// ConfirmEndpoint is where order confirmations go, when enabled.
	ConfirmEndpoint string
}

// PartyContact is a connection's contact.
type PartyContact struct {
	Name, Email string
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
	money := inv.Total.CXML()
	zero := cxml.NewMoney(decimal.Zero, inv.Total.Currency())
	start, _ := time.Parse(time.DateOnly, inv.PeriodStart)
	end, _ := time.Parse(time.DateOnly, inv.PeriodEnd)
	invoiceDate, _ := time.Parse(time.DateOnly, inv.InvoiceDate)
	period := &cxml.Period{Start: cxml.Timestamp{Time: start, Valid: true, Zoned: true}, End: cxml.Timestamp{Time: end, Valid: true, Zoned: true}}
	noTax := cxml.Tax{Money: zero, Description: cxml.Description{Lang: "en-US", Text: "No tax charged by the marketplace"}}
	// The line carries its product's own commodity code.
	var classes []cxml.Classification
	if c.UNSPSC != "" {
		classes = []cxml.Classification{{Domain: "UNSPSC", Value: c.UNSPSC}}
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
	return marshalDocument(ids, party, body, now)
}

// marshalDocument writes a request from us (the supplier) to the buyer:
// From us, To the buyer, Sender us with the secret's marker.
func marshalDocument(ids *cxml.PayloadIDs, party InvoiceParty, body cxml.RequestBody, now time.Time) ([]byte, string, error) {
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
	if err != nil {
		return nil, db.Translate(err, "invoice %s not found", invoiceID)
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
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE invoices SET delivery_status = 'pending'
			WHERE id = ? AND document IS NOT NULL AND delivery_status IN ('failed', 'delivered', 'pending')`), invoiceID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "invoice %s has no cXML document to resend", invoiceID)
		}
		var org string
		if err := tx.GetContext(ctx, &org, tx.Rebind(`SELECT organization_id FROM invoices WHERE id = ?`), invoiceID); err != nil {
			return err
		}
		if err := access.Record(ctx, tx, org, "invoice.resend", "invoice", invoiceID, map[string]access.Change{"delivery_status": {After: "pending"}}, b.Now()); err != nil {
			return err
		}
		return b.Jobs.Insert(ctx, tx, DeliverInvoice{InvoiceID: invoiceID})
	})
}

// Jobs inserts a job in the caller's transaction (jobs.Queue).
type Jobs interface {
	Insert(ctx context.Context, tx *sqlx.Tx, args river.JobArgs) error
}

// DeliverInvoice is the job that posts one invoice's cXML document to
// its connection's endpoint. It is inserted with the invoice (and again
// by Resend); a job that finds its invoice delivered or failed does
// nothing, so a second job for one invoice is harmless.
type DeliverInvoice struct {
	InvoiceID string `json:"invoice_id"`
}

// Kind names the job in the queue.
func (DeliverInvoice) Kind() string { return "deliver_invoice" }

// InsertOpts puts the job on the invoices queue, tried up to 12 times
// (River's backoff spreads them over about a day).
func (DeliverInvoice) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueInvoices, MaxAttempts: 12}
}

// Deliverer is the worker of DeliverInvoice. Transport errors, HTTP 5xx
// and cXML 5xx return an error, and River tries again with backoff and
// jitter; a cXML 4xx ends the job (cancelled) and parks the invoice as
// failed with the buyer's status text, until an operator resends it.
//
// An attempt marks the invoice as being sent (sending_since) before it
// posts, and clears the mark with the outcome. A mark still there when
// the invoice is tried again, older than Stale, says the attempt before
// was cut off by a crash after the post may have reached the buyer: then
// a refusal counts as delivered only when it is the buyer's documented
// answer to an invoice number it already has (duplicateInvoiceAnswer). A
// younger mark is an attempt in flight elsewhere (a resend's second
// job): the job waits a minute (snooze) and looks again. A credit memo
// waits the same way until the invoice it credits is delivered.
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
	river.WorkerDefaults[DeliverInvoice]

	DB      dbLike
	Parties Parties
	// Client sends the invoices (default: a 60 s timeout and Go's default
	// transport, which takes a proxy from the environment: over https a
	// proxy sees only the TLS tunnel to the endpoint's host, and Go never
	// proxies the loopback addresses that may use http). Its
	// CheckRedirect is ignored.
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time
	// Stale is the age of a sending mark that no attempt still holds
	// (the queue's rescue time: jobs.Config.RescueAfter).
	Stale time.Duration
	// Mail tells a connection's contacts of a failed delivery; Outcomes,
	// when set, counts the attempts by outcome (a Prometheus counter with
	// the one label "outcome").
	Mail     *mail.Outbox
	Outcomes *prometheus.CounterVec
}

type dbLike interface {
	Transact(ctx context.Context, fn func(tx *sqlx.Tx) error) error
}

// Work makes one delivery attempt.
func (d *Deliverer) Work(ctx context.Context, job *river.Job[DeliverInvoice]) error {
	a, err := d.Attempt(ctx, job.Args.InvoiceID, job.Attempt >= job.MaxAttempts)
	if err != nil {
		return err
	}
	return a.jobResult()
}

// jobResult is what the job returns to River for an attempt's outcome:
// an error to retry, a cancel for a refusal, a snooze to look again.
func (a Attempt) jobResult() error {
	switch a.Outcome {
	case Retry:
		return errors.New(a.Detail)
	case Failed:
		return river.JobCancel(errors.New(a.Detail))
	case Busy:
		return river.JobSnooze(time.Minute)
	}
	return nil
}

// status is the delivery status an outcome leaves.
func (a Attempt) status() string {
	return map[Outcome]string{Delivered: "delivered", Retry: "pending", Failed: "failed"}[a.Outcome]
}

// logAttempt logs an attempt (a failure at warning level) and counts it.
func (d *Deliverer) logAttempt(ctx context.Context, msg, key, id string, a Attempt, ans answer) {
	if d.Outcomes != nil {
		d.Outcomes.WithLabelValues(a.status()).Inc()
	}
	if d.Log == nil {
		return
	}
	level := slog.LevelInfo
	if a.Outcome == Failed {
		level = slog.LevelWarn
	}
	d.Log.Log(ctx, level, msg, key, id, "status", ans.code, "outcome", a.status(), "detail", ans.text())
}

// Outcome is how a delivery attempt ended.
type Outcome int

// The outcomes.
const (
	// Skipped: the invoice is not waiting for delivery (delivered,
	// failed, or gone); nothing was sent.
	Skipped Outcome = iota
	// Delivered: the buyer accepted it.
	Delivered
	// Retry: a temporary failure; another attempt may succeed.
	Retry
	// Failed: parked as failed until an operator resends it.
	Failed
	// Busy: another attempt is sending it now, or it is a credit memo
	// whose invoice is not delivered yet; it is tried again later.
	Busy
)

// Attempt is the result of one delivery attempt.
type Attempt struct {
	Outcome Outcome
	// Status is the buyer's cXML status code (or the HTTP status when
	// there was no cXML answer, 0 when nothing was sent).
	Status int
	Detail string
}

var (
	errNotPending = errors.New("not pending")
	errBusy       = errors.New("busy")
)

// Attempt posts an invoice once and records the outcome on it; last says
// that no attempt follows, so a temporary failure parks it as failed.
// What was sent and what the buyer answered go to the exchange log, in
// the transaction of the outcome; a failure that parks the invoice tells
// the connection's contacts.
func (d *Deliverer) Attempt(ctx context.Context, invoiceID string, last bool) (Attempt, error) {
	now := d.now()
	var inv struct {
		OrganizationID string     `db:"organization_id"`
		ConnectionID   *string    `db:"connection_id"`
		PONumber       string     `db:"po_number"`
		Total          string     `db:"total"`
		Currency       string     `db:"currency"`
		PayloadID      string     `db:"payload_id"`
		Purpose        string     `db:"purpose"`
		Document       []byte     `db:"document"`
		Status         string     `db:"delivery_status"`
		SendingSince   *time.Time `db:"sending_since"`
		// A credit memo's original invoice, and whether it is delivered.
		Credits  *string `db:"credits_invoice_id"`
		Original *string `db:"original_status"`
	}
	// A mark left by an attempt that never recorded its outcome: the
	// buyer may have the invoice already.
	var cutOff bool
	err := d.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &inv, tx.Rebind(`SELECT i.organization_id, i.connection_id, i.po_number, i.total, i.currency, i.payload_id,
			i.purpose, i.document, i.delivery_status, i.sending_since, i.credits_invoice_id, o.delivery_status AS original_status
			FROM invoices i LEFT JOIN invoices o ON o.id = i.credits_invoice_id WHERE i.id = ?`), invoiceID); err != nil {
			return err
		}
		if inv.Status != "pending" {
			return errNotPending
		}
		// A credit memo follows the invoice it credits: the buyer refuses
		// one that names an invoice it does not have.
		if inv.Credits != nil && inv.Original != nil && *inv.Original != "delivered" {
			return errBusy
		}
		if inv.SendingSince != nil {
			if now.Sub(*inv.SendingSince) < d.stale() {
				return errBusy
			}
			cutOff = true
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE invoices SET sending_since = ?, delivery_attempts = delivery_attempts + 1 WHERE id = ?`), now, invoiceID)
		return err
	})
	switch {
	case db.IsNoRows(err), errors.Is(err, errNotPending):
		return Attempt{Outcome: Skipped}, nil
	case errors.Is(err, errBusy):
		return Attempt{Outcome: Busy}, nil
	case err != nil:
		return Attempt{}, err
	}
	var party InvoiceParty
	var ans answer
	switch {
	case inv.ConnectionID == nil || len(inv.Document) == 0:
		ans = answer{summary: "the invoice has no cXML document or connection"}
	default:
		if party, err = d.Parties.InvoiceParty(ctx, *inv.ConnectionID); err != nil {
			ans = answer{summary: "connection: " + errs.MessageOf(err), temporary: true}
		} else {
			ans = d.send(ctx, party, inv.Document)
		}
	}
	detail := ans.text()
	a := Attempt{Status: ans.code, Detail: detail}
	switch {
	case ans.code >= 200 && ans.code < 300:
		a.Outcome = Delivered
		if cutOff {
			a.Detail = "delivered after an attempt cut off by a restart: " + detail
		} else {
			a.Detail = ""
		}
	case cutOff && duplicateInvoiceAnswer(ans):
		// The attempt cut off by the crash did reach the buyer, who now
		// refuses the same invoice number: it is delivered, once.
		a.Outcome = Delivered
		a.Detail = "delivered before a restart; the buyer reports it already has it (" + detail + ")"
	case ans.temporary && !last:
		a.Outcome = Retry
	default:
		a.Outcome = Failed
	}
	status := a.status()
	finished := d.now()
	// The outcome is recorded even when ctx ends meanwhile.
	ctx = context.WithoutCancel(ctx)
	err = d.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE invoices SET delivery_status = ?, sending_since = NULL, last_error = ? WHERE id = ?`),
			status, a.Detail, invoiceID); err != nil {
			return err
		}
		if ans.sent {
			docType := "InvoiceDetailRequest"
			if inv.Purpose == "credit_memo" {
				docType = "InvoiceDetailRequest (credit memo)"
			}
			sent, answer := exchange.NewDelivery(exchange.Delivery{Now: finished, DocType: docType, PayloadID: inv.PayloadID, Doc: inv.Document,
				Answer: ans.raw, Status: ans.code, ConnectionID: *inv.ConnectionID, OrgID: inv.OrganizationID, Took: finished.Sub(now)})
			if err := exchange.InsertDelivery(ctx, tx, sent, answer); err != nil {
				return err
			}
		}
		if a.Outcome == Failed && d.Mail != nil {
			return d.tellContacts(ctx, tx, party, invoiceID, inv.PONumber, inv.Total, inv.Currency, detail, finished)
		}
		return nil
	})
	d.logAttempt(ctx, "invoice delivery attempt", "invoice_id", invoiceID, a, ans)
	return a, err
}

// tellContacts queues the notice of a failed delivery to each of the
// connection's contacts, in the transaction that records the failure.
func (d *Deliverer) tellContacts(ctx context.Context, tx *sqlx.Tx, party InvoiceParty, invoiceID, po, total, currency, reason string, now time.Time) error {
	for _, c := range party.Contacts {
		subject, body, err := failedTemplate.Render(deliveryFailedNotice{
			Contact: c.Name, InvoiceID: invoiceID, PONumber: po, Total: total + " " + currency,
			System: party.System, Connection: party.Name, Reason: reason,
		})
		if err != nil {
			return err
		}
		if _, err := d.Mail.Enqueue(ctx, tx, party.OrganizationID, c.Email, subject, body, now); err != nil && !errs.Is(err, errs.Invalid) {
			return err
		}
	}
	return nil
}

func (d *Deliverer) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

func (d *Deliverer) stale() time.Duration {
	if d.Stale <= 0 {
		return jobs.DefaultRescueAfter
	}
	return d.Stale
}

func (d *Deliverer) client() *http.Client {
	if d.Client == nil {
		return &http.Client{Timeout: 60 * time.Second}
	}
	return d.Client
}

// answer is what the buyer answered to an invoice post.
type answer struct {
	// sent says a request reached the endpoint; raw is the answer's
	// body as received (at most 1 MiB).
	sent bool
	raw  []byte
	code int
	// statusText is the Status element's text attribute, and content its
	// content; summary stands for both when there was no cXML answer.
	statusText, content string
	summary             string
	// temporary says a retry may succeed.
	temporary bool
}

func (a answer) text() string {
	if a.summary != "" {
		return a.summary
	}
	t := fmt.Sprintf("%d %s", a.code, a.statusText)
	if a.content != "" {
		t += ": " + a.content
	}
	return t
}

// coupaDuplicateInvoice is Coupa's answer to an invoice number it already
// has from this supplier: cXML status 417 with this text (Coupa's
// "Invoice cXML Transmission Error Codes"; conformance/CXML_NOTES.md,
// invoice rules). It is compared whole, case and a final period aside,
// never searched for: a 417 that says anything else (an unknown PO, a
// wrong line type, a bill-to mismatch) is a refusal.
const coupaDuplicateInvoice = "the invoice number has already been used for this supplier"

// duplicateInvoiceAnswer reports whether the buyer answered that it has
// the invoice already.
func duplicateInvoiceAnswer(a answer) bool {
	if a.code != 417 || a.summary != "" {
		return false
	}
	for _, t := range []string{a.content, a.statusText} {
		if strings.EqualFold(strings.TrimSuffix(strings.TrimSpace(t), "."), coupaDuplicateInvoice) {
			return true
		}
	}
	return false
}

// send posts the document with the secret put in, and reads the buyer's
// cXML Status.
func (d *Deliverer) send(ctx context.Context, party InvoiceParty, doc []byte) answer {
	u, problem := deliveryURL(party.Endpoint)
	if problem != "" {
		return answer{summary: problem}
	}
	// The secret is put in only now that the request can go nowhere but
	// the endpoint's host.
	body := cxml.FillSecret(doc, party.Secret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return answer{summary: err.Error()}
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	client := *d.client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return answer{summary: "transport: " + err.Error(), temporary: true}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return answer{sent: true, code: resp.StatusCode, summary: redirectText(resp)}
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	parsed, perr := cxml.Parse(raw, cxml.Limits{})
	if perr != nil || parsed.Response == nil {
		a := answer{sent: true, raw: raw, code: resp.StatusCode}
		switch {
		case resp.StatusCode >= 500 || resp.StatusCode == 0:
			a.summary, a.temporary = fmt.Sprintf("HTTP %d without a cXML answer", resp.StatusCode), true
		case resp.StatusCode >= 400:
			a.summary = fmt.Sprintf("HTTP %d without a cXML answer", resp.StatusCode)
		default:
			a.code, a.summary, a.temporary = 0, fmt.Sprintf("HTTP %d: the answer is not cXML", resp.StatusCode), true
		}
		return a
	}
	st := parsed.Response.Status
	return answer{sent: true, raw: raw, code: st.Code, statusText: st.Text, content: st.Detail, temporary: st.Code >= 500 || resp.StatusCode >= 500}
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

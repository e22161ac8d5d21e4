package punchout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/web"
)

// Request is an authenticated, parsed inbound request, handed to the
// method of its type (see Endpoint.handle).
type Request struct {
	Doc       *cxml.Document
	Conn      *Connection
	Now       time.Time
	RequestID string

	// What Commit needs to answer and log the request: in is the
	// document as received.
	e   *Endpoint
	res *Result
	in  []byte
}

// Answer is a successful answer: the body of the response (nil for a bare
// Status) and its Status.
type Answer struct {
	Body   cxml.ResponseBody
	Status cxml.Status
}

// Commit ends every request the gateway answers with success: in one
// write transaction it runs write, logs the exchange with the answer write
// returns, and commits. An error of write, or of the log, rolls back
// everything, and Serve answers with the error's status instead. A
// concurrent duplicate of the request (its payloadID, from the same
// connection, answered first) fails the log's unique index, and Serve
// answers with the stored answer.
func (r *Request) Commit(ctx context.Context, write func(tx *sqlx.Tx) (Answer, error)) error {
	return r.e.db.Transact(ctx, func(tx *sqlx.Tx) error {
		a, err := write(tx)
		if err != nil {
			return err
		}
		return exchange.Insert(ctx, tx, r.e.answer(r.res, r.in, a.Status, a.Body, r.Now, r.RequestID, r.Conn, ""))
	})
}

// Endpoint is the /cxml endpoint without its HTTP framing: it takes a
// body and always returns a cXML document carrying a Status.
type Endpoint struct {
	db     *db.DB
	conns  *Connections
	ids    *cxml.PayloadIDs
	limits cxml.Limits
	url    string
	log    *slog.Logger
	now    func() time.Time

	// Setup, Orders and StatusUpdates answer PunchOutSetupRequest,
	// OrderRequest and StatusUpdateRequest; a nil one is not implemented.
	Setup         *Setup
	Orders        *Orders
	StatusUpdates *StatusUpdates
}

// NewEndpoint returns an Endpoint that answers ProfileRequest, and the
// request types whose field is set. url is the public URL of /cxml,
// listed in the profile. now is the clock that dates each exchange.
func NewEndpoint(d *db.DB, conns *Connections, ids *cxml.PayloadIDs, limits cxml.Limits, url string, log *slog.Logger, now func() time.Time) *Endpoint {
	return &Endpoint{db: d, conns: conns, ids: ids, limits: limits, url: url, log: log, now: now}
}

// handle answers a request by the method of its type. Each reads what it
// needs to validate the request, then writes everything in one
// r.Commit, or returns the error that refuses it.
func (e *Endpoint) handle(ctx context.Context, r *Request) error {
	switch body := r.Doc.Request.Body.(type) {
	case *cxml.ProfileRequest:
		return e.profile(ctx, r)
	case *cxml.PunchOutSetupRequest:
		return e.Setup.Handle(ctx, r, body)
	case *cxml.OrderRequest:
		return e.Orders.Handle(ctx, r, body)
	case *cxml.StatusUpdateRequest:
		return e.StatusUpdates.Handle(ctx, r, body)
	}
	return errs.E(errs.Internal, "no method answers %s", r.Doc.Request.Body.ElementName())
}

// Supported lists the request types the endpoint answers, sorted: those
// handle has a method for.
func (e *Endpoint) Supported() []string {
	out := make([]string, 0, 4)
	if e.Orders != nil {
		out = append(out, "OrderRequest")
	}
	out = append(out, "ProfileRequest")
	if e.Setup != nil {
		out = append(out, "PunchOutSetupRequest")
	}
	if e.StatusUpdates != nil {
		out = append(out, "StatusUpdateRequest")
	}
	return out
}

// kindLabel is the metric label of a document type: a request type the
// gateway answers, or "other". Labels never come from a document, so a
// stranger cannot create metric series.
func (e *Endpoint) kindLabel(kind string) string {
	if slices.Contains(e.Supported(), kind) {
		return kind
	}
	return "other"
}

// Result is what Serve answered, for the HTTP layer's logs and metrics.
type Result struct {
	Body         []byte
	Status       cxml.Status
	DocType      string
	PayloadID    string
	ConnectionID string
	Replayed     bool
	// Err is the cause of an internal error, for the log only.
	Err error
	// began is when Serve was called by the wall clock, which times the
	// exchange (the Endpoint's clock dates it).
	began time.Time
}

// Refused reports whether the request was refused before its sender
// authenticated, for a reason the sender could change (a 4xx status):
// what the HTTP layer counts against the source address.
func (r *Result) Refused() bool {
	return r.ConnectionID == "" && r.Status.Code >= 400 && r.Status.Code < 500
}

// Serve answers one inbound document. It never fails: every outcome,
// including internal errors, is a cXML document with a Status.
//
// A payloadID names one document: a repeat of a request already answered
// for the connection gets the stored answer, and another document with
// that payloadID is refused (see repeat); neither changes anything.
//
// Until the sender has authenticated, the document costs a small multiple
// of its size: cxml.ReadEnvelope reads the envelope and Header with a
// streaming tokenizer, and the credentials are checked before the whole
// tree is built. A refusal is logged with only a prefix of the document.
func (e *Endpoint) Serve(ctx context.Context, body []byte, readErr error, requestID string) *Result {
	start := e.now()
	res := &Result{began: time.Now()}
	if readErr != nil {
		e.finish(ctx, res, body, statusOf(readErr), start, requestID, nil)
		return res
	}
	env, err := cxml.ReadEnvelope(body, e.limits)
	if err != nil {
		res.DocType = cxml.SniffKind(body)
		e.finish(ctx, res, body, statusOf(err), start, requestID, nil)
		return res
	}
	res.DocType, res.PayloadID = env.Kind, env.PayloadID
	if !env.Request {
		if env.Response || res.DocType == "" {
			res.DocType = "Response"
			if env.Message {
				res.DocType = "Message"
			}
		}
		e.finish(ctx, res, body, cxml.NewStatus(cxml.StatusBadRequest, fmt.Sprintf(
			"this endpoint takes cXML requests (%s); a %s is not a request", strings.Join(e.Supported(), ", "), kindText(res.DocType))), start, requestID, nil)
		return res
	}
	conn, err := e.conns.Authenticate(ctx, env.Header)
	if err != nil {
		e.finish(ctx, res, body, e.statusFor(err, env.PayloadID, requestID, res), start, requestID, nil)
		return res
	}
	res.ConnectionID = conn.ID
	// The log keeps the size and SHA-256 of body as received; its copy
	// is decoded from body again.
	in := inbound{body: body, text: env.Text}
	if stored, ok, err := exchange.Lookup(ctx, e.db.R, conn.ID, env.PayloadID); err != nil {
		res.Err = err
		e.finish(ctx, res, body, e.statusFor(err, env.PayloadID, requestID, res), start, requestID, conn)
		return res
	} else if ok {
		e.repeat(ctx, res, in, stored, start, requestID, conn)
		return res
	}
	doc, err := env.Parse(e.limits)
	if err != nil {
		e.finishConn(ctx, res, in, statusOf(err), start, requestID, conn)
		return res
	}
	res.DocType = doc.Kind()

	name := doc.Request.Body.ElementName()
	if !slices.Contains(e.Supported(), name) {
		e.finishConn(ctx, res, in, cxml.NewStatus(cxml.StatusNotImplemented, fmt.Sprintf(
			"%s is not implemented by this gateway; it accepts %s", name, strings.Join(e.Supported(), ", "))), start, requestID, conn)
		return res
	}

	req := &Request{Doc: doc, Conn: conn, Now: start, RequestID: requestID, e: e, res: res, in: body}
	err = e.handle(ctx, req)
	switch {
	case err == nil && res.Body != nil:
		return res // answered, and logged in the request's transaction
	case err == nil:
		err = errs.E(errs.Internal, "%s was answered without Commit", name)
	case db.IsUniqueViolation(err):
		if stored, ok, lerr := exchange.Lookup(ctx, e.db.R, conn.ID, doc.PayloadID); lerr == nil && ok {
			e.repeat(ctx, res, in, stored, start, requestID, conn)
			return res
		}
	}
	e.finishConn(ctx, res, in, e.statusFor(err, doc.PayloadID, requestID, res), start, requestID, conn)
	return res
}

// inbound is an authenticated request's document: as received, and
// decoded to UTF-8.
type inbound struct {
	body, text []byte
}

// kindText names a document type in an answer: one the gateway knows by
// its name, anything else generically (the name is the sender's text).
func kindText(kind string) string {
	if kind == "" || kind == "unknown" {
		return "document of another kind"
	}
	return kind
}

// Busy is the answer when the gateway is parsing as many documents as it
// may at once: a 503 status, which Coupa and Ariba retry later. Nothing is
// logged: a flood of them must not grow the exchange log.
func (e *Endpoint) Busy(requestID string) *Result {
	return e.unlogged(cxml.NewStatus(cxml.StatusServiceUnavailable, fmt.Sprintf(
		"the gateway is busy with other documents (request ID %s); nothing was changed, send the same document again in a minute", requestID)))
}

// Throttled is the answer to a source address that failed to authenticate
// too often: 429, without reading the document. Nothing is logged.
func (e *Endpoint) Throttled(retryAfter time.Duration) *Result {
	return e.unlogged(cxml.NewStatus(cxml.StatusTooManyRequests, fmt.Sprintf(
		"too many documents from this address failed to authenticate; wait %s, then send the document again with the right credentials and shared secret", retryAfter)))
}

func (e *Endpoint) unlogged(status cxml.Status) *Result {
	out := cxml.NewResponse(e.ids.New(), e.now(), status, nil)
	b, _ := cxml.Marshal(out)
	return &Result{Body: b, Status: status}
}

// statusOf is the answer to a document that could not be read or parsed.
func statusOf(err error) cxml.Status {
	var ce *cxml.Error
	if !errors.As(err, &ce) {
		ce = &cxml.Error{Code: cxml.StatusBadRequest, Detail: "the request body could not be read", Err: err}
	}
	return ce.Status()
}

func (e *Endpoint) statusFor(err error, payloadID, requestID string, res *Result) cxml.Status {
	code := errs.CXMLStatus(err)
	if code >= 500 {
		res.Err = err
		return cxml.NewStatus(code, fmt.Sprintf(
			"the gateway could not process payloadID %q because of an internal error (request ID %s); nothing was changed, send the same document again later",
			payloadID, requestID))
	}
	return cxml.NewStatus(code, errs.MessageOf(err))
}

// answer builds the response document and its log records. in is the
// request as received; repeatOf, when not empty, is the logged request
// whose payloadID it repeats.
func (e *Endpoint) answer(res *Result, in []byte, status cxml.Status, body cxml.ResponseBody, start time.Time, requestID string, conn *Connection, repeatOf string) *exchange.Pair {
	out := cxml.NewResponse(e.ids.New(), start, status, body)
	b, err := cxml.Marshal(out)
	if err != nil { // Only a bug gets here; answer without the body.
		res.Err = err
		out = cxml.NewResponse(out.PayloadID, start, cxml.NewStatus(cxml.StatusInternalServerError, "the answer could not be written"), nil)
		b, _ = cxml.Marshal(out)
		status = out.Response.Status
	}
	res.Body, res.Status = b, status
	x := exchange.Exchange{
		Now: start, RequestID: requestID, In: in, InType: res.DocType, InPayloadID: res.PayloadID,
		Out: b, OutType: out.Kind(), OutPayload: out.PayloadID, Status: status.Code, Took: time.Since(res.began),
		ReplayOf: repeatOf,
	}
	if conn != nil {
		x.ConnectionID, x.OrganizationID = conn.ID, conn.OrganizationID
	}
	return exchange.NewPair(x)
}

// finish answers with a status and no body, logging the exchange in a
// transaction of its own: the answer to a document refused before its
// payloadID was found in the log (conn is nil before authentication). in is the
// document as received.
func (e *Endpoint) finish(ctx context.Context, res *Result, in []byte, status cxml.Status, start time.Time, requestID string, conn *Connection) {
	if err := e.insert(ctx, e.answer(res, in, status, nil, start, requestID, conn, "")); err != nil {
		e.log.ErrorContext(ctx, "exchange log write failed", "request_id", requestID, "payload_id", web.Cut(res.PayloadID, 128), "err", err)
	}
}

// finishConn is finish for an authenticated request refused after its
// payloadID was looked up (the request's transaction, if any, has been
// rolled back). When a concurrent request with the same payloadID was
// answered first, the log's unique index refuses this answer, and the
// request is answered as a repeat of that one.
func (e *Endpoint) finishConn(ctx context.Context, res *Result, in inbound, status cxml.Status, start time.Time, requestID string, conn *Connection) {
	err := e.insert(ctx, e.answer(res, in.body, status, nil, start, requestID, conn, ""))
	if err != nil && db.IsUniqueViolation(err) {
		if stored, ok, lerr := exchange.Lookup(ctx, e.db.R, conn.ID, res.PayloadID); lerr == nil && ok {
			e.repeat(ctx, res, in, stored, start, requestID, conn)
			return
		}
	}
	if err != nil {
		e.log.ErrorContext(ctx, "exchange log write failed", "request_id", requestID, "payload_id", web.Cut(res.PayloadID, 128), "err", err)
	}
}

// insert logs an answered exchange in a transaction of its own, even when
// the request was cancelled: every answer is logged.
func (e *Endpoint) insert(ctx context.Context, p *exchange.Pair) error {
	wctx := context.WithoutCancel(ctx)
	return e.db.Transact(wctx, func(tx *sqlx.Tx) error { return exchange.Insert(wctx, tx, p) })
}

// repeat answers a request whose payloadID the connection already got a
// final answer for. The same document again (a retry after a lost answer)
// gets that answer (replay). Another document with that payloadID (most
// often a corrected document sent again by mistake with the old
// payloadID) is refused with 409, and nothing of it is processed:
// answering it with the old answer would silently drop the correction.
// 409 because the document conflicts with what the gateway holds, the
// payloadID's earlier document; a 4xx, because the same document will not
// fare better later (Coupa and Ariba do not retry a 4xx); and not 400,
// because the document itself may be fine with a new payloadID. The
// refusal is logged as a repeat of the original (replay_of), so that
// retention forgets both together.
func (e *Endpoint) repeat(ctx context.Context, res *Result, in inbound, stored *exchange.Stored, start time.Time, requestID string, conn *Connection) {
	if stored.SameDocument(in.body, in.text) {
		e.replay(ctx, res, in.body, stored, start, requestID, conn)
		return
	}
	status := cxml.NewStatus(cxml.StatusConflict, fmt.Sprintf(
		"payloadID %q was already used on %s for a different document (%s, answered %d %s); this document was not processed and nothing was changed: send it with a new payloadID",
		res.PayloadID, stored.InAt.UTC().Format("2006-01-02 15:04:05 MST"), kindArticle(stored.InType), stored.StatusCode, cxml.StatusText(stored.StatusCode)))
	if err := e.insert(ctx, e.answer(res, in.body, status, nil, start, requestID, conn, stored.InID)); err != nil {
		e.log.ErrorContext(ctx, "exchange log write failed", "request_id", requestID, "payload_id", web.Cut(res.PayloadID, 128), "err", err)
	}
}

// kindArticle names a logged document type with its article: "an
// OrderRequest", "a ProfileRequest".
func kindArticle(kind string) string {
	kind = kindText(kind)
	if kind != "" && strings.ContainsRune("AEIOU", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

// replay answers with the stored answer, byte for byte, and logs the
// repeat as a replay of the original.
func (e *Endpoint) replay(ctx context.Context, res *Result, in []byte, stored *exchange.Stored, start time.Time, requestID string, conn *Connection) {
	res.Body = stored.Document
	res.Status = cxml.Status{Code: stored.StatusCode, Text: cxml.StatusText(stored.StatusCode)}
	res.Replayed = true
	p := exchange.NewPair(exchange.Exchange{
		Now: start, RequestID: requestID, In: in, InType: res.DocType, InPayloadID: res.PayloadID,
		Out: res.Body, OutType: stored.DocType, OutPayload: stored.PayloadID, Status: stored.StatusCode,
		Took: time.Since(res.began), ConnectionID: conn.ID, OrganizationID: conn.OrganizationID, ReplayOf: stored.InID,
	})
	if err := e.insert(ctx, p); err != nil {
		e.log.ErrorContext(ctx, "exchange log write failed", "request_id", requestID, "payload_id", web.Cut(res.PayloadID, 128), "err", err)
	}
}

// profile answers a ProfileRequest with the request types this gateway
// accepts, all at /cxml. It writes nothing but the log.
func (e *Endpoint) profile(ctx context.Context, r *Request) error {
	p := &cxml.ProfileResponse{EffectiveDate: r.Now.UTC().Truncate(time.Second)}
	for _, name := range e.Supported() {
		p.Transactions = append(p.Transactions, cxml.Transaction{RequestName: name, URL: e.url})
	}
	return r.Commit(ctx, func(*sqlx.Tx) (Answer, error) {
		return Answer{Body: p, Status: cxml.NewStatus(cxml.StatusOK, "")}, nil
	})
}

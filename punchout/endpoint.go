package punchout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/web"
)

// Request is an authenticated inbound request, handed to the handler of its
// type inside the write transaction that also logs it.
type Request struct {
	Doc       *cxml.Document
	Conn      *Connection
	Now       time.Time
	RequestID string
	// Tx holds back the inserts nobody reads an answer from, and sends
	// them with the exchange log's at commit (see db.Tx).
	Tx *db.Tx
	// Prepared is what the type's Preparer found, if it has one.
	Prepared any
}

// Preparer does the read-only part of a request's work before the write
// transaction begins (r.Tx is nil): on SQLite every write transaction
// runs on the one writer connection, so reads done there hold everyone
// else up. What it returns is handed to the handler as r.Prepared; an
// error refuses the request.
type Preparer func(ctx context.Context, r *Request) (any, error)

// RequestHandler answers one request type. It returns the body of a
// successful answer (nil for a bare status) and its status, or an error;
// on error every write it made through r.Tx is rolled back.
type RequestHandler func(ctx context.Context, r *Request) (cxml.ResponseBody, cxml.Status, error)

// Endpoint is the /cxml endpoint without its HTTP framing: it takes a
// body and always returns a cXML document carrying a Status.
type Endpoint struct {
	db       *db.DB
	conns    *Connections
	ids      *cxml.PayloadIDs
	limits   cxml.Limits
	url      string
	log      *slog.Logger
	now      func() time.Time
	handlers map[string]RequestHandler
	prepare  map[string]Preparer
}

// NewEndpoint returns an Endpoint that answers ProfileRequest; other
// request types are added with Handle. url is the public URL of /cxml,
// listed in the profile.
func NewEndpoint(d *db.DB, conns *Connections, ids *cxml.PayloadIDs, limits cxml.Limits, url string, log *slog.Logger) *Endpoint {
	e := &Endpoint{db: d, conns: conns, ids: ids, limits: limits, url: url, log: log, now: time.Now,
		handlers: map[string]RequestHandler{}, prepare: map[string]Preparer{}}
	e.Handle("ProfileRequest", e.profile)
	return e
}

// Handle registers the handler of a request type.
func (e *Endpoint) Handle(requestName string, h RequestHandler) { e.handlers[requestName] = h }

// Prepare registers the read-only first step of a request type.
func (e *Endpoint) Prepare(requestName string, p Preparer) { e.prepare[requestName] = p }

// Supported lists the request types the endpoint answers, sorted.
func (e *Endpoint) Supported() []string {
	out := make([]string, 0, len(e.handlers))
	for n := range e.handlers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// kindLabel is the metric label of a document type: a request type the
// gateway answers, or "other". Labels never come from a document, so a
// stranger cannot create metric series.
func (e *Endpoint) kindLabel(kind string) string {
	if _, ok := e.handlers[kind]; ok {
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
// Until the sender has authenticated, the document costs a small multiple
// of its size: cxml.ReadEnvelope reads the envelope and Header with a
// streaming tokenizer, and the credentials are checked before the whole
// tree is built. A refusal is logged with only a prefix of the document.
func (e *Endpoint) Serve(ctx context.Context, body []byte, readErr error, requestID string) *Result {
	start := e.now()
	res := &Result{}
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
		e.finish(ctx, res, env.Text, cxml.NewStatus(cxml.StatusBadRequest, fmt.Sprintf(
			"this endpoint takes cXML requests (%s); a %s is not a request", strings.Join(e.Supported(), ", "), kindText(res.DocType))), start, requestID, nil)
		return res
	}
	conn, err := e.conns.Authenticate(ctx, env.Header)
	if err != nil {
		e.finish(ctx, res, env.Text, e.statusFor(err, env.PayloadID, requestID, res), start, requestID, nil)
		return res
	}
	res.ConnectionID = conn.ID
	if stored, ok, err := exchange.Lookup(ctx, e.db.R, conn.ID, env.PayloadID); err != nil {
		res.Err = err
		e.finish(ctx, res, env.Text, e.statusFor(err, env.PayloadID, requestID, res), start, requestID, conn)
		return res
	} else if ok {
		e.replay(ctx, res, env.Text, stored, start, requestID, conn)
		return res
	}
	doc, err := env.Parse(e.limits)
	if err != nil {
		e.finish(ctx, res, env.Text, statusOf(err), start, requestID, conn)
		return res
	}
	res.DocType = doc.Kind()

	name := doc.Request.Body.ElementName()
	h, ok := e.handlers[name]
	if !ok {
		e.finish(ctx, res, env.Text, cxml.NewStatus(cxml.StatusNotImplemented, fmt.Sprintf(
			"%s is not implemented by this gateway; it accepts %s", name, strings.Join(e.Supported(), ", "))), start, requestID, conn)
		return res
	}

	req := &Request{Doc: doc, Conn: conn, Now: start, RequestID: requestID}
	if p, ok := e.prepare[name]; ok {
		prepared, err := p(ctx, req)
		if err != nil {
			e.finish(ctx, res, env.Text, e.statusFor(err, doc.PayloadID, requestID, res), start, requestID, conn)
			return res
		}
		req.Prepared = prepared
	}
	// The handler's work and the log of the exchange commit together, so a
	// concurrent duplicate either finds the stored answer or loses the race
	// on the log's unique index and rolls back everything it did.
	var answered *exchange.Pair
	err = e.db.TransactHeld(ctx, func(tx *db.Tx) error {
		req.Tx = tx
		body2, status, err := h(ctx, req)
		if err != nil {
			return err
		}
		answered = e.answer(res, env.Text, status, body2, start, requestID, conn)
		return exchange.Insert(ctx, tx, answered)
	})
	switch {
	case err == nil:
		return res
	case db.IsUniqueViolation(err):
		if stored, ok, lerr := exchange.Lookup(ctx, e.db.R, conn.ID, doc.PayloadID); lerr == nil && ok {
			e.replay(ctx, res, env.Text, stored, start, requestID, conn)
			return res
		}
	}
	e.finish(ctx, res, env.Text, e.statusFor(err, doc.PayloadID, requestID, res), start, requestID, conn)
	return res
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

// answer builds the response document and its log records.
func (e *Endpoint) answer(res *Result, in []byte, status cxml.Status, body cxml.ResponseBody, start time.Time, requestID string, conn *Connection) *exchange.Pair {
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
		Out: b, OutType: out.Kind(), OutPayload: out.PayloadID, Status: status.Code, Took: e.now().Sub(start),
	}
	if conn != nil {
		x.ConnectionID, x.OrganizationID = conn.ID, conn.OrganizationID
	}
	return exchange.NewPair(x)
}

// finish answers with a status and no body, logging the exchange in a
// transaction of its own (the handler's, if any, has been rolled back).
// conn is nil for a refusal before authentication.
func (e *Endpoint) finish(ctx context.Context, res *Result, in []byte, status cxml.Status, start time.Time, requestID string, conn *Connection) {
	p := e.answer(res, in, status, nil, start, requestID, conn)
	// Logged even when the request was cancelled: every answer is.
	wctx := context.WithoutCancel(ctx)
	err := e.db.Transact(wctx, func(tx *sqlx.Tx) error { return exchange.Insert(wctx, tx, p) })
	if err != nil && db.IsUniqueViolation(err) && conn != nil {
		if stored, ok, lerr := exchange.Lookup(ctx, e.db.R, conn.ID, res.PayloadID); lerr == nil && ok {
			e.replay(ctx, res, in, stored, start, requestID, conn)
			return
		}
	}
	if err != nil {
		e.log.ErrorContext(ctx, "exchange log write failed", "request_id", requestID, "payload_id", web.Cut(res.PayloadID, 128), "err", err)
	}
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
		Took: e.now().Sub(start), ConnectionID: conn.ID, OrganizationID: conn.OrganizationID, ReplayOf: stored.InID,
	})
	wctx := context.WithoutCancel(ctx)
	if err := e.db.Transact(wctx, func(tx *sqlx.Tx) error { return exchange.Insert(wctx, tx, p) }); err != nil {
		e.log.ErrorContext(ctx, "exchange log write failed", "request_id", requestID, "payload_id", web.Cut(res.PayloadID, 128), "err", err)
	}
}

// profile answers a ProfileRequest with the request types this gateway
// accepts, all at /cxml.
func (e *Endpoint) profile(_ context.Context, r *Request) (cxml.ResponseBody, cxml.Status, error) {
	p := &cxml.ProfileResponse{EffectiveDate: r.Now.UTC().Truncate(time.Second)}
	for _, name := range e.Supported() {
		p.Transactions = append(p.Transactions, cxml.Transaction{RequestName: name, URL: e.url})
	}
	return p, cxml.NewStatus(cxml.StatusOK, ""), nil
}

// Package exchange is the log of every cXML document the gateway receives
// or sends: direction, type, connection, payloadID, status code, duration
// and the document itself with its shared secrets removed. It also holds
// the answers that make inbound requests idempotent: a request that
// repeats a payloadID from the same connection gets the stored answer,
// byte for byte, and changes nothing (the repeat itself is logged, as a
// replay of the original).
package exchange

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/id"
)

// Directions.
const (
	In  = "in"
	Out = "out"
)

// MaxStored bounds how much of a document the log keeps. Documents the
// gateway accepts are smaller; the bound matters for refused oversized
// bodies, of which only the beginning is kept.
const MaxStored = 4 << 20

// Record is one logged document.
type Record struct {
	ID             string         `db:"id" json:"id"`
	Direction      string         `db:"direction" json:"direction"`
	DocType        string         `db:"doc_type" json:"doc_type"`
	ConnectionID   sql.NullString `db:"connection_id" json:"-"`
	OrganizationID sql.NullString `db:"organization_id" json:"-"`
	PayloadID      string         `db:"payload_id" json:"payload_id"`
	AnswerID       sql.NullString `db:"answer_id" json:"-"`
	ReplayOf       sql.NullString `db:"replay_of" json:"-"`
	StatusCode     int            `db:"status_code" json:"status_code"`
	DurationUS     int64          `db:"duration_us" json:"duration_us"`
	RequestID      string         `db:"request_id" json:"request_id"`
	Document       []byte         `db:"document" json:"-"`
	CreatedAt      time.Time      `db:"created_at" json:"created_at"`
}

// Pair is an inbound document and the answer the gateway gave it.
type Pair struct {
	In, Out Record
}

// NewPair prepares the log records of one request and its answer. doc is
// redacted and bounded here, so no caller can store a secret by mistake.
func NewPair(now time.Time, requestID string, in []byte, inType, inPayloadID string, out []byte, outType, outPayloadID string, status int, took time.Duration) *Pair {
	outRec := Record{
		ID: id.New("xout"), Direction: Out, DocType: outType, PayloadID: outPayloadID, StatusCode: status,
		DurationUS: took.Microseconds(), RequestID: requestID, Document: clean(out), CreatedAt: now.UTC(),
	}
	inRec := Record{
		ID: id.New("xin"), Direction: In, DocType: inType, PayloadID: inPayloadID,
		AnswerID:   sql.NullString{String: outRec.ID, Valid: true},
		StatusCode: status, DurationUS: took.Microseconds(), RequestID: requestID,
		Document: clean(in), CreatedAt: now.UTC(),
	}
	return &Pair{In: inRec, Out: outRec}
}

// SetConnection ties both records to the connection that sent the request.
func (p *Pair) SetConnection(connectionID, organizationID string) {
	for _, r := range []*Record{&p.In, &p.Out} {
		r.ConnectionID = sql.NullString{String: connectionID, Valid: connectionID != ""}
		r.OrganizationID = sql.NullString{String: organizationID, Valid: organizationID != ""}
	}
}

func clean(doc []byte) []byte {
	if len(doc) > MaxStored {
		doc = doc[:MaxStored]
	}
	out := cxml.RedactSecrets(doc)
	if out == nil {
		out = []byte{}
	}
	return out
}

// insertSQL is positional, not named: it is on the hot path of every
// request, inside the write transaction, and sqlx compiles a named query
// on every call.
const insertSQL = `INSERT INTO exchanges (id, direction, doc_type, connection_id, organization_id, payload_id,
	answer_id, replay_of, status_code, duration_us, request_id, document, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func insert(ctx context.Context, tx sqlx.ExtContext, r *Record) error {
	return db.ExecLater(ctx, tx, insertSQL, r.ID, r.Direction, r.DocType, r.ConnectionID, r.OrganizationID,
		r.PayloadID, r.AnswerID, r.ReplayOf, r.StatusCode, r.DurationUS, r.RequestID, r.Document, r.CreatedAt)
}

// Insert stores the pair inside tx. When another request with the same
// payloadID from the same connection got a final answer first, it returns
// an error for which db.IsUniqueViolation is true: the caller rolls back
// its work and answers with Replay.
func Insert(ctx context.Context, tx sqlx.ExtContext, p *Pair) error {
	if err := insert(ctx, tx, &p.Out); err != nil {
		return err
	}
	return insert(ctx, tx, &p.In)
}

// NewOutRecord prepares the log record of a document the gateway sends
// on its own, not as an answer: a cart it returns, an invoice it posts.
func NewOutRecord(now time.Time, requestID, docType, payloadID string, doc []byte, connectionID, organizationID string) *Record {
	return &Record{
		ID: id.New("xout"), Direction: Out, DocType: docType, PayloadID: payloadID, StatusCode: cxml.StatusOK,
		RequestID: requestID, Document: clean(doc), CreatedAt: now.UTC(),
		ConnectionID:   sql.NullString{String: connectionID, Valid: connectionID != ""},
		OrganizationID: sql.NullString{String: organizationID, Valid: organizationID != ""},
	}
}

// InsertRecord stores one record, for documents that are not answers to a
// request (an invoice the gateway sends, a cart it returns).
func InsertRecord(ctx context.Context, tx sqlx.ExtContext, r *Record) error {
	return insert(ctx, tx, r)
}

// Stored is a final answer kept for a payloadID.
type Stored struct {
	InID       string `db:"in_id"`
	Document   []byte `db:"document"`
	StatusCode int    `db:"status_code"`
	DocType    string `db:"doc_type"`
	PayloadID  string `db:"payload_id"`
}

// Lookup returns the final answer given to payloadID from connectionID,
// if there is one. Answers with a 5xx status are not final: a retry is
// processed again.
func Lookup(ctx context.Context, q sqlx.ExtContext, connectionID, payloadID string) (*Stored, bool, error) {
	var s Stored
	// Subqueries, not a join: SQLite compiled the join again every time
	// its parameters were bound (seen with a probe on sqlite3Reprepare),
	// and this runs for every request.
	err := sqlx.GetContext(ctx, q, &s, q.Rebind(`
		SELECT i.id AS in_id,
			(SELECT o.document FROM exchanges o WHERE o.id = i.answer_id) AS document,
			(SELECT o.status_code FROM exchanges o WHERE o.id = i.answer_id) AS status_code,
			(SELECT o.doc_type FROM exchanges o WHERE o.id = i.answer_id) AS doc_type,
			(SELECT o.payload_id FROM exchanges o WHERE o.id = i.answer_id) AS payload_id
		FROM exchanges i
		WHERE i.connection_id = ? AND i.payload_id = ? AND i.direction = 'in'
		  AND i.replay_of IS NULL AND i.status_code < 500 AND i.answer_id IS NOT NULL`), connectionID, payloadID)
	if db.IsNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &s, true, nil
}

// Filter selects records for List.
type Filter struct {
	ConnectionID   string
	OrganizationID string
	PayloadID      string
	Limit          int
}

// List returns the newest records that match f.
func List(ctx context.Context, q sqlx.ExtContext, f Filter) ([]Record, error) {
	query := `SELECT id, direction, doc_type, connection_id, organization_id, payload_id, answer_id, replay_of,
		status_code, duration_us, request_id, document, created_at FROM exchanges WHERE 1 = 1`
	var args []any
	if f.ConnectionID != "" {
		query += ` AND connection_id = ?`
		args = append(args, f.ConnectionID)
	}
	if f.OrganizationID != "" {
		query += ` AND organization_id = ?`
		args = append(args, f.OrganizationID)
	}
	if f.PayloadID != "" {
		query += ` AND payload_id = ?`
		args = append(args, f.PayloadID)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, f.Limit)
	out := []Record{}
	err := sqlx.SelectContext(ctx, q, &out, q.Rebind(query), args...)
	return out, err
}

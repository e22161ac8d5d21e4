// Package exchange is the log of every cXML document the gateway receives
// or sends: direction, type, connection, payloadID, status code, duration,
// size and SHA-256, and the document itself decoded to UTF-8 with its
// shared secrets removed (of a refusal before authentication, only its
// first MaxRefusalStored bytes). Purge applies its retention. It also holds
// the answers that make inbound requests idempotent: a request that
// repeats a payloadID from the same connection gets the stored answer,
// byte for byte, and changes nothing (the repeat itself is logged, as a
// replay of the original). A payloadID names one document: the caller
// tells a repeat from another document by Stored.SameDocument, and logs
// its refusal of the other document as a repeat too (ReplayOf), so that
// retention forgets it with the original.
package exchange

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/jobs"
)

// Directions.
const (
	In  = "in"
	Out = "out"
)

// Bounds of what the log keeps. MaxStored bounds the copy of a document
// of an authenticated connection (the documents the gateway accepts are
// smaller; it matters for a refused oversized body). A document refused
// before its sender authenticated is anyone's to send, so of it the log
// keeps only MaxRefusalStored bytes, with its size and SHA-256, and its
// payloadID and type cut to MaxRefusalField: nothing a stranger sends
// costs the log more than a few KiB.
const (
	MaxStored        = 4 << 20
	MaxRefusalStored = 4 << 10
	MaxRefusalField  = 128
)

// Record is one logged document.
type Record struct {
	ID                string         `db:"id" json:"id"`
	Direction         string         `db:"direction" json:"direction"`
	DocType           string         `db:"doc_type" json:"doc_type"`
	ConnectionID      sql.NullString `db:"connection_id" json:"-"`
	OrganizationID    sql.NullString `db:"organization_id" json:"-"`
	PayloadID         string         `db:"payload_id" json:"payload_id"`
	AnswerID          sql.NullString `db:"answer_id" json:"-"`
	ReplayOf          sql.NullString `db:"replay_of" json:"-"`
	StatusCode        int            `db:"status_code" json:"status_code"`
	DurationUS        int64          `db:"duration_us" json:"duration_us"`
	RequestID         string         `db:"request_id" json:"request_id"`
	Document          []byte         `db:"document" json:"-"`
	DocumentSize      int64          `db:"document_size" json:"document_size"`
	DocumentSHA256    string         `db:"document_sha256" json:"document_sha256"`
	DocumentTruncated bool           `db:"document_truncated" json:"document_truncated"`
	CreatedAt         time.Time      `db:"created_at" json:"created_at"`
}

// Exchange is one inbound document and the answer the gateway gave it,
// as NewPair logs them.
type Exchange struct {
	Now       time.Time
	RequestID string
	// In is the request as received: its size and SHA-256 are logged as
	// they are, its copy decoded and redacted (see NewPair).
	In          []byte
	InType      string
	InPayloadID string
	Out         []byte
	OutType     string
	OutPayload  string
	Status      int
	Took        time.Duration
	// ConnectionID and OrganizationID name the authenticated sender; an
	// empty ConnectionID marks a refusal before authentication.
	ConnectionID   string
	OrganizationID string
	// ReplayOf is the original request's record, for a repeat of its
	// payloadID: answered from the log, or refused as another document.
	ReplayOf string
}

// Pair is an inbound document and the answer the gateway gave it.
type Pair struct {
	In, Out Record
}

// NewPair prepares the log records of one request and its answer. The
// documents are decoded, redacted and bounded here (see MaxStored), so no
// caller can store a secret, or a stranger's megabytes, by mistake.
func NewPair(x Exchange) *Pair {
	limit, inType, inPayload := MaxStored, x.InType, x.InPayloadID
	if x.ConnectionID == "" {
		limit = MaxRefusalStored
		inType, inPayload = cut(inType, MaxRefusalField), cut(inPayload, MaxRefusalField)
	}
	conn := sql.NullString{String: x.ConnectionID, Valid: x.ConnectionID != ""}
	org := sql.NullString{String: x.OrganizationID, Valid: x.OrganizationID != ""}
	outRec := Record{
		ID: id.New("xout"), Direction: Out, DocType: x.OutType, PayloadID: x.OutPayload, StatusCode: x.Status,
		DurationUS: x.Took.Microseconds(), RequestID: x.RequestID, CreatedAt: x.Now.UTC(),
		ConnectionID: conn, OrganizationID: org,
	}
	outRec.setDocument(x.Out, MaxStored)
	inRec := Record{
		ID: id.New("xin"), Direction: In, DocType: inType, PayloadID: inPayload,
		AnswerID:   sql.NullString{String: outRec.ID, Valid: true},
		ReplayOf:   sql.NullString{String: x.ReplayOf, Valid: x.ReplayOf != ""},
		StatusCode: x.Status, DurationUS: x.Took.Microseconds(), RequestID: x.RequestID, CreatedAt: x.Now.UTC(),
		ConnectionID: conn, OrganizationID: org,
	}
	inRec.setDocument(x.In, limit)
	return &Pair{In: inRec, Out: outRec}
}

// setDocument keeps doc's size and SHA-256 as sent, and of its text at
// most limit bytes, decoded to UTF-8 and with every SharedSecret's content
// replaced. A document that cannot be decoded is not kept at all: its
// secrets could not be found.
func (r *Record) setDocument(doc []byte, limit int) {
	sum := sha256.Sum256(doc)
	r.DocumentSize, r.DocumentSHA256 = int64(len(doc)), hex.EncodeToString(sum[:])
	text, ok := cxml.RedactDocument(doc)
	if !ok {
		r.Document, r.DocumentTruncated = []byte{}, len(doc) > 0
		return
	}
	if len(text) > limit {
		n := limit
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text, r.DocumentTruncated = text[:n], true
	}
	if text == nil {
		text = []byte{}
	}
	r.Document = text
}

// cut shortens a request-controlled field at a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// insertSQL is positional, not named: it is on the hot path of every
// request, inside the write transaction, and sqlx compiles a named query
// on every call.
const insertSQL = `INSERT INTO exchanges (id, direction, doc_type, connection_id, organization_id, payload_id,
	answer_id, replay_of, status_code, duration_us, request_id, document, document_size, document_sha256,
	document_truncated, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func insert(ctx context.Context, tx sqlx.ExtContext, r *Record) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(insertSQL), r.ID, r.Direction, r.DocType, r.ConnectionID, r.OrganizationID,
		r.PayloadID, r.AnswerID, r.ReplayOf, r.StatusCode, r.DurationUS, r.RequestID, r.Document,
		r.DocumentSize, r.DocumentSHA256, r.DocumentTruncated, r.CreatedAt)
	return err
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
	r := &Record{
		ID: id.New("xout"), Direction: Out, DocType: docType, PayloadID: payloadID, StatusCode: cxml.StatusOK,
		RequestID: requestID, CreatedAt: now.UTC(),
		ConnectionID:   sql.NullString{String: connectionID, Valid: connectionID != ""},
		OrganizationID: sql.NullString{String: organizationID, Valid: organizationID != ""},
	}
	r.setDocument(doc, MaxStored)
	return r
}

// Delivery is a document the gateway sent to a buyer (an invoice, a
// confirmation) and the buyer's answer, as NewDelivery logs them.
type Delivery struct {
	Now                 time.Time
	DocType, PayloadID  string
	Doc                 []byte
	Answer              []byte // nil when nothing came back
	Status              int    // the buyer's status code (0: no answer)
	ConnectionID, OrgID string
	Took                time.Duration
}

// NewDelivery prepares the log records of one document sent and the
// buyer's answer (the "in" record; nil when there was none), decoded,
// redacted and bounded as NewPair's. The sent record names the answer
// as its answer_id, so the two are purged together.
func NewDelivery(x Delivery) (sent *Record, answer *Record) {
	conn := sql.NullString{String: x.ConnectionID, Valid: x.ConnectionID != ""}
	org := sql.NullString{String: x.OrgID, Valid: x.OrgID != ""}
	sent = &Record{
		ID: id.New("xout"), Direction: Out, DocType: x.DocType, PayloadID: x.PayloadID, StatusCode: x.Status,
		DurationUS: x.Took.Microseconds(), CreatedAt: x.Now.UTC(), ConnectionID: conn, OrganizationID: org,
	}
	sent.setDocument(x.Doc, MaxStored)
	if x.Answer == nil {
		return sent, nil
	}
	answer = &Record{
		ID: id.New("xin"), Direction: In, DocType: "Response", StatusCode: x.Status,
		CreatedAt: x.Now.UTC(), ConnectionID: conn, OrganizationID: org,
	}
	answer.setDocument(x.Answer, MaxStored)
	sent.AnswerID = sql.NullString{String: answer.ID, Valid: true}
	return sent, answer
}

// InsertDelivery stores what NewDelivery prepared, the answer first.
func InsertDelivery(ctx context.Context, tx sqlx.ExtContext, sent, answer *Record) error {
	if answer != nil {
		if err := insert(ctx, tx, answer); err != nil {
			return err
		}
	}
	return insert(ctx, tx, sent)
}

// InsertRecord stores one record, for documents that are not answers to a
// request (an invoice the gateway sends, a cart it returns).
func InsertRecord(ctx context.Context, tx sqlx.ExtContext, r *Record) error {
	return insert(ctx, tx, r)
}

// Stored is a final answer kept for a payloadID, with what names the
// request it answered.
type Stored struct {
	InID string `db:"in_id"`
	// InSHA256 is the SHA-256 of the request as received; InType and InAt
	// are its type and when it was received.
	InSHA256   string    `db:"in_sha256"`
	InType     string    `db:"in_type"`
	InAt       time.Time `db:"in_at"`
	Document   []byte    `db:"document"`
	StatusCode int       `db:"status_code"`
	DocType    string    `db:"doc_type"`
	PayloadID  string    `db:"payload_id"`
}

// SameDocument reports whether doc, received with the stored request's
// payloadID, is the document that request was: a payloadID names one
// document, and only a repeat of that document gets the stored answer.
// Documents are the same when their bytes as received are, by SHA-256:
// the stored copy is decoded and redacted, so it cannot be compared.
// text is doc decoded to UTF-8 (cxml.Decode): before the log hashed the
// bytes as received, it hashed that text, which differs from the bytes
// only for a document with a byte order mark or not in UTF-8. A record
// without a hash (logged before migration 00008) cannot tell, and counts
// as the same document, as every repeat did then.
func (s *Stored) SameDocument(doc, text []byte) bool {
	if s.InSHA256 == "" {
		return true
	}
	sum := sha256.Sum256(doc)
	if hex.EncodeToString(sum[:]) == s.InSHA256 {
		return true
	}
	sum = sha256.Sum256(text)
	return hex.EncodeToString(sum[:]) == s.InSHA256
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
		SELECT i.id AS in_id, i.document_sha256 AS in_sha256, i.doc_type AS in_type, i.created_at AS in_at,
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
	// Cursor continues a listing where the page before ended (Page's
	// NextCursor); empty starts at the newest record.
	Cursor string
	Limit  int
}

// Listing bounds.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Entry is a record as listed: every column but the document.
type Entry struct {
	ID                string    `db:"id" json:"id"`
	Direction         string    `db:"direction" json:"direction"`
	DocType           string    `db:"doc_type" json:"doc_type"`
	ConnectionID      *string   `db:"connection_id" json:"connection_id"`
	OrganizationID    *string   `db:"organization_id" json:"organization_id"`
	PayloadID         string    `db:"payload_id" json:"payload_id"`
	AnswerID          *string   `db:"answer_id" json:"answer_id,omitempty"`
	ReplayOf          *string   `db:"replay_of" json:"replay_of,omitempty"`
	StatusCode        int       `db:"status_code" json:"status_code"`
	DurationUS        int64     `db:"duration_us" json:"duration_us"`
	RequestID         string    `db:"request_id" json:"request_id"`
	DocumentSize      int64     `db:"document_size" json:"document_size"`
	DocumentSHA256    string    `db:"document_sha256" json:"document_sha256"`
	DocumentTruncated bool      `db:"document_truncated" json:"document_truncated"`
	CreatedAt         time.Time `db:"created_at" json:"created_at"`
}

// Page is one page of a listing.
type Page struct {
	Exchanges []Entry `json:"exchanges"`
	// NextCursor continues the listing; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

const entryColumns = `id, direction, doc_type, connection_id, organization_id, payload_id, answer_id, replay_of,
	status_code, duration_us, request_id, document_size, document_sha256, document_truncated, created_at`

// ErrBadCursor is returned for a cursor List did not make.
var ErrBadCursor = errs.E(errs.Invalid, "cursor is not one this listing returned; start again without it")

// List returns the newest records that match f, newest first, one page at
// a time: it reads no document, and each page starts where the last one
// ended on the (created_at, id) index, so a page costs the same however
// long the log is.
func List(ctx context.Context, q sqlx.ExtContext, f Filter) (*Page, error) {
	query := `SELECT ` + entryColumns + ` FROM exchanges WHERE 1 = 1`
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
	if f.Cursor != "" {
		at, after, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		query += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, at, at, after)
	}
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	if f.Limit > MaxLimit {
		f.Limit = MaxLimit
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, f.Limit+1)
	out := []Entry{}
	if err := sqlx.SelectContext(ctx, q, &out, q.Rebind(query), args...); err != nil {
		return nil, err
	}
	p := &Page{Exchanges: out}
	if len(out) > f.Limit {
		p.Exchanges = out[:f.Limit]
		last := p.Exchanges[f.Limit-1]
		p.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return p, nil
}

func encodeCursor(at time.Time, recordID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + " " + recordID))
}

func decodeCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	ts, recordID, ok := strings.Cut(string(b), " ")
	if !ok || recordID == "" {
		return time.Time{}, "", ErrBadCursor
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	return at.UTC(), recordID, nil
}

// Detail is one record with its stored document, as text.
type Detail struct {
	Entry
	Document string `json:"document"`
}

// Get returns one record with its document. The document is redacted
// again on the way out, so a copy stored before redaction knew its
// encoding does not show a secret either.
func Get(ctx context.Context, q sqlx.ExtContext, recordID string) (*Detail, error) {
	var r struct {
		Entry
		Document []byte `db:"document"`
	}
	err := sqlx.GetContext(ctx, q, &r, q.Rebind(`SELECT `+entryColumns+`, document FROM exchanges WHERE id = ?`), recordID)
	if err != nil {
		return nil, db.Translate(err, "exchange %s does not exist", recordID)
	}
	doc, ok := cxml.RedactDocument(r.Document)
	if !ok {
		doc = nil
	}
	return &Detail{Entry: r.Entry, Document: strings.ToValidUTF8(string(doc), "\uFFFD")}, nil
}

// Retention says how long the log keeps records: those of authenticated
// connections for Kept, refusals before authentication for Refusals.
type Retention struct {
	Kept     time.Duration
	Refusals time.Duration
}

// Default retention.
const (
	DefaultKept     = 90 * 24 * time.Hour
	DefaultRefusals = 3 * 24 * time.Hour
)

// purgeBatch bounds one purge transaction, so that the writer is never
// held for long however far behind the purge is.
const purgeBatch = 1000

// Purge deletes the records older than the retention allows, in batches,
// and returns how many it deleted. A request's answer goes with it, and so
// do the later repeats answered from it (a repeat points at its original):
// once a request is forgotten, its payloadID sent again is processed as
// new.
func Purge(ctx context.Context, d *db.DB, r Retention, now time.Time) (int, error) {
	if r.Kept <= 0 {
		r.Kept = DefaultKept
	}
	if r.Refusals <= 0 {
		r.Refusals = DefaultRefusals
	}
	kept, refused := now.Add(-r.Kept).UTC(), now.Add(-r.Refusals).UTC()
	total := 0
	for {
		var ids []string
		err := d.R.SelectContext(ctx, &ids, d.R.Rebind(`SELECT id FROM exchanges
			WHERE (connection_id IS NULL AND created_at < ?) OR (connection_id IS NOT NULL AND created_at < ?)
			ORDER BY created_at LIMIT ?`), refused, kept, purgeBatch)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		n := 0
		err = d.Transact(ctx, func(tx *sqlx.Tx) error {
			all, err := withDependents(ctx, tx, ids)
			if err != nil {
				return err
			}
			for start := 0; start < len(all); start += purgeBatch {
				chunk := all[start:min(start+purgeBatch, len(all))]
				q, args, err := sqlx.In(`DELETE FROM exchanges WHERE id IN (?)`, chunk)
				if err != nil {
					return err
				}
				res, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
				if err != nil {
					return err
				}
				k, _ := res.RowsAffected()
				n += int(k)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if len(ids) < purgeBatch {
			return total, nil
		}
	}
}

// withDependents adds to ids every record that refers to one of them (a
// request to its answer, a repeat to its original), and theirs, until none
// is left: deleting them together keeps every foreign key satisfied.
func withDependents(ctx context.Context, tx *sqlx.Tx, ids []string) ([]string, error) {
	seen := make(map[string]bool, len(ids))
	all := append([]string(nil), ids...)
	for _, i := range ids {
		seen[i] = true
	}
	frontier := ids
	for len(frontier) > 0 {
		var next []string
		for start := 0; start < len(frontier); start += purgeBatch {
			chunk := frontier[start:min(start+purgeBatch, len(frontier))]
			q, args, err := sqlx.In(`SELECT id FROM exchanges WHERE answer_id IN (?) OR replay_of IN (?)`, chunk, chunk)
			if err != nil {
				return nil, err
			}
			var found []string
			if err := tx.SelectContext(ctx, &found, tx.Rebind(q), args...); err != nil {
				return nil, err
			}
			for _, f := range found {
				if !seen[f] {
					seen[f] = true
					next = append(next, f)
				}
			}
		}
		all = append(all, next...)
		frontier = next
	}
	return all, nil
}

// PurgeJob applies the exchange log's retention once. It is a periodic
// job (hourly, and at start): River runs it on one gateway of a fleet,
// its elected leader.
type PurgeJob struct{}

// Kind names the job in the queue.
func (PurgeJob) Kind() string { return "purge_exchanges" }

// InsertOpts puts the job on the maintenance queue.
func (PurgeJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueMaintenance, MaxAttempts: 3}
}

// Purger is the worker of PurgeJob.
type Purger struct {
	river.WorkerDefaults[PurgeJob]

	DB        *db.DB
	Retention Retention
	Now       func() time.Time
	Log       *slog.Logger
}

// Work purges what the retention no longer keeps.
func (p *Purger) Work(ctx context.Context, _ *river.Job[PurgeJob]) error {
	n, err := Purge(ctx, p.DB, p.Retention, p.Now())
	if n > 0 {
		p.Log.Info("exchange log retention", "deleted", n)
	}
	return err
}

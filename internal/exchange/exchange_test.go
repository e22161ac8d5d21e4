package exchange_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/internal/exchange"
)

// fill logs n refused exchanges (2n records), one a second from start,
// a thousand at a time in multi-row inserts.
func fill(t *testing.T, d *db.DB, n int, start time.Time) {
	t.Helper()
	ctx := context.Background()
	const batch = 1000
	for i := 0; i < n; i += batch {
		var args []any
		for j := i; j < min(i+batch, n); j++ {
			p := exchange.NewPair(exchange.Exchange{
				Now: start.Add(time.Duration(j) * time.Second), RequestID: fmt.Sprintf("req-%d", j),
				In: []byte(`<cXML payloadID="p"><Header/></cXML>`), InType: "ProfileRequest", InPayloadID: fmt.Sprintf("p-%d", j),
				Out: []byte(`<cXML/>`), OutType: "Response", OutPayload: fmt.Sprintf("o-%d", j), Status: 401,
			})
			for _, r := range []exchange.Record{p.Out, p.In} {
				args = append(args, r.ID, r.Direction, r.DocType, r.ConnectionID, r.OrganizationID, r.PayloadID, r.AnswerID,
					r.ReplayOf, r.StatusCode, r.DurationUS, r.RequestID, r.Document, r.DocumentSize, r.DocumentSHA256,
					r.DocumentTruncated, r.CreatedAt)
			}
		}
		require.NoError(t, d.Transact(ctx, func(tx *sqlx.Tx) error {
			return db.InsertRows(ctx, tx, `INSERT INTO exchanges (id, direction, doc_type, connection_id, organization_id,
				payload_id, answer_id, replay_of, status_code, duration_us, request_id, document, document_size,
				document_sha256, document_truncated, created_at) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args)
		}))
	}
}

// TestListPagesByCursor pages through 100,000 records: every record comes
// once, newest first, and each page's query walks the (created_at, id)
// index instead of sorting the table.
func TestListPagesByCursor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		fill(t, d, 50_000, start)
		seen := map[string]bool{}
		var last time.Time
		cursor := ""
		pages := 0
		for {
			p, err := exchange.List(ctx, d.R, exchange.Filter{Cursor: cursor, Limit: exchange.MaxLimit})
			require.NoError(t, err)
			pages++
			for _, e := range p.Exchanges {
				require.False(t, seen[e.ID], "record %s listed twice", e.ID)
				seen[e.ID] = true
				if !last.IsZero() {
					require.False(t, e.CreatedAt.After(last), "newest first")
				}
				last = e.CreatedAt
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		assert.Len(t, seen, 100_000)
		assert.Equal(t, 100, pages)

		_, err := exchange.List(ctx, d.R, exchange.Filter{Cursor: "not-a-cursor"})
		assert.ErrorIs(t, err, exchange.ErrBadCursor)

		// The plan of a page: an index walk, no sort of the whole log.
		query := `SELECT id FROM exchanges WHERE (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT 101`
		at := start.Add(10 * time.Hour)
		if d.Engine == db.SQLite {
			rows, err := d.R.QueryxContext(ctx, `EXPLAIN QUERY PLAN `+query, at, at, "x")
			require.NoError(t, err)
			defer rows.Close()
			var details []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
				details = append(details, detail)
			}
			joined := strings.Join(details, "; ")
			assert.Contains(t, joined, "exchanges_created", joined)
			assert.NotContains(t, joined, "TEMP B-TREE", joined)
		} else {
			var lines []string
			require.NoError(t, d.R.SelectContext(ctx, &lines, `EXPLAIN `+d.R.Rebind(query), at, at, "x"))
			joined := strings.Join(lines, "; ")
			assert.Contains(t, joined, "exchanges_created", joined)
			assert.NotContains(t, joined, "Sort", joined)
		}
	})
}

// TestGetRedacts reads one record back with its document.
func TestGetRedacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		p := exchange.NewPair(exchange.Exchange{
			Now: time.Now(), In: []byte(`<cXML><Header><Sender><Credential><SharedSecret>s3cr3t</SharedSecret></Credential></Sender></Header></cXML>`),
			InType: "ProfileRequest", InPayloadID: "g-1", Out: []byte(`<cXML/>`), OutType: "Response", Status: 401,
		})
		require.NoError(t, d.Transact(ctx, func(tx *sqlx.Tx) error { return exchange.Insert(ctx, tx, p) }))
		got, err := exchange.Get(ctx, d.R, p.In.ID)
		require.NoError(t, err)
		assert.NotContains(t, got.Document, "s3cr3t")
		assert.Contains(t, got.Document, cxml.Redacted)
		_, err = exchange.Get(ctx, d.R, "xin_missing")
		assert.Error(t, err)
	})
}

// TestRefusalsKeepAPrefix checks the bound on refusals: a prefix, the
// size and the hash of what was sent; an authenticated connection's
// document is kept whole.
func TestRefusalsKeepAPrefix(t *testing.T) {
	big := []byte("<cXML>" + strings.Repeat("<a/>", 100_000) + "</cXML>")
	tests := []struct {
		name      string
		conn      string
		wantLen   int
		truncated bool
	}{
		{name: "refused", wantLen: exchange.MaxRefusalStored, truncated: true},
		{name: "authenticated", conn: "conn_x", wantLen: len(big)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := exchange.NewPair(exchange.Exchange{Now: time.Now(), In: big, InType: strings.Repeat("T", 1000),
				InPayloadID: strings.Repeat("P", 1000), ConnectionID: tc.conn})
			assert.Len(t, p.In.Document, tc.wantLen)
			assert.Equal(t, tc.truncated, p.In.DocumentTruncated)
			assert.EqualValues(t, len(big), p.In.DocumentSize)
			assert.Len(t, p.In.DocumentSHA256, 64)
			if tc.conn == "" {
				assert.Len(t, p.In.PayloadID, exchange.MaxRefusalField)
				assert.Len(t, p.In.DocType, exchange.MaxRefusalField)
			}
		})
	}
}

func TestSameDocument(t *testing.T) {
	hash := func(b string) string {
		sum := sha256.Sum256([]byte(b))
		return hex.EncodeToString(sum[:])
	}
	const body, text = "\xef\xbb\xbf<cXML/>", "<cXML/>"
	tests := []struct {
		name   string
		stored string
		same   bool
	}{
		{"the bytes as received", hash(body), true},
		{"the decoded text, as logged before the bytes were hashed", hash(text), true},
		{"another document", hash("<cXML payloadID=\"x\"/>"), false},
		{"no hash, logged before 00008", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &exchange.Stored{InSHA256: tc.stored}
			assert.Equal(t, tc.same, s.SameDocument([]byte(body), []byte(text)))
		})
	}
}

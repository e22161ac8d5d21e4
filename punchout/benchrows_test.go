package punchout_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/id"
)

// orderRows is what one accepted order wrote, table by table, in an order
// that satisfies the foreign keys: the floor an OrderRequest is compared
// with in the benchmark, written again with fresh keys and nothing else.
type orderRows struct {
	tables []tableRows
	// The values that make a copy of the rows a new order: IDs (their
	// prefix is kept), the orderID (also the PO number), payloadID and
	// Message-ID. The organization and connection are chosen per copy.
	keys        map[string]bool
	org, conn   string
	orderNumber string
}

type tableRows struct {
	insert string // one multi-row INSERT, placeholders of the engine
	rows   [][]any
}

// readOrderRows posts order (a filled OrderRequest) and reads back every
// row it wrote.
func readOrderRows(b *testing.B, s *apptest.Server, order []byte, orderNumber, payloadID string) *orderRows {
	b.Helper()
	rec := httptest.NewRecorder()
	s.App.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cxml", bytes.NewReader(order)))
	if !bytes.Contains(rec.Body.Bytes(), []byte("agreements created")) {
		b.Fatalf("answer: %s", rec.Body.String())
	}
	d := s.App.DB
	var o struct {
		ID             string `db:"id"`
		OrganizationID string `db:"organization_id"`
		ConnectionID   string `db:"connection_id"`
	}
	if err := d.R.Get(&o, d.Rebind(`SELECT id, organization_id, connection_id FROM orders WHERE order_id = ?`), orderNumber); err != nil {
		b.Fatal(err)
	}
	or := &orderRows{keys: map[string]bool{orderNumber: true, payloadID: true}, org: o.OrganizationID, conn: o.ConnectionID, orderNumber: orderNumber}
	for _, q := range []struct {
		table, where string
		args         []any
	}{
		{"orders", "id = ?", []any{o.ID}},
		{"agreements", "order_ref = ?", []any{o.ID}},
		{"charges", "agreement_id IN (SELECT id FROM agreements WHERE order_ref = ?)", []any{o.ID}},
		{"purchase_orders", "organization_id = ? AND po_number = ?", []any{o.OrganizationID, orderNumber}},
		{"po_line_items", "organization_id = ? AND po_number = ?", []any{o.OrganizationID, orderNumber}},
		{"outbox_mail", "id = (SELECT MAX(id) FROM outbox_mail WHERE organization_id = ?)", []any{o.OrganizationID}},
		{"exchanges", "id = (SELECT answer_id FROM exchanges WHERE payload_id = ? AND direction = 'in')", []any{payloadID}},
		{"exchanges", "payload_id = ? AND direction = 'in'", []any{payloadID}},
	} {
		rows, err := d.R.Queryx(d.Rebind(`SELECT * FROM `+q.table+` WHERE `+q.where), q.args...)
		if err != nil {
			b.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			b.Fatal(err)
		}
		t := tableRows{}
		for rows.Next() {
			r, err := rows.SliceScan()
			if err != nil {
				b.Fatal(err)
			}
			for i, c := range cols {
				if v, ok := r[i].(string); ok && (c == "id" || c == "message_id") {
					or.keys[v] = true
				}
			}
			t.rows = append(t.rows, r)
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
		if len(t.rows) == 0 {
			b.Fatalf("order %s wrote no %s row", orderNumber, q.table)
		}
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		t.insert = d.Rebind(`INSERT INTO ` + q.table + ` (` + strings.Join(cols, ", ") + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat(ph+", ", len(t.rows)), ", "))
		or.tables = append(or.tables, t)
	}
	return or
}

// write inserts a copy of the rows as the nth order of the organization
// and connection given, in one transaction.
func (or *orderRows) write(ctx context.Context, s *apptest.Server, n, org, conn string) error {
	fresh := map[string]string{or.org: org, or.conn: conn}
	for k := range or.keys {
		switch {
		case k == or.orderNumber:
			fresh[k] = "PO-DIRECT-" + n
		case strings.Contains(k, "@"): // the payloadID
			fresh[k] = "direct-" + n + "@bench"
		case strings.Contains(k, "_"):
			fresh[k] = id.New(k[:strings.IndexByte(k, '_')])
		default:
			fresh[k] = "direct-" + n + "-" + k
		}
	}
	return s.App.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		for _, t := range or.tables {
			args := make([]any, 0, len(t.rows)*len(t.rows[0]))
			for _, r := range t.rows {
				for _, v := range r {
					if str, ok := v.(string); ok {
						if f, ok := fresh[str]; ok {
							v = f
						}
					}
					args = append(args, v)
				}
			}
			if _, err := tx.ExecContext(ctx, t.insert, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

package invoicing

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/id"
)

// Order sources.
const (
	SourceCXML         = "cxml"
	SourceCheckout     = "checkout"
	SourceAutoApproval = "auto_approval"
)

// Order is one order document agreements are created from: a cXML
// OrderRequest (new, update or delete), or a subscription made at checkout
// or by auto-approval. The orders table is invoicing's because agreements
// point at their order and invoices copy its date; punchout records the
// orders it takes through these functions.
type Order struct {
	ID             string    `db:"id"`
	OrganizationID string    `db:"organization_id"`
	ConnectionID   *string   `db:"connection_id"`
	OrderID        string    `db:"order_id"`
	PONumber       string    `db:"po_number"`
	Type           string    `db:"type"`
	Source         string    `db:"source"`
	PayloadID      string    `db:"payload_id"`
	Revises        *string   `db:"revises"`
	OrderDate      time.Time `db:"order_date"`
	CreatedAt      time.Time `db:"created_at"`
}

const orderColumns = `id, organization_id, connection_id, order_id, po_number, type, source, payload_id, revises, order_date, created_at`

// RecordOrder stores an order inside tx, giving it an ID unless it has
// one. A new order whose connection and orderID are taken already is not
// stored and inserted is false: the unique index on them makes a resend,
// or two copies posted at once, create nothing the second time.
func RecordOrder(ctx context.Context, tx sqlx.ExtContext, o *Order) (inserted bool, err error) {
	if o.ID == "" {
		o.ID = id.New("ord")
	}
	o.OrderDate, o.CreatedAt = o.OrderDate.UTC(), o.CreatedAt.UTC()
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO orders (`+orderColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection_id, order_id) WHERE type = 'new' DO NOTHING`),
		o.ID, o.OrganizationID, o.ConnectionID, o.OrderID, o.PONumber, o.Type, o.Source, o.PayloadID, o.Revises, o.OrderDate, o.CreatedAt)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// OrderSeen reports whether a connection's new order with orderID exists.
func OrderSeen(ctx context.Context, q sqlx.ExtContext, connectionID, orderID string) (bool, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, q.Rebind(`SELECT COUNT(*) FROM orders WHERE connection_id = ? AND order_id = ? AND type = 'new'`), connectionID, orderID)
	return n > 0, err
}

// OrderHistory returns every document of a connection's order, oldest
// first: the new order, then its updates and delete.
func OrderHistory(ctx context.Context, q sqlx.ExtContext, connectionID, orderID string) ([]Order, error) {
	var out []Order
	err := sqlx.SelectContext(ctx, q, &out, q.Rebind(`SELECT `+orderColumns+` FROM orders
		WHERE connection_id = ? AND order_id = ? ORDER BY created_at, id`), connectionID, orderID)
	return out, err
}

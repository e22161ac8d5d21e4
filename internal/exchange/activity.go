package exchange

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// Errors counts, per connection, the documents logged since that ended
// in an error (a status of 400 or more): the answers the gateway gave
// and the documents it sent on its own, each exchange once (a request's
// record, which names its answer, is not counted beside it). orgID
// empty counts every organization's connections.
func Errors(ctx context.Context, q sqlx.ExtContext, orgID string, since time.Time) (map[string]int, error) {
	query := `SELECT connection_id, COUNT(*) AS n FROM exchanges
		WHERE connection_id IS NOT NULL AND answer_id IS NULL AND status_code >= 400 AND created_at >= ?`
	args := []any{since.UTC()}
	if orgID != "" {
		query += ` AND organization_id = ?`
		args = append(args, orgID)
	}
	query += ` GROUP BY connection_id`
	var rows []struct {
		ConnectionID string `db:"connection_id"`
		N            int    `db:"n"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(query), args...); err != nil {
		return nil, err
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ConnectionID] = r.N
	}
	return out, nil
}

// Last returns when the newest document of a connection was logged, or
// the zero time when there is none.
func Last(ctx context.Context, q sqlx.ExtContext, connectionID string) (time.Time, error) {
	p, err := List(ctx, q, Filter{ConnectionID: connectionID, Limit: 1})
	if err != nil || len(p.Exchanges) == 0 {
		return time.Time{}, err
	}
	return p.Exchanges[0].CreatedAt, nil
}

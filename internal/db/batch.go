package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// The most bind parameters one statement takes: SQLite's limit (its
// SQLITE_MAX_VARIABLE_NUMBER default) and PostgreSQL's.
const (
	maxSQLiteParams   = 32766
	maxPostgresParams = 65535
)

// InsertRows inserts rows in as few multi-row INSERT statements as the
// engine's parameter limit allows, each run when InsertRows is called:
// prefix is the statement up to VALUES, row the parenthesized values of
// one row with a ? for each parameter, and args the rows' parameters one
// row after another.
func InsertRows(ctx context.Context, q sqlx.ExtContext, prefix, row string, args []any) error {
	perRow := strings.Count(row, "?")
	if perRow == 0 || len(args)%perRow != 0 {
		return fmt.Errorf("db: %d values do not make rows of %d", len(args), perRow)
	}
	limit := maxSQLiteParams
	if q.DriverName() == "pgx" {
		limit = maxPostgresParams
	}
	chunk := max(1, limit/perRow) * perRow
	for len(args) > 0 {
		n := min(chunk, len(args))
		var b strings.Builder
		b.WriteString(prefix)
		for i := 0; i < n/perRow; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
		}
		if _, err := q.ExecContext(ctx, q.Rebind(b.String()), args[:n]...); err != nil {
			return err
		}
		args = args[n:]
	}
	return nil
}
